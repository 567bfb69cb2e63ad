/**
 * Delete and Block trim everything kept for a stranger: after either, neither the session
 * state nor the requests store holds the stranger's identity key, peer id, card, name or
 * messages (the sessions of a first contact used to stay in the session manager for good).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MessageRequests, REQUESTS_STORE } from '../../../src/core/requests/requests.ts';
import { EnvelopeSessions, contactIdOf } from '../../../src/core/delivery/sessions.ts';
import { MemoryDatabase, openMemoryStore } from '../../../src/storage/memory.ts';
import { decodeKey } from '../../../src/storage/keys.ts';
import { formatPeerId } from '../../../src/core/identity/peer-id.ts';
import { bytesToHex, randomBytes, utf8ToBytes } from '../../../src/util/bytes.ts';
import { makeUser, type TestUser } from '../helpers.ts';

const NAME = 'Mallory the stranger';
const TEXT = 'a first message nobody asked for';

async function setup() {
  const alice = makeUser('alice');
  const mallory = makeUser(NAME);
  const saved: Uint8Array[] = [];
  const port = (u: TestUser, save: (s: Uint8Array) => Promise<void> = async () => {}) =>
    new EnvelopeSessions({ self: u.identity.peerId, sessions: u.sessions, save, now: () => u.clock.now });
  const alicePort = port(alice, async (s) => {
    saved.push(s);
  });
  const malloryPort = port(mallory);
  malloryPort.add(alice.card);
  const db = await openMemoryStore({ version: 1, stores: [REQUESTS_STORE] }, new MemoryDatabase());
  const requests = await MessageRequests.open({
    db,
    forget: (c) => alicePort.forget(c),
    now: () => alice.clock.now,
  });
  const contact = contactIdOf(mallory.identity.peerId);
  const payload = await malloryPort.sealBatch([
    {
      contact: contactIdOf(alice.identity.peerId),
      frames: [{ type: 'chat', id: randomBytes(16), sentAt: mallory.clock.now, text: TEXT }],
    },
  ]);
  /** Alice's client receives the payload as the engine hands it on: a request when new. */
  const arrive = async (): Promise<boolean> => {
    const [entry] = await alicePort.openBatch(payload);
    assert.ok(entry?.stranger);
    return requests.incoming({ contact: entry.contact, card: entry.stranger, frames: entry.frames });
  };
  /** What of Mallory is found in the stored session state and the requests store. */
  const traces = async (): Promise<string[]> => {
    const needles: [string, Uint8Array][] = [
      ['identity key', mallory.identity.publicKey],
      ['peer id', mallory.identity.peerId],
      ['peer id text', utf8ToBytes(formatPeerId(mallory.identity.peerId))],
      ['card', mallory.card.serializeCompact().subarray(0, 64)],
      ['name', utf8ToBytes(NAME)],
      ['text', utf8ToBytes(TEXT)],
    ];
    const dumps = [saved.at(-1) ?? alice.sessions.serialize()];
    for (const [k, v] of await db.scan(REQUESTS_STORE)) {
      // A block mark names the blocked identity in its key by design (what Block keeps); at
      // rest that key is opaque (storage/opaque.ts, test/core/delivery/at-rest.test.ts).
      if (decodeKey(k)[0] !== 'b') dumps.push(k);
      dumps.push(v);
    }
    const hex = dumps.map(bytesToHex);
    return needles.filter(([, n]) => hex.some((h) => h.includes(bytesToHex(n)))).map(([what]) => what);
  };
  return { alice, mallory, contact, requests, db, arrive, traces };
}

describe('Delete and Block trim everything kept for a stranger', () => {
  it('after Delete, the session state and the requests store hold nothing of the stranger', async () => {
    const t = await setup();
    assert.equal(await t.arrive(), true);
    assert.equal(t.alice.sessions.hasSession(t.mallory.identity.peerId), true);
    assert.ok((await t.traces()).length >= 4, 'the request and its session are kept before');
    await t.requests.delete(t.contact);
    assert.deepEqual(await t.traces(), []);
    assert.equal(t.alice.sessions.hasSession(t.mallory.identity.peerId), false);
    assert.equal(t.alice.sessions.contact(t.mallory.identity.peerId), undefined);
    assert.deepEqual(await t.db.scan(REQUESTS_STORE), []);
    // Forgotten, not refused: the same session's next frame makes a new request.
    assert.equal(await t.arrive(), true);
    assert.equal(t.requests.get(t.contact)?.messages[0]?.text, TEXT);
  });

  it('after Block, only the block mark remains; a blocked stranger writing again is trimmed again', async () => {
    const t = await setup();
    assert.equal(await t.arrive(), true);
    await t.requests.block(t.contact);
    assert.deepEqual(await t.traces(), []);
    assert.equal(t.alice.sessions.hasSession(t.mallory.identity.peerId), false);
    const left = await t.db.scan(REQUESTS_STORE);
    assert.equal(left.length, 1, 'one record: the block');
    assert.equal(t.requests.isBlocked(t.contact), true);
    assert.equal(await t.arrive(), false);
    assert.deepEqual(await t.traces(), []);
    assert.equal(t.alice.sessions.hasSession(t.mallory.identity.peerId), false);
  });
});
