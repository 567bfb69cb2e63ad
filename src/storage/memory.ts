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

/**
 * Most rows one chunk holds before it is split. One sorted array cost a copy of every later
 * row per insert: a 10,000-message catch-up spent half a second in `splice` alone.
 */
const CHUNK_ROWS = 512;

/** A position among the rows: chunk index, then row index within it. */
type Pos = readonly [chunk: number, row: number];

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

/** One store's rows sorted by `compareBytes` of the key, in chunks of at most 2 × CHUNK_ROWS. */
class SortedRows {
  readonly #chunks: Row[][] = [];

  /** The position of the first row whose key is >= `key`; [chunks, 0] past the last. */
  #lower(key: Uint8Array): Pos {
    const cs = this.#chunks;
    let lo = 0;
    let hi = cs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = cs[mid]!;
      if (compareBytes(c[c.length - 1]![0], key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo === cs.length ? [lo, 0] : [lo, lowerBound(cs[lo]!, key)];
  }

  #row([c, r]: Pos): Row | undefined {
    return this.#chunks[c]?.[r];
  }

  /** The position after `p` (chunks never are empty, so a chunk's end is the next's start). */
  #next([c, r]: Pos): Pos {
    return r + 1 < this.#chunks[c]!.length ? [c, r + 1] : [c + 1, 0];
  }

  #before(a: Pos, b: Pos): boolean {
    return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
  }

  get(key: Uint8Array): Row | undefined {
    const row = this.#row(this.#lower(key));
    return row !== undefined && compareBytes(row[0], key) === 0 ? row : undefined;
  }

  put(row: Row): void {
    const cs = this.#chunks;
    const [c, r] = this.#lower(row[0]);
    if (c === cs.length) {
      const last = cs[c - 1];
      if (last === undefined || last.length >= CHUNK_ROWS) cs.push([row]);
      else last.push(row);
      return;
    }
    const chunk = cs[c]!;
    if (compareBytes(chunk[r]![0], row[0]) === 0) {
      chunk[r] = row;
      return;
    }
    chunk.splice(r, 0, row);
    if (chunk.length >= 2 * CHUNK_ROWS) cs.splice(c + 1, 0, chunk.splice(CHUNK_ROWS));
  }

  delete(key: Uint8Array): void {
    const [c, r] = this.#lower(key);
    const chunk = this.#chunks[c];
    if (chunk === undefined || compareBytes(chunk[r]![0], key) !== 0) return;
    chunk.splice(r, 1);
    if (chunk.length === 0) this.#chunks.splice(c, 1);
  }

  /** [start, end) positions covered by a normalized range. */
  #bounds(range: NormalizedRange): [Pos, Pos] {
    let start: Pos = [0, 0];
    let end: Pos = [this.#chunks.length, 0];
    if (range.lower) {
      start = this.#lower(range.lower.key);
      const row = this.#row(start);
      if (range.lower.open && row !== undefined && compareBytes(row[0], range.lower.key) === 0)
        start = this.#next(start);
    }
    if (range.upper) {
      end = this.#lower(range.upper.key);
      const row = this.#row(end);
      if (!range.upper.open && row !== undefined && compareBytes(row[0], range.upper.key) === 0)
        end = this.#next(end);
    }
    return [start, this.#before(end, start) ? start : end];
  }

  /** Up to `limit` rows of the range, in key order or from its end when `reverse`. */
  scan(range: NormalizedRange, limit: number, reverse: boolean): Row[] {
    const [start, end] = this.#bounds(range);
    const out: Row[] = [];
    if (!reverse) {
      for (let p = start; out.length < limit && this.#before(p, end); p = this.#next(p))
        out.push(this.#row(p)!);
      return out;
    }
    let [c, r] = end;
    while (out.length < limit) {
      if (r > 0) r--;
      else if (c > 0) r = this.#chunks[--c]!.length - 1;
      else break;
      if (this.#before([c, r], start)) break;
      out.push(this.#chunks[c]![r]!);
    }
    return out;
  }

  count(range: NormalizedRange): number {
    const [[c0, r0], [c1, r1]] = this.#bounds(range);
    let n = r1 - r0;
    for (let c = c0; c < c1; c++) n += this.#chunks[c]!.length;
    return n;
  }
}

/** The contents of an in-memory database: per store, rows sorted by key. */
export class MemoryDatabase {
  /** @internal the rows of each store. */
  readonly tables = new Map<string, SortedRows>();
}

class MemoryStore extends StoreBase {
  constructor(
    private readonly db: MemoryDatabase,
    stores: readonly string[],
    dropped: readonly string[],
  ) {
    super(stores);
    for (const name of dropped) db.tables.delete(name);
    for (const name of stores) if (!db.tables.has(name)) db.tables.set(name, new SortedRows());
  }

  private rows(store: string): SortedRows {
    return this.db.tables.get(store)!;
  }

  protected async doGet(store: string, key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.rows(store).get(key)?.[1].slice();
  }

  protected async doScan(store: string, { range, limit, reverse }: ScanRequest): Promise<Entry[]> {
    return this.rows(store)
      .scan(range, limit, reverse)
      .map(([k, v]) => [k.slice(), v.slice()] as const);
  }

  protected async doCount(store: string, range: NormalizedRange): Promise<number> {
    return this.rows(store).count(range);
  }

  protected async doBatch(ops: readonly BatchOp[], expect: readonly Expectation[]): Promise<void> {
    // Synchronous from here on: no other call can observe a half-applied batch, nor change
    // an expected value between its check and the writes.
    for (const x of expect) {
      if (!holds(x, this.rows(x.store).get(x.key)?.[1])) throw conflict(x);
    }
    for (const op of ops) {
      const rows = this.rows(op.store);
      if (op.type === 'put') rows.put([op.key.slice(), op.value.slice()]);
      else rows.delete(op.key);
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
