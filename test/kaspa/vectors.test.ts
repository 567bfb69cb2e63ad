/**
 * Every Kaspa vector of FACTS §1.5, §2.3, §3.2, §3.4, §3.5, §4.8 and §6.5, from JSON files in
 * test/vectors/kaspa. [repo] vectors come from rusty-kaspa's own tests.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, hexToBytes } from '../../src/util/bytes.ts';
import {
  Address,
  AddressError,
  addressToScriptPublicKey,
  scriptPublicKeyToAddress,
  type NetworkPrefix,
} from '../../src/kaspa/address.ts';
import { KaspaHdWallet, seedFromMnemonic } from '../../src/kaspa/hd.ts';
import {
  ecdsaSigningDigest,
  payloadDigest,
  transactionHashDigest,
  transactionIdDigest,
  transactionSigningDigest,
} from '../../src/kaspa/hashing.ts';
import {
  decodeTransaction,
  encodeTransaction,
  transactionHash,
  transactionId,
} from '../../src/kaspa/txid.ts';
import { SigHashType, schnorrSignatureHash, signatureHashPreimage } from '../../src/kaspa/sighash.ts';
import {
  computeMass,
  normalizedMass,
  storageMassOf,
  normalizedTransientMass,
  storageMass,
  transactionSerializedSize,
  transientMass,
} from '../../src/kaspa/mass.ts';
import { minimumRelayFee } from '../../src/kaspa/fee.ts';
import { signTransaction, verifyInputSignature } from '../../src/kaspa/sign.ts';
import { P2PK_SIGNATURE_SCRIPT_LENGTH } from '../../src/kaspa/script.ts';
import type { Transaction, TxInput } from '../../src/kaspa/types.ts';
import { entry, errorCode, input, loadVectors, output, tx } from './fixtures.ts';

interface AddressVectors {
  valid: { prefix: NetworkPrefix; version: number; payload: string; address: string; spk?: string }[];
  invalid: { why: string; text: string; code: string; expectedPrefix?: NetworkPrefix }[];
}

describe('addresses (FACTS §1.5)', () => {
  const v = loadVectors<AddressVectors>('addresses.json');
  it('encodes and decodes every valid vector', () => {
    for (const c of v.valid) {
      const a = new Address(c.prefix, c.version, hexToBytes(c.payload));
      assert.equal(a.toString(), c.address);
      const d = Address.decode(c.address, c.prefix);
      assert.ok(d.equals(a), c.address);
      assert.equal(bytesToHex(d.payload), c.payload);
      assert.ok(Address.validate(c.address), c.address);
      const spk = addressToScriptPublicKey(a);
      if (c.spk !== undefined) assert.equal(bytesToHex(spk.script), c.spk);
      assert.ok(scriptPublicKeyToAddress(spk, c.prefix)?.equals(a), c.address);
    }
  });
  it('rejects every bad input with its code', () => {
    for (const c of v.invalid) {
      assert.equal(
        errorCode(() => Address.decode(c.text, c.expectedPrefix)),
        c.code,
        c.why,
      );
      assert.equal(Address.validate(c.text, c.expectedPrefix), false, c.why);
      assert.throws(() => Address.decode(c.text, c.expectedPrefix), AddressError);
    }
  });
  it('gives undefined for a non-standard script', () => {
    assert.equal(scriptPublicKeyToAddress({ version: 0, script: hexToBytes('51') }, 'kaspa'), undefined);
    assert.equal(scriptPublicKeyToAddress({ version: 1, script: new Uint8Array(34) }, 'kaspa'), undefined);
  });
});

interface HdVectors {
  mnemonics: {
    phrase: string;
    passphrase: string;
    seed?: string;
    network: 'mainnet' | 'testnet';
    master: string;
    account0: string;
    leaves: { change: 0 | 1; index: number; privateKey?: string; xOnly?: string; address: string }[];
  }[];
  masterKeys: { master: string; leaves: { change: 0 | 1; index: number; address: string }[] }[];
  invalid: { why: string; phrase: string; code: string }[];
}

describe('HD derivation (FACTS §2.3)', () => {
  const v = loadVectors<HdVectors>('hd.json');
  it('derives seeds, master keys, account kpubs and leaf keys', () => {
    for (const m of v.mnemonics) {
      const seed = seedFromMnemonic(m.phrase, m.passphrase);
      if (m.seed !== undefined) assert.equal(bytesToHex(seed), m.seed);
      const w = KaspaHdWallet.fromSeed(seed, m.network);
      assert.equal(w.extendedPrivateKey(), m.master);
      assert.equal(w.accountExtendedPublicKey(0), m.account0);
      const fromMaster = KaspaHdWallet.fromExtendedPrivateKey(m.master);
      assert.equal(fromMaster.accountExtendedPublicKey(0), m.account0);
      for (const leaf of m.leaves) {
        const prefix = Address.decode(leaf.address).prefix;
        assert.equal(w.address(prefix, 0, leaf.change, leaf.index).toString(), leaf.address);
        if (leaf.privateKey !== undefined) {
          assert.equal(bytesToHex(w.privateKey(0, leaf.change, leaf.index)), leaf.privateKey);
        }
        if (leaf.xOnly !== undefined)
          assert.equal(bytesToHex(w.publicKey(0, leaf.change, leaf.index)), leaf.xOnly);
      }
    }
    for (const m of v.masterKeys) {
      const w = KaspaHdWallet.fromExtendedPrivateKey(m.master);
      for (const leaf of m.leaves)
        assert.equal(w.address('kaspa', 0, leaf.change, leaf.index).toString(), leaf.address);
    }
  });
  it("takes the passphrase as typed, as Kaspa's wallet does (kaspa-bip32 to_seed, no NFKD)", () => {
    // FACTS §2.3: measured against the official Python SDK 2.1.0 (test/oracle/kaspa_oracle.py).
    const phrase = v.mnemonics[0]!.phrase;
    const composed = KaspaHdWallet.fromSeed(seedFromMnemonic(phrase, '\u00e4'), 'mainnet');
    assert.equal(
      composed.address('kaspa', 0, 0, 0).toString(),
      'kaspa:qzsmk9uuk7w6snf3rl5rxt29xhhvqhe3uzlvhlrhf8vt6gj25xdcjqzvcqyk5',
    );
    // The decomposed spelling is other bytes, so another wallet.
    const decomposed = KaspaHdWallet.fromSeed(seedFromMnemonic(phrase, 'a\u0308'), 'mainnet');
    assert.notEqual(
      decomposed.address('kaspa', 0, 0, 0).toString(),
      composed.address('kaspa', 0, 0, 0).toString(),
    );
  });
  it('rejects bad mnemonics and extended keys with codes', () => {
    for (const c of v.invalid)
      assert.equal(
        errorCode(() => seedFromMnemonic(c.phrase)),
        c.code,
        c.why,
      );
    assert.equal(
      errorCode(() => KaspaHdWallet.fromExtendedPrivateKey('kprv5y2qurMHCsXYr')),
      'BAD_EXTENDED_KEY',
    );
    assert.equal(
      errorCode(() => KaspaHdWallet.fromExtendedPrivateKey('zprvAbc')),
      'BAD_EXTENDED_KEY',
    );
    const kpub = loadVectors<HdVectors>('hd.json').mnemonics[0]!.account0;
    assert.equal(
      errorCode(() => KaspaHdWallet.fromExtendedPrivateKey(kpub)),
      'NOT_PRIVATE',
    );
  });
});

interface TxVectors {
  domainHashes: { domain: string; input: string; digest: string }[];
  parts: {
    in1: JsonInput;
    in2: JsonInput;
    out1: { value: string; spkVersion: number; script: string };
    REGISTRY: string;
    NATIVE: string;
  };
  cases: {
    n: number;
    version: number;
    inputs: (string | JsonInput)[];
    outputs: string[];
    lockTime?: string;
    gas?: string;
    subnetworkId?: string;
    payload?: string;
    storageMass?: string;
    id: string;
    hash: string;
  }[];
}
interface JsonInput {
  txid: string;
  index: number;
  signatureScript: string;
  sequence: string;
  sigOpCount: number;
  computeBudget: number;
}
const jsonInput = (j: JsonInput): TxInput =>
  input(j.txid, j.index, {
    signatureScript: hexToBytes(j.signatureScript),
    sequence: BigInt(j.sequence),
    sigOpCount: j.sigOpCount,
    computeBudget: j.computeBudget,
  });

describe('hash domains, transaction ids and hashes (FACTS §3.2, §3.4)', () => {
  const v = loadVectors<TxVectors>('transactions.json');
  it('matches every keyed-hash vector', () => {
    const fns: Record<string, (d: Uint8Array) => Uint8Array> = {
      TransactionHash: transactionHashDigest,
      TransactionID: transactionIdDigest,
      TransactionSigningHash: transactionSigningDigest,
      PayloadDigest: payloadDigest,
      TransactionSigningHashECDSA: () => ecdsaSigningDigest(new Uint8Array(0)),
    };
    for (const h of v.domainHashes)
      assert.equal(bytesToHex(fns[h.domain]!(hexToBytes(h.input))), h.digest, h.domain);
  });
  it('matches every repo transaction id and hash, and the full encoding round-trips', () => {
    for (const c of v.cases) {
      const t = tx({
        version: c.version,
        inputs: c.inputs.map((i) => jsonInput(typeof i === 'string' ? v.parts[i as 'in1' | 'in2'] : i)),
        outputs: c.outputs.map(() =>
          output(BigInt(v.parts.out1.value), v.parts.out1.script, v.parts.out1.spkVersion),
        ),
        lockTime: BigInt(c.lockTime ?? 0),
        gas: BigInt(c.gas ?? 0),
        subnetworkId: hexToBytes(c.subnetworkId === 'REGISTRY' ? v.parts.REGISTRY : v.parts.NATIVE),
        payload: hexToBytes(c.payload ?? ''),
        storageMass: BigInt(c.storageMass ?? 0),
      });
      assert.equal(bytesToHex(transactionId(t)), c.id, `case ${c.n} id`);
      assert.equal(bytesToHex(transactionHash(t)), c.hash, `case ${c.n} hash`);
      if (t.version === 0 || t.inputs.every((i) => i.sigOpCount === 0)) {
        const full = encodeTransaction(t, { signatureScripts: true, payload: true, massCommitment: true });
        const back = decodeTransaction(full);
        assert.equal(bytesToHex(transactionHash(back)), c.hash, `case ${c.n} decoded hash`);
        assert.deepEqual(
          encodeTransaction(back, { signatureScripts: true, payload: true, massCommitment: true }),
          full,
        );
      }
    }
  });
});

interface SighashVectors {
  setup: { prev: string; spk1: string; spk2: string; lockTime: string };
  cases: {
    version: number;
    input: number;
    hashType: SigHashType;
    payload?: string;
    subnetworkId?: string;
    gas?: string;
    digest: string;
  }[];
  intermediates: {
    prevOutputsHash: string;
    sequencesHash: string;
    sigOpCountsHash: string;
    outputsHashV0: string;
    outputsHashV1: string;
    preimageV0Length: number;
    preimageV1Length: number;
    preimageV0: string;
  };
}

describe('signature hashes (FACTS §3.5)', () => {
  const v = loadVectors<SighashVectors>('sighash.json');
  const s = v.setup;
  const build = (version: number, fields: Partial<Transaction> = {}): Transaction =>
    tx({
      version,
      inputs: [0, 1, 2].map((k) =>
        input(s.prev, k, { sequence: BigInt(k), computeBudget: version === 0 ? 0 : 11 * (k + 1) }),
      ),
      outputs: [output(300n, s.spk2), output(300n, s.spk1)],
      lockTime: BigInt(s.lockTime),
      ...fields,
    });
  const spent = [entry(100n, s.spk1), entry(200n, s.spk2), entry(300n, s.spk2)];
  it('matches every repo digest', () => {
    for (const c of v.cases) {
      const fields: Partial<Transaction> = {};
      const t = build(c.version, {
        ...fields,
        ...(c.payload !== undefined ? { payload: hexToBytes(c.payload) } : {}),
        ...(c.subnetworkId !== undefined ? { subnetworkId: hexToBytes(c.subnetworkId) } : {}),
        ...(c.gas !== undefined ? { gas: BigInt(c.gas) } : {}),
      });
      assert.equal(
        bytesToHex(schnorrSignatureHash(t, c.input, spent, c.hashType)),
        c.digest,
        JSON.stringify(c),
      );
    }
  });
  it('reproduces the v0 preimage byte for byte and the v1 sub-hashes', () => {
    const i = v.intermediates;
    const p0 = signatureHashPreimage(build(0), 0, spent, SigHashType.All);
    assert.equal(p0.length, i.preimageV0Length);
    assert.equal(bytesToHex(p0), i.preimageV0);
    assert.equal(bytesToHex(p0.subarray(2, 34)), i.prevOutputsHash);
    assert.equal(bytesToHex(p0.subarray(34, 66)), i.sequencesHash);
    assert.equal(bytesToHex(p0.subarray(66, 98)), i.sigOpCountsHash);
    const p1 = signatureHashPreimage(build(1), 0, spent, SigHashType.All);
    assert.equal(p1.length, i.preimageV1Length);
    // v1 layout: version, prevOutputs, sequences, outpoint(36), spk(2+8+34), amount, sequence, outputsHash…
    const outputsAt = 2 + 32 + 32 + 36 + 44 + 8 + 8;
    assert.equal(bytesToHex(p1.subarray(outputsAt, outputsAt + 32)), i.outputsHashV1);
  });
  it('does not cover v1 compute budgets (FACTS §3.5)', () => {
    const a = build(1);
    const b = { ...a, inputs: a.inputs.map((x) => ({ ...x, computeBudget: 999 })) };
    assert.deepEqual(schnorrSignatureHash(a, 0, spent), schnorrSignatureHash(b, 0, spent));
  });
});

interface WorkedExample {
  input: { txid: string; index: number; amount: string; privateKey: string; spk: string };
  change: { spk: string };
  recipient: { value: string; spk: string };
  payloadLength: number;
  v0: Record<string, string>;
  v1: Record<string, string>;
  sameOutputsOtherInputs: { inputAmount: string; storageMassApprox: string }[];
}

describe('worked example (FACTS §4.8) and the signed transaction of §6.5', () => {
  const v = loadVectors<WorkedExample>('worked-example.json');
  const payload = Uint8Array.from({ length: v.payloadLength }, (_, i) => i);
  const spent = [entry(BigInt(v.input.amount), v.input.spk)];
  const build = (version: 0 | 1, signed: boolean): Transaction => {
    const e = version === 0 ? v.v0 : v.v1;
    return tx({
      version,
      inputs: [
        input(v.input.txid, v.input.index, {
          sigOpCount: version === 0 ? 1 : 0,
          computeBudget: version === 0 ? 0 : 10,
          // Mass is estimated with a placeholder of the final signature script's length (FACTS §4.1).
          signatureScript: signed ? new Uint8Array(P2PK_SIGNATURE_SCRIPT_LENGTH) : new Uint8Array(0),
        }),
      ],
      outputs: [
        output(BigInt(v.recipient.value), v.recipient.spk),
        output(BigInt(e['change']!), v.change.spk),
      ],
      payload,
      storageMass: BigInt(e['storageMass']!),
    });
  };
  for (const version of [0, 1] as const) {
    it(`v${version}: size, compute, transient, storage, normalized mass and minimum fee`, () => {
      const e = version === 0 ? v.v0 : v.v1;
      const t = build(version, true);
      assert.equal(transactionSerializedSize(t), BigInt(e['size']!));
      assert.equal(computeMass(t), BigInt(e['computeMass']!));
      assert.equal(transientMass(t), BigInt(e['transientMass']!));
      assert.equal(normalizedTransientMass(t), BigInt(e['normalizedTransient']!));
      assert.equal(minimumRelayFee(t), BigInt(e['minimumFee']!));
      assert.equal(storageMass(t, spent), BigInt(e['storageMass']!));
      assert.equal(normalizedMass(t, spent), BigInt(e['normalizedMass']!));
      // The input pays exactly outputs + minimum fee.
      assert.equal(
        BigInt(v.input.amount) - t.outputs[0]!.value - t.outputs[1]!.value,
        BigInt(e['minimumFee']!),
      );
    });
  }
  it('storage mass with larger inputs: same recipient output, change = input - recipient - fee', () => {
    for (const c of v.sameOutputsOtherInputs) {
      const base = build(0, true);
      const amount = BigInt(c.inputAmount);
      const change = amount - BigInt(v.recipient.value) - BigInt(v.v0['minimumFee']!);
      const t = { ...base, outputs: [base.outputs[0]!, { ...base.outputs[1]!, value: change }] };
      const m = storageMass(t, [entry(amount, v.input.spk)]);
      // FACTS gives these as approximations ("≈"), so allow the rounding of three floor terms.
      const expected = BigInt(c.storageMassApprox);
      assert.ok(
        m !== undefined && m >= expected - 3n && m <= expected + 3n,
        `storage mass ${m} vs ≈${expected}`,
      );
    }
  });
  it('v0 signed with aux = 32 zero bytes reproduces the §6.5 signature script, and verifies', () => {
    const unsigned = build(0, false);
    const key = hexToBytes(v.input.privateKey);
    const signed = signTransaction(unsigned, spent, [key], { auxRand: new Uint8Array(32) });
    assert.equal(bytesToHex(signed.inputs[0]!.signatureScript), v.v0['signatureScript']);
    assert.equal(verifyInputSignature(signed, 0, spent), true);
    // The id covers neither the signature script nor the mass commitment (FACTS §3.4).
    assert.deepEqual(transactionId(signed), transactionId(unsigned));
    assert.equal(bytesToHex(transactionId(signed)), v.v0['transactionId']);
    // A signed mass equals the estimate made with the 66-byte placeholder.
    assert.equal(computeMass(signed), computeMass(build(0, true)));
  });
});

describe('storage mass edge cases (consensus/core/src/mass/mod.rs calc_storage_mass)', () => {
  it('floors the mean input amount at 1 on the arithmetic path, as the node does (0, not incomputable)', () => {
    // Three inputs of plurality 2 holding 1 sompi each: Σ amounts / Σ plurality = 3 / 6 = 0,
    // which the node raises to 1 (`.max(1)`), so the inputs free C × 6 grams and the mass is 0.
    const ins = [1n, 1n, 1n].map((amount) => ({ amount, plurality: 2n }));
    const outs = [100_000_000n, 100_000_000n].map((amount) => ({ amount, plurality: 1n }));
    assert.equal(storageMassOf(ins, outs), 0n);
    // Outputs that outweigh the freed mass keep their excess: 3 outputs of 1 sompi cost 3C.
    const dust = [1n, 1n, 1n, 1n, 1n, 1n, 1n].map((amount) => ({ amount, plurality: 1n }));
    assert.equal(storageMassOf(ins, dust), 7n * 10n ** 12n - 6n * 10n ** 12n);
  });
});
