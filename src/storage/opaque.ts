/**
 * Opaque keys at rest (docs/protocol.md "Storage key layout"). The encrypted wrapper seals
 * values but must leave keys in clear for the backend to index them; the keys the
 * application builds name contacts, message ids, timestamps and coins. This layer, above
 * the encrypted wrapper, replaces each key by a keyed hash of its parts before it reaches
 * the disk, and keeps the original key inside the sealed value so scans can return it.
 *
 * A tuple key (`keys.ts`) `(p_1, ..., p_n)` in store S becomes the concatenation of, per part:
 *   - `0x15 | u64be(p_n)` when p_n is the last part and an integer: counters stay ordered,
 *     so "newest first" scans keep working; they reveal how many, nothing more;
 *   - `0x01 | HMAC-SHA256(K, varbytes(S) | encodeKey(p_1, ..., p_i))[0..16]` otherwise.
 * A key that is not a tuple becomes `0xff | HMAC-SHA256(K, varbytes(S) | 0xff | key)[0..16]`.
 * K = HKDF-SHA256(storage key, info "p2pcomm/storage/v2/key-tag"), independent of the seal key.
 *
 * Each tag covers every part before it and the store name, so equal tuple prefixes still
 * give equal opaque prefixes (prefix scans work) while the same id under two prefixes or
 * two stores gives unrelated tags. What stays visible: how many keys share a prefix (e.g.
 * how many conversations, how many messages in each), and key lengths.
 *
 * What the layer supports: get / put / delete / batch on any key; scan and count over the
 * whole store or a prefix whose last part is not an integer, in opaque order (integers in
 * order under a common prefix, hashed parts in no meaningful order). Other ranges are
 * refused with a RangeError.
 *
 * Record (inside the seal): `u8 1 | varbytes(original key) | value`; on read the opaque key
 * is recomputed from the original one, so a record under the wrong key is CORRUPT.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ByteReader, ByteWriter } from '../util/binary.ts';
import { bytesToHex, equalBytes, utf8ToBytes, wipe } from '../util/bytes.ts';
import { assertBytes } from '../util/errors.ts';
import { MAX_KEY_BYTES, StoreBase, type NormalizedRange, type ScanRequest } from './base.ts';
import { StorageError } from './errors.ts';
import { decodeKey, encodeKey, prefixEnd, u64Key, type DecodedKeyPart } from './keys.ts';
import { META_STORE } from './schema.ts';
import type { BatchOp, Entry, KeyValueStore } from './types.ts';

const INFO_TAG = utf8ToBytes('p2pcomm/storage/v2/key-tag');
/** META_STORE record naming the key layout; absent means layout 1 (keys in clear). */
export const KEY_LAYOUT_KEY = utf8ToBytes('key-layout');
/** The layout this module writes. */
export const OPAQUE_KEY_LAYOUT = 2;

const RECORD_VERSION = 0x01;
const TAG_BYTES = 16;
const P_TAG = 0x01;
const P_UINT = 0x15;
const P_RAW = 0xff;

function tryDecode(key: Uint8Array): DecodedKeyPart[] | undefined {
  try {
    const parts = decodeKey(key);
    return parts.length > 0 ? parts : undefined;
  } catch {
    return undefined;
  }
}

class OpaqueKeyStore extends StoreBase {
  private readonly clear: ReadonlySet<string>;

  constructor(
    private readonly inner: KeyValueStore,
    private readonly tagKey: Uint8Array,
    clearStores: readonly string[],
  ) {
    super(inner.stores);
    this.clear = new Set([META_STORE, ...clearStores]);
  }

  private tag(store: string, input: Uint8Array): Uint8Array {
    const msg = new ByteWriter(8 + store.length + input.length).varBytes(utf8ToBytes(store)).bytes(input);
    return hmac(sha256, this.tagKey, msg.finish()).subarray(0, TAG_BYTES);
  }

  /** The opaque form of `key` in `store` (the module comment gives the layout). */
  opaqueKey(store: string, key: Uint8Array): Uint8Array {
    const parts = tryDecode(key);
    const w = new ByteWriter(1 + TAG_BYTES);
    if (parts === undefined) {
      w.u8(P_RAW).bytes(this.tag(store, Uint8Array.of(P_RAW, ...key)));
      return w.finish();
    }
    parts.forEach((part, i) => {
      if (i === parts.length - 1 && typeof part === 'bigint') w.u8(P_UINT).bytes(u64Key(part));
      else w.u8(P_TAG).bytes(this.tag(store, encodeKey(...parts.slice(0, i + 1))));
    });
    return w.finish();
  }

  /** The opaque prefix matching every key that starts with the tuple `prefix`. */
  private opaquePrefix(store: string, prefix: Uint8Array): Uint8Array {
    if (prefix.length === 0) return prefix;
    const parts = tryDecode(prefix);
    if (parts === undefined || !equalBytes(encodeKey(...parts), prefix)) {
      throw new RangeError('"prefix" expected whole key parts (storage/keys.ts) under opaque keys');
    }
    if (typeof parts[parts.length - 1] === 'bigint') {
      throw new RangeError('"prefix" may not end on an integer part under opaque keys');
    }
    const w = new ByteWriter();
    parts.forEach((_, i) => w.u8(P_TAG).bytes(this.tag(store, encodeKey(...parts.slice(0, i + 1)))));
    return w.finish();
  }

  /** The inner range for a normalized range that must be a prefix (or everything). */
  private innerRange(store: string, range: NormalizedRange): { prefix?: Uint8Array } {
    const { lower, upper } = range;
    if (lower === undefined && upper === undefined) return {};
    // normalizeRange turns `prefix` into [prefix, prefixEnd(prefix)); accept exactly that.
    if (lower !== undefined && !lower.open && upper !== undefined && upper.open) {
      const end = prefixEnd(lower.key);
      if (end !== undefined && equalBytes(end, upper.key)) {
        return { prefix: this.opaquePrefix(store, lower.key) };
      }
    }
    throw new RangeError('"options" under opaque keys may only give a prefix');
  }

  private wrap(key: Uint8Array, value: Uint8Array): Uint8Array {
    return new ByteWriter(value.length + key.length + 4)
      .u8(RECORD_VERSION)
      .varBytes(key)
      .bytes(value)
      .finish();
  }

  private unwrap(store: string, stored: Uint8Array, record: Uint8Array): Entry {
    const where = `${store}/${bytesToHex(stored)}`;
    try {
      const r = new ByteReader(record);
      if (r.u8('record version') !== RECORD_VERSION) throw new Error('unknown record version');
      const key = r.varBytes(MAX_KEY_BYTES, 'key');
      const value = r.rest();
      if (!equalBytes(this.opaqueKey(store, key), stored)) throw new Error('key does not match its record');
      return [key, value];
    } catch (cause) {
      throw new StorageError('CORRUPT', `opaque-key record ${where} is malformed`, { cause });
    }
  }

  protected async doGet(store: string, key: Uint8Array): Promise<Uint8Array | undefined> {
    if (this.clear.has(store)) return this.inner.get(store, key);
    const stored = this.opaqueKey(store, key);
    const record = await this.inner.get(store, stored);
    return record === undefined ? undefined : this.unwrap(store, stored, record)[1];
  }

  protected async doScan(store: string, { range, limit, reverse }: ScanRequest): Promise<Entry[]> {
    const bounds = this.clear.has(store) ? boundsOf(range) : this.innerRange(store, range);
    const entries = await this.inner.scan(store, {
      ...bounds,
      ...(Number.isFinite(limit) && { limit }),
      reverse,
    });
    return this.clear.has(store) ? entries : entries.map(([k, v]) => this.unwrap(store, k, v));
  }

  protected async doCount(store: string, range: NormalizedRange): Promise<number> {
    return this.inner.count(store, this.clear.has(store) ? boundsOf(range) : this.innerRange(store, range));
  }

  protected async doBatch(ops: readonly BatchOp[]): Promise<void> {
    await this.inner.batch(ops.map((op) => this.translate(op)));
  }

  /** An op on an original key as the op on its opaque key. */
  translate(op: BatchOp): BatchOp {
    if (this.clear.has(op.store)) return op;
    const key = this.opaqueKey(op.store, op.key);
    return op.type === 'put' ? { ...op, key, value: this.wrap(op.key, op.value) } : { ...op, key };
  }

  protected async doClose(): Promise<void> {
    wipe(this.tagKey);
    await this.inner.close();
  }
}

/** A normalized range back in `KeyRange` form, for stores passed through. */
function boundsOf(range: NormalizedRange): Record<string, Uint8Array> {
  return {
    ...(range.lower && (range.lower.open ? { gt: range.lower.key } : { gte: range.lower.key })),
    ...(range.upper && (range.upper.open ? { lt: range.upper.key } : { lte: range.upper.key })),
  };
}

/**
 * Wraps `inner` (the encrypted wrapper, whose values are sealed) so that keys reach it in
 * opaque form. A database still in layout 1 (clear keys) is converted on open, in one
 * atomic batch with its layout record: a crash leaves it in layout 1 and the next open
 * converts it again. `clearStores` pass through unchanged (their keys name no one).
 * Closing the result closes `inner`.
 */
export async function openOpaqueKeys(
  inner: KeyValueStore,
  storageKey: Uint8Array,
  clearStores: readonly string[] = [],
): Promise<KeyValueStore> {
  assertBytes('storageKey', storageKey, 32);
  const store = new OpaqueKeyStore(inner, hkdf(sha256, storageKey, undefined, INFO_TAG, 32), clearStores);
  const layout = await inner.get(META_STORE, KEY_LAYOUT_KEY);
  if (layout !== undefined) {
    if (layout.length !== 1 || layout[0] !== OPAQUE_KEY_LAYOUT) {
      throw new StorageError('VERSION_TOO_NEW', `unknown storage key layout ${bytesToHex(layout)}`);
    }
    return store;
  }
  const ops: BatchOp[] = [];
  const excluded = new Set([META_STORE, ...clearStores]);
  for (const name of inner.stores.filter((s) => !excluded.has(s))) {
    for (const [key, value] of await inner.scan(name)) {
      ops.push({ type: 'delete', store: name, key });
      ops.push(store.translate({ type: 'put', store: name, key, value }));
    }
  }
  ops.push({ type: 'put', store: META_STORE, key: KEY_LAYOUT_KEY, value: Uint8Array.of(OPAQUE_KEY_LAYOUT) });
  await inner.batch(ops);
  return store;
}

/**
 * Throws when a database was written with opaque keys: read with clear keys it would look
 * empty, and new writes would mix both layouts.
 */
export async function refuseOpaqueKeys(inner: KeyValueStore): Promise<void> {
  if ((await inner.get(META_STORE, KEY_LAYOUT_KEY)) !== undefined) {
    throw new StorageError('CORRUPT', 'database uses opaque keys; open it with opaqueKeys');
  }
}
