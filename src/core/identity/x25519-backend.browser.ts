/**
 * X25519 (RFC 7748) in browsers: @noble/curves. Node.js loads `x25519-backend.ts` instead
 * (the package's "browser" map swaps the two when the web app is bundled).
 */
import { x25519 } from '@noble/curves/ed25519.js';
import type { X25519Backend } from './x25519-types.ts';

/** The pure-JavaScript function. */
export const x25519Backend: X25519Backend = {
  name: 'noble',
  shared: (secret, peer) => x25519.getSharedSecret(secret, peer),
  publicKey: (secret) => x25519.getPublicKey(secret),
};
