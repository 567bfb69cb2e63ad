import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EnvelopeSessions, contactIdOf } from '../../../src/core/delivery/sessions.ts';
import { SessionManager } from '../../../src/core/session/session-manager.ts';
import type { OutgoingMessage } from '../../../src/core/delivery/messages.ts';
import { makeUser, type TestUser } from '../helpers.ts';
import { FakeNet, until } from './harness.ts';

/** A user whose session state survives restarts the way the app persists it. */
function persistent(user: TestUser, contacts: readonly TestUser[]): () => EnvelopeSessions {
  let saved: Uint8Array | undefined;
  return () => {
    const sessions = saved ? SessionManager.deserialize(user.identity, saved) : user.sessions;
    sessions.setOwnCard(user.card);
    const s = new EnvelopeSessions({
      self: user.identity.peerId,
      sessions,
      save: async (state) => {
        saved = state;
      },
    });
    for (const c of contacts) s.add(c.card);
    return s;
  };
}

describe('delivery engine with real sessions and envelopes', () => {
  it('first contact entirely over the chain: the recipient learns the sender from the first message', async () => {
    const alice = makeUser('alice', { now: Date.now });
    const bob = makeUser('bob', { now: Date.now });
    const [a, b] = [contactIdOf(alice.identity.peerId), contactIdOf(bob.identity.peerId)];
    const net = new FakeNet([a, b]);
    const ca = await net.client(a, { sessions: persistent(alice, [bob]), peers: true });
    // Bob has never seen Alice's card: she holds his invite only.
    const cb = await net.client(b, { sessions: persistent(bob, []), peers: true });
    try {
      await ca.engine.send(b, 'hi bob, it is alice');
      const [m] = await cb.waitInbox(a, 1);
      assert.equal(m!.text, 'hi bob, it is alice');
      await ca.allOut(b, ['delivered']);
      // The offer rode with the first message; the answer came back on chain; the link is up.
      await until('connected', () => ca.engine.connection(b) === 'connected');
      await cb.engine.send(a, 'hello alice');
      await ca.waitInbox(b, 1);
      await cb.allOut(a, ['delivered']);
    } finally {
      await net.stop();
    }
  });

  it('republished chat after a lost receipt is receipted again but shown once; restarts keep sessions', async () => {
    const alice = makeUser('alice', { now: Date.now });
    const bob = makeUser('bob', { now: Date.now });
    const [a, b] = [contactIdOf(alice.identity.peerId), contactIdOf(bob.identity.peerId)];
    const net = new FakeNet([a, b]);
    const ca = await net.client(a, {
      sessions: persistent(alice, [bob]),
      settings: { republishAfterMs: 400, maxPublications: 10 },
    });
    const cb = await net.client(b, { sessions: persistent(bob, [alice]), funds: 0n });
    try {
      // Bob cannot pay... and his receipts ride the returned coin, which the fake does not
      // model as free: so his receipt is held back and Alice republishes.
      await ca.engine.send(b, 'm1');
      await cb.waitInbox(a, 1);
      await until('republished', () => net.ledger.sentBy(a).length >= 2);
      await cb.restart();
      net.ledger.fund(b, 1_000_000n);
      await ca.allOut(b, ['delivered']);
      assert.equal((await cb.inbox(a)).length, 1);
      await ca.restart();
      await ca.engine.send(b, 'm2 after both restarted');
      await cb.waitInbox(a, 2);
      const out = (await ca.allOut(b, ['delivered'], 2)) as OutgoingMessage[];
      assert.deepEqual(
        out.map((m) => m.text),
        ['m1', 'm2 after both restarted'],
      );
    } finally {
      await net.stop();
    }
  });
});
