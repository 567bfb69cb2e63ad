/**
 * Device linking (docs/devices.md §5): time to move a new device's identity, contacts,
 * settings and 1,000 messages of history over a real WebRTC channel (werift on loopback),
 * handshake and commit included, beside the bare channel moving the same frames (same count,
 * same sizes) with no handshake, sealing, acknowledgements or checks, in the same run.
 */
import { Identity } from '../src/core/identity/identity.ts';
import { encodeMessage, type IncomingMessage } from '../src/core/delivery/messages.ts';
import { contactIdOf } from '../src/core/delivery/sessions.ts';
import {
  DeviceList,
  LinkOffers,
  LinkReceiver,
  LinkServer,
  type DeviceChannel,
  type LinkSource,
} from '../src/core/devices/index.ts';
import { createNodeTransport } from '../src/transport/webrtc-node.ts';
import type { PeerLink } from '../src/transport/types.ts';
import { bytesToHex, randomBytes, utf8ToBytes } from '../src/util/bytes.ts';
import { connectPair } from './transport.bench.ts';
import { fmtMs, percentile, type Bench } from './table.ts';

const MESSAGES = 1_000;
const RUNS = 5;
const DAY = 24 * 3_600_000;

function source(now: number): LinkSource {
  const identity = Identity.generate();
  const list = DeviceList.first(identity, { name: 'Laptop', kind: 'browser' }, now - 90 * DAY);
  const contacts = Array.from({ length: 20 }, () => Identity.generate());
  const history = Array.from({ length: MESSAGES }, (_, i) =>
    encodeMessage({
      direction: 'in',
      id: bytesToHex(randomBytes(16)),
      contact: contactIdOf(contacts[i % contacts.length]!.peerId),
      sentAt: now - DAY + i,
      text: `message ${i} `.padEnd(160, 'x'),
      receivedAt: now - DAY + i + 500,
      route: 'chain',
      read: true,
    } satisfies IncomingMessage),
  );
  return {
    identity,
    deviceList: () => list,
    // A full contact card is about 1.9 kB: 20 records of that size.
    contacts: () => contacts.map(() => randomBytes(1_900)),
    settings: () => [utf8ToBytes('theme=dark')],
    history: () => history.map((data, i) => ({ at: now - DAY + i, data })),
  };
}

/** Records the size of every message the existing device sends. */
function recording(link: PeerLink, sizes: number[]): DeviceChannel {
  return {
    send: (b) => {
      sizes.push(b.length);
      return link.send(b);
    },
    onMessage: (h) => link.onMessage(h),
    onStateChange: (h) => link.onStateChange(h),
    close: () => link.close(),
  };
}

async function linkOnce(sizes: number[]): Promise<{ ms: number; bytes: number }> {
  const now = Date.now();
  const src = source(now);
  const offers = new LinkOffers(src.identity);
  const code = offers.mint(now);
  const pair = await connectPair(createNodeTransport({ additionalHostAddresses: ['127.0.0.1'] }));
  const receiver = new LinkReceiver(code, {
    device: Identity.generate(),
    name: 'Phone',
    kind: 'phone',
    history: 'all',
  });
  const start = performance.now();
  const [, got] = await Promise.all([
    new LinkServer(offers, src).serve(recording(pair.b, sizes)),
    receiver.run(pair.a),
  ]);
  const ms = performance.now() - start;
  pair.a.close();
  pair.b.close();
  if (got.history.length !== MESSAGES) throw new Error('the bench transfer lost messages');
  return { ms, bytes: sizes.reduce((n, s) => n + s, 0) };
}

/** The same frames over a bare link: sent back to back, the receiver answers the last one. */
async function bareOnce(sizes: readonly number[]): Promise<number> {
  const pair = await connectPair(createNodeTransport({ additionalHostAddresses: ['127.0.0.1'] }));
  const frames = sizes.map((s) => randomBytes(s));
  let got = 0;
  const done = new Promise<void>((resolve) => {
    pair.b.onMessage(() => {
      if (++got === frames.length) void pair.b.send(Uint8Array.of(1)).then(resolve);
    });
  });
  const acked = new Promise<void>((resolve) => pair.a.onMessage(() => resolve()));
  const start = performance.now();
  for (const f of frames) await pair.a.send(f);
  await done;
  await acked;
  const ms = performance.now() - start;
  pair.a.close();
  pair.b.close();
  return ms;
}

const bench: Bench = async () => {
  const link: number[] = [];
  const bare: number[] = [];
  let bytes = 0;
  let frames = 0;
  for (let i = 0; i < RUNS; i++) {
    const sizes: number[] = [];
    const r = await linkOnce(sizes);
    link.push(r.ms);
    bytes = r.bytes;
    frames = sizes.length;
    bare.push(await bareOnce(sizes));
  }
  const p50 = (xs: number[]): string => fmtMs(percentile(xs, 50));
  return {
    title: `Device linking: ${MESSAGES.toLocaleString('en-US')} messages of history over werift (median of ${RUNS})`,
    rows: [
      {
        name: `link: handshake, ${frames} sealed frames, ACKs, checks, commit`,
        value: p50(link),
        reference: `bare channel, same ${frames} frames (${(bytes / 1024).toFixed(0)} KiB): ${p50(bare)}`,
        note: 'loopback; excludes the chain signaling that brings the channel up',
      },
      {
        name: 'link, slowest run',
        value: fmtMs(Math.max(...link)),
        reference: `bare, slowest: ${fmtMs(Math.max(...bare))}`,
        note: 'issue 12 target: scan to usable device under 10 s',
      },
    ],
  };
};

export default bench;
