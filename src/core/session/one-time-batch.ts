/**
 * One-time pre-key batches handed over in session traffic (envelope type 9): a device gives a
 * contact a few fresh X25519 one-time pre-keys (X3DH §2.4 OPK), so that when one side must
 * start a new session with the other later (its ratchet state was lost, e.g. a backup restored
 * on a fresh install), that start has a one-time key too, with no server to hand one out.
 *
 *   u8 version=1 | u64 issuedAt (Unix ms; the batch number) | u8 n=1..16
 *   | n × (u32 id | X25519 one-time pre-key[32]) | signature[64]
 *
 *   signature = Ed25519(IK_sender, BATCH_DOMAIN ‖ IK_recipient[32] ‖ every byte before it)
 *
 * Why signed, though the session that carries the batch is authenticated already: the keys
 * outlive that session. They are kept with the contact record, written into backup files and
 * used after a restore, when no session vouches for them any more; the signature (X3DH §3.2
 * signs the pre-key for the same reason) lets whoever reads them check them against the
 * contact's identity key alone. The recipient's identity key is signed in, so a batch given to
 * one contact cannot be passed to another as if it were theirs: two people using one key would
 * make the second start fail (ONE_TIME_KEY_USED). `issuedAt` orders batches: a batch not newer
 * than the one kept is a replay and is refused.
 */
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { DecodeError, assertInteger } from '../../util/errors.ts';
import { concatBytes, utf8ToBytes } from '../../util/bytes.ts';
import { SessionError } from '../errors.ts';
import {
  asX25519PublicKey,
  verifyEd25519,
  type Ed25519PublicKey,
  type X25519PublicKey,
} from '../identity/keys.ts';
import type { Identity } from '../identity/identity.ts';

/** Batch format version. */
export const ONE_TIME_BATCH_VERSION = 1;
/** Keys in the batch a device sends (refilled when the contact holds fewer than half). */
export const ONE_TIME_BATCH_SIZE = 10;
/** Most keys one batch may carry (bounds the decoder and what a contact can make us store). */
export const MAX_ONE_TIME_BATCH = 16;
/** Largest batch in bytes. */
export const MAX_ONE_TIME_BATCH_BYTES = 1 + 8 + 1 + MAX_ONE_TIME_BATCH * 36 + 64;
const BATCH_DOMAIN = utf8ToBytes('p2pcomm/v1/one-time-batch');

/** A one-time pre-key as a batch carries it. */
export interface BatchKey {
  readonly id: number;
  readonly publicKey: X25519PublicKey;
}

/** A verified (or, with `parseOneTimeBatch`, a well-formed) batch. */
export interface OneTimeBatch {
  readonly issuedAt: number;
  readonly keys: readonly BatchKey[];
  /** The signed bytes, as received (kept so they can be checked again after a restore). */
  readonly bytes: Uint8Array;
}

/** Signs a batch of `keys` from `sender` for the contact whose identity key is `recipient`. */
export function signOneTimeBatch(
  sender: Identity,
  recipient: Ed25519PublicKey,
  issuedAt: number,
  keys: readonly BatchKey[],
): Uint8Array {
  assertInteger('issuedAt', issuedAt, 0, Number.MAX_SAFE_INTEGER);
  if (!Array.isArray(keys) || keys.length < 1 || keys.length > MAX_ONE_TIME_BATCH)
    throw new RangeError(`"keys" expected 1..${MAX_ONE_TIME_BATCH} keys, got ${keys.length}`);
  const w = new ByteWriter(MAX_ONE_TIME_BATCH_BYTES).u8(ONE_TIME_BATCH_VERSION).u64(issuedAt).u8(keys.length);
  for (const k of keys) {
    assertInteger('keys[].id', k.id, 0, 0xffff_ffff);
    w.u32(k.id).bytes(asX25519PublicKey(k.publicKey, 'keys[].publicKey'));
  }
  const body = w.finish();
  return concatBytes(body, sender.sign(concatBytes(BATCH_DOMAIN, recipient, body)));
}

/**
 * Decodes a batch without checking its signature (bytes read back from our own sealed state).
 * DecodeError UNKNOWN_VERSION, TOO_LARGE or MALFORMED (no keys, too many, duplicate ids).
 */
export function parseOneTimeBatch(bytes: Uint8Array): OneTimeBatch & { readonly signed: number } {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('"bytes" expected Uint8Array');
  if (bytes.length > MAX_ONE_TIME_BATCH_BYTES)
    throw new DecodeError('TOO_LARGE', `one-time key batch exceeds ${MAX_ONE_TIME_BATCH_BYTES} bytes`);
  const r = new ByteReader(bytes);
  const version = r.u8('one-time batch version');
  if (version !== ONE_TIME_BATCH_VERSION)
    throw new DecodeError(
      'UNKNOWN_VERSION',
      `one-time key batch version ${version} is not read by this client (version ${ONE_TIME_BATCH_VERSION})`,
    );
  const issuedAt = r.safeU64('batch issue time');
  const n = r.u8('one-time batch count');
  if (n < 1 || n > MAX_ONE_TIME_BATCH)
    throw new DecodeError('MALFORMED', `one-time key batch of ${n} keys (1..${MAX_ONE_TIME_BATCH})`);
  const keys: BatchKey[] = [];
  for (let i = 0; i < n; i++) {
    const id = r.u32('one-time key id');
    const publicKey = asX25519PublicKey(r.bytes(32, 'one-time key').slice());
    if (keys.some((k) => k.id === id))
      throw new DecodeError('MALFORMED', 'duplicate one-time key id in batch');
    keys.push({ id, publicKey });
  }
  const signed = r.offset;
  r.bytes(64, 'batch signature');
  r.end('one-time key batch');
  return { issuedAt, keys, bytes: bytes.slice(), signed };
}

/**
 * Decodes and verifies a batch `sender` made for `recipient`. DecodeError as
 * `parseOneTimeBatch`; SessionError BAD_SIGNATURE when the signature does not verify (forged,
 * altered, or made for someone else).
 */
export function openOneTimeBatch(
  bytes: Uint8Array,
  sender: Ed25519PublicKey,
  recipient: Ed25519PublicKey,
): OneTimeBatch {
  const p = parseOneTimeBatch(bytes);
  const body = bytes.subarray(0, p.signed);
  const sig = bytes.subarray(p.signed);
  if (!verifyEd25519(sig, concatBytes(BATCH_DOMAIN, recipient, body), sender))
    throw new SessionError('BAD_SIGNATURE', 'one-time key batch signature does not verify');
  return { issuedAt: p.issuedAt, keys: p.keys, bytes: p.bytes };
}
