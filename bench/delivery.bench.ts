/**
 * Delivery engine figures, each beside the floor it cannot beat, measured in the same run on
 * the local Kaspa network (in-process devnet) and real WebRTC (werift on loopback).
 */
import { startDevnet } from '../src/devnet/index.ts';
import { SOMPI_PER_KAS, type TxId } from '../src/kaspa/types.ts';
import { KaspaRpcClient } from '../src/kaspa/rpc/client.ts';
import { createNodeTransport } from '../src/transport/index.ts';
import { buildPayment, randomNotificationValue } from '../src/core/delivery/chain-tx.ts';
import { buildFormat1Publication as buildPublication } from '../test/core/delivery/format1.ts';
import { EnvelopeSessions } from '../src/core/delivery/sessions.ts';
import type { ChatFrame } from '../src/core/delivery/frames.ts';
import { SessionManager } from '../src/core/session/session-manager.ts';
import { randomBytes } from '../src/util/bytes.ts';
import { encodeEnvelope, type MessageId } from '../src/core/envelope/envelope.ts';
import { DeliveryEngine } from '../src/core/delivery/engine.ts';
import { DeliveryStore } from '../src/core/delivery/store.ts';
import type { OutgoingMessage } from '../src/core/delivery/messages.ts';
import { bytesToHex } from '../src/util/bytes.ts';
import { FakeLedger, FakeSessions, MemoryDatabase, directory, openDb } from '../test/core/delivery/fakes.ts';

/** Poly1305 tag of every AEAD message (RFC 8439 §2.5). */
const AEAD_TAG_BYTES = 16;
import { ChainUser } from '../test/core/delivery/kaspa.ts';
import { connectPair, measureEchoRtt, startProbeResponder } from './transport.bench.ts';
import { fmtMs, percentile, type Bench, type BenchRow } from './table.ts';
import { seededRandom } from '../test/privacy/observer.ts';

const P2P_SAMPLES = 200;
const progress = (what: string): void => {
  if (process.env['BENCH_PROGRESS']) console.error(`[delivery bench] ${what}`);
};
const CHAIN_SAMPLES = 20;
const CATCH_UP = Number(process.env['BENCH_CATCH_UP'] ?? 1_000);
/** The waiting messages come from this many contacts, as after a day away. */
const CATCH_UP_SENDERS = Number(process.env['BENCH_CATCH_UP_SENDERS'] ?? 10);

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
async function backlogRows(): Promise<BenchRow[]> {
  const names = ['alice', ...Array.from({ length: 100 }, (_, i) => `c${i}`)];
  const measure = async (backlog: number): Promise<{ open: number; publish: number }> => {
    const ledger = new FakeLedger();
    ledger.fund('alice', 10n ** 15n);
    const data = new MemoryDatabase();
    const db = await openDb(data);
    const store = new DeliveryStore(db);
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

export async function costRows(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const n of [1, 10, 50]) {
    const alice = new ChainUser('alice', () => '');
    const bob = new ChainUser('bob', () => '');
    const sm = SessionManager.create(alice.identity);
    sm.issueOwnCard({ displayName: alice.name, addresses: alice.card.addresses });
    const sessions = new EnvelopeSessions({
      self: alice.identity.peerId,
      sessions: sm,
      save: async () => {},
    });
    sessions.add(bob.card);
    const frames: ChatFrame[] = Array.from({ length: n }, (_, i) => ({
      type: 'chat',
      id: randomBytes(16),
      sentAt: 1_760_000_000_000 + i,
      text: 'x'.repeat(100),
    }));
    const payload = await sessions.sealBatch([{ contact: bob.id, frames }]);
    // The ciphertext alone: each message's envelope under an AEAD tag, with no session
    // header, first-contact seal, padding or batch framing.
    const cipher = frames.reduce(
      (n, f) =>
        n +
        encodeEnvelope({ id: f.id as MessageId, timestamp: f.sentAt, body: { type: 'chat', text: f.text } })
          .length +
        AEAD_TAG_BYTES,
      0,
    );
    const funding = {
      utxo: {
        outpoint: { transactionId: randomBytes(32) as TxId, index: 0 },
        entry: {
          amount: 100n * SOMPI_PER_KAS,
          scriptPublicKey: {
            version: 0,
            script: Uint8Array.of(0x20, ...bob.wallet.publicKey(0, 0, 0), 0xac),
          },
          blockDaaScore: 0n,
          isCoinbase: false,
        },
      },
      privateKey: bob.wallet.privateKey(0, 0, 0),
    };
    // Format 1 for reference: the conversation coin bounced between fixed addresses.
    const v1 = buildPublication({
      payload,
      recipients: [{ address: alice.address }],
      funding: [funding],
      changeAddress: bob.address,
    });
    // Format 2: a fresh notification coin, a decoy coin and fresh change (chain-tx.ts buildPayment).
    const random = seededRandom(n);
    const built = buildPayment({
      payload,
      payments: [{ address: alice.address, value: randomNotificationValue(random, undefined, 2) }],
      decoys: [
        {
          address: bob.wallet.address('kaspasim', 0, 1, 1),
          value: randomNotificationValue(random, undefined, 2),
        },
      ],
      funding: [{ ...funding, origin: 'own' }],
      changeAddress: bob.wallet.address('kaspasim', 0, 1, 0),
      random,
    });
    const floor = 200n * BigInt(cipher);
    const ratio = Number(built.fee) / Number(v1.fee);
    rows.push({
      name: `cost per message, ${n === 1 ? 'alone' : `batched by ${n}`} (100-char text)`,
      value: `${(built.fee / BigInt(n)).toLocaleString('en-US')} sompi`,
      reference: `format 1 ${(v1.fee / BigInt(n)).toLocaleString('en-US')} sompi (${ratio.toFixed(2)}x, ceiling 1.25x); floor ${(floor / BigInt(n)).toLocaleString('en-US')} sompi (200 sompi/byte × ${Math.round(cipher / n)} ciphertext bytes)`,
      note: `payload ${payload.length} B padded; tx fee ${built.fee.toLocaleString('en-US')}; storage mass ${built.tx.storageMass.toLocaleString('en-US')} g; 3 outputs (notification, decoy, change)`,
    });
  }
  return rows;
}

const bench: Bench = async () => {
  const box: { url?: string } = {};
  const url = (): string => box.url!;
  const alice = new ChainUser('alice', url, { links: true, settings: { batchWindowMs: 20 } });
  const bob = new ChainUser('bob', url, { links: true, settings: { batchWindowMs: 20 } });
  const carol = new ChainUser('carol', url, { settings: { batchWindowMs: 20 } });
  const dave = new ChainUser('dave', url, { settings: { batchWindowMs: 20 } });
  alice.knows(bob);
  bob.knows(alice);
  // Catch-up senders stay well inside the per-contact flood budget (600 a minute).
  const senders = Array.from(
    { length: CATCH_UP_SENDERS },
    (_, i) => new ChainUser(`sender${i}`, url, { settings: { batchWindowMs: 20 } }),
  );
  carol.knows(dave);
  dave.knows(carol, ...senders);
  for (const s of senders) s.knows(dave);
  const devnet = await startDevnet({
    port: 0,
    controlPort: false,
    blocksPerSecond: 10,
    prefund: Object.fromEntries(
      [alice, bob, carol, dave, ...senders].map((u) => [u.address.toString(), 10_000n * SOMPI_PER_KAS]),
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
    for (let i = 0; i < CHAIN_SAMPLES; i++) {
      const before = (await dave.inbox(carol)).length;
      submitted.length = 0;
      const start = performance.now();
      await carol.engine.send(dave.id, `chain ${i}`);
      await waitFor(async () => (await dave.inbox(carol)).length > before);
      const end = performance.now();
      chain.push(end - start);
      // The publication is the last submission before the message showed (a pool refill
      // may go just before it).
      const at = submitted.filter((t) => t <= end).at(-1) ?? start;
      senderPart.push(at - start);
      restPart.push(end - at);
    }
    // Carol's card coin paid her pools by now: another funded client pays the second round.
    const bareAfter = await bareChainLatency(devnet.url, senders[0]!, dave, CHAIN_SAMPLES);
    const bareBoth = [...bare, ...bareAfter];
    const ratio = percentile(chain, 50) / percentile(bareBoth, 50);
    rows.push({
      name: 'chain delivery latency (send → recipient decrypted)',
      value: `${p50p99(chain)} (${ratio.toFixed(2)}x bare p50, target 1.3x)`,
      reference: `bare submit → UtxosChanged ${p50p99(bareBoth)} (same run, before and after)`,
      note: `10 blocks/s, batch window 20 ms, ${CHAIN_SAMPLES} samples; send → submitted ${p50p99(senderPart)}, submitted → shown ${p50p99(restPart)}`,
    });

    progress('Catch-up:');
    // Catch-up: dave offline while CATCH_UP messages from CATCH_UP_SENDERS contacts wait for him.
    await dave.stop();
    const probe = new KaspaRpcClient({ urls: devnet.url });
    await probe.connect();
    // Where dave's catch-up scans start: the chain pages after it are what it must read.
    const away = await probe.getSink();
    for (const s of senders) await s.start();
    const each = Math.ceil(CATCH_UP / senders.length);
    await Promise.all(
      senders.map(async (s) => {
        for (let i = 0; i < each; i++) await s.engine.send(dave.id, `waiting ${i}`);
      }),
    );
    progress('catch-up: sent, waiting for publication');
    for (const s of senders) {
      await waitFor(async () =>
        (await s.outbox(dave)).every((m) => m.direction === 'out' && m.status !== 'queued'),
      );
    }
    progress('catch-up: published');
    const shown = (): number =>
      dave.events.filter((e) => e.type === 'message' && e.message.direction === 'in').length;
    const have = shown();
    const c0 = performance.now();
    await dave.start();
    await waitFor(() => shown() >= have + each * senders.length, 600_000);
    const catchUp = performance.now() - c0;
    const proofs = await Promise.all(senders.map((s) => s.outbox(dave)));
    const txs = new Set(
      proofs.flat().flatMap((m) => (m.direction === 'out' && m.proof ? [m.proof.txId] : [])),
    ).size;
    const s0 = performance.now();
    await probe.getUtxosByAddresses([dave.address.toString()]);
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
    probe.close();
    rows.push({
      name: `catch-up: offline client shows ${(each * senders.length).toLocaleString('en-US')} waiting messages from ${senders.length} contacts`,
      value: fmtMs(catchUp),
      reference: `${txs} transactions × bare chain latency p50 = ${fmtMs(txs * percentile(bare, 50))} if fetched one by one; UTXO snapshot alone ${fmtMs(snapshot)}; ${pages} chain pages from its cursor ${fmtMs(chainPages)}`,
      note: 'includes engine start, payload fetches, decryption, storage, receipts',
    });
  } finally {
    for (const u of [alice, bob, carol, dave, ...senders]) await u.stop().catch(() => undefined);
    await devnet.stop();
  }
  rows.push(...(await backlogRows()));
  rows.push(...(await costRows()));
  return { title: 'Delivery engine (local Kaspa network, werift)', rows };
};

export default bench;
