/**
 * The storage contract every backend honours (STYLE §9, §10): a small asynchronous
 * key-value store with named stores declared up front, keys ordered bytewise and atomic
 * multi-store batches. The messaging core keeps everything it must not lose here: the
 * outgoing queue, the inbox, conversations, ratchet sessions, contacts, the vault blob,
 * the coin cache, the chain cursor and delivery proofs.
 *
 * Keys are `Uint8Array` compared as unsigned bytes, shorter-is-smaller on a common prefix
 * (memcmp order: what SQLite's BLOB comparison and IndexedDB's binary keys both do), so
 * callers build order-preserving keys with big-endian counters and timestamps
 * (`keys.ts`). The encrypted wrapper leaves keys in clear; `opaque.ts` (the default of
 * `openStorage` with a storage key) stores them as keyed hashes, keeping prefix scans and a
 * trailing counter's order only.
 */

/** A key and its value, as returned by `scan`. */
export type Entry = readonly [key: Uint8Array, value: Uint8Array];

/**
 * A key range. `prefix` selects keys starting with those bytes; `gt`/`gte` and `lt`/`lte`
 * bound it further. All given bounds apply together (their intersection).
 */
export interface KeyRange {
  readonly prefix?: Uint8Array;
  readonly gt?: Uint8Array;
  readonly gte?: Uint8Array;
  readonly lt?: Uint8Array;
  readonly lte?: Uint8Array;
}

/** A range plus how many entries to return and in which direction. */
export interface ScanOptions extends KeyRange {
  /** At most this many entries (a non-negative integer); all when absent. */
  readonly limit?: number;
  /** Descending key order when true; the limit then keeps the largest keys. */
  readonly reverse?: boolean;
}

/** One write inside an atomic `batch`. */
export type BatchOp =
  | { readonly type: 'put'; readonly store: string; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: 'delete'; readonly store: string; readonly key: Uint8Array };

/**
 * A condition of a `batch`: `store`/`key` must hold exactly `value` (compared as plaintext
 * bytes), or be absent when `value` is undefined, at the moment the batch commits.
 */
export interface Expectation {
  readonly store: string;
  readonly key: Uint8Array;
  readonly value: Uint8Array | undefined;
}

/** Options of `batch`. */
export interface BatchOptions {
  /**
   * Compare-and-set: the batch commits only if every expectation holds, checked inside the
   * same transaction as the writes, so two writers that read the same value can never both
   * replace it. Otherwise it writes nothing and fails with StorageError CONFLICT.
   */
  readonly expect?: readonly Expectation[];
}

/** The interface the messaging core programs against; every backend implements it. */
export interface KeyValueStore {
  /** Names of the stores this handle accepts. */
  readonly stores: readonly string[];
  /** The value under `key` in `store`, or undefined. */
  get(store: string, key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Stores `value` under `key`, replacing any previous value; durable once resolved. */
  put(store: string, key: Uint8Array, value: Uint8Array): Promise<void>;
  /** Removes `key` (no error when absent); durable once resolved. */
  delete(store: string, key: Uint8Array): Promise<void>;
  /** Entries in key order (descending with `reverse`), bounded by the range and `limit`. */
  scan(store: string, options?: ScanOptions): Promise<Entry[]>;
  /** How many keys lie in the range (the whole store when absent). */
  count(store: string, range?: KeyRange): Promise<number>;
  /**
   * Applies every op or none, in order (a later op on the same key wins); durable once resolved.
   * With `options.expect`, only if each expectation holds (else CONFLICT, nothing written).
   */
  batch(ops: readonly BatchOp[], options?: BatchOptions): Promise<void>;
  /** Releases the handle; later calls fail with StorageError CLOSED. Idempotent. */
  close(): Promise<void>;
}

/**
 * Turns data written under the previous schema version into the shape of this one.
 * It reads through `db` and returns the writes to make; they are applied in one atomic
 * batch together with the version bump, so a crash mid-migration leaves the old version
 * intact and the migration simply runs again on the next open.
 */
export type Migration = (db: KeyValueStore) => Promise<readonly BatchOp[]>;

/** Stores and data version of a database, declared up front (IndexedDB creates object stores only during an upgrade). */
export interface StorageSchema {
  /** Data version, an integer >= 1; raised whenever a migration is added. */
  readonly version: number;
  /** Store names: 1-64 characters of [A-Za-z0-9_.-], not starting with "__" (reserved). */
  readonly stores: readonly string[];
  /** Stores that earlier versions had and whose data is to be deleted on open. Data is never dropped implicitly. */
  readonly dropped?: readonly string[];
  /** `migrations[v]` upgrades data from version v-1 to v. */
  readonly migrations?: Readonly<Record<number, Migration>>;
}
