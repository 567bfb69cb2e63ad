import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryDatabase, openMemoryStore } from '../../src/storage/memory.ts';
import { openSqliteStore } from '../../src/storage/sqlite.ts';
import { StorageError } from '../../src/storage/errors.ts';
import type { BatchOp } from '../../src/storage/types.ts';
import { SUITE_SCHEMA } from './cases.ts';
import { runStorageSuite } from './suite.ts';

const dir = mkdtempSync(join(tmpdir(), 'p2pcomm-storage-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const memories = new Map<string, MemoryDatabase>();
runStorageSuite('memory', {
  openRaw: (name, schema) => {
    let db = memories.get(name);
    if (!db) memories.set(name, (db = new MemoryDatabase()));
    return openMemoryStore(schema, db);
  },
});

runStorageSuite('sqlite', { openRaw: (name, schema) => openSqliteStore(join(dir, `${name}.db`), schema) });

describe('sqlite specifics', () => {
  it('maps SQLITE_FULL to QUOTA_EXCEEDED and rolls the batch back', async () => {
    const db = await openSqliteStore(join(dir, 'full.db'), SUITE_SCHEMA, { maxBytes: 64 * 1024 });
    await db.put('messages', Uint8Array.of(0), Uint8Array.of(1));
    await assert.rejects(
      db.batch([
        { type: 'put', store: 'messages', key: Uint8Array.of(1), value: new Uint8Array(16 * 1024) },
        { type: 'put', store: 'messages', key: Uint8Array.of(2), value: new Uint8Array(256 * 1024) },
      ]),
      (e) => e instanceof StorageError && e.code === 'QUOTA_EXCEEDED',
    );
    assert.equal(await db.count('messages'), 1);
    await db.close();
  });

  it('reports a file that is not a database as CORRUPT', async () => {
    const path = join(dir, 'garbage.db');
    writeFileSync(path, new Uint8Array(8192).fill(0x5a));
    await assert.rejects(
      openSqliteStore(path, SUITE_SCHEMA),
      (e) => e instanceof StorageError && e.code === 'CORRUPT',
    );
  });

  it('refuses misuse of its options', async () => {
    await assert.rejects(openSqliteStore('', SUITE_SCHEMA), TypeError);
    await assert.rejects(
      openSqliteStore(join(dir, 'x.db'), SUITE_SCHEMA, { synchronous: 'off' as 'full' }),
      RangeError,
    );
    await assert.rejects(openSqliteStore(join(dir, 'y.db'), SUITE_SCHEMA, { maxBytes: 10 }), RangeError);
    await assert.rejects(openSqliteStore(join(dir, 'z.db'), { version: 1, stores: ['__x'] }), RangeError);
  });
});

describe('memory specifics', () => {
  it('answers every range like SQLite across thousands of keys (inserts, replacements, deletes)', async () => {
    // Enough keys for many of the store's chunks to split and empty; SQLite is the reference.
    const mem = await openMemoryStore(SUITE_SCHEMA);
    const ref = await openSqliteStore(join(dir, 'memory-reference.db'), SUITE_SCHEMA);
    let seed = 0x2545f491;
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const key = (): Uint8Array => Uint8Array.of(rand(4), rand(256), rand(256));
    for (let round = 0; round < 40; round++) {
      const ops = Array.from({ length: 250 }, () =>
        rand(4) === 0
          ? ({ type: 'delete', store: 'messages', key: key() } as const)
          : ({ type: 'put', store: 'messages', key: key(), value: Uint8Array.of(round, rand(256)) } as const),
      );
      await mem.batch(ops);
      await ref.batch(ops);
      const a = key();
      const b = key();
      const ranges = [
        {},
        { gte: a },
        { gt: a },
        { lt: a },
        { lte: a },
        { gte: a, lt: b },
        { gt: a, lte: b },
        { prefix: a.subarray(0, 1) },
        { prefix: a.subarray(0, 2) },
      ];
      for (const range of ranges) {
        assert.equal(await mem.count('messages', range), await ref.count('messages', range));
        for (const limit of [undefined, 1, 7, 600]) {
          for (const reverse of [false, true]) {
            const opts = { ...range, ...(limit === undefined ? {} : { limit }), reverse };
            assert.deepEqual(
              await mem.scan('messages', opts),
              await ref.scan('messages', opts),
              JSON.stringify(opts),
            );
          }
        }
      }
      const k = key();
      assert.deepEqual(await mem.get('messages', k), await ref.get('messages', k));
    }
    assert.ok((await mem.count('messages')) > 2_000);
    // Every key under one first byte deleted: whole chunks empty out and go, and the ranges
    // around the hole still agree.
    const hole: BatchOp[] = (await ref.scan('messages', { prefix: Uint8Array.of(1) })).map(([k]) => ({
      type: 'delete',
      store: 'messages',
      key: k,
    }));
    assert.ok(hole.length > 1_024, `${hole.length} keys under one first byte`);
    await mem.batch(hole);
    await ref.batch(hole);
    for (const range of [
      {},
      { prefix: Uint8Array.of(1) },
      { gte: Uint8Array.of(0, 255) },
      { lt: Uint8Array.of(2) },
    ]) {
      assert.equal(await mem.count('messages', range), await ref.count('messages', range));
      for (const reverse of [false, true])
        assert.deepEqual(
          await mem.scan('messages', { ...range, limit: 3, reverse }),
          await ref.scan('messages', { ...range, limit: 3, reverse }),
        );
    }
    assert.equal(await mem.count('messages', { prefix: Uint8Array.of(1) }), 0);
    await mem.close();
    await ref.close();
  });
});
