/**
 * The batch container: many frames for many recipients in one Kaspa transaction payload
 * (spec "Batching for Efficiency", NOTES §2). Format: docs/protocol.md "Batch container".
 *
 *   payload = "p2pc" | u8 version=2 | body          (length = a size bucket)
 *   body    = first-contact frames, each starting at a multiple of 512 within the first 32
 *             such slots, then the other frames at multiples of 8, in random order;
 *             every byte no frame covers is random
 *
 * Nothing in the container delimits a frame: there is no count and no length field, and the
 * gaps are random bytes, so an observer sees the bucket size and bytes indistinguishable from
 * random, not how many frames there are, how long each is, or which start a first contact.
 * Each frame delimits itself for its recipient alone: the encrypted ratchet header holds the
 * ciphertext length (session/ratchet.ts), and a first-contact wrapper masks its seal length
 * (session/first-contact.ts).
 *
 * Work per payload is bounded by the layout, whatever its bytes (docs/crypto.md §6):
 * - tag lookups at every 8th offset (4,096 at 32 KiB), no cryptography for frames not ours;
 * - first-contact trials (one X25519 per active pre-key) only at the 32 slot offsets, and at
 *   most 2 sessions started through them (X3DH, card check and a first DH ratchet step each;
 *   a refused frame whose tag matched counts too). A payload comes from one sender with one
 *   frame per recipient (delivery engine), so a legitimate payload needs one at most.
 */
import { EnvelopeError } from '../errors.ts';
import { DecodeError, P2pCommError, assertBytes, assertInteger } from '../../util/errors.ts';
import { bytesToHex, equalBytes, randomBytes, utf8ToBytes } from '../../util/bytes.ts';
import type { AdmitFirstContact, Received, SessionManager } from '../session/session-manager.ts';
import { TAG_BYTES } from '../session/kdf.ts';
import { FIRST_CONTACT_OVERHEAD } from '../session/first-contact.ts';
import { checkReceived, type OpenedEnvelope } from './sealed.ts';
import type { ReplayGuard } from './replay-guard.ts';

const MAGIC = utf8ToBytes('p2pc');
const VERSION = 2;
const HEADER_BYTES = MAGIC.length + 1;
/** Frames other than first contacts start at multiples of this (body offsets). */
export const FRAME_ALIGNMENT = 8;
/** First-contact frames start at multiples of this... */
export const FIRST_CONTACT_SLOT_BYTES = 512;
/** ...within the first this many slots: the recipient tries no other offset. */
export const FIRST_CONTACT_SLOTS = 32;
/** Most sessions a recipient starts (or frames it refuses) through first-contact slots per payload. */
export const MAX_FIRST_CONTACTS_OPENED = 2;

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

/** One frame to pack, and whether it is a first-contact frame (placed in a first-contact slot). */
export interface BatchFrame {
  readonly bytes: Uint8Array;
  /** True for frames in the first-contact wrapper (`SessionManager.awaitsReply`). */
  readonly firstContact: boolean;
}

function policy(o: BatchOptions): { max: number; buckets: readonly number[] } {
  const max = o.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  assertInteger('maxPayloadBytes', max, 64, 250_000);
  const buckets = (o.buckets ?? DEFAULT_BUCKETS).filter((b) => b <= max);
  if (!buckets.includes(max)) buckets.push(max);
  return { max, buckets };
}

const alignUp = (n: number, unit: number): number => Math.ceil(n / unit) * unit;

/**
 * Body offsets of `frames` in the order given (first contacts first, shortest first) and the
 * body length they need. Every frame but the last first contact is rounded up to its unit, so
 * the size does not depend on the random order of the other frames.
 */
function layout(frames: readonly BatchFrame[]): { offsets: number[]; end: number; slotsOk: boolean } {
  const offsets: number[] = [];
  let at = 0;
  let slotsOk = true;
  const firsts = frames.filter((f) => f.firstContact).length;
  let seenFirst = 0;
  for (const f of frames) {
    offsets.push(at);
    if (f.firstContact) {
      seenFirst += 1;
      if (at / FIRST_CONTACT_SLOT_BYTES >= FIRST_CONTACT_SLOTS) slotsOk = false;
      const unit = seenFirst === firsts ? FRAME_ALIGNMENT : FIRST_CONTACT_SLOT_BYTES;
      at = alignUp(at + f.bytes.length, unit);
    } else {
      at = alignUp(at + f.bytes.length, FRAME_ALIGNMENT);
    }
  }
  return { offsets, end: at, slotsOk };
}

function ordered(frames: readonly BatchFrame[]): BatchFrame[] {
  // First contacts shortest first, so that a long one never pushes the others out of the
  // slots; ties and the other frames in CSPRNG order.
  const shuffled = shuffle([...frames]);
  const firsts = shuffled.filter((f) => f.firstContact).sort((a, b) => a.bytes.length - b.bytes.length);
  return [...firsts, ...shuffled.filter((f) => !f.firstContact)];
}

function checkFrames(frames: readonly BatchFrame[]): void {
  if (!Array.isArray(frames) || frames.length === 0)
    throw new RangeError('"frames" expected at least one frame');
  frames.forEach((f, i) => {
    assertBytes(`frames[${i}].bytes`, f.bytes);
    if (f.bytes.length < TAG_BYTES)
      throw new RangeError(
        `"frames[${i}].bytes" expected at least ${TAG_BYTES} bytes, got ${f.bytes.length}`,
      );
    if (typeof f.firstContact !== 'boolean')
      throw new TypeError(`"frames[${i}].firstContact" expected a boolean`);
  });
}

/** The padded payload size of `frames`, or undefined when they exceed the limit or the slots. */
export function batchSize(frames: readonly BatchFrame[], options: BatchOptions = {}): number | undefined {
  checkFrames(frames);
  const { buckets } = policy(options);
  const l = layout(ordered(frames));
  if (!l.slotsOk) return undefined;
  return buckets.find((b) => b >= HEADER_BYTES + l.end);
}

/**
 * Packs frames into one padded payload. EnvelopeError TOO_LARGE when they exceed the limit,
 * or when the first-contact frames do not all start within the first-contact slots (then
 * send fewer first contacts per payload).
 */
export function packBatch(frames: readonly BatchFrame[], options: BatchOptions = {}): Uint8Array {
  checkFrames(frames);
  const { buckets } = policy(options);
  const order = ordered(frames);
  const l = layout(order);
  if (!l.slotsOk) {
    throw new EnvelopeError(
      'TOO_LARGE',
      `first-contact frames reach past the ${FIRST_CONTACT_SLOTS} first-contact slots`,
    );
  }
  const size = buckets.find((b) => b >= HEADER_BYTES + l.end);
  if (size === undefined) {
    throw new EnvelopeError('TOO_LARGE', `${HEADER_BYTES + l.end} bytes exceed the payload limit`);
  }
  // Random everywhere no frame is: gaps and the tail look like frame bytes (docs/crypto.md §6).
  const out = randomBytes(size);
  out.set(MAGIC, 0);
  out[MAGIC.length] = VERSION;
  order.forEach((f, i) => out.set(f.bytes, HEADER_BYTES + l.offsets[i]!));
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

/** The body of a payload; DecodeError for a payload that is not a version-2 batch. */
function batchBody(payload: Uint8Array, options: BatchOptions): Uint8Array {
  assertBytes('payload', payload);
  const { max } = policy(options);
  if (payload.length > max)
    throw new DecodeError('TOO_LARGE', `payload of ${payload.length} bytes exceeds ${max}`);
  if (!isBatch(payload)) throw new DecodeError('MALFORMED', 'not a p2pComm batch');
  if (payload.length < HEADER_BYTES) throw new DecodeError('TRUNCATED', 'batch shorter than its header');
  const version = payload[MAGIC.length]!;
  if (version === 1) {
    throw new DecodeError(
      'UNKNOWN_VERSION',
      'batch version 1 (frame lengths in clear) is no longer read; this client reads version 2',
    );
  }
  if (version !== VERSION)
    throw new DecodeError('UNKNOWN_VERSION', `batch version ${version} is not supported`);
  return payload.subarray(HEADER_BYTES);
}

/** Our frames in a payload, the refusals of frames that were ours, and the work it took. */
export interface FrameScan {
  /** Frames of ours, opened, in payload order. */
  readonly found: Received[];
  /** Typed errors of frames that matched one of our tags or pre-keys but were refused. */
  readonly rejected: P2pCommError[];
  /** Offsets tried as first contacts: each cost one X25519 per active pre-key. */
  readonly firstContactTrials: number;
}

/**
 * Finds and opens our frames in a payload (bounded work: module doc). DecodeError when the
 * payload is not a version-2 batch; frames for others are skipped silently.
 */
export function findFrames(
  payload: Uint8Array,
  sessions: SessionManager,
  options: BatchOptions = {},
  admit?: AdmitFirstContact,
): FrameScan {
  const body = batchBody(payload, options);
  const found: Received[] = [];
  const rejected: P2pCommError[] = [];
  /** Body ranges of frames already opened: their insides are not looked at again. */
  const taken: [number, number][] = [];
  const duplicates = new Set<string>();
  /** Opens the frame at `at`; true when it cost an X3DH or was refused after its tag matched. */
  const open = (at: number): boolean => {
    try {
      const r = sessions.tryDecrypt(
        body.subarray(at),
        admit ? { framing: 'prefix', admit } : { framing: 'prefix' },
      );
      if (r === undefined) return false;
      if (r.kind === 'message') {
        taken.push([at, at + r.length]);
        found.push(r);
      } else {
        // A duplicate's length is unknown (its key is gone): report it once per sender.
        const who = bytesToHex(r.sender);
        if (!duplicates.has(who)) found.push(r);
        duplicates.add(who);
      }
      return r.kind === 'message' && r.newSession;
    } catch (e) {
      if (!(e instanceof P2pCommError)) throw e;
      rejected.push(e);
      return true;
    }
  };

  // First contacts first, so that later frames of a session they start are found by tag.
  let trials = 0;
  let opened = 0;
  for (let slot = 0; slot < FIRST_CONTACT_SLOTS && opened < MAX_FIRST_CONTACTS_OPENED; slot++) {
    const at = slot * FIRST_CONTACT_SLOT_BYTES;
    if (at + FIRST_CONTACT_OVERHEAD > body.length) break;
    if (taken.some(([start, end]) => at >= start && at < end)) continue; // inside a frame of ours
    if (sessions.recognises(body.subarray(at, at + TAG_BYTES))) continue; // found by tag below
    trials += 1;
    if (open(at)) opened += 1;
  }
  for (let at = 0; at + TAG_BYTES <= body.length; at += FRAME_ALIGNMENT) {
    const inside = taken.find(([start, end]) => at >= start && at < end);
    if (inside !== undefined) {
      at = alignUp(inside[1], FRAME_ALIGNMENT) - FRAME_ALIGNMENT;
      continue;
    }
    if (sessions.recognises(body.subarray(at, at + TAG_BYTES))) open(at);
  }
  return { found, rejected, firstContactTrials: trials };
}

/** Outcome of scanning a batch: our envelopes, and the entries that were ours but bad. */
export interface BatchScan {
  readonly received: OpenedEnvelope[];
  /** Typed errors of frames that matched one of our tags or pre-keys but were refused. */
  readonly rejected: P2pCommError[];
  /** Offsets tried as first contacts (one X25519 per active pre-key each). */
  readonly firstContactTrials: number;
}

/** Finds and opens our envelopes in a payload; frames for others are skipped silently. */
export function scanBatch(
  payload: Uint8Array,
  sessions: SessionManager,
  guard: ReplayGuard,
  now: number = Date.now(),
  options: BatchOptions = {},
): BatchScan {
  const scan = findFrames(payload, sessions, options);
  const received: OpenedEnvelope[] = [];
  const rejected = [...scan.rejected];
  for (const r of scan.found) {
    try {
      received.push(checkReceived(r, guard, now));
    } catch (e) {
      if (e instanceof P2pCommError) rejected.push(e);
      else throw e;
    }
  }
  return { received, rejected, firstContactTrials: scan.firstContactTrials };
}
