import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryDatabase, openMemoryStore } from '../../src/storage/memory.ts';
import { openSqliteStore } from '../../src/storage/sqlite.ts';
import { StorageError } from '../../src/storage/errors.ts';
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
