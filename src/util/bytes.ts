/** Byte helpers shared by every layer: bytes inside, text only at the edges (STYLE §2). */
import { bytesToHex, hexToBytes, concatBytes, utf8ToBytes, randomBytes } from '@noble/hashes/utils.js';

export { bytesToHex, hexToBytes, concatBytes, utf8ToBytes, randomBytes };

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Strict UTF-8 decoding: invalid sequences throw instead of turning into U+FFFD. */
export function bytesToUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Constant-time comparison for equal-length secrets; false when lengths differ. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Overwrites secret material that is no longer needed (best effort in a GC'd runtime). */
export function wipe(...buffers: Uint8Array[]): void {
  for (const b of buffers) b.fill(0);
}
