/**
 * Voice notes (issue 14; spec "Offline Voice Messages": Opus, "a 1-minute voice message is
 * about 50 KB"): the pure parts the recorder and the player share. The summary format is in
 * docs/protocol.md "Voice note summary".
 *
 * A voice note is an attachment of kind `voice` whose manifest carries its length
 * (`durationMs`) and a waveform of WAVEFORM_SAMPLES peak levels, so the player can draw it and
 * show the length before a single chunk has arrived.
 */
import { assertInteger } from '../../util/errors.ts';
import { WAVEFORM_SAMPLES } from './limits.ts';

/** Version of the waveform summary's meaning (docs/protocol.md "Voice note summary"). */
export const VOICE_SUMMARY_VERSION = 1;

/**
 * Opus bit rate asked of the recorder. Speech at 6 kbit/s is Opus's narrowband SILK mode
 * (RFC 6716 §2.1.1: 6-12 kbit/s narrowband); with the WebM container it makes about 50 KB a
 * minute, the spec's figure, so a minute fits one chain payload's worth of chunks.
 */
export const VOICE_BITS_PER_SECOND = 6_000;

/**
 * Container types tried in order. WebM/Opus is what Chromium and Firefox record; Ogg/Opus is
 * Firefox's other; MP4 is what Safari records (AAC or Opus inside).
 */
export const VOICE_MEDIA_TYPES: readonly string[] = [
  'audio/webm;codecs=opus',
  'audio/ogg;codecs=opus',
  'audio/webm',
  'audio/mp4',
];

/**
 * The first of VOICE_MEDIA_TYPES that `isSupported` accepts (MediaRecorder.isTypeSupported),
 * or undefined when the browser records none of them.
 */
export function pickVoiceMediaType(isSupported: (type: string) => boolean): string | undefined {
  if (typeof isSupported !== 'function') throw new TypeError('"isSupported" expected a function');
  return VOICE_MEDIA_TYPES.find((t) => {
    try {
      return isSupported(t);
    } catch {
      return false;
    }
  });
}

// The manifest's media type grammar (manifest.ts): lower case, parameters without quotes.
const MEDIA_TYPE = /^audio\/[a-z0-9][a-z0-9!#$&^_.+-]*(;[a-z0-9-]+=[a-z0-9-]+)*$/;

/**
 * The media type to carry in a voice note's manifest from the one the recorder reports
 * (`MediaRecorder.mimeType`, e.g. "audio/webm; codecs=opus" or "audio/webm;codecs=\"opus\"").
 * Lower-cased, spaces and quotes dropped; a type that still does not fit the manifest grammar
 * keeps only its `type/subtype`; `fallback` when even that is not audio.
 */
export function voiceMediaType(reported: string, fallback: string): string {
  if (typeof reported !== 'string') throw new TypeError('"reported" expected a string');
  const t = reported.toLowerCase().replace(/[\s"]/g, '');
  if (t.length <= 127 && MEDIA_TYPE.test(t)) return t;
  const base = t.split(';')[0] ?? '';
  if (MEDIA_TYPE.test(base)) return base;
  return fallback;
}

/** The peak of `samples` (time-domain bytes from AnalyserNode, 128 = silence), 0..1. */
export function peakOfTimeDomain(samples: Uint8Array): number {
  if (!(samples instanceof Uint8Array)) throw new TypeError('"samples" expected a Uint8Array');
  let peak = 0;
  for (const s of samples) {
    const d = Math.abs(s - 128);
    if (d > peak) peak = d;
  }
  return Math.min(1, peak / 128);
}

/**
 * Folds levels taken while recording (0..1, one per meter tick, oldest first) into the
 * summary: `count` bytes, byte i the largest level among the ticks of the i-th of `count`
 * equal slices, scaled to 0..255. Fewer ticks than slices are spread over the slices (each
 * tick repeated), so a short note still fills the width; none gives an empty summary.
 * Non-finite levels count as silence; levels are clamped to 0..1.
 */
export function waveformSummary(levels: ArrayLike<number>, count = WAVEFORM_SAMPLES): Uint8Array {
  assertInteger('count', count, 1, WAVEFORM_SAMPLES);
  const n = levels.length;
  if (n === 0) return new Uint8Array(0);
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const from = Math.floor((i * n) / count);
    const to = Math.max(from + 1, Math.floor(((i + 1) * n) / count));
    let peak = 0;
    for (let j = from; j < to && j < n; j++) {
      const v = levels[j] ?? 0;
      if (Number.isFinite(v) && v > peak) peak = v;
    }
    out[i] = Math.round(Math.min(1, peak) * 255);
  }
  return out;
}

/**
 * Heights to draw for `waveform`, 0..1, scaled to its loudest sample so a quiet note is still
 * visible; a silent or empty one draws flat bars of `floor`.
 */
export function waveformBars(waveform: Uint8Array, floor = 0.05): number[] {
  if (!(waveform instanceof Uint8Array)) throw new TypeError('"waveform" expected a Uint8Array');
  const max = waveform.reduce((m, v) => Math.max(m, v), 0);
  if (max === 0) return Array.from(waveform, () => floor);
  return Array.from(waveform, (v) => Math.max(floor, v / max));
}

/** "m:ss" (or "h:mm:ss") of a length in ms, rounded down to the second. */
export function durationText(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '0:00';
  const total = Math.floor(ms / 1000);
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const h = Math.floor(total / 3600);
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A length limit in words for the recorder's button: "10 minutes", "90 seconds". */
export function durationLimitText(ms: number): string {
  assertInteger('ms', ms, 1, Number.MAX_SAFE_INTEGER);
  const s = Math.floor(ms / 1000);
  if (s >= 60 && s % 60 === 0) return s === 60 ? '1 minute' : `${s / 60} minutes`;
  return s === 1 ? '1 second' : `${s} seconds`;
}

/** Bytes a note of `ms` takes at VOICE_BITS_PER_SECOND (WebM adds about 2 %), for the hint. */
export function expectedVoiceBytes(ms: number): number {
  assertInteger('ms', ms, 0, Number.MAX_SAFE_INTEGER);
  return Math.round(((VOICE_BITS_PER_SECOND / 8) * ms * 1.02) / 1000);
}

/** Why the browser refused to record, as the recorder shows it. */
export type RecordingRefusal = 'denied' | 'no-device' | 'unsupported' | 'busy' | 'failed';

/**
 * The refusal a getUserMedia or MediaRecorder failure stands for, by DOMException name
 * (W3C Media Capture and Streams §9.2: NotAllowedError, NotFoundError, NotReadableError,
 * OverconstrainedError; MediaRecorder: NotSupportedError).
 */
export function recordingRefusal(e: unknown): RecordingRefusal {
  const name = typeof e === 'object' && e !== null && 'name' in e ? String(e.name) : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'no-device';
    case 'NotSupportedError':
    case 'TypeError':
      return 'unsupported';
    case 'NotReadableError':
    case 'AbortError':
      return 'busy';
    default:
      return 'failed';
  }
}

/** The sentence shown for a refusal; nothing is sent and nothing else changes. */
export function refusalText(r: RecordingRefusal): string {
  switch (r) {
    case 'denied':
      return 'Microphone access was refused, so nothing was recorded. Allow the microphone for this site in the browser’s settings to record voice notes.';
    case 'no-device':
      return 'No microphone was found, so nothing was recorded.';
    case 'unsupported':
      return 'This browser cannot record voice notes.';
    case 'busy':
      return 'The microphone is in use by another program, so nothing was recorded.';
    case 'failed':
      return 'The recording failed, so nothing was sent.';
  }
}
