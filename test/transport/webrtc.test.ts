/**
 * The shared link logic over the in-memory loopback stack (no network, so fast and
 * deterministic): option checks, abort, send rules, and the runtime split of the entry points.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { TransportError } from '../../src/transport/errors.ts';
import { createLoopbackTransport } from '../../src/transport/loopback.ts';
import { measureEchoRtt, measureThroughput, startProbeResponder } from '../../src/transport/probe.ts';
import type { PeerTransport, TransportOptions } from '../../src/transport/types.ts';

async function pair(transport: PeerTransport, options: TransportOptions = {}) {
  const offered = await transport.createOffer(options);
  const answered = await transport.acceptOffer(offered.offer, options);
  await offered.accept(answered.answer);
  await Promise.all([offered.link.whenConnected(), answered.link.whenConnected()]);
  return { a: offered.link, b: answered.link };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof TransportError && e.code === code);
}

describe('transport link logic (loopback stack)', () => {
  it('checks options at the boundary', async () => {
    const t = createLoopbackTransport();
    await assert.rejects(t.createOffer({ heartbeatIntervalMs: 0 }), RangeError);
    await assert.rejects(t.createOffer({ heartbeatIntervalMs: 100, heartbeatTimeoutMs: 100 }), RangeError);
    await assert.rejects(t.createOffer({ lowWaterMark: 10, highWaterMark: 5 }), RangeError);
    await assert.rejects(t.createOffer({ maxFrameBytes: 10 }), RangeError);
    await assert.rejects(t.createOffer({ trickle: 'yes' as never }), TypeError);
    assert.throws(() => createLoopbackTransport({ maxMessageBytes: 0 }), RangeError);
  });

  it('delivers whole messages in order, copies the caller buffer, reports state changes', async () => {
    const { a, b } = await pair(createLoopbackTransport());
    const got: number[][] = [];
    b.onMessage((m) => got.push([...m]));
    const buf = Uint8Array.of(1, 2, 3);
    const sent = a.send(buf);
    buf[0] = 9; // reuse right after the call: what was sent must not change
    await sent;
    await a.send(new Uint8Array(0));
    await a.send(Uint8Array.from({ length: 40_000 }, (_, i) => i & 0xff));
    while (got.length < 3) await new Promise((r) => setTimeout(r, 1));
    assert.deepEqual(got[0], [1, 2, 3]);
    assert.deepEqual(got[1], []);
    assert.equal(got[2]!.length, 40_000);
    const states: string[] = [];
    b.onStateChange((s, e) => states.push(`${s}:${e?.code ?? ''}`));
    a.close();
    while (b.state === 'connected') await new Promise((r) => setTimeout(r, 1));
    await rejectsWith(b.send(Uint8Array.of(1)), 'CLOSED');
    assert.deepEqual(states, ['closed:CLOSED']);
    // Misuse throws at the call, it is not a rejected promise (STYLE §3).
    assert.throws(() => void a.send('x' as never), TypeError);
  });

  it('queues sends made while connecting and flushes them on open', async () => {
    const t = createLoopbackTransport();
    const offered = await t.createOffer();
    const queued = offered.link.send(Uint8Array.of(7));
    const answered = await t.acceptOffer(offered.offer);
    const got = new Promise<Uint8Array>((r) => answered.link.onMessage(r));
    await offered.accept(answered.answer);
    await queued;
    assert.deepEqual(await got, Uint8Array.of(7));
    offered.link.close();
  });

  it('rejects a second answer and a message above maxMessageBytes', async () => {
    const t = createLoopbackTransport();
    const offered = await t.createOffer({ maxMessageBytes: 100 });
    const answered = await t.acceptOffer(offered.offer);
    await offered.accept(answered.answer);
    await rejectsWith(offered.accept(answered.answer), 'SIGNALING_INVALID');
    await rejectsWith(offered.link.send(new Uint8Array(101)), 'MESSAGE_TOO_LARGE');
    offered.link.close();
  });

  it('fails the link with ABORTED when its AbortSignal fires', async () => {
    const t = createLoopbackTransport();
    const ctl = new AbortController();
    const offered = await t.createOffer({ signal: ctl.signal });
    const waiting = offered.link.whenConnected();
    ctl.abort();
    await rejectsWith(waiting, 'ABORTED');
    assert.equal(offered.link.state, 'failed');
    await rejectsWith(offered.link.send(Uint8Array.of(1)), 'ABORTED');
  });

  it('times out a link whose answer never comes back into a connected channel', async () => {
    const t = createLoopbackTransport();
    const offered = await t.createOffer();
    // The answerer applies the offer but its answer is never delivered: the answerer's
    // connect deadline fires.
    const answered = await t.acceptOffer(offered.offer, { connectTimeoutMs: 20 });
    await rejectsWith(answered.link.whenConnected(), 'TIMEOUT');
    assert.equal(answered.link.state, 'failed');
    offered.link.close();
  });

  it('probes measure echo RTT and throughput and stop when the link ends', async () => {
    const { a, b } = await pair(createLoopbackTransport());
    startProbeResponder(b);
    const rtts = await measureEchoRtt(a, 5, 32);
    assert.equal(rtts.length, 5);
    assert.ok((await measureThroughput(a, 2, 50_000)) > 0);
    const pending = measureEchoRtt(a, 1_000_000, 32);
    b.close();
    await rejectsWith(pending, 'CLOSED');
  });

  it('keeps werift out of the browser entry point', async () => {
    const entry = fileURLToPath(new URL('../../src/transport/index.browser.ts', import.meta.url));
    const out = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'browser',
      format: 'esm',
      logLevel: 'silent',
    });
    const inputs = Object.keys(out.metafile.inputs);
    assert.ok(inputs.some((i) => i.endsWith('webrtc-browser.ts')));
    assert.deepEqual(
      inputs.filter((i) => i.includes('werift') || i.endsWith('webrtc-node.ts')),
      [],
    );
  });
});
