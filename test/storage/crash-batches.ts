/** The batches written by `crash-writer.ts` and checked by `crash.test.ts`. */
import { compareBytes, decodeKey, encodeKey, u64Key } from '../../src/storage/keys.ts';
import type { BatchOp, KeyValueStore, StorageSchema } from '../../src/storage/types.ts';
import { bytesEqual, equal } from './check.ts';

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

/**
 * Checks that `db` holds exactly batches 0..head, each whole (nothing of a half-written
 * later batch), and returns head, or -1 when no batch committed. Runtime-neutral, so the
 * browser "killed tab" test uses it too.
 */
export async function verifyCrashPrefix(db: KeyValueStore): Promise<number> {
  const headBytes = await db.get('cursor', HEAD);
  const head =
    headBytes === undefined
      ? -1
      : Number(new DataView(headBytes.buffer, headBytes.byteOffset).getBigUint64(0));
  // Under opaque keys (the default with a storage key) a scan comes in no useful order.
  const all = (await db.scan('messages')).sort(([a], [b]) => compareBytes(a, b));
  equal(all.length, (head + 1) * PER_BATCH, `messages for batches 0..${head}`);
  all.forEach(([k, v], n) => {
    const [i, j] = decodeKey(k) as [bigint, bigint];
    equal(i, BigInt(Math.floor(n / PER_BATCH)), `batch number of entry ${n}`);
    equal(j, BigInt(n % PER_BATCH), `index of entry ${n}`);
    bytesEqual(v, crashValue(Number(i), Number(j)), `value of entry ${n}`);
  });
  return head;
}
