/**
 * BIP-340 signing for transaction inputs (FACTS §2.1), built from @noble/curves' own point
 * arithmetic and tagged hashes. It differs from `schnorr.sign` in two ways only:
 *   - the key's point d·G is computed once per key and reused, both for the P2PK ownership
 *     check and for every signature by that key (noble recomputes it per call);
 *   - the signature is not verified after signing. BIP-340 "Default Signing" lists that
 *     check as recommended, to be omitted where its cost matters: it guards against a fault
 *     that yields a bad signature. Here every nonce is fresh (32 random aux bytes per
 *     signature unless a caller pins them), so a faulty signature shares its nonce with no
 *     other and tells nothing about the key, and the node verifies every input before it
 *     relays anything (FACTS §3.5), so a bad signature is refused, never published.
 * The output equals `schnorr.sign(message, key, auxRand)` byte for byte (test/kaspa/schnorr.test.ts).
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { randomBytes } from '../util/bytes.ts';
import { assertBytes } from '../util/errors.ts';

const { Point } = schnorr;
const { Fn, Fp, BASE } = Point;
const { taggedHash } = schnorr.utils;

/** A private key with its BIP-340 x-only public key and the even-y secret scalar. */
export class SchnorrSigningKey {
  private constructor(
    /** The secret scalar d of BIP-340 (negated when d'·G has an odd y). */
    private readonly d: bigint,
    /** bytes(P): the 32-byte x-only public key. */
    readonly publicKey: Uint8Array,
  ) {}

  /** RangeError when `secretKey` is not 32 bytes or not in [1, n-1]. */
  static fromSecretKey(secretKey: Uint8Array, name = 'secretKey'): SchnorrSigningKey {
    assertBytes(name, secretKey, 32);
    const d0 = bytesToNumberBE(secretKey);
    if (!Fn.isValidNot0(d0)) throw new RangeError(`"${name}" is not a valid secp256k1 secret key`);
    const p = BASE.multiply(d0).toAffine();
    return new SchnorrSigningKey((p.y & 1n) === 1n ? Fn.neg(d0) : d0, Fp.toBytes(p.x));
  }

  /** BIP-340 Sign(sk, m) with auxiliary randomness `auxRand` (random when absent). */
  sign(message: Uint8Array, auxRand: Uint8Array = randomBytes(32)): Uint8Array {
    assertBytes('message', message);
    assertBytes('auxRand', auxRand, 32);
    const m = message.slice();
    const px = this.publicKey;
    const t = Fn.toBytes(this.d ^ bytesToNumberBE(taggedHash('BIP0340/aux', auxRand)));
    const k0 = Fn.create(bytesToNumberBE(taggedHash('BIP0340/nonce', t, px, m)));
    // BIP-340: "Fail if k' = 0" (probability 2^-256 for a hash output).
    if (k0 === 0n) throw new Error('BIP-340 nonce is zero');
    const r = BASE.multiply(k0).toAffine();
    const k = (r.y & 1n) === 1n ? Fn.neg(k0) : k0;
    const rx = Fp.toBytes(r.x);
    const e = Fn.create(bytesToNumberBE(taggedHash('BIP0340/challenge', rx, px, m)));
    const sig = new Uint8Array(64);
    sig.set(rx, 0);
    sig.set(Fn.toBytes(Fn.create(k + e * this.d)), 32);
    return sig;
  }
}
