/**
 * BigInt-safe JSON for the Kaspa wRPC JSON protocol (FACTS §6.2). Every u64 travels as a
 * bare JSON integer: MAX_SOMPI (2.9e18), u64::MAX sequences and UNACCEPTED_DAA_SCORE exceed
 * 2^53, so `JSON.parse` would silently round them and `JSON.stringify` refuses bigint.
 *
 * Written by hand because no installed library does this and the standard alternative,
 * `JSON.parse` with the reviver `context.source` argument, is missing from Node 20 and
 * from older browsers. The grammar is RFC 8259 exactly; anything else is a DecodeError.
 */
import { DecodeError } from '../../util/errors.ts';

/** Nesting limit: deeper input is refused instead of exhausting the stack. */
export const MAX_JSON_DEPTH = 256;

/**
 * Longest integer literal (digits, sign aside) read exactly; longer ones are refused with
 * DecodeError('TOO_LARGE'), as RFC 8259 §9 allows ("An implementation may set limits on the
 * range and precision of numbers"). Decimal-to-BigInt conversion is quadratic in the number
 * of digits (a hostile node's 5 MB digit run took 2.2 s, 20 MB 10.4 s), so this keeps parsing
 * linear. 40 digits hold every u128 (39); the widest protocol integer is a u64 (20, FACTS §6.2).
 */
export const MAX_JSON_INTEGER_DIGITS = 40;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

/**
 * Parses RFC 8259 JSON text. Integer literals (no fraction, no exponent) outside
 * ±(2^53 − 1) become `bigint`; every other number is a `number`. Malformed input, lone
 * surrogates aside (JSON allows them), throws DecodeError('MALFORMED'); nesting beyond
 * MAX_JSON_DEPTH or an integer longer than MAX_JSON_INTEGER_DIGITS throws
 * DecodeError('TOO_LARGE'). Time is linear in the length of `text`.
 */
export function parseJson(text: string): unknown {
  if (typeof text !== 'string') throw new TypeError(`"text" expected a string, got ${typeof text}`);
  // Fast path: without a long digit run and without deep nesting, the platform parser gives
  // the same result several times faster. Any input it rejects is re-parsed below so that
  // the error is typed.
  if (!needsExactParser(text)) {
    try {
      return JSON.parse(text);
    } catch {
      // Fall through: the exact parser reports where and why.
    }
  }
  const p = new Parser(text);
  p.skipWs();
  const value = p.value(0);
  p.skipWs();
  if (p.pos !== text.length) p.fail('unexpected trailing characters');
  return value;
}

/**
 * True if `text` may hold an integer literal beyond 2^53 − 1 (a run of 16+ digits outside
 * strings; conservative: fraction digits count too) or nests deeper than MAX_JSON_DEPTH, or
 * has an unterminated string. Strings are skipped with indexOf: wRPC frames are mostly hex.
 */
function needsExactParser(s: string): boolean {
  let run = 0;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) {
      let j = s.indexOf('"', i + 1);
      while (j !== -1 && isEscaped(s, j)) j = s.indexOf('"', j + 1);
      if (j === -1) return true;
      i = j;
      run = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (++run > 15) return true;
    } else {
      run = 0;
      if (c === 0x5b || c === 0x7b) {
        if (++depth > MAX_JSON_DEPTH) return true;
      } else if (c === 0x5d || c === 0x7d) {
        depth--;
      }
    }
  }
  return false;
}

/** The quote at `j` is escaped when an odd number of backslashes precede it. */
function isEscaped(s: string, j: number): boolean {
  let n = 0;
  while (s.charCodeAt(j - 1 - n) === 0x5c) n++;
  return n % 2 === 1;
}

class Parser {
  pos = 0;
  constructor(readonly src: string) {}

  fail(what: string): never {
    throw new DecodeError('MALFORMED', `invalid JSON at offset ${this.pos}: ${what}`);
  }

  skipWs(): void {
    const s = this.src;
    let i = this.pos;
    for (;;) {
      const c = s.charCodeAt(i);
      // RFC 8259 §2: only space, tab, LF and CR are whitespace.
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.pos = i;
  }

  value(depth: number): unknown {
    const c = this.src.charCodeAt(this.pos);
    switch (c) {
      case 0x7b /* { */:
        return this.object(depth + 1);
      case 0x5b /* [ */:
        return this.array(depth + 1);
      case 0x22 /* " */:
        return this.string();
      case 0x74 /* t */:
        return this.literal('true', true);
      case 0x66 /* f */:
        return this.literal('false', false);
      case 0x6e /* n */:
        return this.literal('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        return this.fail(Number.isNaN(c) ? 'unexpected end of input' : 'unexpected character');
    }
  }

  literal<T>(word: string, v: T): T {
    if (!this.src.startsWith(word, this.pos)) this.fail(`expected ${word}`);
    this.pos += word.length;
    return v;
  }

  object(depth: number): Record<string, unknown> {
    if (depth > MAX_JSON_DEPTH) {
      throw new DecodeError('TOO_LARGE', `JSON nested deeper than ${MAX_JSON_DEPTH} at offset ${this.pos}`);
    }
    this.pos++;
    const out: Record<string, unknown> = {};
    this.skipWs();
    if (this.src.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      if (this.src.charCodeAt(this.pos) !== 0x22) this.fail('expected a string key');
      const key = this.string();
      this.skipWs();
      if (this.src.charCodeAt(this.pos) !== 0x3a) this.fail("expected ':'");
      this.pos++;
      this.skipWs();
      const v = this.value(depth);
      // A "__proto__" key must become an own property, as JSON.parse does, not a prototype.
      if (key === '__proto__') {
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      } else {
        out[key] = v;
      }
      this.skipWs();
      const c = this.src.charCodeAt(this.pos);
      this.pos++;
      if (c === 0x7d) return out;
      if (c !== 0x2c) {
        this.pos--;
        this.fail("expected ',' or '}'");
      }
      this.skipWs();
    }
  }

  array(depth: number): unknown[] {
    if (depth > MAX_JSON_DEPTH) {
      throw new DecodeError('TOO_LARGE', `JSON nested deeper than ${MAX_JSON_DEPTH} at offset ${this.pos}`);
    }
    this.pos++;
    const out: unknown[] = [];
    this.skipWs();
    if (this.src.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth));
      this.skipWs();
      const c = this.src.charCodeAt(this.pos);
      this.pos++;
      if (c === 0x5d) return out;
      if (c !== 0x2c) {
        this.pos--;
        this.fail("expected ',' or ']'");
      }
      this.skipWs();
    }
  }

  string(): string {
    const s = this.src;
    let i = this.pos + 1;
    let start = i;
    let out = '';
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        this.pos = i + 1;
        return out + s.slice(start, i);
      }
      if (c === 0x5c) {
        out += s.slice(start, i);
        const e = s.charCodeAt(i + 1);
        i += 2;
        switch (e) {
          case 0x22:
            out += '"';
            break;
          case 0x5c:
            out += '\\';
            break;
          case 0x2f:
            out += '/';
            break;
          case 0x62:
            out += '\b';
            break;
          case 0x66:
            out += '\f';
            break;
          case 0x6e:
            out += '\n';
            break;
          case 0x72:
            out += '\r';
            break;
          case 0x74:
            out += '\t';
            break;
          case 0x75: {
            const hex = s.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
              this.pos = i;
              this.fail('bad \\u escape');
            }
            out += String.fromCharCode(parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            this.pos = i - 1;
            this.fail('bad escape');
        }
        start = i;
        continue;
      }
      if (c < 0x20 || Number.isNaN(c)) {
        this.pos = i;
        this.fail(Number.isNaN(c) ? 'unterminated string' : 'control character in string');
      }
      i++;
    }
  }

  number(): number | bigint {
    const s = this.src;
    const start = this.pos;
    let i = start;
    if (s.charCodeAt(i) === 0x2d) i++;
    const first = s.charCodeAt(i);
    if (first === 0x30) {
      i++;
    } else if (first >= 0x31 && first <= 0x39) {
      while (isDigit(s.charCodeAt(i))) i++;
    } else {
      this.pos = i;
      this.fail('expected a digit');
    }
    let integer = true;
    if (s.charCodeAt(i) === 0x2e) {
      integer = false;
      i++;
      if (!isDigit(s.charCodeAt(i))) {
        this.pos = i;
        this.fail('expected a digit after the decimal point');
      }
      while (isDigit(s.charCodeAt(i))) i++;
    }
    const e = s.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      integer = false;
      i++;
      const sign = s.charCodeAt(i);
      if (sign === 0x2b || sign === 0x2d) i++;
      if (!isDigit(s.charCodeAt(i))) {
        this.pos = i;
        this.fail('expected a digit in the exponent');
      }
      while (isDigit(s.charCodeAt(i))) i++;
    }
    this.pos = i;
    const lexeme = s.slice(start, i);
    // 15 digits always fit in a double exactly; only longer integers need the bigint check.
    if (integer && lexeme.length > 15) {
      const digits = lexeme.length - (s.charCodeAt(start) === 0x2d ? 1 : 0);
      if (digits > MAX_JSON_INTEGER_DIGITS) {
        this.pos = start;
        throw new DecodeError(
          'TOO_LARGE',
          `JSON integer of ${digits} digits at offset ${start}, over the ${MAX_JSON_INTEGER_DIGITS}-digit limit`,
        );
      }
      const big = BigInt(lexeme);
      if (big > MAX_SAFE || big < MIN_SAFE) return big;
      return Number(big);
    }
    return Number(lexeme);
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * An f64 field as a Rust node writes it. A JS number does not say whether the schema behind it
 * is an integer or a float, and serde_json (through `ryu`) always prints an f64 with a
 * fraction or an exponent (`100.0`, `1.0000001192093038`, `1e-7`, `1e16`), so a peer that
 * compares frames byte for byte needs the writer to be told.
 */
export class JsonF64 {
  /** Wraps a finite number; NaN and ±Infinity throw RangeError (serde_json would write null). */
  constructor(readonly value: number) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new RangeError(`"value" expected a finite number, got ${String(value)}`);
    }
  }
}

/** Options of `stringifyJson`. */
export interface StringifyOptions {
  /**
   * Writes every object's keys in ascending UTF-16 code-unit order, as kaspad does (its JSON
   * passes through serde_json `Value` maps, which are `BTreeMap<String, _>`: byte order, the
   * same order for the ASCII keys of the protocol). Default: insertion order.
   */
  readonly sortKeys?: boolean;
}

/**
 * Serialises a JSON value: `bigint` becomes a bare integer literal, never a string or an
 * exponent, and a `JsonF64` is written as Rust writes an f64. Object properties whose value
 * is `undefined` are omitted (as in JSON.stringify). Misuse throws: unsafe-integer or
 * non-finite numbers (RangeError: a u64 must be passed as bigint), and anything that is not
 * null, boolean, number, bigint, string, JsonF64, array or plain object, or a cycle (TypeError).
 */
export function stringifyJson(value: unknown, options: StringifyOptions = {}): string {
  const parts: string[] = [];
  write(value, parts, new Set(), '$', options.sortKeys === true);
  return parts.join('');
}

/**
 * `ryu::Buffer::format_finite` (the f64 writer of serde_json): the shortest round-trip digits,
 * which `toExponential()` also yields, laid out as plain decimals while the decimal point falls
 * within 16 digits before or 5 zeros after the first digit, else as `d.ddde±x` without `+`.
 */
export function formatF64(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError(`"v" expected a finite number, got ${v}`);
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const sign = v < 0 ? '-' : '';
  const [mantissa, exp] = Math.abs(v).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const length = digits.length;
  // 10^(kk-1) <= |v| < 10^kk
  const kk = Number(exp) + 1;
  let body: string;
  if (kk >= length && kk <= 16) body = `${digits}${'0'.repeat(kk - length)}.0`;
  else if (kk > 0 && kk <= 16) body = `${digits.slice(0, kk)}.${digits.slice(kk)}`;
  else if (kk > -5 && kk <= 0) body = `0.${'0'.repeat(-kk)}${digits}`;
  else if (length === 1) body = `${digits}e${kk - 1}`;
  else body = `${digits[0]!}.${digits.slice(1)}e${kk - 1}`;
  return sign + body;
}

function write(v: unknown, out: string[], seen: Set<object>, path: string, sortKeys: boolean): void {
  switch (typeof v) {
    case 'string':
      out.push(JSON.stringify(v));
      return;
    case 'boolean':
      out.push(v ? 'true' : 'false');
      return;
    case 'bigint':
      out.push(v.toString());
      return;
    case 'number':
      if (!Number.isFinite(v)) throw new RangeError(`"${path}" is not a finite number: ${v}`);
      if (Number.isInteger(v)) {
        if (!Number.isSafeInteger(v)) {
          throw new RangeError(`"${path}" is an integer beyond 2^53 (${v}); pass it as a bigint`);
        }
        // Integers print without exponent below 2^53, and -0 prints as 0.
        out.push(String(v === 0 ? 0 : v));
      } else {
        out.push(String(v));
      }
      return;
    case 'object': {
      if (v === null) {
        out.push('null');
        return;
      }
      if (seen.has(v)) throw new TypeError(`"${path}" is a circular reference`);
      if (Array.isArray(v)) {
        seen.add(v);
        out.push('[');
        for (let i = 0; i < v.length; i++) {
          if (i > 0) out.push(',');
          const item: unknown = v[i];
          if (item === undefined) throw new TypeError(`"${path}[${i}]" is undefined`);
          write(item, out, seen, `${path}[${i}]`, sortKeys);
        }
        out.push(']');
        seen.delete(v);
        return;
      }
      if (v instanceof JsonF64) {
        out.push(formatF64(v.value));
        return;
      }
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`"${path}" is not a plain object (${v.constructor.name}); convert it first`);
      }
      seen.add(v);
      out.push('{');
      let first = true;
      const keys = Object.keys(v);
      // Default sort compares UTF-16 code units, which is byte order for ASCII keys.
      if (sortKeys) keys.sort();
      for (const key of keys) {
        const item: unknown = (v as Record<string, unknown>)[key];
        if (item === undefined) continue;
        if (!first) out.push(',');
        first = false;
        out.push(JSON.stringify(key), ':');
        write(item, out, seen, `${path}.${key}`, sortKeys);
      }
      out.push('}');
      seen.delete(v);
      return;
    }
    default:
      throw new TypeError(`"${path}" cannot be represented in JSON (${typeof v})`);
  }
}
