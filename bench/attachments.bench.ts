/**
 * Attachment figures (issue 14): direct throughput beside a bare data channel moving the same
 * bytes in the same run, in Node (werift) and in Chromium (bench/attachments-browser.ts), and
 * what the chain path costs beside the fee floor for the same bytes. Each direct figure runs
 * from the first chunk sent to the recipient's "complete" status, so it includes verification
 * (AEAD, BLAKE3) and storage on the receiving side. A link whose ICE set-up fails is set up
 * again (bench/setup.ts); a measurement is never repeated.
 * `ATTACHMENTS_BENCH_DIRECT_ONLY=1` leaves out the measured chain delivery (minutes on the
 * local network) when only the direct figures are wanted; `ATTACHMENTS_BENCH_NODE_ONLY=1` leaves
 * out Chromium as well (the werift rows and the computed chain rows only).
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
import { randomBytes } from '../src/util/bytes.ts';
import { connect, makeSides, until, werift, wire, type Linked } from '../test/core/attachments/direct.ts';
import { startBrowserHarness } from '../test/harness/browser.ts';
import { WEBRTC_TEST_ARGS } from '../test/transport/endpoints.ts';
import { percentile, type Bench, type BenchRow } from './table.ts';
import { retried } from './setup.ts';
import { rawWeriftMbps } from './transport.bench.ts';
import { startDevnet } from '../src/devnet/index.ts';
import { MemoryDatabase, openMemoryStore } from '../src/storage/memory.ts';
import { ChainUser, prefund } from '../test/core/delivery/kaspa.ts';
import { VOICE_BITS_PER_SECOND } from '../src/core/attachments/voice.ts';

const TOTAL = 4 * 1024 * 1024;

/**
 * Pairs of Chromium runs: the bare channel alone swung from 5.6 to 14.7 MB/s between runs
 * of one page, so one pair gave a ratio of the channel's mood; pairs run interleaved and the
 * medians are compared.
 */
const CHROMIUM_PAIRS = 5;

/** The Chromium figures: bare channels and attachments, the same bytes, in one page. */
async function chromiumMbps(total: number): Promise<{ bare: number[]; direct: number[] }> {
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
    const bare: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < CHROMIUM_PAIRS; i++) {
      bare.push(await api('bareMbps'));
      direct.push(await api('attachmentMbps'));
    }
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

function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

function range(xs: readonly number[]): string {
  return `${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}`;
}

const bench: Bench = async () => {
  const bare = await rawWeriftMbps(TOTAL);
  const direct = await attachmentMbps(TOTAL, true);
  const ratchet = await attachmentMbps(TOTAL, false);
  const nodeOnly = process.env['ATTACHMENTS_BENCH_NODE_ONLY'] === '1';
  const chromium = nodeOnly ? undefined : await chromiumMbps(TOTAL);
  const measured =
    nodeOnly || process.env['ATTACHMENTS_BENCH_DIRECT_ONLY'] === '1'
      ? undefined
      : await chainDeliverySeconds();
  const pct = (x: number, of = bare): string => `${((100 * x) / of).toFixed(0)} %`;
  return {
    title:
      'Attachments (werift pair in one Node process, Chromium pair in one page; chain figures from the relay rules)',
    rows: [
      ...(chromium === undefined
        ? []
        : [
            {
              name: `direct, Chromium: 4 MiB file, direct chunk frames (median of ${CHROMIUM_PAIRS})`,
              value: `${median(chromium.direct).toFixed(1)} MB/s (${pct(median(chromium.direct), median(chromium.bare))})`,
              reference: `bare Chromium channel ${median(chromium.bare).toFixed(1)} MB/s (median), same bytes, runs interleaved`,
              note: `target ≥ 80 %; includes AEAD, BLAKE3 and storage at the recipient; runs: direct ${range(chromium.direct)}, bare ${range(chromium.bare)} MB/s`,
            },
          ]),
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
