/**
 * The composer's voice note recorder (issue 14 "Record a voice note"): a microphone button
 * that records with MediaRecorder in Opus where the browser has it (voice.ts picks the type,
 * which the attachment carries), a panel with the running length, a live level meter
 * (AnalyserNode, Web Audio API §1.8) and Cancel / Send. The longest note (the `maxVoiceMs`
 * limit) is shown on the button before recording, and the recording stops there by itself.
 *
 * A recording the browser refuses (permission denied, no microphone, no recorder for any Opus
 * or other audio type) shows why in words and changes nothing: nothing is stored or sent.
 * Sent, a note is an attachment of kind `voice` with its length and a 64-level waveform
 * summary (docs/protocol.md "Voice note summary").
 */
import type { AttachmentView, ContactId } from '../app-api.ts';
import { errorText, h } from '../dom.ts';
import {
  VOICE_BITS_PER_SECOND,
  durationLimitText,
  durationText,
  peakOfTimeDomain,
  pickVoiceMediaType,
  recordingRefusal,
  refusalText,
  voiceMediaType,
  waveformSummary,
} from '../../core/attachments/voice.ts';
import type { ViewContext } from './view.ts';

/** How often the meter and the running length are updated, ms (also one waveform tick). */
const TICK_MS = 50;
/** Fraction of the meter's reading kept from one tick to the next when the sound falls. */
const METER_FALL = 0.85;
/** MediaRecorder timeslice, ms: data arrives in pieces, so stopping loses at most this much. */
const TIMESLICE_MS = 1000;

/** The recorder of one conversation's composer. */
export interface VoiceRecorderPart {
  /** The microphone button, for the composer. */
  readonly button: HTMLElement;
  /** The recording panel and the refusal line, shown above the composer. */
  readonly panel: HTMLElement;
  dispose(): void;
}

/** One recording in progress; everything it holds is released by `release`. */
interface Recording {
  readonly stream: MediaStream;
  readonly recorder: MediaRecorder;
  readonly audio: AudioContext;
  readonly analyser: AnalyserNode;
  readonly pieces: Blob[];
  readonly levels: number[];
  readonly stopped: Promise<void>;
  startedAt: number;
  endedAt: number | undefined;
  timer: ReturnType<typeof setInterval> | undefined;
}

/**
 * The recorder for conversation `id`; `sent` gets the view of each note sent (the attachment
 * rows show it with its player).
 */
export function voiceRecorder(
  ctx: ViewContext,
  id: ContactId,
  sent: (a: AttachmentView) => void,
): VoiceRecorderPart {
  const maxMs = ctx.api.attachmentLimits().maxVoiceMs;
  const limitWords = durationLimitText(maxMs);
  const button = h(
    'button',
    {
      type: 'button',
      class: 'btn voice-record',
      title: `Record a voice note (up to ${limitWords})`,
      'aria-label': `Record a voice note, up to ${limitWords}`,
    },
    'Voice',
  );
  const time = h('p', { class: 'voice-time', role: 'timer', 'aria-live': 'off' }, '0:00');
  const meter = h('meter', {
    class: 'voice-level',
    min: 0,
    max: 1,
    value: 0,
    'aria-label': 'Microphone level',
  });
  const note = h('p', { class: 'hint voice-limit' }, `Up to ${limitWords}.`);
  const cancel = h('button', { type: 'button', class: 'btn voice-cancel' }, 'Cancel');
  const send = h('button', { type: 'button', class: 'btn primary voice-send' }, 'Send voice note');
  const box = h(
    'div',
    { class: 'voice-recorder', role: 'group', 'aria-label': 'Voice note recording', hidden: true },
    h('span', { class: 'voice-dot', 'aria-hidden': 'true' }),
    time,
    meter,
    note,
    h('div', { class: 'row' }, cancel, send),
  );
  const error = h('p', { class: 'field-error voice-error', role: 'alert' });
  const panel = h('div', { class: 'voice-area' }, box, error);
  let current: Recording | undefined;
  let starting = false;
  let disposed = false;

  const show = (recording: boolean): void => {
    box.hidden = !recording;
    button.toggleAttribute('disabled', recording || starting);
    button.setAttribute('aria-pressed', String(recording));
  };

  const elapsed = (r: Recording): number => (r.endedAt ?? performance.now()) - r.startedAt;

  const release = (r: Recording): void => {
    if (r.timer !== undefined) clearInterval(r.timer);
    r.timer = undefined;
    for (const t of r.stream.getTracks()) t.stop();
    void r.audio.close().catch(() => undefined);
  };

  /** Stops the recorder (idempotent); resolves once its last data has arrived. */
  const stop = (r: Recording): Promise<void> => {
    r.endedAt ??= performance.now();
    if (r.recorder.state !== 'inactive') r.recorder.stop();
    release(r);
    return r.stopped;
  };

  const tick = (r: Recording): void => {
    const data = new Uint8Array(r.analyser.fftSize);
    r.analyser.getByteTimeDomainData(data);
    const level = peakOfTimeDomain(data);
    r.levels.push(level);
    // Peak meter ballistics (rise at once, fall by a fraction each tick, as in IEC 60268-10
    // peak programme meters), so a short sound stays readable for a moment.
    meter.value = Math.max(level, meter.value * METER_FALL);
    const ms = elapsed(r);
    time.textContent = `${durationText(ms)} / ${durationText(maxMs)}`;
    if (ms >= maxMs) {
      // At the limit the recording ends; the note waits for Send or Cancel.
      void stop(r);
      note.textContent = `Stopped at the limit of ${limitWords}. Send it or cancel.`;
    }
  };

  const start = async (): Promise<void> => {
    error.textContent = '';
    if (current !== undefined || starting) return;
    starting = true;
    show(false);
    let stream: MediaStream | undefined;
    try {
      if (typeof MediaRecorder === 'undefined' || navigator.mediaDevices?.getUserMedia === undefined)
        throw Object.assign(new Error('no recorder'), { name: 'NotSupportedError' });
      const mimeType = pickVoiceMediaType((t) => MediaRecorder.isTypeSupported(t));
      if (mimeType === undefined) throw Object.assign(new Error('no type'), { name: 'NotSupportedError' });
      stream = await navigator.mediaDevices.getUserMedia({
        // The microphone as it is, like a dictaphone: the call processing browsers apply by
        // default (echo cancellation, noise suppression, gain control) is tuned for a live
        // far end, which a note does not have, and it flattens short sounds and the level.
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
      });
      if (disposed) {
        for (const t of stream.getTracks()) t.stop();
        return;
      }
      const recorder = new MediaRecorder(stream, { mimeType, audioBitsPerSecond: VOICE_BITS_PER_SECOND });
      const audio = new AudioContext();
      const analyser = audio.createAnalyser();
      // 2,048 samples span about 43 ms at 48 kHz, most of a meter tick, so a short sound
      // between two ticks still moves the meter and lands in the waveform.
      analyser.fftSize = 2048;
      audio.createMediaStreamSource(stream).connect(analyser);
      const pieces: Blob[] = [];
      recorder.addEventListener('dataavailable', (e) => {
        if (e.data.size > 0) pieces.push(e.data);
      });
      const stopped = new Promise<void>((resolve) => recorder.addEventListener('stop', () => resolve()));
      const r: Recording = {
        stream,
        recorder,
        audio,
        analyser,
        pieces,
        levels: [],
        stopped,
        startedAt: performance.now(),
        endedAt: undefined,
        timer: undefined,
      };
      recorder.addEventListener('error', () => {
        if (current !== r) return;
        current = undefined;
        void stop(r);
        error.textContent = refusalText('failed');
        show(false);
      });
      recorder.start(TIMESLICE_MS);
      r.startedAt = performance.now();
      r.timer = setInterval(() => tick(r), TICK_MS);
      current = r;
      note.textContent = `Up to ${limitWords}.`;
      time.textContent = `0:00 / ${durationText(maxMs)}`;
      meter.value = 0;
      starting = false;
      show(true);
      send.focus();
    } catch (e) {
      for (const t of stream?.getTracks() ?? []) t.stop();
      starting = false;
      show(false);
      error.textContent = refusalText(recordingRefusal(e));
    }
  };

  const discard = (): void => {
    const r = current;
    current = undefined;
    if (r !== undefined) void stop(r);
    show(false);
    button.focus();
  };

  const finish = async (): Promise<void> => {
    const r = current;
    if (r === undefined) return;
    current = undefined;
    send.disabled = true;
    try {
      await stop(r);
      const durationMs = Math.max(1, Math.round(elapsed(r)));
      const type = voiceMediaType(r.recorder.mimeType, r.pieces[0]?.type || 'audio/webm');
      const blob = new Blob(r.pieces, { type });
      if (blob.size === 0) throw Object.assign(new Error('empty'), { name: 'Failed' });
      const bytes = new Uint8Array(await blob.arrayBuffer());
      const view = await ctx.api.sendFile(id, {
        name: '',
        type,
        bytes,
        voice: { durationMs, waveform: waveformSummary(r.levels) },
      });
      if (!disposed) sent(view);
    } catch (e) {
      error.textContent =
        e instanceof Error && e.name === 'Failed'
          ? refusalText('failed')
          : `The voice note was not sent: ${errorText(e)}`;
    } finally {
      send.disabled = false;
      show(false);
    }
  };

  button.addEventListener('click', () => void start());
  cancel.addEventListener('click', discard);
  send.addEventListener('click', () => void finish());

  return {
    button,
    panel,
    dispose() {
      disposed = true;
      const r = current;
      current = undefined;
      if (r !== undefined) void stop(r);
    },
  };
}
