/** Peer-to-peer transport, browser entry point (native RTCPeerConnection; never pulls werift). */
export * from './api.ts';
export { createBrowserTransport, nativeStack } from './webrtc-browser.ts';
