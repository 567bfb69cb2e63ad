/**
 * The sending half of a DH ratchet step waits (ratchet.ts `prepareSend`): a message that
 * starts a new chain costs its recipient one X25519 agreement, and the new key pair and the
 * second agreement come in idle time or with the next send. A state saved meanwhile is
 * Ratchet state version 2 (docs/protocol.md "Ratchet state"); one without it is written as
 * version 1, as before; any other version is refused.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ratchet } from '../../../src/core/session/ratchet.ts';
import { randomX25519KeyPair } from '../../../src/core/identity/keys.ts';
import { DecodeError } from '../../../src/util/errors.ts';
import { bytesToUtf8, randomBytes, utf8ToBytes } from '../../../src/util/bytes.ts';

function pair(): [Ratchet, Ratchet] {
  const sk = randomBytes(32);
  const hka = randomBytes(32);
  const nhkb = randomBytes(32);
  const ad = utf8ToBytes('pending send');
  const bobPreKey = randomX25519KeyPair();
  return [
    Ratchet.initInitiator(sk, bobPreKey.publicKey, hka, nhkb, ad),
    Ratchet.initResponder(sk, bobPreKey, hka, nhkb, ad),
  ];
}

function open(r: Ratchet, frame: Uint8Array): string {
  const out = r.decrypt(frame, 0);
  assert.equal(out.kind, 'message');
  return bytesToUtf8((out as { plaintext: Uint8Array }).plaintext);
}

describe('the sending half of a DH ratchet step waits', () => {
  it('a new chain leaves it pending; a state saved then is version 2 and goes on after a round trip', () => {
    const [alice, bob] = pair();
    assert.equal(open(bob, alice.encrypt(utf8ToBytes('hello'))), 'hello');
    assert.equal(bob.sendPending, true, 'the first message from Alice starts a chain');
    assert.equal(bob.canSend, true, 'the next encrypt does the waiting half');
    const saved = bob.serialize();
    assert.equal(saved[0], 2);
    const restored = Ratchet.deserialize(saved);
    assert.equal(restored.sendPending, true);
    // Either copy answers; each makes a key of its own, and Alice follows the one she gets.
    assert.equal(open(alice, restored.encrypt(utf8ToBytes('from the saved state'))), 'from the saved state');
    assert.equal(restored.sendPending, false);
    assert.equal(restored.serialize()[0], 1, 'nothing waits: version 1, as before');
    assert.equal(open(restored, alice.encrypt(utf8ToBytes('and back'))), 'and back');
  });

  it('prepareSend does it once, ahead of the send; the conversation is the same either way', () => {
    const [alice, bob] = pair();
    for (let i = 0; i < 4; i++) {
      assert.equal(open(bob, alice.encrypt(utf8ToBytes(`a${i}`))), `a${i}`);
      assert.equal(bob.prepareSend(), true);
      assert.equal(bob.prepareSend(), false, 'nothing left to do');
      assert.equal(open(alice, bob.encrypt(utf8ToBytes(`b${i}`))), `b${i}`);
      // Alice leaves hers to the next encrypt.
      assert.equal(alice.sendPending, true);
    }
  });

  it('version 3, and a version-1 state carrying the pending flag, are refused with typed errors', () => {
    const [alice, bob] = pair();
    open(bob, alice.encrypt(utf8ToBytes('hello')));
    const v2 = bob.serialize();
    const v3 = v2.slice();
    v3[0] = 3;
    assert.throws(
      () => Ratchet.deserialize(v3),
      (e: unknown) => e instanceof DecodeError && e.code === 'UNKNOWN_VERSION',
    );
    const v1 = v2.slice();
    v1[0] = 1;
    assert.throws(
      () => Ratchet.deserialize(v1),
      (e: unknown) => e instanceof DecodeError && e.code === 'MALFORMED',
    );
  });
});
