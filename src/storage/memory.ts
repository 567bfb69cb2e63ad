/**
 * In-memory backend for tests and ephemeral sessions. The data lives in a `MemoryDatabase`
 * that outlives handles, so tests of the layers above can close and reopen ("restart")
 * exactly as with a real database. Values are copied in and out: a caller mutating its
 * buffer after `put` or after `get` changes nothing stored, as with a real engine.
 */
import { StoreBase, conflict, holds, type NormalizedRange, type ScanRequest } from './base.ts';
import { compareBytes } from './keys.ts';
import { schemaStores } from './schema.ts';
import type { BatchOp, Entry, Expectation, KeyValueStore, StorageSchema } from './types.ts';

type Row = [key: Uint8Array, value: Uint8Array];

/** The contents of an in-memory database: per store, rows sorted by key. */
export class MemoryDatabase {
  /** @internal rows per store, kept sorted by `compareBytes` of the key. */
  readonly tables = new Map<string, Row[]>();
}

/** Index of the first row whose key is >= `key` (binary search). */
function lowerBound(rows: readonly Row[], key: Uint8Array): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(rows[mid]![0], key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** [start, end) row indexes covered by a normalized range. */
function slice(rows: readonly Row[], range: NormalizedRange): [number, number] {
  let start = 0;
  let end = rows.length;
  if (range.lower) {
    start = lowerBound(rows, range.lower.key);
    if (range.lower.open && start < rows.length && compareBytes(rows[start]![0], range.lower.key) === 0)
      start++;
  }
  if (range.upper) {
    end = lowerBound(rows, range.upper.key);
    if (!range.upper.open && end < rows.length && compareBytes(rows[end]![0], range.upper.key) === 0) end++;
  }
  return [start, Math.max(start, end)];
}

class MemoryStore extends StoreBase {
  constructor(
    private readonly db: MemoryDatabase,
    stores: readonly string[],
    dropped: readonly string[],
  ) {
    super(stores);
    for (const name of dropped) db.tables.delete(name);
    for (const name of stores) if (!db.tables.has(name)) db.tables.set(name, []);
  }

  private rows(store: string): Row[] {
    return this.db.tables.get(store)!;
  }

  protected async doGet(store: string, key: Uint8Array): Promise<Uint8Array | undefined> {
    const rows = this.rows(store);
    const i = lowerBound(rows, key);
    const row = rows[i];
    return row !== undefined && compareBytes(row[0], key) === 0 ? row[1].slice() : undefined;
  }

  protected async doScan(store: string, { range, limit, reverse }: ScanRequest): Promise<Entry[]> {
    const rows = this.rows(store);
    const [start, end] = slice(rows, range);
    const n = Math.min(limit, end - start);
    const picked = reverse ? rows.slice(end - n, end).reverse() : rows.slice(start, start + n);
    return picked.map(([k, v]) => [k.slice(), v.slice()] as const);
  }

  protected async doCount(store: string, range: NormalizedRange): Promise<number> {
    const [start, end] = slice(this.rows(store), range);
    return end - start;
  }

  protected async doBatch(ops: readonly BatchOp[], expect: readonly Expectation[]): Promise<void> {
    // Synchronous from here on: no other call can observe a half-applied batch, nor change
    // an expected value between its check and the writes.
    for (const x of expect) {
      const rows = this.rows(x.store);
      const row = rows[lowerBound(rows, x.key)];
      const stored = row !== undefined && compareBytes(row[0], x.key) === 0 ? row[1] : undefined;
      if (!holds(x, stored)) throw conflict(x);
    }
    for (const op of ops) {
      const rows = this.rows(op.store);
      const i = lowerBound(rows, op.key);
      const hit = i < rows.length && compareBytes(rows[i]![0], op.key) === 0;
      if (op.type === 'put') {
        const row: Row = [op.key.slice(), op.value.slice()];
        if (hit) rows[i] = row;
        else rows.splice(i, 0, row);
      } else if (hit) {
        rows.splice(i, 1);
      }
    }
  }

  protected async doClose(): Promise<void> {
    // The data belongs to the MemoryDatabase and outlives the handle.
  }
}

/** Opens a handle on `db` (a new empty database when omitted) with the schema's stores. */
export async function openMemoryStore(
  schema: StorageSchema,
  db = new MemoryDatabase(),
): Promise<KeyValueStore> {
  if (!(db instanceof MemoryDatabase)) throw new TypeError('"db" expected a MemoryDatabase');
  return new MemoryStore(db, schemaStores(schema), schema.dropped ?? []);
}
