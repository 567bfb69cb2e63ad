/**
 * Storage, runtime-independent part: the interface, key helpers, errors, the in-memory
 * backend, encryption at rest and migrations. Import backends through the runtime entry
 * points instead of this file: `src/storage/browser.ts` (IndexedDB) in code bundled for
 * the browser, `src/storage/node.ts` (SQLite) in Node, so a browser bundle never pulls in
 * better-sqlite3 (STYLE §9).
 */
export type {
  BatchOp,
  BatchOptions,
  Entry,
  Expectation,
  KeyRange,
  KeyValueStore,
  Migration,
  ScanOptions,
  StorageSchema,
} from './types.ts';
export { StorageError, type StorageErrorCode } from './errors.ts';
export {
  compareBytes,
  decodeKey,
  encodeKey,
  prefixEnd,
  u64Key,
  type DecodedKeyPart,
  type KeyPart,
} from './keys.ts';
export { MAX_KEY_BYTES } from './base.ts';
export { META_STORE, migrate } from './schema.ts';
export { MemoryDatabase, openMemoryStore } from './memory.ts';
export { openEncryptedStore, type EncryptionOptions } from './encrypted.ts';
export { openStorage, type OpenStorageOptions } from './open.ts';
