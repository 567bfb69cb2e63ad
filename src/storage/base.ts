/**
 * Argument checks and range arithmetic shared by every backend, so that memory, SQLite,
 * IndexedDB and the encrypted wrapper reject the same misuse with the same errors and
 * read ranges identically (after datastore-core's `BaseDatastore`).
 */
import { assertBytes, assertInteger } from '../util/errors.ts';
import { StorageError } from './errors.ts';
import { compareBytes, prefixEnd } from './keys.ts';
import type {
  BatchOp,
  BatchOptions,
  Entry,
  Expectation,
  KeyRange,
  KeyValueStore,
  ScanOptions,
} from './types.ts';

/**
 * Longest accepted key. Keys are indexed and compared on every lookup; long keys are a
 * design smell (hash them), and a bound keeps every backend's index pages healthy.
 */
export const MAX_KEY_BYTES = 1024;

/** One end of a normalized range. */
export interface Bound {
  readonly key: Uint8Array;
  /** True when the bound itself is excluded. */
  readonly open: boolean;
}

/** A range reduced to at most one lower and one upper bound; `empty` when nothing can match. */
export interface NormalizedRange {
  readonly lower?: Bound;
  readonly upper?: Bound;
  readonly empty: boolean;
}

/** A backend's own scan request after checks: range, limit (Infinity when none), direction. */
export interface ScanRequest {
  readonly range: NormalizedRange;
  readonly limit: number;
  readonly reverse: boolean;
}

function tighterLower(a: Bound | undefined, b: Bound): Bound {
  if (a === undefined) return b;
  const c = compareBytes(a.key, b.key);
  return c > 0 ? a : c < 0 ? b : a.open ? a : b;
}

function tighterUpper(a: Bound | undefined, b: Bound): Bound {
  if (a === undefined) return b;
  const c = compareBytes(a.key, b.key);
  return c < 0 ? a : c > 0 ? b : a.open ? a : b;
}

function checkKey(name: string, key: unknown): asserts key is Uint8Array {
  assertBytes(name, key);
  if (key.length > MAX_KEY_BYTES) {
    throw new RangeError(`"${name}" expected at most ${MAX_KEY_BYTES} bytes, got length=${key.length}`);
  }
}

/** Checks a range and reduces prefix/gt/gte/lt/lte to one bound on each side. */
export function normalizeRange(range: KeyRange | undefined, name = 'range'): NormalizedRange {
  if (range === undefined) return { empty: false };
  if (typeof range !== 'object' || range === null) throw new TypeError(`"${name}" expected an object`);
  let lower: Bound | undefined;
  let upper: Bound | undefined;
  let empty = false;
  if (range.prefix !== undefined) {
    checkKey(`${name}.prefix`, range.prefix);
    if (range.prefix.length > 0) lower = { key: range.prefix, open: false };
    const end = prefixEnd(range.prefix);
    if (end !== undefined) upper = { key: end, open: true };
  }
  if (range.gte !== undefined) {
    checkKey(`${name}.gte`, range.gte);
    lower = tighterLower(lower, { key: range.gte, open: false });
  }
  if (range.gt !== undefined) {
    checkKey(`${name}.gt`, range.gt);
    lower = tighterLower(lower, { key: range.gt, open: true });
  }
  if (range.lte !== undefined) {
    checkKey(`${name}.lte`, range.lte);
    upper = tighterUpper(upper, { key: range.lte, open: false });
  }
  if (range.lt !== undefined) {
    checkKey(`${name}.lt`, range.lt);
    upper = tighterUpper(upper, { key: range.lt, open: true });
  }
  if (upper !== undefined) {
    // Nothing is below the empty key.
    if (upper.key.length === 0 && upper.open) empty = true;
    if (lower !== undefined) {
      const c = compareBytes(lower.key, upper.key);
      if (c > 0 || (c === 0 && (lower.open || upper.open))) empty = true;
    }
  }
  return { ...(lower && { lower }), ...(upper && { upper }), empty };
}

/** The error of a compare-and-set batch whose expectation failed. */
export function conflict(x: Expectation): StorageError {
  return new StorageError('CONFLICT', `${x.store} record changed since it was read; nothing was written`);
}

/** Whether a stored value (undefined: absent) is what an expectation asks for. */
export function holds(x: Expectation, stored: Uint8Array | undefined): boolean {
  if (x.value === undefined || stored === undefined) return x.value === stored;
  return compareBytes(x.value, stored) === 0;
}

/** True when `key` lies inside `range`. */
export function inRange(range: NormalizedRange, key: Uint8Array): boolean {
  if (range.empty) return false;
  if (range.lower) {
    const c = compareBytes(key, range.lower.key);
    if (c < 0 || (c === 0 && range.lower.open)) return false;
  }
  if (range.upper) {
    const c = compareBytes(key, range.upper.key);
    if (c > 0 || (c === 0 && range.upper.open)) return false;
  }
  return true;
}

/**
 * Implements the public surface of `KeyValueStore` once: argument checks (TypeError /
 * RangeError for misuse, StorageError UNKNOWN_STORE for undeclared stores), the closed
 * state, and range normalization. Backends fill in the `do*` methods with checked input.
 */
export abstract class StoreBase implements KeyValueStore {
  readonly stores: readonly string[];
  private readonly storeSet: ReadonlySet<string>;
  private closedFlag = false;

  protected constructor(stores: readonly string[]) {
    this.stores = Object.freeze([...stores]);
    this.storeSet = new Set(stores);
  }

  protected abstract doGet(store: string, key: Uint8Array): Promise<Uint8Array | undefined>;
  protected abstract doScan(store: string, request: ScanRequest): Promise<Entry[]>;
  protected abstract doCount(store: string, range: NormalizedRange): Promise<number>;
  /** Applies `ops` atomically if every entry of `expect` (already checked, maybe empty) holds. */
  protected abstract doBatch(ops: readonly BatchOp[], expect: readonly Expectation[]): Promise<void>;
  protected abstract doClose(): Promise<void>;

  /** True once closed, by the caller or by the engine (see `markClosed`). */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** For backends whose engine can close the connection by itself (IndexedDB version change). */
  protected markClosed(): void {
    this.closedFlag = true;
  }

  protected checkOpen(): void {
    if (this.closedFlag) throw new StorageError('CLOSED', 'storage handle is closed');
  }

  protected checkStore(store: unknown, name = 'store'): asserts store is string {
    if (typeof store !== 'string') throw new TypeError(`"${name}" expected a string, got ${typeof store}`);
    if (!this.storeSet.has(store))
      throw new StorageError('UNKNOWN_STORE', `unknown store ${JSON.stringify(store)}`);
  }

  async get(store: string, key: Uint8Array): Promise<Uint8Array | undefined> {
    this.checkOpen();
    this.checkStore(store);
    checkKey('key', key);
    return this.doGet(store, key);
  }

  async put(store: string, key: Uint8Array, value: Uint8Array): Promise<void> {
    this.checkOpen();
    this.checkStore(store);
    checkKey('key', key);
    assertBytes('value', value);
    return this.doBatch([{ type: 'put', store, key, value }], []);
  }

  async delete(store: string, key: Uint8Array): Promise<void> {
    this.checkOpen();
    this.checkStore(store);
    checkKey('key', key);
    return this.doBatch([{ type: 'delete', store, key }], []);
  }

  async scan(store: string, options: ScanOptions = {}): Promise<Entry[]> {
    this.checkOpen();
    this.checkStore(store);
    const range = normalizeRange(options, 'options');
    let limit = Infinity;
    if (options.limit !== undefined) {
      assertInteger('options.limit', options.limit, 0, Number.MAX_SAFE_INTEGER);
      limit = options.limit;
    }
    if (options.reverse !== undefined && typeof options.reverse !== 'boolean') {
      throw new TypeError('"options.reverse" expected a boolean');
    }
    if (range.empty || limit === 0) return [];
    return this.doScan(store, { range, limit, reverse: options.reverse === true });
  }

  async count(store: string, range?: KeyRange): Promise<number> {
    this.checkOpen();
    this.checkStore(store);
    const r = normalizeRange(range);
    if (r.empty) return 0;
    return this.doCount(store, r);
  }

  async batch(ops: readonly BatchOp[], options: BatchOptions = {}): Promise<void> {
    this.checkOpen();
    if (typeof options !== 'object' || options === null) throw new TypeError('"options" expected an object');
    const expect = options.expect ?? [];
    if (!Array.isArray(expect)) throw new TypeError('"options.expect" expected an array');
    expect.forEach((x: Expectation, i) => {
      if (typeof x !== 'object' || x === null)
        throw new TypeError(`"options.expect[${i}]" expected an object`);
      this.checkStore(x.store, `options.expect[${i}].store`);
      checkKey(`options.expect[${i}].key`, x.key);
      if (x.value !== undefined) assertBytes(`options.expect[${i}].value`, x.value);
    });
    // Every op is checked before any is applied: a malformed batch writes nothing.
    if (!Array.isArray(ops)) throw new TypeError('"ops" expected an array');
    ops.forEach((op: BatchOp, i) => {
      if (typeof op !== 'object' || op === null) throw new TypeError(`"ops[${i}]" expected an object`);
      this.checkStore(op.store, `ops[${i}].store`);
      checkKey(`ops[${i}].key`, op.key);
      if (op.type === 'put') assertBytes(`ops[${i}].value`, op.value);
      else if (op.type !== 'delete') throw new TypeError(`"ops[${i}].type" expected "put" or "delete"`);
    });
    if (ops.length === 0 && expect.length === 0) return;
    return this.doBatch(ops, expect);
  }

  async close(): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    await this.doClose();
  }
}
