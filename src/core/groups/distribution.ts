/**
 * Sender key distribution (docs/protocol.md "Group sender key distribution"): what a device
 * hands each other member device, over the pairwise session with that device, so it can open
 * the device's group frames.
 *
 *   u8 version=1 | groupId[32] | u32 generation | u32 iteration | chainKey[32]
 *   | signingKey[32] (Ed25519) | notifyKey[32] (x-only secp256k1)
 *   (integers little-endian)
 *
 * The pairwise session (docs/crypto.md §5) authenticates the sending device and keeps the
 * bytes secret; nothing here is signed again. `generation` counts the sender's rotations in
 * this group: a newer one replaces the kept chain. `notifyKey` is the base of the addresses
 * the sender's notification coins go to (docs/groups.md §5).
 */
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { assertBytes, assertInteger } from '../../util/errors.ts';
import type { Ed25519PublicKey } from '../identity/keys.ts';
import type { GroupId } from './change.ts';
import { readVersion } from './version.ts';

/** Sender key distribution format version. */
export const DISTRIBUTION_VERSION = 1;
/** Bytes of a distribution. */
export const DISTRIBUTION_BYTES = 1 + 32 + 4 + 4 + 32 + 32 + 32;

/** One sender key as handed over. */
export interface Distribution {
  readonly groupId: GroupId;
  readonly generation: number;
  /** The iteration `chainKey` is at: the first message the receiver can open. */
  readonly iteration: number;
  readonly chainKey: Uint8Array;
  readonly signingKey: Ed25519PublicKey;
  readonly notifyKey: Uint8Array;
}

/** The bytes of `d`. RangeError on fields out of range. */
export function encodeDistribution(d: Distribution): Uint8Array {
  assertBytes('groupId', d.groupId, 32);
  assertInteger('generation', d.generation, 0, 0xffffffff);
  assertInteger('iteration', d.iteration, 0, 0xffffffff);
  assertBytes('chainKey', d.chainKey, 32);
  assertBytes('signingKey', d.signingKey, 32);
  assertBytes('notifyKey', d.notifyKey, 32);
  return new ByteWriter(DISTRIBUTION_BYTES)
    .u8(DISTRIBUTION_VERSION)
    .bytes(d.groupId)
    .u32(d.generation)
    .u32(d.iteration)
    .bytes(d.chainKey)
    .bytes(d.signingKey)
    .bytes(d.notifyKey)
    .finish();
}

/** Decodes a distribution. DecodeError TRUNCATED, TRAILING_BYTES or UNKNOWN_VERSION. */
export function decodeDistribution(bytes: Uint8Array): Distribution {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('"bytes" expected Uint8Array');
  const r = new ByteReader(bytes);
  readVersion(r, 'sender key distribution', DISTRIBUTION_VERSION);
  const d: Distribution = {
    groupId: r.bytes(32, 'group id') as GroupId,
    generation: r.u32('generation'),
    iteration: r.u32('iteration'),
    chainKey: r.bytes(32, 'chain key'),
    signingKey: r.bytes(32, 'signing key') as Ed25519PublicKey,
    notifyKey: r.bytes(32, 'notify key'),
  };
  r.end('sender key distribution');
  return d;
}
