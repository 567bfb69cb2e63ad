import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ContactCard } from '../../src/core/contact/card.ts';
import { Identity } from '../../src/core/identity/identity.ts';
import { x25519KeyPair, randomX25519KeyPair } from '../../src/core/identity/keys.ts';
import { ByteReader, ByteWriter } from '../../src/util/binary.ts';
import { bytesToHex, randomBytes } from '../../src/util/bytes.ts';
import { SessionManager } from '../../src/core/session/session-manager.ts';
import { PreKeyRing } from '../../src/core/session/prekeys.ts';
import { openFirstContact } from '../../src/core/session/first-contact.ts';
import { x3dhRespond } from '../../src/core/session/x3dh.ts';
import { Ratchet } from '../../src/core/session/ratchet.ts';
import {
  MAX_ONE_TIME_BATCH,
  ONE_TIME_BATCH_SIZE,
  openOneTimeBatch,
  parseOneTimeBatch,
  signOneTimeBatch,
} from '../../src/core/session/one-time-batch.ts';
import { EnvelopeSessions, contactIdOf } from '../../src/core/delivery/sessions.ts';
import { createEnvelope } from '../../src/core/envelope/envelope.ts';
import { sealEnvelope } from '../../src/core/envelope/sealed.ts';
import { packBatch } from '../../src/core/envelope/batch.ts';
import type { DeliveryFrame } from '../../src/core/delivery/frames.ts';
import { makeUser, errorCode, type TestUser } from './helpers.ts';

// An attacker's own code keeps every key it can get.
const keepAll = { rotateAfterMs: 1e15, rotateAfterFirstContacts: 1e6, graceMs: 1e15 };

const chat = (text: string, sentAt: number): DeliveryFrame =>
  ({ type: 'chat', id: randomBytes(16), sentAt, text }) as const;

/** A client: its session manager behind the production session adapter. */
interface Client {
  readonly user: TestUser;
  readonly port: EnvelopeSessions;
  /** Plaintexts of every envelope the last `send` sealed (to see what rode along). */
  readonly sent: string[][];
}

function client(user: TestUser): Client {
  const port = new EnvelopeSessions({
    self: user.identity.peerId,
    sessions: user.sessions,
    save: async () => {},
    now: () => user.clock.now,
  });
  return { user, port, sent: [] };
}

/** `from` sends `text` to `to` over the direct link (adapter `seal` / `open`); the chats `to` got. */
async function send(from: Client, to: Client, text: string): Promise<string[]> {
  const frames = await from.port.seal(contactIdOf(to.user.identity.peerId), [
    chat(text, from.user.clock.now),
  ]);
  const got: string[] = [];
  for (const f of frames) {
    for (const d of await to.port.open(contactIdOf(from.user.identity.peerId), f))
      if (d.type === 'chat') got.push(d.text);
  }
  return got;
}

/** Alice and Bob, contacts of each other with a confirmed session both ways. */
async function pair(): Promise<[Client, Client]> {
  const [a, b] = [client(makeUser('alice')), client(makeUser('bob'))];
  a.port.add(b.user.card);
  b.port.add(a.user.card);
  assert.deepEqual(await send(a, b, 'hi'), ['hi']);
  assert.deepEqual(await send(b, a, 'hello'), ['hello']);
  assert.deepEqual(await send(a, b, 'how are you'), ['how are you']);
  return [a, b];
}

/** Alice after a restore on a fresh install: her seed, Bob's card and what her backup kept of his batch. */
function restored(a: Client, bob: TestUser): Client {
  const kept = a.user.sessions.oneTimeBatchOf(bob.identity.peerId);
  const fresh = makeUser('alice', { now: () => a.user.clock.now }, a.user.identity.exportSeed());
  fresh.clock.now = a.user.clock.now;
  const c = client(fresh);
  c.port.add(a.port.card(contactIdOf(bob.identity.peerId))!);
  if (kept !== undefined) fresh.sessions.restoreOneTimeBatch(bob.identity.peerId, kept.bytes, kept.unused);
  return c;
}

/** The one-time key id a first-contact frame from `from` to `to` names, read with `to`'s pre-keys. */
function namedKey(to: TestUser, frame: Uint8Array): number | null {
  const r = new ByteReader(to.sessions.serialize());
  r.u8('state version');
  const o = openFirstContact(frame, PreKeyRing.read(r, keepAll).active());
  assert.ok(o, 'a first-contact frame for this recipient');
  return o.oneTimeKeyId;
}

/**
 * What an attacker with the seed and a copy of the state opens: it runs the responder side of
 * PQXDH itself, skipping every check of ours, with the secret the state keeps for the named
 * one-time key. It reads the documented layout (docs/protocol.md "Session state"): a one-time
 * secret follows its u32 id and a u64 time, so every 32 bytes after an occurrence of the id and
 * 8 more bytes are tried.
 */
function attackerOpens(seed: Uint8Array, state: Uint8Array, frame: Uint8Array): boolean {
  const r = new ByteReader(state);
  r.u8('state version');
  const ring = PreKeyRing.read(r, keepAll);
  const o = openFirstContact(frame, ring.active());
  if (o === undefined || o.oneTimeKeyId === null) return false;
  const card = ContactCard.deserialize(o.senderCard);
  const id = new ByteWriter(4).u32(o.oneTimeKeyId).finish();
  for (let i = 0; i + 44 <= state.length; i++) {
    if (bytesToHex(state.subarray(i, i + 4)) !== bytesToHex(id)) continue;
    const s = x3dhRespond(
      Identity.fromSeed(seed),
      o.preKey.dh,
      card.identityKey,
      card.identityDhKey,
      o.ephemeralKey,
      { ciphertext: o.kemCiphertext, secretKey: o.preKey.kemSecretKey },
      x25519KeyPair(state.slice(i + 12, i + 44)),
    );
    try {
      if (
        Ratchet.initResponder(s.sk, o.preKey.dh, s.hka, s.nhkb, s.ad).decrypt(o.inner, 0).kind === 'message'
      )
        return true;
    } catch {
      // not this candidate
    }
  }
  return false;
}

describe('one-time pre-key batches in session traffic (envelope type 9)', () => {
  it('once a session is confirmed, each side hands the other a signed batch with its next traffic, once', async () => {
    const [a, b] = await pair();
    const [ia, ib] = [a.user.identity.peerId, b.user.identity.peerId];
    // Bob's session was confirmed by Alice's first message, so his reply carried his batch;
    // Alice's was confirmed by that reply, so her next message carried hers.
    assert.equal(a.user.sessions.oneTimeKeysOf(ib), ONE_TIME_BATCH_SIZE);
    assert.equal(b.user.sessions.oneTimeKeysOf(ia), ONE_TIME_BATCH_SIZE);
    // Not again while the contact holds more than half of one.
    const frames = await b.port.seal(contactIdOf(ia), [chat('again', b.user.clock.now)]);
    assert.equal(frames.length, 1, 'no batch rides along');
    // The batch itself: 10 keys, 434 bytes, signed for Alice.
    const batch = a.user.sessions.oneTimeBatchOf(ib)!;
    assert.equal(batch.bytes.length, 1 + 8 + 1 + ONE_TIME_BATCH_SIZE * 36 + 64);
    assert.equal(batch.unused.length, ONE_TIME_BATCH_SIZE);
    openOneTimeBatch(batch.bytes, b.user.identity.publicKey, a.user.identity.publicKey);
    // It survives a reload of the state.
    const reloaded = SessionManager.deserialize(a.user.identity, a.user.sessions.serialize());
    assert.deepEqual(reloaded.oneTimeBatchOf(ib)?.unused, batch.unused);
  });

  it('a restored client starts anew with one of the contact’s keys, the contact answers, and the key is consumed', async () => {
    const [a, b] = await pair();
    await send(b, a, 'fine');
    const [ia, ib] = [a.user.identity.peerId, b.user.identity.peerId];
    const a2 = restored(a, b.user);
    assert.equal(a2.user.sessions.hasSession(ib), false, 'no ratchet state came back');
    assert.equal(a2.user.sessions.oneTimeKeysOf(ib), ONE_TIME_BATCH_SIZE);
    const [frame] = await a2.port.seal(contactIdOf(ib), [chat('restored', a2.user.clock.now)]);
    const used = namedKey(b.user, frame!);
    assert.ok(used !== null && a.user.sessions.oneTimeBatchOf(ib)!.unused.includes(used));
    assert.equal(a2.user.sessions.oneTimeKeysOf(ib), ONE_TIME_BATCH_SIZE - 1, 'dropped from the record');
    const got = await b.port.open(contactIdOf(ia), frame!);
    assert.deepEqual(
      got.map((f) => f.type === 'chat' && f.text),
      ['restored'],
    );
    assert.deepEqual(await send(b, a2, 'welcome back'), ['welcome back']);
    assert.deepEqual(await send(a2, b, 'thanks'), ['thanks']);
    // Consumed: the same frame again is refused and installs nothing.
    const state = bytesToHex(b.user.sessions.serialize());
    const replayed = SessionManager.deserialize(b.user.identity, b.user.sessions.serialize(), {
      now: () => b.user.clock.now,
    });
    // The frame's own session is known to Bob: it opens as that session's (a duplicate), so
    // drop that session to see the key check alone.
    replayed.forget(ia);
    replayed.addContact(a.user.card);
    assert.equal(
      errorCode(() => replayed.tryDecrypt(frame!)),
      'ONE_TIME_KEY_USED',
    );
    assert.equal(replayed.hasSession(ia), false);
    assert.equal(bytesToHex(b.user.sessions.serialize()), state);
  });

  it('a second first-contact frame naming a consumed batch key is refused (ONE_TIME_KEY_USED) and installs nothing', async () => {
    const [a, b] = await pair();
    await send(b, a, 'fine');
    const ib = b.user.identity.peerId;
    const kept = a.user.sessions.oneTimeBatchOf(ib)!;
    // Two restores of one backup: both name the same first key.
    const [x, y] = [restored(a, b.user), restored(a, b.user)];
    const [fx] = await x.port.seal(contactIdOf(ib), [chat('first', x.user.clock.now)]);
    const [fy] = await y.port.seal(contactIdOf(ib), [chat('second', y.user.clock.now)]);
    assert.equal(namedKey(b.user, fx!), kept.unused[0]);
    assert.equal(namedKey(b.user, fy!), kept.unused[0]);
    assert.equal(b.user.sessions.decrypt(fx!).kind, 'message');
    const state = bytesToHex(b.user.sessions.serialize());
    assert.equal(
      errorCode(() => b.user.sessions.tryDecrypt(fy!)),
      'ONE_TIME_KEY_USED',
    );
    assert.equal(bytesToHex(b.user.sessions.serialize()), state);
  });

  it('with the seed and the state stolen after the batch key was consumed, the first-contact frame that used it does not open', async () => {
    const [a, b] = await pair();
    await send(b, a, 'fine');
    const ib = b.user.identity.peerId;
    const a2 = restored(a, b.user);
    const [frame] = await a2.port.seal(contactIdOf(ib), [chat('after the restore', a2.user.clock.now)]);
    const seed = b.user.identity.exportSeed();
    assert.equal(attackerOpens(seed, b.user.sessions.serialize(), frame!), true, 'stolen before: opens');
    const r = b.user.sessions.decrypt(frame!);
    assert.equal(r.kind === 'message' && r.newSession, true);
    assert.equal(
      attackerOpens(seed, b.user.sessions.serialize(), frame!),
      false,
      'consumed: no longer opens',
    );
  });

  it('restores use up the batch; below half it is refilled by the next traffic; with none left the start is signed-pre-key only', async () => {
    const [a0, b] = await pair();
    await send(b, a0, 'fine');
    const ib = b.user.identity.peerId;
    let a = a0;
    const first = a.user.sessions.oneTimeBatchOf(ib)!;
    // Six restores, each from a backup that lists one key fewer (the previous restore used one).
    for (let i = 0; i < 6; i++) {
      a = restored(a, b.user);
      assert.deepEqual(await send(a, b, `restore ${i}`), [`restore ${i}`]);
      // Bob's answer confirms the session; while Alice holds at least half, no new batch.
      assert.deepEqual(await send(b, a, `ok ${i}`), [`ok ${i}`]);
    }
    // Alice held 10 - 6 = 4 < 5 after the sixth: Bob's last answer carried a new batch.
    const refilled = a.user.sessions.oneTimeBatchOf(ib)!;
    assert.notEqual(bytesToHex(refilled.bytes), bytesToHex(first.bytes));
    assert.equal(refilled.unused.length, ONE_TIME_BATCH_SIZE);
    // A backup with no keys left: the new session starts from the signed pre-key alone.
    const none = makeUser('alice', { now: () => a.user.clock.now }, a.user.identity.exportSeed());
    none.clock.now = a.user.clock.now;
    const c = client(none);
    c.port.add(a.port.card(contactIdOf(ib))!);
    const [frame] = await c.port.seal(contactIdOf(ib), [chat('no keys', none.clock.now)]);
    assert.equal(namedKey(b.user, frame!), null);
    assert.deepEqual(
      (await b.port.open(contactIdOf(a.user.identity.peerId), frame!)).map(
        (f) => f.type === 'chat' && f.text,
      ),
      ['no keys'],
    );
  });
});

describe('one-time pre-key batches and older backups', () => {
  it('a backup older than a newer batch over the direct link still restarts the session: its keys open, the message arrives', async () => {
    const [a0, b] = await pair();
    await send(b, a0, 'fine');
    const [ia, ib] = [a0.user.identity.peerId, b.user.identity.peerId];
    // Alice's backup file of today: Bob's first batch.
    const old = a0.user.sessions.oneTimeBatchOf(ib)!;
    // Alice loses her state with no backup at hand: a signed-pre-key-only start, after
    // which Bob believes she holds none of his keys and his answer carries a new batch.
    const bare = makeUser('alice', { now: () => a0.user.clock.now }, a0.user.identity.exportSeed());
    bare.clock.now = a0.user.clock.now;
    const a1 = client(bare);
    a1.port.add(a0.port.card(contactIdOf(ib))!);
    assert.deepEqual(await send(a1, b, 'new phone'), ['new phone']);
    assert.deepEqual(await send(b, a1, 'ok'), ['ok']);
    const newer = a1.user.sessions.oneTimeBatchOf(ib)!;
    assert.notEqual(bytesToHex(newer.bytes), bytesToHex(old.bytes));
    // Then she restores the older file on another install: its keys are of the first batch.
    const fresh = makeUser('alice', { now: () => a0.user.clock.now }, a0.user.identity.exportSeed());
    fresh.clock.now = a0.user.clock.now;
    const a2 = client(fresh);
    a2.port.add(a0.port.card(contactIdOf(ib))!);
    fresh.sessions.restoreOneTimeBatch(ib, old.bytes, old.unused);
    const [frame] = await a2.port.seal(contactIdOf(ib), [chat('from the old backup', fresh.clock.now)]);
    assert.ok(old.unused.includes(namedKey(b.user, frame!)!), 'names a key of the older batch');
    assert.deepEqual(
      (await b.port.open(contactIdOf(ia), frame!)).map((f) => f.type === 'chat' && f.text),
      ['from the old backup'],
    );
    assert.deepEqual(await send(b, a2, 'welcome back'), ['welcome back']);
  });

  it('a backup’s one-time record for a contact it does not hold is refused (UNKNOWN_SESSION), nothing stored', async () => {
    const [a, b] = await pair();
    await send(b, a, 'fine');
    const ib = b.user.identity.peerId;
    const kept = a.user.sessions.oneTimeBatchOf(ib)!;
    const fresh = makeUser('alice', {}, a.user.identity.exportSeed());
    const before = bytesToHex(fresh.sessions.serialize());
    assert.equal(
      errorCode(() => fresh.sessions.restoreOneTimeBatch(ib, kept.bytes, kept.unused)),
      'UNKNOWN_SESSION',
    );
    assert.equal(fresh.sessions.oneTimeKeysOf(ib), 0);
    assert.equal(bytesToHex(fresh.sessions.serialize()), before);
    // The contact added afterwards: the same record is taken, its keys checked again.
    fresh.sessions.addContact(b.user.card);
    fresh.sessions.restoreOneTimeBatch(ib, kept.bytes, kept.unused);
    assert.equal(fresh.sessions.oneTimeKeysOf(ib), ONE_TIME_BATCH_SIZE);
  });
});

describe('hostile one-time pre-key batches', () => {
  async function setup(): Promise<{ a: Client; b: Client; state: () => string; keys: () => number }> {
    const [a, b] = await pair();
    const ib = b.user.identity.peerId;
    return {
      a,
      b,
      state: () => bytesToHex(a.user.sessions.serialize()),
      keys: () => a.user.sessions.oneTimeKeysOf(ib),
    };
  }
  const fakeKeys = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ id: i + 1, publicKey: randomX25519KeyPair().publicKey }));

  it('bad signature, made for someone else, too many keys, duplicate ids, another version, replayed: typed errors, nothing stored', async () => {
    const { a, b, state, keys } = await setup();
    const ib = b.user.identity.peerId;
    const sa = a.user.sessions;
    // Newer than the batch Bob's reply carried.
    const t0 = b.user.clock.now + 1000;
    const good = signOneTimeBatch(b.user.identity, a.user.identity.publicKey, t0, fakeKeys(3));
    const before = state();
    const tampered = good.slice();
    tampered[20]! ^= 1;
    assert.equal(
      errorCode(() => sa.acceptOneTimeBatch(ib, tampered)),
      'BAD_SIGNATURE',
    );
    const carol = makeUser('carol');
    const forCarol = signOneTimeBatch(
      b.user.identity,
      carol.identity.publicKey,
      b.user.clock.now,
      fakeKeys(3),
    );
    assert.equal(
      errorCode(() => sa.acceptOneTimeBatch(ib, forCarol)),
      'BAD_SIGNATURE',
    );
    const byMallory = signOneTimeBatch(makeUser('m').identity, a.user.identity.publicKey, 1, fakeKeys(3));
    assert.equal(
      errorCode(() => sa.acceptOneTimeBatch(ib, byMallory)),
      'BAD_SIGNATURE',
    );
    // Too many keys: the signer refuses to make it, and the decoder refuses a crafted one.
    assert.throws(
      () => signOneTimeBatch(b.user.identity, a.user.identity.publicKey, 1, fakeKeys(MAX_ONE_TIME_BATCH + 1)),
      RangeError,
    );
    const crafted = (n: number, ids: (i: number) => number, version = 1): Uint8Array => {
      const w = new ByteWriter().u8(version).u64(t0).u8(n);
      for (let i = 0; i < n; i++) w.u32(ids(i)).bytes(randomX25519KeyPair().publicKey);
      const body = w.finish();
      return new ByteWriter().bytes(body).bytes(new Uint8Array(64)).finish();
    };
    assert.equal(
      errorCode(() =>
        sa.acceptOneTimeBatch(
          ib,
          crafted(MAX_ONE_TIME_BATCH + 1, (i) => i),
        ),
      ),
      'TOO_LARGE',
    );
    assert.equal(
      errorCode(() =>
        sa.acceptOneTimeBatch(
          ib,
          crafted(255, (i) => i),
        ),
      ),
      'TOO_LARGE',
    );
    assert.equal(
      errorCode(() => parseOneTimeBatch(crafted(3, () => 7))),
      'MALFORMED',
    );
    assert.equal(
      errorCode(() =>
        sa.acceptOneTimeBatch(
          ib,
          crafted(3, () => 7),
        ),
      ),
      'MALFORMED',
    );
    assert.equal(
      errorCode(() =>
        sa.acceptOneTimeBatch(
          ib,
          crafted(0, (i) => i),
        ),
      ),
      'MALFORMED',
    );
    assert.equal(
      errorCode(() =>
        sa.acceptOneTimeBatch(
          ib,
          crafted(3, (i) => i, 2),
        ),
      ),
      'UNKNOWN_VERSION',
    );
    assert.equal(
      errorCode(() => sa.acceptOneTimeBatch(ib, good.subarray(0, good.length - 1))),
      'TRUNCATED',
    );
    assert.equal(state(), before, 'nothing stored');
    assert.equal(keys(), ONE_TIME_BATCH_SIZE, 'the batch kept before');
    // A genuine batch is kept; the same again (or an older one) is a replay.
    sa.acceptOneTimeBatch(ib, good);
    assert.equal(keys(), 3);
    const kept = state();
    assert.equal(
      errorCode(() => sa.acceptOneTimeBatch(ib, good)),
      'REPLAY',
    );
    const older = signOneTimeBatch(b.user.identity, a.user.identity.publicKey, t0 - 1, fakeKeys(3));
    assert.equal(
      errorCode(() => sa.acceptOneTimeBatch(ib, older)),
      'REPLAY',
    );
    assert.equal(state(), kept);
    // Unknown peer.
    assert.equal(
      errorCode(() => sa.acceptOneTimeBatch(carol.identity.peerId, good)),
      'UNKNOWN_SESSION',
    );
  });

  it('a stranger’s batch in session traffic is not kept; per contact only the newest batch is, of at most 16 keys', async () => {
    const a = client(makeUser('alice'));
    const s = client(makeUser('stranger'));
    s.port.add(a.user.card);
    const ia = a.user.identity.peerId;
    const batch = signOneTimeBatch(s.user.identity, a.user.identity.publicKey, s.user.clock.now, fakeKeys(4));
    // The stranger's first message carries a batch besides its chat (an honest client waits
    // for a reply; this one does not).
    const bundle = createEnvelope(
      {
        type: 'bundle',
        envelopes: [
          createEnvelope({ type: 'chat', text: 'buy now' }, s.user.clock.now),
          createEnvelope({ type: 'one-time-keys', batch }, s.user.clock.now),
        ],
      },
      s.user.clock.now,
    );
    const frame = sealEnvelope(s.user.sessions, ia, bundle);
    const [request] = await a.port.openBatch(packBatch([{ bytes: frame, firstContact: true }]));
    assert.ok(request?.stranger, 'a message request');
    assert.deepEqual(
      request.frames.map((f) => f.type === 'chat' && f.text),
      ['buy now'],
    );
    assert.equal(
      a.user.sessions.hasSession(s.user.identity.peerId),
      true,
      'its session is kept with the request',
    );
    assert.equal(a.user.sessions.oneTimeKeysOf(s.user.identity.peerId), 0, 'its batch is not');

    // A contact: only its newest batch is kept, whatever it sends.
    const { a: x, b: y, keys } = await setup();
    const iy = y.user.identity.peerId;
    for (let i = 1; i <= 5; i++)
      x.user.sessions.acceptOneTimeBatch(
        iy,
        signOneTimeBatch(
          y.user.identity,
          x.user.identity.publicKey,
          y.user.clock.now + 1000 * i,
          fakeKeys(MAX_ONE_TIME_BATCH),
        ),
      );
    assert.equal(keys(), MAX_ONE_TIME_BATCH);
  });
});
