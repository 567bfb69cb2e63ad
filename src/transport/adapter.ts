/**
 * The small slice of a WebRTC stack the link logic needs. `webrtc-browser.ts` maps it onto
 * the native `RTCPeerConnection`, `webrtc-node.ts` onto werift; everything stateful (ICE
 * gathering policy, framing, heartbeat, backpressure, the link state machine) lives once in
 * `webrtc.ts` over this interface. Adapters translate and never decide; what translates the same
 * way for both (werift copies the W3C API) is written once below, in `W3cPeer` and `W3cChannel`.
 */
import type { IceServer, SignalCandidate } from './types.ts';

/** Coarse connection state of the peer connection (W3C `RTCPeerConnectionState`). */
export type RtcConnectionState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

/** Callbacks a peer connection reports to. */
export interface RtcPeerEvents {
  onDataChannel(channel: RtcChannel): void;
  /** A local candidate; `null` when gathering is complete. */
  onLocalCandidate(candidate: SignalCandidate | null): void;
  onConnectionState(state: RtcConnectionState): void;
}

/** One peer connection. */
export interface RtcPeer {
  listen(events: RtcPeerEvents): void;
  /** An ordered, reliable data channel (RFC 8831 §6.1) with the given sub-protocol. */
  createDataChannel(label: string, protocol: string): RtcChannel;
  /** Creates an offer and sets it as the local description. */
  setLocalOffer(): Promise<void>;
  /** Creates an answer and sets it as the local description. */
  setLocalAnswer(): Promise<void>;
  setRemoteDescription(type: 'offer' | 'answer', sdp: string): Promise<void>;
  addRemoteCandidate(candidate: SignalCandidate): Promise<void>;
  /** Current local SDP, with whatever candidates were gathered so far. */
  localSdp(): string | undefined;
  /** Gathering finished (W3C `iceGatheringState === 'complete'`). */
  gatheringComplete(): boolean;
  close(): void;
}

/** Callbacks a data channel reports to. */
export interface RtcChannelEvents {
  onOpen(): void;
  onClose(): void;
  /** A binary message, or a string one (which this protocol never sends). */
  onMessage(data: Uint8Array | string): void;
  onBufferedAmountLow(): void;
}

/** One data channel. */
export interface RtcChannel {
  readonly protocol: string;
  readonly isOpen: boolean;
  readonly bufferedAmount: number;
  listen(events: RtcChannelEvents): void;
  setBufferedAmountLowThreshold(bytes: number): void;
  send(data: Uint8Array): void;
  close(): void;
}

/** A runtime's WebRTC stack. */
export interface RtcStack {
  /** Short name for diagnostics and benchmark tables ("chromium", "werift"). */
  readonly name: string;
  /** Whether `.local` host candidates resolve here (browsers yes, werift no). */
  readonly resolvesMdns: boolean;
  createPeer(config: { readonly iceServers: readonly IceServer[] }): RtcPeer;
}

/** ICE servers in the W3C `RTCIceServer` shape both stacks take, absent credentials left out. */
export function w3cIceServers(
  servers: readonly IceServer[],
): { urls: string | string[]; username?: string; credential?: string }[] {
  return servers.map((s) => ({
    urls: typeof s.urls === 'string' ? s.urls : [...s.urls],
    ...(s.username === undefined ? {} : { username: s.username }),
    ...(s.credential === undefined ? {} : { credential: s.credential }),
  }));
}

/**
 * The offer/answer part of the W3C `RTCPeerConnection`, which werift copies call for call.
 * Descriptions only travel from `createOffer`/`createAnswer` back into the same connection, so
 * their type is left to each stack.
 */
interface W3cSessionApi {
  createOffer(): Promise<unknown>;
  createAnswer(): Promise<unknown>;
  setLocalDescription(description: unknown): Promise<unknown>;
  setRemoteDescription(description: { type: 'offer' | 'answer'; sdp: string }): Promise<unknown>;
  readonly localDescription: { readonly sdp: string } | null | undefined;
  readonly iceGatheringState: string;
}

/**
 * The `RtcPeer` calls that read the same over any W3C-shaped peer connection; each stack adds
 * only what differs (its events, channels, candidates and closing).
 */
export abstract class W3cPeer<PC extends W3cSessionApi> implements RtcPeer {
  protected constructor(protected readonly pc: PC) {}

  abstract listen(events: RtcPeerEvents): void;
  abstract createDataChannel(label: string, protocol: string): RtcChannel;
  abstract addRemoteCandidate(candidate: SignalCandidate): Promise<void>;
  abstract close(): void;

  async setLocalOffer(): Promise<void> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
  }

  async setLocalAnswer(): Promise<void> {
    await this.pc.setLocalDescription(await this.pc.createAnswer());
  }

  async setRemoteDescription(type: 'offer' | 'answer', sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type, sdp });
  }

  localSdp(): string | undefined {
    return this.pc.localDescription?.sdp;
  }

  gatheringComplete(): boolean {
    return this.pc.iceGatheringState === 'complete';
  }
}

/** The state and buffering part of the W3C `RTCDataChannel`, which werift copies too. */
interface W3cChannelApi {
  readonly protocol: string;
  readonly readyState: string;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  close(): void;
}

/**
 * The `RtcChannel` members that read the same over any W3C-shaped data channel; each stack
 * adds its event wiring and how it hands bytes over.
 */
export abstract class W3cChannel<DC extends W3cChannelApi> implements RtcChannel {
  protected constructor(protected readonly dc: DC) {}

  abstract listen(events: RtcChannelEvents): void;
  abstract send(data: Uint8Array): void;

  get protocol(): string {
    return this.dc.protocol;
  }

  get isOpen(): boolean {
    return this.dc.readyState === 'open';
  }

  get bufferedAmount(): number {
    return this.dc.bufferedAmount;
  }

  setBufferedAmountLowThreshold(bytes: number): void {
    this.dc.bufferedAmountLowThreshold = bytes;
  }

  close(): void {
    this.dc.close();
  }
}
