/**
 * Start-up with a backlog (issue 17): the engine reads the open entries and only the records
 * of what is due; the rest are read when they come due, when their receipt arrives, or when a
 * link to their contact opens (src/core/delivery/backlog.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryEngine } from '../../../src/core/delivery/engine.ts';
import { Backlog } from '../../../src/core/delivery/backlog.ts';
import { DeliveryStore, OPEN_ENTRY_V2 } from '../../../src/core/delivery/store.ts';
import type { KeyValueStore } from '../../../src/storage/types.ts';
import { encodeKey } from '../../../src/storage/keys.ts';
import { DeliveryError } from '../../../src/core/delivery/errors.ts';
import { FakeSessions, MemoryDatabase, directory, openDb } from './fakes.ts';
import { FakeNet, until, type Client } from './harness.ts';

/** `db` with its reads of message records counted. */
function counting(db: KeyValueStore): { db: KeyValueStore; reads: () => number } {
  let reads = 0;
  const wrapped = new Proxy(db, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'get')
        return (store: string, key: Uint8Array) => {
          if (store === 'delivery.messages') reads++;
          return target.get(store, key);
        };
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { db: wrapped, reads: () => reads };
}

/** Alice's engine started again over her data with counted reads, in place of her client's. */
async function reopen(net: FakeNet, alice: Client, republishAfterMs: number): Promise<() => number> {
  const { db, reads } = counting(await openDb(alice.data));
  alice.engine = await DeliveryEngine.open({
    db,
    sessions: new FakeSessions('alice'),
    contacts: directory('alice', net.names),
    chain: net.ledger.chain('alice'),
    listener: (e) => alice.events.push(e),
    settings: { batchWindowMs: 20, backoffBaseMs: 20, republishAfterMs },
  });
  return reads;
}

describe('engine start-up with a backlog of unfinished messages', () => {
  it('reads no record of a message not due; its receipt, when it comes, still turns it delivered', async () => {
    const net = new FakeNet(['alice', 'bob']);
    const alice = await net.client('alice');
    const bob = await net.client('bob');
    try {
      await bob.stop();
      for (let i = 0; i < 40; i++) await alice.engine.send('bob', `waiting ${i}`);
      await alice.allOut('bob', ['published'], 40);
      await alice.stop();
      const reads = await reopen(net, alice, 20 * 3600_000);
      assert.equal(reads(), 0, 'the start read records of messages not due for 20 hours');
      await bob.start();
      await bob.waitInbox('alice', 40);
      await alice.allOut('bob', ['delivered'], 40);
      assert.ok(reads() <= 40, `each record read at most once (${reads()})`);
    } finally {
      await net.stop();
    }
  });

  it('a message left unread at start is republished when it comes due', async () => {
    const net = new FakeNet(['alice', 'bob']);
    const alice = await net.client('alice', { settings: { republishAfterMs: 1_500 } });
    const bob = await net.client('bob');
    try {
      await bob.stop();
      const m = await alice.engine.send('bob', 'still there?');
      await alice.allOut('bob', ['published'], 1);
      const first = (await alice.engine.message(m.id))!.proof!.txId;
      await alice.stop();
      const reads = await reopen(net, alice, 1_500);
      const early = reads();
      await until(
        'republished after its deadline',
        async () => {
          const proof = (await alice.engine.message(m.id))?.proof;
          return proof !== undefined && proof.txId !== first;
        },
        30_000,
      );
      assert.equal(early, 0, 'its record was read at start although not yet due');
      await bob.start();
      await alice.allOut('bob', ['delivered'], 1);
    } finally {
      await net.stop();
    }
  });

  it('a version 1 open entry (the bare messages key) is still read; other versions are refused', async () => {
    const db = await openDb(new MemoryDatabase());
    const store = new DeliveryStore(db);
    const now = Date.now();
    const m = {
      direction: 'out' as const,
      id: '00'.repeat(16),
      contact: 'bob',
      seq: 1,
      sentAt: now,
      text: 'old',
      status: 'published' as const,
      route: 'chain' as const,
      proof: { txId: '11'.repeat(32), publishedAt: now },
      publications: 1,
      attempts: 0,
      dueAt: now + 1000,
    };
    await store.write(store.putOps(m));
    await store.unfinishedOutgoing(); // the "open-index" marker
    const openKey = encodeKey('open', new Uint8Array(16));
    const v2 = (await db.get('delivery.meta', openKey))!;
    assert.equal(v2[0], OPEN_ENTRY_V2);
    const [entry] = await store.openEntries();
    assert.deepEqual([entry!.status, entry!.dueAt, entry!.contact], ['published', now + 1000, 'bob']);
    // Version 1: the value was the messages key alone, without a schedule.
    await db.batch([{ type: 'put', store: 'delivery.meta', key: openKey, value: encodeKey('bob', 'o', 1) }]);
    const [legacy] = await store.openEntries();
    assert.equal(legacy!.status, undefined);
    assert.deepEqual(
      (await store.unfinishedOutgoing()).map((x) => x.text),
      ['old'],
    );
    await db.batch([{ type: 'put', store: 'delivery.meta', key: openKey, value: Uint8Array.of(0x83, 0) }]);
    await assert.rejects(
      store.openEntries(),
      (e) => e instanceof DeliveryError && e.code === 'CORRUPT_RECORD',
    );
  });

  it('Backlog: due entries come out earliest first, each once', () => {
    const e = (id: string, contact: string, dueAt?: number) => ({
      id,
      contact,
      key: new Uint8Array(0),
      status: 'published' as const,
      ...(dueAt !== undefined ? { dueAt } : {}),
    });
    const b = new Backlog([e('a', 'x', 30), e('b', 'x', 10), e('c', 'y', 20), e('d', 'y')]);
    assert.equal(b.nextDue(), 10);
    assert.deepEqual(
      b.takeDue(20).map((x) => x.id),
      ['b', 'c'],
    );
    assert.deepEqual(
      b.take('a').map((x) => x.id),
      ['a'],
    );
    assert.equal(b.nextDue(), Infinity, 'a taken entry is no longer due');
    assert.deepEqual(
      b.takeContact('y').map((x) => x.id),
      ['d'],
    );
    assert.equal(b.size, 0);
  });
});
