/** Everything the transport offers in every runtime; `index.ts` and `index.browser.ts` add their stack. */
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
export { TRANSPORT_DEFAULTS, createWebRtcTransport } from './webrtc.ts';
export type { RtcStack } from './adapter.ts';
export { createLoopbackTransport, loopbackStack } from './loopback.ts';
export { measureEchoRtt, measureThroughput, startProbeResponder } from './probe.ts';
