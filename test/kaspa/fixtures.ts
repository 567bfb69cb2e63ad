/** Shared helpers for the Kaspa tests: loading vectors and building transactions from them. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hexToBytes } from '../../src/util/bytes.ts';
import { NATIVE_SUBNETWORK_ID } from '../../src/kaspa/types.ts';
import type { Transaction, TxId, TxInput, TxOutput, UtxoEntry } from '../../src/kaspa/types.ts';

/** Parses a JSON vector file of test/vectors/kaspa. */
export function loadVectors<T>(name: string): T {
  return JSON.parse(readFileSync(join(import.meta.dirname, '../vectors/kaspa', name), 'utf8')) as T;
}

/** A v0/v1 transaction with defaults for every field not given. */
export function tx(fields: Partial<Transaction> & Pick<Transaction, 'inputs' | 'outputs'>): Transaction {
  return {
    version: 0,
    lockTime: 0n,
    subnetworkId: NATIVE_SUBNETWORK_ID,
    gas: 0n,
    payload: new Uint8Array(0),
    storageMass: 0n,
    ...fields,
  };
}

/** An input spending `txid:index` with an empty signature script. */
export function input(txidHex: string, index: number, fields: Partial<TxInput> = {}): TxInput {
  return {
    previousOutpoint: { transactionId: hexToBytes(txidHex) as TxId, index },
    signatureScript: new Uint8Array(0),
    sequence: 0n,
    sigOpCount: 0,
    computeBudget: 0,
    ...fields,
  };
}

/** An output of `value` sompi to a version-0 script given in hex. */
export function output(value: bigint, scriptHex: string, version = 0): TxOutput {
  return { value, scriptPublicKey: { version, script: hexToBytes(scriptHex) } };
}

/** A non-coinbase UTXO entry holding `amount` under a version-0 script given in hex. */
export function entry(amount: bigint, scriptHex: string): UtxoEntry {
  return {
    amount,
    scriptPublicKey: { version: 0, script: hexToBytes(scriptHex) },
    blockDaaScore: 0n,
    isCoinbase: false,
  };
}

/** Runs `f` and returns the `code` of the typed error it throws, or "none". */
export function errorCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof Error && 'code' in e && typeof e.code === 'string') return e.code;
    throw e;
  }
  return 'none';
}
