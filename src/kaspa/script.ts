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

/** The opcodes before the key or hash a standard script commits to, its length, the closing opcode. */
interface Template {
  readonly head: readonly number[];
  readonly size: number;
  readonly tail: number;
}

/** The three standard shapes (FACTS §1.4), one description each for building, classifying and reading. */
const TEMPLATES = {
  PubKey: { head: [OP.DATA_32], size: 32, tail: OP.CHECKSIG },
  PubKeyECDSA: { head: [OP.DATA_33], size: 33, tail: OP.CHECKSIG_ECDSA },
  ScriptHash: { head: [OP.BLAKE2B, OP.DATA_32], size: 32, tail: OP.EQUAL },
} as const satisfies Record<Exclude<ScriptClass, 'NonStandard'>, Template>;

const STANDARD_CLASSES = ['PubKey', 'PubKeyECDSA', 'ScriptHash'] as const;

/** `head ‖ body ‖ tail`; the caller has checked `body`'s length. */
function assemble(head: readonly number[], body: Uint8Array, tail: number): Uint8Array {
  const out = new Uint8Array(head.length + body.length + 1);
  out.set(head);
  out.set(body, head.length);
  out[out.length - 1] = tail;
  return out;
}

function fromTemplate(t: Template, name: string, body: Uint8Array): ScriptPublicKey {
  assertBytes(name, body, t.size);
  return { version: STANDARD_SPK_VERSION, script: assemble(t.head, body, t.tail) };
}

function matches(t: Template, script: Uint8Array): boolean {
  return (
    script.length === t.head.length + t.size + 1 &&
    t.head.every((op, i) => script[i] === op) &&
    script[script.length - 1] === t.tail
  );
}

/** P2PK Schnorr: OP_DATA_32 ‖ x-only key ‖ OP_CHECKSIG (34 bytes). */
export function payToPubKey(xOnlyPublicKey: Uint8Array): ScriptPublicKey {
  return fromTemplate(TEMPLATES.PubKey, 'xOnlyPublicKey', xOnlyPublicKey);
}

/** P2PK ECDSA: OP_DATA_33 ‖ compressed key ‖ OP_CHECKSIGECDSA (35 bytes). */
export function payToPubKeyEcdsa(compressedPublicKey: Uint8Array): ScriptPublicKey {
  return fromTemplate(TEMPLATES.PubKeyECDSA, 'compressedPublicKey', compressedPublicKey);
}

/** P2SH: OP_BLAKE2B ‖ OP_DATA_32 ‖ hash ‖ OP_EQUAL (35 bytes), from the 32-byte script hash. */
export function payToScriptHash(scriptHash: Uint8Array): ScriptPublicKey {
  return fromTemplate(TEMPLATES.ScriptHash, 'scriptHash', scriptHash);
}

/** Plain, unkeyed BLAKE2b-256 of a redeem script: the P2SH commitment (FACTS §1.4). */
export function scriptHash(redeemScript: Uint8Array): Uint8Array {
  assertBytes('redeemScript', redeemScript);
  return blake2b(redeemScript, { dkLen: 32 });
}

/** Classifies a script public key; anything but the three standard shapes at version 0 is NonStandard. */
export function scriptClass(spk: ScriptPublicKey): ScriptClass {
  if (spk.version !== STANDARD_SPK_VERSION) return 'NonStandard';
  // Like the node, the class looks at the script's shape only, not at the key's SEC1 prefix.
  return STANDARD_CLASSES.find((c) => matches(TEMPLATES[c], spk.script)) ?? 'NonStandard';
}

/** The key or hash a standard script commits to, or undefined for a non-standard script. */
export function scriptPayload(spk: ScriptPublicKey): Uint8Array | undefined {
  const c = scriptClass(spk);
  if (c === 'NonStandard') return undefined;
  const { head, size } = TEMPLATES[c];
  return spk.script.slice(head.length, head.length + size);
}

/** Signature script of a P2PK spend: OP_DATA_65 ‖ 64-byte signature ‖ sighash type (FACTS §3.5). */
export function p2pkSignatureScript(signature: Uint8Array, hashType: number): Uint8Array {
  assertBytes('signature', signature, 64);
  return assemble([OP.DATA_65], signature, hashType);
}

/** Length of a P2PK signature script, used to estimate mass before signing (FACTS §4.1). */
export const P2PK_SIGNATURE_SCRIPT_LENGTH = 66;
