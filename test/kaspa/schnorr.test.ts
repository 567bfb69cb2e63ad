/**
 * The input signer of src/kaspa/schnorr.ts against @noble/curves' BIP-340 `schnorr.sign`: the
 * same bytes for the same key, message and aux randomness, the official BIP-340 vectors, and
 * bad keys refused at the boundary. Verification is done here, once per signature, since the
 * signer no longer checks its own output.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { schnorr } from '@noble/curves/secp256k1.js';
import { SchnorrSigningKey } from '../../src/kaspa/schnorr.ts';
import { bytesToHex, hexToBytes } from '../../src/util/bytes.ts';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const key32 = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .filter((k) => k.some((b) => b !== 0) && BigInt(`0x${bytesToHex(k)}`) < N);

describe('BIP-340 input signer', () => {
  it('equals noble schnorr.sign byte for byte, and the signature verifies', () => {
    fc.assert(
      fc.property(
        key32,
        fc.uint8Array({ minLength: 0, maxLength: 80 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (key, message, aux) => {
          const signer = SchnorrSigningKey.fromSecretKey(key);
          assert.deepEqual(signer.publicKey, schnorr.getPublicKey(key));
          const sig = signer.sign(message, aux);
          assert.equal(bytesToHex(sig), bytesToHex(schnorr.sign(message, key, aux)));
          assert.equal(schnorr.verify(sig, message, signer.publicKey), true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reproduces the BIP-340 test vectors 0-3 (bip-0340/test-vectors.csv)', () => {
    const vectors = [
      [
        '0000000000000000000000000000000000000000000000000000000000000003',
        '0000000000000000000000000000000000000000000000000000000000000000',
        '0000000000000000000000000000000000000000000000000000000000000000',
        'E907831F80848D1069A5371B402410364BDF1C5F8307B0084C55F1CE2DCA821525F66A4A85EA8B71E482A74F382D2CE5EBEEE8FDB2172F477DF4900D310536C0',
      ],
      [
        'B7E151628AED2A6ABF7158809CF4F3C762E7160F38B4DA56A784D9045190CFEF',
        '0000000000000000000000000000000000000000000000000000000000000001',
        '243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89',
        '6896BD60EEAE296DB48A229FF71DFE071BDE413E6D43F917DC8DCF8C78DE33418906D11AC976ABCCB20B091292BFF4EA897EFCB639EA871CFA95F6DE339E4B0A',
      ],
      [
        'C90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B14E5C9',
        'C87AA53824B4D7AE2EB035A2B5BBBCCC080E76CDC6D1692C4B0B62D798E6D906',
        '7E2D58D8B3BCDF1ABADEC7829054F90DDA9805AAB56C77333024B9D0A508B75C',
        '5831AAEED7B44BB74E5EAB94BA9D4294C49BCF2A60728D8B4C200F50DD313C1BAB745879A5AD954A72C45A91C3A51D3C7ADEA98D82F8481E0E1E03674A6F3FB7',
      ],
      [
        '0B432B2677937381AEF05BB02A66ECD012773062CF3FA2549E44F58ED2401710',
        'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF',
        'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF',
        '7EB0509757E246F19449885651611CB965ECC1A187DD51B64FDA1EDC9637D5EC97582B9CB13DB3933705B32BA982AF5AF25FD78881EBB32771FC5922EFC66EA3',
      ],
    ] as const;
    for (const [sk, aux, msg, sig] of vectors) {
      const signer = SchnorrSigningKey.fromSecretKey(hexToBytes(sk.toLowerCase()));
      const out = signer.sign(hexToBytes(msg.toLowerCase()), hexToBytes(aux.toLowerCase()));
      assert.equal(bytesToHex(out).toUpperCase(), sig);
      assert.equal(schnorr.verify(out, hexToBytes(msg.toLowerCase()), signer.publicKey), true);
    }
  });

  it('refuses keys of the wrong length or outside [1, n-1] with a RangeError naming the key', () => {
    const bad = [
      new Uint8Array(31),
      new Uint8Array(33),
      new Uint8Array(32),
      hexToBytes(N.toString(16)),
      new Uint8Array(32).fill(0xff),
    ];
    for (const k of bad)
      assert.throws(
        () => SchnorrSigningKey.fromSecretKey(k, 'privateKeys[0]'),
        (e: unknown) => e instanceof RangeError && e.message.includes('privateKeys[0]'),
      );
    const signer = SchnorrSigningKey.fromSecretKey(new Uint8Array(32).fill(1));
    assert.throws(() => signer.sign(new Uint8Array(32), new Uint8Array(31)), RangeError);
  });
});
