import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { contactIdOf } from '../../../src/core/delivery/sessions.ts';
import type { OutgoingMessage } from '../../../src/core/delivery/messages.ts';
import { DEFAULT_DELIVERY_SETTINGS } from '../../../src/core/delivery/engine.ts';
import { makeUser } from '../helpers.ts';
import { FakeNet, until } from './harness.ts';
import { links, sessionsOf } from './real-links.ts';

describe('delivery engine over real WebRTC links (werift), signaling on the chain path', () => {
  it('signaling brings up P2P; online chat goes direct; the drop of a peer hands over to the chain', async () => {
    const alice = makeUser('alice', { now: Date.now });
    const bob = makeUser('bob', { now: Date.now });
    alice.sessions.addContact(bob.card);
    bob.sessions.addContact(alice.card);
    const [a, b] = [contactIdOf(alice.identity.peerId), contactIdOf(bob.identity.peerId)];
    const net = new FakeNet([a, b]);
    // The engine's own bound on a direct receipt, not the harness's 2 s: sealing and opening
    // 20 messages over real WebRTC takes longer than that on a loaded machine, and a link
    // whose receipt is overdue is closed as dead (docs/delivery.md "Links").
    const settings = { directAckTimeoutMs: DEFAULT_DELIVERY_SETTINGS.directAckTimeoutMs };
    const ca = await net.client(a, { sessions: sessionsOf(alice, [bob]), peers: links, settings });
    const cb = await net.client(b, { sessions: sessionsOf(bob, [alice]), peers: links, settings });
    try {
      await ca.engine.send(b, 'first: rides the chain with the offer');
      await cb.waitInbox(a, 1);
      await until('alice connected', () => ca.engine.connection(b) === 'connected', 30_000);
      await until('bob connected', () => cb.engine.connection(a) === 'connected', 30_000);
      const chainBefore = net.ledger.txs.length;
      for (let i = 0; i < 20; i++) await ca.engine.send(b, `direct ${i}`);
      await cb.engine.send(a, 'direct reply');
      await cb.waitInbox(a, 21);
      await ca.waitInbox(b, 1);
      const out = (await ca.allOut(b, ['delivered'], 21)) as OutgoingMessage[];
      assert.ok(out.slice(1).every((m) => m.route === 'direct'));
      assert.equal(net.ledger.txs.length, chainBefore, 'no chain transaction while the link is up');

      // Bob's process dies: Alice's heartbeat notices, and her next message goes on chain.
      await cb.stop();
      await until('alice sees bob gone', () => ca.engine.connection(b) !== 'connected', 30_000);
      await ca.engine.send(b, 'after the drop');
      await ca.allOut(b, ['published', 'delivered'], 22);
      await cb.start();
      await cb.waitInbox(a, 22);
      await ca.allOut(b, ['delivered'], 22);
      const texts = (await cb.inbox(a)).map((m) => m.text);
      assert.equal(new Set(texts).size, 22, 'each message once');
      assert.equal(texts.at(-1), 'after the drop');
    } finally {
      await net.stop();
    }
  });
});
