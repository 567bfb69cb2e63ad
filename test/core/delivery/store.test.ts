import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryError } from '../../../src/core/delivery/errors.ts';
import { DELIVERY_STORES, DeliveryStore } from '../../../src/core/delivery/store.ts';
import { openMemoryStore } from '../../../src/storage/memory.ts';
import { openStorage } from '../../../src/storage/open.ts';
import type {
  IncomingMessage,
  OutgoingMessage,
  OutgoingStatus,
} from '../../../src/core/delivery/messages.ts';
import type { KeyValueStore, ScanOptions } from '../../../src/storage/types.ts';
import { bytesToHex, randomBytes } from '../../../src/util/bytes.ts';
import { MemoryDatabase, openDb } from './fakes.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../../src/storage/sqlite.ts';
import type { StorageSchema } from '../../../src/storage/types.ts';

const outgoing = (seq: number, status: OutgoingStatus): OutgoingMessage => ({
  direction: 'out',
  id: bytesToHex(randomBytes(16)),
  contact: 'bob',
  seq,
  sentAt: 1_760_000_000_000 + seq,
  text: `m${seq}`,
  status,
  publications: 0,
  attempts: 0,
});

/** Counts the records a store reads from the messages table. */
function counting(db: KeyValueStore): { db: KeyValueStore; reads: () => number } {
  let reads = 0;
  const wrapped: KeyValueStore = Object.create(db) as KeyValueStore;
  wrapped.scan = async (store: string, options?: ScanOptions) => {
    const entries = await db.scan(store, options);
    if (store === 'delivery.messages') reads += entries.length;
    return entries;
  };
  wrapped.get = async (store: string, key: Uint8Array) => {
    if (store === 'delivery.messages') reads++;
    return db.get(store, key);
  };
  return { db: wrapped, reads: () => reads };
}

describe('delivery store: the unfinished messages on start', () => {
  it('reads what is in flight, not the whole history', async () => {
    const data = new MemoryDatabase();
    const store = new DeliveryStore(await openDb(data));
    assert.deepEqual(await store.unfinishedOutgoing(), []); // a fresh database is indexed at once
    const history = Array.from({ length: 200 }, (_, i) => outgoing(i + 1, 'delivered'));
    const inFlight = [outgoing(201, 'queued'), outgoing(202, 'published'), outgoing(203, 'failed')];
    await store.write([...history, ...inFlight].flatMap((m) => store.putOps(m)));
    // One becomes delivered: its entry goes with the status change, in the same batch.
    await store.write(store.putOps({ ...inFlight[1]!, status: 'delivered' }));

    const { db, reads } = counting(await openDb(data));
    const unfinished = await new DeliveryStore(db).unfinishedOutgoing();
    assert.deepEqual(unfinished.map((m) => m.text).sort(), ['m201', 'm203']);
    assert.equal(reads(), 2);
  });

  it('indexes a database written before the index existed, once', async () => {
    const data = new MemoryDatabase();
    const db = await openDb(data);
    const store = new DeliveryStore(db);
    const ms = [outgoing(1, 'delivered'), outgoing(2, 'queued'), outgoing(3, 'sent')];
    // The records alone, as an older version wrote them (no "open" entries, no marker).
    await db.batch(ms.flatMap((m) => store.putOps(m)).filter((op) => op.store !== 'delivery.meta'));

    assert.deepEqual((await store.unfinishedOutgoing()).map((m) => m.text).sort(), ['m2', 'm3']);
    const again = counting(db);
    assert.deepEqual((await new DeliveryStore(again.db).unfinishedOutgoing()).map((m) => m.text).sort(), [
      'm2',
      'm3',
    ]);
    assert.equal(again.reads(), 2);
  });

  it('says the database is corrupt when an unfinished message has lost its record', async () => {
    const data = new MemoryDatabase();
    const db = await openDb(data);
    const store = new DeliveryStore(db);
    assert.deepEqual(await store.unfinishedOutgoing(), []);
    const m = outgoing(1, 'queued');
    // The "open" entry and the index stay; the record itself is gone.
    await db.batch(store.putOps(m).filter((op) => op.store !== 'delivery.messages'));
    await assert.rejects(
      () => new DeliveryStore(db).unfinishedOutgoing(),
      (e: unknown) => e instanceof DeliveryError && e.code === 'CORRUPT_RECORD',
    );
  });
});

describe('delivery store over opaque keys (the default under a storage key)', () => {
  it('keeps every query the engine makes: conversation order, newest outgoing, ids, receipts owed', async () => {
    const schema = { version: 1, stores: [...DELIVERY_STORES] };
    const db = await openStorage(await openMemoryStore(schema), schema, {
      storageKey: new Uint8Array(32).fill(7),
    });
    const store = new DeliveryStore(db);
    const incoming = Array.from({ length: 40 }, (_, i): IncomingMessage => ({
      direction: 'in',
      id: bytesToHex(randomBytes(16)),
      contact: 'bob',
      // Equal timestamps in pairs: the id breaks the tie.
      sentAt: 1_760_000_000_000 + Math.floor(i / 2) * 1000,
      text: `in${i}`,
      receivedAt: 1_760_000_100_000,
      route: 'chain',
      read: false,
    }));
    const shuffled = [...incoming].sort(() => (randomBytes(1)[0]! < 128 ? -1 : 1));
    const outs = [1, 2, 3, 4, 5].map((seq) => outgoing(seq, seq === 5 ? 'queued' : 'delivered'));
    await store.write([...shuffled, ...outs].flatMap((m) => store.putOps(m)));
    await store.write([store.receiptOp('bob', incoming[3]!.id)]);

    const expected = [...incoming].sort((a, b) => a.sentAt - b.sentAt || (a.id < b.id ? -1 : 1));
    assert.deepEqual(
      (await store.conversation('bob', 'in')).map((m) => m.id),
      expected.map((m) => m.id),
    );
    assert.deepEqual(
      (await store.conversation('bob', 'out')).map((m) => m.text),
      ['m1', 'm2', 'm3', 'm4', 'm5'],
    );
    assert.equal((await store.lastOutgoing('bob'))?.text, 'm5');
    assert.equal((await store.byId('in', incoming[7]!.id))?.text, 'in7');
    assert.equal(await store.hasIncoming(incoming[9]!.id), true);
    assert.deepEqual(await store.owedReceipts(), new Map([['bob', [incoming[3]!.id]]]));
    assert.deepEqual(
      (await store.unfinishedOutgoing()).map((m) => m.text),
      ['m5'],
    );
    await db.close();
  });
});

describe('delivery store: publication records (docs/protocol.md "Publication record")', () => {
  const schema: StorageSchema = { version: 1, stores: [...DELIVERY_STORES] };
  const hex = (n: number): string => bytesToHex(randomBytes(n));

  it('round-trips in sealed SQLite, oldest first; another version or a malformed record is refused alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'p2pcomm-pub-'));
    const open = async (): Promise<KeyValueStore> =>
      openStorage(await openSqliteStore(join(dir, 'db.sqlite'), schema), schema, {
        storageKey: new Uint8Array(32).fill(7),
      });
    try {
      const db = await open();
      const store = new DeliveryStore(db);
      const [t1, t2, t3, t4] = [hex(32), hex(32), hex(32), hex(32)];
      const newer = {
        at: 2_000,
        ids: [hex(16), hex(16)],
        receipts: new Map([
          ['bob', { delivered: [hex(16)], read: [hex(16), hex(16)] }],
          ['carol', { delivered: [], read: [hex(16)] }],
        ]),
      };
      const older = { at: 1_000, ids: [], receipts: new Map([['bob', { delivered: [hex(16)], read: [] }]]) };
      await store.write([store.publicationOp(t1!, newer), store.publicationOp(t2!, older)]);
      // Version 2 of a record, and one cut short.
      const good = store.publicationOp(t3!, older);
      assert.equal(good.type, 'put');
      const value = good.type === 'put' ? good.value : new Uint8Array(0);
      const other = store.publicationOp(t3!, older);
      await store.write([
        { ...other, value: Uint8Array.of(2, ...value.subarray(1)) } as typeof other,
        { ...store.publicationOp(t4!, newer), value: value.subarray(0, 5) } as typeof other,
      ]);
      await db.close();

      const { records, refused } = await new DeliveryStore(await open()).publications();
      assert.deepEqual([...records.keys()], [t2, t1]);
      assert.deepEqual(records.get(t1!), newer);
      assert.deepEqual(records.get(t2!), older);
      assert.equal(refused.length, 2);
      assert.ok(refused.every((e) => e instanceof DeliveryError && e.code === 'CORRUPT_RECORD'));
      assert.ok(refused.some((e) => /version 2/.test(e.message)));

      const again = new DeliveryStore(await open());
      await again.write([again.forgetPublicationOp(t1!)]);
      assert.deepEqual([...(await again.publications()).records.keys()], [t2]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
