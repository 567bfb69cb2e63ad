/**
 * Two live instances of one profile (two tabs, two windows, a second process) over one
 * store: each loads the same ratchet state. Whatever the interleaving, no message key or
 * nonce may be used twice, and the instance that lost the race must say so rather than
 * send (docs/protocol.md, "Session state record").
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EnvelopeSessions, contactIdOf } from '../../../src/core/delivery/sessions.ts';
import { SessionStateStore } from '../../../src/core/delivery/session-state.ts';
import { SessionManager } from '../../../src/core/session/session-manager.ts';
import type { DeliveryFrame } from '../../../src/core/delivery/frames.ts';
import { openMemoryStore, MemoryDatabase } from '../../../src/storage/memory.ts';
import type { KeyValueStore } from '../../../src/storage/types.ts';
import { bytesToHex, utf8ToBytes } from '../../../src/util/bytes.ts';
import { makeUser, type TestUser } from '../helpers.ts';

const STORE = 'app.state';
const KEY = utf8ToBytes('sessions');
const TAG_BYTES = 8;

/** One app instance of `user`'s profile, loading and saving the sessions as the app does. */
async function openInstance(db: KeyValueStore, user: TestUser, contact: TestUser): Promise<EnvelopeSessions> {
  const stored = await SessionStateStore.open(db, STORE, KEY);
  const state = stored.state;
  const sessions = state
    ? SessionManager.deserialize(user.identity, state)
    : SessionManager.create(user.identity);
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
    const failures: unknown[] = [];
    for (let i = 1; i <= 6; i++) {
      for (const tab of tabs) {
        try {
          sent.push(...(await tab.seal(b, [chat(i)])));
        } catch (error) {
          failures.push(error);
        }
      }
    }
    const tags = sent.map((f) => bytesToHex(f.subarray(0, TAG_BYTES)));
    assert.equal(new Set(tags).size, tags.length, 'no two frames share a tag (message key and nonce)');
    const headers = sent.map((f) => bytesToHex(f.subarray(TAG_BYTES, TAG_BYTES + 53)));
    assert.equal(new Set(headers).size, headers.length, 'no two frames share an encrypted header');
    assert.ok(sent.length >= 6, 'the winning instance sends every one of its messages');
    assert.ok(failures.length > 0, 'the losing instance is refused');
    for (const e of failures) assert.equal((e as { code?: unknown }).code, 'SUPERSEDED');
    // The recipient gets every frame sent, none of them as a duplicate.
    for (const f of sent) assert.equal((await bobPort.open(a, f)).length, 1);
  });
});
