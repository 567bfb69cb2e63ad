import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  compareBytes,
  decodeKey,
  encodeKey,
  prefixEnd,
  u64Key,
  type KeyPart,
} from '../../src/storage/keys.ts';
import { DecodeError } from '../../src/util/errors.ts';
import { bytesToHex } from '../../src/util/bytes.ts';

const partArb: fc.Arbitrary<KeyPart> = fc.oneof(
  fc.uint8Array({ maxLength: 6 }).map((a) => a.map((x) => [0x00, 0x01, 0xff, x][x % 4]!)),
  fc.string({ maxLength: 4, unit: fc.constantFrom('a', 'b', '\u0000', 'é', '😀') }),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.constantFrom(0, 1, 255, 256, Number.MAX_SAFE_INTEGER),
);
const tupleArb = fc.array(partArb, { maxLength: 4 });

function typeRank(p: KeyPart): number {
  return p instanceof Uint8Array ? 0 : typeof p === 'string' ? 1 : 2;
}

/** Reference order of tuples: by type, then bytes / UTF-8 bytes / integer value, then length. */
function compareTuples(a: readonly KeyPart[], b: readonly KeyPart[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const [x, y] = [a[i]!, b[i]!];
    const r = typeRank(x) - typeRank(y);
    if (r !== 0) return Math.sign(r);
    let c: number;
    if (typeof x === 'string' && typeof y === 'string') {
      const [hx, hy] = [bytesToHex(new TextEncoder().encode(x)), bytesToHex(new TextEncoder().encode(y))];
      c = hx < hy ? -1 : hx > hy ? 1 : 0;
    } else if (x instanceof Uint8Array && y instanceof Uint8Array) {
      const [hx, hy] = [bytesToHex(x), bytesToHex(y)];
      c = hx < hy ? -1 : hx > hy ? 1 : 0;
    } else {
      const [bx, by] = [BigInt(x as number | bigint), BigInt(y as number | bigint)];
      c = bx < by ? -1 : bx > by ? 1 : 0;
    }
    if (c !== 0) return c;
  }
  return Math.sign(a.length - b.length);
}

const normalize = (t: readonly KeyPart[]): unknown[] => t.map((p) => (typeof p === 'number' ? BigInt(p) : p));

describe('storage keys', () => {
  it('encodeKey preserves tuple order bytewise', () => {
    fc.assert(
      fc.property(tupleArb, tupleArb, (a, b) => {
        assert.equal(compareBytes(encodeKey(...a), encodeKey(...b)), compareTuples(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('a tuple encodes to a prefix of its extensions, and decodes back', () => {
    fc.assert(
      fc.property(tupleArb, tupleArb, (a, more) => {
        const short = encodeKey(...a);
        const long = encodeKey(...a, ...more);
        assert.deepEqual(long.subarray(0, short.length), short);
        assert.deepEqual(decodeKey(long), normalize([...a, ...more]));
      }),
    );
  });

  it('decodeKey fails on hostile input only with DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        try {
          const parts = decodeKey(bytes);
          assert.deepEqual(encodeKey(...parts), bytes, 'anything accepted is canonical');
        } catch (e) {
          assert.ok(e instanceof DecodeError, String(e));
        }
      }),
      { numRuns: 3000 },
    );
    const code = (bytes: number[]): string => {
      try {
        decodeKey(Uint8Array.from(bytes));
        return 'none';
      } catch (e) {
        return e instanceof DecodeError ? e.code : String(e);
      }
    };
    assert.equal(code([0x01, 0x61]), 'TRUNCATED');
    assert.equal(code([0x15, 0, 0, 0]), 'TRUNCATED');
    assert.equal(code([0x02, 0xff, 0x00]), 'MALFORMED');
    assert.equal(code([0x07]), 'UNKNOWN_TYPE');
  });

  it('rejects parts that cannot be encoded', () => {
    assert.throws(() => encodeKey(-1), RangeError);
    assert.throws(() => encodeKey(1.5), TypeError);
    assert.throws(() => encodeKey(1n << 64n), RangeError);
    assert.throws(() => encodeKey({} as unknown as string), TypeError);
    assert.throws(() => u64Key(-1n), RangeError);
  });

  it('compareBytes is unsigned memcmp with shorter-first; prefixEnd bounds a prefix', () => {
    assert.equal(compareBytes(Uint8Array.of(0x7f), Uint8Array.of(0x80)), -1);
    assert.equal(compareBytes(Uint8Array.of(1), Uint8Array.of(1, 0)), -1);
    assert.equal(compareBytes(Uint8Array.of(2), Uint8Array.of(1, 0xff)), 1);
    assert.equal(compareBytes(new Uint8Array(), new Uint8Array()), 0);
    assert.deepEqual(prefixEnd(Uint8Array.of(1, 0xff, 0xff)), Uint8Array.of(2));
    assert.equal(prefixEnd(Uint8Array.of(0xff)), undefined);
    assert.equal(prefixEnd(new Uint8Array()), undefined);
    assert.deepEqual(u64Key(258), Uint8Array.of(0, 0, 0, 0, 0, 0, 1, 2));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4 }), fc.uint8Array({ maxLength: 4 }), (p, rest) => {
        const end = prefixEnd(p);
        const key = new Uint8Array([...p, ...rest]);
        if (end !== undefined) assert.equal(compareBytes(key, end), -1);
      }),
    );
  });
});
