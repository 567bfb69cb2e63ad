/**
 * Attachment limits: settings with defaults, shown before sending (issue: "never discovered
 * by failure"). The receiver applies its own limits to every manifest it is sent.
 */
import { assertInteger } from '../../util/errors.ts';

/**
 * Largest chunk the format carries: a sealed chunk in its envelope stays under the 60,064
 * bytes an envelope may have inside a bundle (envelope.ts ENVELOPE_LIMITS.bundled).
 */
export const MAX_CHUNK_BYTES = 49_152;
/** Largest thumbnail the format carries, so a manifest envelope stays small. */
export const MAX_THUMBNAIL_BYTES = 12_288;
/** Every limit, each with its default. */
export interface AttachmentLimits {
  /** Largest attachment over a direct link, bytes. @default 100 MiB (Signal's limit) */
  readonly maxBytes: number;
  /**
   * Largest attachment sent on chain, bytes: every KB is paid for (NOTES §2), so the default
   * is small and the UI shows the cost first. @default 1 MiB
   */
  readonly maxChainBytes: number;
  /**
   * Plaintext bytes per chunk. One chunk in its envelope, padded and sealed in a ratchet
   * frame (with a first-contact wrapper), fits one 16 KiB chain payload, the engine's
   * default `maxPayloadBytes` (NOTES §2: "tens of KB"), so the same chunks serve both paths
   * and a transfer can change path halfway. @default 12_288
   */
  readonly chunkBytes: number;
  /** Largest chunk size a received manifest may declare (at most MAX_CHUNK_BYTES). @default 49_152 */
  readonly maxChunkBytes: number;
  /** Largest image thumbnail (JPEG) carried in a manifest. @default 8_192 */
  readonly maxThumbnailBytes: number;
  /** Longest voice note, ms. @default 600_000 (10 minutes) */
  readonly maxVoiceMs: number;
  /** Longest text sent whole as a long-text attachment, UTF-8 bytes. @default 262_144 */
  readonly maxLongTextBytes: number;
  /** Unfinished incoming attachments kept per contact (bounded work, storage). @default 16 */
  readonly maxIncomingPerContact: number;
}

/** The defaults of every limit. */
export const DEFAULT_ATTACHMENT_LIMITS: AttachmentLimits = {
  maxBytes: 100 * 1024 * 1024,
  maxChainBytes: 1024 * 1024,
  chunkBytes: 12_288,
  maxChunkBytes: MAX_CHUNK_BYTES,
  maxThumbnailBytes: 8_192,
  maxVoiceMs: 600_000,
  maxLongTextBytes: 262_144,
  maxIncomingPerContact: 16,
};

/** Smallest chunk size: below it the per-chunk overhead (tag, header) dominates. */
export const MIN_CHUNK_BYTES = 1024;
/** Waveform samples of a voice note (one byte each, 0..255). */
export const WAVEFORM_SAMPLES = 64;

/** The defaults overridden by `partial`, each checked; RangeError/TypeError names the field. */
export function resolveLimits(partial: Partial<AttachmentLimits> = {}): AttachmentLimits {
  const l = { ...DEFAULT_ATTACHMENT_LIMITS, ...partial };
  assertInteger('maxBytes', l.maxBytes, 1, 2 ** 32);
  assertInteger('maxChainBytes', l.maxChainBytes, 1, l.maxBytes);
  assertInteger('maxChunkBytes', l.maxChunkBytes, MIN_CHUNK_BYTES, MAX_CHUNK_BYTES);
  assertInteger('chunkBytes', l.chunkBytes, MIN_CHUNK_BYTES, l.maxChunkBytes);
  assertInteger('maxThumbnailBytes', l.maxThumbnailBytes, 0, MAX_THUMBNAIL_BYTES);
  assertInteger('maxVoiceMs', l.maxVoiceMs, 1, 86_400_000);
  assertInteger('maxLongTextBytes', l.maxLongTextBytes, 65_536, 16 << 20);
  assertInteger('maxIncomingPerContact', l.maxIncomingPerContact, 1, 1024);
  return l;
}
