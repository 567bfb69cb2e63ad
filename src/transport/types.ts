/**
 * The peer-to-peer transport seen by the delivery engine: one `PeerLink` per remote device,
 * opened with one offer and one answer that the engine carries itself (inside encrypted
 * envelopes in Kaspa payloads, NOTES §4). Nothing here assumes a signaling server: offers,
 * answers and candidates are plain values the caller moves however it likes.
 */
import type { TransportError } from './errors.ts';

/** An SDP offer, as produced by `createOffer` and consumed by `acceptOffer`. */
export interface SignalOffer {
  readonly type: 'offer';
  readonly sdp: string;
}

/** An SDP answer, as produced by `acceptOffer` and consumed by `OfferHandle.accept`. */
export interface SignalAnswer {
  readonly type: 'answer';
  readonly sdp: string;
}

/**
 * One trickled ICE candidate (RFC 8838). The link carries a single data m-section, so the
 * media-section id is all that is needed to place it (`sdpMLineIndex` is always 0).
 */
export interface SignalCandidate {
  readonly type: 'candidate';
  /** The `candidate:...` attribute value (RFC 8839 §5.1), without the `a=` prefix. */
  readonly candidate: string;
  readonly sdpMid: string | null;
}

/** Any signaling value the engine has to carry between the two devices. */
export type Signal = SignalOffer | SignalAnswer | SignalCandidate;

/** A STUN or TURN server (same shape as the W3C `RTCIceServer`). */
export interface IceServer {
  readonly urls: string | readonly string[];
  readonly username?: string;
  readonly credential?: string;
}

/**
 * Life of a link. `connecting` until the data channel opens, then `connected`; every other
 * state is terminal: a link never comes back, the engine opens a fresh one with a new offer
 * (after falling back to the chain meanwhile).
 *  - `disconnected`: the peer went silent for `heartbeatTimeoutMs` (crashed, tab closed,
 *    network gone) — the normal outcome of a peer vanishing.
 *  - `failed`: could not connect (ICE, timeout, bad signaling) or the peer broke the protocol.
 *  - `closed`: either side closed it deliberately.
 */
export type LinkState = 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

/** Result of handing a remote candidate to the link. */
export type CandidateOutcome =
  | { readonly added: true }
  /**
   * `MDNS_UNSUPPORTED`: an `xxx.local` host candidate (browsers hide host IPs behind mDNS
   * names, draft-ietf-mmusic-mdns-ice-candidates) that this runtime cannot resolve; the
   * other candidates may still connect.
   */
  | { readonly added: false; readonly reason: 'MDNS_UNSUPPORTED' };

/** Settings of a link. Every field is optional; defaults are listed on each. */
export interface TransportOptions {
  /** STUN/TURN servers. @default [] (host candidates only: one host or one LAN, NOTES §4) */
  readonly iceServers?: readonly IceServer[];
  /**
   * Trickle ICE (RFC 8838): the offer/answer goes out at once without candidates, which
   * follow through `onLocalCandidate`. Off by default because each signal costs a Kaspa
   * transaction: waiting for gathering puts every candidate in the one offer and one answer.
   * @default false
   */
  readonly trickle?: boolean;
  /** Longest wait for candidate gathering before the offer/answer goes out anyway. @default 5_000 */
  readonly gatherTimeoutMs?: number;
  /** Deadline from the remote description being set to the channel being open. @default 15_000 */
  readonly connectTimeoutMs?: number;
  /** A PING goes out this often; the peer answers PONG. @default 2_000 */
  readonly heartbeatIntervalMs?: number;
  /** Nothing received for this long → `disconnected`. @default 10_000 */
  readonly heartbeatTimeoutMs?: number;
  /** Largest data channel message sent; lowered to the peer's `a=max-message-size`. @default 16_384 */
  readonly maxFrameBytes?: number;
  /** Largest application message sent or accepted (bounds reassembly memory). @default 8 MiB */
  readonly maxMessageBytes?: number;
  /** `send` waits while more than this is queued in the channel. @default 1 MiB */
  readonly highWaterMark?: number;
  /** ...until the queue drains below this (`bufferedamountlow`). @default 256 KiB */
  readonly lowWaterMark?: number;
  /** Aborting closes the link (state `failed`, error `ABORTED`). */
  readonly signal?: AbortSignal;
}

/** One direct connection to one remote device. */
export interface PeerLink {
  /** Current state; see `LinkState`. */
  readonly state: LinkState;
  /** Why the link ended, once it is `disconnected`, `failed` or (by the peer or an error) `closed`. */
  readonly error: TransportError | undefined;
  /**
   * Queues one message. Resolves once every frame is handed to the data channel (not when
   * the peer has it); waits while the channel's buffer is above `highWaterMark`. Messages go
   * out whole and in call order. Rejects with `CLOSED` if the link ends first and with
   * `MESSAGE_TOO_LARGE` above `maxMessageBytes`. Calls made while `connecting` wait for open.
   */
  send(bytes: Uint8Array): Promise<void>;
  /** Subscribes to whole inbound messages; returns the unsubscribe function. */
  onMessage(handler: (bytes: Uint8Array) => void): () => void;
  /** Subscribes to state changes; `error` is set for terminal states other than a local close. */
  onStateChange(handler: (state: LinkState, error?: TransportError) => void): () => void;
  /**
   * Subscribes to local trickle candidates (trickle mode only). Candidates gathered before
   * the first subscription are replayed to it, so none is lost between calls.
   */
  onLocalCandidate(handler: (candidate: SignalCandidate) => void): () => void;
  /** Adds a trickled remote candidate; may be called before the remote description is set. */
  addRemoteCandidate(candidate: SignalCandidate): Promise<CandidateOutcome>;
  /** Resolves when `connected`; rejects with the link's error if it ends first. */
  whenConnected(): Promise<void>;
  /** Closes deliberately: the peer is told (it reports `closed`), pending sends reject `CLOSED`. */
  close(): void;
}

/** What `createOffer` returns: the offer to send, and the link it will open. */
export interface OfferHandle {
  readonly offer: SignalOffer;
  readonly link: PeerLink;
  /** Applies the peer's answer; rejects `SIGNALING_INVALID` (and fails the link) if it is bad. */
  accept(answer: SignalAnswer): Promise<void>;
}

/** What `acceptOffer` returns: the answer to send back, and the link it will open. */
export interface AnswerHandle {
  readonly answer: SignalAnswer;
  readonly link: PeerLink;
}

/** Opens links; one implementation per runtime over the same logic (see `webrtc.ts`). */
export interface PeerTransport {
  /** Starts a link as the offerer. */
  createOffer(options?: TransportOptions): Promise<OfferHandle>;
  /** Answers a peer's offer; rejects `SIGNALING_INVALID` on a malformed or refused offer. */
  acceptOffer(offer: SignalOffer, options?: TransportOptions): Promise<AnswerHandle>;
}
