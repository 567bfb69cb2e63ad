/**
 * The Node way to open a profile directory (a client's data: vault, sessions, queues),
 * Node-only like `sqlite.ts`. One process at a time: two processes over one profile would
 * each load the same ratchet state and encrypt under the same message keys, so the
 * directory is locked for as long as the handle is open and a second opener fails with
 * StorageError PROFILE_IN_USE naming the directory.
 *
 * The lock is an exclusive SQLite lock on `lock.sqlite` held in `locking_mode=EXCLUSIVE`:
 * an OS file lock (POSIX advisory lock, or LockFileEx on Windows) that the kernel drops when
 * the process ends, killed or not, so a leftover file never blocks the next start. It also
 * refuses a second handle in the same process (SQLite shares lock state per file).
 * (https://www.sqlite.org/pragma.html#pragma_locking_mode)
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { StorageError } from './errors.ts';
import { openStorage, type OpenStorageOptions } from './open.ts';
import { openSqliteStore, type SqliteOptions } from './sqlite.ts';
import type {
  BatchOp,
  BatchOptions,
  Entry,
  KeyRange,
  KeyValueStore,
  ScanOptions,
  StorageSchema,
} from './types.ts';

/** The subset of better-sqlite3 used for the lock. */
interface LockDatabase {
  pragma(sql: string): unknown;
  exec(sql: string): unknown;
  close(): void;
}
type LockDatabaseConstructor = new (path: string, options?: { timeout?: number }) => LockDatabase;

const BetterSqlite3 = createRequire(import.meta.url)('better-sqlite3') as LockDatabaseConstructor;

/** File names inside a profile directory. */
export const PROFILE_FILES = { lock: 'lock.sqlite', data: 'profile.sqlite' } as const;

/** Options of `openProfileDirectory`: sealing as in `openStorage`, SQLite tuning as in `openSqliteStore`. */
export interface ProfileDirectoryOptions extends OpenStorageOptions {
  readonly sqlite?: SqliteOptions;
}

/** Takes the directory's lock; PROFILE_IN_USE when another handle holds it. */
function lockDirectory(dir: string): LockDatabase {
  let db: LockDatabase | undefined;
  try {
    // No busy wait: the holder keeps the lock for as long as it runs.
    db = new BetterSqlite3(join(dir, PROFILE_FILES.lock), { timeout: 0 });
    db.pragma('locking_mode = EXCLUSIVE');
    // A write transaction takes the exclusive lock; in this mode it is kept after COMMIT.
    db.exec('BEGIN EXCLUSIVE; COMMIT');
    return db;
  } catch (e) {
    db?.close();
    const code = (e as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')))
      throw new StorageError('PROFILE_IN_USE', `profile directory ${dir} is open in another process`, {
        cause: e,
      });
    throw new StorageError('IO', `cannot lock profile directory ${dir}: ${String(e)}`, { cause: e });
  }
}

/** The sealed store, whose close also lets the directory go. */
class LockedProfile implements KeyValueStore {
  constructor(
    private readonly inner: KeyValueStore,
    private readonly lock: LockDatabase,
  ) {}
  get stores(): readonly string[] {
    return this.inner.stores;
  }
  get(store: string, key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.inner.get(store, key);
  }
  put(store: string, key: Uint8Array, value: Uint8Array): Promise<void> {
    return this.inner.put(store, key, value);
  }
  delete(store: string, key: Uint8Array): Promise<void> {
    return this.inner.delete(store, key);
  }
  scan(store: string, options?: ScanOptions): Promise<Entry[]> {
    return this.inner.scan(store, options);
  }
  count(store: string, range?: KeyRange): Promise<number> {
    return this.inner.count(store, range);
  }
  batch(ops: readonly BatchOp[], options?: BatchOptions): Promise<void> {
    return this.inner.batch(ops, options);
  }
  async close(): Promise<void> {
    try {
      await this.inner.close();
    } finally {
      this.lock.close();
    }
  }
}

/**
 * Opens the profile in directory `dir` (created, mode 0700, if missing) for this process
 * alone: locked, then the SQLite database in it opened, sealed and migrated. Closing the
 * handle releases the lock. StorageError PROFILE_IN_USE while another handle has it open.
 */
export async function openProfileDirectory(
  dir: string,
  schema: StorageSchema,
  options: ProfileDirectoryOptions,
): Promise<KeyValueStore> {
  if (typeof dir !== 'string' || dir.length === 0) throw new TypeError('"dir" expected a non-empty string');
  const path = resolve(dir);
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new StorageError('IO', `cannot create profile directory ${path}`, { cause: e });
  }
  const lock = lockDirectory(path);
  try {
    const { sqlite, ...sealing } = options;
    const raw = await openSqliteStore(join(path, PROFILE_FILES.data), schema, sqlite);
    return new LockedProfile(await openStorage(raw, schema, sealing), lock);
  } catch (e) {
    lock.close();
    throw e;
  }
}
