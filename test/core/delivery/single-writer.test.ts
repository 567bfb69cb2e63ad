/**
 * Two live instances of one profile (two tabs, two windows, a second process) over one
 * store: each loads the same ratchet state. Whatever the interleaving, no message key or
 * nonce may be used twice, and the instance that lost the race must say so rather than
 * send (docs/protocol.md, "Session state record").
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EnvelopeSessions, contactIdOf } from '../../../src/core/delivery/sessions.ts';
import {
  SessionStateStore,
  decodeSessionRecord,
  encodeSessionRecord,
} from '../../../src/core/delivery/session-state.ts';
import { SessionManager } from '../../../src/core/session/session-manager.ts';
import type { DeliveryFrame } from '../../../src/core/delivery/frames.ts';
import { openMemoryStore, MemoryDatabase } from '../../../src/storage/memory.ts';
import type { KeyValueStore } from '../../../src/storage/types.ts';
import { bytesToHex, utf8ToBytes } from '../../../src/util/bytes.ts';
import { batchWords, makeUser, type TestUser } from '../helpers.ts';
import { DeliveryEngine, type DeliveryEvent } from '../../../src/core/delivery/engine.ts';
import type { ChainPort } from '../../../src/core/delivery/ports.ts';
import { DELIVERY_STORES } from '../../../src/core/delivery/store.ts';
import { FakeNet, until } from './harness.ts';

const STORE = 'app.state';
const KEY = utf8ToBytes('sessions');
const TAG_BYTES = 8;

/** One app instance of `user`'s profile, loading and saving the sessions as the app does. */
async function openInstance(db: KeyValueStore, user: TestUser, contact: TestUser): Promise<EnvelopeSessions> {
  const stored = await SessionStateStore.open(db, STORE, KEY);
  // The pre-keys `user.card` announces exist only in the state that issued it (session/prekeys.ts):
  // a profile without a stored state yet starts from that one, as the app stores it before showing the card.
  const sessions = SessionManager.deserialize(user.identity, stored.state ?? user.sessions.serialize());
  sessions.setOwnCard(user.card);
  const port = new EnvelopeSessions({
    self: user.identity.peerId,
    sessions,
    save: (bytes) => stored.save(bytes),
  });
  port.add(contact.card);
  return port;
}

const chat = (i: number): DeliveryFrame => ({
  type: 'chat',
  id: new Uint8Array(16).fill(i),
  sentAt: Date.now() + i,
  text: `message ${i}`,
});

describe('two instances of one profile over one store', () => {
  it('never reuse a message key or nonce: the stale writer fails and sends nothing', async () => {
    const alice = makeUser('alice', { now: Date.now });
    const bob = makeUser('bob', { now: Date.now });
    const bobPort = new EnvelopeSessions({
      self: bob.identity.peerId,
      sessions: bob.sessions,
      save: async () => {},
    });
    bobPort.add(alice.card);
    const b = contactIdOf(bob.identity.peerId);
    const a = contactIdOf(alice.identity.peerId);
    const db = await openMemoryStore({ version: 1, stores: [STORE] }, new MemoryDatabase());

    // An established conversation, so that every frame starts with its ratchet tag.
    const first = await openInstance(db, alice, bob);
    const [hello] = await first.seal(b, [chat(0)]);
    assert.equal((await bobPort.open(a, hello!)).length, 1);
    const [reply] = await bobPort.seal(a, [chat(100)]);
    assert.equal((await first.open(b, reply!)).length, 1);

    // Two tabs unlock the same profile.
    const tabs = [await openInstance(db, alice, bob), await openInstance(db, alice, bob)];
    const sent: Uint8Array[] = [];
    // The chat frame of each successful seal, first in its output; any other frame is our
    // card or a batch of our one-time keys, each handed once to a contact whose session is
    // confirmed (session-manager.ts).
    const chats = new Set<Uint8Array>();
    const failures: unknown[] = [];
    for (let i = 1; i <= 6; i++) {
      for (const tab of tabs) {
        try {
          const out = await tab.seal(b, [chat(i)]);
          chats.add(out[0]!);
          sent.push(...out);
        } catch (error) {
          failures.push(error);
        }
      }
    }
    const tags = sent.map((f) => bytesToHex(f.subarray(0, TAG_BYTES)));
    assert.equal(new Set(tags).size, tags.length, 'no two frames share a tag (message key and nonce)');
    const headers = sent.map((f) => bytesToHex(f.subarray(TAG_BYTES, TAG_BYTES + 53)));
    assert.equal(new Set(headers).size, headers.length, 'no two frames share an encrypted header');
    assert.ok(chats.size >= 6, 'the winning instance sends every one of its messages');
    assert.ok(sent.length - chats.size <= 2, 'our card and our one-time key batch go out once at most');
    assert.ok(failures.length > 0, 'the losing instance is refused');
    for (const e of failures) assert.equal((e as { code?: unknown }).code, 'SUPERSEDED');
    // The recipient gets every message sent, none of them as a duplicate (a card or batch frame holds none).
    for (const f of sent) assert.equal((await bobPort.open(a, f)).length, chats.has(f) ? 1 : 0);
  });
});

describe('session state record', () => {
  it('a bare state written before records were versioned is migrated on load and keeps working', async () => {
    const alice = makeUser('alice', { now: Date.now });
    const bob = makeUser('bob', { now: Date.now });
    alice.sessions.addContact(bob.card);
    alice.sessions.encrypt(bob.identity.peerId, utf8ToBytes('before the upgrade'));
    const legacy = alice.sessions.serialize();
    const db = await openMemoryStore({ version: 1, stores: [STORE] }, new MemoryDatabase());
    await db.put(STORE, KEY, legacy);
    const stored = await SessionStateStore.open(db, STORE, KEY);
    assert.deepEqual(stored.state, legacy);
    assert.equal(stored.generation, 1n);
    const record = decodeSessionRecord((await db.get(STORE, KEY))!);
    assert.deepEqual(record, { generation: 1n, state: legacy });
    // Loading again reads the migrated record as it is; a save moves it on by one.
    const again = await SessionStateStore.open(db, STORE, KEY);
    assert.deepEqual(again.state, legacy);
    await again.save(utf8ToBytes('next'));
    assert.deepEqual(decodeSessionRecord((await db.get(STORE, KEY))!), {
      generation: 2n,
      state: utf8ToBytes('next'),
    });
    // The first loader is stale now, for good.
    for (let i = 0; i < 2; i++)
      await assert.rejects(
        stored.save(utf8ToBytes('stale')),
        (e: unknown) => (e as { code?: unknown }).code === 'SUPERSEDED',
      );
  });

  it('a record of an unknown version or truncated is refused, not read as state', async () => {
    const db = await openMemoryStore({ version: 1, stores: [STORE] }, new MemoryDatabase());
    const good = encodeSessionRecord({ generation: 7n, state: Uint8Array.of(1, 2, 3) });
    const future = good.slice();
    future[4] = 2;
    await db.put(STORE, KEY, future);
    await assert.rejects(
      SessionStateStore.open(db, STORE, KEY),
      (e: unknown) => (e as { code?: unknown }).code === 'UNKNOWN_VERSION',
    );
    await db.put(STORE, KEY, good.subarray(0, 9));
    await assert.rejects(
      SessionStateStore.open(db, STORE, KEY),
      (e: unknown) => (e as { code?: unknown }).code === 'TRUNCATED',
    );
    assert.throws(
      () => encodeSessionRecord({ generation: 1n, state: 'x' as unknown as Uint8Array }),
      TypeError,
    );
  });
});

describe('two delivery engines of one profile over one database', () => {
  it('the first to send wins; the other reports SUPERSEDED, stops, and none of its frames goes out', async () => {
    const alice = makeUser('alice', { now: Date.now });
    const bob = makeUser('bob', { now: Date.now });
    const [a, b] = [contactIdOf(alice.identity.peerId), contactIdOf(bob.identity.peerId)];
    const net = new FakeNet([a, b]);
    const bobState = await openMemoryStore({ version: 1, stores: [STORE] }, new MemoryDatabase());
    await net.client(b, { sessions: () => awaitedPort(bobState, bob, alice) });
    net.ledger.fund(a, 10_000_000n);
    const data = new MemoryDatabase();
    const schema = { version: 1, stores: [STORE, ...DELIVERY_STORES] };
    const open = async (chain: ChainPort, events: DeliveryEvent[]): Promise<DeliveryEngine> => {
      const db = await openMemoryStore(schema, data);
      const port = await openInstance(db, alice, bob);
      return DeliveryEngine.open({
        db,
        sessions: port,
        contacts: port,
        chain,
        listener: (e) => events.push(e),
        settings: { batchWindowMs: 20, backoffBaseMs: 20 },
      });
    };
    try {
      // One instance starts the conversation and hears back (Bob's receipt), so every later
      // frame is a plain ratchet frame that starts with its tag.
      const first = await open(net.ledger.chain(a), []);
      await first.send(b, 'hello');
      await until('delivered', async () =>
        (await first.messages(b)).some((m) => m.direction === 'out' && m.status === 'delivered'),
      );
      await first.close();
      const before = net.ledger.sentBy(a).length;

      // Two tabs open the same profile; both send, interleaved.
      const publishOnly: ChainPort = {
        start: async () => undefined,
        publish: async (payload, recipients) => net.ledger.publish(a, payload, recipients),
        funds: async () => ({ spendable: 10n ** 12n, locked: 0n, costPerMessage: 1n }),
        stop: async () => undefined,
      };
      const events: DeliveryEvent[][] = [[], []];
      const tabs = [await open(publishOnly, events[0]!), await open(publishOnly, events[1]!)];
      const accepted: string[][] = [[], []];
      for (let i = 1; i <= 4; i++) {
        for (const [t, tab] of tabs.entries()) {
          const text = `tab ${t} message ${i}`;
          await tab.send(b, text).then(
            () => accepted[t]!.push(text),
            (e: unknown) => assert.equal((e as { code?: unknown }).code, 'CLOSED'),
          );
        }
        await until('a publication', () => net.ledger.sentBy(a).length > before);
      }
      const superseded = (t: number): boolean =>
        events[t]!.some((e) => e.type === 'error' && (e.error as { code?: unknown }).code === 'SUPERSEDED');
      const loser = await until('one tab superseded', () => [0, 1].find(superseded));
      const winner = 1 - loser;
      assert.equal(superseded(winner), false);
      await assert.rejects(
        tabs[loser]!.send(b, 'after'),
        (e: unknown) => (e as { code?: unknown }).code === 'CLOSED',
      );
      const inbox = await net.clients.get(b)!.waitInbox(a, 1 + accepted[winner]!.length);
      await tabs[winner]!.close();

      const frames = net.ledger
        .sentBy(a)
        .slice(before)
        .flatMap((tx) => batchWords(tx.payload!));
      // Frames start on aligned words of a batch body: a tag sent twice repeats a word.
      assert.equal(new Set(frames).size, frames.length, 'no two frames on chain share a tag');
      const texts = inbox.map((m) => m.text);
      assert.equal(new Set(texts).size, texts.length, 'each message shown once');
      assert.deepEqual(
        texts.slice(1).sort(),
        [...accepted[winner]!].sort(),
        'only messages of the winner went out',
      );
    } finally {
      await net.stop();
    }
  });
});

/** The session port of a single client (Bob) over its own store. */
function awaitedPort(db: KeyValueStore, user: TestUser, contact: TestUser): EnvelopeSessions {
  const sessions = user.sessions;
  sessions.setOwnCard(user.card);
  const port = new EnvelopeSessions({
    self: user.identity.peerId,
    sessions,
    save: (bytes) => db.put(STORE, KEY, bytes),
  });
  port.add(contact.card);
  return port;
}
