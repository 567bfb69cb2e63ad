import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  batchSize,
  findFrames,
  isBatch,
  packBatch,
  scanBatch,
  DEFAULT_BUCKETS,
  FIRST_CONTACT_SLOTS,
  FIRST_CONTACT_SLOT_BYTES,
  MAX_FIRST_CONTACTS_OPENED,
  type BatchFrame,
} from '../../src/core/envelope/batch.ts';
import { createEnvelope } from '../../src/core/envelope/envelope.ts';
import { ReplayGuard } from '../../src/core/envelope/replay-guard.ts';
import { sealEnvelope } from '../../src/core/envelope/sealed.ts';
import { EnvelopeError } from '../../src/core/errors.ts';
import { SessionManager } from '../../src/core/session/session-manager.ts';
import { DecodeError } from '../../src/util/errors.ts';
import { bytesToHex, randomBytes, utf8ToBytes } from '../../src/util/bytes.ts';
import { makeUser, type TestUser } from './helpers.ts';

function introduce(a: TestUser, b: TestUser): void {
  a.sessions.addContact(b.card);
  b.sessions.addContact(a.card);
}

/** A chat frame as the session adapter packs it: bytes and whether it is a first contact. */
function chat(from: TestUser, to: TestUser, text: string): BatchFrame {
  const bytes = sealEnvelope(
    from.sessions,
    to.identity.peerId,
    createEnvelope({ type: 'chat', text }, from.clock.now),
  );
  return { bytes, firstContact: from.sessions.awaitsReply(to.identity.peerId) };
}

const other = (bytes: Uint8Array): BatchFrame => ({ bytes, firstContact: false });

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
    assert.equal(b.sessions.decrypt(f.bytes).kind, 'message'); // arrived over P2P first
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
    for (let i = 0; i < 6; i++) frames.push(chat(a, b, 'same text').bytes);
    b.sessions.decrypt(frames[0]!);
    for (let i = 0; i < 6; i++) frames.push(chat(b, a, 'same text').bytes);
    for (let i = 0; i < 6; i++) frames.push(chat(a, b, 'same text').bytes);
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
    const frame = other(new Uint8Array(300).fill(1));
    assert.equal(batchSize([frame]), 512);
    assert.equal(packBatch([frame]).length, 512);
    assert.equal(batchSize([frame], { maxPayloadBytes: 256 }), undefined);
    assert.throws(
      () => packBatch([frame], { maxPayloadBytes: 256 }),
      (e: unknown) => e instanceof EnvelopeError && e.code === 'TOO_LARGE',
    );
    assert.equal(packBatch([frame], { maxPayloadBytes: 400, buckets: [64] }).length, 400);
  });

  it('first-contact frames must all start within the first-contact slots, or packing is refused', () => {
    const fits = Array.from({ length: FIRST_CONTACT_SLOTS }, () => ({
      bytes: randomBytes(400),
      firstContact: true,
    }));
    assert.equal(packBatch(fits, { maxPayloadBytes: 32_768 }).length, 16_384);
    assert.throws(
      () =>
        packBatch([...fits, { bytes: randomBytes(400), firstContact: true }], { maxPayloadBytes: 32_768 }),
      (e: unknown) => e instanceof EnvelopeError && e.code === 'TOO_LARGE',
    );
  });

  it('an observer sees no frame boundaries: no count, no lengths, no zero padding, only the bucket size', () => {
    const sender = makeUser('sender');
    const rs = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'].map((n) => makeUser(n));
    for (const r of rs) introduce(sender, r);
    for (const r of rs) {
      r.sessions.decrypt(sender.sessions.encrypt(r.identity.peerId, new Uint8Array(1)));
      sender.sessions.decrypt(r.sessions.encrypt(sender.identity.peerId, new Uint8Array(1)));
    }
    const stranger = makeUser('stranger');
    stranger.sessions.addContact(rs[0]!.card);
    // One first contact (about 1.5 KB with the ML-KEM ciphertext) and two short follow-ups,
    // against six longer follow-ups: different frame counts and lengths, one bucket.
    const longer = 'a longer follow-up, '.repeat(5);
    const withFirst = [
      chat(stranger, rs[0]!, 'hello, new here'),
      chat(sender, rs[1]!, 'a'),
      chat(sender, rs[2]!, 'b'),
    ];
    const followUps = rs.map((r) => chat(sender, r, longer));
    assert.equal(withFirst[0]!.firstContact, true);
    const sizes = [withFirst, followUps].map((fs) => fs.map((f) => f.bytes.length));
    assert.notDeepEqual(sizes[0], sizes[1]);
    const a = packBatch(withFirst);
    const b = packBatch(followUps);
    assert.equal(a.length, b.length, 'same bucket, same length');
    for (const payload of [a, b]) {
      assert.deepEqual(payload.subarray(0, 5), Uint8Array.of(...utf8ToBytes('p2pc'), 2));
      const body = payload.subarray(5);
      // No run of zeros (the old padding) and byte frequencies of random data: chi-square with
      // 255 degrees of freedom stays far below 400 unless bytes are structured (p < 1e-8).
      for (let i = 0; i + 4 <= body.length; i++)
        assert.ok(body[i]! | body[i + 1]! | body[i + 2]! | body[i + 3]!, `zero run at ${i}`);
      const counts = new Array<number>(256).fill(0);
      for (const x of body) counts[x]! += 1;
      const expected = body.length / 256;
      const chi = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
      assert.ok(chi < 400, `byte distribution is not uniform (chi-square ${chi.toFixed(0)})`);
    }
    // The recipients still find their frames, and only theirs.
    const got = scanBatch(a, rs[0]!.sessions, new ReplayGuard(), rs[0]!.clock.now);
    assert.deepEqual(texts(got), ['hello, new here']);
    for (const r of rs)
      assert.deepEqual(texts(scanBatch(b, r.sessions, new ReplayGuard(), r.clock.now)), [longer]);
  });

  it('a crafted 32 KiB payload costs at most 32 first-contact trials and 2 session starts; a legitimate frame past them is still found', () => {
    const victim = makeUser('victim');
    const friend = makeUser('friend');
    introduce(victim, friend);
    victim.sessions.decrypt(friend.sessions.encrypt(victim.identity.peerId, new Uint8Array(1)));
    friend.sessions.decrypt(victim.sessions.encrypt(friend.identity.peerId, new Uint8Array(1)));
    // Junk: every slot is tried once, nothing else costs a trial.
    const junk = Uint8Array.of(...utf8ToBytes('p2pc'), 2, ...randomBytes(32_768 - 5));
    assert.equal(findFrames(junk, victim.sessions).firstContactTrials, FIRST_CONTACT_SLOTS);
    // Valid first contacts (the victim's card is public) back to back at slot offsets over the
    // whole payload, each from a fresh session so that each would cost a PQXDH start, and a
    // real follow-up at the end. A hybrid first contact spans several slots.
    const attacker = makeUser('attacker');
    const payload = Uint8Array.of(...utf8ToBytes('p2pc'), 2, ...randomBytes(32_768 - 5));
    const body = payload.subarray(5);
    const crafted = (n: number): Uint8Array => {
      const m = SessionManager.create(attacker.identity, { now: () => attacker.clock.now });
      m.issueOwnCard({ displayName: 'attacker', addresses: attacker.card.addresses });
      m.addContact(victim.card);
      const f = sealEnvelope(m, victim.identity.peerId, createEnvelope({ type: 'chat', text: `x${n}` }, 0));
      assert.ok(m.awaitsReply(victim.identity.peerId));
      return f;
    };
    const first = crafted(0);
    const stride = Math.ceil(first.length / FIRST_CONTACT_SLOT_BYTES) * FIRST_CONTACT_SLOT_BYTES;
    const count = Math.floor(body.length / stride) - 1;
    assert.ok(count > MAX_FIRST_CONTACTS_OPENED + 1, `${count} crafted first contacts`);
    for (let n = 0; n < count; n++) {
      const f = n === 0 ? first : crafted(n);
      assert.ok(f.length <= stride);
      body.set(f, n * stride);
    }
    const legit = chat(friend, victim, 'still here');
    body.set(legit.bytes, count * stride);
    const scan = findFrames(payload, victim.sessions);
    assert.ok(scan.firstContactTrials <= FIRST_CONTACT_SLOTS);
    assert.equal(
      scan.found.filter((r) => r.kind === 'message' && r.newSession).length,
      MAX_FIRST_CONTACTS_OPENED,
    );
    assert.equal(scan.found.length, MAX_FIRST_CONTACTS_OPENED + 1);
    assert.ok(
      scan.found.some((r) => r.kind === 'message' && !r.newSession && r.length === legit.bytes.length),
    );
  });

  it('version 1 containers (lengths in clear) are refused clearly; hostile payloads give DecodeError only', () => {
    const v1 = Uint8Array.of(...utf8ToBytes('p2pc'), 1, 1, 40, ...new Uint8Array(40), 0, 0);
    assert.throws(
      () => findFrames(v1, makeUser('x').sessions),
      (e: unknown) => e instanceof DecodeError && e.code === 'UNKNOWN_VERSION' && /version 1/.test(e.message),
    );
    const v3 = packBatch([other(new Uint8Array(40).fill(9))]);
    v3[4] = 3;
    assert.throws(
      () => findFrames(v3, makeUser('x').sessions),
      (e: unknown) => e instanceof DecodeError && e.code === 'UNKNOWN_VERSION',
    );
    assert.throws(
      () => findFrames(new Uint8Array(40_000), makeUser('x').sessions),
      (e: unknown) => e instanceof DecodeError && e.code === 'TOO_LARGE',
    );
    const b = makeUser('b');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (junk) => {
        for (const payload of [junk, Uint8Array.of(0x70, 0x32, 0x70, 0x63, 2, ...junk)]) {
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

  it('any mix of frames packs within its bucket and each recipient-visible frame sits where the layout says (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ bytes: fc.uint8Array({ minLength: 8, maxLength: 300 }), firstContact: fc.boolean() }),
          {
            minLength: 1,
            maxLength: 30,
          },
        ),
        (frames) => {
          const payload = packBatch(frames);
          assert.equal(payload.length, batchSize(frames));
          const body = payload.subarray(5);
          for (const f of frames) {
            const unit = f.firstContact ? FIRST_CONTACT_SLOT_BYTES : 8;
            let found = false;
            for (let at = 0; at + f.bytes.length <= body.length && !found; at += unit)
              found = bytesToHex(body.subarray(at, at + f.bytes.length)) === bytesToHex(f.bytes);
            assert.ok(found, 'frame not at an aligned offset');
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
