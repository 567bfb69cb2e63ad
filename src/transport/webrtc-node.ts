/**
 * WebRTC links in Node through werift (a WebRTC stack in TypeScript; Node has no native
 * one). Only translation lives here; the behaviour is in `webrtc.ts`.
 */
import { RTCPeerConnection, type RTCDataChannel } from 'werift';
import {
  W3cChannel,
  W3cPeer,
  w3cIceServers,
  type RtcChannel,
  type RtcChannelEvents,
  type RtcPeerEvents,
  type RtcStack,
} from './adapter.ts';
import { createWebRtcTransport } from './webrtc.ts';
import type { IceServer, PeerTransport, TransportOptions } from './types.ts';

/** Node-only knobs of the werift stack. */
export interface NodeStackOptions {
  /**
   * Extra host addresses to offer as candidates. werift skips loopback by default; tests and
   * benchmarks on one host pass `['127.0.0.1']` so links never leave the machine.
   * @default []
   */
  readonly additionalHostAddresses?: readonly string[];
  /** Gather IPv6 host candidates too. @default false */
  readonly ipv6?: boolean;
}

class WeriftChannel extends W3cChannel<RTCDataChannel> {
  constructor(dc: RTCDataChannel) {
    super(dc);
  }

  listen(events: RtcChannelEvents): void {
    this.dc.stateChanged.subscribe((state) => {
      if (state === 'open') events.onOpen();
      else if (state === 'closed') events.onClose();
    });
    this.dc.onMessage.subscribe((data) => {
      events.onMessage(
        typeof data === 'string' ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      );
    });
    this.dc.bufferedAmountLow.subscribe(() => events.onBufferedAmountLow());
  }

  send(data: Uint8Array): void {
    this.dc.send(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }
}

class WeriftPeer extends W3cPeer<RTCPeerConnection> {
  constructor(iceServers: readonly IceServer[], options: NodeStackOptions) {
    super(
      new RTCPeerConnection({
        iceServers: w3cIceServers(iceServers),
        iceAdditionalHostAddresses: [...(options.additionalHostAddresses ?? [])],
        iceUseIpv6: options.ipv6 ?? false,
      }),
    );
  }

  listen(events: RtcPeerEvents): void {
    this.pc.onDataChannel.subscribe((dc) => events.onDataChannel(new WeriftChannel(dc)));
    this.pc.onIceCandidate.subscribe((c) => {
      if (c === undefined || c.candidate === '') events.onLocalCandidate(null);
      else events.onLocalCandidate({ type: 'candidate', candidate: c.candidate, sdpMid: c.sdpMid ?? null });
    });
    this.pc.iceGatheringStateChange.subscribe((s) => {
      if (s === 'complete') events.onLocalCandidate(null);
    });
    this.pc.connectionStateChange.subscribe((s) => events.onConnectionState(s));
  }

  createDataChannel(label: string, protocol: string): RtcChannel {
    return new WeriftChannel(this.pc.createDataChannel(label, { ordered: true, protocol }));
  }

  async addRemoteCandidate(c: { candidate: string; sdpMid: string | null }): Promise<void> {
    await this.pc.addIceCandidate({
      candidate: c.candidate,
      ...(c.sdpMid === null ? { sdpMLineIndex: 0 } : { sdpMid: c.sdpMid }),
    });
  }

  close(): void {
    void this.pc.close().catch(() => undefined);
  }
}

/** werift as an `RtcStack`. */
export function weriftStack(options: NodeStackOptions = {}): RtcStack {
  return {
    name: 'werift',
    // werift resolves no mDNS names; `.local` candidates are skipped with MDNS_UNSUPPORTED.
    resolvesMdns: false,
    createPeer: ({ iceServers }) => new WeriftPeer(iceServers, options),
  };
}

/** The Node transport: WebRTC links through werift. */
export function createNodeTransport(defaults: TransportOptions & NodeStackOptions = {}): PeerTransport {
  const { additionalHostAddresses, ipv6, ...transport } = defaults;
  return createWebRtcTransport(
    weriftStack({
      ...(additionalHostAddresses === undefined ? {} : { additionalHostAddresses }),
      ...(ipv6 === undefined ? {} : { ipv6 }),
    }),
    transport,
  );
}
