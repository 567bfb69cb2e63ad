/**
 * Transport figures: data-channel echo RTT, 1 MB throughput and connection set-up time,
 * for werift↔werift and Chromium↔Chromium, each beside the in-memory loopback stack running
 * the same link code (the floor: what framing and the link state machine cost alone).
 * The set-up time here is the floor for "time to establish WebRTC through Kaspa signaling".
 */
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { RTCPeerConnection as WeriftPeerConnection, type RTCDataChannel } from 'werift';
import { createLoopbackTransport } from '../src/transport/loopback.ts';
import { measureEchoRtt, measureThroughput, startProbeResponder } from '../src/transport/probe.ts';
import type { PeerLink, PeerTransport, TransportOptions } from '../src/transport/types.ts';
import { createNodeTransport } from '../src/transport/webrtc-node.ts';
import { startBrowserHarness } from '../test/harness/browser.ts';
import { WEBRTC_TEST_ARGS, pageEndpoint, type Endpoint } from '../test/transport/endpoints.ts';
import { retried } from './setup.ts';
import { fmtMs, percentile, type Bench, type BenchRow } from './table.ts';

export { measureEchoRtt, measureThroughput, startProbeResponder };

/** A connected pair of links in this process, and how long offer-to-open took. */
export interface LinkedPair {
  readonly a: PeerLink;
  readonly b: PeerLink;
  /** From `createOffer` to both links `connected`, signaling handed over in memory. */
  readonly establishMs: number;
}

/** Connects two links of `transport` with one offer and one answer (non-trickle). */
export async function connectPair(
  transport: PeerTransport,
  options: TransportOptions = {},
): Promise<LinkedPair> {
  const start = performance.now();
  const offered = await transport.createOffer(options);
  const answered = await transport.acceptOffer(offered.offer, options);
  await offered.accept(answered.answer);
  await Promise.all([offered.link.whenConnected(), answered.link.whenConnected()]);
  return { a: offered.link, b: answered.link, establishMs: performance.now() - start };
}

const ECHO_SAMPLES = 300;
const ECHO_BYTES = 64;
const MB = 1 << 20;
const MB_MESSAGES = 8;
const ESTABLISH_RUNS = 5;

interface Figures {
  readonly rtt: number[];
  readonly mbps: number;
  readonly establish: number[];
  /** The bare stack moving the same bytes in 16 KiB sends, without p2pComm framing. */
  readonly rawMbps: number;
}

const RAW_CHUNK = 16_384;
const RAW_HIGH = 1 << 20;

/**
 * werift alone: one data channel, 16 KiB sends under the same high-water mark; the floor the
 * transport and the attachment benches are compared with. Its set-up is retried
 * (bench/setup.ts).
 */
export async function rawWeriftMbps(total = MB_MESSAGES * MB): Promise<number> {
  const config = { iceAdditionalHostAddresses: ['127.0.0.1'], iceUseIpv6: false };
  type Pair = { a: WeriftPeerConnection; b: WeriftPeerConnection; dc: RTCDataChannel; rc: RTCDataChannel };
  const { a, b, dc, rc } = await retried<Pair>(
    'bare werift',
    async () => {
      const a = new WeriftPeerConnection(config);
      const b = new WeriftPeerConnection(config);
      const dc = a.createDataChannel('raw');
      a.onIceCandidate.subscribe((c) => void (c && b.addIceCandidate(c)));
      b.onIceCandidate.subscribe((c) => void (c && a.addIceCandidate(c)));
      const remote = new Promise<RTCDataChannel>((resolve) => b.onDataChannel.subscribe(resolve));
      await a.setLocalDescription(await a.createOffer());
      await b.setRemoteDescription(a.localDescription!);
      await b.setLocalDescription(await b.createAnswer());
      await a.setRemoteDescription(b.localDescription!);
      await new Promise<void>((resolve) => dc.stateChanged.subscribe((st) => st === 'open' && resolve()));
      return { a, b, dc, rc: await remote };
    },
    (p) => void Promise.all([p.a.close(), p.b.close()]),
  );
  let got = 0;
  const done = new Promise<void>((resolve) =>
    rc.onMessage.subscribe((m) => {
      got += m.length;
      if (got >= total) resolve();
    }),
  );
  dc.bufferedAmountLowThreshold = RAW_HIGH / 4;
  const chunk = Buffer.alloc(RAW_CHUNK);
  const start = performance.now();
  for (let sent = 0; sent < total; sent += RAW_CHUNK) {
    if (dc.bufferedAmount > RAW_HIGH) await new Promise<void>((r) => dc.bufferedAmountLow.once(() => r()));
    dc.send(chunk);
  }
  await done;
  const mbps = total / 1e6 / ((performance.now() - start) / 1000);
  await Promise.all([a.close(), b.close()]);
  return mbps;
}

/** Chromium alone: two RTCPeerConnections in one page, same sends and high-water mark. */
async function rawChromiumMbps(page: Page): Promise<number> {
  return page.evaluate(
    async ([total, chunkBytes, high]) => {
      const a = new RTCPeerConnection();
      const b = new RTCPeerConnection();
      a.onicecandidate = (e) => void (e.candidate && b.addIceCandidate(e.candidate));
      b.onicecandidate = (e) => void (e.candidate && a.addIceCandidate(e.candidate));
      const dc = a.createDataChannel('raw');
      let got = 0;
      const done = new Promise<void>((resolve) => {
        b.ondatachannel = (e) => {
          e.channel.binaryType = 'arraybuffer';
          e.channel.onmessage = (m: MessageEvent<ArrayBuffer>) => {
            got += m.data.byteLength;
            if (got >= total) resolve();
          };
        };
      });
      await a.setLocalDescription();
      await b.setRemoteDescription(a.localDescription!);
      await b.setLocalDescription();
      await a.setRemoteDescription(b.localDescription!);
      await new Promise((r) => (dc.onopen = r));
      dc.bufferedAmountLowThreshold = high / 4;
      const chunk = new Uint8Array(chunkBytes);
      const start = performance.now();
      for (let sent = 0; sent < total; sent += chunkBytes) {
        if (dc.bufferedAmount > high) await new Promise((r) => (dc.onbufferedamountlow = r));
        dc.send(chunk);
      }
      await done;
      const mbps = total / 1e6 / ((performance.now() - start) / 1000);
      a.close();
      b.close();
      return mbps;
    },
    [MB_MESSAGES * MB, RAW_CHUNK, RAW_HIGH] as const,
  );
}

async function measureInProcess(transport: PeerTransport, raw: () => Promise<number>): Promise<Figures> {
  const establish: number[] = [];
  for (let i = 0; i < ESTABLISH_RUNS; i++) {
    const p = await connectPair(transport);
    establish.push(p.establishMs);
    p.a.close();
  }
  const { a, b } = await connectPair(transport);
  startProbeResponder(b);
  await measureEchoRtt(a, 20, ECHO_BYTES); // warm-up
  const rtt = await measureEchoRtt(a, ECHO_SAMPLES, ECHO_BYTES);
  const mbps = await measureThroughput(a, MB_MESSAGES, MB);
  a.close();
  return { rtt, mbps, establish, rawMbps: await raw() };
}

async function connectPages(a: Endpoint, b: Endpoint): Promise<{ ia: number; ib: number; ms: number }> {
  const start = performance.now();
  const { id: ia, offer } = await a.call('offer', {});
  const answered = await b.call('answer', offer, {});
  if (!answered.ok) throw new Error(`answer failed: ${answered.code}`);
  await a.call('accept', ia, answered.value.answer);
  await Promise.all([a.call('connected', ia), b.call('connected', answered.value.id)]);
  return { ia, ib: answered.value.id, ms: performance.now() - start };
}

async function measureChromium(): Promise<Figures> {
  const harness = await startBrowserHarness(
    fileURLToPath(new URL('../test/transport/driver-browser.ts', import.meta.url)),
    'testApi',
    { extraArgs: WEBRTC_TEST_ARGS },
  );
  try {
    const a = await pageEndpoint('chromium-a', harness);
    const b = await pageEndpoint('chromium-b', harness);
    const establish: number[] = [];
    for (let i = 0; i < ESTABLISH_RUNS; i++) {
      const { ia, ms } = await connectPages(a, b);
      establish.push(ms);
      await a.call('close', ia);
    }
    const { ia, ib } = await connectPages(a, b);
    await b.call('respond', ib);
    await a.call('echoRtt', ia, 20, ECHO_BYTES);
    const rtt = await a.call('echoRtt', ia, ECHO_SAMPLES, ECHO_BYTES);
    const mbps = await a.call('throughput', ia, MB_MESSAGES, MB);
    await a.call('close', ia);
    const rawMbps = await rawChromiumMbps(await harness.newPage());
    return { rtt, mbps, establish, rawMbps };
  } finally {
    await harness.close();
  }
}

function rows(name: string, f: Figures, floor: Figures): BenchRow[] {
  const p = (xs: number[], q: number): string => fmtMs(percentile(xs, q));
  return [
    {
      name: `${name}: echo RTT, ${ECHO_BYTES} B (${ECHO_SAMPLES} samples)`,
      value: `p50 ${p(f.rtt, 50)} / p99 ${p(f.rtt, 99)}`,
      reference: `loopback p50 ${p(floor.rtt, 50)} / p99 ${p(floor.rtt, 99)}`,
    },
    {
      name: `${name}: throughput, ${MB_MESSAGES} × 1 MiB`,
      value: `${f.mbps.toFixed(1)} MB/s`,
      reference: `bare ${name.split(' ')[0]} channel ${f.rawMbps.toFixed(1)} MB/s; loopback ${floor.mbps.toFixed(1)} MB/s`,
      note: 'bare: same bytes in 16 KiB sends, no framing',
    },
    {
      name: `${name}: offer created → both open (median of ${ESTABLISH_RUNS})`,
      value: p(f.establish, 50),
      reference: `loopback ${p(floor.establish, 50)}`,
      note: 'floor for set-up through Kaspa signaling',
    },
  ];
}

const bench: Bench = async () => {
  const floor = await measureInProcess(createLoopbackTransport(), async () => NaN);
  const werift = await measureInProcess(
    createNodeTransport({ additionalHostAddresses: ['127.0.0.1'] }),
    rawWeriftMbps,
  );
  const chromium = await measureChromium();
  return {
    title: 'WebRTC transport (one host; werift pair in one Node process, Chromium pair in two contexts)',
    rows: [...rows('werift ↔ werift', werift, floor), ...rows('chromium ↔ chromium', chromium, floor)],
  };
};

export default bench;
