/**
 * Block headers and UTXO diffs in the wRPC JSON shapes (FACTS §6.5), shared by the RPC
 * handlers and the data-directory store so that one encoding is written and read everywhere.
 */
import { bytesToHex } from '../util/bytes.ts';
import type { BlockHash, Utxo } from '../kaspa/types.ts';
import {
  RpcFieldError,
  prop,
  readArray,
  readHex,
  readObject,
  readU64,
  readUint,
} from '../kaspa/rpc/fields.ts';
import {
  outpointFromRpc,
  outpointToRpc,
  u64ToRpc,
  utxoEntryFromRpc,
  utxoEntryToRpc,
} from '../kaspa/rpc/convert.ts';
import type { RpcHeader, RpcOutpoint, RpcRawHeader, RpcUtxoEntry } from '../kaspa/rpc/wire.ts';
import type { BlockHeader } from './header.ts';
import type { UtxoDiff } from './utxo-set.ts';

/** Blue work as the node prints it: big-endian hex of the u192, 48 characters (FACTS §6.2). */
export function blueWorkToRpc(work: bigint): string {
  return work.toString(16).padStart(48, '0');
}

/** Header → RpcRawHeader (the block-template form, without `hash`). */
export function rawHeaderToRpc(h: BlockHeader): RpcRawHeader {
  return {
    version: h.version,
    parentsByLevel: h.parentsByLevel.map((level) => level.map((p) => bytesToHex(p))),
    hashMerkleRoot: bytesToHex(h.hashMerkleRoot),
    acceptedIdMerkleRoot: bytesToHex(h.acceptedIdMerkleRoot),
    utxoCommitment: bytesToHex(h.utxoCommitment),
    timestamp: u64ToRpc('timestamp', h.timestamp),
    bits: h.bits,
    nonce: u64ToRpc('nonce', h.nonce),
    daaScore: u64ToRpc('daaScore', h.daaScore),
    blueWork: blueWorkToRpc(h.blueWork),
    blueScore: u64ToRpc('blueScore', h.blueScore),
    pruningPoint: bytesToHex(h.pruningPoint),
  };
}

/** Header and its hash → RpcHeader (`hash` first, as the node orders it). */
export function headerToRpc(hash: BlockHash, h: BlockHeader): RpcHeader {
  return { hash: bytesToHex(hash), ...rawHeaderToRpc(h) };
}

/** RpcRawHeader (or RpcHeader; `hash` is ignored and recomputed) → Header; throws RpcFieldError. */
export function headerFromRpc(json: unknown, field = 'header'): BlockHeader {
  const o = readObject(json, field);
  const blueWorkHex = prop(o, 'blueWork');
  if (typeof blueWorkHex !== 'string' || !/^[0-9a-fA-F]{1,64}$/.test(blueWorkHex)) {
    throw new RpcFieldError(`${field}.blueWork`, 'expected big-endian hex of at most 64 digits');
  }
  return {
    version: readUint(prop(o, 'version'), `${field}.version`, 0xffff),
    parentsByLevel: readArray(prop(o, 'parentsByLevel'), `${field}.parentsByLevel`, (lvl, p) =>
      readArray(lvl, p, (x, q) => readHex(x, q, 32) as BlockHash),
    ),
    hashMerkleRoot: readHex(prop(o, 'hashMerkleRoot'), `${field}.hashMerkleRoot`, 32),
    acceptedIdMerkleRoot: readHex(prop(o, 'acceptedIdMerkleRoot'), `${field}.acceptedIdMerkleRoot`, 32),
    utxoCommitment: readHex(prop(o, 'utxoCommitment'), `${field}.utxoCommitment`, 32),
    timestamp: readU64(prop(o, 'timestamp'), `${field}.timestamp`),
    bits: readUint(prop(o, 'bits'), `${field}.bits`, 0xffffffff),
    nonce: readU64(prop(o, 'nonce'), `${field}.nonce`),
    daaScore: readU64(prop(o, 'daaScore'), `${field}.daaScore`),
    blueWork: BigInt(`0x${blueWorkHex}`),
    blueScore: readU64(prop(o, 'blueScore'), `${field}.blueScore`),
    pruningPoint: readHex(prop(o, 'pruningPoint'), `${field}.pruningPoint`, 32) as BlockHash,
  };
}

/** A coin without its address: `{"outpoint","utxoEntry"}`. */
export interface RpcCoin {
  readonly outpoint: RpcOutpoint;
  readonly utxoEntry: RpcUtxoEntry;
}

/** Utxo → `{"outpoint","utxoEntry"}`. */
export function coinToRpc(u: Utxo): RpcCoin {
  return { outpoint: outpointToRpc(u.outpoint), utxoEntry: utxoEntryToRpc(u.entry) };
}

/** `{"outpoint","utxoEntry"}` → Utxo. */
export function coinFromRpc(json: unknown, field = 'coin'): Utxo {
  const o = readObject(json, field);
  return {
    outpoint: outpointFromRpc(prop(o, 'outpoint'), `${field}.outpoint`),
    entry: utxoEntryFromRpc(prop(o, 'utxoEntry'), `${field}.utxoEntry`),
  };
}

/** UtxoDiff → JSON. */
export function diffToRpc(d: UtxoDiff): { added: RpcCoin[]; removed: RpcCoin[] } {
  return { added: d.added.map(coinToRpc), removed: d.removed.map(coinToRpc) };
}

/** JSON → UtxoDiff. */
export function diffFromRpc(json: unknown, field = 'diff'): UtxoDiff {
  const o = readObject(json, field);
  return {
    added: readArray(prop(o, 'added'), `${field}.added`, coinFromRpc),
    removed: readArray(prop(o, 'removed'), `${field}.removed`, coinFromRpc),
  };
}
