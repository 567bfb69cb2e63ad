/**
 * Reconnection without a message (issue 15 item 1; docs/delivery.md "Links"): a client that
 * restarts offers a link again to the contacts it was linked with, each alone in its
 * transaction, and the next message goes direct. Real WebRTC (werift) on loopback.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { contactIdOf } from '../../../src/core/delivery/sessions.ts';
import { DeliveryStore } from '../../../src/core/delivery/store.ts';
import { encodeKey } from '../../../src/storage/keys.ts';
import type { OutgoingMessage } from '../../../src/core/delivery/messages.ts';
import { makeUser, type TestUser } from '../helpers.ts';
import { FakeNet, until } from './harness.ts';
import { MemoryDatabase, openDb } from './fakes.ts';
import { links, sessionsOf } from './real-links.ts';

describe('links come back after a restart without a message', () => {
  it('a restarted client is linked again to both contacts, one transaction each, and the next message goes direct', async () => {
    const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((n) => makeUser(n, { now: Date.now }));
    const users = [alice!, bob!, carol!];
    for (const u of users) for (const o of users) if (u !== o) u.sessions.addContact(o.card);
    const [a, b, c] = users.map((u) => contactIdOf(u.identity.peerId)) as [string, string, string];
    const net = new FakeNet([a, b, c]);
    const others = (u: TestUser): TestUser[] => users.filter((o) => o !== u);
    const ca = await net.client(a, { sessions: sessionsOf(alice!, others(alice!)), peers: links });
    const cb = await net.client(b, { sessions: sessionsOf(bob!, others(bob!)), peers: links });
    const cc = await net.client(c, { sessions: sessionsOf(carol!, others(carol!)), peers: links });
    try {
      await cb.engine.send(a, 'hello alice');
      await cb.engine.send(c, 'hello carol');
      for (const [x, y] of [
        [cb, a],
        [cb, c],
        [ca, b],
        [cc, b],
      ] as const)
        await until(`${x.name} linked to ${y}`, () => x.engine.connection(y) === 'connected', 30_000);

      const before = net.ledger.txs.length;
      await cb.restart();
      for (const [x, y] of [
        [cb, a],
        [cb, c],
        [ca, b],
        [cc, b],
      ] as const)
        await until(`${x.name} linked again to ${y}`, () => x.engine.connection(y) === 'connected', 30_000);
      const during = net.ledger.txs.slice(before);
      assert.ok(during.length > 0, 'the offers and answers went on chain');
      for (const tx of during) assert.equal(tx.recipients.length, 1, 'no transaction signals two contacts');
      assert.deepEqual(
        net.ledger
          .sentBy(b)
          .slice(-2)
          .map((t) => t.recipients[0])
          .sort(),
        [a, c].sort(),
        'one offer to each contact',
      );

      const after = net.ledger.txs.length;
      await cb.engine.send(a, 'direct after the restart');
      await ca.waitInbox(b, 2);
      const out = (await cb.allOut(a, ['delivered', 'read'], 2)) as OutgoingMessage[];
      assert.equal(out.at(-1)!.route, 'direct');
      assert.equal(net.ledger.txs.length, after, 'nothing on chain for it');
    } finally {
      await net.stop();
    }
  });

  it('reconnects to no one without a recent link, and refuses a link-seen record of another version', async () => {
    const data = new MemoryDatabase();
    const db = await openDb(data);
    const store = new DeliveryStore(db);
    const now = Date.now();
    await store.write([store.seenOp('recent', now), store.seenOp('old', now - 3_600_000)]);
    const bad = new Uint8Array(9);
    bad[0] = 2;
    await db.batch([{ type: 'put', store: 'delivery.meta', key: encodeKey('seen', 'future'), value: bad }]);
    await db.batch([
      { type: 'put', store: 'delivery.meta', key: encodeKey('seen', 'short'), value: new Uint8Array([1, 0]) },
    ]);
    const { seen, refused } = await store.seenLinks();
    assert.deepEqual([...seen.keys()].sort(), ['old', 'recent']);
    assert.equal(seen.get('recent'), now);
    assert.deepEqual(
      refused.map((e) => e.code),
      ['CORRUPT_RECORD', 'CORRUPT_RECORD'],
    );
    assert.throws(() => store.seenOp('x', -1), RangeError);
  });
});
