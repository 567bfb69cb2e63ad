/** Typed storage failures, shared by every backend so callers branch on one set of codes (STYLE §6). */
import { P2pCommError } from '../util/errors.ts';

/**
 * - CLOSED: the handle was closed (or the browser closed the connection under it).
 * - QUOTA_EXCEEDED: out of space (IndexedDB QuotaExceededError, SQLite SQLITE_FULL).
 * - CORRUPT: the database or a stored record is malformed.
 * - DECRYPT_FAILED: an encrypted value failed authentication (tampered, truncated or moved to another key).
 * - WRONG_KEY: the storage key is not the one this database was encrypted under.
 * - UNKNOWN_STORE: a store name not declared in the schema.
 * - VERSION_TOO_NEW: the database was written by a newer schema version than this code knows.
 * - MIGRATION_MISSING: the schema lacks a migration needed to reach its version.
 * - ABORTED: the transaction was aborted; none of its writes happened.
 * - CONFLICT: a compare-and-set batch found a value other than expected; none of its writes happened.
 * - PROFILE_IN_USE: another process (or handle) holds the profile directory open.
 * - IO: any other failure of the underlying engine.
 */
export type StorageErrorCode =
  | 'CLOSED'
  | 'QUOTA_EXCEEDED'
  | 'CORRUPT'
  | 'DECRYPT_FAILED'
  | 'WRONG_KEY'
  | 'UNKNOWN_STORE'
  | 'VERSION_TOO_NEW'
  | 'MIGRATION_MISSING'
  | 'ABORTED'
  | 'CONFLICT'
  | 'PROFILE_IN_USE'
  | 'IO';

/** Every storage failure that is not caller misuse (misuse throws TypeError/RangeError). */
export class StorageError extends P2pCommError<StorageErrorCode> {}
