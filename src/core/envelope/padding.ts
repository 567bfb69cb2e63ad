/**
 * Length hiding for envelopes inside their encryption. Up to 128 bytes (short chat messages,
 * receipts, ICE candidates) the length is rounded up to a power of two, at least 64, so
 * short messages all look alike. Above, Padmé (Nikitin et al., "Reducing Metadata Leakage
 * from Encrypted Files and Communication with PURBs", PETS 2019 §4) rounds L to a value
 * whose low bits are zero, leaking O(log log L) bits at ≤ 12 % cost, cheaper on chain than
 * powers of two. Pad bytes follow ISO/IEC 7816-4: one 0x80 then zeros, so the original
 * length needs no field of its own.
 */
import { DecodeError } from '../../util/errors.ts';

/** The Padmé length for a content of `length` bytes. */
export function padmeLength(length: number): number {
  if (length < 2) return length;
  const e = Math.floor(Math.log2(length));
  const s = Math.floor(Math.log2(e)) + 1;
  const lastBits = e - s;
  const mask = 2 ** lastBits - 1;
  return Math.floor((length + mask) / 2 ** lastBits) * 2 ** lastBits;
}

/** Smallest padded envelope. */
const MIN_PADDED = 64;
/** Up to this size, lengths are rounded to powers of two. */
const POWER_OF_TWO_UP_TO = 128;

/** The padded length of an envelope of `length` bytes (including the 0x80 marker). */
export function paddedLength(length: number): number {
  if (length <= POWER_OF_TWO_UP_TO)
    return Math.max(MIN_PADDED, 2 ** Math.ceil(Math.log2(Math.max(1, length))));
  return padmeLength(length);
}

/** `content ‖ 0x80 ‖ 0x00…` of `paddedLength`. */
export function pad(content: Uint8Array): Uint8Array {
  const out = new Uint8Array(paddedLength(content.length + 1));
  out.set(content);
  out[content.length] = 0x80;
  return out;
}

/** Inverse of `pad`; DecodeError when the padding is not well formed. */
export function unpad(padded: Uint8Array): Uint8Array {
  let i = padded.length - 1;
  while (i >= 0 && padded[i] === 0) i--;
  if (i < 0 || padded[i] !== 0x80) throw new DecodeError('MALFORMED', 'bad envelope padding');
  return padded.subarray(0, i);
}
