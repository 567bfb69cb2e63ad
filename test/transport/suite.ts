/**
 * The one behaviour suite every pair of transport implementations must pass (STYLE §10):
 * werift↔werift, Chromium↔Chromium and Chromium↔werift run exactly these cases.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { bytesToHex } from '../../src/util/bytes.ts';
import type { DriverOptions } from './driver.ts';
import type { Endpoint, Pair, PairSource } from './endpoints.ts';

interface Linked {
  readonly a: number;
  readonly b: number;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** One offer and one answer (plus relayed candidates when trickling) → both sides connected. */
export async function connect(a: Endpoint, b: Endpoint, options: DriverOptions = {}): Promise<Linked> {
  const { id: ia, offer } = await a.call('offer', options);
  const answered = await b.call('answer', offer, options);
  assert.ok(answered.ok, `answer failed: ${answered.ok ? '' : answered.code}`);
  const ib = answered.value.id;
  const accepted = await a.call('accept', ia, answered.value.answer);
  assert.ok(accepted.ok);
  if (options.trickle === true) {
    // Relay candidates both ways until both sides are connected (the engine would carry
    // each one in an envelope); the loop ends when a side connects or ends.
    while (true) {
      for (const c of await a.call('takeCandidates', ia)) assert.ok((await b.call('addCandidate', ib, c)).ok);
      for (const c of await b.call('takeCandidates', ib)) assert.ok((await a.call('addCandidate', ia, c)).ok);
      const [sa, sb] = await Promise.all([a.call('state', ia), b.call('state', ib)]);
      if (sa.state !== 'connecting' && sb.state !== 'connecting') break;
      await sleep(20);
    }
  }
  const [ca, cb] = await Promise.all([a.call('connected', ia), b.call('connected', ib)]);
  assert.deepEqual(
    [ca, cb],
    [
      { ok: true, value: null },
      { ok: true, value: null },
    ],
  );
  return { a: ia, b: ib };
}

function assertInOrder(
  got: readonly { seq: number; length: number; intact: boolean }[],
  count: number,
  length: number,
): void {
  assert.equal(got.length, count);
  got.forEach((m, i) => assert.deepEqual(m, { seq: i, length, intact: true }));
}

/** Registers the shared cases for one implementation pair. */
export function transportSuite(name: string, source: PairSource): void {
  describe(`transport: ${name}`, () => {
    let pair: Pair;
    before(async () => source.setUp?.());
    after(async () => source.tearDown?.());
    afterEach(async () => pair?.dispose());

    const fresh = async (): Promise<Pair> => (pair = await source.makePair());

    it('connects with one offer and one answer carrying every candidate (non-trickle)', async () => {
      const { a, b } = await fresh();
      const { id, offer } = await a.call('offer', {});
      assert.match(offer.sdp, /^a=candidate:/m, 'candidates gathered into the offer');
      const answered = await b.call('answer', offer, {});
      assert.ok(answered.ok);
      assert.match(answered.value.answer.sdp, /^a=candidate:/m);
      assert.ok((await a.call('accept', id, answered.value.answer)).ok);
      assert.deepEqual(await a.call('connected', id), { ok: true, value: null });
      assert.deepEqual(await b.call('connected', answered.value.id), { ok: true, value: null });
      // Nothing was trickled: the two descriptions were all the signaling there was.
      assert.deepEqual(await a.call('takeCandidates', id), []);
      assert.deepEqual(await b.call('takeCandidates', answered.value.id), []);
    });

    it('connects with trickle ICE: descriptions without candidates, candidates relayed separately', async () => {
      const { a, b } = await fresh();
      const { id, offer } = await a.call('offer', { trickle: true });
      assert.doesNotMatch(offer.sdp, /^a=candidate:/m);
      const answered = await b.call('answer', offer, { trickle: true });
      assert.ok(answered.ok);
      assert.doesNotMatch(answered.value.answer.sdp, /^a=candidate:/m);
      let relayed = 0;
      let accepted = false;
      // The offerer gets candidates before the answer: remote candidates that arrive
      // before the remote description must wait for it, not fail.
      while (!accepted || (await b.call('state', answered.value.id)).state === 'connecting') {
        for (const c of await a.call('takeCandidates', id)) {
          assert.deepEqual(await b.call('addCandidate', answered.value.id, c), {
            ok: true,
            value: { added: true },
          });
          relayed++;
        }
        for (const c of await b.call('takeCandidates', answered.value.id)) {
          assert.ok((await a.call('addCandidate', id, c)).ok);
          relayed++;
        }
        if (!accepted && relayed > 0) {
          assert.ok((await a.call('accept', id, answered.value.answer)).ok);
          accepted = true;
        }
        await sleep(20);
      }
      assert.ok(relayed > 0);
      assert.deepEqual(await a.call('connected', id), { ok: true, value: null });
      assert.deepEqual(await b.call('connected', answered.value.id), { ok: true, value: null });
    });

    it('carries messages both ways, whole and in order', async () => {
      const { a, b } = await fresh();
      const link = await connect(a, b);
      await Promise.all([a.call('send', link.a, 50, 300), b.call('send', link.b, 50, 700)]);
      assertInOrder(await b.call('received', link.b, 50), 50, 300);
      assertInOrder(await a.call('received', link.a, 50), 50, 700);
    });

    it('chunks a 1 MB message and reassembles it intact, between smaller ones', async () => {
      const { a, b } = await fresh();
      const link = await connect(a, b);
      await a.call('send', link.a, 1, 10, 0);
      await a.call('send', link.a, 1, 1 << 20, 1);
      await a.call('send', link.a, 1, 10, 2);
      assert.deepEqual(await b.call('received', link.b, 3), [
        { seq: 0, length: 10, intact: true },
        { seq: 1, length: 1 << 20, intact: true },
        { seq: 2, length: 10, intact: true },
      ]);
    });

    it('sends many small messages through a small buffer (backpressure) without loss', async () => {
      const { a, b } = await fresh();
      const options = { highWaterMark: 8 * 1024, lowWaterMark: 2 * 1024 };
      const link = await connect(a, b, options);
      assert.deepEqual(await a.call('send', link.a, 1000, 1024), { ok: true, value: null });
      assertInOrder(await b.call('received', link.b, 1000), 1000, 1024);
    });

    it('peer closes → both sides report closed; later sends fail CLOSED', async () => {
      const { a, b } = await fresh();
      const link = await connect(a, b);
      await a.call('close', link.a);
      assert.deepEqual(await a.call('state', link.a), { state: 'closed', code: undefined });
      assert.deepEqual(await b.call('waitEnded', link.b), { state: 'closed', code: 'CLOSED' });
      assert.deepEqual(await a.call('send', link.a, 1, 10), { ok: false, code: 'CLOSED' });
      assert.deepEqual(await b.call('send', link.b, 1, 10), { ok: false, code: 'CLOSED' });
    });

    it('peer vanishes (killed) → heartbeat reports disconnected', async () => {
      const { a, b } = await fresh();
      const link = await connect(a, b, { heartbeatIntervalMs: 200, heartbeatTimeoutMs: 1500 });
      await b.kill();
      assert.deepEqual(await a.call('waitEnded', link.a), { state: 'disconnected', code: 'TIMEOUT' });
    });

    it('reconnects with a fresh offer after a drop', async () => {
      const p = await fresh();
      const first = await connect(p.a, p.b, { heartbeatIntervalMs: 200, heartbeatTimeoutMs: 1500 });
      await p.b.kill();
      assert.equal((await p.a.call('waitEnded', first.a)).state, 'disconnected');
      const b = await p.respawnB();
      const second = await connect(p.a, b);
      await p.a.call('send', second.a, 3, 100);
      await b.call('send', second.b, 3, 100);
      assertInOrder(await b.call('received', second.b, 3), 3, 100);
      assertInOrder(await p.a.call('received', second.a, 3), 3, 100);
    });

    it('garbage frames from the peer → typed error, link closed deliberately, no crash', async () => {
      const { a, b } = await fresh();
      const cases: [string, string][] = [
        ['7f0102', 'PROTOCOL'], // unknown frame type
        ['02aabb', 'PROTOCOL'], // CONTINUE without START
        [bytesToHex(Uint8Array.of(0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00)), 'MESSAGE_TOO_LARGE'], // 4 GiB announced
      ];
      for (const [hex, code] of cases) {
        const link = await connect(a, b);
        await b.call('sendRaw', link.b, hex);
        assert.deepEqual(await a.call('waitEnded', link.a), { state: 'failed', code });
        // The victim closed the channel: the sender of garbage sees a plain close.
        assert.equal((await b.call('waitEnded', link.b)).state, 'closed');
      }
      // Both endpoints still work.
      const link = await connect(a, b);
      await b.call('send', link.b, 1, 64);
      assertInOrder(await a.call('received', link.a, 1), 1, 64);
    });

    it('rejects invalid signaling with SIGNALING_INVALID and misuse with TypeError/RangeError', async () => {
      const { a, b } = await fresh();
      const bad: unknown[] = [
        null,
        'v=0',
        { type: 'answer', sdp: 'v=0' },
        { type: 'offer', sdp: 42 },
        { type: 'offer', sdp: 'v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n' },
        { type: 'offer', sdp: `v=0\r\n${'a=x\r\n'.repeat(3000)}` },
      ];
      for (const offer of bad) {
        assert.deepEqual(await b.call('answer', offer as never, {}), {
          ok: false,
          code: 'SIGNALING_INVALID',
        });
      }
      const { id, offer } = await a.call('offer', {});
      assert.deepEqual(await b.call('answer', offer, { heartbeatIntervalMs: 5, heartbeatTimeoutMs: 1 }), {
        ok: false,
        code: 'RangeError',
      });
      const badCandidates = [
        { type: 'candidate', candidate: 'candidate:x', sdpMid: '0' },
        { type: 'candidate', candidate: 'a=candidate:1 1 udp 1 1.2.3.4 5 typ host', sdpMid: '0' },
        { type: 'candidate', candidate: 'candidate:1 1 udp 1 1.2.3.4 5 typ host', sdpMid: 7 },
        { type: 'answer', candidate: 'candidate:1 1 udp 1 1.2.3.4 5 typ host', sdpMid: '0' },
      ];
      for (const c of badCandidates) {
        assert.deepEqual(await a.call('addCandidate', id, c as never), {
          ok: false,
          code: 'SIGNALING_INVALID',
        });
      }
      const mdns = await a.call('addCandidate', id, {
        type: 'candidate',
        candidate: 'candidate:1 1 udp 2122260223 1f0e5a3b-2c4d-4e6f-8a9b-0c1d2e3f4a5b.local 50000 typ host',
        sdpMid: '0',
      });
      const runtime = await a.call('runtime');
      assert.deepEqual(
        mdns,
        runtime === 'werift'
          ? { ok: true, value: { added: false, reason: 'MDNS_UNSUPPORTED' } }
          : { ok: true, value: { added: true } },
      );
      assert.deepEqual(await a.call('accept', id, { type: 'answer', sdp: 'v=0\r\n' }), {
        ok: false,
        code: 'SIGNALING_INVALID',
      });
      // A refused answer fails the link: it cannot be half-negotiated.
      assert.deepEqual(await a.call('state', id), { state: 'failed', code: 'SIGNALING_INVALID' });
      const { id: id2 } = await a.call('offer', { maxMessageBytes: 1000 });
      assert.deepEqual(await a.call('sendOversized', id2, 1001), { ok: false, code: 'MESSAGE_TOO_LARGE' });
      await a.call('close', id2);
    });
  });
}
