/**
 * Encryption of attachment bytes (docs/crypto.md §10): each attachment has its own random
 * 256-bit key, carried in the manifest inside the ratchet-encrypted message; each chunk is
 * sealed with ChaCha20-Poly1305 (RFC 8439) under that key with the chunk index as nonce.
 * A counter nonce is safe because the key is fresh per attachment and each index is sealed
 * once; the associated data binds a chunk to its attachment, place and count, so chunks cannot
 * be moved between attachments or positions. The BLAKE3 hash of the whole plaintext, also in
 * the manifest, is checked after reassembly: Poly1305 is not key-committing, the hash is.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { blake3 } from '@noble/hashes/blake3.js';
import { ByteWriter } from '../../util/binary.ts';
import { utf8ToBytes } from '../../util/bytes.ts';
import { assertBytes, assertInteger } from '../../util/errors.ts';
import { AttachmentError } from './errors.ts';
import { resolveLimits, type AttachmentLimits } from './limits.ts';
import {
  checkManifest,
  chunkLength,
  newAttachmentId,
  newAttachmentKey,
  type AttachmentKind,
  type ContentHash,
  type Manifest,
} from './manifest.ts';

/** Bytes a sealed chunk adds to its plaintext (the Poly1305 tag). */
export const CHUNK_TAG_BYTES = 16;
const AAD_DOMAIN = utf8ToBytes('p2pcomm/v1/attachment-chunk');

function nonce(index: number): Uint8Array {
  const n = new Uint8Array(12);
  new DataView(n.buffer).setUint32(8, index);
  return n;
}

function aad(m: Manifest, index: number): Uint8Array {
  return new ByteWriter(AAD_DOMAIN.length + 24)
    .bytes(AAD_DOMAIN)
    .bytes(m.id)
    .u32(index)
    .u32(m.chunkCount)
    .finish();
}

/** BLAKE3-256 of `bytes`. */
export function contentHash(bytes: Uint8Array): ContentHash {
  return blake3(bytes) as ContentHash;
}

/** Seals plaintext chunk `index` of `m`. */
export function sealChunk(m: Manifest, index: number, plaintext: Uint8Array): Uint8Array {
  assertInteger('index', index, 0, m.chunkCount - 1);
  assertBytes('plaintext', plaintext, chunkLength(m, index));
  return chacha20poly1305(m.key, nonce(index), aad(m, index)).encrypt(plaintext);
}

/**
 * Opens sealed chunk `index` of `m`: AttachmentError BAD_CHUNK for an index or length the
 * manifest does not allow, TAMPERED when it fails authentication.
 */
export function openChunk(m: Manifest, index: number, sealed: Uint8Array): Uint8Array {
  assertBytes('sealed', sealed);
  if (!Number.isInteger(index) || index < 0 || index >= m.chunkCount) {
    throw new AttachmentError('BAD_CHUNK', `chunk ${index} of an attachment of ${m.chunkCount} chunks`);
  }
  const expected = chunkLength(m, index) + CHUNK_TAG_BYTES;
  if (sealed.length !== expected) {
    throw new AttachmentError(
      'BAD_CHUNK',
      `chunk ${index} has ${sealed.length} bytes, the manifest says ${expected}`,
    );
  }
  try {
    return chacha20poly1305(m.key, nonce(index), aad(m, index)).decrypt(sealed);
  } catch (e) {
    throw new AttachmentError('TAMPERED', `chunk ${index} failed authentication`, { cause: e });
  }
}

/** What the sender says about a file besides its bytes. */
export interface AttachmentInfo {
  readonly kind: AttachmentKind;
  readonly name: string;
  readonly mediaType: string;
  readonly thumbnail?: Uint8Array;
  readonly durationMs?: number;
  readonly waveform?: Uint8Array;
}

/** A new attachment: its manifest and its sealed chunks, in order. */
export interface PreparedAttachment {
  readonly manifest: Manifest;
  readonly chunks: readonly Uint8Array[];
}

/**
 * Encrypts `bytes` as a new attachment under a fresh key. AttachmentError EMPTY or TOO_LARGE
 * (or BAD_MANIFEST for a name or type the format refuses) before any work is done.
 */
export function prepareAttachment(
  bytes: Uint8Array,
  info: AttachmentInfo,
  limits: Partial<AttachmentLimits> = {},
): PreparedAttachment {
  assertBytes('bytes', bytes);
  const l = resolveLimits(limits);
  const chunkSize = l.chunkBytes;
  const manifest: Manifest = {
    id: newAttachmentId(),
    kind: info.kind,
    name: info.name,
    mediaType: info.mediaType,
    size: bytes.length,
    hash: contentHash(bytes),
    key: newAttachmentKey(),
    chunkSize,
    chunkCount: Math.ceil(bytes.length / chunkSize),
    thumbnail: info.thumbnail ?? new Uint8Array(0),
    durationMs: info.durationMs ?? 0,
    waveform: info.waveform ?? new Uint8Array(0),
  };
  checkManifest(manifest, l);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < manifest.chunkCount; i++) {
    chunks.push(
      sealChunk(manifest, i, bytes.subarray(i * chunkSize, i * chunkSize + chunkLength(manifest, i))),
    );
  }
  return { manifest, chunks };
}
