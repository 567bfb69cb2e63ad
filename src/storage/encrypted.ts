/**
 * Encryption at rest over any backend: every value is sealed with XChaCha20-Poly1305
 * under a key derived from the 32-byte storage key (which the caller derives from the
 * unlocked vault). Its 192-bit nonces are drawn at random for every write, safe at any
 * write count a device will ever reach, so no nonce counter has to be stored and kept
 * consistent across crashes.
 *
 * Record layout: `0x01 (version) || nonce (24) || ciphertext || tag (16)`.
 * Associated data: `version || LEB128 len(store) || store || key`, so a value copied or moved to
 * another key or store fails authentication (DECRYPT_FAILED) instead of being read as the
 * wrong record. Tampering fails the same way: garbage is never returned.
 *
 * What this does not hide or prevent: keys, store names, value sizes and write times are
 * visible to whoever reads the disk (keys stay in clear so backends can order them: never
 * put a secret in a key); and an attacker who can write the disk can delete a record or
 * roll one back to an older sealed value of the same key, since per-record sealing cannot
 * prove freshness.
 *
 * A key check (an HKDF output, revealing nothing about the key) in the reserved meta
 * store tells a wrong storage key (WRONG_KEY, at open) apart from a damaged record.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ByteWriter } from '../util/binary.ts';
import { bytesToHex, equalBytes, randomBytes, utf8ToBytes, wipe } from '../util/bytes.ts';
import { assertBytes } from '../util/errors.ts';
import { StoreBase, conflict, holds, type NormalizedRange, type ScanRequest } from './base.ts';
import { StorageError } from './errors.ts';
import { META_STORE } from './schema.ts';
import type { BatchOp, Entry, Expectation, KeyValueStore } from './types.ts';

const RECORD_VERSION = 0x01;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + NONCE_BYTES;
const KEY_CHECK_KEY = utf8ToBytes('storage-key-check');

// HKDF (RFC 5869) separates the sealing key from the key check, so publishing the check
// value reveals nothing usable against the sealing key.
const INFO_SEAL = utf8ToBytes('p2pcomm/storage/v1/seal');
const INFO_CHECK = utf8ToBytes('p2pcomm/storage/v1/key-check');

/** Options of `openEncryptedStore`. */
export interface EncryptionOptions {
  /**
   * Stores whose values pass through unchanged because the caller seals them itself: the
   * identity vault (sealed under the password key) must be readable before the storage
   * key, derived from it, exists.
   */
  readonly clearStores?: readonly string[];
}

function associatedData(store: string, key: Uint8Array): Uint8Array {
  return new ByteWriter(16 + store.length + key.length)
    .u8(RECORD_VERSION)
    .varBytes(utf8ToBytes(store))
    .bytes(key)
    .finish();
}

class EncryptedStore extends StoreBase {
  private readonly clear: ReadonlySet<string>;

  constructor(
    private readonly inner: KeyValueStore,
    private readonly sealKey: Uint8Array,
    clearStores: readonly string[],
  ) {
    super(inner.stores);
    this.clear = new Set([META_STORE, ...clearStores]);
  }

  private seal(store: string, key: Uint8Array, value: Uint8Array): Uint8Array {
    if (this.clear.has(store)) return value;
    const nonce = randomBytes(NONCE_BYTES);
    const sealed = xchacha20poly1305(this.sealKey, nonce, associatedData(store, key)).encrypt(value);
    const out = new Uint8Array(HEADER_BYTES + sealed.length);
    out[0] = RECORD_VERSION;
    out.set(nonce, 1);
    out.set(sealed, HEADER_BYTES);
    return out;
  }

  private open(store: string, key: Uint8Array, record: Uint8Array): Uint8Array {
    if (this.clear.has(store)) return record;
    const where = `${store}/${bytesToHex(key)}`;
    if (record.length < HEADER_BYTES + TAG_BYTES) {
      throw new StorageError('CORRUPT', `sealed record ${where} is truncated (${record.length} bytes)`);
    }
    if (record[0] !== RECORD_VERSION) {
      throw new StorageError('CORRUPT', `sealed record ${where} has unknown version ${record[0]}`);
    }
    const nonce = record.subarray(1, HEADER_BYTES);
    try {
      return xchacha20poly1305(this.sealKey, nonce, associatedData(store, key)).decrypt(
        record.subarray(HEADER_BYTES),
      );
    } catch (cause) {
      throw new StorageError('DECRYPT_FAILED', `sealed record ${where} failed authentication`, { cause });
    }
  }

  protected async doGet(store: string, key: Uint8Array): Promise<Uint8Array | undefined> {
    const record = await this.inner.get(store, key);
    return record === undefined ? undefined : this.open(store, key, record);
  }

  protected async doScan(store: string, { range, limit, reverse }: ScanRequest): Promise<Entry[]> {
    const entries = await this.inner.scan(store, {
      ...boundsOf(range),
      ...(Number.isFinite(limit) && { limit }),
      reverse,
    });
    return entries.map(([k, v]) => [k, this.open(store, k, v)] as const);
  }

  protected async doCount(store: string, range: NormalizedRange): Promise<number> {
    return this.inner.count(store, boundsOf(range));
  }

  protected async doBatch(ops: readonly BatchOp[], expect: readonly Expectation[]): Promise<void> {
    // A sealed expectation is checked on the plaintext, then handed down as "the record is
    // still these exact sealed bytes": every write draws a fresh nonce, so any rewrite since
    // this read, even of the same plaintext, fails the inner compare-and-set.
    const inner: Expectation[] = [];
    for (const x of expect) {
      const record = await this.inner.get(x.store, x.key);
      if (!holds(x, record === undefined ? undefined : this.open(x.store, x.key, record))) throw conflict(x);
      inner.push({ store: x.store, key: x.key, value: record });
    }
    const sealed = ops.map((op): BatchOp =>
      op.type === 'put' ? { ...op, value: this.seal(op.store, op.key, op.value) } : op,
    );
    await this.inner.batch(sealed, { expect: inner });
  }

  protected async doClose(): Promise<void> {
    wipe(this.sealKey);
    await this.inner.close();
  }
}

/** A normalized range back in `KeyRange` form, for the inner store. */
function boundsOf(range: NormalizedRange): {
  gt?: Uint8Array;
  gte?: Uint8Array;
  lt?: Uint8Array;
  lte?: Uint8Array;
} {
  return {
    ...(range.lower && (range.lower.open ? { gt: range.lower.key } : { gte: range.lower.key })),
    ...(range.upper && (range.upper.open ? { lt: range.upper.key } : { lte: range.upper.key })),
  };
}

/**
 * Wraps `inner` so that values are sealed at rest under `storageKey` (32 bytes; the
 * wrapper derives its own keys and does not keep this one). The first open of a database
 * records a key check; a later open with another key fails with StorageError WRONG_KEY.
 * Closing the wrapper closes `inner`.
 */
export async function openEncryptedStore(
  inner: KeyValueStore,
  storageKey: Uint8Array,
  options: EncryptionOptions = {},
): Promise<KeyValueStore> {
  assertBytes('storageKey', storageKey, 32);
  const clearStores = options.clearStores ?? [];
  for (const name of clearStores) {
    if (!inner.stores.includes(name))
      throw new StorageError('UNKNOWN_STORE', `unknown store ${JSON.stringify(name)}`);
  }
  const check = hkdf(sha256, storageKey, undefined, INFO_CHECK, 32);
  const stored = await inner.get(META_STORE, KEY_CHECK_KEY);
  if (stored === undefined) {
    await inner.put(META_STORE, KEY_CHECK_KEY, check);
  } else if (!equalBytes(stored, check)) {
    throw new StorageError('WRONG_KEY', 'storage key does not match the key this database was sealed with');
  }
  return new EncryptedStore(inner, hkdf(sha256, storageKey, undefined, INFO_SEAL, 32), clearStores);
}
