import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EnvelopeSessions, contactIdOf } from '../../../src/core/delivery/sessions.ts';
import { SessionManager } from '../../../src/core/session/session-manager.ts';
import type { OutgoingMessage } from '../../../src/core/delivery/messages.ts';
import { makeUser, type TestUser } from '../helpers.ts';
import { findFrames } from '../../../src/core/envelope/batch.ts';
import { FakeNet, until } from './harness.ts';
import { MessageRequests } from '../../../src/core/requests/requests.ts';
import { DeliveryError } from '../../../src/core/delivery/errors.ts';

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
  it('first contact from a stranger: a request, and nothing goes back (no receipt, coin or WebRTC answer) until Accept', async () => {
    const alice = makeUser('alice', { now: Date.now });
    const bob = makeUser('bob', { now: Date.now });
    const carol = makeUser('carol', { now: Date.now });
    const [a, b, c] = [alice, bob, carol].map((u) => contactIdOf(u.identity.peerId)) as [
      string,
      string,
      string,
    ];
    const net = new FakeNet([a, b, c]);
    const ca = await net.client(a, { sessions: persistent(alice, [bob]), peers: true });
    // Bob has never seen Alice's card: she holds his invite only.
    let bobPort!: EnvelopeSessions;
    const makeBob = persistent(bob, [carol]);
    let requests!: MessageRequests;
    const cb = await net.client(b, {
      sessions: () => (bobPort = makeBob()),
      peers: true,
      requests: async (db) => (requests = await MessageRequests.open({ db })),
    });
    const cc = await net.client(c, { sessions: persistent(carol, [bob]) });
    try {
      await ca.engine.send(b, 'hi bob, it is alice');
      const request = await until('a request', () => requests.get(a));
      assert.deepEqual(
        request.messages.map((m) => m.text),
        ['hi bob, it is alice'],
      );
      assert.equal(request.card.displayName, 'alice');
      // Bob's next publication (to Carol) would carry anything owed to Alice.
      await cb.engine.send(c, 'hello carol');
      await cb.allOut(c, ['delivered'], 1);
      assert.ok(
        net.ledger.sentBy(b).every((tx) => !tx.recipients.includes(a)),
        'no receipt and no coin return to the stranger',
      );
      assert.equal(cb.engine.connection(a), 'offline', 'her offer is not answered');
      assert.equal(ca.engine.connection(b), 'connecting');
      assert.equal(((await ca.outbox(b))[0] as OutgoingMessage).status, 'published');
      assert.deepEqual(await cb.inbox(a), []);
      assert.ok(!cb.events.some((e) => e.type === 'message' && e.message.contact === a));
      await assert.rejects(
        cb.engine.acceptRequest(a),
        (e: unknown) => e instanceof DeliveryError && e.code === 'UNKNOWN_CONTACT',
      );

      bobPort.add(request.card);
      assert.equal(await cb.engine.acceptRequest(a), 1);
      assert.equal(requests.get(a), undefined);
      const [m] = await cb.waitInbox(a, 1);
      assert.equal(m!.text, 'hi bob, it is alice');
      await ca.allOut(b, ['delivered']);
      assert.ok(
        net.ledger.sentBy(b).some((tx) => tx.recipients.includes(a)),
        'the receipt went on chain',
      );
      await cb.engine.send(a, 'hello alice');
      await ca.waitInbox(b, 1);
      await cb.allOut(a, ['delivered']);
      void cc;
    } finally {
      await net.stop();
    }
  });

  it('a blocked stranger is dropped; a deleted request is forgotten and a later message makes a new one', async () => {
    const alice = makeUser('alice', { now: Date.now });
    const mallory = makeUser('mallory', { now: Date.now });
    const bob = makeUser('bob', { now: Date.now });
    const [a, m, b] = [alice, mallory, bob].map((u) => contactIdOf(u.identity.peerId)) as [
      string,
      string,
      string,
    ];
    const net = new FakeNet([a, m, b]);
    let requests!: MessageRequests;
    const cb = await net.client(b, {
      sessions: persistent(bob, []),
      requests: async (db) => (requests = await MessageRequests.open({ db })),
    });
    const ca = await net.client(a, { sessions: persistent(alice, [bob]) });
    const cm = await net.client(m, { sessions: persistent(mallory, [bob]) });
    try {
      await ca.engine.send(b, 'from alice');
      await cm.engine.send(b, 'from mallory');
      await until('two requests', () => requests.list().length === 2);
      await requests.delete(a);
      await requests.block(m);
      assert.deepEqual(requests.list(), []);
      // Both write again: Alice makes a new request, Mallory is dropped.
      await cm.engine.send(b, 'mallory again');
      await ca.engine.send(b, 'alice again');
      const again = await until('a new request from alice', () => requests.get(a));
      assert.deepEqual(
        again.messages.map((x) => x.text),
        ['alice again'],
      );
      await until(
        'mallory published',
        async () => (await cm.outbox(b)).length === 2 && net.ledger.sentBy(m).length >= 2,
      );
      // The blocked sender's second transaction came before Alice's (published first).
      assert.equal(requests.get(m), undefined);
      assert.ok(requests.isBlocked(m));
      // Kept across a restart (the records are in the client's database).
      await cb.restart();
      assert.deepEqual(
        requests.list().map((r) => r.contact),
        [a],
      );
      assert.ok(requests.isBlocked(m));
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
