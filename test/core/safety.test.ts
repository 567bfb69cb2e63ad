import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { blake3 } from '@noble/hashes/blake3.js';
import { base64urlnopad } from '@scure/base';
import { Identity } from '../../src/core/identity/identity.ts';
import { SAFETY_CODE_PREFIX, SafetyNumber, SafetyNumberError } from '../../src/core/safety/index.ts';

const seed = (b: number): Uint8Array => new Uint8Array(32).fill(b);
const alice = Identity.fromSeed(seed(1));
const bob = Identity.fromSeed(seed(2));
const carol = Identity.fromSeed(seed(3));
const party = (id: Identity) => ({ identityKey: id.publicKey });

/** The construction of docs/protocol.md written again with Node's own SHA-512. */
function referenceHalf(key: Uint8Array): string {
  const sha = (b: Buffer) => createHash('sha512').update(b).digest();
  let h = sha(Buffer.concat([Buffer.from('p2pcomm/v1/safety-number'), Buffer.of(1), key, blake3(key)]));
  for (let i = 0; i < 5200; i++) h = sha(Buffer.concat([h, key]));
  let out = '';
  for (let i = 0; i < 6; i++) out += (h.readUIntBE(i * 5, 5) % 100000).toString().padStart(5, '0');
  return out;
}

function codeOf(e: unknown): string | undefined {
  return e instanceof SafetyNumberError ? e.code : undefined;
}

describe('safety number', () => {
  const ab = SafetyNumber.of(party(alice), party(bob));
  const ba = SafetyNumber.of(party(bob), party(alice));

  it('is 60 digits in 12 groups of 5, the same on both sides', () => {
    assert.match(ab.digits, /^\d{60}$/);
    assert.equal(ab.groups.length, 12);
    assert.ok(ab.groups.every((g) => /^\d{5}$/.test(g)));
    assert.equal(ab.digits, ba.digits);
  });

  it('follows the documented construction (iterated SHA-512, smaller half first)', () => {
    const halves = [referenceHalf(alice.publicKey), referenceHalf(bob.publicKey)].sort();
    assert.equal(ab.digits, halves.join(''));
  });

  it('changes with either identity key', () => {
    const ac = SafetyNumber.of(party(alice), party(carol));
    const cb = SafetyNumber.of(party(carol), party(bob));
    assert.notEqual(ac.digits, ab.digits);
    assert.notEqual(cb.digits, ab.digits);
  });

  it("confirms the other device's scanned code, and refuses anyone else's", () => {
    assert.equal(ab.check(ba.scanText()), 'match');
    assert.equal(ba.check(ab.scanText()), 'match');
    // The same device showing its own code is not the other side's confirmation.
    assert.equal(ab.check(ab.scanText()), 'mismatch');
    // Carol in the middle: her code for Bob does not match Alice's view of Bob.
    assert.equal(ab.check(SafetyNumber.of(party(bob), party(carol)).scanText()), 'mismatch');
    assert.equal(ab.check(SafetyNumber.of(party(carol), party(alice)).scanText()), 'mismatch');
    assert.ok(ab.scanText().startsWith(SAFETY_CODE_PREFIX));
    assert.equal(ab.scannable().length, 65);
  });

  it('confirms the digits as typed, with spaces, and refuses a single wrong digit', () => {
    assert.equal(ab.check(` ${ba.groups.join(' ')} \n`), 'match');
    assert.equal(ab.check(ba.groups.join('-')), 'match');
    const wrong = (ab.digits[0] === '9' ? '8' : '9') + ab.digits.slice(1);
    assert.equal(ab.check(wrong), 'mismatch');
  });

  it('refuses what is neither digits nor a code, and an unknown code version', () => {
    for (const bad of ['', '1234', 'x'.repeat(60), `${ab.digits}0`, `${SAFETY_CODE_PREFIX}!!`]) {
      assert.throws(
        () => ab.check(bad),
        (e) => codeOf(e) === 'BAD_CODE',
        bad,
      );
    }
    const code = ba.scannable();
    assert.throws(
      () => ab.check(SAFETY_CODE_PREFIX + base64urlnopad.encode(code.subarray(0, 40))),
      (e) => codeOf(e) === 'BAD_CODE',
    );
    code[0] = 2;
    assert.throws(
      () => ab.check(SAFETY_CODE_PREFIX + base64urlnopad.encode(code)),
      (e) => codeOf(e) === 'UNSUPPORTED_VERSION',
    );
    assert.throws(() => ab.check(7 as unknown as string), TypeError);
  });

  it('checks its inputs', () => {
    assert.throws(() => SafetyNumber.of(party(alice), party(alice)), RangeError);
    assert.throws(
      () => SafetyNumber.of(party(alice), { identityKey: new Uint8Array(31) as never }),
      RangeError,
    );
    assert.throws(() => SafetyNumber.of(null as never, party(bob)), TypeError);
  });
});
