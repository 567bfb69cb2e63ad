import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TransportError } from '../../src/transport/errors.ts';
import {
  FrameReassembler,
  FrameType,
  MIN_FRAME_BYTES,
  encodeMessageFrames,
} from '../../src/transport/framing.ts';
import { errorCode } from '../core/helpers.ts';

function reassemble(frames: Uint8Array[], max = 1 << 24): Uint8Array[] {
  const r = new FrameReassembler(max);
  const out: Uint8Array[] = [];
  for (const f of frames) {
    const ev = r.push(f);
    if (ev?.kind === 'message') out.push(ev.bytes);
  }
  assert.equal(r.inProgress, false);
  return out;
}

const code = (fn: () => unknown): string => errorCode(fn, TransportError);

describe('transport framing', () => {
  it('round-trips any message at any frame budget, never exceeding the budget', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 5000 }),
        fc.integer({ min: MIN_FRAME_BYTES, max: 6000 }),
        (payload, budget) => {
          const frames = encodeMessageFrames(payload, budget);
          for (const f of frames) assert.ok(f.length <= budget);
          assert.deepEqual(reassemble(frames), [payload]);
        },
      ),
    );
  });

  it('costs one byte for a message that fits one frame, and chunks exactly at the boundary', () => {
    assert.deepEqual(encodeMessageFrames(Uint8Array.of(7, 8), 64), [Uint8Array.of(FrameType.MESSAGE, 7, 8)]);
    assert.equal(encodeMessageFrames(new Uint8Array(63), 64).length, 1);
    const split = encodeMessageFrames(new Uint8Array(64), 64);
    assert.equal(split.length, 2);
    assert.equal(split[0]![0], FrameType.START);
    assert.equal(split[1]![0], FrameType.CONTINUE);
  });

  it('lets control frames interleave with the chunks of a message', () => {
    const payload = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const [first, ...rest] = encodeMessageFrames(payload, 100);
    const r = new FrameReassembler(1000);
    assert.equal(r.push(first!), undefined);
    assert.deepEqual(r.push(Uint8Array.of(FrameType.PING)), { kind: 'ping' });
    let last;
    for (const f of rest) last = r.push(f);
    assert.deepEqual(last, { kind: 'message', bytes: payload });
    assert.deepEqual(r.push(Uint8Array.of(FrameType.PONG)), { kind: 'pong' });
    assert.deepEqual(r.push(Uint8Array.of(FrameType.CLOSE)), { kind: 'close' });
  });

  it('rejects every malformed frame sequence with a typed code', () => {
    const start = (total: number, chunk: number[]): Uint8Array =>
      Uint8Array.of(FrameType.START, total, ...chunk);
    const table: [string, Uint8Array[], string][] = [
      ['empty frame', [new Uint8Array(0)], 'PROTOCOL'],
      ['unknown type', [Uint8Array.of(0x7f)], 'PROTOCOL'],
      ['CONTINUE without START', [Uint8Array.of(FrameType.CONTINUE, 1)], 'PROTOCOL'],
      ['empty CONTINUE', [start(3, [1]), Uint8Array.of(FrameType.CONTINUE)], 'PROTOCOL'],
      ['START that is already complete', [start(2, [1, 2])], 'PROTOCOL'],
      ['START with no chunk', [start(2, [])], 'PROTOCOL'],
      ['START truncated length', [Uint8Array.of(FrameType.START, 0x80)], 'PROTOCOL'],
      ['START non-minimal length', [Uint8Array.of(FrameType.START, 0x83, 0x00, 1)], 'PROTOCOL'],
      ['chunks beyond the total', [start(3, [1]), Uint8Array.of(FrameType.CONTINUE, 2, 3, 4)], 'PROTOCOL'],
      ['MESSAGE inside a chunked message', [start(3, [1]), Uint8Array.of(FrameType.MESSAGE, 2)], 'PROTOCOL'],
      ['START inside a chunked message', [start(3, [1]), start(3, [1])], 'PROTOCOL'],
      ['control frame with payload', [Uint8Array.of(FrameType.PING, 0)], 'PROTOCOL'],
      [
        'announced total above the limit',
        [Uint8Array.of(FrameType.START, 0xe9, 0x07, 1)],
        'MESSAGE_TOO_LARGE',
      ],
      ['single frame above the limit', [new Uint8Array(1002)], 'MESSAGE_TOO_LARGE'],
    ];
    for (const [name, frames, expected] of table) {
      const r = new FrameReassembler(1000);
      assert.equal(
        code(() => frames.forEach((f) => r.push(f))),
        expected,
        name,
      );
    }
  });

  it('throws nothing but TransportError on arbitrary frames, and bounds memory by the limit', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 20 }), (frames) => {
        const r = new FrameReassembler(100);
        try {
          for (const f of frames) {
            const ev = r.push(f);
            if (ev?.kind === 'message') assert.ok(ev.bytes.length <= 100);
          }
        } catch (e) {
          assert.ok(e instanceof TransportError);
        }
      }),
    );
  });

  it('checks its arguments', () => {
    assert.throws(() => encodeMessageFrames('x' as never, 100), TypeError);
    assert.throws(() => encodeMessageFrames(new Uint8Array(1), MIN_FRAME_BYTES - 1), RangeError);
    assert.throws(() => new FrameReassembler(0), RangeError);
  });
});
