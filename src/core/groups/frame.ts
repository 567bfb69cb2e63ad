/**
 * The group frame (docs/protocol.md "Group frame"): one message of one sender to the whole
 * group, the same bytes for every member, so a chain publication carries it once whatever
 * the member count (docs/groups.md §5).
 *
 *   frame = tag[8] | u32le(len(ct)) XOR mask | ct | signature[64]
 *   ct    = XChaCha20-Poly1305(key, nonce, aad = groupId ‖ tag)(content)
 *   signature = Ed25519(sender's signing key, "p2pcomm/v1/group-frame" ‖ groupId ‖ frame before it)
 *
 * tag, key, nonce and mask come from the sender's chain (`sender-key.ts`). Every member holds
 * the chain key, so the AEAD alone would let any member write as any other; the signature by
 * the sender's own signing key (handed out with the chain key) is what says who wrote it, as
 * in Signal's SenderKeyMessage. The masked length makes the frame self-delimiting inside an
 * undelimited batch (docs/protocol.md "Batch container") without a length in clear.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { ByteReader } from '../../util/binary.ts';
import { DecodeError } from '../../util/errors.ts';
import { concatBytes, equalBytes, utf8ToBytes } from '../../util/bytes.ts';
import { verifyEd25519, type Ed25519PublicKey } from '../identity/keys.ts';
import type { GroupId } from './change.ts';
import { GroupError } from './errors.ts';
import type { MessageKeys } from './sender-key.ts';

const DOMAIN = utf8ToBytes('p2pcomm/v1/group-frame');
/** Largest content of one frame (an envelope of the largest chat text, padded). */
export const MAX_GROUP_CONTENT_BYTES = 65_536;
/** Bytes a frame adds to its content: tag, masked length, AEAD tag, signature. */
export const GROUP_FRAME_OVERHEAD = 8 + 4 + 16 + 64;

function masked(length: number, mask: Uint8Array): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, length, true);
  return out.map((b, i) => b ^ (mask[i] ?? 0));
}

/** Seals `content` under `keys` and signs it with the sender's signing secret. */
export function sealFrame(
  groupId: GroupId,
  keys: MessageKeys,
  signingSecret: Uint8Array,
  content: Uint8Array,
): Uint8Array {
  if (content.length > MAX_GROUP_CONTENT_BYTES)
    throw new RangeError(`"content" is ${content.length} bytes, at most ${MAX_GROUP_CONTENT_BYTES}`);
  const ct = xchacha20poly1305(keys.key, keys.nonce, concatBytes(groupId, keys.tag)).encrypt(content);
  const body = concatBytes(keys.tag, masked(ct.length, keys.mask), ct);
  return concatBytes(body, ed25519.sign(concatBytes(DOMAIN, groupId, body), signingSecret));
}

/** The tag a frame starts with (what a member looks up). TRUNCATED when fewer than 8 bytes. */
export function frameTag(bytes: Uint8Array): Uint8Array {
  return new ByteReader(bytes).bytes(8, 'group frame tag');
}

/**
 * Opens the frame at the start of `bytes` (more may follow, as in a batch) with the keys its
 * tag matched. Returns the content and the frame's length. DecodeError when the masked length
 * runs past the bytes or above the content bound; GroupError BAD_SIGNATURE when the sender's
 * signing key did not sign it (a member writing under another's chain, an altered frame),
 * DECRYPT_FAILED when the ciphertext does not open.
 */
export function openFrame(
  groupId: GroupId,
  keys: MessageKeys,
  signingKey: Ed25519PublicKey,
  bytes: Uint8Array,
): { content: Uint8Array; length: number } {
  const r = new ByteReader(bytes);
  const tag = r.bytes(8, 'group frame tag');
  if (!equalBytes(tag, keys.tag)) throw new RangeError('"keys" are not those of this frame');
  const unmasked = r.bytes(4, 'group frame length').map((b, i) => b ^ (keys.mask[i] ?? 0));
  const ctLength = new DataView(unmasked.buffer).getUint32(0, true);
  if (ctLength < 16 || ctLength > MAX_GROUP_CONTENT_BYTES + 16)
    throw new DecodeError('MALFORMED', `group frame length ${ctLength} out of range`);
  const ct = r.bytes(ctLength, 'group frame ciphertext');
  const bodyLength = r.offset;
  const signature = r.bytes(64, 'group frame signature');
  if (!verifyEd25519(signature, concatBytes(DOMAIN, groupId, bytes.subarray(0, bodyLength)), signingKey))
    throw new GroupError('BAD_SIGNATURE', 'This group message is not signed by its sender.');
  try {
    const content = xchacha20poly1305(keys.key, keys.nonce, concatBytes(groupId, tag)).decrypt(ct);
    return { content, length: r.offset };
  } catch (cause) {
    throw new GroupError('DECRYPT_FAILED', 'This group message does not open.', { cause });
  }
}
