/**
 * Envelope types 10, 11, 12 and 14 (docs/protocol.md "Envelope types 10, 11, 12 and 14:
 * message actions"): exact bytes, round trips, and every malformed or unknown form refused
 * with DecodeError.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  MESSAGE_REACTIONS,
  decodeEnvelope,
  encodeEnvelope,
  type Envelope,
  type EnvelopeBody,
  type MessageId,
} from '../../../src/core/envelope/envelope.ts';
import { DecodeError } from '../../../src/util/errors.ts';

const id = new Uint8Array(16).fill(0xaa) as MessageId;
const target = new Uint8Array(16).fill(0x42) as MessageId;
const envelope = (body: EnvelopeBody): Envelope => ({ id, timestamp: 0x0102, body });
const header = (type: number): number[] => [1, type, ...id, 2, 1, 0, 0, 0, 0, 0, 0];

function code(bytes: Uint8Array): string {
  try {
    decodeEnvelope(bytes);
  } catch (e) {
    assert.ok(e instanceof DecodeError, String(e));
    return e.code;
  }
  return 'accepted';
}

describe('message action envelopes', () => {
  it('lays out each body as the protocol document says', () => {
    assert.deepEqual(
      [...encodeEnvelope(envelope({ type: 'reaction', target, reaction: 2 }))],
      [...header(10), ...target, 2],
    );
    assert.deepEqual(
      [...encodeEnvelope(envelope({ type: 'edit', target, text: 'hi' }))],
      [...header(11), ...target, 2, 0x68, 0x69],
    );
    assert.deepEqual([...encodeEnvelope(envelope({ type: 'delete', target }))], [...header(12), ...target]);
    assert.deepEqual(
      [...encodeEnvelope(envelope({ type: 'forwarded', text: 'hi' }))],
      [...header(14), 2, 0x68, 0x69],
    );
  });

  it('round-trips every body', () => {
    const arb: fc.Arbitrary<EnvelopeBody> = fc.oneof(
      fc.record({
        type: fc.constant('reaction' as const),
        target: fc.constant(target),
        reaction: fc.integer({ min: 0, max: MESSAGE_REACTIONS.length }),
      }),
      fc.record({ type: fc.constant('edit' as const), target: fc.constant(target), text: fc.string() }),
      fc.record({ type: fc.constant('delete' as const), target: fc.constant(target) }),
      fc.record({ type: fc.constant('forwarded' as const), text: fc.string() }),
    );
    fc.assert(
      fc.property(arb, (body) => {
        // fast-check builds prototype-less records; the decoder returns plain objects.
        const e = envelope({ ...body });
        assert.deepEqual(decodeEnvelope(encodeEnvelope(e)), e);
      }),
    );
  });

  it('refuses malformed bodies with DecodeError, by code', () => {
    assert.equal(code(Uint8Array.of(...header(10), ...target, 7)), 'MALFORMED');
    assert.equal(code(Uint8Array.of(...header(10), ...target, 255)), 'MALFORMED');
    assert.equal(code(Uint8Array.of(...header(10), ...target)), 'TRUNCATED');
    assert.equal(code(Uint8Array.of(...header(10), ...target, 1, 0)), 'TRAILING_BYTES');
    assert.equal(code(Uint8Array.of(...header(11), ...target.subarray(0, 8))), 'TRUNCATED');
    assert.equal(code(Uint8Array.of(...header(11), ...target, 5, 0x68)), 'TRUNCATED');
    assert.equal(code(Uint8Array.of(...header(11), ...target, 2, 0xff, 0xfe)), 'MALFORMED');
    assert.equal(code(Uint8Array.of(...header(12), ...target, 0)), 'TRAILING_BYTES');
    assert.equal(code(Uint8Array.of(...header(12), 1, 2, 3)), 'TRUNCATED');
    assert.equal(code(Uint8Array.of(...header(14))), 'TRUNCATED');
    // A length prefix past the text limit is refused before anything is allocated.
    assert.equal(code(Uint8Array.of(...header(14), 0xff, 0xff, 0xff, 0x0f)), 'TOO_LARGE');
  });

  it('keeps 19 and above unknown (15 is the disappearing timer: a one-byte body is short for it)', () => {
    for (const type of [19, 20, 99, 255])
      assert.equal(code(Uint8Array.of(...header(type), 0)), 'UNKNOWN_TYPE');
    assert.equal(code(Uint8Array.of(...header(15), 0)), 'TRUNCATED');
  });

  it('refuses to encode out-of-range fields with RangeError or TypeError', () => {
    assert.throws(() => encodeEnvelope(envelope({ type: 'reaction', target, reaction: 7 })), RangeError);
    assert.throws(() => encodeEnvelope(envelope({ type: 'reaction', target, reaction: 1.5 })), TypeError);
    assert.throws(
      () => encodeEnvelope(envelope({ type: 'delete', target: new Uint8Array(15) as MessageId })),
      RangeError,
    );
    assert.throws(
      () => encodeEnvelope(envelope({ type: 'edit', target, text: 'x'.repeat(60_001) })),
      RangeError,
    );
  });
});
