import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Address, AddressVersion } from '../../src/kaspa/address.ts';
import { Identity } from '../../src/core/identity/identity.ts';
import {
  ContactCard,
  INVITE_ONE_TIME_BYTES,
  INVITE_ADDRESS_BYTES,
  INVITE_VERSION,
  INVITE_VERSION_NO_ADDRESS,
  Invite,
  MAX_CARD_BYTES,
  MAX_INVITE_ONE_TIME,
} from '../../src/core/contact/card.ts';
import { ContactCardError } from '../../src/core/errors.ts';
import { DecodeError, P2pCommError } from '../../src/util/errors.ts';
import { concatBytes } from '../../src/util/bytes.ts';
import { encode } from 'uqr';
import { PreKeyRing } from '../../src/core/session/prekeys.ts';
import { errorCode } from './helpers.ts';

const alice = Identity.generate();
const preKey = PreKeyRing.create(0).current();
const address = new Address('kaspa', AddressVersion.PubKey, new Uint8Array(32).fill(7));
const card = ContactCard.create(alice, {
  displayName: 'Alice',
  addresses: [address],
  issuedAt: 1_760_000_000,
  preKey,
});

describe('contact card', () => {
  it('round-trips through bytes and the link form', () => {
    for (const c of [ContactCard.deserialize(card.serialize()), ContactCard.fromLink(card.toLink())]) {
      assert.deepEqual(c.identityKey, alice.publicKey);
      assert.deepEqual(c.peerId, alice.peerId);
      assert.deepEqual(c.preKey, preKey.publicKey);
      assert.equal(c.preKeyId, preKey.id);
      assert.deepEqual(c.kemPreKey, preKey.kemPublicKey);
      assert.equal(c.displayName, 'Alice');
      assert.equal(c.issuedAt, 1_760_000_000);
      assert.equal(c.addresses[0]!.toString(), address.toString());
      assert.deepEqual(c.identityDhKey, alice.dhPublicKey);
    }
  });

  it('the full link carries the ML-KEM pre-key and fits a QR code; the compact form stays small', () => {
    const c = ContactCard.create(alice, { displayName: 'Alexandra Müller', addresses: [address], preKey });
    const link = c.toLink();
    // 1,184 key bytes are 1,579 base64url characters; the rest is the compact card.
    assert.ok(link.length > 1800 && link.length < 2000, `${link.length} chars`);
    const qr = encode(link, { ecc: 'M', border: 2 });
    assert.ok(qr.version <= 36, `QR version ${qr.version}`);
    const compact = ContactCard.deserialize(c.serializeCompact());
    assert.equal(compact.kemPreKey, undefined);
    assert.ok(c.serializeCompact().length < 260, `${c.serializeCompact().length} B`);
    assert.equal(compact.sameCard(c), true);
    assert.deepEqual(compact.preKey, c.preKey);
  });

  it('an ML-KEM pre-key other than the signed one is BAD_SIGNATURE; a cut one is TRUNCATED', () => {
    const other = PreKeyRing.create(0).current();
    const swapped = concatBytes(card.serializeCompact(), other.kemPublicKey);
    assert.equal(
      errorCode(() => ContactCard.deserialize(swapped)),
      'BAD_SIGNATURE',
    );
    assert.equal(
      errorCode(() => ContactCard.deserialize(card.serialize().subarray(0, card.serialize().length - 1))),
      'TRUNCATED',
    );
  });

  it('a version 1 card (seed-derived pre-key) is refused with UNKNOWN_VERSION', () => {
    const v1 = card.serialize();
    v1[0] = 1;
    assert.equal(
      errorCode(() => ContactCard.deserialize(v1)),
      'UNKNOWN_VERSION',
    );
  });

  it('accepts the link inside an invite URL fragment and with spaces around', () => {
    assert.deepEqual(
      ContactCard.fromLink(` https://example.org/invite#${card.toLink()} `).peerId,
      alice.peerId,
    );
  });

  it('round-trips arbitrary names, addresses and versions (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }),
        fc.array(
          fc.tuple(
            fc.constantFrom(...(['kaspa', 'kaspatest', 'kaspasim', 'kaspadev'] as const)),
            fc.constantFrom(0, 1, 8),
          ),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 0xffff_ffff }),
        (name, addrs, issuedAt, preKeyId) => {
          const addresses = addrs.map(
            ([p, v]) => new Address(p, v, new Uint8Array(v === 1 ? 33 : 32).fill(v + 1)),
          );
          const c = ContactCard.create(alice, {
            displayName: name,
            addresses,
            issuedAt,
            preKey: { ...preKey, id: preKeyId },
          });
          const d = ContactCard.deserialize(c.serialize());
          assert.equal(d.displayName, name.normalize('NFC'));
          assert.equal(d.issuedAt, issuedAt);
          assert.equal(d.preKeyId, preKeyId);
          assert.deepEqual(d.preKey, preKey.publicKey);
          assert.deepEqual(d.addresses.map(String), addresses.map(String));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('any altered byte is refused with a typed error (tampering)', () => {
    const bytes = card.serialize();
    for (let i = 0; i < bytes.length; i++) {
      const bad = bytes.slice();
      bad[i]! ^= 0x04;
      const c = errorCode(() => ContactCard.deserialize(bad));
      assert.ok(
        [
          'BAD_SIGNATURE',
          'MALFORMED',
          'UNKNOWN_VERSION',
          'TRUNCATED',
          'TRAILING_BYTES',
          'TOO_LARGE',
        ].includes(c),
        `byte ${i}: ${c}`,
      );
    }
  });

  it('a card signed by someone else is BAD_SIGNATURE', () => {
    const mallory = Identity.generate();
    const forged = ContactCard.create(mallory, {
      displayName: 'Alice',
      addresses: [address],
      preKey,
    }).serialize();
    forged.set(alice.publicKey, 1);
    assert.equal(
      errorCode(() => ContactCard.deserialize(forged)),
      'BAD_SIGNATURE',
    );
  });

  it('truncated at every length, or with trailing bytes: DecodeError', () => {
    const bytes = card.serialize();
    const compact = card.serializeCompact().length;
    assert.equal(ContactCard.deserialize(bytes.subarray(0, compact)).kemPreKey, undefined);
    for (let n = 0; n < bytes.length; n++) {
      if (n === compact) continue;
      assert.throws(
        () => ContactCard.deserialize(bytes.subarray(0, n)),
        (e: unknown) => e instanceof DecodeError,
      );
    }
    assert.equal(
      errorCode(() => ContactCard.deserialize(new Uint8Array([...bytes, 0]))),
      'TRAILING_BYTES',
    );
    assert.equal(
      errorCode(() => ContactCard.deserialize(new Uint8Array(MAX_CARD_BYTES + 1))),
      'TOO_LARGE',
    );
  });

  it('random bytes and random links never crash the decoders', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        try {
          ContactCard.deserialize(b);
          assert.fail('random bytes accepted');
        } catch (e) {
          assert.ok(e instanceof DecodeError || e instanceof ContactCardError, String(e));
        }
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        try {
          ContactCard.fromLink(s);
        } catch (e) {
          assert.ok(e instanceof P2pCommError, String(e));
        }
      }),
      { numRuns: 300 },
    );
    assert.equal(
      errorCode(() => ContactCard.fromLink('p2pcomm:!!!')),
      'BAD_LINK',
    );
  });

  it('a newer card supersedes an older one of the same identity only', () => {
    const newer = ContactCard.create(alice, {
      displayName: 'Alice',
      addresses: [address],
      issuedAt: 1_760_000_100,
      preKey: { ...preKey, id: 1 },
    });
    assert.equal(newer.supersedes(card), true);
    assert.equal(card.supersedes(newer), false);
    const other = ContactCard.create(Identity.generate(), {
      displayName: 'x',
      addresses: [address],
      issuedAt: 2_000_000_000,
      preKey,
    });
    assert.equal(other.supersedes(card), false);
  });

  it('checks issuing arguments', () => {
    assert.throws(
      () => ContactCard.create(alice, { displayName: 'x'.repeat(65), addresses: [address], preKey }),
      RangeError,
    );
    assert.throws(() => ContactCard.create(alice, { displayName: 'x', addresses: [], preKey }), RangeError);
    assert.throws(
      () =>
        ContactCard.create(alice, { displayName: 'x', addresses: [address], preKey: { ...preKey, id: -1 } }),
      RangeError,
    );
  });
});

describe('invite link (version 3, written without a first-contact address)', () => {
  const ring = PreKeyRing.create(0);
  const keys = ring.mintOneTime(0, 2);

  it('round-trips the card and its one-time pre-keys; each adds 36 bytes, about 48 characters', () => {
    const invite = Invite.fromLink(new Invite(card, keys).toLink());
    assert.ok(invite.card.sameCard(card));
    assert.notEqual(invite.card.kemPreKey, undefined);
    assert.deepEqual(
      invite.oneTimeKeys.map((k) => [k.id, [...k.publicKey]]),
      keys.map((k) => [k.id, [...k.publicKey]]),
    );
    // The app's own card reader takes an invite too, and gives its card.
    assert.ok(ContactCard.fromLink(new Invite(card, keys).toLink()).sameCard(card));
    const none = new Invite(card).toLink().length;
    const one = new Invite(card, keys.slice(0, 1)).toLink().length;
    assert.equal(new Invite(card).serialize().length, card.serialize().length + 2);
    assert.equal(
      new Invite(card, keys.slice(0, 1)).serialize().length - new Invite(card).serialize().length,
      INVITE_ONE_TIME_BYTES,
    );
    assert.ok(one - none >= 47 && one - none <= 49, `${one - none} characters`);
    assert.ok(one - card.toLink().length <= 51);
    // Still one QR code (one version up from the bare card at most).
    const qr = encode(new Invite(card, keys.slice(0, 1)).toLink(), { ecc: 'M', border: 2 });
    assert.ok(qr.version <= 37, `QR version ${qr.version}`);
  });

  it('a bare card link (invite version 2) or another version is refused with UNKNOWN_VERSION', () => {
    assert.equal(
      errorCode(() => Invite.fromLink(card.toLink())),
      'UNKNOWN_VERSION',
    );
    const bytes = new Invite(card, keys).serialize();
    bytes[0] = 4;
    assert.equal(
      errorCode(() => Invite.deserialize(bytes)),
      'UNKNOWN_VERSION',
    );
  });

  it('hostile invites give typed errors: too many keys, duplicate ids, compact card, truncation, tampering', () => {
    const good = new Invite(card, keys).serialize();
    const many = good.slice();
    many[1] = MAX_INVITE_ONE_TIME + 1;
    assert.equal(
      errorCode(() => Invite.deserialize(many)),
      'MALFORMED',
    );
    const dup = good.slice();
    dup.set(dup.subarray(2, 6), 2 + INVITE_ONE_TIME_BYTES);
    assert.equal(
      errorCode(() => Invite.deserialize(dup)),
      'MALFORMED',
    );
    const compact = concatBytes(Uint8Array.of(INVITE_VERSION_NO_ADDRESS, 0), card.serializeCompact());
    assert.equal(
      errorCode(() => Invite.deserialize(compact)),
      'TRUNCATED',
    );
    for (let n = 0; n < good.length; n += 97)
      assert.notEqual(
        errorCode(() => Invite.deserialize(good.subarray(0, n))),
        'none',
      );
    const tampered = good.slice();
    const at = 2 + 2 * INVITE_ONE_TIME_BYTES + 40;
    tampered[at] = tampered[at]! ^ 1;
    assert.equal(
      errorCode(() => Invite.deserialize(tampered)),
      'BAD_SIGNATURE',
    );
    assert.throws(() => new Invite(card, [...keys, ...ring.mintOneTime(0, 3)]), RangeError);
    assert.throws(() => new Invite(ContactCard.deserialize(card.serializeCompact())), TypeError);
  });
});

describe('invite link (version 5): a first-contact address of its own', () => {
  const ring = PreKeyRing.create(0);
  const keys = ring.mintOneTime(0, 1);
  const firstContact = new Address('kaspa', AddressVersion.PubKey, new Uint8Array(32).fill(9));

  it('round-trips its address beside the card and keys; 34 bytes more than version 3', () => {
    const link = new Invite(card, keys, firstContact).toLink();
    const invite = Invite.fromLink(link);
    assert.equal(invite.serialize()[0], INVITE_VERSION);
    assert.equal(invite.firstContact?.toString(), firstContact.toString());
    assert.ok(invite.card.sameCard(card));
    assert.equal(invite.oneTimeKeys[0]?.id, keys[0]!.id);
    assert.equal(invite.serialize().length - new Invite(card, keys).serialize().length, INVITE_ADDRESS_BYTES);
    assert.ok(ContactCard.fromLink(link).sameCard(card));
    // A version 3 invite is still read: no first-contact address, first contacts pay the card's.
    const old = Invite.fromLink(new Invite(card, keys).toLink());
    assert.equal(old.serialize()[0], INVITE_VERSION_NO_ADDRESS);
    assert.equal(old.firstContact, undefined);
    // Still one QR code at level M.
    assert.ok(encode(link, { ecc: 'M', border: 2 }).version <= 37);
  });

  it('hostile addresses give typed errors: another kind, another network, unknown network', () => {
    const good = new Invite(card, keys, firstContact).serialize();
    const ecdsa = good.slice();
    ecdsa[2] = AddressVersion.PubKeyECDSA;
    assert.equal(
      errorCode(() => Invite.deserialize(ecdsa)),
      'MALFORMED',
    );
    const unknown = good.slice();
    unknown[1] = 200;
    assert.equal(
      errorCode(() => Invite.deserialize(unknown)),
      'MALFORMED',
    );
    // The card lists kaspa only: a first-contact address on testnet is not for it.
    const elsewhere = good.slice();
    elsewhere[1] = 1;
    assert.equal(
      errorCode(() => Invite.deserialize(elsewhere)),
      'MALFORMED',
    );
    for (let n = 0; n < 40; n += 3)
      assert.notEqual(
        errorCode(() => Invite.deserialize(good.subarray(0, n))),
        'none',
      );
    assert.throws(
      () => new Invite(card, keys, new Address('kaspatest', AddressVersion.PubKey, new Uint8Array(32))),
      RangeError,
    );
    assert.throws(
      () => new Invite(card, keys, new Address('kaspa', AddressVersion.ScriptHash, new Uint8Array(32))),
      RangeError,
    );
  });
});
