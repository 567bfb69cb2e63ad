/**
 * Signature hashes (FACTS §3.5): the 32-byte message a P2PK Schnorr or ECDSA signature signs.
 * v1 drops the sig-op counts and adds the output covenant bytes; compute budgets, the storage
 * mass commitment and signature scripts are never signed.
 */
import { ByteWriter } from '../util/binary.ts';
import { ecdsaSigningDigest, transactionSigningDigest } from './hashing.ts';
import { assertSpentEntries, assertTransaction, isNativeSubnetwork } from './transaction.ts';
import { writeOutput } from './txid.ts';
import type { Transaction, UtxoEntry } from './types.ts';
import { assertInteger } from '../util/errors.ts';

/** Sighash type byte (`consensus/core/src/hashing/sighash_type.rs`). */
export enum SigHashType {
  All = 0x01,
  None = 0x02,
  Single = 0x04,
  AllAnyoneCanPay = 0x81,
  NoneAnyoneCanPay = 0x82,
  SingleAnyoneCanPay = 0x84,
}

/** The six sighash types consensus accepts, in byte order. */
export const SIGHASH_TYPES: readonly SigHashType[] = [
  SigHashType.All,
  SigHashType.None,
  SigHashType.Single,
  SigHashType.AllAnyoneCanPay,
  SigHashType.NoneAnyoneCanPay,
  SigHashType.SingleAnyoneCanPay,
];

const ANYONE_CAN_PAY = 0x80;
const ZERO_HASH = new Uint8Array(32);
const ALLOWED = new Set<number>(SIGHASH_TYPES);

/** True for the six sighash type bytes consensus accepts. */
export function isStandardSigHashType(value: number): value is SigHashType {
  return ALLOWED.has(value);
}

/**
 * Sub-hashes shared by every input of one transaction. A signer hashing all inputs keeps one of
 * these so that signing n inputs costs O(n), not O(n²).
 */
export class SighashReusedValues {
  prevOutputs?: Uint8Array;
  sequences?: Uint8Array;
  sigOpCounts?: Uint8Array;
  outputs?: Uint8Array;
  payload?: Uint8Array;
  /** The transaction and entries already checked at the boundary, so each input skips it. */
  checked?: { readonly tx: Transaction; readonly spent: readonly UtxoEntry[] };
}

function prevOutputsHash(tx: Transaction, type: number, r: SighashReusedValues): Uint8Array {
  if (type & ANYONE_CAN_PAY) return ZERO_HASH;
  if (r.prevOutputs) return r.prevOutputs;
  const w = new ByteWriter(16 + tx.inputs.length * 36);
  for (const i of tx.inputs) w.bytes(i.previousOutpoint.transactionId).u32(i.previousOutpoint.index);
  return (r.prevOutputs = transactionSigningDigest(w.finish()));
}

function sequencesHash(tx: Transaction, type: number, r: SighashReusedValues): Uint8Array {
  const base = type & ~ANYONE_CAN_PAY;
  if (type & ANYONE_CAN_PAY || base === SigHashType.Single || base === SigHashType.None) return ZERO_HASH;
  if (r.sequences) return r.sequences;
  const w = new ByteWriter(16 + tx.inputs.length * 8);
  for (const i of tx.inputs) w.u64(i.sequence);
  return (r.sequences = transactionSigningDigest(w.finish()));
}

function sigOpCountsHash(tx: Transaction, type: number, r: SighashReusedValues): Uint8Array {
  if (type & ANYONE_CAN_PAY) return ZERO_HASH;
  if (r.sigOpCounts) return r.sigOpCounts;
  const w = new ByteWriter(16 + tx.inputs.length);
  for (const i of tx.inputs) w.u8(i.sigOpCount);
  return (r.sigOpCounts = transactionSigningDigest(w.finish()));
}

function outputsHash(tx: Transaction, inputIndex: number, type: number, r: SighashReusedValues): Uint8Array {
  const base = type & ~ANYONE_CAN_PAY;
  if (base === SigHashType.None) return ZERO_HASH;
  if (base === SigHashType.Single) {
    const output = tx.outputs[inputIndex];
    if (output === undefined) return ZERO_HASH;
    const w = new ByteWriter(64);
    writeOutput(w, output, tx.version);
    return transactionSigningDigest(w.finish());
  }
  if (r.outputs) return r.outputs;
  const w = new ByteWriter(16 + tx.outputs.length * 64);
  for (const o of tx.outputs) writeOutput(w, o, tx.version);
  return (r.outputs = transactionSigningDigest(w.finish()));
}

function payloadHash(tx: Transaction, r: SighashReusedValues): Uint8Array {
  if (isNativeSubnetwork(tx.subnetworkId) && tx.payload.length === 0) return ZERO_HASH;
  if (r.payload) return r.payload;
  return (r.payload = transactionSigningDigest(
    new ByteWriter(tx.payload.length + 8).varBytes64(tx.payload).finish(),
  ));
}

/** The digest preimage of FACTS §3.5, exposed for tests that check it byte by byte. */
export function signatureHashPreimage(
  tx: Transaction,
  inputIndex: number,
  spent: readonly UtxoEntry[],
  hashType: SigHashType = SigHashType.All,
  reused: SighashReusedValues = new SighashReusedValues(),
): Uint8Array {
  if (reused.checked?.tx !== tx || reused.checked.spent !== spent) {
    assertTransaction(tx);
    assertSpentEntries(tx, spent);
    reused.checked = { tx, spent };
  }
  assertInteger('inputIndex', inputIndex, 0, tx.inputs.length - 1);
  if (!isStandardSigHashType(hashType))
    throw new RangeError(`"hashType" 0x${Number(hashType).toString(16)} is not allowed`);
  const v0 = tx.version === 0;
  const input = tx.inputs[inputIndex]!;
  const utxo = spent[inputIndex]!;
  const w = new ByteWriter(320);
  w.u16(tx.version);
  w.bytes(prevOutputsHash(tx, hashType, reused));
  w.bytes(sequencesHash(tx, hashType, reused));
  if (v0) w.bytes(sigOpCountsHash(tx, hashType, reused));
  w.bytes(input.previousOutpoint.transactionId).u32(input.previousOutpoint.index);
  w.u16(utxo.scriptPublicKey.version).varBytes64(utxo.scriptPublicKey.script);
  w.u64(utxo.amount);
  w.u64(input.sequence);
  if (v0) w.u8(input.sigOpCount);
  w.bytes(outputsHash(tx, inputIndex, hashType, reused));
  w.u64(tx.lockTime).bytes(tx.subnetworkId).u64(tx.gas);
  w.bytes(payloadHash(tx, reused));
  w.u8(hashType);
  return w.finish();
}

/** The Schnorr signature hash of input `inputIndex`; `spent` holds one UTXO entry per input. */
export function schnorrSignatureHash(
  tx: Transaction,
  inputIndex: number,
  spent: readonly UtxoEntry[],
  hashType: SigHashType = SigHashType.All,
  reused?: SighashReusedValues,
): Uint8Array {
  return transactionSigningDigest(signatureHashPreimage(tx, inputIndex, spent, hashType, reused));
}

/** The ECDSA signature hash: SHA-256 over the ECDSA domain hash and the Schnorr sighash (FACTS §2.2). */
export function ecdsaSignatureHash(
  tx: Transaction,
  inputIndex: number,
  spent: readonly UtxoEntry[],
  hashType: SigHashType = SigHashType.All,
  reused?: SighashReusedValues,
): Uint8Array {
  return ecdsaSigningDigest(schnorrSignatureHash(tx, inputIndex, spent, hashType, reused));
}
