/**
 * What a group frame carries (docs/protocol.md "Group frame"), padded as envelopes are
 * (docs/protocol.md "Padding") before the frame seals it:
 *
 *   content = pad(u8 version=1 | u8 kind | body)
 *   kind 1 envelope  body = an envelope (docs/protocol.md "Envelope": chat, receipts, actions)
 *   kind 2 change    body = a group change (docs/protocol.md "Group change")
 */
import { ByteReader } from '../../util/binary.ts';
import { DecodeError } from '../../util/errors.ts';
import { concatBytes } from '../../util/bytes.ts';
import { pad, unpad } from '../envelope/padding.ts';
import { readVersion } from './version.ts';

/** Group content format version. */
export const GROUP_CONTENT_VERSION = 1;

/** One item of group traffic. */
export type GroupContent =
  | { readonly kind: 'envelope'; readonly bytes: Uint8Array }
  | { readonly kind: 'change'; readonly bytes: Uint8Array };

const KINDS = { envelope: 1, change: 2 } as const;

/** The padded bytes of `c`. */
export function encodeGroupContent(c: GroupContent): Uint8Array {
  const kind = KINDS[c.kind];
  if (kind === undefined) throw new RangeError(`"kind" unknown: ${String(c.kind)}`);
  return pad(concatBytes(Uint8Array.of(GROUP_CONTENT_VERSION, kind), c.bytes));
}

/** Decodes padded content. DecodeError MALFORMED (padding), UNKNOWN_VERSION, UNKNOWN_TYPE, TRUNCATED. */
export function decodeGroupContent(padded: Uint8Array): GroupContent {
  const r = new ByteReader(unpad(padded));
  readVersion(r, 'group content', GROUP_CONTENT_VERSION);
  const kind = r.u8('group content kind');
  const bytes = r.rest();
  if (kind === KINDS.envelope) return { kind: 'envelope', bytes };
  if (kind === KINDS.change) return { kind: 'change', bytes };
  throw new DecodeError('UNKNOWN_TYPE', `unknown group content kind ${kind}`);
}
