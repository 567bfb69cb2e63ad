import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EnvelopeSessions, contactIdOf } from '../../../src/core/delivery/sessions.ts';
import { SessionManager } from '../../../src/core/session/session-manager.ts';
import type { OutgoingMessage } from '../../../src/core/delivery/messages.ts';
import { makeUser, type TestUser } from '../helpers.ts';
import { findFrames } from '../../../src/core/envelope/batch.ts';
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

describe('session port: chain batches', () => {
  it('one session frame per contact carries all its frames, in order', async () => {
    const alice = makeUser('alice', { now: Date.now });
    const bob = makeUser('bob', { now: Date.now });
    const carol = makeUser('carol', { now: Date.now });
    const send = persistent(alice, [bob, carol])();
    const [b, c] = [contactIdOf(bob.identity.peerId), contactIdOf(carol.identity.peerId)];
    const chat = (text: string, i: number) =>
      ({ type: 'chat', id: new Uint8Array(16).fill(i), sentAt: Date.now() + i, text }) as const;
    const payload = await send.sealBatch([
      { contact: b, frames: [chat('one', 1), chat('two', 2), chat('three', 3)] },
      { contact: c, frames: [chat('for carol', 4)] },
    ]);
    // One frame per contact: Bob's three chats ride in one bundle, so he finds one frame.
    assert.equal(
      findFrames(payload, SessionManager.deserialize(bob.identity, bob.sessions.serialize())).found.length,
      1,
    );
    const got = await persistent(bob, [alice])().openBatch(payload);
    assert.deepEqual(
      got.map((e) => e.frames.map((f) => f.type === 'chat' && f.text)),
      [['one', 'two', 'three']],
    );
    // Bundling pays the first-contact seal once: three messages cost far less than three frames.
    const single = await persistent(alice, [bob])().sealBatch([{ contact: b, frames: [chat('one', 1)] }]);
    assert.ok(payload.length < 2 * single.length + 512, `${payload.length} vs ${single.length}`);
  });
});

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
