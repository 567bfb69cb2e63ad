/** Peer-to-peer transport, browser entry point (native RTCPeerConnection; never pulls werift). */
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
export { createBrowserTransport } from './webrtc-browser.ts';
