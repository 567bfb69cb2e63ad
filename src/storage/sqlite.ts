/**
 * Node backend on SQLite through better-sqlite3. Node-only: import it through
 * `src/storage/node.ts`, never from code that reaches a browser bundle (STYLE §9).
 *
 * Layout: one table `kv(store TEXT, key BLOB, value BLOB)` with PRIMARY KEY (store, key),
 * WITHOUT ROWID so the rows live in the primary-key b-tree itself (one lookup per read,
 * no second index). SQLite compares BLOBs with memcmp, shorter first on a common prefix:
 * the bytewise order `types.ts` promises. Store names are bound as parameters, never
 * spliced into SQL, so no name can change a statement.
 *
 * Durability: WAL journal (readers never block the writer; a commit appends to the log)
 * and `synchronous=FULL` by default. With WAL, NORMAL is already crash-consistent (a
 * killed process loses nothing committed, and no half transaction is ever visible), but a
 * power loss may roll back the last commits; FULL syncs the log on every commit, so a
 * resolved `batch` survives power loss too. The messaging core acknowledges a message to
 * its sender only after storing it: an acknowledged message must not vanish afterwards,
 * and its write rate (a few batches a second) makes one fsync per commit affordable.
 * `synchronous: 'normal'` is offered for bulk caches that can be rebuilt.
 * (https://www.sqlite.org/pragma.html#pragma_synchronous, https://www.sqlite.org/wal.html)
 */
import { createRequire } from 'node:module';
import { StoreBase, conflict, holds, type NormalizedRange, type ScanRequest } from './base.ts';
import { StorageError } from './errors.ts';
import { schemaStores } from './schema.ts';
import type { BatchOp, Entry, Expectation, KeyValueStore, StorageSchema } from './types.ts';

/** The subset of better-sqlite3 used here (the package ships no type declarations). */
interface Statement {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): unknown;
  raw(toggle?: boolean): Statement;
  pluck(toggle?: boolean): Statement;
}
interface Database {
  prepare(sql: string): Statement;
  pragma(sql: string, options?: { simple?: boolean }): unknown;
  exec(sql: string): unknown;
  transaction<A extends unknown[]>(fn: (...args: A) => void): { immediate(...args: A): void };
  close(): void;
}
type DatabaseConstructor = new (path: string, options?: { timeout?: number }) => Database;

const BetterSqlite3 = createRequire(import.meta.url)('better-sqlite3') as DatabaseConstructor;

/** On-disk layout version of this backend, kept in `PRAGMA user_version`. */
const LAYOUT_VERSION = 1;

/** Options of `openSqliteStore`. */
export interface SqliteOptions {
  /** `'full'` (default): every commit survives power loss. `'normal'`: survives process crashes only. */
  readonly synchronous?: 'full' | 'normal';
  /** Upper bound on the file size; writes beyond it fail with QUOTA_EXCEEDED. Unbounded when absent. */
  readonly maxBytes?: number;
  /** How long to wait for another process's write lock before failing, in ms. @default 5_000 */
  readonly busyTimeoutMs?: number;
}

/** Maps an engine failure to a StorageError, keeping the original as `cause`. */
function mapError(e: unknown, what: string): StorageError {
  if (e instanceof StorageError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const text = typeof code === 'string' ? code : '';
  const message = `${what}: ${e instanceof Error ? e.message : String(e)}`;
  if (text.startsWith('SQLITE_FULL')) return new StorageError('QUOTA_EXCEEDED', message, { cause: e });
  if (text.startsWith('SQLITE_CORRUPT') || text.startsWith('SQLITE_NOTADB')) {
    return new StorageError('CORRUPT', message, { cause: e });
  }
  return new StorageError('IO', message, { cause: e });
}

/** A view on a returned Buffer as a plain Uint8Array (copied only if it shares a pooled buffer). */
function plain(b: unknown): Uint8Array {
  const u = b as Uint8Array;
  return u.byteOffset === 0 && u.byteLength === u.buffer.byteLength
    ? new Uint8Array(u.buffer)
    : Uint8Array.prototype.slice.call(u);
}

function rangeSql(range: NormalizedRange): { where: string; params: Uint8Array[] } {
  let where = 'store = ?';
  const params: Uint8Array[] = [];
  if (range.lower) {
    where += range.lower.open ? ' AND key > ?' : ' AND key >= ?';
    params.push(range.lower.key);
  }
  if (range.upper) {
    where += range.upper.open ? ' AND key < ?' : ' AND key <= ?';
    params.push(range.upper.key);
  }
  return { where, params };
}

class SqliteStore extends StoreBase {
  private readonly statements = new Map<string, Statement>();
  private readonly applyBatch: (ops: readonly BatchOp[], expect: readonly Expectation[]) => void;

  constructor(
    private readonly db: Database,
    stores: readonly string[],
  ) {
    super(stores);
    const put = db.prepare(
      'INSERT INTO kv (store, key, value) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET value = excluded.value',
    );
    const del = db.prepare('DELETE FROM kv WHERE store = ? AND key = ?');
    const read = db.prepare('SELECT value FROM kv WHERE store = ? AND key = ?').pluck();
    const tx = db.transaction((ops: readonly BatchOp[], expect: readonly Expectation[]) => {
      // Checked under the write lock the transaction already holds: no other writer can
      // change an expected value between this read and the commit. Throwing rolls back.
      for (const x of expect) {
        const v = read.get(x.store, x.key);
        if (!holds(x, v === undefined ? undefined : plain(v))) throw conflict(x);
      }
      for (const op of ops) {
        if (op.type === 'put') put.run(op.store, op.key, op.value);
        else del.run(op.store, op.key);
      }
    });
    // BEGIN IMMEDIATE takes the write lock up front, so two processes never deadlock upgrading read locks.
    this.applyBatch = (ops, expect) => tx.immediate(ops, expect);
  }

  private statement(sql: string): Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  protected async doGet(store: string, key: Uint8Array): Promise<Uint8Array | undefined> {
    try {
      const v = this.statement('SELECT value FROM kv WHERE store = ? AND key = ?').pluck().get(store, key);
      return v === undefined ? undefined : plain(v);
    } catch (e) {
      throw mapError(e, 'get');
    }
  }

  protected async doScan(store: string, { range, limit, reverse }: ScanRequest): Promise<Entry[]> {
    const { where, params } = rangeSql(range);
    const sql = `SELECT key, value FROM kv WHERE ${where} ORDER BY key ${reverse ? 'DESC' : 'ASC'} LIMIT ?`;
    try {
      const rows = this.statement(sql)
        .raw()
        .all(store, ...params, Number.isFinite(limit) ? limit : -1) as [unknown, unknown][];
      return rows.map(([k, v]) => [plain(k), plain(v)] as const);
    } catch (e) {
      throw mapError(e, 'scan');
    }
  }

  protected async doCount(store: string, range: NormalizedRange): Promise<number> {
    const { where, params } = rangeSql(range);
    try {
      return this.statement(`SELECT count(*) FROM kv WHERE ${where}`)
        .pluck()
        .get(store, ...params) as number;
    } catch (e) {
      throw mapError(e, 'count');
    }
  }

  protected async doBatch(ops: readonly BatchOp[], expect: readonly Expectation[]): Promise<void> {
    try {
      this.applyBatch(ops, expect);
    } catch (e) {
      // better-sqlite3 has already rolled the transaction back.
      throw mapError(e, 'batch');
    }
  }

  protected async doClose(): Promise<void> {
    try {
      this.db.close();
    } catch (e) {
      throw mapError(e, 'close');
    }
  }
}

/**
 * Opens (creating if needed) the SQLite database at `path` with the schema's stores.
 * Structural only: run `migrate` (or use `openNodeStorage`) to apply the data version.
 */
export async function openSqliteStore(
  path: string,
  schema: StorageSchema,
  options: SqliteOptions = {},
): Promise<KeyValueStore> {
  if (typeof path !== 'string' || path.length === 0)
    throw new TypeError('"path" expected a non-empty string');
  const stores = schemaStores(schema);
  const synchronous = options.synchronous ?? 'full';
  if (synchronous !== 'full' && synchronous !== 'normal') {
    throw new RangeError(`"options.synchronous" expected "full" or "normal", got ${String(synchronous)}`);
  }
  let db: Database | undefined;
  try {
    db = new BetterSqlite3(path, { timeout: options.busyTimeoutMs ?? 5_000 });
    const layout = db.pragma('user_version', { simple: true }) as number;
    if (layout > LAYOUT_VERSION) {
      throw new StorageError(
        'VERSION_TOO_NEW',
        `SQLite layout version ${layout} is newer than ${LAYOUT_VERSION}`,
      );
    }
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new StorageError('IO', `cannot enable WAL journal (got ${String(mode)})`);
    db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    if (options.maxBytes !== undefined) {
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes < pageSize * 4) {
        throw new RangeError(
          `"options.maxBytes" expected an integer >= ${pageSize * 4}, got ${options.maxBytes}`,
        );
      }
      db.pragma(`max_page_count = ${Math.floor(options.maxBytes / pageSize)}`);
    }
    db.exec(
      `CREATE TABLE IF NOT EXISTS kv (
         store TEXT NOT NULL,
         key BLOB NOT NULL,
         value BLOB NOT NULL,
         PRIMARY KEY (store, key)
       ) WITHOUT ROWID`,
    );
    db.pragma(`user_version = ${LAYOUT_VERSION}`);
    const dropped = schema.dropped ?? [];
    if (dropped.length > 0) {
      const drop = db.prepare('DELETE FROM kv WHERE store = ?');
      db.transaction((names: readonly string[]) => {
        for (const name of names) drop.run(name);
      }).immediate(dropped);
    }
    return new SqliteStore(db, stores);
  } catch (e) {
    db?.close();
    if (e instanceof RangeError) throw e;
    throw mapError(e, `open ${path}`);
  }
}
