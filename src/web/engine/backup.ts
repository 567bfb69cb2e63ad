/**
 * The backup file: the vault exactly as stored (sealed by the password, core/vault), the
 * display name, and the records of the sealed stores that make up contacts and history,
 * the latter sealed with XChaCha20-Poly1305 under a key derived from the identity seed, so the
 * whole file opens with the vault password only.
 *
 *   "p2pb" | u8 version=4 | varbytes vault | varbytes name (UTF-8) | nonce[24]
 *   | ciphertext = AEAD(backupKey, nonce, aad = every byte before it)(
 *       varuint n | n × (u8 store index into BACKUP_STORES | varbytes key | varbytes value))
 *
 * The records are those of the profile layout (profile.ts, WEB_SCHEMA): contact cards, chain
 * evidence, the delivery engine's messages, index, cursor and processed coins, so the
 * restored engine resumes where the exported one stood (unfinished messages go on, coins
 * already handled are not fetched again), and the message requests with the block list
 * (src/core/requests), so a restore neither loses a waiting request nor lets a blocked
 * identity back in. Version 3 added the requests store as the last index of BACKUP_STORES;
 * version 4 added, as the next index, the one-time pre-keys each contact handed over in
 * session traffic (ONE_TIME_KEYS_RECORDS, below), so that the sessions a restored client must
 * start anew start with one of them (docs/crypto.md §1). Files of versions 2 and 3 (no
 * requests, resp. no one-time keys, the same indexes otherwise) are still restored, other
 * versions are refused (BAD_BACKUP). Ratchet sessions and pre-keys are not in the file:
 * restoring a ratchet state that contacts have moved past would break those sessions, and a
 * file that outlives its pre-keys' grace window would undo their deletion (a copy of the file
 * and the seed would open first messages sent to them, docs/crypto.md §1). A restored
 * identity makes new pre-keys and a new card; new sessions start from the contacts' cards,
 * which the file carries in their newest form. A restored request keeps the sender's card in
 * the compact form its first message carried, so answering it needs the sender's invite (or a
 * new first message, sealed to the new card). Nor are settings: node addresses belong to
 * the device.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { bytesToUtf8, equalBytes, randomBytes, utf8ToBytes } from '../../util/bytes.ts';
import { DecodeError } from '../../util/errors.ts';
import { DELIVERY_STORES } from '../../core/delivery/store.ts';
import { AppApiError } from '../app-api.ts';
import { REQUESTS_STORE } from '../../core/requests/requests.ts';
import { CONTACTS_STORE, PROOFS_STORE } from './profile.ts';
import { MAX_ONE_TIME_BATCH, MAX_ONE_TIME_BATCH_BYTES } from '../../core/session/one-time-batch.ts';

const MAGIC = utf8ToBytes('p2pb');
const VERSION = 4;
/** Version 3, still restored: the same layout without the one-time keys. */
const VERSION_3 = 3;
/** Version 2, still restored: the same layout without the requests and one-time keys. */
const VERSION_2 = 2;
const NONCE_BYTES = 24;
const MAX_VAULT_BYTES = 1024;
const MAX_NAME_BYTES = 256;
/** Bounds that only a damaged or hostile file reaches (a message record is a few KiB). */
const MAX_RECORDS = 10_000_000;
const MAX_KEY_BYTES = 1024;
const MAX_VALUE_BYTES = 1 << 20;

/**
 * The sealed stores a backup carries (a record names its store by index in this list), in
 * the order they are read on export. The engine keeps running meanwhile and each store is
 * read on its own, so the order makes a late write harmless: progress (processed coins, the
 * cursor) is read before the index and messages it vouches for, so a restored engine may
 * handle a coin twice, which it deduplicates by message id, but never skips one; evidence
 * and contacts, written after the messages they concern, come next; requests and blocks,
 * added in version 3, are last so that every earlier index keeps its meaning.
 */
export const BACKUP_STORES: readonly string[] = [
  ...[...DELIVERY_STORES].reverse(),
  PROOFS_STORE,
  CONTACTS_STORE,
  REQUESTS_STORE,
];

/**
 * Not a database store: the records of a contact's one-time pre-key batch, read from the
 * session state on export and given back to the session manager on restore, which checks
 * each batch's signature again (session/one-time-batch.ts).
 *
 *   key = the contact id (UTF-8) | value = varbytes signed batch | u8 k | k × u32 unused key id
 */
export const ONE_TIME_KEYS_RECORDS = 'backup.one-time-keys';
/** What a file of the current version carries: the stores, then the one-time keys. */
const FILE_STORES: readonly string[] = [...BACKUP_STORES, ONE_TIME_KEYS_RECORDS];
/** The stores of a version 3 file. */
const FILE_STORES_V3 = BACKUP_STORES;
/** The stores of a version 2 file. */
const FILE_STORES_V2 = BACKUP_STORES.slice(0, -1);

function storesOf(version: number): readonly string[] {
  return version === VERSION_2 ? FILE_STORES_V2 : version === VERSION_3 ? FILE_STORES_V3 : FILE_STORES;
}

/** The value of a `ONE_TIME_KEYS_RECORDS` record. */
export function encodeOneTimeRecord(batch: Uint8Array, unused: readonly number[]): Uint8Array {
  const w = new ByteWriter(batch.length + 16).varBytes(batch).u8(unused.length);
  for (const id of unused) w.u32(id);
  return w.finish();
}

/** Reads `encodeOneTimeRecord` output; DecodeError when damaged. */
export function decodeOneTimeRecord(value: Uint8Array): { batch: Uint8Array; unused: number[] } {
  const r = new ByteReader(value);
  const batch = r.varBytes(MAX_ONE_TIME_BATCH_BYTES, 'one-time batch');
  const n = r.u8('unused count');
  if (n > MAX_ONE_TIME_BATCH) throw new DecodeError('MALFORMED', `${n} unused one-time keys`);
  const unused: number[] = [];
  for (let i = 0; i < n; i++) unused.push(r.u32('unused id'));
  r.end('one-time keys record');
  return { batch, unused };
}
const INFO = utf8ToBytes('p2pcomm/v1/web/backup-key');

/** One record of a sealed store. */
export interface BackupRecord {
  /** One of `BACKUP_STORES`, or `ONE_TIME_KEYS_RECORDS`. */
  readonly store: string;
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** What a backup holds. */
export interface BackupContents {
  readonly vault: Uint8Array;
  readonly displayName: string;
  readonly records: readonly BackupRecord[];
}

function backupKey(seed: Uint8Array): Uint8Array {
  return hkdf(sha256, seed, undefined, INFO, 32);
}

/**
 * Writes the backup file of `contents`, sealing the records under a key derived from `seed`.
 * `version` 2 or 3 writes an earlier format (tests of its restore; version 2 cannot hold
 * requests, neither can hold one-time keys).
 */
export function encodeBackup(
  contents: BackupContents,
  seed: Uint8Array,
  version: typeof VERSION | typeof VERSION_3 | typeof VERSION_2 = VERSION,
): Uint8Array {
  const stores = storesOf(version);
  const head = new ByteWriter()
    .bytes(MAGIC)
    .u8(version)
    .varBytes(contents.vault)
    .varBytes(utf8ToBytes(contents.displayName))
    .finish();
  const body = new ByteWriter().varUint(contents.records.length);
  for (const r of contents.records) {
    const index = stores.indexOf(r.store);
    if (index < 0) throw new RangeError(`"records" holds a record of store "${r.store}", not backed up`);
    body.u8(index).varBytes(r.key).varBytes(r.value);
  }
  const nonce = randomBytes(NONCE_BYTES);
  const aad = new ByteWriter().bytes(head).bytes(nonce).finish();
  const sealed = xchacha20poly1305(backupKey(seed), nonce, aad).encrypt(body.finish());
  return new ByteWriter().bytes(aad).bytes(sealed).finish();
}

/** The parts of a backup file readable without the password; BAD_BACKUP when it is not one. */
export function readBackupHeader(file: Uint8Array): { vault: Uint8Array; displayName: string } {
  return parse(file).header;
}

/** Opens the sealed part with the seed the vault yielded; BAD_BACKUP when it fails. */
export function openBackup(file: Uint8Array, seed: Uint8Array): BackupContents {
  const p = parse(file);
  let body: Uint8Array;
  try {
    body = xchacha20poly1305(backupKey(seed), p.nonce, p.aad).decrypt(p.sealed);
  } catch (cause) {
    throw new AppApiError('BAD_BACKUP', 'The backup file is damaged', { cause });
  }
  try {
    const r = new ByteReader(body);
    const n = r.varUint('record count');
    if (n > MAX_RECORDS) throw new AppApiError('BAD_BACKUP', 'The backup file is damaged');
    const records: BackupRecord[] = [];
    const stores = storesOf(p.version);
    for (let i = 0; i < n; i++) {
      const store = stores[r.u8('store')];
      if (store === undefined) throw new AppApiError('BAD_BACKUP', 'The backup file is damaged');
      records.push({
        store,
        key: r.varBytes(MAX_KEY_BYTES, 'key'),
        value: r.varBytes(MAX_VALUE_BYTES, 'value'),
      });
    }
    r.end('backup');
    return { ...p.header, records };
  } catch (cause) {
    if (cause instanceof AppApiError) throw cause;
    throw new AppApiError('BAD_BACKUP', 'The backup file is damaged', { cause });
  }
}

function parse(file: Uint8Array): {
  version: number;
  header: { vault: Uint8Array; displayName: string };
  nonce: Uint8Array;
  aad: Uint8Array;
  sealed: Uint8Array;
} {
  if (!(file instanceof Uint8Array)) throw new TypeError('"file" expected a Uint8Array');
  try {
    const r = new ByteReader(file);
    if (!equalBytes(r.bytes(MAGIC.length, 'magic'), MAGIC))
      throw new AppApiError('BAD_BACKUP', 'Not a p2pComm backup file');
    const version = r.u8('version');
    if (version !== VERSION && version !== VERSION_3 && version !== VERSION_2)
      throw new AppApiError('BAD_BACKUP', 'This backup was made by another version of p2pComm');
    const vault = r.varBytes(MAX_VAULT_BYTES, 'vault');
    const displayName = bytesToUtf8(r.varBytes(MAX_NAME_BYTES, 'name'));
    const nonce = r.bytes(NONCE_BYTES, 'nonce');
    const aadLength = r.offset;
    return {
      version,
      header: { vault, displayName },
      nonce,
      aad: file.subarray(0, aadLength),
      sealed: r.rest(),
    };
  } catch (cause) {
    if (cause instanceof AppApiError) throw cause;
    if (cause instanceof DecodeError || cause instanceof TypeError)
      throw new AppApiError('BAD_BACKUP', 'Not a p2pComm backup file', { cause });
    throw cause;
  }
}
