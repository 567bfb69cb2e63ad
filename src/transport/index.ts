/** Peer-to-peer transport, Node entry point (werift). Browsers import `index.browser.ts`. */
export type * from './types.ts';
export { TransportError, type TransportErrorCode } from './errors.ts';
export {
  parseOffer,
  parseAnswer,
  parseCandidate,
  parseSignal,
  encodeSignal,
  decodeSignal,
} from './signaling.ts';
export { TRANSPORT_DEFAULTS } from './webrtc.ts';
export { createNodeTransport, type NodeStackOptions } from './webrtc-node.ts';
