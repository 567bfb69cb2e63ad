/**
 * Canonical transaction encoding, transaction id and transaction hash (FACTS §3.3, §3.4),
 * plus the decoder of the full encoding for round-trip checks of data received from peers.
 */
import { ByteReader, ByteWriter } from '../util/binary.ts';
import { DecodeError } from '../util/errors.ts';
import { concatBytes } from '../util/bytes.ts';
import {
  payloadDigest,
  transactionHashDigest,
  transactionIdDigest,
  transactionRestDigest,
  transactionV1IdDigest,
} from './hashing.ts';
import { MAX_TRANSACTION_VERSION, assertTransaction } from './transaction.ts';
import type { Transaction, TxId, TxInput, TxOutput } from './types.ts';

/** Which parts of a transaction an encoding covers (FACTS §3.3). */
export interface EncodingOptions {
  /** Signature scripts (and the v0 sig-op count); excluded from ids. */
  readonly signatureScripts: boolean;
  /** The payload bytes; excluded from the v1 "rest" digest. */
  readonly payload: boolean;
  /** v1 compute budgets and the storage-mass commitment; excluded from ids. */
  readonly massCommitment: boolean;
}

function writeTransaction(w: ByteWriter, tx: Transaction, opts: EncodingOptions): void {
  const v1 = tx.version >= 1;
  w.u16(tx.version);
  w.u64(tx.inputs.length);
  for (const input of tx.inputs) {
    w.bytes(input.previousOutpoint.transactionId).u32(input.previousOutpoint.index);
    if (opts.signatureScripts) {
      w.varBytes64(input.signatureScript);
      if (!v1) w.u8(input.sigOpCount);
    } else {
      w.u64(0);
    }
    w.u64(input.sequence);
    if (opts.massCommitment && v1) w.u16(input.computeBudget);
  }
  w.u64(tx.outputs.length);
  for (const output of tx.outputs) writeOutput(w, output, tx.version);
  w.u64(tx.lockTime).bytes(tx.subnetworkId).u64(tx.gas);
  if (opts.payload) w.varBytes64(tx.payload);
  else w.u64(0);
  if (opts.massCommitment && (v1 || tx.storageMass > 0n)) w.u64(tx.storageMass);
}

/**
 * One output as every encoding and the sighash write it: value, SPK, and for v1 the covenant
 * flag byte followed by the binding when present (FACTS §3.3, §3.5).
 */
export function writeOutput(w: ByteWriter, output: TxOutput, version: number): void {
  w.u64(output.value).u16(output.scriptPublicKey.version).varBytes64(output.scriptPublicKey.script);
  if (version < 1) return;
  const c = output.covenant;
  if (c === undefined) w.u8(0);
  else w.u8(1).u16(c.authorizingInput).bytes(c.covenantId);
}

/** The canonical byte encoding of FACTS §3.3 with the chosen parts included. */
export function encodeTransaction(
  tx: Transaction,
  opts: { signatureScripts: boolean; payload: boolean; massCommitment: boolean },
): Uint8Array {
  assertTransaction(tx);
  const w = new ByteWriter(256 + tx.payload.length + tx.inputs.length * 128 + tx.outputs.length * 64);
  writeTransaction(w, tx, opts);
  return w.finish();
}

const ID_ENCODING: EncodingOptions = { signatureScripts: false, payload: true, massCommitment: false };
const REST_ENCODING: EncodingOptions = { signatureScripts: false, payload: false, massCommitment: false };
const FULL_ENCODING: EncodingOptions = { signatureScripts: true, payload: true, massCommitment: true };

/**
 * The transaction id: BLAKE2b "TransactionID" over the id encoding for v0; for v1 the BLAKE3
 * "TransactionV1Id" of the payload digest and the "rest" digest, so that a payload can be
 * committed to without rehashing the rest (FACTS §3.4).
 */
export function transactionId(tx: Transaction): TxId {
  if (tx.version === 0) return transactionIdDigest(encodeTransaction(tx, ID_ENCODING)) as TxId;
  const rest = transactionRestDigest(encodeTransaction(tx, REST_ENCODING));
  return transactionV1IdDigest(concatBytes(payloadDigest(tx.payload), rest)) as TxId;
}

/** The transaction hash used by the block merkle root: covers every field (FACTS §3.4). */
export function transactionHash(tx: Transaction): Uint8Array {
  return transactionHashDigest(encodeTransaction(tx, FULL_ENCODING));
}

/** Bounds that keep a hostile encoding from allocating: consensus limits of FACTS §3.1, §4.4. */
const MAX_ITEMS = 1000;
const MAX_SCRIPT_BYTES = 250_000;
const MAX_PAYLOAD_BYTES = 1_000_000;

/**
 * Decodes the full encoding (signature scripts, payload and mass commitment included), the
 * inverse of `encodeTransaction(tx, { signatureScripts: true, payload: true, massCommitment: true })`.
 * Every failure is a DecodeError.
 */
export function decodeTransaction(bytes: Uint8Array): Transaction {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('"bytes" expected Uint8Array');
  const r = new ByteReader(bytes);
  const version = r.u16('version');
  if (version > MAX_TRANSACTION_VERSION)
    throw new DecodeError('UNKNOWN_VERSION', `transaction version ${version}`);
  const v1 = version >= 1;
  const count = (what: string): number => {
    const n = r.u64(what);
    if (n > BigInt(MAX_ITEMS)) throw new DecodeError('TOO_LARGE', `${what} ${n} exceeds ${MAX_ITEMS}`);
    return Number(n);
  };
  const inputs: TxInput[] = [];
  const nIn = count('input count');
  for (let i = 0; i < nIn; i++) {
    const transactionId = r.bytes(32, 'outpoint transaction id') as TxId;
    const index = r.u32('outpoint index');
    const signatureScript = r.varBytes64(MAX_SCRIPT_BYTES, 'signature script');
    const sigOpCount = v1 ? 0 : r.u8('sig op count');
    const sequence = r.u64('sequence');
    const computeBudget = v1 ? r.u16('compute budget') : 0;
    inputs.push({
      previousOutpoint: { transactionId, index },
      signatureScript,
      sequence,
      sigOpCount,
      computeBudget,
    });
  }
  const outputs: TxOutput[] = [];
  const nOut = count('output count');
  for (let i = 0; i < nOut; i++) {
    const value = r.u64('output value');
    const spkVersion = r.u16('script public key version');
    const script = r.varBytes64(MAX_SCRIPT_BYTES, 'script public key');
    const scriptPublicKey = { version: spkVersion, script };
    if (!v1) {
      outputs.push({ value, scriptPublicKey });
      continue;
    }
    const flag = r.u8('covenant flag');
    if (flag === 0) outputs.push({ value, scriptPublicKey });
    else if (flag === 1) {
      const authorizingInput = r.u16('covenant authorizing input');
      const covenantId = r.bytes(32, 'covenant id');
      outputs.push({ value, scriptPublicKey, covenant: { authorizingInput, covenantId } });
    } else throw new DecodeError('MALFORMED', `covenant flag ${flag} is neither 0 nor 1`);
  }
  const lockTime = r.u64('lock time');
  const subnetworkId = r.bytes(20, 'subnetwork id');
  const gas = r.u64('gas');
  const payload = r.varBytes64(MAX_PAYLOAD_BYTES, 'payload');
  // v0 writes the commitment only when non-zero (FACTS §3.3), so its absence means 0.
  let storageMass = 0n;
  if (v1 || r.remaining > 0) {
    storageMass = r.u64('storage mass');
    if (!v1 && storageMass === 0n) {
      throw new DecodeError('MALFORMED', 'v0 encodes a zero storage mass by omitting it');
    }
  }
  r.end('transaction');
  return { version, inputs, outputs, lockTime, subnetworkId, gas, payload, storageMass };
}
