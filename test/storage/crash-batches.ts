/** The batches written by `crash-writer.ts` and checked by `crash.test.ts`. */
import { u64Key, encodeKey } from '../../src/storage/keys.ts';
import type { BatchOp, StorageSchema } from '../../src/storage/types.ts';

export const CRASH_SCHEMA: StorageSchema = { version: 1, stores: ['messages', 'cursor'] };
export const CRASH_KEY = new Uint8Array(32).fill(7);
/** Entries per batch, each large enough that one batch spans many database pages. */
export const PER_BATCH = 16;
export const HEAD = encodeKey('head');

/** The value of entry `j` of batch `i`: recognisable, 3 KiB. */
export function crashValue(i: number, j: number): Uint8Array {
  const v = new Uint8Array(3072);
  const view = new DataView(v.buffer);
  for (let o = 0; o < v.length; o += 8) {
    view.setUint32(o, i);
    view.setUint32(o + 4, j);
  }
  return v;
}

/** Batch `i`: PER_BATCH messages plus the cursor moved to `i`, all or nothing. */
export function crashBatch(i: number): BatchOp[] {
  const ops: BatchOp[] = [];
  for (let j = 0; j < PER_BATCH; j++) {
    ops.push({ type: 'put', store: 'messages', key: encodeKey(i, j), value: crashValue(i, j) });
  }
  ops.push({ type: 'put', store: 'cursor', key: HEAD, value: u64Key(i) });
  return ops;
}
