import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Address, AddressVersion } from '../../src/kaspa/address.ts';
import { ContactCard } from '../../src/core/contact/card.ts';
import { bytesToHex } from '../../src/util/bytes.ts';
import { Identity } from '../../src/core/identity/identity.ts';
import { SessionManager } from '../../src/core/session/session-manager.ts';
import { DEFAULT_PREKEY_POLICY } from '../../src/core/session/prekeys.ts';
import { makeUser, errorCode, enc, dec } from './helpers.ts';

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
