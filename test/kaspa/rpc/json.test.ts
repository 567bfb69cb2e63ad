import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_JSON_DEPTH, parseJson, stringifyJson } from '../../../src/kaspa/rpc/json.ts';
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
