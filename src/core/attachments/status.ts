/**
 * Transfer status (envelope type 18, docs/protocol.md "Attachment status"): what the
 * recipient holds of an attachment, so the sender shows progress, resumes from the first
 * missing chunk after a dropped link or a reload, and stops on cancel or refusal.
 *
 *   u8 version=1 | id[16] | u8 state | varuint n (0..64) | n × (varuint start | varuint count)
 *
 * `have` lists runs of verified chunks, ascending and disjoint; past 64 runs only the first
 * 64 are sent (the sender then resends a few chunks the recipient already has, which it ignores).
 */
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { DecodeError, assertBytes } from '../../util/errors.ts';
import type { AttachmentId } from './manifest.ts';

/** Status format version. */
export const STATUS_VERSION = 1;
/** Most runs in one status. */
export const MAX_STATUS_RUNS = 64;

/** Where a transfer stands on the recipient's side. */
export type TransferState = 'receiving' | 'complete' | 'cancelled' | 'refused';
const STATES: readonly TransferState[] = ['receiving', 'complete', 'cancelled', 'refused'];

/** A run of consecutive chunk indexes. */
export interface ChunkRun {
  readonly start: number;
  readonly count: number;
}

/** What a recipient reports about one attachment. */
export interface AttachmentStatus {
  readonly id: AttachmentId;
  readonly state: TransferState;
  readonly have: readonly ChunkRun[];
}

/** Runs of set bits in `bitmap` (bit i of byte i>>3, LSB first), at most MAX_STATUS_RUNS. */
export function runsOf(bitmap: Uint8Array, count: number): ChunkRun[] {
  const runs: ChunkRun[] = [];
  let start = -1;
  for (let i = 0; i <= count && runs.length < MAX_STATUS_RUNS; i++) {
    const set = i < count && (bitmap[i >> 3]! & (1 << (i & 7))) !== 0;
    if (set && start < 0) start = i;
    if (!set && start >= 0) {
      runs.push({ start, count: i - start });
      start = -1;
    }
  }
  return runs;
}

/** Indexes below `count` not covered by `have`, in order. */
export function missingFrom(have: readonly ChunkRun[], count: number): number[] {
  const out: number[] = [];
  let next = 0;
  for (const r of have) {
    for (let i = next; i < Math.min(r.start, count); i++) out.push(i);
    next = Math.max(next, r.start + r.count);
  }
  for (let i = next; i < count; i++) out.push(i);
  return out;
}

/** Status bytes. */
export function encodeStatus(s: AttachmentStatus): Uint8Array {
  assertBytes('id', s.id, 16);
  const state = STATES.indexOf(s.state);
  if (state < 0) throw new TypeError(`"state" expected one of ${STATES.join(', ')}`);
  if (s.have.length > MAX_STATUS_RUNS)
    throw new RangeError(`"have" expected at most ${MAX_STATUS_RUNS} runs`);
  const w = new ByteWriter(32 + 8 * s.have.length)
    .u8(STATUS_VERSION)
    .bytes(s.id)
    .u8(state)
    .varUint(s.have.length);
  for (const r of s.have) w.varUint(r.start).varUint(r.count);
  return w.finish();
}

/** Decodes status bytes; DecodeError for malformed input, runs out of order or empty. */
export function decodeStatus(bytes: Uint8Array): AttachmentStatus {
  assertBytes('bytes', bytes);
  const r = new ByteReader(bytes);
  const version = r.u8('status version');
  if (version !== STATUS_VERSION) {
    throw new DecodeError('UNKNOWN_VERSION', `attachment status version ${version} is not supported`);
  }
  const id = r.bytes(16, 'attachment id') as AttachmentId;
  const code = r.u8('transfer state');
  const state = STATES[code];
  if (state === undefined) throw new DecodeError('MALFORMED', `transfer state ${code}`);
  const n = r.varUint('run count');
  if (n > MAX_STATUS_RUNS) throw new DecodeError('TOO_LARGE', `${n} chunk runs`);
  const have: ChunkRun[] = [];
  let next = 0;
  for (let i = 0; i < n; i++) {
    const start = r.varUint('run start');
    const count = r.varUint('run length');
    if (count < 1 || start < next)
      throw new DecodeError('MALFORMED', 'chunk runs overlap, are empty or out of order');
    have.push({ start, count });
    next = start + count;
  }
  r.end('attachment status');
  return { id, state, have };
}
