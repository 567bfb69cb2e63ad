/**
 * The batch container: many frames for many recipients in one Kaspa transaction payload
 * (spec "Batching for Efficiency", NOTES §2).
 *
 *   payload = "p2pc" | u8 version=1 | varuint n | n × varbytes(frame) | 0x00 padding
 *
 * Frames are in random order and the payload is padded with zeros to the next size
 * bucket, so its length says little about how many messages or how long. Nothing in it
 * names a sender or recipient: each frame starts with a per-message tag (ratchet.ts) or
 * is a first-contact frame (first-contact.ts). A recipient looks tags up in the table its
 * sessions precomputed and spends one X25519 per active pre-key on each entry it does not
 * recognise, never a trial decryption of every entry under every session.
 */
import { EnvelopeError } from '../errors.ts';
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { DecodeError, P2pCommError, assertBytes, assertInteger } from '../../util/errors.ts';
import { equalBytes, randomBytes, utf8ToBytes } from '../../util/bytes.ts';
import type { SessionManager } from '../session/session-manager.ts';
import { checkReceived, type OpenedEnvelope } from './sealed.ts';
import type { ReplayGuard } from './replay-guard.ts';

const MAGIC = utf8ToBytes('p2pc');
const VERSION = 1;

/** Default limit of one payload: 32 KiB, "tens of KB" (NOTES §2). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 32_768;
/**
 * Default size buckets: powers of two up to 2 KiB, then steps of ×1.5 or ×1.33, so a large
 * batch, whose bytes are paid for on chain, carries at most 50 % padding.
 */
export const DEFAULT_BUCKETS: readonly number[] = [
  256, 512, 1024, 2048, 3072, 4096, 6144, 8192, 12_288, 16_384, 24_576, 32_768,
];

/** Size policy of batches. */
export interface BatchOptions {
  /** Largest payload in bytes (a setting, NOTES §2). */
  readonly maxPayloadBytes?: number;
  /** Ascending bucket sizes; the payload is padded to the first that fits. */
  readonly buckets?: readonly number[];
}

function policy(o: BatchOptions): { max: number; buckets: readonly number[] } {
  const max = o.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  assertInteger('maxPayloadBytes', max, 64, 250_000);
  const buckets = (o.buckets ?? DEFAULT_BUCKETS).filter((b) => b <= max);
  if (!buckets.includes(max)) buckets.push(max);
  return { max, buckets };
}

function rawSize(frames: readonly Uint8Array[]): number {
  const w = new ByteWriter(16).bytes(MAGIC).u8(VERSION).varUint(frames.length);
  let n = w.length;
  for (const f of frames) n += new ByteWriter(8).varUint(f.length).length + f.length;
  return n;
}

/** The padded payload size of `frames`, or undefined when they exceed the limit. */
export function batchSize(frames: readonly Uint8Array[], options: BatchOptions = {}): number | undefined {
  const { buckets } = policy(options);
  const raw = rawSize(frames);
  return buckets.find((b) => b >= raw);
}

/** Packs frames into one padded payload; EnvelopeError TOO_LARGE when they do not fit. */
export function packBatch(frames: readonly Uint8Array[], options: BatchOptions = {}): Uint8Array {
  if (!Array.isArray(frames) || frames.length === 0)
    throw new RangeError('"frames" expected at least one frame');
  frames.forEach((f, i) => assertBytes(`frames[${i}]`, f));
  const size = batchSize(frames, options);
  if (size === undefined) {
    throw new EnvelopeError('TOO_LARGE', `${rawSize(frames)} bytes exceed the payload limit`);
  }
  const order = shuffle(frames.map((_, i) => i));
  const w = new ByteWriter(size).bytes(MAGIC).u8(VERSION).varUint(frames.length);
  for (const i of order) w.varBytes(frames[i]!);
  const out = new Uint8Array(size);
  out.set(w.finish());
  return out;
}

/** Fisher-Yates with a CSPRNG (rejection sampling avoids modulo bias). */
function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const range = i + 1;
    const limit = Math.floor(0x1_0000_0000 / range) * range;
    let x: number;
    do {
      const b = randomBytes(4);
      x = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    } while (x >= limit);
    const j = x % range;
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** True when `payload` starts like a p2pComm batch (cheap filter for a block scanner). */
export function isBatch(payload: Uint8Array): boolean {
  return payload.length > MAGIC.length && equalBytes(payload.subarray(0, MAGIC.length), MAGIC);
}

/** The frames of a payload; DecodeError for anything but a well-formed, zero-padded batch. */
export function unpackBatch(payload: Uint8Array, options: BatchOptions = {}): Uint8Array[] {
  assertBytes('payload', payload);
  const { max } = policy(options);
  if (payload.length > max)
    throw new DecodeError('TOO_LARGE', `payload of ${payload.length} bytes exceeds ${max}`);
  const r = new ByteReader(payload);
  if (!equalBytes(r.bytes(MAGIC.length, 'batch magic'), MAGIC))
    throw new DecodeError('MALFORMED', 'not a p2pComm batch');
  const version = r.u8('batch version');
  if (version !== VERSION)
    throw new DecodeError('UNKNOWN_VERSION', `batch version ${version} is not supported`);
  const n = r.varUint('frame count');
  if (n === 0 || n > payload.length) throw new DecodeError('MALFORMED', `batch declares ${n} frames`);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < n; i++) frames.push(r.varBytes(max, 'frame'));
  const rest = r.rest();
  if (rest.some((b) => b !== 0)) throw new DecodeError('MALFORMED', 'batch padding is not zero');
  return frames;
}

/** Outcome of scanning a batch: our envelopes, and the entries that were ours but bad. */
export interface BatchScan {
  readonly received: OpenedEnvelope[];
  /** Typed errors of frames that matched one of our tags or pre-keys but were refused. */
  readonly rejected: P2pCommError[];
}

/** Finds and opens our frames in a payload; frames for others are skipped silently. */
export function scanBatch(
  payload: Uint8Array,
  sessions: SessionManager,
  guard: ReplayGuard,
  now: number = Date.now(),
  options: BatchOptions = {},
): BatchScan {
  const received: OpenedEnvelope[] = [];
  const rejected: P2pCommError[] = [];
  for (const frame of unpackBatch(payload, options)) {
    try {
      const r = sessions.tryDecrypt(frame);
      if (r !== undefined) received.push(checkReceived(r, guard, now));
    } catch (e) {
      if (e instanceof P2pCommError) rejected.push(e);
      else throw e;
    }
  }
  return { received, rejected };
}
