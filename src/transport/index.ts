/** Peer-to-peer transport, Node entry point (werift). Browsers import `index.browser.ts`. */
export * from './api.ts';
export { createNodeTransport, weriftStack, type NodeStackOptions } from './webrtc-node.ts';
