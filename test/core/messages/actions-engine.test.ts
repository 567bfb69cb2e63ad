/**
 * Message actions between two delivery engines with real sessions (PQXDH + Double Ratchet,
 * envelopes 1, 10, 11, 12 and 14) over the chain path: each action travels both ways, is
 * applied on both sides, a deletion removes the texts from both stores, and what a contact
 * may not do (edit or delete our message, act on an unknown one) is refused with a typed
 * error and changes nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contactIdOf } from '../../../src/core/delivery/sessions.ts';
import type { DeliveryEngine } from '../../../src/core/delivery/engine.ts';
import type { Message } from '../../../src/core/delivery/messages.ts';
import {
  EDIT_WINDOW_MS,
  MessageActionError,
  MessageActionsService,
  type MessageActionErrorCode,
} from '../../../src/core/messages/index.ts';
import { makeUser, type TestUser } from '../helpers.ts';
import { FakeNet, until, type Client } from './../delivery/harness.ts';
import { sessionsOf } from '../delivery/real-links.ts';

/** The service over one engine, and every refusal of an incoming action, by code. */
function wire(engine: DeliveryEngine, contacts: readonly string[]) {
  const port = {
    isContact: (c: string) => contacts.includes(c),
    async find(id: string) {
      for (const c of contacts) {
        const m = (await engine.messages(c)).find((r) => r.id === id);
        if (m !== undefined) return m;
      }
      return undefined;
    },
    records: (c: string) => engine.messages(c),
    send: (c: string, text: string, action?: Parameters<DeliveryEngine['send']>[2]) =>
      engine.send(c, text, action),
    redact: (c: string, ids: readonly string[], how: 'deleted' | 'hidden') => engine.redact(c, ids, how),
  };
  const service = new MessageActionsService(port);
  const refused: MessageActionErrorCode[] = [];
  const applied: string[] = [];
  engine.subscribe((e) => {
    if (e.type !== 'message' || e.message.direction !== 'in') return;
    service.received(e.message).then(
      (id) => id !== undefined && applied.push(id),
      (err: unknown) => {
        if (err instanceof MessageActionError) refused.push(err.code);
        else throw err;
      },
    );
  });
  return { service, refused, applied };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof MessageActionError) return e.code;
    throw e;
  }
  return 'accepted';
}

describe('message actions between two engines (real sessions, chain path)', () => {
  it('reply, reaction, edit, delete for everyone, delete for me and forward travel both ways; refusals change nothing', async () => {
    const [alice, bob] = ['alice', 'bob'].map((n) => makeUser(n, { now: Date.now })) as [TestUser, TestUser];
    alice.sessions.addContact(bob.card);
    bob.sessions.addContact(alice.card);
    const a = contactIdOf(alice.identity.peerId);
    const b = contactIdOf(bob.identity.peerId);
    const net = new FakeNet([a, b]);
    const ca: Client = await net.client(a, { sessions: sessionsOf(alice, [bob]) });
    const cb: Client = await net.client(b, { sessions: sessionsOf(bob, [alice]) });
    const A = wire(ca.engine, [b]);
    const B = wire(cb.engine, [a]);
    const shownAt = async (svc: MessageActionsService, contact: string, id: string) =>
      (await svc.view(contact)).find((f) => f.record.id === id);
    try {
      const hello = await ca.engine.send(b, 'hello\nsecond line');
      await cb.waitInbox(a, 1);

      // Reply with a quote, from Bob: Alice sees her own message quoted.
      const reply = await B.service.reply(a, 'hi back', hello.id);
      await until(
        'alice has the reply',
        async () => (await shownAt(A.service, b, reply.id))?.quote?.held === true,
      );
      const q = (await shownAt(A.service, b, reply.id))!.quote!;
      assert.ok(q.held && q.outgoing && q.text === 'hello\nsecond line');
      // A reply to an id Bob does not hold: refused before anything is sent.
      assert.equal(await code(B.service.reply(a, 'x', 'ab'.repeat(16))), 'UNKNOWN_TARGET');

      // A reaction from Alice to Bob's reply, then a second one replacing it.
      await A.service.react(reply.id, 1);
      await A.service.react(reply.id, 2);
      await until('bob sees one reaction, the latest', async () => {
        const r = (await shownAt(B.service, a, reply.id))?.reactions;
        return r?.length === 1 && r[0]!.reaction === 2 && r[0]!.count === 1 && !r[0]!.mine;
      });

      // Alice edits her message: Bob's copy is replaced.
      await A.service.edit(hello.id, 'hello, edited');
      await until(
        'bob sees the edit',
        async () => (await shownAt(B.service, a, hello.id))?.text === 'hello, edited',
      );
      assert.equal((await shownAt(B.service, a, hello.id))!.edited, true);
      // Too late to edit: refused locally by the window.
      assert.equal(
        await code(A.service.edit(hello.id, 'late', hello.sentAt + EDIT_WINDOW_MS + 1)),
        'EDIT_WINDOW',
      );
      // Bob may not edit Alice's message: refused at his side ...
      assert.equal(await code(B.service.edit(hello.id, 'forged')), 'NOT_SENDER');
      // ... and at hers when his engine sends it anyway, as may an unknown id.
      await cb.engine.send(a, 'forged', { kind: 'edit', target: hello.id });
      await cb.engine.send(a, 'forged too', { kind: 'delete', target: hello.id });
      await cb.engine.send(a, 'ghost', { kind: 'edit', target: 'cd'.repeat(16) });
      await until('alice refused all three', () => A.refused.length >= 3);
      assert.deepEqual([...A.refused].sort(), ['NOT_SENDER', 'NOT_SENDER', 'UNKNOWN_TARGET']);
      const mine = (await shownAt(A.service, b, hello.id))!;
      assert.equal(mine.text, 'hello, edited');
      assert.equal(mine.deleted, false);

      // Delete for everyone: both sides show it deleted, and no text of it is left in storage.
      await A.service.deleteForEveryone(hello.id);
      await until(
        'bob sees it deleted',
        async () => (await shownAt(B.service, a, hello.id))?.deleted === true,
      );
      for (const [engine, contact] of [
        [ca.engine, b],
        [cb.engine, a],
      ] as const) {
        const records: Message[] = await engine.messages(contact);
        const texts = records.map((r) => r.text).join('|');
        assert.doesNotMatch(texts, /hello/, 'neither the text nor its edit is stored');
        assert.equal(records.find((r) => r.id === hello.id)?.redacted, 'deleted');
      }
      // Bob's reply now quotes a deleted message; reacting to a deleted one is refused.
      const q2 = (await shownAt(B.service, a, reply.id))!.quote!;
      assert.ok(q2.held && q2.deleted && q2.text === '');
      assert.equal(await code(B.service.react(hello.id, 1)), 'DELETED');

      // Forward: a new message, marked, with the current text.
      const [fwd] = await B.service.forward(reply.id, [a]);
      await until(
        'alice has the forward',
        async () => (await shownAt(A.service, b, fwd!.id))?.forwarded === true,
      );
      assert.equal((await shownAt(A.service, b, fwd!.id))!.text, 'hi back');

      // Delete for me: gone from Bob's conversation and store, still on Alice's.
      await B.service.deleteForMe(reply.id);
      assert.equal(await shownAt(B.service, a, reply.id), undefined);
      assert.equal((await cb.engine.messages(a)).find((r) => r.id === reply.id)?.text, '');
      assert.equal((await shownAt(A.service, b, reply.id))?.text, 'hi back');
      // A quote of a message Bob no longer holds: "not available".
      const again = await A.service.reply(b, 'about that', reply.id);
      await until('bob has the reply', async () => (await shownAt(B.service, a, again.id)) !== undefined);
      assert.deepEqual((await shownAt(B.service, a, again.id))!.quote, { id: reply.id, held: false });

      // From a stranger, nothing is applied.
      const stranger = { ...(await cb.engine.messages(a)).at(-1)!, contact: 'mallory' } as Message;
      assert.equal(await code(B.service.received(stranger)), 'STRANGER');
    } finally {
      await net.stop();
    }
  });
});
