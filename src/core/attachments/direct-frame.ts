/**
 * Chunk frames on a direct link (docs/protocol.md "Attachment direct chunk frame"): a
 * sealed chunk written on the data channel as it is, outside the Double Ratchet.
 *
 *   "p2pa" | u8 version=1 | id[16] | varuint index | sealed chunk (the rest)
 *
 * Why outside the ratchet: a ratchet frame costs a chain step, two AEADs and a state write
 * per message (about 7 ms per 12 KiB chunk on each side in Node, bench/attachments.bench.ts),
 * which caps a transfer far below the channel. The chunk needs none of it: it is already
 * sealed under the attachment key, which only the two ends hold (it came in the ratchet-
 * encrypted manifest), its associated data binds it to attachment, index and count (so a
 * replayed or moved chunk is a duplicate or TAMPERED), and the DTLS channel (RFC 8827) hides
 * id and index from the path. On chain chunks keep riding ratchet frames (envelope type 17):
 * there the frame tag is what lets the recipient find them and nothing else links them.
 * A reader tells these frames from ratchet frames by the magic (a ratchet frame starts with a
 * random 16-byte tag: one in 2^32 starts alike, and then fails to decode here and is opened
 * as a ratchet frame).
 */
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { equalBytes, utf8ToBytes } from '../../util/bytes.ts';
import { DecodeError, assertBytes, assertInteger } from '../../util/errors.ts';
import { MAX_CHUNK_BYTES } from './limits.ts';
import { CHUNK_TAG_BYTES } from './cipher.ts';
import type { AttachmentId } from './manifest.ts';

const MAGIC = utf8ToBytes('p2pa');
/** Direct chunk frame version. */
export const DIRECT_FRAME_VERSION = 1;

/** A chunk as a direct frame carries it. */
export interface DirectChunk {
  readonly attachmentId: AttachmentId;
  readonly index: number;
  readonly sealed: Uint8Array;
}

/** True when `bytes` starts like a direct chunk frame. */
export function isDirectChunk(bytes: Uint8Array): boolean {
  return bytes.length > MAGIC.length && equalBytes(bytes.subarray(0, MAGIC.length), MAGIC);
}

/** The frame of one sealed chunk. */
export function encodeDirectChunk(c: DirectChunk): Uint8Array {
  assertBytes('attachmentId', c.attachmentId, 16);
  assertInteger('index', c.index, 0, 2 ** 31);
  assertBytes('sealed', c.sealed);
  if (c.sealed.length > MAX_CHUNK_BYTES + CHUNK_TAG_BYTES)
    throw new RangeError(`"sealed" exceeds ${MAX_CHUNK_BYTES + CHUNK_TAG_BYTES} bytes`);
  return new ByteWriter(32 + c.sealed.length)
    .bytes(MAGIC)
    .u8(DIRECT_FRAME_VERSION)
    .bytes(c.attachmentId)
    .varUint(c.index)
    .bytes(c.sealed)
    .finish();
}

/** Decodes a direct chunk frame; DecodeError for anything else (UNKNOWN_VERSION for another version). */
export function decodeDirectChunk(bytes: Uint8Array): DirectChunk {
  assertBytes('bytes', bytes);
  if (!isDirectChunk(bytes)) throw new DecodeError('MALFORMED', 'not a direct chunk frame');
  const r = new ByteReader(bytes.subarray(MAGIC.length));
  const version = r.u8('direct frame version');
  if (version !== DIRECT_FRAME_VERSION)
    throw new DecodeError('UNKNOWN_VERSION', `direct chunk frame version ${version} is not supported`);
  const attachmentId = r.bytes(16, 'attachment id') as AttachmentId;
  const index = r.varUint('chunk index');
  if (index > 2 ** 31) throw new DecodeError('MALFORMED', `chunk index ${index}`);
  const sealed = r.rest();
  if (sealed.length < CHUNK_TAG_BYTES || sealed.length > MAX_CHUNK_BYTES + CHUNK_TAG_BYTES)
    throw new DecodeError('MALFORMED', `sealed chunk of ${sealed.length} bytes`);
  return { attachmentId, index, sealed };
}
