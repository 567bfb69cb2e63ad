/**
 * An in-memory `RtcStack`: two peers in one JavaScript realm joined by their SDP, with no
 * network, ICE or DTLS. It runs the very same link logic as the real stacks, so it serves
 * as the floor in benchmarks (what the link costs without WebRTC) and as a fast,
 * deterministic transport for higher-layer tests. Not for production: nothing is encrypted.
 */
import { bytesToHex, randomBytes } from '../util/bytes.ts';
import type { RtcChannel, RtcChannelEvents, RtcPeer, RtcPeerEvents, RtcStack } from './adapter.ts';
import type { PeerTransport, TransportOptions } from './types.ts';
import { createWebRtcTransport } from './webrtc.ts';

class LoopbackChannel implements RtcChannel {
  other: LoopbackChannel | undefined;
  isOpen = false;
  readonly bufferedAmount = 0;
  private events: RtcChannelEvents | undefined;
  private closed = false;

  constructor(readonly protocol: string) {}

  listen(events: RtcChannelEvents): void {
    this.events = events;
  }

  setBufferedAmountLowThreshold(): void {}

  open(): void {
    this.isOpen = true;
    queueMicrotask(() => this.events?.onOpen());
  }

  send(data: Uint8Array): void {
    if (!this.isOpen) throw new Error('channel not open');
    const copy = data.slice();
    const other = this.other;
    queueMicrotask(() => {
      if (other?.isOpen === true) other.events?.onMessage(copy);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.isOpen = false;
    queueMicrotask(() => this.events?.onClose());
    this.other?.close();
  }
}

class LoopbackPeer implements RtcPeer {
  private events: RtcPeerEvents | undefined;
  private channel: LoopbackChannel | undefined;
  private sdp: string | undefined;
  private readonly ufrag = bytesToHex(randomBytes(8));

  constructor(private readonly registry: Map<string, LoopbackPeer>) {}

  listen(events: RtcPeerEvents): void {
    this.events = events;
  }

  createDataChannel(_label: string, protocol: string): RtcChannel {
    this.channel = new LoopbackChannel(protocol);
    return this.channel;
  }

  private describe(): string {
    this.registry.set(this.ufrag, this);
    // Just enough SDP for the shared validation: the ufrag names this peer in the registry.
    this.sdp = [
      'v=0',
      'o=- 0 0 IN IP4 127.0.0.1',
      's=-',
      't=0 0',
      'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
      `a=ice-ufrag:${this.ufrag}`,
      `a=ice-pwd:${'0'.repeat(24)}`,
      `a=fingerprint:sha-256 ${Array.from({ length: 32 }, () => '00').join(':')}`,
      `a=x-protocol:${this.channel?.protocol ?? ''}`,
      'a=max-message-size:0',
      '',
    ].join('\r\n');
    queueMicrotask(() => this.events?.onLocalCandidate(null));
    return this.sdp;
  }

  async setLocalOffer(): Promise<void> {
    this.describe();
  }

  async setLocalAnswer(): Promise<void> {
    this.describe();
  }

  async setRemoteDescription(type: 'offer' | 'answer', sdp: string): Promise<void> {
    const ufrag = /^a=ice-ufrag:(\S+)\r?$/m.exec(sdp)?.[1];
    const remote = ufrag === undefined ? undefined : this.registry.get(ufrag);
    if (remote === undefined) throw new Error('no loopback peer with that ufrag');
    if (type === 'answer') {
      const mine = this.channel;
      if (mine === undefined) throw new Error('offerer has no channel');
      const theirs = new LoopbackChannel(mine.protocol);
      mine.other = theirs;
      theirs.other = mine;
      remote.channel = theirs;
      remote.events?.onDataChannel(theirs);
      mine.open();
      theirs.open();
      this.events?.onConnectionState('connected');
      remote.events?.onConnectionState('connected');
    }
  }

  async addRemoteCandidate(): Promise<void> {}

  localSdp(): string | undefined {
    return this.sdp;
  }

  gatheringComplete(): boolean {
    return this.sdp !== undefined;
  }

  close(): void {
    this.registry.delete(this.ufrag);
    this.channel?.close();
  }
}

/** An in-memory stack; links only reach peers created by the same stack instance. */
export function loopbackStack(): RtcStack {
  const registry = new Map<string, LoopbackPeer>();
  return { name: 'loopback', resolvesMdns: true, createPeer: () => new LoopbackPeer(registry) };
}

/** A transport whose links stay inside this realm (benchmark floor, higher-layer tests). */
export function createLoopbackTransport(defaults: TransportOptions = {}): PeerTransport {
  return createWebRtcTransport(loopbackStack(), defaults);
}
