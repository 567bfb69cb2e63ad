/**
 * The inline player of a voice note (issue 14: "it plays inline with a waveform and a seek
 * bar"): the waveform from the manifest (docs/protocol.md "Voice note summary"), drawn before
 * the audio is loaded, a play/pause button, a seek bar and the position beside the length.
 *
 * The audio comes from `attachmentBytes`, which hands out bytes only once they match the
 * manifest's BLAKE3 hash, so nothing unverified is played. The length shown and the seek bar's
 * range are the manifest's `durationMs`: a recorder's WebM carries no duration of its own
 * (MediaRecorder writes a live stream, so `audio.duration` is Infinity until played through).
 */
import type { AttachmentView } from '../app-api.ts';
import { errorText, h } from '../dom.ts';
import { durationText, waveformBars } from '../../core/attachments/voice.ts';
import type { ViewContext } from './view.ts';

/** One player, its element and what it holds (an object URL) released by `dispose`. */
export interface VoicePlayer {
  readonly el: HTMLElement;
  dispose(): void;
}

/** A player of complete voice note `a`. */
export function voicePlayer(ctx: ViewContext, a: AttachmentView): VoicePlayer {
  const durationMs = a.voice?.durationMs ?? 0;
  const total = durationText(durationMs);
  const audio = h('audio', { class: 'voice-audio', preload: 'auto' });
  const play = h(
    'button',
    { type: 'button', class: 'btn voice-play', 'aria-label': 'Play voice note', disabled: true },
    'Play',
  );
  const seek = h('input', {
    type: 'range',
    class: 'voice-seek',
    min: 0,
    max: Math.max(1, durationMs),
    step: 10,
    value: 0,
    'aria-label': 'Position in the voice note',
    disabled: true,
  });
  const time = h('span', { class: 'voice-pos', 'aria-live': 'off' }, `0:00 / ${total}`);
  const bars = waveformBars(a.voice?.waveform ?? new Uint8Array(0));
  const wave = h('div', { class: 'voice-wave', 'aria-hidden': 'true' });
  for (const height of bars) {
    const bar = h('span', { class: 'voice-bar' });
    bar.style.height = `${Math.round(height * 100)}%`;
    wave.appendChild(bar);
  }
  const status = h('span', { class: 'hint voice-status' });
  const el = h(
    'div',
    { class: 'voice-player', role: 'group', 'aria-label': `Voice note, ${total}` },
    play,
    wave,
    seek,
    time,
    status,
    audio,
  );
  let url: string | undefined;
  let disposed = false;
  let dragging = false;

  const positionMs = (): number => Math.round(audio.currentTime * 1000);
  const render = (): void => {
    const at = Math.min(positionMs(), durationMs);
    if (!dragging) seek.value = String(at);
    time.textContent = `${durationText(at)} / ${total}`;
    const played = durationMs > 0 ? at / durationMs : 0;
    const lit = Math.round(played * bars.length);
    wave.childNodes.forEach((b, i) => (b as HTMLElement).classList.toggle('played', i < lit));
    const paused = audio.paused || audio.ended;
    play.textContent = paused ? 'Play' : 'Pause';
    play.setAttribute('aria-label', paused ? 'Play voice note' : 'Pause voice note');
  };

  ctx.api.attachmentBytes(a.id).then(
    (bytes) => {
      if (disposed) return;
      url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: a.mediaType }));
      audio.src = url;
      play.disabled = false;
      seek.disabled = false;
    },
    (e: unknown) => {
      status.textContent = `Not playable: ${errorText(e)}`;
    },
  );

  play.addEventListener('click', () => {
    if (audio.paused || audio.ended) {
      audio.play().catch((e: unknown) => {
        status.textContent = `Not playable: ${errorText(e)}`;
      });
    } else audio.pause();
  });
  seek.addEventListener('input', () => {
    dragging = true;
    time.textContent = `${durationText(Number(seek.value))} / ${total}`;
  });
  seek.addEventListener('change', () => {
    dragging = false;
    audio.currentTime = Number(seek.value) / 1000;
    render();
  });
  for (const ev of ['timeupdate', 'play', 'pause', 'ended', 'seeked']) audio.addEventListener(ev, render);
  audio.addEventListener('error', () => {
    status.textContent = 'This browser cannot play this voice note.';
  });

  return {
    el,
    dispose() {
      disposed = true;
      audio.pause();
      if (url !== undefined) URL.revokeObjectURL(url);
    },
  };
}
