import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Identity } from '../../../src/core/identity/identity.ts';
import {
  DEFAULT_LINK_LIFETIME_MS,
  DeviceError,
  LINK_CODE_BYTES,
  LINK_CODE_PREFIX,
  LinkOffers,
  checkLinkCode,
  decodeLinkCode,
  encodeLinkCode,
  linkCodeText,
  linkOfferId,
} from '../../../src/core/devices/index.ts';
import { DecodeError } from '../../../src/util/errors.ts';
import { base64urlnopad } from '@scure/base';
import { blake3 } from '@noble/hashes/blake3.js';
import { concatBytes } from '../../../src/util/bytes.ts';
import { errorCode } from '../helpers.ts';

const T0 = 1_800_000_000_000;

describe('device link code', () => {
  const alice = Identity.generate();

  it('round-trips in binary and text form, one QR-sized line', () => {
    const code = new LinkOffers(alice).mint(T0);
    assert.equal(code.expiresAt, (T0 + DEFAULT_LINK_LIFETIME_MS) / 1000);
    const bytes = encodeLinkCode(code);
    assert.equal(bytes.length, LINK_CODE_BYTES);
    const text = linkCodeText(code);
    assert.ok(text.startsWith(LINK_CODE_PREFIX));
    assert.equal(text.length, 89);
    for (const back of [decodeLinkCode(bytes), decodeLinkCode(` ${text}\n`)]) {
      assert.deepEqual(back.identityKey, alice.publicKey);
      assert.deepEqual(back.secret, code.secret);
      assert.equal(back.expiresAt, code.expiresAt);
    }
  });

  it('refuses a damaged, foreign or other-version code with a clear error', () => {
    const bytes = encodeLinkCode(new LinkOffers(alice).mint(T0));
    for (let at = 0; at < bytes.length; at++) {
      const b = bytes.slice();
      b[at]! ^= 0x10;
      const code = errorCode(() => decodeLinkCode(b));
      assert.ok(code === 'LINK_DAMAGED' || (at === 0 && code === 'UNKNOWN_VERSION'), `byte ${at}: ${code}`);
    }
    // A code of another version, with a check that matches, is refused as such.
    const v2 = bytes.slice(0, LINK_CODE_BYTES - 4);
    v2[0] = 2;
    const withCheck = concatBytes(v2, blake3(v2).subarray(0, 4));
    assert.equal(
      errorCode(() => decodeLinkCode(withCheck), DecodeError),
      'UNKNOWN_VERSION',
    );
    assert.equal(
      errorCode(() => decodeLinkCode(bytes.subarray(0, 40)), DecodeError),
      'TRUNCATED',
    );
    assert.equal(
      errorCode(() => decodeLinkCode(concatBytes(bytes, Uint8Array.of(0))), DecodeError),
      'TRAILING_BYTES',
    );
    assert.equal(
      errorCode(() => decodeLinkCode('p2pcomm:' + base64urlnopad.encode(bytes)), DecodeError),
      'MALFORMED',
    );
    assert.equal(
      errorCode(() => decodeLinkCode(LINK_CODE_PREFIX + '!!!'), DecodeError),
      'MALFORMED',
    );
    assert.throws(() => decodeLinkCode(42 as unknown as string), TypeError);
  });

  it('expires, and names its identity', () => {
    const code = new LinkOffers(alice, { lifetimeMs: 60_000 }).mint(T0);
    checkLinkCode(code, T0 + 59_000, alice.publicKey);
    assert.equal(
      errorCode(() => checkLinkCode(code, T0 + 60_000), DeviceError),
      'LINK_EXPIRED',
    );
    const bob = Identity.generate();
    assert.equal(
      errorCode(() => checkLinkCode(code, T0, bob.publicKey), DeviceError),
      'WRONG_IDENTITY',
    );
  });

  it('links one device once: unknown, expired, in use and replayed codes are refused', () => {
    const offers = new LinkOffers(alice, { lifetimeMs: 60_000 });
    const code = offers.mint(T0);
    const id = linkOfferId(code);
    const other = linkOfferId(new LinkOffers(alice).mint(T0));
    assert.equal(
      errorCode(() => offers.lookup(other, T0), DeviceError),
      'LINK_UNKNOWN',
    );
    assert.equal(offers.lookup(id, T0), code);
    const phone = Identity.generate().publicKey;
    const thief = Identity.generate().publicKey;
    offers.bind(id, phone, T0);
    offers.bind(id, phone, T0 + 1); // the same device again: a resumed transfer
    assert.equal(
      errorCode(() => offers.bind(id, thief, T0 + 2), DeviceError),
      'LINK_IN_USE',
    );
    assert.equal(offers.state(id), 'bound');
    offers.complete(id);
    assert.equal(
      errorCode(() => offers.lookup(id, T0 + 3), DeviceError),
      'LINK_REPLAYED',
    );
    assert.equal(
      errorCode(() => offers.bind(id, phone, T0 + 3), DeviceError),
      'LINK_REPLAYED',
    );
    const late = offers.mint(T0);
    assert.equal(
      errorCode(() => offers.lookup(linkOfferId(late), T0 + 60_000), DeviceError),
      'LINK_EXPIRED',
    );
    assert.equal(offers.state(linkOfferId(late)), 'open', 'a refusal changes nothing');
  });

  it('remembers a bounded number of offers', () => {
    const offers = new LinkOffers(alice, { capacity: 2 });
    const first = offers.mint(T0);
    offers.mint(T0);
    offers.mint(T0);
    assert.equal(
      errorCode(() => offers.lookup(linkOfferId(first), T0), DeviceError),
      'LINK_UNKNOWN',
    );
    assert.throws(() => new LinkOffers(alice, { capacity: 0 }), RangeError);
  });
});
