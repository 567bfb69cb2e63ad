/**
 * Signing and verifying standard P2PK spends (FACTS §2.1, §2.2, §3.5). Schnorr is BIP-340 over
 * the 32-byte sighash with no prehash (schnorr.ts: each key's point once per transaction, no
 * self-verification, the node checks every input); ECDSA signs the ECDSA sighash as a 64-byte
 * compact, low-S signature. P2SH needs its redeem script and is not signed here.
 */
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { P2pCommError, assertBytes } from '../util/errors.ts';
import { bytesToHex, equalBytes } from '../util/bytes.ts';
import { P2PK_SIGNATURE_SCRIPT_LENGTH, OP, p2pkSignatureScript, scriptClass } from './script.ts';
import {
  SigHashType,
  SighashReusedValues,
  ecdsaSignatureHash,
  isStandardSigHashType,
  schnorrSignatureHash,
} from './sighash.ts';
import { SchnorrSigningKey } from './schnorr.ts';
import { assertSpentEntries, assertTransaction } from './transaction.ts';
import type { Transaction, TxInput, UtxoEntry } from './types.ts';

/** Why an input could not be signed or checked. */
export class SignError extends P2pCommError<'UNSUPPORTED_SCRIPT' | 'KEY_MISMATCH'> {}

/** Options for `signTransaction`. */
export interface SignOptions {
  /** BIP-340 auxiliary randomness (32 bytes); random per signature when absent. */
  readonly auxRand?: Uint8Array;
  /** Sighash type for every input; `All` unless told otherwise. */
  readonly hashType?: SigHashType;
}

/**
 * Signs every input of `tx` with the private key at the same index and returns a new
 * transaction with the signature scripts filled in. Inputs must spend P2PK (Schnorr) or
 * P2PK-ECDSA scripts; the key must match the spent script (SignError KEY_MISMATCH otherwise).
 */
export function signTransaction(
  tx: Transaction,
  spent: readonly UtxoEntry[],
  privateKeys: readonly Uint8Array[],
  opts?: SignOptions,
): Transaction {
  assertTransaction(tx);
  assertSpentEntries(tx, spent);
  if (!Array.isArray(privateKeys) || privateKeys.length !== tx.inputs.length) {
    throw new RangeError(`"privateKeys" expected ${tx.inputs.length} keys (one per input)`);
  }
  const hashType = opts?.hashType ?? SigHashType.All;
  if (!isStandardSigHashType(hashType)) throw new RangeError(`"hashType" ${String(hashType)} is not allowed`);
  if (opts?.auxRand !== undefined) assertBytes('auxRand', opts.auxRand, 32);
  const reused = new SighashReusedValues();
  // Checked above: the sighash of each input skips the same walk over the transaction.
  reused.checked = { tx, spent };
  // Inputs paid to one address share a key: its point is computed once.
  const signers = new Map<string, SchnorrSigningKey>();
  const inputs: TxInput[] = tx.inputs.map((input, i) => {
    const key = privateKeys[i];
    assertBytes(`privateKeys[${i}]`, key, 32);
    const spk = spent[i]!.scriptPublicKey;
    const cls = scriptClass(spk);
    let signature: Uint8Array;
    if (cls === 'PubKey') {
      const id = bytesToHex(key);
      let signer = signers.get(id);
      if (signer === undefined) {
        signer = SchnorrSigningKey.fromSecretKey(key, `privateKeys[${i}]`);
        signers.set(id, signer);
      }
      if (!equalBytes(signer.publicKey, spk.script.subarray(1, 33))) {
        throw new SignError('KEY_MISMATCH', `private key ${i} does not own the P2PK script it spends`);
      }
      signature = signer.sign(schnorrSignatureHash(tx, i, spent, hashType, reused), opts?.auxRand);
    } else if (cls === 'PubKeyECDSA') {
      if (!equalBytes(secp256k1.getPublicKey(key, true), spk.script.subarray(1, 34))) {
        throw new SignError('KEY_MISMATCH', `private key ${i} does not own the P2PK-ECDSA script it spends`);
      }
      signature = secp256k1.sign(ecdsaSignatureHash(tx, i, spent, hashType, reused), key, {
        prehash: false,
        lowS: true,
        format: 'compact',
      });
    } else {
      throw new SignError(
        'UNSUPPORTED_SCRIPT',
        `input ${i} spends a ${cls} script; only P2PK spends are signed`,
      );
    }
    return { ...input, signatureScript: p2pkSignatureScript(signature, hashType) };
  });
  return { ...tx, inputs };
}

/**
 * Checks the signature script of a P2PK (Schnorr) or P2PK-ECDSA spend against the spent script.
 * Returns false for any malformed or wrong signature; throws SignError UNSUPPORTED_SCRIPT when
 * the spent script is P2SH or non-standard (those need a script engine, not a signature check).
 */
export function verifyInputSignature(
  tx: Transaction,
  inputIndex: number,
  spent: readonly UtxoEntry[],
): boolean {
  assertTransaction(tx);
  assertSpentEntries(tx, spent);
  const input = tx.inputs[inputIndex];
  if (input === undefined) throw new RangeError(`"inputIndex" ${inputIndex} out of range`);
  const spk = spent[inputIndex]!.scriptPublicKey;
  const cls = scriptClass(spk);
  if (cls !== 'PubKey' && cls !== 'PubKeyECDSA') {
    throw new SignError('UNSUPPORTED_SCRIPT', `input ${inputIndex} spends a ${cls} script`);
  }
  const sigScript = input.signatureScript;
  if (sigScript.length !== P2PK_SIGNATURE_SCRIPT_LENGTH || sigScript[0] !== OP.DATA_65) return false;
  const hashType = sigScript[65]!;
  if (!isStandardSigHashType(hashType)) return false;
  const signature = sigScript.subarray(1, 65);
  try {
    if (cls === 'PubKey') {
      return schnorr.verify(
        signature,
        schnorrSignatureHash(tx, inputIndex, spent, hashType),
        spk.script.subarray(1, 33),
      );
    }
    return secp256k1.verify(
      signature,
      ecdsaSignatureHash(tx, inputIndex, spent, hashType),
      spk.script.subarray(1, 34),
      {
        prehash: false,
        lowS: true,
        format: 'compact',
      },
    );
  } catch {
    // noble throws on keys that are not on the curve; for a verifier that is just "invalid".
    return false;
  }
}
