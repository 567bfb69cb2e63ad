/**
 * QR codes for contact sharing: encoding with uqr (rendered as one SVG path, no markup
 * strings), decoding with the browser's BarcodeDetector where present, else jsQR loaded on
 * demand so the app's first load does not pay for it.
 */
import { encode } from 'uqr';
import { svg } from './dom.ts';

/**
 * The modules of the QR code of `text` (true = dark), quiet zone included: error correction M
 * (survives ~15% damage: screens, glare) and a 2-module border, enough on a screen's plain
 * background. What `qrSvg` draws; tests also rasterize it into camera frames.
 */
export function qrModules(text: string): {
  readonly size: number;
  readonly data: readonly (readonly boolean[])[];
} {
  return encode(text, { ecc: 'M', border: 2 });
}

/**
 * The QR version (1-40) of `text` at the level `qrModules` uses: what a phone camera must
 * resolve. The short invite (core/contact/short-invite.ts) is version 4; the full one, 37.
 */
export function qrVersion(text: string): number {
  return encode(text, { ecc: 'M', border: 2 }).version;
}

/** An SVG QR code of `text` (`qrModules`), labelled for screen readers. */
export function qrSvg(text: string, label: string): SVGSVGElement {
  const qr = qrModules(text);
  let d = '';
  for (let y = 0; y < qr.size; y++) {
    const row = qr.data[y];
    if (row === undefined) continue;
    for (let x = 0; x < qr.size; x++) if (row[x] === true) d += `M${x} ${y}h1v1h-1z`;
  }
  const el = svg(
    'svg',
    {
      viewBox: `0 0 ${qr.size} ${qr.size}`,
      class: 'qr',
      role: 'img',
      'aria-label': label,
      'shape-rendering': 'crispEdges',
    },
    svg('rect', { width: qr.size, height: qr.size, class: 'qr-bg' }),
    svg('path', { d, class: 'qr-fg' }),
  );
  return el;
}

interface DetectedBarcode {
  readonly rawValue: string;
}
interface BarcodeDetectorLike {
  detect(source: ImageBitmapSource): Promise<DetectedBarcode[]>;
}
interface BarcodeDetectorCtor {
  new (options: { formats: string[] }): BarcodeDetectorLike;
  getSupportedFormats(): Promise<string[]>;
}

/** A decoder of QR codes in video frames or images; null result = nothing found. */
export type QrDecoder = (source: HTMLVideoElement | ImageBitmap) => Promise<string | null>;

/**
 * Picks BarcodeDetector when it supports QR, else jsQR on a canvas. `native: false` forces
 * jsQR (tests run both paths).
 */
export async function createQrDecoder(options: { readonly native?: boolean } = {}): Promise<QrDecoder> {
  const Ctor = (globalThis as { BarcodeDetector?: BarcodeDetectorCtor }).BarcodeDetector;
  if (Ctor !== undefined && options.native !== false) {
    try {
      if ((await Ctor.getSupportedFormats()).includes('qr_code')) {
        const detector = new Ctor({ formats: ['qr_code'] });
        return async (source) => (await detector.detect(source))[0]?.rawValue ?? null;
      }
    } catch {
      // Present but unusable (e.g. no platform backend): fall through to jsQR.
    }
  }
  const { default: jsQR } = await import('jsqr');
  const canvas = document.createElement('canvas');
  const g = canvas.getContext('2d', { willReadFrequently: true });
  if (g === null) throw new Error('No 2D canvas available');
  return (source) => {
    const w = source instanceof HTMLVideoElement ? source.videoWidth : source.width;
    const hgt = source instanceof HTMLVideoElement ? source.videoHeight : source.height;
    if (w === 0 || hgt === 0) return Promise.resolve(null);
    canvas.width = w;
    canvas.height = hgt;
    g.drawImage(source, 0, 0);
    const img = g.getImageData(0, 0, w, hgt);
    return Promise.resolve(jsQR(img.data, w, hgt, { inversionAttempts: 'attemptBoth' })?.data ?? null);
  };
}
