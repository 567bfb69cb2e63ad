/**
 * Attachment figures (issue 14): direct throughput beside a bare data channel moving the same
 * bytes in the same run, in Node (werift) and in Chromium (bench/attachments-browser.ts), and
 * what the chain path costs beside the fee floor for the same bytes. Each direct figure runs
 * from the first chunk sent to the recipient's "complete" status, so it includes verification
 * (AEAD, BLAKE3) and storage on the receiving side. A link whose ICE set-up fails is set up
 * again (up to SETUP_ATTEMPTS times); a measurement is never repeated.
 * `ATTACHMENTS_BENCH_DIRECT_ONLY=1` leaves out the measured chain delivery (minutes on the
 * local network) when only the direct figures are wanted.
 */
import {
  ATTACHMENT_STORES,
  AttachmentService,
  AttachmentStore,
  OutgoingTransfer,
  encodeManifest,
  planChain,
  prepareAttachment,
  type InboxEvent,
} from '../src/core/attachments/index.ts';
import { typicalPublicationFee } from '../src/core/delivery/chain-tx.ts';
import { notificationValue } from '../src/core/delivery/chain-tx.ts';
import { fileURLToPath } from 'node:url';
import { RTCPeerConnection as WeriftPeerConnection, type RTCDataChannel } from 'werift';
import { randomBytes } from '../src/util/bytes.ts';
import { connect, makeSides, until, werift, wire, type Linked } from '../test/core/attachments/direct.ts';
import { startBrowserHarness } from '../test/harness/browser.ts';
import { WEBRTC_TEST_ARGS } from '../test/transport/endpoints.ts';
import type { Bench, BenchRow } from './table.ts';
import { startDevnet } from '../src/devnet/index.ts';
import { MemoryDatabase, openMemoryStore } from '../src/storage/memory.ts';
import { ChainUser, prefund } from '../test/core/delivery/kaspa.ts';
import { VOICE_BITS_PER_SECOND } from '../src/core/attachments/voice.ts';

const TOTAL = 4 * 1024 * 1024;
const SETUP_ATTEMPTS = 3;
const SETUP_TIMEOUT_MS = 20_000;
const RAW_CHUNK = 16_384;
const RAW_HIGH = 1 << 20;

/** `setUp` bounded by SETUP_TIMEOUT_MS and retried; `undo` cleans up a failed attempt. */
async function retried<T>(
  what: string,
  setUp: () => Promise<T>,
  undo: (v: T) => void = () => {},
): Promise<T> {
  let last: unknown;
  for (let i = 0; i < SETUP_ATTEMPTS; i++) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const attempt = setUp();
    try {
      return await Promise.race([
        attempt,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`${what}: no link in ${SETUP_TIMEOUT_MS} ms`)),
            SETUP_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (e) {
      last = e;
      attempt.then(undo, () => undefined);
    } finally {
      clearTimeout(timer);
    }
  }
  throw last;
}

/**
 * A bare werift channel pair moving `total` bytes in 16 KiB sends under a 1 MiB high-water
 * mark, the floor of the direct figures (transport.bench.ts measures the same way).
 */
async function bareWeriftMbps(total: number): Promise<number> {
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

/** The Chromium figures: a bare channel and one attachment, the same bytes, in one page. */
async function chromiumMbps(total: number): Promise<{ bare: number; direct: number }> {
  const harness = await startBrowserHarness(
    fileURLToPath(new URL('./attachments-browser.ts', import.meta.url)),
    'attachmentsBench',
    { extraArgs: WEBRTC_TEST_ARGS },
  );
  try {
    const page = await harness.newPage();
    type Api = { bareMbps(n: number): Promise<number>; attachmentMbps(n: number): Promise<number> };
    const api = (name: 'bareMbps' | 'attachmentMbps'): Promise<number> =>
      page.evaluate(([n, f]) => (globalThis as unknown as { attachmentsBench: Api }).attachmentsBench[f](n), [
        total,
        name,
      ] as const);
    const bare = await api('bareMbps');
    const direct = await api('attachmentMbps');
    return { bare, direct };
  } finally {
    await harness.close();
  }
}

function bytesOf(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65_536) out.set(randomBytes(Math.min(65_536, n - at)), at);
  return out;
}

/** One attachment of `total` bytes from Alice to Bob over a werift link; MB/s to "complete". */
async function attachmentMbps(total: number, directChunks: boolean): Promise<number> {
  const [alice, bob] = await makeSides();
  const links = await retried<Linked>(
    'werift link',
    () => connect(werift()),
    (l) => l.a.close(),
  );
  wire(alice, bob, links, directChunks);
  const { manifest, chunks } = prepareAttachment(bytesOf(total), {
    kind: 'file',
    name: 'bench.bin',
    mediaType: 'application/octet-stream',
  });
  await alice.store.addOutgoing('bob', manifest, chunks, 1);
  await alice.port.send({ type: 'attachment-manifest', manifest: encodeManifest(manifest) });
  await until(async () => (await bob.store.record(manifest.id)) !== undefined);
  const complete = (e: InboxEvent): boolean => e.type === 'status' && e.status.state === 'complete';
  const start = performance.now();
  await new OutgoingTransfer(alice.store, alice.port, manifest.id).run();
  await until(() => alice.events.some(complete));
  const mbps = total / 1e6 / ((performance.now() - start) / 1000);
  links.a.close();
  return mbps;
}

/**
 * A 1 MiB file sent on chain now (chain-path.ts) from Alice to Bob, both online without a
 * link, on the local network at 10 blocks/s: seconds from "send now" to Bob's verified copy.
 */
export async function chainDeliverySeconds(): Promise<{ seconds: number; transactions: number }> {
  const services = new Map<string, AttachmentService>();
  const user = (name: string, url: () => string): ChainUser => {
    const data = new MemoryDatabase();
    const u: ChainUser = new ChainUser(name, url, {
      attachments: async (sessions) => {
        const db = await openMemoryStore({ version: 1, stores: [...ATTACHMENT_STORES] }, data);
        const s = new AttachmentService({ store: new AttachmentStore(db), sessions });
        services.set(name, s);
        return s;
      },
    });
    return u;
  };
  let url = '';
  const alice = user('alice', () => url);
  const bob = user('bob', () => url);
  alice.knows(bob);
  bob.knows(alice);
  const devnet = await startDevnet({
    port: 0,
    controlPort: false,
    blocksPerSecond: 10,
    prefund: prefund(alice, bob),
  });
  url = devnet.url;
  try {
    await alice.start();
    await bob.start();
    const start = performance.now();
    const m = await services.get('alice')!.send(
      bob.id,
      bytesOf(1024 * 1024),
      {
        kind: 'file',
        name: 'bench.bin',
        mediaType: 'application/octet-stream',
      },
      { now: true },
    );
    const bobs = services.get('bob')!;
    for (;;) {
      const r = (await bobs.list(alice.id)).find((x) => x.manifest.id.every((b, i) => b === m.id[i]));
      if (r?.state === 'complete') break;
      if (performance.now() - start > 600_000) throw new Error('the file did not arrive in 10 minutes');
      await new Promise((r) => setTimeout(r, 50));
    }
    return { seconds: (performance.now() - start) / 1000, transactions: m.chunkCount + 1 };
  } finally {
    await alice.stop().catch(() => undefined);
    await bob.stop().catch(() => undefined);
    await devnet.stop();
  }
}

function chainRows(): BenchRow[] {
  const v = notificationValue();
  const costPerMessage = v + v / 4n + typicalPublicationFee();
  const prices = { costPerMessage, spendable: 100n * costPerMessage };
  const kb = 1024;
  const file = prepareAttachment(bytesOf(1024 * kb), {
    kind: 'file',
    name: 'a.bin',
    mediaType: 'application/octet-stream',
  });
  const plan = planChain(file.manifest, encodeManifest(file.manifest).length, prices);
  // The floor: the marginal relay fee of the same bytes as bare payload, 100 sompi per gram of
  // the larger of compute mass (1 gram per byte) and transient mass / 2 (2 grams per byte).
  const floorPerKb = typicalPublicationFee(16 * kb) - typicalPublicationFee(15 * kb);
  const feeOnly = plan.sompi - BigInt(plan.transactions) * (costPerMessage - typicalPublicationFee());
  // A 60 s voice note at the recorder's Opus bit rate (voice.ts, MediaRecorder
  // `audioBitsPerSecond`), WebM container about 2 %.
  const voiceBytes = Math.round((VOICE_BITS_PER_SECOND / 8) * 60 * 1.02);
  const voice = prepareAttachment(bytesOf(voiceBytes), {
    kind: 'voice',
    name: '',
    mediaType: 'audio/webm',
    durationMs: 60_000,
    waveform: new Uint8Array(64),
  });
  const voicePlan = planChain(voice.manifest, encodeManifest(voice.manifest).length, prices);
  // Transient mass caps a block at 1,000,000 grams (FACTS §4.6): a 16 KiB-payload publication
  // is about 4 x 16,700 grams, so about 14 fit one block.
  const perBlock = Math.floor(1_000_000 / (4 * (16_384 + 300)));
  const blocks = Math.ceil(plan.transactions / perBlock);
  const kas = (s: bigint): string => `${(Number(s) / 1e8).toFixed(4)} KAS`;
  return [
    {
      name: 'chain: relay fees per KB of a 1 MiB file (12 KiB chunks, 16 KiB payloads)',
      value: `${(Number(feeOnly) / 1024).toFixed(0)} sompi/KB`,
      reference: `fee floor for the same bytes as bare payload ${floorPerKb} sompi/KB`,
      note: 'computed from the relay rules (kaspa/fee.ts), not timed',
    },
    {
      name: 'chain: a 1 MiB file, whole cost in the app’s terms',
      value: `${plan.transactions} transactions, ${kas(plan.sompi)}, about ${plan.secureMessages} secure messages`,
      reference: `one chat message ${kas(costPerMessage)}`,
      note: 'coin values included as costPerMessage counts them; coins come back with the receipts',
    },
    {
      name: 'chain: a 1 MiB file at 10 blocks/s, mass-bound floor',
      value: `${blocks} blocks = ${(blocks / 10).toFixed(1)} s`,
      reference: `${perBlock} publications of 16 KiB per block (transient mass 1,000,000)`,
      note: 'computed floor, not measured on the devnet',
    },
    {
      name: `chain: a 60 s voice note (Opus ${VOICE_BITS_PER_SECOND / 1000} kbit/s, WebM)`,
      value: `${(voiceBytes / 1000).toFixed(0)} KB, ${voicePlan.transactions} transactions, about ${voicePlan.secureMessages} secure messages`,
      reference: `spec: "about 50 KB, one payload"; ${kas(voicePlan.sompi)}`,
      note: 'size from the bitrate, not a recording',
    },
  ];
}

const bench: Bench = async () => {
  const bare = await bareWeriftMbps(TOTAL);
  const direct = await attachmentMbps(TOTAL, true);
  const ratchet = await attachmentMbps(TOTAL, false);
  const chromium = await chromiumMbps(TOTAL);
  const measured =
    process.env['ATTACHMENTS_BENCH_DIRECT_ONLY'] === '1' ? undefined : await chainDeliverySeconds();
  const pct = (x: number, of = bare): string => `${((100 * x) / of).toFixed(0)} %`;
  return {
    title:
      'Attachments (werift pair in one Node process, Chromium pair in one page; chain figures from the relay rules)',
    rows: [
      {
        name: 'direct, Chromium: 4 MiB file, direct chunk frames',
        value: `${chromium.direct.toFixed(1)} MB/s (${pct(chromium.direct, chromium.bare)})`,
        reference: `bare Chromium channel ${chromium.bare.toFixed(1)} MB/s, same bytes, same run`,
        note: 'target ≥ 80 %; includes AEAD, BLAKE3 and storage at the recipient',
      },
      {
        name: 'direct, werift: 4 MiB file, direct chunk frames (12 KiB chunks, window 32)',
        value: `${direct.toFixed(1)} MB/s (${pct(direct)})`,
        reference: `bare werift channel ${bare.toFixed(1)} MB/s, same bytes, same run`,
        note: 'target ≥ 80 %; includes AEAD, BLAKE3 and storage at the recipient',
      },
      {
        name: 'direct, werift: 4 MiB file, each chunk in a ratchet frame',
        value: `${ratchet.toFixed(1)} MB/s (${pct(ratchet)})`,
        reference: `bare werift channel ${bare.toFixed(1)} MB/s`,
        note: 'the cost that direct chunk frames remove',
      },
      ...chainRows(),
      ...(measured === undefined
        ? []
        : [
            {
              name: 'chain: a 1 MiB file sent now, measured on the local network at 10 blocks/s',
              value: `${measured.seconds.toFixed(1)} s to the recipient's verified copy (${measured.transactions} transactions)`,
              reference: 'the mass-bound floor above for the same file',
              note: 'local network in this process; publications one after another, as the engine sends them',
            },
          ]),
    ],
  };
};

export default bench;
