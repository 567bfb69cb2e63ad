/**
 * Standard script public keys and their classes (FACTS §1.4). Only these three shapes are
 * relayed by the mempool (FACTS §4.5), so they are the only ones this library builds.
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { assertBytes } from '../util/errors.ts';
import type { ScriptPublicKey } from './types.ts';

/** Opcodes used by the standard scripts (`crypto/txscript/src/opcodes`). */
export const OP = {
  DATA_32: 0x20,
  DATA_33: 0x21,
  DATA_65: 0x41,
  EQUAL: 0x87,
  BLAKE2B: 0xaa,
  CHECKSIG_ECDSA: 0xab,
  CHECKSIG: 0xac,
} as const;

/** The class of a script public key, as the node's `ScriptClass` names it. */
export type ScriptClass = 'PubKey' | 'PubKeyECDSA' | 'ScriptHash' | 'NonStandard';

/** The only script public key version the mempool accepts (FACTS §4.5). */
export const STANDARD_SPK_VERSION = 0;

/** P2PK Schnorr: OP_DATA_32 ‖ x-only key ‖ OP_CHECKSIG (34 bytes). */
export function payToPubKey(xOnlyPublicKey: Uint8Array): ScriptPublicKey {
  assertBytes('xOnlyPublicKey', xOnlyPublicKey, 32);
  const script = new Uint8Array(34);
  script[0] = OP.DATA_32;
  script.set(xOnlyPublicKey, 1);
  script[33] = OP.CHECKSIG;
  return { version: STANDARD_SPK_VERSION, script };
}

/** P2PK ECDSA: OP_DATA_33 ‖ compressed key ‖ OP_CHECKSIGECDSA (35 bytes). */
export function payToPubKeyEcdsa(compressedPublicKey: Uint8Array): ScriptPublicKey {
  assertBytes('compressedPublicKey', compressedPublicKey, 33);
  const script = new Uint8Array(35);
  script[0] = OP.DATA_33;
  script.set(compressedPublicKey, 1);
  script[34] = OP.CHECKSIG_ECDSA;
  return { version: STANDARD_SPK_VERSION, script };
}

/** P2SH: OP_BLAKE2B ‖ OP_DATA_32 ‖ hash ‖ OP_EQUAL (35 bytes), from the 32-byte script hash. */
export function payToScriptHash(scriptHash: Uint8Array): ScriptPublicKey {
  assertBytes('scriptHash', scriptHash, 32);
  const script = new Uint8Array(35);
  script[0] = OP.BLAKE2B;
  script[1] = OP.DATA_32;
  script.set(scriptHash, 2);
  script[34] = OP.EQUAL;
  return { version: STANDARD_SPK_VERSION, script };
}

/** Plain, unkeyed BLAKE2b-256 of a redeem script: the P2SH commitment (FACTS §1.4). */
export function scriptHash(redeemScript: Uint8Array): Uint8Array {
  assertBytes('redeemScript', redeemScript);
  return blake2b(redeemScript, { dkLen: 32 });
}

/** Classifies a script public key; anything but the three standard shapes at version 0 is NonStandard. */
export function scriptClass(spk: ScriptPublicKey): ScriptClass {
  if (spk.version !== STANDARD_SPK_VERSION) return 'NonStandard';
  const s = spk.script;
  if (s.length === 34 && s[0] === OP.DATA_32 && s[33] === OP.CHECKSIG) return 'PubKey';
  // Like the node, the class looks at the script's shape only, not at the key's SEC1 prefix.
  if (s.length === 35 && s[0] === OP.DATA_33 && s[34] === OP.CHECKSIG_ECDSA) return 'PubKeyECDSA';
  if (s.length === 35 && s[0] === OP.BLAKE2B && s[1] === OP.DATA_32 && s[34] === OP.EQUAL)
    return 'ScriptHash';
  return 'NonStandard';
}

/** The key or hash a standard script commits to, or undefined for a non-standard script. */
export function scriptPayload(spk: ScriptPublicKey): Uint8Array | undefined {
  switch (scriptClass(spk)) {
    case 'PubKey':
      return spk.script.slice(1, 33);
    case 'PubKeyECDSA':
      return spk.script.slice(1, 34);
    case 'ScriptHash':
      return spk.script.slice(2, 34);
    case 'NonStandard':
      return undefined;
  }
}

/** Signature script of a P2PK spend: OP_DATA_65 ‖ 64-byte signature ‖ sighash type (FACTS §3.5). */
export function p2pkSignatureScript(signature: Uint8Array, hashType: number): Uint8Array {
  assertBytes('signature', signature, 64);
  const out = new Uint8Array(66);
  out[0] = OP.DATA_65;
  out.set(signature, 1);
  out[65] = hashType;
  return out;
}

/** Length of a P2PK signature script, used to estimate mass before signing (FACTS §4.1). */
export const P2PK_SIGNATURE_SCRIPT_LENGTH = 66;
