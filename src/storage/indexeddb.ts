/**
 * Browser backend on IndexedDB through `idb`. One object store per schema store, with
 * out-of-line binary keys: IndexedDB orders binary keys bytewise, shorter first on a
 * common prefix (https://w3c.github.io/IndexedDB/#compare-two-keys), exactly the order
 * `types.ts` promises. Every `batch` is one readwrite transaction over the stores it
 * touches, so it commits or aborts as a whole.
 *
 * Durability: transactions ask for `durability: 'strict'` by default, so the browser
 * flushes to disk before reporting completion (Chromium otherwise defaults to 'relaxed',
 * which survives a closed tab or a killed renderer but not an OS crash or power loss).
 * The messaging core acknowledges messages only once stored; see `sqlite.ts` for the same
 * choice in Node.
 *
 * Object stores can only be created during a version change, so the IndexedDB version
 * is structural and handled here: when the schema names a store the database lacks (or
 * drops one it has), the database is reopened one version higher to make the change.
 * The data version and its migrations are separate (`schema.ts`), so adding a store
 * needs no hand-kept IndexedDB version number.
 */
import { deleteDB, openDB, type IDBPDatabase } from 'idb';
import { StoreBase, conflict, holds, type NormalizedRange, type ScanRequest } from './base.ts';
import { StorageError } from './errors.ts';
import { schemaStores } from './schema.ts';
import type { BatchOp, Entry, Expectation, KeyValueStore, StorageSchema } from './types.ts';

/** Options of `openIndexedDbStore`. */
export interface IndexedDbOptions {
  /** `'strict'` (default): flushed to disk before a write resolves. `'relaxed'`: survives tab crashes only. */
  readonly durability?: 'strict' | 'relaxed';
}

/** Maps a DOMException from IndexedDB to a StorageError, keeping the original as `cause`. */
function mapError(e: unknown, what: string): StorageError {
  if (e instanceof StorageError) return e;
  const name = (e as { name?: unknown } | null)?.name;
  const message = `${what}: ${e instanceof Error ? e.message : String(e)}`;
  switch (name) {
    case 'QuotaExceededError':
      return new StorageError('QUOTA_EXCEEDED', message, { cause: e });
    case 'AbortError':
      return new StorageError('ABORTED', message, { cause: e });
    case 'InvalidStateError':
      return new StorageError('CLOSED', message, { cause: e });
    case 'VersionError':
      return new StorageError('VERSION_TOO_NEW', message, { cause: e });
    case 'DataCloneError':
    case 'DataError':
      return new StorageError('CORRUPT', message, { cause: e });
    default:
      return new StorageError('IO', message, { cause: e });
  }
}

/**
 * Keys are checked to be Uint8Array at the boundary; the DOM typings also rule out
 * SharedArrayBuffer-backed views, which IndexedDB rejects with a DataError at run time.
 */
function idbKey(key: Uint8Array): Uint8Array<ArrayBuffer> {
  return key as Uint8Array<ArrayBuffer>;
}

function toIdbRange(range: NormalizedRange): IDBKeyRange | undefined {
  const { lower, upper } = range;
  if (lower && upper) return IDBKeyRange.bound(lower.key, upper.key, lower.open, upper.open);
  if (lower) return IDBKeyRange.lowerBound(lower.key, lower.open);
  if (upper) return IDBKeyRange.upperBound(upper.key, upper.open);
  return undefined;
}

function keyOf(k: IDBValidKey, store: string): Uint8Array {
  if (k instanceof ArrayBuffer) return new Uint8Array(k);
  throw new StorageError('CORRUPT', `store ${store} holds a non-binary key`);
}

function valueOf(v: unknown, store: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  throw new StorageError('CORRUPT', `store ${store} holds a value that is not a Uint8Array`);
}

/**
 * Structured clone copies a typed array's whole underlying buffer, so a small view into a
 * large buffer would store the large buffer: pass an exact copy instead.
 */
function exact(value: Uint8Array): Uint8Array {
  return value.byteOffset === 0 && value.byteLength === value.buffer.byteLength ? value : value.slice();
}

class IndexedDbStore extends StoreBase {
  constructor(
    private readonly db: IDBPDatabase,
    stores: readonly string[],
    private readonly durability: 'strict' | 'relaxed',
  ) {
    super(stores);
  }

  /** Called when the browser or another tab closes the connection under us. */
  lost(): void {
    this.markClosed();
  }

  protected async doGet(store: string, key: Uint8Array): Promise<Uint8Array | undefined> {
    try {
      const v: unknown = await this.db.get(store, idbKey(key));
      return v === undefined ? undefined : valueOf(v, store);
    } catch (e) {
      throw mapError(e, 'get');
    }
  }

  protected async doScan(store: string, { range, limit, reverse }: ScanRequest): Promise<Entry[]> {
    const query = toIdbRange(range);
    const count = Number.isFinite(limit) ? limit : undefined;
    try {
      const tx = this.db.transaction(store, 'readonly');
      const os = tx.objectStore(store);
      if (!reverse) {
        // Two bulk reads over the same range in one transaction see the same snapshot,
        // so keys and values line up; far faster than a cursor step per entry.
        const [keys, values] = await Promise.all([
          os.getAllKeys(query, count),
          os.getAll(query, count),
          tx.done,
        ]);
        return keys.map((k, i) => [keyOf(k, store), valueOf(values[i], store)] as const);
      }
      const out: Entry[] = [];
      let cursor = await os.openCursor(query, 'prev');
      while (cursor && out.length < limit) {
        out.push([keyOf(cursor.key, store), valueOf(cursor.value, store)]);
        cursor = await cursor.continue();
      }
      await tx.done;
      return out;
    } catch (e) {
      throw mapError(e, 'scan');
    }
  }

  protected async doCount(store: string, range: NormalizedRange): Promise<number> {
    try {
      return await this.db.count(store, toIdbRange(range));
    } catch (e) {
      throw mapError(e, 'count');
    }
  }

  protected async doBatch(ops: readonly BatchOp[], expect: readonly Expectation[]): Promise<void> {
    const names = [...new Set([...ops.map((op) => op.store), ...expect.map((x) => x.store)])];
    try {
      const tx = this.db.transaction(names, 'readwrite', { durability: this.durability });
      if (expect.length > 0) {
        // Read inside the readwrite transaction: IndexedDB runs overlapping readwrite
        // transactions one after another, so nothing changes these keys before the writes.
        // Awaiting only this transaction's own requests keeps it active.
        const stored = await Promise.all(expect.map((x) => tx.objectStore(x.store).get(idbKey(x.key))));
        const failed = expect.find(
          (x, i) => !holds(x, stored[i] === undefined ? undefined : valueOf(stored[i], x.store)),
        );
        if (failed !== undefined) {
          tx.abort();
          await tx.done.catch(() => undefined);
          throw conflict(failed);
        }
      }
      // Requests of one transaction run in the order made; awaiting them all (with
      // `done`) keeps a failed request's rejection handled while the abort rolls back.
      const requests: Promise<unknown>[] = ops.map((op) =>
        op.type === 'put'
          ? tx.objectStore(op.store).put(exact(op.value), idbKey(op.key))
          : tx.objectStore(op.store).delete(idbKey(op.key)),
      );
      await Promise.all([...requests, tx.done]);
    } catch (e) {
      throw mapError(e, 'batch');
    }
  }

  protected async doClose(): Promise<void> {
    this.db.close();
  }
}

/**
 * Opens (creating if needed) the IndexedDB database `name` with the schema's stores.
 * Structural only: run `migrate` (or use `openBrowserStorage`) to apply the data version.
 * When another tab needs to upgrade the database, this handle closes itself (later calls
 * fail with CLOSED) rather than block it; an upgrade of ours likewise waits until the
 * handles of other tabs have closed themselves.
 */
export async function openIndexedDbStore(
  name: string,
  schema: StorageSchema,
  options: IndexedDbOptions = {},
): Promise<KeyValueStore> {
  if (typeof name !== 'string' || name.length === 0)
    throw new TypeError('"name" expected a non-empty string');
  const stores = schemaStores(schema);
  const dropped = schema.dropped ?? [];
  const durability = options.durability ?? 'strict';
  if (durability !== 'strict' && durability !== 'relaxed') {
    throw new RangeError(`"options.durability" expected "strict" or "relaxed", got ${String(durability)}`);
  }
  let handle: IndexedDbStore | undefined;
  const callbacks = {
    upgrade(db: IDBPDatabase): void {
      for (const s of stores) if (!db.objectStoreNames.contains(s)) db.createObjectStore(s);
      for (const s of dropped) if (db.objectStoreNames.contains(s)) db.deleteObjectStore(s);
    },
    blocking(_current: number, _next: number | null, event: IDBVersionChangeEvent): void {
      (event.target as IDBDatabase).close();
      handle?.lost();
    },
    terminated(): void {
      handle?.lost();
    },
  };
  try {
    // First open at whatever version exists (a new database is created with every store);
    // reopen one version higher only if stores must be created or deleted.
    let db = await openDB(name, undefined, callbacks);
    const needs = (d: IDBPDatabase): boolean =>
      stores.some((s) => !d.objectStoreNames.contains(s)) ||
      dropped.some((s) => d.objectStoreNames.contains(s));
    if (needs(db)) {
      const version = db.version + 1;
      db.close();
      db = await openDB(name, version, callbacks);
      if (needs(db)) throw new StorageError('IO', `database ${name} was changed concurrently; open again`);
    }
    handle = new IndexedDbStore(db, stores, durability);
    return handle;
  } catch (e) {
    throw mapError(e, `open ${name}`);
  }
}

/** Deletes the IndexedDB database `name` and all its data (account removal, tests). */
export async function deleteIndexedDbStore(name: string): Promise<void> {
  if (typeof name !== 'string' || name.length === 0)
    throw new TypeError('"name" expected a non-empty string');
  try {
    await deleteDB(name);
  } catch (e) {
    throw mapError(e, `delete ${name}`);
  }
}
