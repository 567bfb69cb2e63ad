/**
 * WebRTC links over any `RtcStack`: the one implementation of offer/answer, candidate
 * handling, framing, backpressure, heartbeat and the link state machine, shared by the
 * browser (`webrtc-browser.ts`) and Node (`webrtc-node.ts`) so both behave identically and
 * are tested by one suite (STYLE §10).
 */
import { assertBytes, assertInteger } from '../util/errors.ts';
import type { RtcChannel, RtcPeer, RtcStack } from './adapter.ts';
import { TransportError } from './errors.ts';
import {
  FRAMING_PROTOCOL,
  FrameReassembler,
  MIN_FRAME_BYTES,
  controlFrame,
  encodeMessageFrames,
} from './framing.ts';
import {
  isMdnsCandidate,
  parseAnswer,
  parseCandidate,
  parseOffer,
  remoteMaxMessageSize,
  stripCandidates,
  stripMdnsCandidates,
} from './signaling.ts';
import type {
  AnswerHandle,
  CandidateOutcome,
  IceServer,
  LinkState,
  OfferHandle,
  PeerLink,
  PeerTransport,
  SignalAnswer,
  SignalCandidate,
  SignalOffer,
  TransportOptions,
} from './types.ts';

/** Label of the single data channel every link opens. */
export const CHANNEL_LABEL = 'p2pcomm';

/** Defaults of every `TransportOptions` field (documented on the interface). */
export const TRANSPORT_DEFAULTS = {
  iceServers: [] as readonly IceServer[],
  trickle: false,
  gatherTimeoutMs: 5_000,
  connectTimeoutMs: 15_000,
  heartbeatIntervalMs: 2_000,
  heartbeatTimeoutMs: 10_000,
  // 16 KiB is the message size every WebRTC stack has always accepted, and small frames keep
  // one large message from holding up heartbeats and other messages queued behind it.
  maxFrameBytes: 16_384,
  maxMessageBytes: 8 * 1024 * 1024,
  highWaterMark: 1024 * 1024,
  lowWaterMark: 256 * 1024,
} as const;

type ResolvedOptions = Omit<Required<TransportOptions>, 'signal'> & {
  readonly signal: AbortSignal | undefined;
};

function resolveOptions(base: TransportOptions, options: TransportOptions | undefined): ResolvedOptions {
  const o = { ...TRANSPORT_DEFAULTS, ...base, ...options };
  if (!Array.isArray(o.iceServers)) throw new TypeError('"iceServers" expected an array');
  if (typeof o.trickle !== 'boolean') throw new TypeError('"trickle" expected a boolean');
  const day = 86_400_000;
  assertInteger('gatherTimeoutMs', o.gatherTimeoutMs, 0, day);
  assertInteger('connectTimeoutMs', o.connectTimeoutMs, 1, day);
  assertInteger('heartbeatIntervalMs', o.heartbeatIntervalMs, 1, day);
  assertInteger('heartbeatTimeoutMs', o.heartbeatTimeoutMs, o.heartbeatIntervalMs + 1, day);
  assertInteger('maxFrameBytes', o.maxFrameBytes, MIN_FRAME_BYTES, 2 ** 30);
  assertInteger('maxMessageBytes', o.maxMessageBytes, 1, 2 ** 31);
  assertInteger('highWaterMark', o.highWaterMark, 1, 2 ** 31);
  assertInteger('lowWaterMark', o.lowWaterMark, 0, o.highWaterMark);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal))
    throw new TypeError('"signal" expected an AbortSignal');
  return { ...o, signal: o.signal };
}

type Timer = ReturnType<typeof setTimeout>;

/** The link state machine over one peer connection and its one data channel. */
class WebRtcLink implements PeerLink {
  state: LinkState = 'connecting';
  error: TransportError | undefined;

  private channel: RtcChannel | undefined;
  private readonly reassembler: FrameReassembler;
  private frameBytes: number;
  private remoteSet = false;
  private readonly pendingRemote: SignalCandidate[] = [];
  private readonly localCandidates: SignalCandidate[] = [];
  private gathered = false;
  private readonly gatherWaiters: (() => void)[] = [];
  private readonly messageHandlers = new Set<(bytes: Uint8Array) => void>();
  private readonly stateHandlers = new Set<(state: LinkState, error?: TransportError) => void>();
  private readonly candidateHandlers = new Set<(candidate: SignalCandidate) => void>();
  private readonly connectedWaiters: { resolve: () => void; reject: (e: TransportError) => void }[] = [];
  private readonly drainWaiters: (() => void)[] = [];
  private sendChain: Promise<void> = Promise.resolve();
  private connectTimer: Timer | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private lastHeard = 0;
  private readonly abortListener: (() => void) | undefined;

  constructor(
    private readonly stack: RtcStack,
    private readonly peer: RtcPeer,
    private readonly options: ResolvedOptions,
  ) {
    this.reassembler = new FrameReassembler(options.maxMessageBytes);
    this.frameBytes = options.maxFrameBytes;
    peer.listen({
      onDataChannel: (channel) => this.attachChannel(channel),
      onLocalCandidate: (candidate) => this.localCandidate(candidate),
      onConnectionState: (state) => {
        // `disconnected` is transient in ICE (consent may recover, RFC 7675); the heartbeat
        // decides when silence means gone. `failed` and `closed` are final.
        if (state === 'failed')
          this.end('failed', new TransportError('ICE_FAILED', 'ICE/DTLS connection failed'));
        else if (state === 'closed')
          this.end('closed', new TransportError('CLOSED', 'peer connection closed'));
      },
    });
    const signal = options.signal;
    if (signal !== undefined) {
      this.abortListener = () =>
        this.end('failed', new TransportError('ABORTED', 'aborted', { cause: signal.reason }));
      if (signal.aborted) queueMicrotask(this.abortListener);
      else signal.addEventListener('abort', this.abortListener, { once: true });
    }
  }

  // ---- signaling ---------------------------------------------------------------------

  /** Waits until candidate gathering completes or `gatherTimeoutMs` passes (NOTES §4). */
  async gather(): Promise<void> {
    if (this.gathered || this.peer.gatheringComplete()) return;
    let timer: Timer | undefined;
    await new Promise<void>((resolve) => {
      this.gatherWaiters.push(resolve);
      timer = setTimeout(resolve, this.options.gatherTimeoutMs);
    });
    clearTimeout(timer);
    this.assertLive();
  }

  /**
   * Creates the local offer or answer, waits for gathering unless trickling, and returns the
   * description to hand to the engine; a failure ends the link as `failed`.
   */
  async describeLocal(type: 'offer' | 'answer'): Promise<string> {
    try {
      await (type === 'offer' ? this.peer.setLocalOffer() : this.peer.setLocalAnswer());
      if (!this.options.trickle) await this.gather();
    } catch (e) {
      const err = asTransportError(e, `could not create an ${type}`);
      this.end('failed', err);
      throw err;
    }
    return this.localDescription();
  }

  /** The local description to hand to the engine, shaped by the trickle setting. */
  localDescription(): string {
    const sdp = this.peer.localSdp();
    if (sdp === undefined) throw new TransportError('CLOSED', 'no local description');
    return this.options.trickle ? stripCandidates(sdp) : sdp;
  }

  async applyRemote(type: 'offer' | 'answer', sdp: string): Promise<void> {
    this.assertLive();
    if (this.remoteSet) throw new TransportError('SIGNALING_INVALID', `remote ${type} already applied`);
    const usable = this.stack.resolvesMdns ? sdp : stripMdnsCandidates(sdp).sdp;
    try {
      await this.peer.setRemoteDescription(type, usable);
    } catch (e) {
      const err = new TransportError('SIGNALING_INVALID', `remote ${type} refused: ${describe(e)}`, {
        cause: e,
      });
      this.end('failed', err);
      throw err;
    }
    this.remoteSet = true;
    this.frameBytes = Math.min(this.options.maxFrameBytes, remoteMaxMessageSize(sdp));
    this.connectTimer = setTimeout(
      () =>
        this.end(
          'failed',
          new TransportError('TIMEOUT', `not connected within ${this.options.connectTimeoutMs} ms`),
        ),
      this.options.connectTimeoutMs,
    );
    for (const c of this.pendingRemote.splice(0)) await this.applyCandidate(c);
  }

  private localCandidate(candidate: SignalCandidate | null): void {
    if (candidate === null) {
      this.gathered = true;
      for (const w of this.gatherWaiters.splice(0)) w();
      return;
    }
    if (!this.options.trickle) return;
    this.localCandidates.push(candidate);
    for (const h of this.candidateHandlers) h(candidate);
  }

  onLocalCandidate(handler: (candidate: SignalCandidate) => void): () => void {
    if (typeof handler !== 'function') throw new TypeError('"handler" expected a function');
    const first = this.candidateHandlers.size === 0;
    this.candidateHandlers.add(handler);
    if (first) for (const c of this.localCandidates) handler(c);
    return () => this.candidateHandlers.delete(handler);
  }

  async addRemoteCandidate(candidate: SignalCandidate): Promise<CandidateOutcome> {
    const c = parseCandidate(candidate);
    this.assertLive();
    if (!this.stack.resolvesMdns && isMdnsCandidate(c.candidate)) {
      return { added: false, reason: 'MDNS_UNSUPPORTED' };
    }
    // Browsers refuse candidates before the remote description; the engine may well
    // deliver them first (they travel separately), so they wait here.
    if (!this.remoteSet) this.pendingRemote.push(c);
    else await this.applyCandidate(c);
    return { added: true };
  }

  private async applyCandidate(c: SignalCandidate): Promise<void> {
    try {
      await this.peer.addRemoteCandidate(c);
    } catch (e) {
      throw new TransportError('SIGNALING_INVALID', `candidate refused: ${describe(e)}`, { cause: e });
    }
  }

  // ---- channel -----------------------------------------------------------------------

  attachChannel(channel: RtcChannel): void {
    if (this.channel !== undefined || this.isEnded()) {
      // One channel per link: anything else the peer opens is not ours to serve.
      channel.close();
      return;
    }
    this.channel = channel;
    channel.setBufferedAmountLowThreshold(this.options.lowWaterMark);
    channel.listen({
      onOpen: () => this.opened(channel),
      onClose: () => this.end('closed', new TransportError('CLOSED', 'data channel closed by the peer')),
      onMessage: (data) => this.received(data),
      onBufferedAmountLow: () => {
        for (const w of this.drainWaiters.splice(0)) w();
      },
    });
    if (channel.isOpen) this.opened(channel);
  }

  private opened(channel: RtcChannel): void {
    if (this.state !== 'connecting') return;
    if (channel.protocol !== FRAMING_PROTOCOL) {
      this.end(
        'failed',
        new TransportError('PROTOCOL', `peer speaks "${channel.protocol}", expected "${FRAMING_PROTOCOL}"`),
      );
      return;
    }
    clearTimeout(this.connectTimer);
    this.lastHeard = Date.now();
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.options.heartbeatIntervalMs);
    this.setState('connected');
    for (const w of this.connectedWaiters.splice(0)) w.resolve();
  }

  private heartbeat(): void {
    const silent = Date.now() - this.lastHeard;
    if (silent >= this.options.heartbeatTimeoutMs) {
      this.end('disconnected', new TransportError('TIMEOUT', `peer silent for ${silent} ms`));
      return;
    }
    this.sendControl(controlFrame.ping());
  }

  private received(data: Uint8Array | string): void {
    if (this.state !== 'connected') return;
    this.lastHeard = Date.now();
    if (typeof data === 'string') {
      this.end('failed', new TransportError('PROTOCOL', 'text message on a binary channel'));
      return;
    }
    let event;
    try {
      event = this.reassembler.push(data);
    } catch (e) {
      // Garbage from the peer: the stream position is unknown, so the link is closed
      // deliberately (the engine reopens one) rather than guessing where the next frame is.
      this.end(
        'failed',
        e instanceof TransportError ? e : new TransportError('PROTOCOL', describe(e), { cause: e }),
      );
      return;
    }
    if (event === undefined || event.kind === 'pong') return;
    if (event.kind === 'ping') this.sendControl(controlFrame.pong());
    else if (event.kind === 'close') this.end('closed', new TransportError('CLOSED', 'closed by the peer'));
    else for (const h of this.messageHandlers) callSafely(h, event.bytes);
  }

  private sendControl(frame: Uint8Array): void {
    try {
      if (this.channel?.isOpen === true) this.channel.send(frame);
    } catch {
      // The channel is going away; its close event ends the link.
    }
  }

  // ---- public API --------------------------------------------------------------------

  send(bytes: Uint8Array): Promise<void> {
    assertBytes('bytes', bytes);
    if (bytes.length > this.options.maxMessageBytes) {
      return Promise.reject(
        new TransportError(
          'MESSAGE_TOO_LARGE',
          `message of ${bytes.length} bytes exceeds maxMessageBytes=${this.options.maxMessageBytes}`,
        ),
      );
    }
    // Copy now: the caller may reuse its buffer as soon as `send` returns.
    const payload = bytes.slice();
    // One message's frames must not interleave with another's (the reassembler keeps one
    // message in flight), so sends run strictly one after the other.
    const task = this.sendChain.then(() => this.sendNow(payload));
    this.sendChain = task.catch(() => undefined);
    return task;
  }

  private async sendNow(payload: Uint8Array): Promise<void> {
    await this.whenConnected();
    for (const frame of encodeMessageFrames(payload, this.frameBytes)) {
      const channel = this.liveChannel();
      while (channel.bufferedAmount > this.options.highWaterMark) {
        await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
        this.liveChannel();
      }
      try {
        channel.send(frame);
      } catch (e) {
        throw new TransportError('CLOSED', `send failed: ${describe(e)}`, { cause: e });
      }
    }
  }

  private liveChannel(): RtcChannel {
    const channel = this.channel;
    if (this.state !== 'connected' || channel === undefined) {
      throw this.error ?? new TransportError('CLOSED', `link is ${this.state}`);
    }
    return channel;
  }

  onMessage(handler: (bytes: Uint8Array) => void): () => void {
    if (typeof handler !== 'function') throw new TypeError('"handler" expected a function');
    this.messageHandlers.add(handler);
    return () => this.messageHandlers.delete(handler);
  }

  onStateChange(handler: (state: LinkState, error?: TransportError) => void): () => void {
    if (typeof handler !== 'function') throw new TypeError('"handler" expected a function');
    this.stateHandlers.add(handler);
    return () => this.stateHandlers.delete(handler);
  }

  whenConnected(): Promise<void> {
    if (this.state === 'connected') return Promise.resolve();
    if (this.isEnded()) return Promise.reject(this.terminalError());
    return new Promise((resolve, reject) => this.connectedWaiters.push({ resolve, reject }));
  }

  close(): void {
    if (this.isEnded()) return;
    // Tell the peer first so it reports `closed` at once instead of timing out.
    this.sendControl(controlFrame.close());
    this.end('closed', undefined);
  }

  // ---- ending ------------------------------------------------------------------------

  private isEnded(): boolean {
    return this.state !== 'connecting' && this.state !== 'connected';
  }

  private assertLive(): void {
    if (this.isEnded()) throw this.terminalError();
  }

  private terminalError(): TransportError {
    return this.error ?? new TransportError('CLOSED', `link is ${this.state}`);
  }

  /** Moves to a terminal state exactly once and releases everything the link holds. */
  end(state: 'disconnected' | 'failed' | 'closed', error: TransportError | undefined): void {
    if (this.isEnded()) return;
    this.error = error;
    clearTimeout(this.connectTimer);
    clearInterval(this.heartbeatTimer);
    if (this.abortListener !== undefined)
      this.options.signal?.removeEventListener('abort', this.abortListener);
    this.setState(state);
    const reason = this.terminalError();
    for (const w of this.connectedWaiters.splice(0)) w.reject(reason);
    for (const w of this.drainWaiters.splice(0)) w();
    for (const w of this.gatherWaiters.splice(0)) w();
    const channel = this.channel;
    const peer = this.peer;
    if (channel !== undefined && channel.isOpen) {
      // Closing the channel first lets frames already queued (a CLOSE, the last message)
      // leave before the association is torn down (W3C webrtc §6.2 closing procedure).
      channel.close();
      setTimeout(() => peer.close(), 1_000);
    } else {
      peer.close();
    }
  }

  private setState(state: LinkState): void {
    this.state = state;
    for (const h of this.stateHandlers) callSafely(h, state, this.error);
  }
}

/** Builds the offerer and answerer operations over one runtime's WebRTC stack. */
export function createWebRtcTransport(stack: RtcStack, defaults: TransportOptions = {}): PeerTransport {
  resolveOptions(defaults, undefined);
  const newLink = (options: TransportOptions | undefined): { peer: RtcPeer; link: WebRtcLink } => {
    const o = resolveOptions(defaults, options);
    const peer = stack.createPeer({ iceServers: o.iceServers });
    return { peer, link: new WebRtcLink(stack, peer, o) };
  };
  return {
    async createOffer(options?: TransportOptions): Promise<OfferHandle> {
      const { peer, link } = newLink(options);
      link.attachChannel(peer.createDataChannel(CHANNEL_LABEL, FRAMING_PROTOCOL));
      const offer: SignalOffer = { type: 'offer', sdp: await link.describeLocal('offer') };
      return {
        offer,
        link,
        accept: async (answer: SignalAnswer) => {
          let checked: SignalAnswer;
          try {
            checked = parseAnswer(answer);
          } catch (e) {
            link.end('failed', e as TransportError);
            throw e;
          }
          await link.applyRemote('answer', checked.sdp);
        },
      };
    },

    async acceptOffer(offer: SignalOffer, options?: TransportOptions): Promise<AnswerHandle> {
      const checked = parseOffer(offer);
      const { link } = newLink(options);
      await link.applyRemote('offer', checked.sdp);
      return { answer: { type: 'answer', sdp: await link.describeLocal('answer') }, link };
    },
  };
}

function asTransportError(e: unknown, context: string): TransportError {
  return e instanceof TransportError
    ? e
    : new TransportError('SIGNALING_INVALID', `${context}: ${describe(e)}`, { cause: e });
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Subscriber exceptions must not break the link (or the other subscribers). */
function callSafely<A extends unknown[]>(handler: (...args: A) => void, ...args: A): void {
  try {
    handler(...args);
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}
