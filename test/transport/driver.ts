/**
 * Test driver for one side of a link, runnable in Node (in-process or in a child process)
 * and in a browser page. Every argument and result is plain JSON so the same calls cross
 * `page.evaluate` and process IPC; messages are generated and checked on the side that
 * holds them, so a 1 MB message never has to travel through the test harness.
 */
import type { RtcChannel, RtcStack } from '../../src/transport/adapter.ts';
import { TransportError } from '../../src/transport/errors.ts';
import { measureEchoRtt, measureThroughput, startProbeResponder } from '../../src/transport/probe.ts';
import { createWebRtcTransport } from '../../src/transport/webrtc.ts';
import type {
  CandidateOutcome,
  LinkState,
  OfferHandle,
  PeerLink,
  SignalAnswer,
  SignalCandidate,
  SignalOffer,
  TransportOptions,
} from '../../src/transport/types.ts';
import { hexToBytes } from '../../src/util/bytes.ts';

/** JSON-safe transport options (no AbortSignal across processes). */
export type DriverOptions = Omit<TransportOptions, 'signal'>;

/** Summary of one received message. */
export interface Received {
  readonly seq: number;
  readonly length: number;
  readonly intact: boolean;
}

/** A call's outcome when it is expected to fail with a typed error. */
export type Outcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: string };

/** What the driver keeps of one peer connection: its data channel, once it has one. */
interface Tap {
  channel?: RtcChannel;
}

interface Entry {
  readonly link: PeerLink;
  readonly offer?: OfferHandle;
  readonly candidates: SignalCandidate[];
  readonly received: Received[];
  readonly states: { state: LinkState; code: string | undefined }[];
  /** The data channel of the peer connection made for this link. */
  readonly tap: Tap | undefined;
  echo: boolean;
}

/** Deterministic test message: 4-byte little-endian sequence number, then a pattern. */
export function patternMessage(seq: number, length: number): Uint8Array {
  const m = new Uint8Array(Math.max(4, length));
  new DataView(m.buffer).setUint32(0, seq, true);
  for (let i = 4; i < m.length; i++) m[i] = (seq * 31 + i * 7) & 0xff;
  return m;
}

function checkMessage(m: Uint8Array): Received {
  if (m.length < 4) return { seq: -1, length: m.length, intact: false };
  const seq = new DataView(m.buffer, m.byteOffset, m.byteLength).getUint32(0, true);
  let intact = true;
  for (let i = 4; i < m.length; i++) {
    if (m[i] !== ((seq * 31 + i * 7) & 0xff)) {
      intact = false;
      break;
    }
  }
  return { seq, length: m.length, intact };
}

async function outcome<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    if (e instanceof TransportError) return { ok: false, code: e.code };
    if (e instanceof TypeError || e instanceof RangeError) return { ok: false, code: e.name };
    throw e;
  }
}

async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Builds the driver over one runtime's WebRTC stack. */
export function createDriver(stack: RtcStack) {
  // Each peer connection's channel, so tests can write raw (garbage) frames under the framing.
  // A link takes the peer made for it: an offer or an answer makes one, and the driver makes
  // them one at a time. (Taking the newest channel when a link connected could pick another
  // link's.)
  const taps: Tap[] = [];
  const tapped: RtcStack = {
    name: stack.name,
    resolvesMdns: stack.resolvesMdns,
    createPeer(config) {
      const peer = stack.createPeer(config);
      const tap: Tap = {};
      taps.push(tap);
      return {
        ...peer,
        listen: (events) =>
          peer.listen({
            ...events,
            onDataChannel: (ch) => {
              tap.channel = ch;
              events.onDataChannel(ch);
            },
          }),
        createDataChannel: (label, protocol) => {
          const ch = peer.createDataChannel(label, protocol);
          tap.channel = ch;
          return ch;
        },
        setLocalOffer: () => peer.setLocalOffer(),
        setLocalAnswer: () => peer.setLocalAnswer(),
        setRemoteDescription: (t, s) => peer.setRemoteDescription(t, s),
        addRemoteCandidate: (c) => peer.addRemoteCandidate(c),
        localSdp: () => peer.localSdp(),
        gatheringComplete: () => peer.gatheringComplete(),
        close: () => peer.close(),
      };
    },
  };
  const transport = createWebRtcTransport(tapped);
  const links = new Map<number, Entry>();
  let nextId = 1;

  function register(link: PeerLink, offer?: OfferHandle): number {
    const id = nextId++;
    const entry: Entry = {
      link,
      candidates: [],
      received: [],
      states: [],
      echo: false,
      tap: taps.at(-1),
      ...(offer ? { offer } : {}),
    };
    link.onLocalCandidate((c) => entry.candidates.push(c));
    link.onStateChange((state, error) => {
      entry.states.push({ state, code: error?.code });
    });
    link.onMessage((bytes) => {
      entry.received.push(checkMessage(bytes));
      if (entry.echo) void link.send(bytes).catch(() => undefined);
    });
    links.set(id, entry);
    return id;
  }

  function get(id: number): Entry {
    const e = links.get(id);
    if (e === undefined) throw new Error(`no link ${id}`);
    return e;
  }

  return {
    runtime: async (): Promise<string> => stack.name,
    offer: async (options: DriverOptions = {}): Promise<{ id: number; offer: SignalOffer }> => {
      const handle = await transport.createOffer(options);
      return { id: register(handle.link, handle), offer: handle.offer };
    },
    answer: async (
      offer: SignalOffer,
      options: DriverOptions = {},
    ): Promise<Outcome<{ id: number; answer: SignalAnswer }>> =>
      outcome(async () => {
        const handle = await transport.acceptOffer(offer, options);
        return { id: register(handle.link), answer: handle.answer };
      }),
    accept: async (id: number, answer: SignalAnswer): Promise<Outcome<null>> =>
      outcome(async () => {
        const offer = get(id).offer;
        if (offer === undefined) throw new Error(`link ${id} is not an offerer`);
        await offer.accept(answer);
        return null;
      }),
    takeCandidates: async (id: number): Promise<SignalCandidate[]> => get(id).candidates.splice(0),
    addCandidate: async (id: number, c: SignalCandidate): Promise<Outcome<CandidateOutcome>> =>
      outcome(() => get(id).link.addRemoteCandidate(c)),
    connected: async (id: number): Promise<Outcome<null>> =>
      outcome(async () => {
        await get(id).link.whenConnected();
        return null;
      }),
    state: async (id: number): Promise<{ state: LinkState; code: string | undefined }> => {
      const link = get(id).link;
      return { state: link.state, code: link.error?.code };
    },
    history: async (id: number): Promise<{ state: LinkState; code: string | undefined }[]> => get(id).states,
    waitEnded: async (id: number): Promise<{ state: LinkState; code: string | undefined }> => {
      const link = get(id).link;
      await until(
        () => link.state !== 'connecting' && link.state !== 'connected',
        `link ${id} to end`,
        60_000,
      );
      return { state: link.state, code: link.error?.code };
    },
    echo: async (id: number): Promise<void> => {
      get(id).echo = true;
    },
    /** Sends `count` pattern messages of `length` bytes without waiting between them. */
    send: async (id: number, count: number, length: number, firstSeq = 0): Promise<Outcome<null>> =>
      outcome(async () => {
        const link = get(id).link;
        await Promise.all(
          Array.from({ length: count }, (_, i) => link.send(patternMessage(firstSeq + i, length))),
        );
        return null;
      }),
    sendOversized: async (id: number, length: number): Promise<Outcome<null>> =>
      outcome(async () => {
        await get(id).link.send(new Uint8Array(length));
        return null;
      }),
    /** Waits for at least `count` received messages and returns their summaries. */
    received: async (id: number, count: number): Promise<Received[]> => {
      const e = get(id);
      await until(() => e.received.length >= count, `${count} messages on link ${id}`, 120_000);
      return e.received.slice();
    },
    /** Writes raw bytes on the data channel, bypassing the framing. */
    sendRaw: async (id: number, hex: string): Promise<void> => {
      const ch = get(id).tap?.channel;
      if (ch === undefined) throw new Error(`link ${id} has no channel`);
      ch.send(hexToBytes(hex));
    },
    /** Makes the link answer probes (`src/transport/probe.ts`). */
    respond: async (id: number): Promise<void> => {
      startProbeResponder(get(id).link);
    },
    echoRtt: async (id: number, samples: number, bytes: number): Promise<number[]> =>
      measureEchoRtt(get(id).link, samples, bytes),
    throughput: async (id: number, count: number, bytes: number): Promise<number> =>
      measureThroughput(get(id).link, count, bytes),
    close: async (id: number): Promise<void> => get(id).link.close(),
    closeAll: async (): Promise<void> => {
      for (const e of links.values()) e.link.close();
    },
  };
}

/** The driver's call surface. */
export type Driver = ReturnType<typeof createDriver>;
/** Name of a driver call. */
export type DriverMethod = keyof Driver;
