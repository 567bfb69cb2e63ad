/** Typed failures of attachments, checked by code (STYLE §6). */
import { P2pCommError } from '../../util/errors.ts';

/**
 * - EMPTY: a file of zero bytes (nothing to send or show).
 * - TOO_LARGE: over a limit of `AttachmentLimits` (size, thumbnail, voice length, chunk size).
 * - BAD_MANIFEST: a manifest whose fields contradict each other or the format.
 * - BAD_CHUNK: a chunk whose index or length the manifest does not allow.
 * - TAMPERED: a chunk that fails authentication under the attachment key.
 * - HASH_MISMATCH: every chunk authenticated but the bytes do not have the manifest's BLAKE3 hash.
 * - INCOMPLETE: chunks are missing (`missing` lists them).
 * - UNKNOWN_ATTACHMENT: no manifest is known for this id.
 * - TOO_MANY: more unfinished incoming attachments from one contact than the limit.
 * - CANCELLED: the transfer was cancelled by either side.
 * - STORAGE_FULL: the device refused to store more (quota); the conversation is kept.
 */
export type AttachmentErrorCode =
  | 'EMPTY'
  | 'TOO_LARGE'
  | 'BAD_MANIFEST'
  | 'BAD_CHUNK'
  | 'TAMPERED'
  | 'HASH_MISMATCH'
  | 'INCOMPLETE'
  | 'UNKNOWN_ATTACHMENT'
  | 'TOO_MANY'
  | 'CANCELLED'
  | 'STORAGE_FULL';

/** An attachment refused or not (yet) available; the rest of the conversation is unaffected. */
export class AttachmentError extends P2pCommError<AttachmentErrorCode> {}
