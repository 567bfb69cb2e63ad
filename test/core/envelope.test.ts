import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  createEnvelope,
  decodeEnvelope,
  encodeEnvelope,
  newMessageId,
  type Envelope,
  type EnvelopeBody,
  type MessageId,
} from '../../src/core/envelope/envelope.ts';
import { pad, paddedLength, padmeLength, unpad } from '../../src/core/envelope/padding.ts';
import { ReplayGuard } from '../../src/core/envelope/replay-guard.ts';
import { openEnvelope, sealEnvelope } from '../../src/core/envelope/sealed.ts';
import { EnvelopeError } from '../../src/core/errors.ts';
import { DecodeError } from '../../src/util/errors.ts';
import { ByteWriter } from '../../src/util/binary.ts';
import { makePair } from './helpers.ts';

const id16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
const bodyArb: fc.Arbitrary<EnvelopeBody> = fc.oneof(
  fc.record({ type: fc.constant('chat' as const), text: fc.string({ maxLength: 200 }) }),
  fc.record({
    type: fc.constant('chat' as const),
    text: fc.string(),
    replyTo: id16.map((b) => b as MessageId),
  }),
  fc.record({
    type: fc.constantFrom('delivery-receipt' as const, 'read-receipt' as const),
    ids: fc.array(
      id16.map((b) => b as MessageId),
      { minLength: 1, maxLength: 20 },
    ),
  }),
  fc.record({
    type: fc.constantFrom('webrtc-offer' as const, 'webrtc-answer' as const),
    connectionId: id16,
    sdp: fc.string({ maxLength: 500 }),
  }),
  fc.record({
    type: fc.constant('webrtc-ice' as const),
    connectionId: id16,
    complete: fc.boolean(),
    candidates: fc.array(
      fc.record({
        candidate: fc.string({ maxLength: 100 }),
        sdpMid: fc.string({ maxLength: 8 }),
        sdpMLineIndex: fc.integer({ min: 0, max: 255 }),
      }),
      { maxLength: 8 },
    ),
  }),
);
const singleArb: fc.Arbitrary<Envelope> = fc.record({
  id: id16.map((b) => b as MessageId),
  timestamp: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  body: bodyArb,
});
const envelopeArb: fc.Arbitrary<Envelope> = fc.oneof(
  singleArb,
  fc.record({
    id: id16.map((b) => b as MessageId),
    timestamp: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    body: fc.record({
      type: fc.constant('bundle' as const),
      envelopes: fc.array(singleArb, { minLength: 1, maxLength: 6 }),
    }),
  }),
);

describe('envelope codec', () => {
  it('round-trips every type (property)', () => {
    fc.assert(
      fc.property(envelopeArb, (e) => {
        const d = decodeEnvelope(encodeEnvelope(e));
        // Strings are compared after UTF-8 round trip (lone surrogates become U+FFFD).
        assert.deepEqual(encodeEnvelope(d), encodeEnvelope(e));
        assert.equal(d.body.type, e.body.type);
      }),
      { numRuns: 300 },
    );
  });

  it('bundles several envelopes, never a bundle in a bundle', () => {
    const chat = (text: string): Envelope => createEnvelope({ type: 'chat', text });
    const bundle = createEnvelope({ type: 'bundle', envelopes: [chat('a'), chat('b')] });
    const d = decodeEnvelope(encodeEnvelope(bundle));
    assert.equal(d.body.type, 'bundle');
    assert.deepEqual(
      d.body.type === 'bundle' && d.body.envelopes.map((e) => e.body.type === 'chat' && e.body.text),
      ['a', 'b'],
    );
    assert.throws(() => encodeEnvelope(createEnvelope({ type: 'bundle', envelopes: [bundle] })), RangeError);
    assert.throws(() => encodeEnvelope(createEnvelope({ type: 'bundle', envelopes: [] })), RangeError);
    // Hand-made nesting: a bundle whose one envelope is itself a bundle.
    const inner = encodeEnvelope(bundle);
    const outer = encodeEnvelope(createEnvelope({ type: 'bundle', envelopes: [chat('x')] }));
    // Version, type, id and timestamp (26 bytes), then a count of one and the inner bundle.
    const nested = new ByteWriter(64).bytes(outer.subarray(0, 26)).varUint(1).varBytes(inner).finish();
    assert.throws(
      () => decodeEnvelope(nested),
      (e: unknown) => e instanceof DecodeError && e.code === 'MALFORMED',
    );
  });

  it('is compact: a 5-character chat message is 32 bytes', () => {
    assert.equal(
      encodeEnvelope(createEnvelope({ type: 'chat', text: 'hello' })).length,
      1 + 1 + 16 + 8 + 1 + 5 + 1,
    );
  });

  it('rejects truncation, trailing bytes, unknown version and type with DecodeError codes', () => {
    const bytes = encodeEnvelope(createEnvelope({ type: 'chat', text: 'hello' }, 1000));
    for (let n = 0; n < bytes.length; n++) {
      assert.throws(
        () => decodeEnvelope(bytes.subarray(0, n)),
        (e: unknown) => e instanceof DecodeError && e.code === 'TRUNCATED',
      );
    }
    const code = (b: Uint8Array): string => {
      try {
        decodeEnvelope(b);
      } catch (e) {
        assert.ok(e instanceof DecodeError);
        return e.code;
      }
      return 'accepted';
    };
    assert.equal(code(new Uint8Array([...bytes, 0])), 'TRAILING_BYTES');
    assert.equal(code(Uint8Array.of(2, ...bytes.subarray(1))), 'UNKNOWN_VERSION');
    assert.equal(code(Uint8Array.of(1, 200, ...bytes.subarray(2))), 'UNKNOWN_TYPE');
    assert.equal(code(Uint8Array.of(1, 99, ...bytes.subarray(2))), 'UNKNOWN_TYPE');
  });

  it('random bytes never crash the decoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        try {
          decodeEnvelope(b);
        } catch (e) {
          assert.ok(e instanceof DecodeError, String(e));
        }
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        try {
          decodeEnvelope(Uint8Array.of(1, (b[0] ?? 0) % 7, ...b.subarray(1)));
        } catch (e) {
          assert.ok(e instanceof DecodeError, String(e));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses oversize fields when encoding (RangeError), and hostile lengths when decoding', () => {
    assert.throws(
      () => encodeEnvelope(createEnvelope({ type: 'chat', text: 'x'.repeat(60_001) })),
      RangeError,
    );
    assert.throws(() => encodeEnvelope(createEnvelope({ type: 'read-receipt', ids: [] })), RangeError);
    const hostile = Uint8Array.of(1, 1, ...new Uint8Array(24), 0xff, 0xff, 0xff, 0x7f);
    assert.throws(
      () => decodeEnvelope(hostile),
      (e: unknown) => e instanceof DecodeError && e.code === 'TOO_LARGE',
    );
  });
});

describe('padding', () => {
  it('round-trips; powers of two up to 128 bytes, Padmé (≤ 12 %) above', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (b) => {
        const p = pad(b);
        assert.deepEqual(unpad(p), b);
        assert.equal(p.length, paddedLength(b.length + 1));
        if (b.length >= 128) assert.ok(p.length <= (b.length + 1) * 1.12);
        else assert.ok(p.length >= 64 && (p.length & (p.length - 1)) === 0);
      }),
    );
  });
  it('Padmé: L = 1000 and 9000 worked by hand from the paper’s formula (L + mask) & ~mask', () => {
    assert.equal(padmeLength(1000), 1024);
    assert.equal(padmeLength(9000), 9216);
  });
  it('malformed padding is a DecodeError', () => {
    assert.throws(() => unpad(new Uint8Array(8)), DecodeError);
    assert.throws(() => unpad(Uint8Array.of(1, 2, 3)), DecodeError);
  });
});

describe('replay guard', () => {
  const now = 1_800_000_000_000;
  it('accepts once, then REPLAY; refuses too old and too far ahead', () => {
    const g = new ReplayGuard({ maxAgeMs: 60_000, maxFutureMs: 5_000 });
    const id = newMessageId();
    g.check(id, now - 1000, now);
    assert.throws(
      () => g.check(id, now - 1000, now),
      (e: unknown) => e instanceof EnvelopeError && e.code === 'REPLAY',
    );
    assert.throws(
      () => g.check(newMessageId(), now - 61_000, now),
      (e: unknown) => e instanceof EnvelopeError && e.code === 'TOO_OLD',
    );
    assert.throws(
      () => g.check(newMessageId(), now + 6_000, now),
      (e: unknown) => e instanceof EnvelopeError && e.code === 'FROM_FUTURE',
    );
  });

  it('keeps bounded memory under a flood, and a forgotten ID still cannot be replayed', () => {
    const g = new ReplayGuard({ maxAgeMs: 3_600_000, capacity: 100 });
    const ids = Array.from({ length: 1000 }, () => newMessageId());
    ids.forEach((id, i) => g.check(id, now - 1_000_000 + i, now));
    assert.ok(g.size <= 100);
    for (const id of ids) {
      assert.throws(() => g.check(id, now - 1_000_000 + ids.indexOf(id), now), EnvelopeError);
    }
  });
});

describe('envelopes through sessions', () => {
  it('seal → open gives the envelope and the sender; a replayed copy is a DUPLICATE, a re-sent ID is REPLAY', () => {
    const [a, b] = makePair();
    const guard = new ReplayGuard();
    const e = createEnvelope({ type: 'chat', text: 'hi' }, b.clock.now);
    const frame = sealEnvelope(a.sessions, b.identity.peerId, e);
    const r = openEnvelope(b.sessions, frame, guard, b.clock.now);
    assert.equal(r.kind, 'envelope');
    assert.deepEqual(r.kind === 'envelope' && r.envelope, e);
    assert.deepEqual(r.sender, a.identity.peerId);
    assert.equal(openEnvelope(b.sessions, frame, guard, b.clock.now).kind, 'duplicate');
    const again = sealEnvelope(a.sessions, b.identity.peerId, e);
    assert.throws(
      () => openEnvelope(b.sessions, again, guard, b.clock.now),
      (x: unknown) => x instanceof EnvelopeError && x.code === 'REPLAY',
    );
  });

  it('hides the length of short messages: 1 to 30 characters give one frame size', () => {
    const [a, b] = makePair();
    b.sessions.decrypt(a.sessions.encrypt(b.identity.peerId, new Uint8Array(1)));
    a.sessions.decrypt(b.sessions.encrypt(a.identity.peerId, new Uint8Array(1)));
    const sizes = new Set<number>();
    for (let n = 1; n <= 30; n++) {
      sizes.add(
        sealEnvelope(a.sessions, b.identity.peerId, createEnvelope({ type: 'chat', text: 'x'.repeat(n) }))
          .length,
      );
    }
    assert.equal(sizes.size, 1);
  });
});
