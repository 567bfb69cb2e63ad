/**
 * Local network figures: submitTransaction → UtxosChanged latency at 10 blocks per second beside
 * the block interval measured in the same run (the floor is about half an interval: a transaction
 * waits for the next block); sustained accepted transactions per second beside the block mass
 * capacity; memory per UTXO with 100,000 UTXOs beside the raw size of one; start-up time empty
 * and from a data directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { schnorr } from '@noble/curves/secp256k1.js';
import { Address, AddressVersion } from '../src/kaspa/address.ts';
import { computeMass } from '../src/kaspa/mass.ts';
import { transactionId } from '../src/kaspa/txid.ts';
import { KaspaRpcClient } from '../src/kaspa/rpc/client.ts';
import { payToPubKey } from '../src/kaspa/script.ts';
import { SOMPI_PER_KAS, type Transaction, type Utxo } from '../src/kaspa/types.ts';
import { bytesToHex, randomBytes } from '../src/util/bytes.ts';
import { BLOCK_MASS_LIMITS } from '../src/devnet/params.ts';
import { startDevnet } from '../src/devnet/index.ts';
import { spend, type TestKey } from '../test/devnet/helpers.ts';
import { hostileLoad } from '../test/devnet/hostile.ts';
import { stringifyJson } from '../src/kaspa/rpc/json.ts';
import { createMethods } from '../src/devnet/rpc/methods.ts';
import { fmtMs, fmtRate, opsPerSecond, percentile, type Bench, type BenchTable } from './table.ts';

const KAS = SOMPI_PER_KAS;

function freshKey(): TestKey {
  const secret = randomBytes(32);
  const xonly = schnorr.getPublicKey(secret);
  return {
    secret,
    script: payToPubKey(xonly),
    address: new Address('kaspasim', AddressVersion.PubKey, xonly).toString(),
  };
}

async function client(url: string): Promise<KaspaRpcClient> {
  const c = new KaspaRpcClient({ urls: url, reconnect: false, heartbeatMs: 0 });
  await c.connect();
  return c;
}

async function latency(): Promise<BenchTable['rows']> {
  const sender = freshKey();
  const recipient = freshKey();
  const devnet = await startDevnet({
    port: 0,
    controlPort: false,
    prefund: { [sender.address]: 10_000n * KAS },
  });
  const c = await client(devnet.url);
  try {
    const samples: number[] = [];
    const pending = new Map<string, number>();
    await c.subscribeUtxosChanged([recipient.address], (n) => {
      for (const u of n.added) {
        const t0 = pending.get(bytesToHex(u.outpoint.transactionId));
        if (t0 !== undefined) samples.push(performance.now() - t0);
      }
    });
    const blockTimes: number[] = [];
    await c.subscribeVirtualDaaScoreChanged(() => blockTimes.push(performance.now()));
    let [coin] = await c.getUtxosByAddresses([sender.address]);
    for (let i = 0; i < 60; i++) {
      const tx = spend(sender, [coin!], { amount: KAS, to: recipient.script });
      // Registered before submitting: the notification may overtake the reply to submitTransaction.
      pending.set(bytesToHex(transactionId(tx)), performance.now());
      await c.submitTransaction(tx);
      while (samples.length <= i) await sleep(2);
      coin = (await c.getUtxosByAddresses([sender.address]))[0];
      // Start the next sample at a random phase of the block interval.
      await sleep(Math.random() * 100);
    }
    const intervals = blockTimes.slice(1).map((t, i) => t - blockTimes[i]!);
    const interval = intervals.reduce((a, b) => a + b, 0) / intervals.length;
    return [
      {
        name: 'submitTransaction → UtxosChanged at 10 BPS (60 tx)',
        value: `p50 ${fmtMs(percentile(samples, 50))} / p99 ${fmtMs(percentile(samples, 99))}`,
        reference: `block interval ${fmtMs(interval)} (floor ≈ ${fmtMs(interval / 2)} mean wait)`,
        note: 'one client, loopback; includes the wait for the next block',
      },
    ];
  } finally {
    c.close();
    await devnet.stop();
  }
}

async function throughput(): Promise<BenchTable['rows']> {
  const key = freshKey();
  const sink = freshKey();
  const devnet = await startDevnet({ port: 0, controlPort: false, blocksPerSecond: 10 });
  devnet.faults.pauseMining();
  const coins: Utxo[] = [];
  for (let i = 0; i < 3000; i++) coins.push(devnet.chain.allocate(key.script, 10n * KAS));
  // Signed up front: the figure is the node's admission and mining rate, not the client's signing.
  const txs: Transaction[] = coins.map((u) => spend(key, [u], { amount: 0n, to: sink.script, sweep: true }));
  const c = await client(devnet.url);
  try {
    devnet.faults.resumeMining();
    const t0 = performance.now();
    const window = 64;
    for (let i = 0; i < txs.length; i += window) {
      await Promise.all(txs.slice(i, i + window).map((tx) => c.submitTransaction(tx)));
    }
    const submitted = performance.now() - t0;
    while (devnet.chain.mempool.size > 0) await sleep(20);
    const elapsed = performance.now() - t0;
    const accepted = txs.filter((tx) => devnet.chain.isAccepted(bytesToHex(transactionId(tx)))).length;
    const perBlock = Number(BLOCK_MASS_LIMITS.compute / computeMass(txs[0]!));
    return [
      {
        name: 'sustained accepted tx/s (1-in/1-out P2PK, 3,000 tx, 10 BPS)',
        value: fmtRate((accepted * 1000) / elapsed, 'tx/s'),
        reference: `block mass capacity ${fmtRate(perBlock * 10, 'tx/s')} (${perBlock} tx × 10 BPS)`,
        note: `admission alone ${fmtRate((accepted * 1000) / submitted, 'tx/s')} over wRPC`,
      },
    ];
  } finally {
    c.close();
    await devnet.stop();
  }
}

async function utxoMemory(): Promise<BenchTable['rows']> {
  const devnet = await startDevnet({ port: 0, controlPort: false, blocksPerSecond: 0 });
  try {
    const keys = Array.from({ length: 1000 }, () => payToPubKey(randomBytes(32)));
    globalThis.gc?.();
    const before = process.memoryUsage();
    for (let i = 0; i < 100_000; i++) devnet.chain.allocate(keys[i % keys.length]!, BigInt(i + 1) * 1000n);
    globalThis.gc?.();
    const after = process.memoryUsage();
    const heap = (after.heapUsed - before.heapUsed) / 100_000;
    const rss = (after.rss - before.rss) / 100_000;
    // Outpoint (32 + 4) + amount 8 + SPK (2 + 34) + DAA score 8 + coinbase flag 1.
    const raw = 32 + 4 + 8 + 2 + 34 + 8 + 1;
    return [
      {
        name: 'memory per UTXO with 100,000 UTXOs (1,000 addresses)',
        value: `heap ${Math.round(heap)} B, RSS ${Math.round(rss)} B`,
        reference: `raw entry ${raw} B`,
        note: `heap +${((after.heapUsed - before.heapUsed) / 2 ** 20).toFixed(1)} MiB, RSS +${((after.rss - before.rss) / 2 ** 20).toFixed(1)} MiB${globalThis.gc === undefined ? ' (no --expose-gc: upper bound)' : ''}`,
      },
    ];
  } finally {
    await devnet.stop();
  }
}

async function startup(): Promise<BenchTable['rows']> {
  const t0 = performance.now();
  const empty = await startDevnet({ port: 0, controlPort: false, blocksPerSecond: 0 });
  const emptyMs = performance.now() - t0;
  await empty.stop();

  const dir = mkdtempSync(join(tmpdir(), 'devnet-bench-'));
  try {
    const seeded = await startDevnet({ port: 0, controlPort: false, blocksPerSecond: 0, dataDir: dir });
    const key = freshKey();
    for (let i = 0; i < 10_000; i++) seeded.chain.allocate(key.script, KAS);
    seeded.mine(2_000);
    await seeded.stop();
    const t1 = performance.now();
    const restarted = await startDevnet({ port: 0, controlPort: false, blocksPerSecond: 0, dataDir: dir });
    const restartMs = performance.now() - t1;
    const blocks = restarted.chain.blockCount;
    await restarted.stop();
    return [
      {
        name: 'start-up, empty (in memory)',
        value: fmtMs(emptyMs),
        reference: 'the reference for the row below',
      },
      {
        name: `start-up from a data directory (${blocks.toLocaleString('en-US')} blocks, 10,000 UTXOs)`,
        value: fmtMs(restartMs),
        reference: `${(restartMs / emptyMs).toFixed(0)}× the empty start`,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What writing frames the way kaspad does costs: a full getBlock reply (a block of 200 P2PK
 * spends, with verbose data) serialised with sorted keys and f64 fields beside the same reply in
 * insertion order.
 */
async function frameWriting(): Promise<BenchTable['rows']> {
  const sender = freshKey();
  const devnet = await startDevnet({
    port: 0,
    controlPort: false,
    blocksPerSecond: 0,
    prefund: { [sender.address]: 10_000n * KAS },
  });
  try {
    const coins = devnet.chain.utxos.byScript(sender.script);
    let coin = coins[0]!;
    for (let i = 0; i < 200; i++) {
      const entry = devnet.chain.submitTransaction(spend(sender, [coin], { amount: KAS, to: sender.script }));
      coin = {
        outpoint: { transactionId: entry.id, index: 1 },
        entry: { ...coin.entry, amount: entry.tx.outputs[1]!.value },
      };
    }
    const [hash] = devnet.mine(1);
    const params = createMethods({ chain: devnet.chain, p2pId: '', connectionCount: () => 0 }).get(
      'getBlock',
    )!({
      hash,
      includeTransactions: true,
    });
    const reply = { id: 1, method: 'getBlock', params };
    const bytes = stringifyJson(reply, { sortKeys: true }).length;
    const sorted = await opsPerSecond(() => stringifyJson(reply, { sortKeys: true }));
    const plain = await opsPerSecond(() => stringifyJson(reply));
    return [
      {
        name: `getBlock reply with 201 transactions (${(bytes / 1024).toFixed(0)} KiB), sorted keys as kaspad`,
        value: fmtRate(sorted),
        reference: `${fmtRate(plain)} in insertion order (${((plain / sorted - 1) * 100).toFixed(0)}% faster)`,
      },
    ];
  } finally {
    await devnet.stop();
  }
}

/**
 * A well-behaved client's request latency (getUtxosByAddresses of 60 coins, then getBlockDagInfo)
 * while four sockets send 20,000 hostile frames (test/devnet/hostile.ts), beside the same
 * requests on the same node without load.
 */
async function underHostileLoad(): Promise<BenchTable['rows']> {
  const owner = freshKey();
  const devnet = await startDevnet({ port: 0, controlPort: false, blocksPerSecond: 0, coinbaseMaturity: 0n });
  const c = await client(devnet.url);
  try {
    for (let i = 0; i < 60; i++) {
      devnet.fund(owner.address, KAS + BigInt(i));
      devnet.mine();
    }
    const measure = async (until: () => boolean, min: number): Promise<number[]> => {
      const samples: number[] = [];
      while (samples.length < min || !until()) {
        const t0 = performance.now();
        await c.getUtxosByAddresses([owner.address]);
        await c.getBlockDagInfo();
        samples.push(performance.now() - t0);
      }
      return samples;
    };
    const quiet = await measure(() => true, 500);
    let done = false;
    const load = hostileLoad({
      url: devnet.url,
      frames: 20_000,
      sockets: 4,
      address: owner.address,
      addressCoins: 60,
      genesisHash: devnet.chain.genesis.hashHex,
    }).finally(() => (done = true));
    const loaded = await measure(() => done, 1);
    const r = await load;
    const fmt = (xs: number[]): string =>
      `p50 ${fmtMs(percentile(xs, 50))} / p99 ${fmtMs(percentile(xs, 99))}`;
    return [
      {
        name: `well-behaved client under ${r.sent.toLocaleString('en-US')} hostile frames from 4 sockets (${loaded.length} requests)`,
        value: fmt(loaded),
        reference: `${fmt(quiet)} without load (${quiet.length} requests)`,
        note: `${r.connections} hostile connections, each dropped after its burst`,
      },
    ];
  } finally {
    c.close();
    await devnet.stop();
  }
}

const bench: Bench = async () => {
  const rows = [
    ...(await underHostileLoad()),
    ...(await frameWriting()),
    ...(await latency()),
    ...(await throughput()),
    ...(await utxoMemory()),
    ...(await startup()),
  ];
  return { title: 'Local Kaspa network (devnet, simnet rules)', rows };
};

export default bench;
