/**
 * Checked readers for untrusted wRPC JSON. Each names the full path of the offending field
 * (e.g. `transaction.inputs[0].sequence`) so a bad node answer is diagnosable, and fails
 * only with RpcFieldError (a DecodeError), never with an exception from deep inside.
 */
import { DecodeError } from '../../util/errors.ts';
import { parseHex } from '../../util/bytes.ts';

const U64_MAX = (1n << 64n) - 1n;

/** Bad field in wRPC JSON; `field` is its path from the decoded root. */
export class RpcFieldError extends DecodeError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('MALFORMED', `${field}: ${message}`);
    this.field = field;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** A JSON object (not null, not an array). */
export function readObject(v: unknown, field: string): Readonly<Record<string, unknown>> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new RpcFieldError(field, `expected an object, got ${describe(v)}`);
  }
  return v as Record<string, unknown>;
}

/** An own property, or undefined; never walks the prototype chain. */
export function prop(o: Readonly<Record<string, unknown>>, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** An unsigned 64-bit integer, whether parsed as number or bigint (FACTS §6.2). */
export function readU64(v: unknown, field: string): bigint {
  if (typeof v === 'bigint') {
    if (v < 0n || v > U64_MAX) throw new RpcFieldError(field, `expected a u64, got ${v}`);
    return v;
  }
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw new RpcFieldError(field, `expected a u64 integer, got ${describe(v)} ${String(v)}`);
}

/** An unsigned integer no larger than `max` (u8/u16/u32 fields). */
export function readUint(v: unknown, field: string, max: number): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max) return v;
  throw new RpcFieldError(field, `expected an integer in 0..${max}, got ${describe(v)} ${String(v)}`);
}

/** A finite JSON number (feerates, difficulty). */
export function readNumber(v: unknown, field: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'bigint') return Number(v);
  throw new RpcFieldError(field, `expected a number, got ${describe(v)}`);
}

/** A JSON boolean. */
export function readBool(v: unknown, field: string): boolean {
  if (typeof v === 'boolean') return v;
  throw new RpcFieldError(field, `expected a boolean, got ${describe(v)}`);
}

/** A JSON string. */
export function readString(v: unknown, field: string): string {
  if (typeof v === 'string') return v;
  throw new RpcFieldError(field, `expected a string, got ${describe(v)}`);
}

/** Hex string → bytes; `length` checks the decoded byte length. Either case is accepted. */
export function readHex(v: unknown, field: string, length?: number): Uint8Array {
  if (typeof v !== 'string') throw new RpcFieldError(field, `expected a hex string, got ${describe(v)}`);
  const bytes = parseHex(v);
  if (bytes === undefined) throw new RpcFieldError(field, 'expected an even-length hex string');
  if (length !== undefined && bytes.length !== length) {
    throw new RpcFieldError(field, `expected ${length} bytes, got ${bytes.length}`);
  }
  return bytes;
}

/** A JSON array mapped item by item; item paths are `field[i]`. */
export function readArray<T>(v: unknown, field: string, item: (x: unknown, path: string) => T): T[] {
  if (!Array.isArray(v)) throw new RpcFieldError(field, `expected an array, got ${describe(v)}`);
  const out: T[] = new Array<T>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = item(v[i], `${field}[${i}]`);
  return out;
}

/** `readArray` with its item reader bound, for passing where a field reader is expected. */
export function arrayOf<T>(item: (x: unknown, path: string) => T): (v: unknown, field: string) => T[] {
  return (v, field) => readArray(v, field, item);
}

/** `undefined` and `null` become undefined; anything else goes through `read`. */
export function readOptional<T>(
  v: unknown,
  field: string,
  read: (x: unknown, path: string) => T,
): T | undefined {
  return v === undefined || v === null ? undefined : read(v, field);
}
