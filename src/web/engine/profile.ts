/**
 * What the web app keeps in the browser, in one IndexedDB database:
 *
 *   profile          (clear)  "vault" -> vault bytes (sealed by the password, core/vault)
 *                             "name"  -> display name, UTF-8 (the lock screen greets by name)
 *   app.contacts     (sealed) contact id -> signed contact card
 *   app.state        (sealed) "sessions" -> ratchet sessions; "settings" -> settings JSON
 *   app.proofs       (sealed) message id -> chain evidence of an incoming message
 *   delivery.*       (sealed) the delivery engine's queues, inbox and coins (DELIVERY_STORES)
 *   requests         (sealed) message requests from strangers, and blocked identities
 *
 * Sealed stores are encrypted at rest (storage/encrypted.ts) under a storage key derived from
 * the identity seed, and their keys reach the disk as keyed hashes (storage/opaque.ts), so
 * nothing but the vault and the name is readable without the password: no contact, message
 * id, timestamp or coin. A profile written with clear keys is converted when it is unlocked.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { DELIVERY_STORES } from '../../core/delivery/store.ts';
import { ATTACHMENT_STORES } from '../../core/attachments/store.ts';
import { REQUESTS_STORE } from '../../core/requests/requests.ts';
import { openStorage } from '../../storage/open.ts';
import { openIndexedDbStore } from '../../storage/indexeddb.ts';
import type { KeyValueStore, StorageSchema } from '../../storage/types.ts';
import { utf8ToBytes } from '../../util/bytes.ts';

/** The readable store: the password-sealed vault and the display name. */
export const PROFILE_STORE = 'profile';
/** Contact cards by contact id. */
export const CONTACTS_STORE = 'app.contacts';
/** Session state and settings. */
export const STATE_STORE = 'app.state';
/** Chain evidence of incoming messages, by message id. */
export const PROOFS_STORE = 'app.proofs';

/** The database layout, version 1. */
export const WEB_SCHEMA: StorageSchema = {
  version: 1,
  stores: [
    PROFILE_STORE,
    CONTACTS_STORE,
    STATE_STORE,
    PROOFS_STORE,
    ...DELIVERY_STORES,
    REQUESTS_STORE,
    // Added without a data migration: a new store starts empty (storage/indexeddb.ts).
    ...ATTACHMENT_STORES,
  ],
};

/** Keys of single records. */
export const KEYS = {
  vault: utf8ToBytes('vault'),
  name: utf8ToBytes('name'),
  sessions: utf8ToBytes('sessions'),
  settings: utf8ToBytes('settings'),
} as const;

/** The IndexedDB database name used when none is given. */
export const DEFAULT_DATABASE = 'p2pcomm';

const STORAGE_SALT = utf8ToBytes('p2pcomm/v1/web');
const STORAGE_INFO = utf8ToBytes('p2pcomm/v1/web/storage-key');

/**
 * The storage key of an identity: HKDF-SHA256 (RFC 5869) of its seed under a label of its
 * own, so it is independent of every other key derived from the seed (identity.ts).
 */
export function storageKeyOf(seed: Uint8Array): Uint8Array {
  return hkdf(sha256, seed, STORAGE_SALT, STORAGE_INFO, 32);
}

/** Opens the database structurally; only `profile` is meaningful before the storage key exists. */
export function openRawProfile(name: string): Promise<KeyValueStore> {
  return openIndexedDbStore(name, WEB_SCHEMA);
}

/** Seals `raw` under the identity's storage key (closing `raw` on failure). */
export function sealProfile(raw: KeyValueStore, storageKey: Uint8Array): Promise<KeyValueStore> {
  return openStorage(raw, WEB_SCHEMA, { storageKey, clearStores: [PROFILE_STORE] });
}
