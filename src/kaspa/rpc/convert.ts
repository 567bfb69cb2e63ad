/**
 * Exact converters between the data model (`src/kaspa/types.ts`) and the wRPC JSON shapes
 * (`wire.ts`, FACTS §6). Decoders take untrusted `unknown` JSON, check every field and fail
 * with RpcFieldError naming it; encoders emit what a node emits, so `fromRpc(toRpc(x))`
 * is `x`, and `parseJson(stringifyJson(toRpc(x)))` deep-equals `toRpc(x)`: u64 values are
 * `number` up to 2^53 − 1 and `bigint` above, which is exactly what `parseJson` yields.
 */
import { assertBytes, assertInteger } from '../../util/errors.ts';
import { bytesToHex, concatBytes } from '../../util/bytes.ts';
import type {
  BlockHash,
  Covenant,
  Outpoint,
  ScriptPublicKey,
  Transaction,
  TxId,
  TxInput,
  TxOutput,
  Utxo,
  UtxoEntry,
} from '../types.ts';
import {
  RpcFieldError,
  prop,
  readArray,
  readBool,
  readHex,
  readObject,
  readOptional,
  readString,
  readU64,
  readUint,
} from './fields.ts';
import type {
  RpcCovenant,
  RpcMempoolEntry,
  RpcOutpoint,
  RpcTransaction,
  RpcTransactionInput,
  RpcTransactionOutput,
  RpcU64,
  RpcUtxoEntry,
  RpcUtxosByAddressesEntry,
} from './wire.ts';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const U64_MAX = (1n << 64n) - 1n;

/** A UTXO as the node reports it by address; `address` is null for non-standard scripts. */
export interface AddressedUtxo extends Utxo {
  readonly address: string | null;
}

/** A mempool entry (FACTS §6.5 getMempoolEntry). */
export interface MempoolEntry {
  readonly fee: bigint;
  readonly transaction: Transaction;
  readonly isOrphan: boolean;
}

/** u64 → the form parseJson yields: number when safe, bigint above 2^53 − 1. */
export function u64ToRpc(name: string, v: bigint): RpcU64 {
  if (typeof v !== 'bigint') throw new TypeError(`"${name}" expected a bigint, got ${typeof v}`);
  if (v < 0n || v > U64_MAX) throw new RangeError(`"${name}" expected a u64, got ${v}`);
  return v <= MAX_SAFE ? Number(v) : v;
}

/** 32-byte hash or id → lowercase hex in stored order (FACTS §3.2). */
export function hashToRpc(hash: Uint8Array): string {
  assertBytes('hash', hash, 32);
  return bytesToHex(hash);
}

/** Hex → TxId (32 bytes). */
export function txIdFromRpc(json: unknown, field = 'transactionId'): TxId {
  return readHex(json, field, 32) as TxId;
}

/** Hex → BlockHash (32 bytes). */
export function blockHashFromRpc(json: unknown, field = 'hash'): BlockHash {
  return readHex(json, field, 32) as BlockHash;
}

/** Outpoint → `{"transactionId","index"}`. */
export function outpointToRpc(o: Outpoint): RpcOutpoint {
  assertBytes('outpoint.transactionId', o.transactionId, 32);
  assertInteger('outpoint.index', o.index, 0, 0xffffffff);
  return { transactionId: bytesToHex(o.transactionId), index: o.index };
}

/** `{"transactionId","index"}` → Outpoint. */
export function outpointFromRpc(json: unknown, field = 'outpoint'): Outpoint {
  const o = readObject(json, field);
  return {
    transactionId: txIdFromRpc(prop(o, 'transactionId'), `${field}.transactionId`),
    index: readUint(prop(o, 'index'), `${field}.index`, 0xffffffff),
  };
}

/** SPK → one hex string: 2-byte BIG-endian version ‖ script (FACTS §6.2; hashing uses LE). */
export function scriptPublicKeyToHex(spk: ScriptPublicKey): string {
  assertInteger('scriptPublicKey.version', spk.version, 0, 0xffff);
  assertBytes('scriptPublicKey.script', spk.script);
  const v = new Uint8Array([spk.version >>> 8, spk.version & 0xff]);
  return bytesToHex(concatBytes(v, spk.script));
}

/** SPK from the hex form, or from the `{"version","script"}` object form nodes also accept. */
export function scriptPublicKeyFromRpc(json: unknown, field = 'scriptPublicKey'): ScriptPublicKey {
  if (typeof json === 'string') {
    const bytes = readHex(json, field);
    if (bytes.length < 2) throw new RpcFieldError(field, 'expected at least the 2-byte version');
    return { version: (bytes[0]! << 8) | bytes[1]!, script: bytes.slice(2) };
  }
  const o = readObject(json, field);
  return {
    version: readUint(prop(o, 'version'), `${field}.version`, 0xffff),
    script: readHex(prop(o, 'script'), `${field}.script`),
  };
}

function covenantToRpc(c: Covenant): RpcCovenant {
  assertInteger('covenant.authorizingInput', c.authorizingInput, 0, 0xffff);
  assertBytes('covenant.covenantId', c.covenantId, 32);
  return { authorizingInput: c.authorizingInput, covenantId: bytesToHex(c.covenantId) };
}

function covenantFromRpc(json: unknown, field: string): Covenant {
  const o = readObject(json, field);
  return {
    authorizingInput: readUint(prop(o, 'authorizingInput'), `${field}.authorizingInput`, 0xffff),
    covenantId: readHex(prop(o, 'covenantId'), `${field}.covenantId`, 32),
  };
}

function inputToRpc(i: TxInput): RpcTransactionInput {
  assertInteger('input.sigOpCount', i.sigOpCount, 0, 0xff);
  assertInteger('input.computeBudget', i.computeBudget, 0, 0xffff);
  assertBytes('input.signatureScript', i.signatureScript);
  return {
    previousOutpoint: outpointToRpc(i.previousOutpoint),
    signatureScript: bytesToHex(i.signatureScript),
    sequence: u64ToRpc('input.sequence', i.sequence),
    sigOpCount: i.sigOpCount,
    computeBudget: i.computeBudget,
  };
}

function outputToRpc(o: TxOutput): RpcTransactionOutput {
  const base = {
    value: u64ToRpc('output.value', o.value),
    scriptPublicKey: scriptPublicKeyToHex(o.scriptPublicKey),
  };
  return o.covenant === undefined ? base : { ...base, covenant: covenantToRpc(o.covenant) };
}

/**
 * Transaction → RpcTransaction. Emits both `mass` and `storageMass` with the same value:
 * nodes since Toccata accept either (equal if both), responses carry both, and nodes of
 * the v1.x line know only `mass` (FACTS §0, §6.5), so one shape works everywhere.
 */
export function transactionToRpc(tx: Transaction): RpcTransaction {
  assertInteger('transaction.version', tx.version, 0, 0xffff);
  assertBytes('transaction.subnetworkId', tx.subnetworkId, 20);
  assertBytes('transaction.payload', tx.payload);
  const mass = u64ToRpc('transaction.storageMass', tx.storageMass);
  return {
    version: tx.version,
    inputs: tx.inputs.map(inputToRpc),
    outputs: tx.outputs.map(outputToRpc),
    lockTime: u64ToRpc('transaction.lockTime', tx.lockTime),
    subnetworkId: bytesToHex(tx.subnetworkId),
    gas: u64ToRpc('transaction.gas', tx.gas),
    payload: bytesToHex(tx.payload),
    mass,
    storageMass: mass,
  };
}

/**
 * RpcTransaction → Transaction, checking every field the way the node's own converter
 * does (`rpc/core/src/convert/tx.rs`): `computeBudget` defaults to 0, v0 needs
 * computeBudget = 0, v1 needs sigOpCount = 0, at least one of `storageMass`/`mass` and
 * equal if both. Versions above 1 are refused (FACTS §0). `verboseData` is ignored.
 */
export function transactionFromRpc(json: unknown, field = 'transaction'): Transaction {
  const o = readObject(json, field);
  const version = readUint(prop(o, 'version'), `${field}.version`, 0xffff);
  if (version > 1) throw new RpcFieldError(`${field}.version`, `unsupported transaction version ${version}`);
  const inputs = readArray(prop(o, 'inputs'), `${field}.inputs`, (x, path): TxInput => {
    const i = readObject(x, path);
    const sigOpCount = readUint(prop(i, 'sigOpCount'), `${path}.sigOpCount`, 0xff);
    const computeBudget =
      readOptional(prop(i, 'computeBudget'), `${path}.computeBudget`, (v, p) => readUint(v, p, 0xffff)) ?? 0;
    if (version === 0 && computeBudget !== 0) {
      throw new RpcFieldError(`${path}.computeBudget`, 'must be 0 in a version 0 transaction');
    }
    if (version === 1 && sigOpCount !== 0) {
      throw new RpcFieldError(`${path}.sigOpCount`, 'must be 0 in a version 1 transaction');
    }
    return {
      previousOutpoint: outpointFromRpc(prop(i, 'previousOutpoint'), `${path}.previousOutpoint`),
      signatureScript: readHex(prop(i, 'signatureScript'), `${path}.signatureScript`),
      sequence: readU64(prop(i, 'sequence'), `${path}.sequence`),
      sigOpCount,
      computeBudget,
    };
  });
  const outputs = readArray(prop(o, 'outputs'), `${field}.outputs`, (x, path): TxOutput => {
    const out = readObject(x, path);
    const base = {
      value: readU64(prop(out, 'value'), `${path}.value`),
      scriptPublicKey: scriptPublicKeyFromRpc(prop(out, 'scriptPublicKey'), `${path}.scriptPublicKey`),
    };
    const covenant = readOptional(prop(out, 'covenant'), `${path}.covenant`, covenantFromRpc);
    return covenant === undefined ? base : { ...base, covenant };
  });
  const storageMass = readOptional(prop(o, 'storageMass'), `${field}.storageMass`, readU64);
  const mass = readOptional(prop(o, 'mass'), `${field}.mass`, readU64);
  if (storageMass === undefined && mass === undefined) {
    throw new RpcFieldError(`${field}.storageMass`, 'missing (neither storageMass nor mass is present)');
  }
  if (storageMass !== undefined && mass !== undefined && storageMass !== mass) {
    throw new RpcFieldError(`${field}.storageMass`, `differs from mass (${storageMass} != ${mass})`);
  }
  return {
    version,
    inputs,
    outputs,
    lockTime: readU64(prop(o, 'lockTime'), `${field}.lockTime`),
    subnetworkId: readHex(prop(o, 'subnetworkId'), `${field}.subnetworkId`, 20),
    gas: readU64(prop(o, 'gas'), `${field}.gas`),
    payload: readHex(prop(o, 'payload'), `${field}.payload`),
    storageMass: storageMass ?? mass ?? 0n,
  };
}

/** UtxoEntry → RpcUtxoEntry; `covenantId` is null when absent, as the node emits it. */
export function utxoEntryToRpc(e: UtxoEntry): RpcUtxoEntry {
  if (typeof e.isCoinbase !== 'boolean') throw new TypeError('"utxoEntry.isCoinbase" expected a boolean');
  if (e.covenantId !== undefined) assertBytes('utxoEntry.covenantId', e.covenantId, 32);
  return {
    amount: u64ToRpc('utxoEntry.amount', e.amount),
    scriptPublicKey: scriptPublicKeyToHex(e.scriptPublicKey),
    blockDaaScore: u64ToRpc('utxoEntry.blockDaaScore', e.blockDaaScore),
    isCoinbase: e.isCoinbase,
    covenantId: e.covenantId === undefined ? null : bytesToHex(e.covenantId),
  };
}

/** RpcUtxoEntry → UtxoEntry; an absent or null `covenantId` (pre-Toccata nodes) is omitted. */
export function utxoEntryFromRpc(json: unknown, field = 'utxoEntry'): UtxoEntry {
  const o = readObject(json, field);
  const base = {
    amount: readU64(prop(o, 'amount'), `${field}.amount`),
    scriptPublicKey: scriptPublicKeyFromRpc(prop(o, 'scriptPublicKey'), `${field}.scriptPublicKey`),
    blockDaaScore: readU64(prop(o, 'blockDaaScore'), `${field}.blockDaaScore`),
    isCoinbase: readBool(prop(o, 'isCoinbase'), `${field}.isCoinbase`),
  };
  const covenantId = readOptional(prop(o, 'covenantId'), `${field}.covenantId`, (v, p) => readHex(v, p, 32));
  return covenantId === undefined ? base : { ...base, covenantId };
}

/** AddressedUtxo → `{"address","outpoint","utxoEntry"}` (getUtxosByAddresses, UtxosChanged). */
export function utxosByAddressesEntryToRpc(u: AddressedUtxo): RpcUtxosByAddressesEntry {
  return { address: u.address, outpoint: outpointToRpc(u.outpoint), utxoEntry: utxoEntryToRpc(u.entry) };
}

/** `{"address","outpoint","utxoEntry"}` → AddressedUtxo. */
export function utxosByAddressesEntryFromRpc(json: unknown, field = 'entry'): AddressedUtxo {
  const o = readObject(json, field);
  const address = prop(o, 'address');
  return {
    address: address === null || address === undefined ? null : readString(address, `${field}.address`),
    outpoint: outpointFromRpc(prop(o, 'outpoint'), `${field}.outpoint`),
    entry: utxoEntryFromRpc(prop(o, 'utxoEntry'), `${field}.utxoEntry`),
  };
}

/** MempoolEntry → RpcMempoolEntry (note the snake_case `is_orphan`, FACTS §6.2). */
export function mempoolEntryToRpc(e: MempoolEntry): RpcMempoolEntry {
  return {
    fee: u64ToRpc('mempoolEntry.fee', e.fee),
    transaction: transactionToRpc(e.transaction),
    is_orphan: e.isOrphan,
  };
}

/** RpcMempoolEntry → MempoolEntry. */
export function mempoolEntryFromRpc(json: unknown, field = 'mempoolEntry'): MempoolEntry {
  const o = readObject(json, field);
  return {
    fee: readU64(prop(o, 'fee'), `${field}.fee`),
    transaction: transactionFromRpc(prop(o, 'transaction'), `${field}.transaction`),
    isOrphan: readBool(prop(o, 'is_orphan'), `${field}.is_orphan`),
  };
}
