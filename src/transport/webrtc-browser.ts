/**
 * WebRTC links in the browser through the native `RTCPeerConnection`. Only translation
 * lives here; the behaviour is in `webrtc.ts`.
 */
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

class NativeChannel extends W3cChannel<RTCDataChannel> {
  constructor(dc: RTCDataChannel) {
    super(dc);
    // Binary messages as ArrayBuffer: synchronous to read, unlike the default Blob.
    dc.binaryType = 'arraybuffer';
  }

  listen(events: RtcChannelEvents): void {
    this.dc.addEventListener('open', () => events.onOpen());
    this.dc.addEventListener('close', () => events.onClose());
    this.dc.addEventListener('message', (ev: MessageEvent<unknown>) => {
      const data = ev.data;
      if (typeof data === 'string') events.onMessage(data);
      else if (data instanceof ArrayBuffer) events.onMessage(new Uint8Array(data));
    });
    this.dc.addEventListener('bufferedamountlow', () => events.onBufferedAmountLow());
  }

  send(data: Uint8Array): void {
    this.dc.send(data as Uint8Array<ArrayBuffer>);
  }
}

class NativePeer extends W3cPeer<RTCPeerConnection> {
  constructor(iceServers: readonly IceServer[]) {
    super(new RTCPeerConnection({ iceServers: w3cIceServers(iceServers) }));
  }

  listen(events: RtcPeerEvents): void {
    this.pc.addEventListener('datachannel', (ev) => events.onDataChannel(new NativeChannel(ev.channel)));
    this.pc.addEventListener('icecandidate', (ev) => {
      const c = ev.candidate;
      if (c === null || c.candidate === '') events.onLocalCandidate(null);
      else events.onLocalCandidate({ type: 'candidate', candidate: c.candidate, sdpMid: c.sdpMid });
    });
    this.pc.addEventListener('icegatheringstatechange', () => {
      if (this.pc.iceGatheringState === 'complete') events.onLocalCandidate(null);
    });
    this.pc.addEventListener('connectionstatechange', () =>
      events.onConnectionState(this.pc.connectionState),
    );
  }

  createDataChannel(label: string, protocol: string): RtcChannel {
    return new NativeChannel(this.pc.createDataChannel(label, { ordered: true, protocol }));
  }

  async addRemoteCandidate(c: { candidate: string; sdpMid: string | null }): Promise<void> {
    await this.pc.addIceCandidate({ candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: 0 });
  }

  close(): void {
    this.pc.close();
  }
}

/** The browser's native WebRTC as an `RtcStack`. */
export function nativeStack(): RtcStack {
  return { name: 'native', resolvesMdns: true, createPeer: ({ iceServers }) => new NativePeer(iceServers) };
}

/** The browser transport: WebRTC links through the native `RTCPeerConnection`. */
export function createBrowserTransport(defaults: TransportOptions = {}): PeerTransport {
  return createWebRtcTransport(nativeStack(), defaults);
}
