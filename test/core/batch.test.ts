import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  batchSize,
  isBatch,
  packBatch,
  scanBatch,
  unpackBatch,
  DEFAULT_BUCKETS,
} from '../../src/core/envelope/batch.ts';
import { createEnvelope } from '../../src/core/envelope/envelope.ts';
import { ReplayGuard } from '../../src/core/envelope/replay-guard.ts';
import { sealEnvelope } from '../../src/core/envelope/sealed.ts';
import { EnvelopeError } from '../../src/core/errors.ts';
import { DecodeError } from '../../src/util/errors.ts';
import { bytesToHex } from '../../src/util/bytes.ts';
import { makeUser, type TestUser } from './helpers.ts';

function introduce(a: TestUser, b: TestUser): void {
  a.sessions.addContact(b.card);
  b.sessions.addContact(a.card);
}

function chat(from: TestUser, to: TestUser, text: string): Uint8Array {
  return sealEnvelope(
    from.sessions,
    to.identity.peerId,
    createEnvelope({ type: 'chat', text }, from.clock.now),
  );
}

function texts(scan: ReturnType<typeof scanBatch>): string[] {
  return scan.received
    .map((r) => (r.kind === 'envelope' && r.envelope.body.type === 'chat' ? r.envelope.body.text : '?'))
    .sort();
}

describe('batch container', () => {
  it('many frames for many recipients: each finds exactly its own, first contacts included', () => {
    const sender = makeUser('sender');
    const rs = ['r1', 'r2', 'r3', 'r4'].map((n) => makeUser(n));
    for (const r of rs) introduce(sender, r);
    // r1 and r2 already talk with the sender (tag path); r3 and r4 get a first message.
    for (const r of rs.slice(0, 2)) {
      r.sessions.decrypt(sender.sessions.encrypt(r.identity.peerId, new Uint8Array(1)));
      sender.sessions.decrypt(r.sessions.encrypt(sender.identity.peerId, new Uint8Array(1)));
    }
    const frames = rs.flatMap((r, i) => [
      chat(sender, r, `${r.card.displayName}-a`),
      chat(sender, r, `${r.card.displayName}-b${i}`),
    ]);
    const payload = packBatch(frames);
    assert.ok(isBatch(payload));
    assert.ok(DEFAULT_BUCKETS.includes(payload.length), `padded to a bucket: ${payload.length}`);
    rs.forEach((r, i) => {
      const scan = scanBatch(payload, r.sessions, new ReplayGuard(), r.clock.now);
      assert.deepEqual(texts(scan), [`${r.card.displayName}-a`, `${r.card.displayName}-b${i}`]);
      assert.deepEqual(scan.rejected, []);
    });
    const outsider = makeUser('outsider');
    assert.deepEqual(
      scanBatch(payload, outsider.sessions, new ReplayGuard(), outsider.clock.now).received,
      [],
    );
  });

  it('the same payload scanned twice yields nothing new (duplicates), across P2P and chain', () => {
    const a = makeUser('a');
    const b = makeUser('b');
    introduce(a, b);
    const f = chat(a, b, 'both paths');
    assert.equal(b.sessions.decrypt(f).kind, 'message'); // arrived over P2P first
    const scan = scanBatch(packBatch([f]), b.sessions, new ReplayGuard(), b.clock.now);
    assert.deepEqual(
      scan.received.map((r) => r.kind),
      ['duplicate'],
    );
  });

  it('nothing links two frames of one conversation: no tag or 8-byte run repeats', () => {
    const a = makeUser('a');
    const b = makeUser('b');
    introduce(a, b);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 6; i++) frames.push(chat(a, b, 'same text'));
    b.sessions.decrypt(frames[0]!);
    for (let i = 0; i < 6; i++) frames.push(chat(b, a, 'same text'));
    for (let i = 0; i < 6; i++) frames.push(chat(a, b, 'same text'));
    const seen = new Map<string, number>();
    frames.forEach((f, k) => {
      for (let i = 0; i + 8 <= f.length; i++) {
        const w = bytesToHex(f.subarray(i, i + 8));
        if (/^(00)+$/.test(w)) continue;
        const prev = seen.get(w);
        assert.ok(prev === undefined || prev === k, `frames ${prev} and ${k} share ${w}`);
        seen.set(w, k);
      }
    });
    // No identity key, peer ID or pre-key appears in any frame.
    const secrets = [
      a.identity.publicKey,
      b.identity.publicKey,
      a.identity.peerId,
      b.identity.peerId,
      b.card.preKey,
    ];
    for (const f of frames) {
      const hex = bytesToHex(f);
      for (const s of secrets) assert.ok(!hex.includes(bytesToHex(s.subarray(0, 8))));
    }
  });

  it('pads to the next bucket and enforces the payload limit (a setting)', () => {
    const frame = new Uint8Array(300).fill(1);
    assert.equal(batchSize([frame]), 512);
    assert.equal(packBatch([frame]).length, 512);
    assert.equal(batchSize([frame], { maxPayloadBytes: 256 }), undefined);
    assert.throws(
      () => packBatch([frame], { maxPayloadBytes: 256 }),
      (e: unknown) => e instanceof EnvelopeError && e.code === 'TOO_LARGE',
    );
    assert.equal(packBatch([frame], { maxPayloadBytes: 400, buckets: [64] }).length, 400);
  });

  it('unpacks exactly what was packed, in some order (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 30 }),
        (frames) => {
          const out = unpackBatch(packBatch(frames));
          assert.deepEqual(out.map(bytesToHex).sort(), frames.map(bytesToHex).sort());
        },
      ),
      { numRuns: 100 },
    );
  });

  it('hostile payloads: DecodeError only, never a crash', () => {
    const good = packBatch([new Uint8Array(40).fill(9)]);
    const withJunk = good.slice();
    withJunk[withJunk.length - 1] = 1;
    assert.throws(
      () => unpackBatch(withJunk),
      (e: unknown) => e instanceof DecodeError && e.code === 'MALFORMED',
    );
    const v2 = good.slice();
    v2[4] = 2;
    assert.throws(
      () => unpackBatch(v2),
      (e: unknown) => e instanceof DecodeError && e.code === 'UNKNOWN_VERSION',
    );
    assert.throws(
      () => unpackBatch(new Uint8Array(40_000)),
      (e: unknown) => e instanceof DecodeError && e.code === 'TOO_LARGE',
    );
    // Cut anywhere before the end of the last frame (cuts inside the padding lose nothing).
    for (let n = 0; n < 4 + 1 + 1 + 1 + 40; n++)
      assert.throws(() => unpackBatch(good.subarray(0, n)), DecodeError);
    const b = makeUser('b');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (junk) => {
        for (const payload of [junk, Uint8Array.of(0x70, 0x32, 0x70, 0x63, 1, ...junk)]) {
          try {
            scanBatch(payload, b.sessions, new ReplayGuard(), b.clock.now);
          } catch (e) {
            assert.ok(e instanceof DecodeError, String(e));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
