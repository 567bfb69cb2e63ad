/**
 * Length hiding for envelopes inside their encryption. Padmé (Nikitin et al., "Reducing
 * Metadata Leakage from Encrypted Files and Communication with PURBs", PETS 2019 §4) rounds
 * a length L to a value whose low bits are zero, leaking O(log log L) bits at ≤ 12 % cost,
 * cheaper on chain than rounding to powers of two. Pad bytes follow ISO/IEC 7816-4: one
 * 0x80 then zeros, so the original length needs no field of its own.
 */
import { DecodeError } from '../../util/errors.ts';

/** The Padmé length for a content of `length` bytes. */
export function padmeLength(length: number): number {
  if (length < 2) return length;
  const e = Math.floor(Math.log2(length));
  const s = Math.floor(Math.log2(e)) + 1;
  const lastBits = e - s;
  const mask = 2 ** lastBits - 1;
  return Math.ceil((length + mask) / 2 ** lastBits) * 2 ** lastBits;
}

/** `content ‖ 0x80 ‖ 0x00…` of Padmé length. */
export function pad(content: Uint8Array): Uint8Array {
  const out = new Uint8Array(padmeLength(content.length + 1));
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
