/**
 * Peer ID = BLAKE3(Ed25519 identity public key), spec "Cryptographic Guarantees".
 * Text form: bech32m (BIP-350) with human-readable part "p2p". Its BCH code detects any
 * error in up to 4 characters, so a mistyped or truncated ID is refused, not misrouted.
 */
import { blake3 } from '@noble/hashes/blake3.js';
import { bech32m } from '@scure/base';
import { PeerIdError } from '../errors.ts';
import { assertBytes } from '../../util/errors.ts';
import { equalBytes } from '../../util/bytes.ts';
import type { Ed25519PublicKey } from './keys.ts';

/** 32-byte peer ID. */
export type PeerId = Uint8Array & { readonly __brand: 'PeerId' };

const HRP = 'p2p';
const PEER_ID_BYTES = 32;
const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
/** hrp + '1' + 52 data characters (256 bits) + 6 checksum characters. */
const TEXT_LENGTH = HRP.length + 1 + Math.ceil((PEER_ID_BYTES * 8) / 5) + 6;

/** The peer ID of an Ed25519 identity key. */
export function peerIdFromPublicKey(publicKey: Ed25519PublicKey): PeerId {
  assertBytes('publicKey', publicKey, 32);
  return blake3(publicKey) as PeerId;
}

/** Brands 32 bytes as a peer ID after a length check. */
export function asPeerId(bytes: Uint8Array): PeerId {
  assertBytes('peerId', bytes, PEER_ID_BYTES);
  return bytes as PeerId;
}

/** The text form, e.g. `p2p1…` (62 characters). */
export function formatPeerId(id: PeerId): string {
  assertBytes('id', id, PEER_ID_BYTES);
  return bech32m.encode(HRP, bech32m.toWords(id));
}

/** Parses the text form; surrounding spaces and uppercase are tolerated, nothing else. */
export function parsePeerId(text: string): PeerId {
  if (typeof text !== 'string') throw new TypeError(`"text" expected a string, got ${typeof text}`);
  const s = text.trim().toLowerCase();
  if (!s.startsWith(`${HRP}1`)) throw new PeerIdError('BAD_FORMAT', `a peer ID starts with "${HRP}1"`);
  const data = s.slice(HRP.length + 1);
  for (let i = 0; i < data.length; i++) {
    if (!CHARSET.includes(data[i]!)) {
      throw new PeerIdError('BAD_FORMAT', `invalid character at position ${HRP.length + 2 + i}`);
    }
  }
  if (s.length !== TEXT_LENGTH) {
    throw new PeerIdError('BAD_LENGTH', `a peer ID has ${TEXT_LENGTH} characters, got ${s.length}`);
  }
  // Prefix, alphabet and length are right, so a failed decode can only be the checksum.
  const decoded = bech32m.decodeUnsafe(s);
  if (decoded === undefined) throw new PeerIdError('BAD_CHECKSUM', 'peer ID checksum mismatch (mistyped?)');
  const bytes = bech32m.fromWordsUnsafe(decoded.words);
  if (bytes === undefined || bytes.length !== PEER_ID_BYTES) {
    throw new PeerIdError('BAD_LENGTH', `peer ID does not hold ${PEER_ID_BYTES} bytes`);
  }
  return bytes as PeerId;
}

/** Constant-time equality of two peer IDs. */
export function peerIdEquals(a: PeerId, b: PeerId): boolean {
  return equalBytes(a, b);
}
