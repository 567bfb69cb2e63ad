import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  JsonF64,
  MAX_JSON_DEPTH,
  MAX_JSON_INTEGER_DIGITS,
  formatF64,
  parseJson,
  stringifyJson,
} from '../../../src/kaspa/rpc/json.ts';
import { DecodeError } from '../../../src/util/errors.ts';
import { MAX_SOMPI } from '../../../src/kaspa/types.ts';

const U64_MAX = (1n << 64n) - 1n;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** JSON values in the canonical form parseJson yields (no undefined, no -0, bigint only when unsafe). */
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.string(),
    fc.integer().map((n) => (n === 0 ? 0 : n)),
    fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .filter((d) => !Object.is(d, -0) && !hasUnsafeInteger(d)),
    fc.bigInt({ min: -U64_MAX, max: U64_MAX }).map((b) => (b > SAFE || b < -SAFE ? b : Number(b))),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string(), tie('value'), { maxKeys: 5, noNullPrototype: true }),
  ),
})).value;

/** Doubles that are integers beyond 2^53 print as integer literals; parseJson rightly reads those as bigint. */
function hasUnsafeInteger(v: unknown): boolean {
  if (typeof v === 'number') return Number.isInteger(v) && !Number.isSafeInteger(v);
  if (Array.isArray(v)) return v.some(hasUnsafeInteger);
  if (typeof v === 'object' && v !== null) return Object.values(v).some(hasUnsafeInteger);
  return false;
}
const plainJson = fc.jsonValue().filter((v) => !hasUnsafeInteger(v));

describe('parseJson', () => {
  it('keeps u64 boundaries exact: 2^53-1 as number, 2^53 and 2^53+1 as bigint', () => {
    assert.equal(parseJson('9007199254740991'), Number.MAX_SAFE_INTEGER);
    assert.equal(parseJson('9007199254740992'), 9007199254740992n);
    assert.equal(parseJson('9007199254740993'), 9007199254740993n);
    assert.equal(parseJson('-9007199254740993'), -9007199254740993n);
    assert.equal(parseJson('18446744073709551615'), U64_MAX);
    assert.equal(parseJson(MAX_SOMPI.toString()), MAX_SOMPI);
    assert.deepEqual(parseJson('{"sequence":18446744073709551615,"a":[1,2.5,-0.5e3]}'), {
      sequence: U64_MAX,
      a: [1, 2.5, -500],
    });
  });

  it('finds unsafe integers next to escaped quotes and backslashes in strings', () => {
    assert.deepEqual(parseJson('{"a":"x\\"99999999999999999","b":99999999999999999}'), {
      a: 'x"99999999999999999',
      b: 99999999999999999n,
    });
    assert.deepEqual(parseJson('["\\\\",12345678901234567890]'), ['\\', 12345678901234567890n]);
    assert.deepEqual(parseJson('["12345678901234567890"]'), ['12345678901234567890']);
    assert.equal(parseJson('1.0000000000000002'), 1.0000000000000002);
  });

  it('agrees with JSON.parse on every value without unsafe integers', () => {
    fc.assert(
      fc.property(plainJson, (v) => {
        const text = JSON.stringify(v);
        assert.deepEqual(parseJson(text), JSON.parse(text));
      }),
    );
  });

  it('rejects malformed text with a DecodeError and never anything else', () => {
    for (const bad of [
      '',
      ' ',
      '{',
      '[1,]',
      '{"a":1,}',
      '01',
      '1.',
      '.5',
      '1e',
      '+1',
      'NaN',
      'Infinity',
      'tru',
      '"\\x"',
      '"\\u12g4"',
      '"a\nb"',
      '"unterminated',
      '{"a" 1}',
      '{1:2}',
      '[1 2]',
      '1 2',
      "'a'",
      '\u00a01',
    ]) {
      assert.throws(() => parseJson(bad), DecodeError, JSON.stringify(bad));
    }
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        try {
          parseJson(s);
        } catch (e) {
          assert.ok(e instanceof DecodeError, String(e));
        }
      }),
    );
  });

  it('refuses nesting beyond the limit without exhausting the stack', () => {
    assert.doesNotThrow(() => parseJson('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH)));
    assert.throws(
      () => parseJson('['.repeat(100_000)),
      (e: unknown) => e instanceof DecodeError && e.code === 'TOO_LARGE',
    );
  });

  it('refuses integer literals longer than MAX_JSON_INTEGER_DIGITS instead of converting them (quadratic in BigInt)', () => {
    // A hostile node's 5 MB run of digits took 2.2 s in BigInt(); refused, it costs one scan.
    const tooLarge = (text: string): boolean => {
      assert.throws(
        () => parseJson(text),
        (e: unknown) => e instanceof DecodeError && e.code === 'TOO_LARGE',
      );
      return true;
    };
    assert.ok(tooLarge('1'.repeat(5_000_000)));
    assert.ok(tooLarge(`{"amount":${'9'.repeat(MAX_JSON_INTEGER_DIGITS + 1)}}`));
    assert.ok(tooLarge(`[-${'1'.repeat(MAX_JSON_INTEGER_DIGITS + 1)}]`));
    // Up to the limit integers stay exact, far beyond every u64 of the protocol.
    const widest = '9'.repeat(MAX_JSON_INTEGER_DIGITS);
    assert.equal(parseJson(widest), BigInt(widest));
    assert.equal(parseJson(`-${widest}`), -BigInt(widest));
    assert.deepEqual(parseJson(`{"v":${U64_MAX}}`), { v: U64_MAX });
    // Long fractions and exponents are floats, as JSON.parse reads them (Number() is linear).
    const fraction = `1.${'1'.repeat(1_000_000)}`;
    assert.equal(parseJson(fraction), JSON.parse(fraction));
    assert.equal(parseJson(`1${'0'.repeat(100)}e-90`), 1e10);
  });

  it('makes "__proto__" an own property, as JSON.parse does', () => {
    const v = parseJson('{"__proto__":{"polluted":1}}') as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.deepEqual(Object.keys(v), ['__proto__']);
    assert.equal((v as { polluted?: unknown }).polluted, undefined);
  });
});

describe('stringifyJson', () => {
  it('writes bigint as a bare integer, never as a string or an exponent', () => {
    assert.equal(
      stringifyJson({ a: U64_MAX, b: MAX_SOMPI, c: 2n ** 53n + 1n }),
      `{"a":${U64_MAX},"b":2900000000000000000,"c":9007199254740993}`,
    );
    assert.equal(stringifyJson([123, 0n, -0, 0.5]), '[123,0,0,0.5]');
    assert.doesNotMatch(stringifyJson({ v: MAX_SOMPI }), /e/i);
  });

  it('round-trips through parseJson for every value', () => {
    fc.assert(
      fc.property(jsonValue, (v) => {
        assert.deepEqual(parseJson(stringifyJson(v)), v);
      }),
    );
  });

  it('matches JSON.stringify where both apply', () => {
    fc.assert(
      fc.property(plainJson, (v) => {
        assert.equal(stringifyJson(v), JSON.stringify(v));
      }),
    );
  });

  it('refuses misuse with TypeError or RangeError', () => {
    assert.throws(() => stringifyJson({ v: 2 ** 60 }), RangeError);
    assert.throws(() => stringifyJson(NaN), RangeError);
    assert.throws(() => stringifyJson(Infinity), RangeError);
    assert.throws(() => stringifyJson(new Uint8Array(1)), TypeError);
    assert.throws(() => stringifyJson(() => 1), TypeError);
    assert.throws(() => stringifyJson([undefined]), TypeError);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    assert.throws(() => stringifyJson(cyclic), TypeError);
    assert.equal(stringifyJson({ a: undefined, b: 1 }), '{"b":1}');
  });
});

/** Reference writer with sorted keys (integer-like keys too, which a JS object would put first). */
function sortedStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${sortedStringify(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

describe('stringifyJson with sortKeys (kaspad writes serde_json BTreeMaps)', () => {
  it('sorts the keys of every object, nested ones and those inside arrays included', () => {
    assert.equal(
      stringifyJson(
        {
          serverVersion: '2.1.0',
          hasUtxoIndex: true,
          entries: [{ utxoEntry: { isCoinbase: false, amount: 1n }, address: null }],
          B: 1,
          a: 2,
        },
        { sortKeys: true },
      ),
      '{"B":1,"a":2,"entries":[{"address":null,"utxoEntry":{"amount":1,"isCoinbase":false}}],' +
        '"hasUtxoIndex":true,"serverVersion":"2.1.0"}',
    );
  });

  it('sorts by UTF-16 code unit at every depth, and keeps insertion order without the option', () => {
    fc.assert(
      fc.property(plainJson, (v) => {
        assert.equal(stringifyJson(v, { sortKeys: true }), sortedStringify(v));
        assert.equal(stringifyJson(v, { sortKeys: false }), JSON.stringify(v));
      }),
    );
  });
});

describe('JsonF64 and formatF64 (serde_json writes f64 through ryu)', () => {
  it('writes the values kaspad sends byte for byte', () => {
    assert.equal(
      stringifyJson({ feerate: new JsonF64(100), difficulty: new JsonF64(1.0000001192093038) }),
      '{"feerate":100.0,"difficulty":1.0000001192093038}',
    );
    assert.equal(formatF64(0.00040801826837629456), '0.00040801826837629456');
    assert.equal(formatF64(-1), '-1.0');
  });

  it('follows ryu at every layout boundary', () => {
    const cases: [number, string][] = [
      [0, '0.0'],
      [-0, '-0.0'],
      [1, '1.0'],
      [0.1, '0.1'],
      [1.5, '1.5'],
      [123456.789, '123456.789'],
      [1e15, '1000000000000000.0'],
      [9007199254740992, '9007199254740992.0'],
      [1e16, '1e16'],
      [1.5e16, '1.5e16'],
      [1.2345678901234568e17, '1.2345678901234568e17'],
      [0.001, '0.001'],
      [1e-5, '0.00001'],
      [1.5e-5, '0.000015'],
      [1e-6, '1e-6'],
      [1e-7, '1e-7'],
      [1.25e-7, '1.25e-7'],
      [5e-324, '5e-324'],
      [1.7976931348623157e308, '1.7976931348623157e308'],
      [-2.5e-10, '-2.5e-10'],
    ];
    for (const [v, text] of cases) assert.equal(formatF64(v), text, String(v));
  });

  it('round-trips every finite double and always reads as a float', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
        const text = formatF64(v);
        assert.ok(Object.is(Number(text), v), `${v} -> ${text}`);
        assert.match(text, /^-?\d+(\.\d+|(\.\d+)?e-?\d+)$/);
        assert.ok(Object.is(parseJson(stringifyJson(new JsonF64(v))), v));
      }),
    );
  });

  it('refuses non-finite values', () => {
    assert.throws(() => new JsonF64(Number.NaN), RangeError);
    assert.throws(() => new JsonF64(Infinity), RangeError);
    assert.throws(() => formatF64(-Infinity), RangeError);
  });
});
