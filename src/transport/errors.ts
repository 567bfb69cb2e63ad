/** Typed failures of the peer-to-peer transport; callers branch on `code` (STYLE §6). */
import { P2pCommError } from '../util/errors.ts';

/** Why a transport operation or a link failed. */
export type TransportErrorCode =
  /** An offer, answer or candidate from the peer is malformed or was refused by the stack. */
  | 'SIGNALING_INVALID'
  /** ICE/DTLS could not connect the two devices (no usable candidate pair, NAT, firewall). */
  | 'ICE_FAILED'
  /** Connection set-up or candidate gathering did not finish within its deadline. */
  | 'TIMEOUT'
  /** The link is closed (by either side) or was never opened. */
  | 'CLOSED'
  /** A message exceeds the configured maximum (sending) or a peer announced one (receiving). */
  | 'MESSAGE_TOO_LARGE'
  /** The peer sent frames that break the framing protocol. */
  | 'PROTOCOL'
  /** The caller's AbortSignal fired. */
  | 'ABORTED';

/** Raised (or reported through `onStateChange`) by every transport operation. */
export class TransportError extends P2pCommError<TransportErrorCode> {}
