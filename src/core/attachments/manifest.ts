/**
 * The attachment manifest: what a message says about an attachment whose bytes travel beside
 * it in chunks (envelope type 16; layout in docs/protocol.md "Attachment manifest").
 *
 *   u8 version=1 | id[16] | u8 kind | varbytes name | varbytes mediaType | u64 size
 *   | hash[32] (BLAKE3 of the plaintext) | key[32] | varuint chunkSize | varuint chunkCount
 *   | varbytes thumbnail (JPEG, image only) | varuint durationMs | varbytes waveform
 *
 * Every field is checked against the receiver's own limits before anything is stored, and
 * the fields must agree with one another (chunkCount = ceil(size / chunkSize)), so a manifest
 * that lies about its size is refused up front and one that lies about its hash is refused
 * once the bytes are in, before anything is shown.
 */
import { ByteReader, ByteWriter, readText, writeText } from '../../util/binary.ts';
import { randomBytes } from '../../util/bytes.ts';
import { DecodeError, assertBytes, assertInteger } from '../../util/errors.ts';
import { AttachmentError } from './errors.ts';
import { MAX_THUMBNAIL_BYTES, MIN_CHUNK_BYTES, WAVEFORM_SAMPLES, type AttachmentLimits } from './limits.ts';

/** 16 random bytes naming one attachment. */
export type AttachmentId = Uint8Array & { readonly __brand: 'AttachmentId' };
/** The 32-byte ChaCha20-Poly1305 key of one attachment (docs/crypto.md §10). */
export type AttachmentKey = Uint8Array & { readonly __brand: 'AttachmentKey' };
/** BLAKE3-256 of an attachment's plaintext. */
export type ContentHash = Uint8Array & { readonly __brand: 'ContentHash' };

/** What the bytes are, which decides how they are shown. */
export type AttachmentKind = 'file' | 'image' | 'voice' | 'text';

const KIND_CODES: readonly AttachmentKind[] = ['file', 'image', 'voice', 'text'];

/** Manifest format version. */
export const MANIFEST_VERSION = 1;
/** Longest file name, UTF-8 bytes. */
export const MAX_NAME_BYTES = 255;
/** Longest media type. */
export const MAX_MEDIA_TYPE_BYTES = 127;
/** Largest manifest: the fixed fields, the longest name and type, a thumbnail and a waveform. */
export const MAX_MANIFEST_BYTES = 16_384;
/** The media type of long text (issue 15 item 3). */
export const LONG_TEXT_MEDIA_TYPE = 'text/plain; charset=utf-8';

/** Everything a recipient needs to fetch, verify, decrypt and show one attachment. */
export interface Manifest {
  readonly id: AttachmentId;
  readonly kind: AttachmentKind;
  /** File name as the sender had it (no path); empty for voice notes. */
  readonly name: string;
  /** MIME type as the sender's platform named it, e.g. "image/png". */
  readonly mediaType: string;
  /** Plaintext bytes. */
  readonly size: number;
  readonly hash: ContentHash;
  readonly key: AttachmentKey;
  /** Plaintext bytes per chunk (the last chunk holds the rest). */
  readonly chunkSize: number;
  readonly chunkCount: number;
  /** A small JPEG preview of an image; empty for other kinds. */
  readonly thumbnail: Uint8Array;
  /** Length of a voice note, ms; 0 for other kinds. */
  readonly durationMs: number;
  /** Levels 0..255 of a voice note, at most WAVEFORM_SAMPLES; empty for other kinds. */
  readonly waveform: Uint8Array;
}

/** A fresh random attachment id. */
export function newAttachmentId(): AttachmentId {
  return randomBytes(16) as AttachmentId;
}

/** A fresh random attachment key. */
export function newAttachmentKey(): AttachmentKey {
  return randomBytes(32) as AttachmentKey;
}

/** Plaintext length of chunk `index` of `m`. */
export function chunkLength(m: Pick<Manifest, 'size' | 'chunkSize' | 'chunkCount'>, index: number): number {
  return index === m.chunkCount - 1 ? m.size - m.chunkSize * (m.chunkCount - 1) : m.chunkSize;
}

// A name is shown and may become a saved file's name: no path, no control characters
// (which could hide an extension or reorder the text, e.g. U+202E).
// eslint-disable-next-line no-control-regex
const BAD_NAME = /[\u0000-\u001f\u007f/\\\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*(; ?[a-z0-9-]+=[a-z0-9-]+)*$/;

/**
 * Checks `m` against itself and `limits`: AttachmentError EMPTY, TOO_LARGE or BAD_MANIFEST.
 * `onChain` applies the chain size limit.
 */
export function checkManifest(m: Manifest, limits: AttachmentLimits, onChain = false): void {
  const bad = (what: string): AttachmentError => new AttachmentError('BAD_MANIFEST', `manifest: ${what}`);
  if (!KIND_CODES.includes(m.kind)) throw bad(`unknown kind ${String(m.kind)}`);
  if (m.size === 0) throw new AttachmentError('EMPTY', 'the file is empty');
  const max = onChain ? limits.maxChainBytes : limits.maxBytes;
  if (m.size > max) {
    throw new AttachmentError('TOO_LARGE', `${m.size} bytes exceed the limit of ${max} bytes`);
  }
  if (m.kind === 'text' && m.size > limits.maxLongTextBytes) {
    throw new AttachmentError('TOO_LARGE', `text of ${m.size} bytes exceeds ${limits.maxLongTextBytes}`);
  }
  if (m.chunkSize < MIN_CHUNK_BYTES || m.chunkSize > limits.maxChunkBytes) {
    throw new AttachmentError(
      'TOO_LARGE',
      `chunk size ${m.chunkSize} is outside ${MIN_CHUNK_BYTES}..${limits.maxChunkBytes}`,
    );
  }
  if (m.chunkCount !== Math.ceil(m.size / m.chunkSize)) {
    throw bad(`${m.chunkCount} chunks cannot hold ${m.size} bytes in chunks of ${m.chunkSize}`);
  }
  if (BAD_NAME.test(m.name) || m.name === '.' || m.name === '..')
    throw bad('the name has a path or control characters');
  if (m.kind !== 'voice' && m.name.length === 0) throw bad('a file needs a name');
  if (!MEDIA_TYPE.test(m.mediaType)) throw bad(`media type ${JSON.stringify(m.mediaType)}`);
  if (m.kind === 'text' && m.mediaType !== LONG_TEXT_MEDIA_TYPE) throw bad('long text must be UTF-8 text');
  if (m.kind === 'image' && !m.mediaType.startsWith('image/')) throw bad('an image needs an image type');
  if (m.kind === 'voice' && !m.mediaType.startsWith('audio/')) throw bad('a voice note needs an audio type');
  if (m.kind !== 'image' && m.thumbnail.length > 0) throw bad('only images carry a thumbnail');
  if (m.thumbnail.length > limits.maxThumbnailBytes) {
    throw new AttachmentError(
      'TOO_LARGE',
      `thumbnail of ${m.thumbnail.length} bytes exceeds ${limits.maxThumbnailBytes}`,
    );
  }
  if (m.kind === 'voice') {
    if (m.durationMs < 1) throw bad('a voice note needs a duration');
    if (m.durationMs > limits.maxVoiceMs)
      throw new AttachmentError(
        'TOO_LARGE',
        `voice note of ${m.durationMs} ms exceeds ${limits.maxVoiceMs} ms`,
      );
  } else if (m.durationMs !== 0 || m.waveform.length !== 0) {
    throw bad('only voice notes carry a duration and waveform');
  }
  if (m.waveform.length > WAVEFORM_SAMPLES) throw bad(`waveform of ${m.waveform.length} samples`);
}

/** Manifest bytes; RangeError/TypeError when a field breaks the format. */
export function encodeManifest(m: Manifest): Uint8Array {
  assertBytes('id', m.id, 16);
  assertBytes('hash', m.hash, 32);
  assertBytes('key', m.key, 32);
  assertBytes('thumbnail', m.thumbnail);
  assertBytes('waveform', m.waveform);
  assertInteger('size', m.size, 0, Number.MAX_SAFE_INTEGER);
  assertInteger('chunkSize', m.chunkSize, 1, 2 ** 30);
  assertInteger('chunkCount', m.chunkCount, 0, 2 ** 30);
  assertInteger('durationMs', m.durationMs, 0, 2 ** 31);
  const kind = KIND_CODES.indexOf(m.kind);
  if (kind < 0) throw new TypeError(`"kind" expected one of ${KIND_CODES.join(', ')}`);
  const w = new ByteWriter(160 + m.thumbnail.length).u8(MANIFEST_VERSION).bytes(m.id).u8(kind);
  writeText(w, 'name', m.name, MAX_NAME_BYTES);
  writeText(w, 'mediaType', m.mediaType, MAX_MEDIA_TYPE_BYTES);
  w.u64(m.size).bytes(m.hash).bytes(m.key).varUint(m.chunkSize).varUint(m.chunkCount);
  if (m.thumbnail.length > MAX_THUMBNAIL_BYTES)
    throw new RangeError(`"thumbnail" exceeds ${MAX_THUMBNAIL_BYTES} bytes`);
  w.varBytes(m.thumbnail).varUint(m.durationMs);
  if (m.waveform.length > WAVEFORM_SAMPLES)
    throw new RangeError(`"waveform" exceeds ${WAVEFORM_SAMPLES} samples`);
  w.varBytes(m.waveform);
  return w.finish();
}

/**
 * Decodes manifest bytes and checks them against `limits` (`checkManifest`). DecodeError for
 * bytes that are not a manifest (UNKNOWN_VERSION for another version); AttachmentError for a
 * manifest this client refuses.
 */
export function decodeManifest(bytes: Uint8Array, limits: AttachmentLimits, onChain = false): Manifest {
  assertBytes('bytes', bytes);
  const r = new ByteReader(bytes);
  const version = r.u8('manifest version');
  if (version !== MANIFEST_VERSION) {
    throw new DecodeError('UNKNOWN_VERSION', `attachment manifest version ${version} is not supported`);
  }
  const id = r.bytes(16, 'attachment id') as AttachmentId;
  const kindCode = r.u8('attachment kind');
  const kind = KIND_CODES[kindCode];
  if (kind === undefined) throw new DecodeError('MALFORMED', `attachment kind ${kindCode}`);
  const name = readText(r, 'file name', MAX_NAME_BYTES);
  const mediaType = readText(r, 'media type', MAX_MEDIA_TYPE_BYTES);
  const size64 = r.u64('size');
  if (size64 > BigInt(Number.MAX_SAFE_INTEGER)) throw new AttachmentError('TOO_LARGE', 'size out of range');
  const hash = r.bytes(32, 'hash') as ContentHash;
  const key = r.bytes(32, 'key') as AttachmentKey;
  const chunkSize = r.varUint('chunk size');
  const chunkCount = r.varUint('chunk count');
  const thumbnail = r.varBytes(MAX_THUMBNAIL_BYTES, 'thumbnail');
  const durationMs = r.varUint('duration');
  const waveform = r.varBytes(WAVEFORM_SAMPLES, 'waveform');
  r.end('attachment manifest');
  const m: Manifest = {
    id,
    kind,
    name,
    mediaType,
    size: Number(size64),
    hash,
    key,
    chunkSize,
    chunkCount,
    thumbnail,
    durationMs,
    waveform,
  };
  checkManifest(m, limits, onChain);
  return m;
}
