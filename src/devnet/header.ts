/**
 * Block headers of the local network and their hashing. The header hash follows
 * `consensus/core/src/hashing/header.rs` (keyed BLAKE2b "BlockHash", FACTS §3.2) and the
 * transaction merkle root `kaspa_merkle::calc_merkle_root` (keyed BLAKE2b "MerkleBranchHash"),
 * so the hashes a client sees are computed the way a real node computes them.
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { ByteWriter } from '../util/binary.ts';
import { concatBytes, utf8ToBytes } from '../util/bytes.ts';
import type { BlockHash } from '../kaspa/types.ts';
import { MAX_DIFFICULTY_TARGET } from './params.ts';

/** A block header with every field the RPC exposes (FACTS §6.5 getBlock). */
export interface BlockHeader {
  readonly version: number;
  readonly parentsByLevel: readonly (readonly BlockHash[])[];
  readonly hashMerkleRoot: Uint8Array;
  readonly acceptedIdMerkleRoot: Uint8Array;
  readonly utxoCommitment: Uint8Array;
  /** Milliseconds since the epoch. */
  readonly timestamp: bigint;
  readonly bits: number;
  readonly nonce: bigint;
  readonly daaScore: bigint;
  /** u192 in the node; a bigint here. */
  readonly blueWork: bigint;
  readonly blueScore: bigint;
  readonly pruningPoint: BlockHash;
}

const BLOCK_HASH_KEY = utf8ToBytes('BlockHash');
const MERKLE_BRANCH_KEY = utf8ToBytes('MerkleBranchHash');
/** The all-zero hash (`ZERO_HASH`). */
export const ZERO_HASH = new Uint8Array(32);

/** Big-endian bytes of blue work without leading zeros, as `write_blue_work` writes them. */
function blueWorkBytes(work: bigint): Uint8Array {
  if (work === 0n) return new Uint8Array(0);
  let hex = work.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Header hash (`consensus/core/src/hashing/header.rs`): the block's identity. */
export function hashHeader(h: BlockHeader): BlockHash {
  const w = new ByteWriter(512);
  w.u16(h.version).u64(h.parentsByLevel.length);
  for (const level of h.parentsByLevel) {
    w.u64(level.length);
    for (const p of level) w.bytes(p);
  }
  w.bytes(h.hashMerkleRoot).bytes(h.acceptedIdMerkleRoot).bytes(h.utxoCommitment);
  w.u64(h.timestamp).u32(h.bits).u64(h.nonce).u64(h.daaScore).u64(h.blueScore);
  w.varBytes64(blueWorkBytes(h.blueWork));
  w.bytes(h.pruningPoint);
  return blake2b(w.finish(), { dkLen: 32, key: BLOCK_HASH_KEY }) as BlockHash;
}

/** Merkle root over 32-byte leaves (`kaspa_merkle::calc_merkle_root`): zero for none, the leaf for one. */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return ZERO_HASH;
  let level: Uint8Array[] = [...leaves];
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const right = level[i + 1] ?? ZERO_HASH;
      next.push(blake2b(concatBytes(level[i]!, right), { dkLen: 32, key: MERKLE_BRANCH_KEY }));
    }
    level = next;
  }
  return level[0]!;
}

/** The target a compact `bits` value encodes (`Uint256::from_compact_target_bits`). */
function targetForBits(bits: number): bigint {
  const exponent = bits >>> 24;
  const mantissa = BigInt(bits & 0x007fffff);
  return exponent <= 3 ? mantissa >> BigInt(8 * (3 - exponent)) : mantissa << BigInt(8 * (exponent - 3));
}

/** Blue work a block adds at the simnet difficulty (`calc_work(bits)` = 2^256 / (target + 1)). */
export function workForBits(bits: number): bigint {
  return (1n << 256n) / (targetForBits(bits) + 1n);
}

/**
 * Difficulty as the RPC reports it (`Params::get_difficulty_ratio`): the network's maximum target
 * divided by this block's target, both as f64. At the simnet bits 0x207fffff that is
 * 2^23 / (2^23 − 1) = 1.0000001192093038, not 1: the maximum target is 2^255 − 1, not the
 * target those bits encode.
 */
export function difficultyForBits(bits: number): number {
  return Number(MAX_DIFFICULTY_TARGET) / Number(targetForBits(bits));
}
