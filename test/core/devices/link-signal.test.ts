import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { schnorr } from '@noble/curves/secp256k1.js';
import { Identity } from '../../../src/core/identity/identity.ts';
import {
  DeviceError,
  LINK_SIGNAL_PAD,
  LinkOffers,
  MAX_LINK_SIGNAL_BYTES,
  linkAddress,
  linkAddressKey,
  openLinkSignal,
  sealLinkSignal,
} from '../../../src/core/devices/index.ts';
import { Address } from '../../../src/kaspa/address.ts';
import { DecodeError } from '../../../src/util/errors.ts';
import { concatBytes, utf8ToBytes } from '../../../src/util/bytes.ts';
import { createNodeTransport } from '../../../src/transport/index.ts';
import { errorCode } from '../helpers.ts';

const T0 = 1_800_000_000_000;

describe('device link signaling on chain', () => {
  const alice = Identity.generate();
  const offers = new LinkOffers(alice);

  it('gives both devices the same fresh link address, one per code', () => {
    const code = offers.mint(T0);
    const copy = { ...code, secret: code.secret.slice() };
    const a = linkAddress(code, 'kaspatest');
    assert.equal(a.toString(), linkAddress(copy, 'kaspatest').toString());
    assert.equal(Address.decode(a.toString(), 'kaspatest').toString(), a.toString());
    assert.notEqual(linkAddress(offers.mint(T0), 'kaspatest').toString(), a.toString());
    const { secretKey, xOnly } = linkAddressKey(code);
    assert.deepEqual(schnorr.getPublicKey(secretKey), xOnly, 'the new device can spend the coin');
  });

  it('seals a real WebRTC offer and answer, padded, and opens them only as their role', async () => {
    const code = offers.mint(T0);
    const t = createNodeTransport({ additionalHostAddresses: ['127.0.0.1'] });
    const offered = await t.createOffer();
    const sdp = utf8ToBytes(offered.offer.sdp);
    const sealed = sealLinkSignal(code, 'offer', sdp);
    assert.equal((sealed.length - 26 - 16) % LINK_SIGNAL_PAD, 0);
    assert.deepEqual(openLinkSignal(code, 'offer', sealed), sdp);
    const answered = await t.acceptOffer({
      type: 'offer',
      sdp: new TextDecoder().decode(openLinkSignal(code, 'offer', sealed)),
    });
    const back = sealLinkSignal(code, 'answer', utf8ToBytes(answered.answer.sdp));
    await offered.accept({
      type: 'answer',
      sdp: new TextDecoder().decode(openLinkSignal(code, 'answer', back)),
    });
    await Promise.all([offered.link.whenConnected(), answered.link.whenConnected()]);
    offered.link.close();
    answered.link.close();
    // A reflected offer is no answer.
    assert.equal(
      errorCode(() => openLinkSignal(code, 'answer', sealed), DeviceError),
      'PROTOCOL',
    );
  });

  it('refuses another code, alterations, other versions and bad sizes', () => {
    const code = offers.mint(T0);
    const sealed = sealLinkSignal(code, 'offer', utf8ToBytes('v=0'));
    assert.equal(
      errorCode(() => openLinkSignal(offers.mint(T0), 'offer', sealed), DeviceError),
      'LINK_AUTH_FAILED',
    );
    for (const at of [5, 30, sealed.length - 1]) {
      const b = sealed.slice();
      b[at]! ^= 1;
      assert.equal(
        errorCode(() => openLinkSignal(code, 'offer', b), DeviceError),
        'LINK_AUTH_FAILED',
        `byte ${at}`,
      );
    }
    const v2 = sealed.slice();
    v2[0] = 2;
    assert.equal(
      errorCode(() => openLinkSignal(code, 'offer', v2), DecodeError),
      'UNKNOWN_VERSION',
    );
    const role9 = sealed.slice();
    role9[1] = 9;
    assert.equal(
      errorCode(() => openLinkSignal(code, 'offer', role9), DecodeError),
      'MALFORMED',
    );
    assert.equal(
      errorCode(() => openLinkSignal(code, 'offer', sealed.subarray(0, 100)), DecodeError),
      'MALFORMED',
    );
    assert.equal(
      errorCode(
        () => openLinkSignal(code, 'offer', concatBytes(sealed, new Uint8Array(10_000))),
        DecodeError,
      ),
      'TOO_LARGE',
    );
    assert.equal(
      errorCode(() => openLinkSignal(code, 'offer', sealed.subarray(0, 10)), DecodeError),
      'TRUNCATED',
    );
    assert.throws(() => sealLinkSignal(code, 'offer', new Uint8Array(MAX_LINK_SIGNAL_BYTES + 1)), RangeError);
  });
});
