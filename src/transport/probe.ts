/**
 * Link probes: echo round-trip time and one-way throughput measured over a live `PeerLink`,
 * with the far side running `startProbeResponder`. Used by the transport benchmark and
 * meant for reuse by higher layers' benchmarks as their floor.
 */
import { assertInteger } from '../util/errors.ts';
import { TransportError } from './errors.ts';
import type { PeerLink } from './types.ts';

const ECHO = 0x01;
const SINK = 0x02;
const ACK = 0x03;

/** Runs `body` with a rejection hook that fires if the link ends first (so a probe never hangs). */
async function whileLive<T>(link: PeerLink, body: (ended: Promise<never>) => Promise<T>): Promise<T> {
  let off: (() => void) | undefined;
  const ended = new Promise<never>((_, reject) => {
    off = link.onStateChange((state, error) => {
      if (state !== 'connected') reject(error ?? new TransportError('CLOSED', `link ${state} during probe`));
    });
  });
  ended.catch(() => undefined);
  try {
    return await body(ended);
  } finally {
    off?.();
  }
}

/** Makes `link` answer probes: echoes ECHO messages, acknowledges SINK ones with one byte. */
export function startProbeResponder(link: PeerLink): () => void {
  return link.onMessage((m) => {
    if (m[0] === ECHO) void link.send(m).catch(() => undefined);
    else if (m[0] === SINK) void link.send(Uint8Array.of(ACK)).catch(() => undefined);
  });
}

/** Echo round trips of `bytes`-byte messages, one at a time; returns each RTT in ms. */
export async function measureEchoRtt(link: PeerLink, samples: number, bytes = 64): Promise<number[]> {
  assertInteger('samples', samples, 1, 1_000_000);
  assertInteger('bytes', bytes, 1, 1 << 30);
  const message = new Uint8Array(bytes);
  message[0] = ECHO;
  const rtts: number[] = [];
  let arrived: (() => void) | undefined;
  const off = link.onMessage((m) => {
    if (m[0] === ECHO) arrived?.();
  });
  try {
    return await whileLive(link, async (ended) => {
      for (let i = 0; i < samples; i++) {
        const back = new Promise<void>((resolve) => (arrived = resolve));
        const start = performance.now();
        await Promise.race([link.send(message), ended]);
        await Promise.race([back, ended]);
        rtts.push(performance.now() - start);
      }
      return rtts;
    });
  } finally {
    off();
  }
}

/** Sends `count` messages of `bytes` bytes back to back; returns megabytes (10^6) per second. */
export async function measureThroughput(link: PeerLink, count: number, bytes: number): Promise<number> {
  assertInteger('count', count, 1, 1_000_000);
  assertInteger('bytes', bytes, 1, 1 << 30);
  const message = new Uint8Array(bytes);
  message[0] = SINK;
  let acked = 0;
  let done: (() => void) | undefined;
  const all = new Promise<void>((resolve) => (done = resolve));
  const off = link.onMessage((m) => {
    if (m.length === 1 && m[0] === ACK && ++acked === count) done?.();
  });
  try {
    return await whileLive(link, async (ended) => {
      const start = performance.now();
      for (let i = 0; i < count; i++) void link.send(message).catch(() => undefined);
      await Promise.race([all, ended]);
      return (count * bytes) / 1e6 / ((performance.now() - start) / 1000);
    });
  } finally {
    off();
  }
}
