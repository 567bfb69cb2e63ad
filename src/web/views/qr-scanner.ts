/**
 * The camera QR scanner panel shared by "Add contact" and the Verify screen: a video, a
 * status line and a Stop button, started by the view's own Scan button. It hands the first
 * code the view accepts to `onCode` and always releases the camera (stop, a found code, an
 * error, or the view closing).
 */
import { errorText, h } from '../dom.ts';
import { createQrDecoder } from '../qr.ts';

export interface QrScannerOptions {
  /** What the status line says once the camera runs. */
  readonly hint: string;
  /** What to say when this browser has no camera API. */
  readonly noCamera: string;
  /** True for a code this view takes. */
  readonly accept: (text: string) => boolean;
  readonly onCode: (text: string) => Promise<void>;
  /** Shows a problem where the view shows its errors. */
  readonly onError: (message: string) => void;
  /** Told when the user stops the camera (for example to move the focus back). */
  readonly onStopped?: () => void;
}

export interface QrScanner {
  /** The panel, hidden until `start`. */
  readonly el: HTMLElement;
  start(): Promise<void>;
  stop(): void;
}

/** Time between two decoding attempts of the camera picture. */
const FRAME_INTERVAL_MS = 200;

export function qrScanner(options: QrScannerOptions): QrScanner {
  const video = h('video', {
    class: 'scan-video',
    muted: true,
    playsinline: true,
    'aria-label': 'Camera view',
  });
  const stopBtn = h('button', { type: 'button', class: 'btn' }, 'Stop camera');
  const status = h('p', { class: 'hint', role: 'status' });
  const el = h(
    'div',
    { class: 'scanner card', hidden: true },
    video,
    status,
    h('div', { class: 'row' }, stopBtn),
  );
  let stream: MediaStream | undefined;
  let scanning = false;

  const stop = (): void => {
    scanning = false;
    for (const t of stream?.getTracks() ?? []) t.stop();
    stream = undefined;
    video.srcObject = null;
    el.hidden = true;
  };
  stopBtn.addEventListener('click', () => {
    stop();
    options.onStopped?.();
  });

  const start = async (): Promise<void> => {
    if (navigator.mediaDevices?.getUserMedia === undefined) {
      options.onError(options.noCamera);
      return;
    }
    try {
      el.hidden = false;
      status.textContent = 'Starting camera...';
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: 'environment' },
        audio: false,
      });
      video.srcObject = stream;
      await video.play();
      const decode = await createQrDecoder();
      status.textContent = options.hint;
      scanning = true;
      while (scanning) {
        const text = await decode(video).catch(() => null);
        if (text !== null && options.accept(text)) {
          stop();
          await options.onCode(text);
          return;
        }
        await new Promise((r) => setTimeout(r, FRAME_INTERVAL_MS));
      }
    } catch (err) {
      stop();
      options.onError(`Camera unavailable: ${errorText(err)}`);
    }
  };
  return { el, start, stop };
}
