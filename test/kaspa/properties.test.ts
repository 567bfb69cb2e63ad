/**
 * Properties: the full transaction encoding round-trips; random or mutated bytes and strings
 * never crash a decoder (only typed errors); signing and verifying agree; ids ignore what they
 * must ignore (FACTS §3.4).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { DecodeError } from '../../src/util/errors.ts';
import { bytesToHex } from '../../src/util/bytes.ts';
import { Address, AddressError, AddressVersion, NETWORK_PREFIXES } from '../../src/kaspa/address.ts';
import {
  decodeTransaction,
  encodeTransaction,
  transactionHash,
  transactionId,
} from '../../src/kaspa/txid.ts';
import { HdError, KaspaHdWallet, seedFromMnemonic } from '../../src/kaspa/hd.ts';
import {
  p2pkSignatureScript,
  payToPubKey,
  payToPubKeyEcdsa,
  payToScriptHash,
  scriptClass,
  scriptPayload,
} from '../../src/kaspa/script.ts';
import { SignError, signTransaction, verifyInputSignature } from '../../src/kaspa/sign.ts';
import type { ScriptPublicKey, Transaction, TxId } from '../../src/kaspa/types.ts';
import { input, tx } from './fixtures.ts';

const FULL = { signatureScripts: true, payload: true, massCommitment: true };
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

const txArb: fc.Arbitrary<Transaction> = fc.constantFrom(0, 1).chain((version) =>
  fc.record({
    version: fc.constant(version),
    inputs: fc.array(
      fc.record({
        previousOutpoint: fc.record({
          transactionId: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => b as TxId),
          index: fc.nat({ max: 0xffffffff }),
        }),
        signatureScript: fc.uint8Array({ maxLength: 80 }),
        sequence: u64,
        sigOpCount: version === 0 ? fc.nat({ max: 255 }) : fc.constant(0),
        computeBudget: version === 1 ? fc.nat({ max: 0xffff }) : fc.constant(0),
      }),
      { maxLength: 4 },
    ),
    outputs: fc.array(
      fc.record(
        {
          value: u64,
          scriptPublicKey: fc.record({
            version: fc.nat({ max: 0xffff }),
            script: fc.uint8Array({ maxLength: 40 }),
          }),
          ...(version === 1
            ? {
                covenant: fc.record({
                  authorizingInput: fc.nat({ max: 0xffff }),
                  covenantId: fc.uint8Array({ minLength: 32, maxLength: 32 }),
                }),
              }
            : {}),
        },
        { requiredKeys: ['value', 'scriptPublicKey'] },
      ),
      { maxLength: 4 },
    ),
    lockTime: u64,
    subnetworkId: fc.uint8Array({ minLength: 20, maxLength: 20 }),
    gas: u64,
    payload: fc.uint8Array({ maxLength: 200 }),
    storageMass: u64,
  }),
) as fc.Arbitrary<Transaction>;

describe('transaction encoding properties', () => {
  it('decode(encode(tx)) re-encodes to the same bytes, hash and id', () => {
    fc.assert(
      fc.property(txArb, (tx) => {
        const bytes = encodeTransaction(tx, FULL);
        const back = decodeTransaction(bytes);
        assert.deepEqual(encodeTransaction(back, FULL), bytes);
        assert.deepEqual(transactionHash(back), transactionHash(tx));
        assert.deepEqual(transactionId(back), transactionId(tx));
      }),
      { numRuns: 300 },
    );
  });

  it('random and truncated bytes give a DecodeError or a transaction, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        try {
          decodeTransaction(bytes);
        } catch (e) {
          assert.ok(e instanceof DecodeError, String(e));
        }
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(txArb, fc.nat(), fc.nat({ max: 255 }), (tx, pos, byte) => {
        const bytes = encodeTransaction(tx, FULL);
        const cut = bytes.subarray(0, pos % (bytes.length + 1));
        const flipped = bytes.slice();
        flipped[pos % bytes.length] = byte;
        for (const b of [cut, flipped]) {
          try {
            decodeTransaction(b);
          } catch (e) {
            assert.ok(e instanceof DecodeError, String(e));
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('ids ignore signature scripts, sig-op counts, compute budgets and the storage mass', () => {
    fc.assert(
      fc.property(txArb, fc.uint8Array({ maxLength: 70 }), u64, (tx, script, mass) => {
        const changed = {
          ...tx,
          storageMass: mass,
          inputs: tx.inputs.map((i) => ({
            ...i,
            signatureScript: script,
            ...(tx.version === 0 ? { sigOpCount: 1 } : { computeBudget: 10 }),
          })),
        };
        assert.deepEqual(transactionId(changed), transactionId(tx));
      }),
      { numRuns: 200 },
    );
  });
});

describe('address properties', () => {
  it('encode/decode round-trips for every prefix and version', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...NETWORK_PREFIXES),
        fc.constantFrom(AddressVersion.PubKey, AddressVersion.PubKeyECDSA, AddressVersion.ScriptHash),
        fc.uint8Array({ minLength: 33, maxLength: 33 }),
        (prefix, version, raw) => {
          const payload = version === AddressVersion.PubKeyECDSA ? raw : raw.subarray(0, 32);
          const a = new Address(prefix, version, payload);
          assert.ok(Address.decode(a.toString(), prefix).equals(a), a.toString());
        },
      ),
    );
  });

  it('random and mutated strings give an AddressError, nothing else', () => {
    const check = (text: string): void => {
      try {
        Address.decode(text);
      } catch (e) {
        assert.ok(e instanceof AddressError, String(e));
      }
    };
    fc.assert(fc.property(fc.string({ maxLength: 120 }), check), { numRuns: 2000 });
    fc.assert(
      fc.property(fc.constantFrom(...NETWORK_PREFIXES), fc.string({ maxLength: 80 }), (p, body) =>
        check(`${p}:${body}`),
      ),
      { numRuns: 2000 },
    );
    const valid = new Address('kaspa', AddressVersion.PubKey, new Uint8Array(32).fill(7)).toString();
    fc.assert(
      fc.property(fc.nat(), fc.constantFrom(...'qpzry9x8gf2tvdw0s3jn54khce6mua7lAB1:'), (pos, ch) => {
        const i = 6 + (pos % (valid.length - 6));
        const mutated = valid.slice(0, i) + ch + valid.slice(i + 1);
        if (mutated !== valid) assert.equal(Address.validate(mutated), false, mutated);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('script properties', () => {
  const builders = [
    { build: payToPubKey, size: 32, cls: 'PubKey', hex: /^20[0-9a-f]{64}ac$/ },
    { build: payToPubKeyEcdsa, size: 33, cls: 'PubKeyECDSA', hex: /^21[0-9a-f]{66}ab$/ },
    { build: payToScriptHash, size: 32, cls: 'ScriptHash', hex: /^aa20[0-9a-f]{64}87$/ },
  ] as const;

  it('each standard builder gives its FACTS §1.4 bytes, its class and back its payload', () => {
    for (const { build, size, cls, hex } of builders) {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: size, maxLength: size }), (body) => {
          const spk = build(body);
          assert.equal(spk.version, 0);
          assert.match(bytesToHex(spk.script), hex);
          assert.equal(scriptClass(spk), cls);
          assert.deepEqual(scriptPayload(spk), body);
          assert.throws(() => build(body.subarray(1)), RangeError);
        }),
      );
    }
  });

  it('a changed opcode, length or version makes a standard script NonStandard', () => {
    for (const { build, size } of builders) {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: size, maxLength: size }),
          fc.boolean(),
          fc.integer({ min: 1, max: 255 }),
          (body, atEnd, delta) => {
            const { script } = build(body);
            const opcodeAt = atEnd ? script.length - 1 : 0;
            const changed = script.slice();
            changed[opcodeAt] = (changed[opcodeAt]! + delta) & 0xff;
            for (const spk of [
              { version: 0, script: changed },
              { version: 0, script: script.subarray(0, -1) },
              { version: 0, script: Uint8Array.of(...script, 0) },
              { version: 1, script },
            ]) {
              assert.equal(scriptClass(spk), 'NonStandard');
              assert.equal(scriptPayload(spk), undefined);
            }
          },
        ),
      );
    }
  });

  it('a P2PK signature script is OP_DATA_65 ‖ signature ‖ sighash type', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.constantFrom(1, 2, 4, 0x81),
        (sig, type) => {
          assert.deepEqual(p2pkSignatureScript(sig, type), Uint8Array.of(0x41, ...sig, type));
        },
      ),
    );
  });
});

describe('HD and signing properties', () => {
  it('random phrases give HdError or a seed; random extended-key text gives HdError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        try {
          seedFromMnemonic(s);
        } catch (e) {
          assert.ok(e instanceof HdError, String(e));
        }
        try {
          KaspaHdWallet.fromExtendedPrivateKey(`kprv${s}`);
        } catch (e) {
          assert.ok(e instanceof HdError, String(e));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a signed input verifies; any change to a signed field or to the signature does not', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => k.some((b) => b !== 0) && k[0]! < 0xff),
        fc.bigInt({ min: 1n, max: 10n ** 15n }),
        fc.constantFrom(0, 1),
        fc.uint8Array({ maxLength: 64 }),
        fc.nat({ max: 65 }),
        (key, amount, version, payload, flip) => {
          const spk = payToPubKey(schnorr.getPublicKey(key));
          const unsigned = tx({
            version,
            inputs: [
              input('03'.repeat(32), 1, {
                sigOpCount: version === 0 ? 1 : 0,
                computeBudget: version === 1 ? 10 : 0,
              }),
            ],
            outputs: [{ value: amount, scriptPublicKey: spk }],
            payload,
          });
          const spent = [
            { amount: amount + 1000n, scriptPublicKey: spk, blockDaaScore: 0n, isCoinbase: false },
          ];
          const signed = signTransaction(unsigned, spent, [key]);
          assert.equal(verifyInputSignature(signed, 0, spent), true);
          const other = { ...signed, outputs: [{ ...signed.outputs[0]!, value: amount + 1n }] };
          assert.equal(verifyInputSignature(other, 0, spent), false);
          const script = signed.inputs[0]!.signatureScript.slice();
          script[flip] = script[flip]! ^ 1;
          const broken = { ...signed, inputs: [{ ...signed.inputs[0]!, signatureScript: script }] };
          assert.equal(verifyInputSignature(broken, 0, spent), false);
          const wrongAmount = [{ ...spent[0]!, amount: amount + 999n }];
          assert.equal(verifyInputSignature(signed, 0, wrongAmount), false);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('ECDSA and unsupported spends', () => {
  const base = (spkScript: ScriptPublicKey): Transaction =>
    tx({
      inputs: [input('09'.repeat(32), 0, { sigOpCount: 1 })],
      outputs: [{ value: 5_000_000n, scriptPublicKey: spkScript }],
    });

  it('signs and verifies P2PK-ECDSA spends; a wrong key is refused with KEY_MISMATCH', () => {
    const key = new Uint8Array(32).fill(0x42);
    const spk = payToPubKeyEcdsa(secp256k1.getPublicKey(key, true));
    const spent = [{ amount: 6_000_000n, scriptPublicKey: spk, blockDaaScore: 0n, isCoinbase: false }];
    const signed = signTransaction(base(spk), spent, [key]);
    assert.equal(verifyInputSignature(signed, 0, spent), true);
    assert.equal(verifyInputSignature(signed, 0, [{ ...spent[0]!, amount: 1n }]), false);
    assert.throws(
      () => signTransaction(base(spk), spent, [new Uint8Array(32).fill(0x43)]),
      (e: unknown) => e instanceof SignError && e.code === 'KEY_MISMATCH',
    );
  });

  it('P2SH spends are reported as UNSUPPORTED_SCRIPT, not guessed', () => {
    const spk = payToScriptHash(new Uint8Array(32).fill(1));
    const spent = [{ amount: 6_000_000n, scriptPublicKey: spk, blockDaaScore: 0n, isCoinbase: false }];
    const isUnsupported = (e: unknown): boolean => e instanceof SignError && e.code === 'UNSUPPORTED_SCRIPT';
    assert.throws(() => signTransaction(base(spk), spent, [new Uint8Array(32).fill(1)]), isUnsupported);
    assert.throws(() => verifyInputSignature(base(spk), 0, spent), isUnsupported);
  });
});
