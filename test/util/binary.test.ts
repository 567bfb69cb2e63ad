import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ByteReader, ByteWriter } from '../../src/util/binary.ts';
import { DecodeError } from '../../src/util/errors.ts';

describe('ByteWriter / ByteReader', () => {
  it('round-trips every integer width and both length prefixes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.uint8Array({ maxLength: 300 }),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        (a, b, c, d, bytes, v) => {
          const enc = new ByteWriter(1)
            .u8(a)
            .u16(b)
            .u32(c)
            .u64(d)
            .varBytes64(bytes)
            .varBytes(bytes)
            .varUint(v)
            .finish();
          const r = new ByteReader(enc);
          assert.equal(r.u8(), a);
          assert.equal(r.u16(), b);
          assert.equal(r.u32(), c);
          assert.equal(r.u64(), d);
          assert.deepEqual(r.varBytes64(1000), bytes);
          assert.deepEqual(r.varBytes(1000), bytes);
          assert.equal(r.varUint(), v);
          r.end();
        },
      ),
    );
  });

  it('rejects truncation, oversize lengths, non-minimal varints and trailing bytes with typed errors', () => {
    const code = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        assert.ok(e instanceof DecodeError);
        return e.code;
      }
      return 'none';
    };
    assert.equal(
      code(() => new ByteReader(new Uint8Array(3)).u32()),
      'TRUNCATED',
    );
    assert.equal(
      code(() => new ByteReader(new ByteWriter().u64(5000).finish()).varBytes64(100)),
      'TOO_LARGE',
    );
    assert.equal(
      code(() => new ByteReader(Uint8Array.of(0x80, 0x00)).varUint()),
      'MALFORMED',
    );
    assert.equal(
      code(() => new ByteReader(Uint8Array.of(1, 2)).end()),
      'TRAILING_BYTES',
    );
  });
});
