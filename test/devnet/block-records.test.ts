/**
 * The decoded-block records of the data directory (src/devnet/block-record.ts): a restart reads
 * every block from its record, with nothing re-hashed, and gets exactly what decoding the rows
 * gives; a record that is damaged, of another version or derived from another row is ignored,
 * that block is decoded from its row and the record written again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SOMPI_PER_KAS } from '../../src/kaspa/types.ts';
import { utf8ToBytes } from '../../src/util/bytes.ts';
import { startDevnet } from '../../src/devnet/index.ts';
import { DEVNET_SCHEMA, DevnetStore, type LoadReport } from '../../src/devnet/store.ts';
import { BLOCK_RECORD_VERSION, COIN_ROW_VERSION, checksum } from '../../src/devnet/block-record.ts';
import { DevnetError } from '../../src/devnet/errors.ts';
import type { RestoredState } from '../../src/devnet/chain.ts';
import { openSqliteStore } from '../../src/storage/node.ts';
import { META_STORE, META_VERSION_KEY } from '../../src/storage/schema.ts';
import { coinToRpc } from '../../src/devnet/codec.ts';
import { stringifyJson } from '../../src/kaspa/rpc/json.ts';
import { decodeCoinRow } from '../../src/devnet/block-record.ts';
import { ALICE, BOB, spend } from './helpers.ts';

const KAS = SOMPI_PER_KAS;
const options = { port: 0, controlPort: false, blocksPerSecond: 0 } as const;

async function load(dir: string): Promise<{ state: RestoredState; report: LoadReport }> {
  const store = await DevnetStore.open(dir);
  try {
    const state = await store.load(1_080_000);
    assert.ok(state !== undefined);
    return { state, report: store.lastLoad! };
  } finally {
    await store.close();
  }
}

/** Rewrites the `decoded` rows of a stopped node's directory. */
async function editRecords(
  dir: string,
  edit: (records: readonly (readonly [Uint8Array, Uint8Array])[]) => [Uint8Array, Uint8Array | undefined][],
): Promise<void> {
  const db = await openSqliteStore(join(dir, 'devnet.sqlite'), DEVNET_SCHEMA);
  try {
    const changes = edit(await db.scan('decoded'));
    await db.batch(
      changes.map(([key, value]) =>
        value === undefined
          ? { type: 'delete' as const, store: 'decoded', key }
          : { type: 'put' as const, store: 'decoded', key, value },
      ),
    );
  } finally {
    await db.close();
  }
}

/** The largest record: a block with transactions, a UTXO diff and acceptance data. */
function largest(records: readonly (readonly [Uint8Array, Uint8Array])[]): readonly [Uint8Array, Uint8Array] {
  return records.reduce((a, b) => (b[1].length > a[1].length ? b : a));
}

function reseal(record: Uint8Array): Uint8Array {
  const out = record.slice();
  new DataView(out.buffer).setUint32(out.length - 4, checksum(out.subarray(0, out.length - 4)), true);
  return out;
}

describe('devnet decoded-block records', () => {
  let base: string;
  let blocks: number;
  const dirs: string[] = [];
  const copy = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'devnet-records-'));
    cpSync(base, d, { recursive: true });
    dirs.push(d);
    return d;
  };

  before(async () => {
    base = mkdtempSync(join(tmpdir(), 'devnet-records-'));
    dirs.push(base);
    const node = await startDevnet({ ...options, dataDir: base, prefund: { [ALICE.address]: 100n * KAS } });
    let [coin] = node.chain.utxos.byScript(ALICE.script);
    for (let i = 0; i < 6; i++) {
      const tx = spend(ALICE, [coin!], { amount: KAS, to: BOB.script, payload: utf8ToBytes(`payload ${i}`) });
      node.chain.submitTransaction(tx);
      node.mine();
      [coin] = node.chain.utxos.byScript(ALICE.script).filter((u) => !u.entry.isCoinbase);
    }
    // A reorganisation leaves side blocks (not mergeable) and blocks whose merge data changed.
    node.faults.reorg(2);
    node.mine(2);
    blocks = node.chain.blockCount;
    await node.stop();
  });
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('a restart reads every block from its record, and gets what decoding the rows gives', async () => {
    const dir = copy();
    const { state, report } = await load(dir);
    assert.deepEqual(report, {
      fromRecords: blocks - 1,
      fromRows: 0,
      rejected: { version: 0, damaged: 0, stale: 0, missing: 0 },
    });
    assert.ok(state.sideBlocks.length > 0, 'the reorganisation left side blocks');
    assert.ok(state.chain.some((b) => (b.transactions?.length ?? 0) > 1));

    await editRecords(dir, (records) => records.map(([k]) => [k, undefined]));
    const fromRows = await load(dir);
    assert.equal(fromRows.report.fromRows, blocks - 1);
    assert.equal(fromRows.report.rejected.missing, blocks - 1);
    assert.deepEqual(fromRows.state, state);
    // The records were written again while loading.
    assert.equal((await load(dir)).report.fromRecords, blocks - 1);
  });

  it('a damaged record is ignored: that block is decoded from its row and its record repaired', async () => {
    const dir = copy();
    const reference = await load(dir);
    await editRecords(dir, (records) => {
      const [key, value] = largest(records);
      const damaged = value.slice();
      damaged[Math.floor(damaged.length / 2)]! ^= 0x40;
      return [[key, damaged]];
    });
    const { state, report } = await load(dir);
    assert.equal(report.rejected.damaged, 1);
    assert.equal(report.fromRows, 1);
    assert.deepEqual(state, reference.state);
    assert.equal((await load(dir)).report.fromRows, 0);

    const node = await startDevnet({ ...options, dataDir: dir });
    try {
      assert.equal(node.chain.blockCount, blocks);
      node.mine();
    } finally {
      await node.stop();
    }
  });

  it('a record of another version is ignored and the block decoded from its row', async () => {
    const dir = copy();
    const reference = await load(dir);
    await editRecords(dir, (records) =>
      records.slice(0, 3).map(([key, value]) => {
        const other = value.slice();
        other[0] = BLOCK_RECORD_VERSION + 1;
        return [key, reseal(other)];
      }),
    );
    const { state, report } = await load(dir);
    assert.equal(report.rejected.version, 3);
    assert.equal(report.fromRows, 3);
    assert.deepEqual(state, reference.state);
  });

  it('a record derived from another row is ignored (stale), and a truncated one is damaged', async () => {
    const dir = copy();
    const reference = await load(dir);
    await editRecords(dir, (records) => {
      const [a, b] = [records[1]!, records[2]!];
      const truncated = records[3]![1].subarray(0, 40);
      return [
        [a[0], b[1]],
        [records[3]![0], reseal(truncated)],
      ];
    });
    const { state, report } = await load(dir);
    assert.equal(report.rejected.stale, 1);
    assert.equal(report.rejected.damaged, 1);
    assert.deepEqual(state, reference.state);
  });

  it('a record whose block has no row is deleted while loading, and changes nothing else', async () => {
    const dir = copy();
    const reference = await load(dir);
    const orphan = new Uint8Array(32).fill(0xab);
    await editRecords(dir, (records) => [[orphan, records[0]![1]]]);
    const { state, report } = await load(dir);
    assert.deepEqual(report, reference.report);
    assert.deepEqual(state, reference.state);
    const db = await openSqliteStore(join(dir, 'devnet.sqlite'), DEVNET_SCHEMA);
    try {
      assert.equal(await db.get('decoded', orphan), undefined);
      assert.equal((await db.scan('decoded')).length, blocks - 1);
    } finally {
      await db.close();
    }
  });

  it('a coin row of another version or cut short is refused as STORE_CORRUPT, not read as a coin', async () => {
    for (const damage of [
      (row: Uint8Array): Uint8Array => Uint8Array.of(COIN_ROW_VERSION + 1, ...row.subarray(1)),
      (row: Uint8Array): Uint8Array => row.subarray(0, row.length - 1),
    ]) {
      const dir = copy();
      const db = await openSqliteStore(join(dir, 'devnet.sqlite'), DEVNET_SCHEMA);
      try {
        const [key, row] = (await db.scan('utxos'))[0]!;
        await db.batch([{ type: 'put', store: 'utxos', key, value: damage(row) }]);
      } finally {
        await db.close();
      }
      await assert.rejects(load(dir), (e: unknown) => e instanceof DevnetError && e.code === 'STORE_CORRUPT');
    }
  });

  it('a directory of schema 1 (JSON coins, no records) is migrated and loads the same state', async () => {
    const dir = copy();
    const reference = await load(dir);
    const db = await openSqliteStore(join(dir, 'devnet.sqlite'), DEVNET_SCHEMA);
    try {
      const coins = await db.scan('utxos');
      const records = await db.scan('decoded');
      const v1 = new Uint8Array(8);
      new DataView(v1.buffer).setBigUint64(0, 1n);
      await db.batch([
        ...coins.map(([key, v]) => ({
          type: 'put' as const,
          store: 'utxos',
          key,
          value: utf8ToBytes(stringifyJson(coinToRpc(decodeCoinRow(v)))),
        })),
        ...records.map(([key]) => ({ type: 'delete' as const, store: 'decoded', key })),
        { type: 'put', store: META_STORE, key: META_VERSION_KEY, value: v1 },
      ]);
    } finally {
      await db.close();
    }
    const { state, report } = await load(dir);
    assert.equal(report.rejected.missing, blocks - 1);
    assert.deepEqual(state, reference.state);
    assert.equal((await load(dir)).report.fromRecords, blocks - 1);
  });
});
