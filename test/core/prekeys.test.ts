import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Address, AddressVersion } from '../../src/kaspa/address.ts';
import { ContactCard, Invite } from '../../src/core/contact/card.ts';
import { bytesToHex, concatBytes, utf8ToBytes } from '../../src/util/bytes.ts';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomX25519KeyPair, x25519Shared } from '../../src/core/identity/keys.ts';
import { ByteReader } from '../../src/util/binary.ts';
import { Identity } from '../../src/core/identity/identity.ts';
import { SessionManager } from '../../src/core/session/session-manager.ts';
import { DEFAULT_PREKEY_POLICY, PreKeyRing } from '../../src/core/session/prekeys.ts';
import {
  FIRST_CONTACT_OVERHEAD,
  ONE_TIME_ID_BYTES,
  openFirstContact,
} from '../../src/core/session/first-contact.ts';
import { x3dhRespond } from '../../src/core/session/x3dh.ts';
import { Ratchet } from '../../src/core/session/ratchet.ts';
import { PreKeyTimer } from '../../src/core/session/prekey-timer.ts';
import { until } from './delivery/harness.ts';
import { EnvelopeSessions, contactIdOf } from '../../src/core/delivery/sessions.ts';
import { randomBytes } from '../../src/util/bytes.ts';
import { makeUser, errorCode, enc, dec, deliver, type TestUser } from './helpers.ts';

describe('contact cards in the session manager', () => {
  it('a different card with an equal issue time is refused (STALE_VERSION); the same card again is a no-op', () => {
    const a = makeUser('alice');
    const b = makeUser('bob');
    b.sessions.addContact(a.card);
    const rival = ContactCard.create(a.identity, {
      preKey: a.sessions.preKey,
      displayName: 'not alice',
      addresses: [new Address('kaspatest', AddressVersion.PubKey, new Uint8Array(32).fill(9))],
      issuedAt: a.card.issuedAt,
    });
    assert.equal(
      errorCode(() => b.sessions.addContact(rival)),
      'STALE_VERSION',
    );
    assert.equal(b.sessions.contact(a.identity.peerId)?.displayName, 'alice');
    b.sessions.addContact(ContactCard.deserialize(a.card.serialize()));
    assert.equal(b.sessions.contact(a.identity.peerId)?.displayName, 'alice');
  });
});

describe('forward secrecy before the first reply', () => {
  it('after rotation and the grace window, 0 of N archived pre-reply messages open with the seed', () => {
    const b = makeUser('bob');
    const archive: Uint8Array[] = [];
    const N = 6;
    const unread = makeUser('unread');
    unread.sessions.addContact(b.card);
    // Never delivered to Bob: the control below opens it with a state stolen in time.
    const lost = unread.sessions.encrypt(b.identity.peerId, enc('lost on the way'));
    for (let i = 0; i < N; i++) {
      const a = makeUser(`stranger ${i}`);
      a.sessions.addContact(b.card);
      for (let j = 0; j < 2; j++) {
        const frame = a.sessions.encrypt(b.identity.peerId, enc(`pre-reply ${i}.${j}`));
        archive.push(frame);
        const r = b.sessions.decrypt(frame);
        assert.equal(r.kind === 'message' && dec(r.plaintext), `pre-reply ${i}.${j}`);
      }
    }
    // An attacker's own code keeps every key it can get.
    const keepAll = { rotateAfterMs: 1e15, rotateAfterFirstContacts: 1e6, graceMs: 1e15 };
    const steal = (): SessionManager =>
      SessionManager.deserialize(Identity.fromSeed(b.identity.exportSeed()), b.sessions.serialize(), {
        now: () => b.clock.now,
        preKeys: keepAll,
      });
    // Control: inside the grace window a stolen state still opens what Bob never received.
    b.clock.now += DEFAULT_PREKEY_POLICY.rotateAfterMs;
    assert.equal(b.sessions.refreshPreKeys(), true, 'rotated');
    assert.equal(steal().tryDecrypt(lost)?.kind, 'message');
    b.clock.now += DEFAULT_PREKEY_POLICY.graceMs;
    assert.equal(b.sessions.refreshPreKeys(), true, 'old pre-key wiped');
    // The attacker: the seed (recovery key, or a stolen vault and its password), every frame
    // ever published, and the device's storage (sealed under a key the seed yields).
    const seed = b.identity.exportSeed();
    const attackers = [
      SessionManager.create(Identity.fromSeed(seed), { now: () => b.clock.now, preKeys: keepAll }),
      steal(),
    ];
    let opened = 0;
    for (const attacker of attackers)
      for (const frame of [...archive, lost]) {
        try {
          if (attacker.tryDecrypt(frame)?.kind === 'message') opened++;
        } catch {
          // refused: not opened
        }
      }
    assert.equal(opened, 0);
  });
});

describe('one-time pre-keys from an invite', () => {
  // An attacker's own code keeps every key it can get.
  const keepAll = { rotateAfterMs: 1e15, rotateAfterFirstContacts: 1e6, graceMs: 1e15 };

  /**
   * What an attacker with the seed and a copy of the state opens: it runs the responder side of
   * PQXDH itself with every pre-key secret the state holds, skipping every check of ours.
   */
  function attackerOpens(seed: Uint8Array, state: Uint8Array, frame: Uint8Array): boolean {
    const r = new ByteReader(state);
    r.u8('state version');
    const ring = PreKeyRing.read(r, keepAll);
    const o = openFirstContact(frame, ring.active());
    if (o === undefined) return false;
    const card = ContactCard.deserialize(o.senderCard);
    const otk = o.oneTimeKeyId === null ? undefined : ring.oneTime(o.oneTimeKeyId);
    const s = x3dhRespond(
      Identity.fromSeed(seed),
      o.preKey.dh,
      card.identityKey,
      card.identityDhKey,
      o.ephemeralKey,
      { ciphertext: o.kemCiphertext, secretKey: o.preKey.kemSecretKey },
      typeof otk === 'object' ? otk : undefined,
    );
    try {
      return (
        Ratchet.initResponder(s.sk, o.preKey.dh, s.hka, s.nhkb, s.ad).decrypt(o.inner, 0).kind === 'message'
      );
    } catch {
      return false;
    }
  }

  /** Bob's invite with `n` fresh one-time pre-keys, as a link (its state saved first). */
  function inviteOf(b: TestUser, n = 1): string {
    return new Invite(b.sessions.ownCard!, b.sessions.mintOneTimeKeys(n)).toLink();
  }

  /** `a` adds the invite behind `link` as the web app does. */
  function addInvite(a: TestUser, link: string): void {
    const invite = Invite.fromLink(link);
    a.sessions.addContact(invite.card);
    a.sessions.addOneTimeKeys(invite.card.peerId, invite.oneTimeKeys);
  }

  it('with the seed and the state stolen after the one-time key was consumed, the first message does not open', () => {
    const b = makeUser('bob');
    const a = makeUser('alice');
    addInvite(a, inviteOf(b));
    assert.equal(a.sessions.oneTimeKeysOf(b.identity.peerId), 1);
    const first = a.sessions.encrypt(b.identity.peerId, enc('hello with a one-time key'));
    assert.equal(a.sessions.oneTimeKeysOf(b.identity.peerId), 0, 'used once by the sender too');
    // Control: a first message to the same signed pre-key without a one-time key.
    const c = makeUser('carol');
    c.sessions.addContact(b.card);
    const plain = c.sessions.encrypt(b.identity.peerId, enc('hello with a one-time key'));
    assert.equal(
      first.length - plain.length,
      ONE_TIME_ID_BYTES + (a.card.serializeCompact().length - c.card.serializeCompact().length),
    );

    const seed = b.identity.exportSeed();
    const before = b.sessions.serialize();
    assert.equal(attackerOpens(seed, before, first), true, 'a state stolen before Bob read it opens it');
    const r = b.sessions.decrypt(first);
    assert.equal(r.kind === 'message' && dec(r.plaintext), 'hello with a one-time key');
    b.sessions.decrypt(plain);
    const after = b.sessions.serialize();
    assert.equal(attackerOpens(seed, after, first), false, 'consumed: the state no longer opens it');
    assert.equal(
      attackerOpens(seed, after, plain),
      true,
      'without a one-time key, the signed pre-key still opens it',
    );
    // Alice's next pre-reply frames name the same key and open in the same session.
    const again = b.sessions.decrypt(a.sessions.encrypt(b.identity.peerId, enc('still before a reply')));
    assert.equal(
      again.kind === 'message' && !again.newSession && dec(again.plaintext),
      'still before a reply',
    );
    deliver(b, a, 'answer');
    assert.equal(dec((deliver(a, b, 'confirmed') as { plaintext: Uint8Array }).plaintext), 'confirmed');
  });

  it('a second first contact naming a consumed one-time key is refused (ONE_TIME_KEY_USED) and installs nothing', () => {
    const b = makeUser('bob');
    const link = inviteOf(b);
    const [a, m] = [makeUser('alice'), makeUser('mallory')];
    addInvite(a, link);
    addInvite(m, link);
    b.sessions.decrypt(a.sessions.encrypt(b.identity.peerId, enc('first')));
    const second = m.sessions.encrypt(b.identity.peerId, enc('same invite'));
    const state = bytesToHex(b.sessions.serialize());
    assert.equal(
      errorCode(() => b.sessions.tryDecrypt(second)),
      'ONE_TIME_KEY_USED',
    );
    assert.equal(b.sessions.hasSession(m.identity.peerId), false);
    assert.equal(bytesToHex(b.sessions.serialize()), state);
    // The refusal survives a reload of the state.
    const reloaded = SessionManager.deserialize(b.identity, b.sessions.serialize(), {
      now: () => b.clock.now,
    });
    assert.equal(
      errorCode(() => reloaded.tryDecrypt(second)),
      'ONE_TIME_KEY_USED',
    );
  });

  it('unclaimed one-time keys are bounded and expire; a frame naming a wiped one is refused (EXPIRED)', () => {
    const b = makeUser('bob', { preKeys: { ...DEFAULT_PREKEY_POLICY, maxOneTime: 3 } });
    const a = makeUser('alice');
    const [oldest, ...rest] = b.sessions.mintOneTimeKeys(3);
    assert.equal(rest.length, 2);
    b.sessions.mintOneTimeKeys(1);
    assert.equal(b.sessions.holdsOneTimeKey(oldest!.id), false, 'the oldest goes first');
    for (const k of rest) assert.equal(b.sessions.holdsOneTimeKey(k.id), true);
    addInvite(a, new Invite(b.card, [oldest!]).toLink());
    assert.equal(
      errorCode(() => b.sessions.tryDecrypt(a.sessions.encrypt(b.identity.peerId, enc('too late')))),
      'EXPIRED',
    );
    const link = inviteOf(b);
    const id = Invite.fromLink(link).oneTimeKeys[0]!.id;
    b.clock.now += DEFAULT_PREKEY_POLICY.oneTimeLifetimeMs! - 1;
    b.sessions.refreshPreKeys();
    assert.equal(b.sessions.holdsOneTimeKey(id), true);
    b.clock.now += 1;
    assert.equal(b.sessions.refreshPreKeys(), true);
    assert.equal(b.sessions.holdsOneTimeKey(id), false, 'wiped at the end of its lifetime');
    const wiped = b.sessions.serialize();
    assert.equal(PreKeyRing.read(readerAfterVersion(wiped), keepAll).oneTime(id), undefined);
  });

  it('when no one-time key is left the start falls back to the signed pre-key alone', () => {
    const b = makeUser('bob');
    const a = makeUser('alice');
    addInvite(a, new Invite(b.sessions.ownCard!, []).toLink());
    const frame = a.sessions.encrypt(b.identity.peerId, enc('no one-time key'));
    const compact = a.card.serializeCompact().length;
    const inner = frame.length - FIRST_CONTACT_OVERHEAD - compact;
    const withKey = makeUser('carol');
    addInvite(withKey, inviteOf(b));
    const frame2 = withKey.sessions.encrypt(b.identity.peerId, enc('no one-time key'));
    assert.equal(
      frame2.length - FIRST_CONTACT_OVERHEAD - withKey.card.serializeCompact().length - inner,
      ONE_TIME_ID_BYTES,
    );
    const r = b.sessions.decrypt(frame);
    assert.equal(r.kind === 'message' && dec(r.plaintext), 'no one-time key');
  });
});

describe('pre-key rotation in a running app', () => {
  const adapter = (user: TestUser, onContactCard?: (c: ContactCard) => void): EnvelopeSessions =>
    new EnvelopeSessions({
      self: user.identity.peerId,
      sessions: user.sessions,
      save: async () => {},
      now: () => user.clock.now,
      ...(onContactCard ? { onContactCard } : {}),
    });
  const chat = (text: string, sentAt: number) =>
    ({ type: 'chat', id: randomBytes(16), sentAt, text }) as const;

  it('a quiet app rotates on its timer and at unlock, saves first, and the new card reaches a contact with the next traffic', async () => {
    const a = makeUser('alice');
    const b = makeUser('bob');
    const learned: ContactCard[] = [];
    const [ta, tb] = [adapter(a, (c) => learned.push(c)), adapter(b)];
    ta.add(b.card);
    tb.add(a.card);
    const [ia, ib] = [contactIdOf(a.identity.peerId), contactIdOf(b.identity.peerId)];
    for (const [from, to, id, u] of [
      [ta, tb, ia, a],
      [tb, ta, ib, b],
    ] as const)
      for (const f of await from.seal(to === tb ? ib : ia, [chat('hello', u.clock.now)]))
        await to.open(id, f);
    const saved: Uint8Array[] = [];
    const changes: (ContactCard | null)[] = [];
    const timer = new PreKeyTimer({
      sessions: b.sessions,
      save: async (state) => {
        saved.push(state);
      },
      onChange: (card) => changes.push(card),
      everyMs: 5,
    });
    try {
      const before = b.sessions.preKey.id;
      // No traffic: only the clock moves, a week.
      b.clock.now += DEFAULT_PREKEY_POLICY.rotateAfterMs;
      await until('the timer rotated', () => changes[0]);
      const card = changes[0]!;
      assert.notEqual(card.preKeyId, before);
      assert.equal(saved.length, 1, 'saved before it was announced');
      const stored = SessionManager.deserialize(b.identity, saved[0]!, { now: () => b.clock.now });
      assert.equal(stored.ownCard?.preKeyId, card.preKeyId);
      // Bob's next message to Alice carries the new card (envelope type 8).
      a.clock.now = b.clock.now;
      for (const f of await tb.seal(ia, [chat('a week later', b.clock.now)])) await ta.open(ib, f);
      assert.equal(learned.at(-1)?.preKeyId, card.preKeyId);
      // The app was closed past the grace window: the check at unlock wipes the retired key.
      timer.stop();
      b.clock.now += DEFAULT_PREKEY_POLICY.graceMs;
      const unlock = new PreKeyTimer({ sessions: b.sessions, save: async (state) => void saved.push(state) });
      assert.equal(await unlock.check(), true);
      unlock.stop();
      assert.equal(b.sessions.serialize().length < saved[0]!.length, true, 'the retired pre-key is gone');
    } finally {
      timer.stop();
    }
  });
});

describe('first-contact frame versions', () => {
  it('a version 2 sealed part (no one-time key field) is refused with UNSUPPORTED_VERSION and installs nothing', () => {
    const a = makeUser('alice');
    const b = makeUser('bob');
    // The version 2 wrapper, built as a client of that version did (first-contact.ts layout).
    const spk = b.sessions.preKey.publicKey;
    const e = randomX25519KeyPair();
    const out = hkdf(
      sha256,
      x25519Shared(e.secretKey, spk),
      concatBytes(e.publicKey, spk),
      utf8ToBytes('p2pcomm/v2/first-contact'),
      42,
    );
    const sealed = xchacha20poly1305(out.subarray(8, 40), new Uint8Array(24), out.subarray(0, 8)).encrypt(
      concatBytes(Uint8Array.of(2), randomBytes(32), randomBytes(1088), a.card.serializeCompact()),
    );
    const mask = (out[40]! << 8) | out[41]!;
    const frame = concatBytes(
      out.subarray(0, 8),
      e.publicKey,
      Uint8Array.of((sealed.length ^ mask) >> 8, (sealed.length ^ mask) & 0xff),
      sealed,
      randomBytes(80),
    );
    const before = bytesToHex(b.sessions.serialize());
    assert.equal(
      errorCode(() => b.sessions.tryDecrypt(frame)),
      'UNSUPPORTED_VERSION',
    );
    assert.equal(bytesToHex(b.sessions.serialize()), before);
  });
});

function readerAfterVersion(state: Uint8Array): ByteReader {
  const r = new ByteReader(state);
  r.u8('state version');
  return r;
}

describe('replayed first-contact frames', () => {
  it('an archived first-contact frame of a session that has ended installs nothing, and no header key and nonce pair is used twice', () => {
    const a = makeUser('alice');
    const b = makeUser('bob');
    a.sessions.addContact(b.card);
    const first = a.sessions.encrypt(b.identity.peerId, enc('hello'));
    b.sessions.decrypt(first);
    const tags = new Set<string>();
    const fromBob = (text: string): Uint8Array => {
      const f = b.sessions.encrypt(a.identity.peerId, enc(text));
      const tag = bytesToHex(f.subarray(0, 8));
      assert.equal(tags.has(tag), false, `tag of "${text}" repeats`);
      tags.add(tag);
      return f;
    };
    a.sessions.decrypt(fromBob('welcome'));
    // Alice loses her state three times; each time her new session replaces the last one.
    for (let i = 0; i < 3; i++) {
      const fresh = SessionManager.create(a.identity, { now: () => a.clock.now });
      fresh.issueOwnCard({ displayName: 'alice', addresses: a.card.addresses });
      fresh.addContact(b.card);
      b.sessions.decrypt(fresh.encrypt(b.identity.peerId, enc(`restart ${i}`)));
      fresh.decrypt(fromBob(`back ${i}`));
    }
    const before = bytesToHex(b.sessions.serialize());
    assert.notEqual(
      errorCode(() => b.sessions.tryDecrypt(first)),
      'none',
    );
    assert.equal(bytesToHex(b.sessions.serialize()), before);
    fromBob('after the replay');
  });
});

describe('session adapter: first contact and card announcements', () => {
  const adapter = (user: TestUser, now: () => number): EnvelopeSessions =>
    new EnvelopeSessions({ self: user.identity.peerId, sessions: user.sessions, save: async () => {}, now });
  const chat = (text: string, sentAt: number) =>
    ({ type: 'chat', id: randomBytes(16), sentAt, text }) as const;

  it('a first-contact frame 60 days old (outside the replay window) installs no session', async () => {
    const a = makeUser('alice');
    // A pre-key kept past 60 days (a policy of its own), so only the age check stands in the way.
    const b = makeUser('bob', {
      preKeys: { rotateAfterMs: 90 * 86_400_000, rotateAfterFirstContacts: 50, graceMs: 0 },
    });
    const sender = adapter(a, () => a.clock.now);
    sender.add(b.card);
    const [frame] = await sender.seal(contactIdOf(b.identity.peerId), [chat('old news', a.clock.now)]);
    b.clock.now += 60 * 86_400_000;
    const before = bytesToHex(b.sessions.serialize());
    const got = await adapter(b, () => b.clock.now).open(contactIdOf(a.identity.peerId), frame!);
    assert.deepEqual(got, []);
    assert.equal(b.sessions.hasSession(a.identity.peerId), false);
    assert.equal(bytesToHex(b.sessions.serialize()), before);
  });

  it('a rotated pre-key reaches a contact in session traffic; a restored peer then starts over cleanly', async () => {
    const a = makeUser('alice');
    const b = makeUser('bob');
    const [ta, tb] = [adapter(a, () => a.clock.now), adapter(b, () => b.clock.now)];
    ta.add(b.card);
    const [ia, ib] = [contactIdOf(a.identity.peerId), contactIdOf(b.identity.peerId)];
    const hop = async (
      from: EnvelopeSessions,
      to: EnvelopeSessions,
      id: string,
      text: string,
      now: number,
    ) => {
      const frames = await from.seal(to === tb ? ib : ia, [chat(text, now)]);
      const out = [];
      for (const f of frames) out.push(...(await to.open(id, f)));
      return out.map((f) => (f.type === 'chat' ? f.text : f.type));
    };
    // Alice is a stranger to Bob: her first contact (by chain) is a message request carrying
    // her compact card, and Bob accepts it, which makes that card a contact.
    const payload = await ta.sealBatch([{ contact: ib, frames: [chat('hi', a.clock.now)] }]);
    const [request, ...none] = await tb.openBatch(payload);
    assert.ok(request);
    assert.deepEqual(none, []);
    assert.equal(request.contact, ia);
    assert.deepEqual(
      request.frames.map((f) => (f.type === 'chat' ? f.text : f.type)),
      ['hi'],
    );
    assert.equal(tb.has(ia), false, 'not a contact before the request is accepted');
    assert.ok(request.stranger);
    tb.add(request.stranger);
    assert.deepEqual(await hop(tb, ta, ib, 'hello', b.clock.now), ['hello']);
    // Bob knew only Alice's compact card from her first-contact frame; her next message hands
    // over the full one.
    assert.equal(tb.card(ia)?.kemPreKey, undefined);
    assert.deepEqual(await hop(ta, tb, ia, 'how are you', a.clock.now), ['how are you']);
    assert.notEqual(tb.card(ia)?.kemPreKey, undefined);
    // A week on, Bob's pre-key rotates; Alice learns his new card with his next message.
    b.clock.now += DEFAULT_PREKEY_POLICY.rotateAfterMs;
    a.clock.now = b.clock.now;
    assert.equal(b.sessions.refreshPreKeys(), true);
    const bobNow = b.sessions.ownCard!;
    assert.notEqual(bobNow.preKeyId, b.card.preKeyId);
    assert.deepEqual(await hop(tb, ta, ib, 'fine', b.clock.now), ['fine']);
    assert.equal(ta.card(ib)?.issuedAt, bobNow.issuedAt);
    // Alice loses her state and restores from her seed with Bob's newest card: her new
    // session replaces the old one on Bob's side, both ways.
    const fresh = makeUser('alice', { now: () => a.clock.now }, a.identity.exportSeed());
    const ta2 = adapter(fresh, () => a.clock.now);
    ta2.add(ta.card(ib)!);
    assert.deepEqual(await hop(ta2, tb, ia, 'restored', a.clock.now), ['restored']);
    assert.deepEqual(await hop(tb, ta2, ib, 'welcome back', b.clock.now), ['welcome back']);
    assert.deepEqual(await hop(ta2, tb, ia, 'thanks', a.clock.now), ['thanks']);
  });
});
