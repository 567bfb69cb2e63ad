/**
 * Delivery engine figures, each beside the floor it cannot beat, measured in the same run on
 * the local Kaspa network (in-process devnet; the catch-up's in a process of its own, as a
 * node is) and real WebRTC (werift on loopback).
 */
import { startDevnet } from '../src/devnet/index.ts';
import { startDevnetProcess } from './devnet-process.ts';
import { SOMPI_PER_KAS } from '../src/kaspa/types.ts';
import { KaspaRpcClient } from '../src/kaspa/rpc/client.ts';
import { createNodeTransport } from '../src/transport/index.ts';
import { minimumRelayFee } from '../src/kaspa/fee.ts';
import { computeMass, transientMass } from '../src/kaspa/mass.ts';
import { ISSUE_11_REFERENCE, UNPADDED, priced, sealAs } from '../test/core/delivery/costs.ts';
import type { ChatFrame } from '../src/core/delivery/frames.ts';
import { buildFormat1Publication as buildPublication } from '../test/core/delivery/format1.ts';
import { bytesToHex, randomBytes } from '../src/util/bytes.ts';
import { encodeEnvelope, type MessageId } from '../src/core/envelope/envelope.ts';
import { DeliveryEngine } from '../src/core/delivery/engine.ts';
import { DeliveryStore } from '../src/core/delivery/store.ts';
import type { OutgoingMessage } from '../src/core/delivery/messages.ts';
import { FakeLedger, FakeSessions, MemoryDatabase, directory, openDb } from '../test/core/delivery/fakes.ts';
import { ChainUser } from '../test/core/delivery/kaspa.ts';
import { connectPair, measureEchoRtt, startProbeResponder } from './transport.bench.ts';
import { fmtMs, percentile, type Bench, type BenchRow } from './table.ts';

/** Poly1305 tag of every AEAD message (RFC 8439 §2.5). */
const AEAD_TAG_BYTES = 16;

const P2P_SAMPLES = 200;
const progress = (what: string): void => {
  if (process.env['BENCH_PROGRESS']) console.error(`[delivery bench] ${what}`);
};
const CHAIN_SAMPLES = 20;

const p50p99 = (xs: number[]): string =>
  `p50 ${fmtMs(percentile(xs, 50))} / p99 ${fmtMs(percentile(xs, 99))}`;

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('benchmark wait timed out');
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Bare submitTransaction → UtxosChanged on the same network: one plain payment. */
async function bareChainLatency(
  url: string,
  payer: ChainUser,
  payee: ChainUser,
  n: number,
): Promise<number[]> {
  const client = new KaspaRpcClient({ urls: url });
  await client.connect();
  const seen = new Map<string, () => void>();
  const arrived = new Set<string>();
  const sub = await client.subscribeUtxosChanged([payee.address.toString()], (c) => {
    for (const u of c.added) {
      const key = Buffer.from(u.outpoint.transactionId).toString('hex');
      arrived.add(key);
      seen.get(key)?.();
    }
  });
  const out: number[] = [];
  const key = payer.wallet.privateKey(0, 0, 0);
  for (let i = 0; i < n; i++) {
    const utxos = (await client.getUtxosByAddresses([payer.address.toString()])).filter(
      (u) => u.entry.amount > SOMPI_PER_KAS,
    );
    const built = buildPublication({
      payload: new Uint8Array(0),
      recipients: [{ address: payee.address }],
      funding: utxos.slice(0, 1).map((utxo) => ({ utxo, privateKey: key })),
      changeAddress: payer.address,
    });
    const start = performance.now();
    const id = Buffer.from(await client.submitTransaction(built.tx)).toString('hex');
    // The notification may come before the submit call returns.
    if (!arrived.has(id)) await new Promise<void>((resolve) => seen.set(id, resolve));
    out.push(performance.now() - start);
    await new Promise((r) => setTimeout(r, 100)); // let the change settle before the next spend
  }
  await sub.unsubscribe();
  client.close();
  return out;
}

const BACKLOG = Number(process.env['BENCH_BACKLOG'] ?? 10_000);

/**
 * Engine start-up and publishing with BACKLOG unfinished messages (published, waiting for
 * receipts) beside the same with none, over the fake chain: what the backlog itself costs.
 */
export async function backlogRows(): Promise<BenchRow[]> {
  const names = ['alice', ...Array.from({ length: 100 }, (_, i) => `c${i}`)];
  const measure = async (backlog: number): Promise<{ open: number; publish: number }> => {
    const ledger = new FakeLedger();
    ledger.fund('alice', 10n ** 15n);
    const data = new MemoryDatabase();
    const db = await openDb(data);
    const store = new DeliveryStore(db);
    // As the engine's first start on an empty database does: it marks the open entries
    // complete, so later starts read them instead of scanning every record once to index them.
    await store.unfinishedOutgoing();
    const now = Date.now();
    const ops = [];
    for (let i = 0; i < backlog; i++) {
      const m: OutgoingMessage = {
        direction: 'out',
        id: bytesToHex(randomBytes(16)),
        contact: names[1 + (i % 100)]!,
        seq: Math.floor(i / 100) + 1,
        sentAt: now - backlog + i,
        text: `waiting ${i}`,
        status: 'published',
        route: 'chain',
        proof: { txId: bytesToHex(randomBytes(32)), publishedAt: now },
        publications: 1,
        attempts: 0,
        dueAt: now + 20 * 3600_000,
      };
      ops.push(...store.putOps(m));
    }
    await db.batch(ops);
    const o0 = performance.now();
    const engine = await DeliveryEngine.open({
      db: await openDb(data),
      sessions: new FakeSessions('alice'),
      contacts: directory('alice', names),
      chain: ledger.chain('alice'),
      settings: { batchWindowMs: 0 },
    });
    const open = performance.now() - o0;
    // 100 new messages, one per contact, until each is published.
    const p0 = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) ids.push((await engine.send(names[1 + i]!, `new ${i}`)).id);
    await waitFor(async () => {
      for (const id of ids) if ((await engine.message(id))?.status !== 'published') return false;
      return true;
    });
    const publish = performance.now() - p0;
    await engine.close();
    return { open, publish };
  };
  await measure(100); // warm-up
  const empty = await measure(0);
  const full = await measure(BACKLOG);
  return [
    {
      name: `engine start-up with ${BACKLOG.toLocaleString('en-US')} unfinished messages`,
      value: fmtMs(full.open),
      reference: `with none ${fmtMs(empty.open)}`,
      note: 'fake chain: loading the queue, no node',
    },
    {
      name: `100 new messages to 100 contacts published, ${BACKLOG.toLocaleString('en-US')} in flight`,
      value: fmtMs(full.publish),
      reference: `with none in flight ${fmtMs(empty.publish)}`,
      note: 'fake chain; send → status published',
    },
  ];
}

/** Catch-up sizes measured: waiting messages and the contacts they come from (issues 11 and 17). */
const CATCH_UP_SIZES: readonly (readonly [number, number])[] = process.env['BENCH_CATCH_UP']
  ? [[Number(process.env['BENCH_CATCH_UP']), Number(process.env['BENCH_CATCH_UP_SENDERS'] ?? 10)]]
  : [
      [1_000, 10],
      [10_000, 100],
    ];
/**
 * Messages per publication in the catch-up set-up. The engine packs up to half its payload
 * budget per contact (8 KB, about 150 short texts); 25 makes four transactions per contact at
 * 100 messages each, all inside the recipient's window of next addresses and a second round past it at 1,000.
 */
const CATCH_UP_PER_TX = Number(process.env['BENCH_CATCH_UP_PER_TX'] ?? 25);

/**
 * Catch-up: a client that was online (its cursor saved) goes away while `total` messages from
 * `from` contacts are published for it, then starts again; timed from the start to the last
 * message shown. The senders publish through their own sessions and chain adapters, many
 * messages per publication and without waiting for one another, and are stopped before the
 * recipient starts, so the figure is the recipient's work alone. Beside it, on the same node:
 * one `getUtxosByAddresses` of every address the recipient watches, and the virtual-chain pages
 * from its cursor to the tip, which it cannot do without.
 */
export async function catchUpRows(
  total: number,
  from: number,
  run: (label: string, fn: () => Promise<void>) => Promise<void> = (_l, fn) => fn(),
): Promise<BenchRow[]> {
  const box: { url?: string } = {};
  const url = (): string => box.url!;
  const dave = new ChainUser('dave', url, { settings: { batchWindowMs: 20 } });
  const senders = Array.from({ length: from }, (_, i) => new ChainUser(`sender${i}`, url));
  dave.knows(...senders);
  for (const s of senders) s.knows(dave);
  // A process of its own, as a node is: the catch-up timed is the client's alone.
  const devnet = await startDevnetProcess({
    blocksPerSecond: 10,
    prefund: Object.fromEntries(
      [dave, ...senders].map((u) => [u.address.toString(), 10_000n * SOMPI_PER_KAS]),
    ),
  });
  box.url = devnet.url;
  const probe = new KaspaRpcClient({ urls: devnet.url });
  try {
    await probe.connect();
    // Online once, so the catch-up starts from a saved cursor as after any time away.
    await dave.start();
    await dave.stop();
    const away = await probe.getSink();
    progress(`catch-up ${total}/${from}: publishing`);
    const p0 = performance.now();
    const each = Math.ceil(total / from);
    let txs = 0;
    // Ten at a time: a hundred clients connecting at once on two cores would time out their
    // connections. Started while the chain is short: a fresh client scans it from the pruning
    // point for the coins it holds.
    const pool = async (fn: (s: ChainUser) => Promise<void>): Promise<void> => {
      const queue = [...senders];
      const one = async (): Promise<void> => {
        for (let s = queue.shift(); s !== undefined; s = queue.shift()) await fn(s);
      };
      await Promise.all(Array.from({ length: 10 }, one));
    };
    await pool(async (s) => {
      await s.start();
      await waitFor(async () => (await s.chain.funds()).spendable > 0n);
    });
    progress(`catch-up ${total}/${from}: senders up in ${fmtMs(performance.now() - p0)}`);
    await pool(async (s) => {
      for (let sent = 0; sent < each; sent += CATCH_UP_PER_TX) {
        const frames: ChatFrame[] = [];
        for (let i = sent; i < Math.min(each, sent + CATCH_UP_PER_TX); i++)
          frames.push({ type: 'chat', id: randomBytes(16), sentAt: Date.now() + i, text: `waiting ${i}` });
        const payload = await s.port.sealBatch([{ contact: dave.id, frames }]);
        await s.chain.publish(payload, [dave.id]);
        txs++;
      }
    });
    for (const s of senders) await s.stop();
    await waitFor(async () => (await probe.getMempoolEntries()).length === 0, 600_000);
    progress(`catch-up ${total}/${from}: ${txs} publications in ${fmtMs(performance.now() - p0)}`);
    // Counted as events come, not by a walk over every event per poll: the walk ran on the same
    // two cores as the catch-up it timed.
    let counted = 0;
    let seenEvents = 0;
    const shown = (): number => {
      for (; seenEvents < dave.events.length; seenEvents++) {
        const e = dave.events[seenEvents]!;
        if (e.type === 'message' && e.message.direction === 'in') counted++;
      }
      return counted;
    };
    const have = shown();
    let catchUp = 0;
    await run(`catch-up ${total}/${from}`, async () => {
      const c0 = performance.now();
      await dave.start();
      await waitFor(() => shown() >= have + each * from, 600_000);
      catchUp = performance.now() - c0;
    });
    const watched = dave.chain.watchedAddresses();
    const s0 = performance.now();
    const utxos = await probe.getUtxosByAddresses(watched);
    const snapshot = performance.now() - s0;
    const v0 = performance.now();
    let pages = 0;
    for (let cursor = away; ; pages++) {
      const vc = await probe.getVirtualChainFromBlockV2(cursor, { dataVerbosityLevel: 'Full' });
      const last = vc.addedChainBlockHashes.at(-1);
      // A page short of the per-call limit (FACTS §6.5) reached the tip.
      if (last === undefined || vc.addedChainBlockHashes.length < 2_480) {
        pages++;
        break;
      }
      cursor = last;
    }
    const chainPages = performance.now() - v0;
    await dave.stop();
    return [
      {
        name: `catch-up: offline client shows ${(each * from).toLocaleString('en-US')} waiting messages from ${from} contacts`,
        value: fmtMs(catchUp),
        reference: `UTXO snapshot of its ${watched.length} watched addresses alone ${fmtMs(snapshot)} (${utxos.length} coins); ${pages} chain page${pages === 1 ? '' : 's'} from its cursor ${fmtMs(chainPages)}`,
        note: `${txs} transactions, ${CATCH_UP_PER_TX} messages each; engine start to last message shown (payload fetches, decryption, storage); target ${total > 1_000 ? '5 s' : '2 s'}`,
      },
    ];
  } finally {
    probe.close();
    for (const u of [dave, ...senders]) await u.stop().catch(() => undefined);
    await devnet.stop();
  }
}

/**
 * Fees per 100-character text, as the builder pays them (the relay floor, FACTS §4.5), for a
 * message of an established session (the everyday case, and the one issue 11's reference
 * figures were measured on) and, in separate rows, for the two messages of a conversation
 * that carry more than text (test/core/delivery/costs.ts `MessageKind`).
 */
export async function costRows(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const kind of ['steady', 'first', 'announce'] as const) {
    for (const n of kind === 'announce' ? [1] : [1, 10, 50]) {
      const { alice, bob, frames, payload } = await sealAs(kind, n);
      const unpadded = (await sealAs(kind, n, UNPADDED)).payload.length;
      const reference = ISSUE_11_REFERENCE[n]!;
      // The ciphertext alone: each message's envelope under an AEAD tag, with no session
      // header, first-contact seal, padding or batch framing.
      const cipher = frames.reduce(
        (sum, f) =>
          sum +
          encodeEnvelope({ id: f.id as MessageId, timestamp: f.sentAt, body: { type: 'chat', text: f.text } })
            .length +
          AEAD_TAG_BYTES,
        0,
      );
      const { built, withoutDecoy } = priced(alice, bob, payload, n);
      // The fee paid is the relay floor of the signed transaction, nothing above it.
      if (built.fee !== minimumRelayFee(built.tx)) throw new Error('fee above the relay floor');
      const mass = computeMass(built.tx);
      const transientHalf = transientMass(built.tx) / 2n;
      const ratio = Number(built.fee / BigInt(n)) / Number(reference);
      const per = (fee: bigint): string => `${(fee / BigInt(n)).toLocaleString('en-US')} sompi`;
      const what = n === 1 ? 'alone' : `batched by ${n}`;
      rows.push({
        name: {
          steady: `cost per message, ${what} (100-char text, established session)`,
          first: `cost per message, ${what}, first message of a session (100-char text, PQXDH handshake)`,
          announce: `cost per message, ${what}, handing over the card and one-time keys (once per card rotation)`,
        }[kind],
        value: `${per(built.fee)} (${ratio.toFixed(2)}x)`,
        reference:
          kind === 'steady'
            ? `issue 11: ${reference.toLocaleString('en-US')} sompi, ceiling 1.25x; floor ${per(200n * BigInt(cipher))} (200 sompi/byte × ${Math.round(cipher / n)} ciphertext bytes)`
            : `not held to issue 11's ${reference.toLocaleString('en-US')} sompi (measured before the ${kind === 'first' ? 'handshake frame' : 'ML-KEM card'} existed); established: the rows above`,
        note: `payload ${payload.length} B padded from ${unpadded} B; fee ${built.fee.toLocaleString('en-US')} = relay floor, 100 × max(compute ${mass.toLocaleString('en-US')} g, transient/2 ${transientHalf.toLocaleString('en-US')} g); storage mass ${built.tx.storageMass.toLocaleString('en-US')} g (not priced at the floor); 3 outputs, without the decoy ${withoutDecoy.fee.toLocaleString('en-US')}`,
      });
    }
  }
  return rows;
}

/**
 * Chain delivery latency, send → recipient decrypted, beside a bare payment's submit →
 * UtxosChanged on the same network before and after it, with the time split at the
 * submission (docs/delivery.md "Latency budget"). Its own network, so nothing else runs on it.
 */
export async function chainLatencyRows(): Promise<BenchRow[]> {
  const box: { url?: string } = {};
  const url = (): string => box.url!;
  // No batch window on the chain-latency pair: the window is a deliberate wait for more
  // messages to share a transaction (1.5 s by default, DEFAULT_DELIVERY_SETTINGS), stated
  // beside the row rather than measured into it.
  const carol = new ChainUser('carol', url, { settings: { batchWindowMs: 0 } });
  const dave = new ChainUser('dave', url, { settings: { batchWindowMs: 0 } });
  // A second funded payer for the bare latency after the chain samples.
  const erin = new ChainUser('erin', url);
  carol.knows(dave);
  dave.knows(carol);
  const devnet = await startDevnet({
    port: 0,
    controlPort: false,
    blocksPerSecond: 10,
    prefund: Object.fromEntries(
      [carol, dave, erin].map((u) => [u.address.toString(), 10_000n * SOMPI_PER_KAS]),
    ),
  });
  box.url = devnet.url;
  const rows: BenchRow[] = [];
  try {
    // Floor of every chain figure: a bare payment, submit → UtxosChanged, same network.
    const bare = await bareChainLatency(devnet.url, carol, dave, CHAIN_SAMPLES);
    progress('Chain latency:');
    // Chain latency: send → recipient decrypted (no link between carol and dave).
    await carol.start();
    await dave.start();
    // Where the time goes: the sender's part ends when its publication reaches the node.
    const submitted: number[] = [];
    const submit = carol.client.submitTransaction.bind(carol.client);
    carol.client.submitTransaction = (...args) => {
      submitted.push(performance.now());
      return submit(...args);
    };
    const chain: number[] = [];
    const senderPart: number[] = [];
    const restPart: number[] = [];
    // Waits read the listeners' event lists: polling the engine's store every millisecond
    // would take the processor from the very work being timed (all three run in one process).
    const shownFrom = (): number =>
      dave.events.filter((e) => e.type === 'message' && e.message.direction === 'in').length;
    for (let i = 0; i < CHAIN_SAMPLES; i++) {
      const before = shownFrom();
      submitted.length = 0;
      const start = performance.now();
      const sent = await carol.engine.send(dave.id, `chain ${i}`);
      await waitFor(() => shownFrom() > before);
      const end = performance.now();
      chain.push(end - start);
      // The publication is the last submission before the message showed (a pool refill
      // may go just before it).
      const at = submitted.filter((t) => t <= end).at(-1) ?? start;
      senderPart.push(at - start);
      restPart.push(end - at);
      // The receipt is taken in before the next sample, so its work does not overlap it.
      await waitFor(() => carol.deliveredAt.has(sent.id));
      await new Promise((r) => setTimeout(r, 100));
    }
    // Carol's card coin paid her pools by now: another funded client pays the second round.
    const bareAfter = await bareChainLatency(devnet.url, erin, dave, CHAIN_SAMPLES);
    const bareBoth = [...bare, ...bareAfter];
    const ratio = percentile(chain, 50) / percentile(bareBoth, 50);
    rows.push({
      name: 'chain delivery latency (send → recipient decrypted)',
      value: `${p50p99(chain)} (${ratio.toFixed(2)}x bare p50, target 1.3x)`,
      reference: `bare submit → UtxosChanged ${p50p99(bareBoth)} (same run, before and after)`,
      note: `10 blocks/s, batch window 0 (the default 1.5 s is a deliberate wait for batching, added to every chain send), receipts sent at once (the receipt delay [5 s, 60 s] delays only the delivered tick), ${CHAIN_SAMPLES} samples; send → submitted ${p50p99(senderPart)}, submitted → shown ${p50p99(restPart)}`,
    });
  } finally {
    for (const u of [carol, dave]) await u.stop().catch(() => undefined);
    await devnet.stop();
  }
  return rows;
}

const bench: Bench = async () => {
  const box: { url?: string } = {};
  const url = (): string => box.url!;
  const alice = new ChainUser('alice', url, { links: true, settings: { batchWindowMs: 20 } });
  const bob = new ChainUser('bob', url, { links: true, settings: { batchWindowMs: 20 } });
  alice.knows(bob);
  bob.knows(alice);
  const carol = new ChainUser('carol', url);
  const dave = new ChainUser('dave', url);
  const devnet = await startDevnet({
    port: 0,
    controlPort: false,
    blocksPerSecond: 10,
    prefund: Object.fromEntries(
      [alice, bob, carol, dave].map((u) => [u.address.toString(), 10_000n * SOMPI_PER_KAS]),
    ),
  });
  box.url = devnet.url;
  const rows: BenchRow[] = [];
  try {
    // Floor of every chain figure: a bare payment, submit → UtxosChanged, same network.
    const bare = await bareChainLatency(devnet.url, carol, dave, CHAIN_SAMPLES);

    progress('Time to establish');
    // Time to establish WebRTC through Kaspa signaling (offer and answer ride the chain path).
    await alice.start();
    await bob.start();
    const t0 = performance.now();
    await alice.engine.connect(bob.id);
    await waitFor(() => alice.engine.connection(bob.id) === 'connected');
    const establish = performance.now() - t0;
    rows.push({
      name: 'WebRTC established through Kaspa signaling',
      value: fmtMs(establish),
      reference: `2 × bare chain latency p50 = ${fmtMs(2 * percentile(bare, 50))}`,
      note: 'offer by chain, answer by chain, ICE on loopback',
    });

    progress('P2P latency:');
    // P2P latency: send → recipient decrypted and acknowledged (status delivered).
    const p2p: number[] = [];
    for (let i = 0; i < P2P_SAMPLES; i++) {
      const start = performance.now();
      const m = await alice.engine.send(bob.id, `p2p ${i}`);
      await waitFor(async () => (await alice.engine.message(m.id))?.status === 'delivered');
      p2p.push(performance.now() - start);
    }
    const pair = await connectPair(createNodeTransport({ additionalHostAddresses: ['127.0.0.1'] }));
    const stop = startProbeResponder(pair.b);
    const echo = await measureEchoRtt(pair.a, P2P_SAMPLES, 64);
    stop();
    pair.a.close();
    pair.b.close();
    rows.push({
      name: 'P2P latency (send → recipient decrypted and acknowledged)',
      value: p50p99(p2p),
      reference: `bare data-channel echo ${p50p99(echo)}`,
      note: `${P2P_SAMPLES} sequential messages, werift loopback`,
    });
  } finally {
    for (const u of [alice, bob]) await u.stop().catch(() => undefined);
    await devnet.stop();
  }
  rows.push(...(await chainLatencyRows()));
  for (const [total, from] of CATCH_UP_SIZES) rows.push(...(await catchUpRows(total, from)));
  rows.push(...(await backlogRows()));
  rows.push(...(await costRows()));
  return { title: 'Delivery engine (local Kaspa network, werift)', rows };
};

export default bench;
