/**
 * The decoded-block checkpoint of the data directory (docs/protocol.md "Local network decoded
 * block record"): beside each block's JSON row, the block as the node holds it in memory, in
 * binary, with its hash and transaction ids, so a restart neither parses JSON nor hashes a
 * header or a transaction again.
 *
 * The JSON row stays the source of truth. A record names the CRC-32 of the row it was derived
 * from and carries a CRC-32 of its own bytes; on load both are checked, and a record that is
 * missing, damaged, of another version or derived from another row is ignored and that block
 * is decoded from its row as before (hashes recomputed). Skipping the re-hash is what kaspad
 * itself does: it validates a block once, when it arrives, and afterwards trusts its own
 * database, whose blocks carry CRC-32C checksums (RocksDB's default block checksum) against
 * damage, never a second proof of work or merkle check. Both checks here guard the same
 * thing, accidental damage or a stale record, in a directory only this node writes.
 */
import { crc32 } from 'node:zlib';
import { ByteReader, ByteWriter } from '../util/binary.ts';
import { bytesToHex } from '../util/bytes.ts';
import { DecodeError } from '../util/errors.ts';
import { decodeTransaction, encodeTransaction } from '../kaspa/txid.ts';
import type { BlockHash, ScriptPublicKey, TxId, Utxo } from '../kaspa/types.ts';
import type { Block } from './chain.ts';
import type { BlockHeader } from './header.ts';
import type { UtxoDiff } from './utxo-set.ts';

/** Version of the decoded-block record; any other is ignored and the block decoded from its row. */
export const BLOCK_RECORD_VERSION = 1;

const FULL_ENCODING = { signatureScripts: true, payload: true, massCommitment: true } as const;
/** Bounds that keep a damaged record from allocating: a block's limits (FACTS §4.4) with margin. */
const MAX_PARENTS = 64 * 4;
const MAX_ITEMS = 1_000_000;
const MAX_SCRIPT_BYTES = 10_000;
const MAX_TX_BYTES = 1_000_000;

const FLAG_CHAIN = 1;
const FLAG_MERGEABLE = 2;
const FLAG_BODY = 4;
const FLAG_DIFF = 8;
const FLAG_ACCEPTED = 16;

/** CRC-32 (ISO-HDLC, zlib's) of `bytes`. */
export function checksum(bytes: Uint8Array): number {
  return crc32(bytes) >>> 0;
}

function writeHeader(w: ByteWriter, h: BlockHeader): void {
  w.u16(h.version).u8(h.parentsByLevel.length);
  for (const level of h.parentsByLevel) {
    w.u16(level.length);
    for (const p of level) w.bytes(p);
  }
  w.bytes(h.hashMerkleRoot).bytes(h.acceptedIdMerkleRoot).bytes(h.utxoCommitment);
  w.u64(h.timestamp).u32(h.bits).u64(h.nonce).u64(h.daaScore).u64(h.blueScore);
  // Blue work is a u192 in the node (FACTS §6.2): three u64 limbs, most significant first.
  const mask = (1n << 64n) - 1n;
  w.u64((h.blueWork >> 128n) & mask)
    .u64((h.blueWork >> 64n) & mask)
    .u64(h.blueWork & mask);
  w.bytes(h.pruningPoint);
}

function readHeader(r: ByteReader): BlockHeader {
  const version = r.u16('header.version');
  // A u8 count, as consensus `BlockLevel` is a u8: it needs no bound of its own.
  const levels = r.u8('header.parentsByLevel count');
  const parentsByLevel: BlockHash[][] = [];
  for (let l = 0; l < levels; l++) {
    const n = r.u16('header.parentsByLevel level size');
    if (n > MAX_PARENTS) throw new DecodeError('TOO_LARGE', `${n} parents in one level`);
    const level: BlockHash[] = [];
    for (let i = 0; i < n; i++) level.push(r.bytes(32, 'header parent') as BlockHash);
    parentsByLevel.push(level);
  }
  const hashMerkleRoot = r.bytes(32, 'header.hashMerkleRoot');
  const acceptedIdMerkleRoot = r.bytes(32, 'header.acceptedIdMerkleRoot');
  const utxoCommitment = r.bytes(32, 'header.utxoCommitment');
  const timestamp = r.u64('header.timestamp');
  const bits = r.u32('header.bits');
  const nonce = r.u64('header.nonce');
  const daaScore = r.u64('header.daaScore');
  const blueScore = r.u64('header.blueScore');
  const blueWork =
    (r.u64('header.blueWork') << 128n) | (r.u64('header.blueWork') << 64n) | r.u64('header.blueWork');
  const pruningPoint = r.bytes(32, 'header.pruningPoint') as BlockHash;
  return {
    version,
    parentsByLevel,
    hashMerkleRoot,
    acceptedIdMerkleRoot,
    utxoCommitment,
    timestamp,
    bits,
    nonce,
    daaScore,
    blueWork,
    blueScore,
    pruningPoint,
  };
}

function writeScript(w: ByteWriter, s: ScriptPublicKey): void {
  w.u16(s.version).varBytes64(s.script);
}

function readScript(r: ByteReader, what: string): ScriptPublicKey {
  const version = r.u16(`${what}.version`);
  return { version, script: r.varBytes64(MAX_SCRIPT_BYTES, `${what}.script`) };
}

/** A coin: outpoint ‖ u64 amount ‖ u16 SPK version ‖ varbytes script ‖ u64 DAA score ‖ u8 coinbase ‖ u8 covenant flag [‖ 32 covenant id]. */
function writeCoin(w: ByteWriter, u: Utxo): void {
  w.bytes(u.outpoint.transactionId).u32(u.outpoint.index);
  w.u64(u.entry.amount);
  writeScript(w, u.entry.scriptPublicKey);
  w.u64(u.entry.blockDaaScore).u8(u.entry.isCoinbase ? 1 : 0);
  if (u.entry.covenantId === undefined) w.u8(0);
  else w.u8(1).bytes(u.entry.covenantId);
}

/** The inverse of `writeCoin`; throws DecodeError. */
function readCoin(r: ByteReader): Utxo {
  const transactionId = r.bytes(32, 'coin.transactionId') as TxId;
  const index = r.u32('coin.index');
  const amount = r.u64('coin.amount');
  const scriptPublicKey = readScript(r, 'coin.scriptPublicKey');
  const blockDaaScore = r.u64('coin.blockDaaScore');
  const isCoinbase = readFlag(r, 'coin.isCoinbase');
  const covenantId = readFlag(r, 'coin.covenant flag') ? r.bytes(32, 'coin.covenantId') : undefined;
  return {
    outpoint: { transactionId, index },
    entry: {
      amount,
      scriptPublicKey,
      blockDaaScore,
      isCoinbase,
      ...(covenantId === undefined ? {} : { covenantId }),
    },
  };
}

function readFlag(r: ByteReader, what: string): boolean {
  const b = r.u8(what);
  if (b > 1) throw new DecodeError('MALFORMED', `${what} ${b} is neither 0 nor 1`);
  return b === 1;
}

function count(r: ByteReader, what: string, max = MAX_ITEMS): number {
  const n = r.u32(what);
  if (n > max) throw new DecodeError('TOO_LARGE', `${what} ${n} exceeds ${max}`);
  return n;
}

function writeDiff(w: ByteWriter, d: UtxoDiff): void {
  w.u32(d.added.length);
  for (const u of d.added) writeCoin(w, u);
  w.u32(d.removed.length);
  for (const u of d.removed) writeCoin(w, u);
}

function readDiff(r: ByteReader): UtxoDiff {
  const added: Utxo[] = [];
  for (let n = count(r, 'diff.added count'); n > 0; n--) added.push(readCoin(r));
  const removed: Utxo[] = [];
  for (let n = count(r, 'diff.removed count'); n > 0; n--) removed.push(readCoin(r));
  return { added, removed };
}

/**
 * The record of `b`, bound to `row` (the JSON row written beside it):
 * u8 version ‖ u32 CRC-32 of the row ‖ block ‖ u32 CRC-32 of everything before it (integers
 * little-endian, as in the transaction encoding of FACTS §3.3).
 */
export function encodeBlockRecord(b: Block, row: Uint8Array): Uint8Array {
  const w = new ByteWriter(1024);
  w.u8(BLOCK_RECORD_VERSION).u32(checksum(row));
  w.bytes(b.hash);
  writeHeader(w, b.header);
  writeScript(w, b.minerScript);
  w.u64(b.fees);
  const body = b.transactions !== undefined;
  w.u8(
    (b.isChainBlock ? FLAG_CHAIN : 0) |
      (b.mergeable ? FLAG_MERGEABLE : 0) |
      (body ? FLAG_BODY : 0) |
      (body && b.diff !== undefined ? FLAG_DIFF : 0) |
      (body && b.accepted !== undefined ? FLAG_ACCEPTED : 0),
  );
  if (body) {
    const txs = b.transactions!;
    w.u32(txs.length);
    txs.forEach((tx, i) => {
      w.varBytes64(encodeTransaction(tx, FULL_ENCODING));
      w.bytes(b.transactionIds![i]!);
    });
    const acceptedIds = b.acceptedIds ?? [];
    w.u32(acceptedIds.length);
    for (const id of acceptedIds) w.bytes(id);
    if (b.diff !== undefined) writeDiff(w, b.diff);
    if (b.accepted !== undefined) {
      w.u32(b.accepted.length);
      for (const i of b.accepted) w.u32(i);
    }
  }
  const unsealed = w.finish();
  const out = new Uint8Array(unsealed.length + 4);
  out.set(unsealed);
  new DataView(out.buffer).setUint32(unsealed.length, checksum(unsealed), true);
  return out;
}

/** Why a record was not used. */
export type BlockRecordRejection = 'version' | 'damaged' | 'stale';

/**
 * The block in `record` when it is whole, of this version and derived from `row`; otherwise
 * the reason it is not (the caller decodes the row instead).
 */
export function decodeBlockRecord(
  record: Uint8Array,
  row: Uint8Array,
): { block: Block } | { rejected: BlockRecordRejection } {
  if (record.length < 9) return { rejected: 'damaged' };
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  if (view.getUint32(record.length - 4, true) !== checksum(record.subarray(0, record.length - 4)))
    return { rejected: 'damaged' };
  if (record[0] !== BLOCK_RECORD_VERSION) return { rejected: 'version' };
  if (view.getUint32(1, true) !== checksum(row)) return { rejected: 'stale' };
  try {
    return { block: readBlock(new ByteReader(record.subarray(5, record.length - 4))) };
  } catch (e) {
    if (e instanceof DecodeError) return { rejected: 'damaged' };
    throw e;
  }
}

function readBlock(r: ByteReader): Block {
  const hash = r.bytes(32, 'hash') as BlockHash;
  const header = readHeader(r);
  const minerScript = readScript(r, 'minerScript');
  const fees = r.u64('fees');
  const flags = r.u8('flags');
  let transactions: Block['transactions'];
  let transactionIds: TxId[] | undefined;
  let acceptedIds: TxId[] | undefined;
  let diff: UtxoDiff | undefined;
  let accepted: number[] | undefined;
  if ((flags & FLAG_BODY) !== 0) {
    const txs = [];
    transactionIds = [];
    for (let n = count(r, 'transaction count'); n > 0; n--) {
      txs.push(decodeTransaction(r.varBytes64(MAX_TX_BYTES, 'transaction')));
      transactionIds.push(r.bytes(32, 'transaction id') as TxId);
    }
    transactions = txs;
    acceptedIds = [];
    for (let n = count(r, 'accepted id count'); n > 0; n--)
      acceptedIds.push(r.bytes(32, 'accepted id') as TxId);
    if ((flags & FLAG_DIFF) !== 0) diff = readDiff(r);
    if ((flags & FLAG_ACCEPTED) !== 0) {
      accepted = [];
      for (let n = count(r, 'accepted count', txs.length); n > 0; n--) {
        const i = r.u32('accepted index');
        if (i >= txs.length) throw new DecodeError('MALFORMED', `accepted index ${i} of ${txs.length}`);
        accepted.push(i);
      }
    }
  }
  if (r.remaining !== 0) throw new DecodeError('MALFORMED', `${r.remaining} bytes after the block`);
  return {
    hash,
    hashHex: bytesToHex(hash),
    header,
    transactions,
    transactionIds,
    acceptedIds,
    minerScript,
    fees,
    diff,
    isChainBlock: (flags & FLAG_CHAIN) !== 0,
    children: [],
    accepted,
    // GHOSTDAG data is derived again from the headers by Chain.restore.
    selectedParent: undefined,
    mergeset: [],
    height: 0,
    mergeable: (flags & FLAG_MERGEABLE) !== 0,
  };
}

/** Version of the coin rows of the `utxos` store. */
export const COIN_ROW_VERSION = 1;

/** A `utxos` row: u8 version ‖ coin (`writeCoin`). */
export function encodeCoinRow(u: Utxo): Uint8Array {
  const w = new ByteWriter(128);
  w.u8(COIN_ROW_VERSION);
  writeCoin(w, u);
  return w.finish();
}

/** The coin of a `utxos` row; throws DecodeError (UNKNOWN_VERSION for another version). */
export function decodeCoinRow(row: Uint8Array): Utxo {
  const r = new ByteReader(row);
  const version = r.u8('coin row version');
  if (version !== COIN_ROW_VERSION) throw new DecodeError('UNKNOWN_VERSION', `coin row version ${version}`);
  const u = readCoin(r);
  r.end('coin row');
  return u;
}
