/**
 * X25519 (RFC 7748) in Node.js: the runtime's own (OpenSSL) function, about twenty times
 * faster than the pure-JavaScript one, which matters where a client opens hundreds of
 * sessions at once (a catch-up of 10,000 messages from 100 contacts, docs/delivery.md). The
 * web app is bundled with `x25519-backend.browser.ts` instead (package.json "browser" map).
 *
 * Keys go in as JWK, not PKCS#8: OpenSSL 3's DER decoders cost more than the scalar
 * multiplication itself. The JWK "x" member is required by Node.js but not used for a
 * private key (the public key is derived from "d"), so a placeholder is passed. The result
 * is checked at load against the RFC 7748 §6.1 vector and the pure-JavaScript function is
 * used instead if it differs or throws, so a runtime that behaves otherwise stays correct.
 */
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { x25519Backend as noble } from './x25519-backend.browser.ts';
import type { X25519Backend } from './x25519-types.ts';
import { equalBytes, hexToBytes } from '../../util/bytes.ts';
import { assertBytes } from '../../util/errors.ts';

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
const PLACEHOLDER = b64(new Uint8Array(32));
const BASE_POINT = Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 9 : 0));

function privateKey(secret: Uint8Array): KeyObject {
  assertBytes('secret', secret, 32);
  return createPrivateKey({
    key: { kty: 'OKP', crv: 'X25519', d: b64(secret), x: PLACEHOLDER },
    format: 'jwk',
  });
}

function publicKey(peer: Uint8Array): KeyObject {
  assertBytes('peer', peer, 32);
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64(peer) }, format: 'jwk' });
}

function shared(secret: Uint8Array, peer: Uint8Array): Uint8Array {
  const out = diffieHellman({ privateKey: privateKey(secret), publicKey: publicKey(peer) });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

const native: X25519Backend = {
  name: 'native',
  shared,
  publicKey: (secret) => shared(secret, BASE_POINT),
};

/** RFC 7748 §6.1: Alice's secret, her public key, Bob's public key and their shared secret. */
const VECTOR = {
  alice: hexToBytes('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'),
  alicePublic: hexToBytes('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'),
  bobPublic: hexToBytes('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'),
  shared: hexToBytes('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'),
};

function agrees(b: X25519Backend): boolean {
  try {
    return (
      equalBytes(b.publicKey(VECTOR.alice), VECTOR.alicePublic) &&
      equalBytes(b.shared(VECTOR.alice, VECTOR.bobPublic), VECTOR.shared)
    );
  } catch {
    return false;
  }
}

/** The runtime's X25519 when it passes the RFC 7748 vector, else the pure-JavaScript one. */
export const x25519Backend: X25519Backend = agrees(native) ? native : noble;
