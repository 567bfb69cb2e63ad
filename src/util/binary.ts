/**
 * Little-endian binary writer and bounds-checked reader. Shared by the Kaspa canonical
 * transaction encoding (FACTS §3.3) and p2pComm's own wire formats, so that every decoder
 * fails with a typed DecodeError instead of an exception from deep inside.
 */
import { DecodeError } from './errors.ts';
import { bytesToUtf8, utf8ToBytes } from './bytes.ts';

const U64_MAX = (1n << 64n) - 1n;

/** Growable byte buffer with little-endian integer writers. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private len = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.reserve(1);
    this.view.setUint8(this.len, v);
    this.len += 1;
    return this;
  }

  u16(v: number): this {
    this.reserve(2);
    this.view.setUint16(this.len, v, true);
    this.len += 2;
    return this;
  }

  u32(v: number): this {
    this.reserve(4);
    this.view.setUint32(this.len, v, true);
    this.len += 4;
    return this;
  }

  u64(v: bigint | number): this {
    const x = BigInt(v);
    if (x < 0n || x > U64_MAX) throw new RangeError(`u64 out of range: ${x}`);
    this.reserve(8);
    this.view.setBigUint64(this.len, x, true);
    this.len += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** u64 little-endian length prefix then the bytes (Kaspa "varbytes", FACTS §3.3). */
  varBytes64(b: Uint8Array): this {
    return this.u64(b.length).bytes(b);
  }

  /** Unsigned LEB128 length prefix then the bytes (compact p2pComm wire formats). */
  varBytes(b: Uint8Array): this {
    return this.varUint(b.length).bytes(b);
  }

  /** Unsigned LEB128 integer up to 2^53 - 1. */
  varUint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varUint out of range: ${v}`);
    let x = v;
    while (x >= 0x80) {
      this.u8((x % 0x80) | 0x80);
      x = Math.floor(x / 0x80);
    }
    return this.u8(x);
  }

  get length(): number {
    return this.len;
  }

  /** A copy of the written bytes. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Bounds-checked reader; every failure is a DecodeError naming what was being read. */
export class ByteReader {
  private readonly view: DataView;
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) {
      throw new DecodeError(
        'TRUNCATED',
        `truncated input reading ${what}: need ${n} bytes at offset ${this.pos}, have ${this.buf.length - this.pos}`,
      );
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(what = 'u64'): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /**
   * A u64 that must be a JS safe integer (times in ms, sizes): larger is DecodeError MALFORMED,
   * so a hostile value never turns into an imprecise number.
   */
  safeU64(what = 'u64'): number {
    const v = this.u64(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError('MALFORMED', `${what} out of range`);
    return Number(v);
  }

  bytes(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** u64 length prefix (FACTS §3.3) with an upper bound so hostile lengths cannot allocate. */
  varBytes64(max: number, what = 'varbytes'): Uint8Array {
    const n = this.u64(`${what} length`);
    if (n > BigInt(max)) throw new DecodeError('TOO_LARGE', `${what} length ${n} exceeds ${max}`);
    return this.bytes(Number(n), what);
  }

  varUint(what = 'varuint'): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8(what);
      result += (b & 0x7f) * scale;
      if (!Number.isSafeInteger(result)) throw new DecodeError('MALFORMED', `${what} overflows`);
      if ((b & 0x80) === 0) {
        // Reject non-minimal encodings so that every value has exactly one byte form.
        if (i > 0 && b === 0) throw new DecodeError('MALFORMED', `${what} is not minimally encoded`);
        return result;
      }
      scale *= 0x80;
    }
    throw new DecodeError('MALFORMED', `${what} is too long`);
  }

  /** LEB128 length prefix with an upper bound. */
  varBytes(max: number, what = 'varbytes'): Uint8Array {
    const n = this.varUint(`${what} length`);
    if (n > max) throw new DecodeError('TOO_LARGE', `${what} length ${n} exceeds ${max}`);
    return this.bytes(n, what);
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  get offset(): number {
    return this.pos;
  }

  /** Rest of the input, consumed. */
  rest(): Uint8Array {
    return this.bytes(this.remaining, 'rest');
  }

  /** Every decoder ends with this: trailing garbage is an error, not ignored. */
  end(what = 'input'): void {
    if (this.remaining !== 0) {
      throw new DecodeError('TRAILING_BYTES', `${this.remaining} unexpected trailing bytes after ${what}`);
    }
  }
}

/** Writes `s` as varbytes of UTF-8, refusing more than `max` bytes (every text field of p2pComm's formats). */
export function writeText(w: ByteWriter, name: string, s: string, max: number): void {
  if (typeof s !== 'string') throw new TypeError(`"${name}" expected a string`);
  const b = utf8ToBytes(s);
  if (b.length > max) throw new RangeError(`"${name}" is ${b.length} UTF-8 bytes, at most ${max}`);
  w.varBytes(b);
}

/** Reads varbytes of at most `max` bytes as UTF-8; invalid UTF-8 is DecodeError MALFORMED. */
export function readText(r: ByteReader, what: string, max: number): string {
  const b = r.varBytes(max, what);
  try {
    return bytesToUtf8(b);
  } catch (e) {
    throw new DecodeError('MALFORMED', `${what} is not valid UTF-8`, { cause: e });
  }
}
