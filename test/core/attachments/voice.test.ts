/**
 * Voice note logic (src/core/attachments/voice.ts): the waveform summary the manifest carries
 * (docs/protocol.md "Voice note summary"), the media type the recorder's report becomes, the
 * refusals shown in words, and a voice note's manifest round trip with its limits.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  AttachmentError,
  WAVEFORM_SAMPLES,
  decodeManifest,
  encodeManifest,
  prepareAttachment,
  resolveLimits,
} from '../../../src/core/attachments/index.ts';
import {
  VOICE_MEDIA_TYPES,
  durationLimitText,
  durationText,
  expectedVoiceBytes,
  peakOfTimeDomain,
  pickVoiceMediaType,
  recordingRefusal,
  refusalText,
  voiceMediaType,
  waveformBars,
  waveformSummary,
} from '../../../src/core/attachments/voice.ts';

describe('voice note waveform summary', () => {
  it('takes the peak of each of 64 equal slices, scaled to 0..255', () => {
    const levels = Array.from({ length: 128 }, (_, i) => (i % 2 === 0 ? 0 : i / 128));
    const w = waveformSummary(levels);
    assert.equal(w.length, WAVEFORM_SAMPLES);
    for (let i = 0; i < 64; i++) assert.equal(w[i], Math.round(((2 * i + 1) / 128) * 255));
  });

  it('spreads fewer ticks than slices over the whole width', () => {
    const w = waveformSummary([0.5, 1]);
    assert.equal(w.length, 64);
    assert.deepEqual([...new Set(w)], [128, 255]);
    assert.equal(w[0], 128);
    assert.equal(w[63], 255);
  });

  it('is empty for no ticks; clamps out-of-range and non-finite levels', () => {
    assert.equal(waveformSummary([]).length, 0);
    assert.deepEqual([...waveformSummary([2, -1, Number.NaN, Infinity], 4)], [255, 0, 0, 0]);
  });

  it('refuses a count outside 1..64', () => {
    assert.throws(() => waveformSummary([1], 0), RangeError);
    assert.throws(() => waveformSummary([1], 65), RangeError);
  });

  it('always has `count` bytes and never exceeds the loudest tick (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 5000 }),
        fc.integer({ min: 1, max: 64 }),
        (levels, count) => {
          const w = waveformSummary(levels, count);
          assert.equal(w.length, count);
          const loudest = Math.round(Math.max(...levels) * 255);
          assert.ok(w.every((v) => v <= loudest));
          assert.ok(w.includes(loudest), 'the loudest tick lands in some slice');
        },
      ),
    );
  });

  it('bars are relative to the loudest sample, with a floor for silence', () => {
    assert.deepEqual(waveformBars(Uint8Array.of(0, 64, 128)), [0.05, 0.5, 1]);
    assert.deepEqual(waveformBars(Uint8Array.of(0, 0)), [0.05, 0.05]);
    assert.throws(() => waveformBars([1, 2] as unknown as Uint8Array), TypeError);
  });

  it('the meter level is the peak distance from 128 in time-domain bytes', () => {
    assert.equal(peakOfTimeDomain(new Uint8Array(32).fill(128)), 0);
    assert.equal(peakOfTimeDomain(Uint8Array.of(128, 192, 100)), 0.5);
    assert.equal(peakOfTimeDomain(Uint8Array.of(0)), 1);
    assert.equal(peakOfTimeDomain(Uint8Array.of(255)), 127 / 128);
  });
});

describe('voice note media type', () => {
  it('picks the first type the browser records; none when it records none', () => {
    assert.equal(
      pickVoiceMediaType(() => true),
      'audio/webm;codecs=opus',
    );
    assert.equal(
      pickVoiceMediaType((t) => t === 'audio/mp4'),
      'audio/mp4',
    );
    assert.equal(
      pickVoiceMediaType(() => false),
      undefined,
    );
    assert.equal(
      pickVoiceMediaType(() => {
        throw new Error('no');
      }),
      undefined,
    );
    assert.ok(VOICE_MEDIA_TYPES.every((t) => voiceMediaType(t, 'x') === t));
  });

  it('normalises what the recorder reports into the manifest grammar', () => {
    assert.equal(voiceMediaType('audio/webm; codecs=opus', 'audio/webm'), 'audio/webm;codecs=opus');
    assert.equal(voiceMediaType('Audio/WebM;codecs="opus"', 'audio/webm'), 'audio/webm;codecs=opus');
    assert.equal(voiceMediaType('audio/mp4;codecs=mp4a.40.2', 'audio/webm'), 'audio/mp4');
    assert.equal(voiceMediaType('video/webm', 'audio/webm'), 'audio/webm');
    assert.equal(voiceMediaType('', 'audio/webm'), 'audio/webm');
    assert.throws(() => voiceMediaType(undefined as unknown as string, 'audio/webm'), TypeError);
  });
});

describe('voice note words', () => {
  it('durations and limits', () => {
    assert.equal(durationText(0), '0:00');
    assert.equal(durationText(3_999), '0:03');
    assert.equal(durationText(600_000), '10:00');
    assert.equal(durationText(3_725_000), '1:02:05');
    assert.equal(durationText(Number.NaN), '0:00');
    assert.equal(durationLimitText(600_000), '10 minutes');
    assert.equal(durationLimitText(60_000), '1 minute');
    assert.equal(durationLimitText(90_000), '90 seconds');
    assert.throws(() => durationLimitText(0), RangeError);
  });

  it('a minute is about 50 KB at the recorder bit rate (spec "Offline Voice Messages")', () => {
    const kb = expectedVoiceBytes(60_000) / 1000;
    assert.ok(kb > 40 && kb < 55, `${kb} KB`);
  });

  it('each browser refusal has its own words', () => {
    const named = (name: string): unknown => Object.assign(new Error('x'), { name });
    assert.equal(recordingRefusal(named('NotAllowedError')), 'denied');
    assert.equal(recordingRefusal(named('NotFoundError')), 'no-device');
    assert.equal(recordingRefusal(named('NotSupportedError')), 'unsupported');
    assert.equal(recordingRefusal(named('NotReadableError')), 'busy');
    assert.equal(recordingRefusal('weird'), 'failed');
    assert.equal(recordingRefusal(null), 'failed');
    const all = (['denied', 'no-device', 'unsupported', 'busy', 'failed'] as const).map(refusalText);
    assert.equal(new Set(all).size, all.length);
    assert.match(refusalText('denied'), /Microphone access was refused/);
  });
});

describe('voice note manifest', () => {
  const bytes = new Uint8Array(3000).fill(7);
  const info = {
    kind: 'voice' as const,
    name: '',
    mediaType: 'audio/webm;codecs=opus',
    durationMs: 3_200,
    waveform: waveformSummary([0.1, 0.9, 0.4]),
  };

  it('carries duration, waveform and the recorder type through encode and decode', () => {
    const { manifest } = prepareAttachment(bytes, info);
    const back = decodeManifest(encodeManifest(manifest), resolveLimits());
    assert.equal(back.kind, 'voice');
    assert.equal(back.mediaType, 'audio/webm;codecs=opus');
    assert.equal(back.durationMs, 3_200);
    assert.deepEqual(back.waveform, info.waveform);
  });

  it('refuses a note over the length limit, without a duration, or not audio', () => {
    const code = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        assert.ok(e instanceof AttachmentError);
        return e.code;
      }
      return 'none';
    };
    assert.equal(
      code(() => prepareAttachment(bytes, info, { maxVoiceMs: 3_000 })),
      'TOO_LARGE',
    );
    assert.equal(
      code(() => prepareAttachment(bytes, { ...info, durationMs: 0 })),
      'BAD_MANIFEST',
    );
    assert.equal(
      code(() => prepareAttachment(bytes, { ...info, mediaType: 'video/webm' })),
      'BAD_MANIFEST',
    );
    assert.equal(
      code(() => prepareAttachment(bytes, { ...info, waveform: new Uint8Array(65) })),
      'BAD_MANIFEST',
    );
  });
});
