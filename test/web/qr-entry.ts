/** Browser entry for qr.test.ts: draws a QR code as the app renders it, then decodes it. */
import { createQrDecoder, qrSvg } from '../../src/web/qr.ts';

/** Renders `text` with qrSvg, rasterises it at `scale` pixels per module, decodes it. */
export async function roundTrip(text: string, native: boolean, scale = 6): Promise<string | null> {
  const el = qrSvg(text, 'test');
  const size = Number(el.getAttribute('viewBox')?.split(' ')[2]);
  el.setAttribute('width', String(size * scale));
  el.setAttribute('height', String(size * scale));
  // The page has no stylesheet, so colours go on the elements for rasterising.
  el.querySelector('rect')?.setAttribute('fill', '#ffffff');
  el.querySelector('path')?.setAttribute('fill', '#000000');
  const url = URL.createObjectURL(
    new Blob([new XMLSerializer().serializeToString(el)], { type: 'image/svg+xml' }),
  );
  const img = new Image();
  img.src = url;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size * scale;
  canvas.getContext('2d')?.drawImage(img, 0, 0);
  URL.revokeObjectURL(url);
  const decode = await createQrDecoder({ native });
  return decode(await createImageBitmap(canvas));
}

/** Whether this browser offers a native QR detector (informational). */
export function hasNativeDetector(): boolean {
  return 'BarcodeDetector' in globalThis;
}

/** Decodes a plain white image: there is no code in it. */
export async function decodeBlank(native: boolean): Promise<string | null> {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 200;
  const g = canvas.getContext('2d');
  if (g === null) throw new Error('no 2D canvas');
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, 200, 200);
  const decode = await createQrDecoder({ native });
  return decode(await createImageBitmap(canvas));
}
