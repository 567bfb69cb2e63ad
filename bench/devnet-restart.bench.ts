/**
 * Local network restart from a data directory as the chain grows (400, 1,300, 2,800 and 10,000
 * blocks, each with a signed spend carrying a 300-byte payload, like the soak's blocks): the
 * restart that reads every block from its decoded record (src/devnet/block-record.ts) beside
 * the one that decodes every JSON row and hashes every header and transaction again, which is
 * what a restart did before the records and what it still does for a block whose record is
 * missing or damaged. Both are measured in the same run on the same directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SOMPI_PER_KAS } from '../src/kaspa/types.ts';
import { startDevnet, type DevnetHandle } from '../src/devnet/index.ts';
import { DEVNET_SCHEMA } from '../src/devnet/store.ts';
import { openSqliteStore } from '../src/storage/node.ts';
import { ALICE, BOB, spend } from '../test/devnet/helpers.ts';
import { fmtMs, type Bench, type BenchRow } from './table.ts';

const KAS = SOMPI_PER_KAS;
const SIZES = [400, 1_300, 2_800, 10_000];
const options = { port: 0, controlPort: false, blocksPerSecond: 0 } as const;

/**
 * Wall time and this process's CPU time of a start: on a machine shared with other work the
 * wall time includes waiting for a core, the CPU time does not (SQLite runs on this thread).
 */
async function timedStart(dir: string): Promise<{ node: DevnetHandle; ms: number; cpuMs: number }> {
  const t = performance.now();
  const c = process.cpuUsage();
  const node = await startDevnet({ ...options, dataDir: dir });
  const used = process.cpuUsage(c);
  return { node, ms: performance.now() - t, cpuMs: (used.user + used.system) / 1000 };
}

const fmt = (r: { ms: number; cpuMs: number }): string => `${fmtMs(r.ms)} (CPU ${fmtMs(r.cpuMs)})`;

async function dropRecords(dir: string): Promise<void> {
  const db = await openSqliteStore(join(dir, 'devnet.sqlite'), DEVNET_SCHEMA);
  try {
    const rows = await db.scan('decoded');
    await db.batch(rows.map(([key]) => ({ type: 'delete' as const, store: 'decoded', key })));
  } finally {
    await db.close();
  }
}

const bench: Bench = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'devnet-restart-bench-'));
  const rows: BenchRow[] = [];
  const payload = new Uint8Array(300).fill(0x5a);
  try {
    let node = await startDevnet({ ...options, dataDir: dir, prefund: { [ALICE.address]: 100_000n * KAS } });
    for (const size of SIZES) {
      while (node.chain.blockCount < size) {
        const coin = node.chain.utxos
          .byScript(ALICE.script)
          .filter((u) => !u.entry.isCoinbase)
          .reduce((a, b) => (b.entry.amount > a.entry.amount ? b : a));
        node.chain.submitTransaction(spend(ALICE, [coin], { amount: KAS / 10n, to: BOB.script, payload }));
        node.mine();
      }
      await node.stop();
      const after = await timedStart(dir);
      const blocks = after.node.chain.blockCount;
      const coins = after.node.chain.utxos.size;
      await after.node.stop();
      await dropRecords(dir);
      const before = await timedStart(dir);
      await before.node.stop();
      rows.push({
        name: `restart from a data directory, ${blocks.toLocaleString('en-US')} blocks (${coins.toLocaleString('en-US')} coins), blocks read from their records`,
        value: fmt(after),
        reference: `${fmt(before)} decoding every row and hashing again (CPU ${(before.cpuMs / after.cpuMs).toFixed(1)}×)`,
        note: 'the second figure includes writing the records again',
      });
      node = (await timedStart(dir)).node;
    }
    await node.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { title: 'Local network restart (bench/devnet-restart.bench.ts)', rows };
};

export default bench;
