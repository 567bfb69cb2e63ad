/**
 * The ratchet reports the tags that enter and leave its windows (ratchet.ts `takeTagChanges`)
 * instead of its whole expected set, and the session manager's index moves by those changes.
 * Over random conversations (both directions, lost, late, repeated and forged frames, restarts
 * and expiring skipped keys) an index fed only the changes equals `expectedTags()` after every
 * step, and every frame is found by tag.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Ratchet, type RatchetLimits } from '../../../src/core/session/ratchet.ts';
import { randomX25519KeyPair } from '../../../src/core/identity/keys.ts';
import { bytesToHex, randomBytes, utf8ToBytes } from '../../../src/util/bytes.ts';
import { P2pCommError } from '../../../src/util/errors.ts';

const LIMITS: RatchetLimits = { lookahead: 8, maxSkipped: 16, maxSkippedAgeMs: 1_000, recentTags: 4 };

type Step =
  | { readonly op: 'send'; readonly from: 0 | 1 }
  | { readonly op: 'deliver'; readonly to: 0 | 1; readonly pick: number; readonly keep: boolean }
  | { readonly op: 'forge'; readonly to: 0 | 1; readonly pick: number }
  | { readonly op: 'restart'; readonly who: 0 | 1 }
  | { readonly op: 'wait'; readonly ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('send' as const), from: fc.constantFrom(0 as const, 1 as const) }),
  fc.record({
    op: fc.constant('deliver' as const),
    to: fc.constantFrom(0 as const, 1 as const),
    pick: fc.nat(),
    keep: fc.boolean(),
  }),
  fc.record({
    op: fc.constant('forge' as const),
    to: fc.constantFrom(0 as const, 1 as const),
    pick: fc.nat(),
  }),
  fc.record({ op: fc.constant('restart' as const), who: fc.constantFrom(0 as const, 1 as const) }),
  fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 700 }) }),
);

/** An index kept only from `takeTagChanges`, as SessionManager keeps its own. */
class Index {
  readonly tags = new Set<string>();
  apply(r: Ratchet): void {
    const { added, removed } = r.takeTagChanges();
    for (const t of removed) this.tags.delete(t);
    for (const t of added) this.tags.add(t);
  }
}

describe('ratchet tag changes', () => {
  it('an index fed the changes alone equals the expected tags after every step', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
        const sk = randomBytes(32);
        const hka = randomBytes(32);
        const nhkb = randomBytes(32);
        const ad = utf8ToBytes('tag changes');
        const bobPreKey = randomX25519KeyPair();
        const r: [Ratchet, Ratchet] = [
          Ratchet.initInitiator(sk, bobPreKey.publicKey, hka, nhkb, ad, LIMITS),
          Ratchet.initResponder(sk, bobPreKey, hka, nhkb, ad, LIMITS),
        ];
        const index: [Index, Index] = [new Index(), new Index()];
        index[0].apply(r[0]);
        index[1].apply(r[1]);
        // Frames in flight towards each side.
        const wire: [Uint8Array[], Uint8Array[]] = [[], []];
        let now = 0;
        for (const s of steps) {
          if (s.op === 'send') {
            if (!r[s.from].canSend) continue;
            wire[1 - s.from]!.push(r[s.from].encrypt(utf8ToBytes(`m${now}`)));
            index[s.from].apply(r[s.from]);
          } else if (s.op === 'deliver' || s.op === 'forge') {
            const queue = wire[s.to];
            if (queue.length === 0) continue;
            const at = s.pick % queue.length;
            const frame = queue[at]!.slice();
            if (s.op === 'forge') frame[frame.length - 1]! ^= 1;
            else if (!s.keep) queue.splice(at, 1);
            const tag = bytesToHex(frame.subarray(0, 8));
            const known = index[s.to].tags.has(tag);
            try {
              const out = r[s.to].decrypt(frame, now);
              assert.ok(known, 'a frame that opened was in the index');
              // A repeated tag is answered as a duplicate before any decryption (ratchet.ts).
              if (s.op === 'forge' && out.kind === 'message') assert.fail('a forged frame opened');
              assert.ok(out.kind === 'message' || out.kind === 'duplicate');
            } catch (e) {
              if (!(e instanceof P2pCommError)) throw e;
            }
            index[s.to].apply(r[s.to]);
          } else if (s.op === 'restart') {
            r[s.who] = Ratchet.deserialize(r[s.who].serialize(), LIMITS);
            index[s.who] = new Index();
            index[s.who].apply(r[s.who]);
          } else {
            now += s.ms;
          }
          for (const who of [0, 1] as const)
            assert.deepEqual([...index[who].tags].sort(), [...new Set(r[who].expectedTags())].sort());
        }
      }),
      { numRuns: 150 },
    );
  });

  it('after retagAll every expected tag is reported again', () => {
    const k = randomX25519KeyPair();
    const a = Ratchet.initInitiator(
      randomBytes(32),
      k.publicKey,
      randomBytes(32),
      randomBytes(32),
      new Uint8Array(0),
    );
    const first = a.takeTagChanges();
    assert.equal(first.added.length, a.expectedTags().length);
    assert.deepEqual(a.takeTagChanges(), { added: [], removed: [] });
    a.retagAll();
    assert.deepEqual([...a.takeTagChanges().added].sort(), [...a.expectedTags()].sort());
  });
});
