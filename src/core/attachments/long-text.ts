/**
 * Long text (issue 15 item 3): a message above the chat limit (frames.ts MAX_TEXT_BYTES) goes
 * whole as an attachment of kind "text", chunked like any file, and is shown inline once
 * verified. Nothing is ever cut.
 */
import { bytesToUtf8, utf8ToBytes } from '../../util/bytes.ts';
import { AttachmentError } from './errors.ts';
import { prepareAttachment, type PreparedAttachment } from './cipher.ts';
import { resolveLimits, type AttachmentLimits } from './limits.ts';
import { LONG_TEXT_MEDIA_TYPE } from './manifest.ts';

/** The file name long text carries (shown when it is saved). */
export const LONG_TEXT_NAME = 'message.txt';

/** An attachment holding `text` whole; AttachmentError EMPTY or TOO_LARGE (with the limit). */
export function prepareLongText(text: string, limits: Partial<AttachmentLimits> = {}): PreparedAttachment {
  if (typeof text !== 'string') throw new TypeError('"text" expected a string');
  const l = resolveLimits(limits);
  const bytes = utf8ToBytes(text);
  if (bytes.length > l.maxLongTextBytes) {
    throw new AttachmentError(
      'TOO_LARGE',
      `the text is ${bytes.length} bytes; messages can be up to ${l.maxLongTextBytes} bytes`,
    );
  }
  return prepareAttachment(bytes, { kind: 'text', name: LONG_TEXT_NAME, mediaType: LONG_TEXT_MEDIA_TYPE }, l);
}

/** The text of verified long-text bytes; AttachmentError BAD_MANIFEST when they are not UTF-8. */
export function readLongText(bytes: Uint8Array): string {
  try {
    return bytesToUtf8(bytes);
  } catch (e) {
    throw new AttachmentError('BAD_MANIFEST', 'long text is not valid UTF-8', { cause: e });
  }
}
