import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sealFirstContact } from '../../../src/core/session/first-contact.ts';
import { SessionError } from '../../../src/core/errors.ts';
import { ContactCard } from '../../../src/core/contact/card.ts';
import { ML_KEM, asMlKemCiphertext, randomX25519KeyPair } from '../../../src/core/identity/keys.ts';
import { ByteWriter } from '../../../src/util/binary.ts';
import { concatBytes, randomBytes } from '../../../src/util/bytes.ts';
import { makePair, makeUser, errorCode, type TestUser } from '../helpers.ts';

/** A first-contact wrapper to `to` around `card`; the X3DH values inside are random. */
function firstContact(to: TestUser, card: Uint8Array): Uint8Array {
  return sealFirstContact(
    to.card.preKey,
    randomX25519KeyPair().publicKey,
    asMlKemCiphertext(randomBytes(ML_KEM.ciphertext)),
    card,
    randomBytes(120),
  );
}

/** Alice's card bytes with byte `at` flipped: same identity key, no longer what she signed. */
function flipped(card: ContactCard, at: (compact: Uint8Array) => number): Uint8Array {
  const bytes = card.serializeCompact();
  bytes[at(bytes)]! ^= 0x01;
  return bytes;
}

describe('first contact: the sender card', () => {
  // A first contact from a contact whose card the session holds skips a second signature
  // check; a card that claims the same identity but differs must still be checked and refused.
  const forgeries = (alice: TestUser): [string, Uint8Array][] => [
    ['signature', flipped(alice.card, (b) => b.length - 1)],
    ['signed body', flipped(alice.card, (b) => b.length - 70)],
    [
      'ML-KEM key beside the compact form',
      concatBytes(alice.card.serializeCompact(), randomBytes(ML_KEM.publicKey)),
    ],
  ];

  it('a forged card claiming a known contact is refused (SENDER_MISMATCH), nothing installed', () => {
    const [alice, bob] = makePair();
    const before = bob.sessions.serialize();
    for (const [what, card] of forgeries(alice)) {
      assert.equal(ContactCard.claimedPeerId(card)?.join(), alice.identity.peerId.join(), what);
      assert.equal(
        errorCode(() => bob.sessions.tryDecrypt(firstContact(bob, card)), SessionError),
        'SENDER_MISMATCH',
        what,
      );
    }
    assert.deepEqual(bob.sessions.serialize(), before);
  });

  it('the same forgeries from a stranger are refused the same way', () => {
    const alice = makeUser('alice');
    const bob = makeUser('bob');
    for (const [what, card] of forgeries(alice)) {
      assert.equal(
        errorCode(() => bob.sessions.tryDecrypt(firstContact(bob, card)), SessionError),
        'SENDER_MISMATCH',
        what,
      );
    }
  });

  it('a card shorter than its identity key claims no one', () => {
    assert.equal(ContactCard.claimedPeerId(new Uint8Array(32)), undefined);
  });
});

describe('ContactCard.writeTo', () => {
  it('writes exactly varBytes(serialize()), full and compact', () => {
    const alice = makeUser('alice');
    const compact = ContactCard.deserialize(alice.card.serializeCompact());
    for (const card of [alice.card, compact]) {
      const w = new ByteWriter(16);
      card.writeTo(w);
      assert.deepEqual(w.finish(), new ByteWriter(16).varBytes(card.serialize()).finish());
      assert.ok(card.matches(card.serialize()));
      assert.ok(card.matches(card.serializeCompact()));
    }
    assert.ok(!compact.matches(alice.card.serialize()), 'a compact card does not claim the full form');
  });
});
