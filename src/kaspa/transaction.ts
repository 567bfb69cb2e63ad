/**
 * Structural checks on the transaction data model (FACTS §3.1), run at the boundary of every
 * function that encodes, hashes or signs, so that a malformed object fails with a TypeError or
 * RangeError naming the field rather than with a wrong hash.
 */
import { assertBigInt, assertBytes, assertInteger } from '../util/errors.ts';
import type { ScriptPublicKey, Transaction, UtxoEntry } from './types.ts';

const U64_MAX = (1n << 64n) - 1n;

/** Transaction versions consensus accepts at Toccata (FACTS §0). */
export const MAX_TRANSACTION_VERSION = 1;

function assertSpk(name: string, spk: ScriptPublicKey): void {
  if (typeof spk !== 'object' || spk === null) throw new TypeError(`"${name}" expected a script public key`);
  assertInteger(`${name}.version`, spk.version, 0, 0xffff);
  assertBytes(`${name}.script`, spk.script);
}

/** Throws TypeError/RangeError unless every field has the type and width of FACTS §3.1. */
export function assertTransaction(tx: Transaction): void {
  if (typeof tx !== 'object' || tx === null) throw new TypeError('"tx" expected a transaction object');
  assertInteger('tx.version', tx.version, 0, 0xffff);
  if (!Array.isArray(tx.inputs)) throw new TypeError('"tx.inputs" expected an array');
  if (!Array.isArray(tx.outputs)) throw new TypeError('"tx.outputs" expected an array');
  tx.inputs.forEach((input, i) => {
    const n = `tx.inputs[${i}]`;
    if (typeof input !== 'object' || input === null) throw new TypeError(`"${n}" expected an input`);
    assertBytes(`${n}.previousOutpoint.transactionId`, input.previousOutpoint.transactionId, 32);
    assertInteger(`${n}.previousOutpoint.index`, input.previousOutpoint.index, 0, 0xffffffff);
    assertBytes(`${n}.signatureScript`, input.signatureScript);
    assertBigInt(`${n}.sequence`, input.sequence, 0n, U64_MAX);
    assertInteger(`${n}.sigOpCount`, input.sigOpCount, 0, 0xff);
    assertInteger(`${n}.computeBudget`, input.computeBudget, 0, 0xffff);
  });
  tx.outputs.forEach((output, i) => {
    const n = `tx.outputs[${i}]`;
    if (typeof output !== 'object' || output === null) throw new TypeError(`"${n}" expected an output`);
    assertBigInt(`${n}.value`, output.value, 0n, U64_MAX);
    assertSpk(`${n}.scriptPublicKey`, output.scriptPublicKey);
    if (output.covenant !== undefined) {
      assertInteger(`${n}.covenant.authorizingInput`, output.covenant.authorizingInput, 0, 0xffff);
      assertBytes(`${n}.covenant.covenantId`, output.covenant.covenantId, 32);
    }
  });
  assertBigInt('tx.lockTime', tx.lockTime, 0n, U64_MAX);
  assertBytes('tx.subnetworkId', tx.subnetworkId, 20);
  assertBigInt('tx.gas', tx.gas, 0n, U64_MAX);
  assertBytes('tx.payload', tx.payload);
  assertBigInt('tx.storageMass', tx.storageMass, 0n, U64_MAX);
}

/** Throws unless `spent` holds one well-formed UTXO entry per input of `tx`. */
export function assertSpentEntries(tx: Transaction, spent: readonly UtxoEntry[]): void {
  if (!Array.isArray(spent)) throw new TypeError('"spent" expected an array of UTXO entries');
  if (spent.length !== tx.inputs.length) {
    throw new RangeError(`"spent" expected ${tx.inputs.length} entries (one per input), got ${spent.length}`);
  }
  spent.forEach((e, i) => {
    if (typeof e !== 'object' || e === null) throw new TypeError(`"spent[${i}]" expected a UTXO entry`);
    assertBigInt(`spent[${i}].amount`, e.amount, 0n, U64_MAX);
    assertSpk(`spent[${i}].scriptPublicKey`, e.scriptPublicKey);
    if (e.covenantId !== undefined) assertBytes(`spent[${i}].covenantId`, e.covenantId, 32);
  });
}

/** True for the coinbase subnetwork `01` ‖ 19×`00` (FACTS §3.1). */
export function isCoinbase(tx: Transaction): boolean {
  return tx.subnetworkId[0] === 1 && tx.subnetworkId.subarray(1).every((b) => b === 0);
}

/** True for the native subnetwork (20 zero bytes). */
export function isNativeSubnetwork(subnetworkId: Uint8Array): boolean {
  return subnetworkId.every((b) => b === 0);
}
