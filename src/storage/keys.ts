/**
 * Order-preserving keys. Stores compare keys as unsigned bytes (memcmp order), so a key
 * built from parts must sort the way the parts do: the tuple encoding below (the layout of
 * FoundationDB's tuple layer, reduced to the three types p2pComm keys need) guarantees
 * `compareBytes(encodeKey(a), encodeKey(b))` equals the part-by-part order of `a` and `b`,
 * and `encodeKey(...a)` is a byte prefix of `encodeKey(...a, ...more)`, so a prefix scan
 * over `encodeKey(conversationId)` returns exactly that conversation, in order.
 *
 * The encrypted wrapper alone stores keys in clear; under opaque keys (`opaque.ts`, the
 * default with a storage key) only a trailing integer keeps its order on disk.
 */
import { DecodeError, assertBytes } from '../util/errors.ts';
import { bytesToUtf8, utf8ToBytes } from '../util/bytes.ts';

/** A key component: raw bytes, a string (UTF-8), or an unsigned integer below 2^64. */
export type KeyPart = Uint8Array | string | number | bigint;

/** A decoded key component; integers always come back as bigint. */
export type DecodedKeyPart = Uint8Array | string | bigint;

const T_BYTES = 0x01;
const T_STRING = 0x02;
const T_UINT = 0x15;
const U64_MAX = (1n << 64n) - 1n;

/** Bytewise comparison (unsigned, a proper prefix sorts first): -1, 0 or 1. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * The smallest key greater than every key starting with `prefix`, or undefined when none
 * exists (empty prefix or all 0xff): the exclusive upper bound of a prefix scan.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  let i = prefix.length - 1;
  while (i >= 0 && prefix[i] === 0xff) i--;
  if (i < 0) return undefined;
  const end = prefix.slice(0, i + 1);
  end[i]! += 1;
  return end;
}

/** A big-endian 8-byte counter or timestamp, the simplest order-preserving key. */
export function u64Key(value: number | bigint): Uint8Array {
  const v = toU64('value', value);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v, false);
  return out;
}

function toU64(name: string, value: number | bigint): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`"${name}" expected a safe integer, got ${value}`);
    value = BigInt(value);
  }
  if (value < 0n || value > U64_MAX) throw new RangeError(`"${name}" expected 0..2^64-1, got ${value}`);
  return value;
}

/**
 * Escapes 0x00 as 0x00 0xff and ends with 0x00, so a shorter string sorts before its
 * extensions and no encoded part is a prefix of a different one.
 */
function pushEscaped(out: number[], bytes: Uint8Array): void {
  for (const b of bytes) {
    out.push(b);
    if (b === 0x00) out.push(0xff);
  }
  out.push(0x00);
}

/** Encodes parts into one order-preserving key (see the module comment). */
export function encodeKey(...parts: readonly KeyPart[]): Uint8Array {
  const out: number[] = [];
  parts.forEach((part, i) => {
    if (part instanceof Uint8Array) {
      out.push(T_BYTES);
      pushEscaped(out, part);
    } else if (typeof part === 'string') {
      out.push(T_STRING);
      pushEscaped(out, utf8ToBytes(part));
    } else if (typeof part === 'number' || typeof part === 'bigint') {
      const v = toU64(`parts[${i}]`, part);
      out.push(T_UINT);
      for (let shift = 56n; shift >= 0n; shift -= 8n) out.push(Number((v >> shift) & 0xffn));
    } else {
      throw new TypeError(`"parts[${i}]" expected Uint8Array, string, number or bigint, got ${typeof part}`);
    }
  });
  return Uint8Array.from(out);
}

function readEscaped(key: Uint8Array, start: number): [Uint8Array, number] {
  const out: number[] = [];
  let i = start;
  while (i < key.length) {
    const b = key[i]!;
    if (b !== 0x00) {
      out.push(b);
      i++;
    } else if (key[i + 1] === 0xff) {
      out.push(0x00);
      i += 2;
    } else {
      return [Uint8Array.from(out), i + 1];
    }
  }
  throw new DecodeError('TRUNCATED', `key part starting at offset ${start} is not terminated`);
}

/** Splits a key made by `encodeKey` back into its parts; hostile input throws DecodeError. */
export function decodeKey(key: Uint8Array): DecodedKeyPart[] {
  assertBytes('key', key);
  const parts: DecodedKeyPart[] = [];
  let i = 0;
  while (i < key.length) {
    const type = key[i]!;
    if (type === T_BYTES || type === T_STRING) {
      const [bytes, next] = readEscaped(key, i + 1);
      if (type === T_BYTES) {
        parts.push(bytes);
      } else {
        try {
          parts.push(bytesToUtf8(bytes));
        } catch (cause) {
          throw new DecodeError('MALFORMED', `key part at offset ${i} is not valid UTF-8`, { cause });
        }
      }
      i = next;
    } else if (type === T_UINT) {
      if (i + 9 > key.length)
        throw new DecodeError('TRUNCATED', `integer key part at offset ${i} is truncated`);
      parts.push(new DataView(key.buffer, key.byteOffset + i + 1, 8).getBigUint64(0, false));
      i += 9;
    } else {
      throw new DecodeError('UNKNOWN_TYPE', `unknown key part type 0x${type.toString(16)} at offset ${i}`);
    }
  }
  return parts;
}
