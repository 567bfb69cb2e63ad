/**
 * The first-contact wrapper: how an initiator's frames reach a recipient who knows nothing
 * of the session yet, without revealing either party.
 *
 *   frame = tag[8] | E'[32] | u16(len(sealed)) XOR mask | sealed | inner frame (ratchet.ts)
 *   k     = X25519(e', SPK_B);  tag ‖ key ‖ mask = HKDF-SHA256(k, salt = E' ‖ SPK_B, 42 bytes)
 *   sealed = XChaCha20-Poly1305(key, nonce = 0, aad = tag)(EK_A[32] | sender's contact card)
 *
 * The length of the seal is masked: in a batch, where frames are not delimited in clear
 * (envelope/batch.ts), a card-sized length field 40 bytes after any offset would mark where a
 * first-contact frame starts. The inner frame says where it ends (its encrypted header).
 *
 * E' is a fresh key for every frame, so the X3DH ephemeral EK_A, which every pre-reply
 * frame must carry (X3DH §3.3), is never seen twice in clear: frames of one new session
 * cannot be linked. The sender's card travels sealed, so neither peer ID appears in clear
 * (NOTES §6). A recipient spends one X25519 per active signed pre-key on a frame whose
 * tag it does not recognise, bounded work rather than trial decryption of everything.
 * The zero nonce is safe because each key seals exactly one message.
 *
 * The top bit of E' is randomised: X25519 ignores it (RFC 7748 §5), and real public keys
 * always have it clear, which would otherwise mark first-contact frames at a glance.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { concatBytes, equalBytes, randomBytes, utf8ToBytes } from '../../util/bytes.ts';
import {
  asX25519PublicKey,
  randomX25519KeyPair,
  x25519Shared,
  type X25519KeyPair,
  type X25519PublicKey,
} from '../identity/keys.ts';
import { MAX_CARD_BYTES } from '../contact/card.ts';
import { TAG_BYTES } from './kdf.ts';

const INFO = utf8ToBytes('p2pcomm/v1/first-contact');
const ZERO_NONCE = new Uint8Array(24);
/** Largest sealed part: EK_A, a card, the AEAD tag. */
const MAX_SEALED = 32 + MAX_CARD_BYTES + 16;
/** Bytes the wrapper adds besides the sender card: tag, E', length, EK_A, AEAD tag. */
export const FIRST_CONTACT_OVERHEAD = TAG_BYTES + 32 + 2 + 32 + 16;

function keys(
  shared: Uint8Array,
  ePub: Uint8Array,
  preKey: X25519PublicKey,
): { tag: Uint8Array; key: Uint8Array; mask: number } {
  const out = hkdf(sha256, shared, concatBytes(ePub, preKey), INFO, TAG_BYTES + 32 + 2);
  const mask = (out[TAG_BYTES + 32]! << 8) | out[TAG_BYTES + 33]!;
  return { tag: out.slice(0, TAG_BYTES), key: out.slice(TAG_BYTES, TAG_BYTES + 32), mask };
}

/** Wraps `inner` for a recipient identified only by its signed pre-key. */
export function sealFirstContact(
  peerPreKey: X25519PublicKey,
  ephemeralKey: X25519PublicKey,
  senderCard: Uint8Array,
  inner: Uint8Array,
): Uint8Array {
  const e = randomX25519KeyPair();
  const ePub = e.publicKey.slice();
  ePub[31]! |= randomBytes(1)[0]! & 0x80;
  if (senderCard.length > MAX_CARD_BYTES)
    throw new RangeError(`"senderCard" expected at most ${MAX_CARD_BYTES} bytes, got ${senderCard.length}`);
  const { tag, key, mask } = keys(x25519Shared(e.secretKey, peerPreKey), ePub, peerPreKey);
  const sealed = xchacha20poly1305(key, ZERO_NONCE, tag).encrypt(concatBytes(ephemeralKey, senderCard));
  return new ByteWriter(FIRST_CONTACT_OVERHEAD + senderCard.length + inner.length)
    .bytes(tag)
    .bytes(ePub)
    .bytes(Uint8Array.of((sealed.length ^ mask) >> 8, (sealed.length ^ mask) & 0xff))
    .bytes(sealed)
    .bytes(inner)
    .finish();
}

/** What an opened first-contact frame holds. */
export interface OpenedFirstContact {
  /** The initiator's X3DH ephemeral key EK_A. */
  readonly ephemeralKey: X25519PublicKey;
  /** The initiator's contact card bytes (not yet verified). */
  readonly senderCard: Uint8Array;
  /** The pre-key the frame was sealed to. */
  readonly preKey: X25519KeyPair & { readonly id: number };
  readonly inner: Uint8Array;
}

/**
 * Tries each of our active signed pre-keys on a frame; undefined when the frame is not
 * a first-contact frame for us (the common case in a batch for other people).
 */
export function openFirstContact(
  frame: Uint8Array,
  preKeys: readonly (X25519KeyPair & { readonly id: number })[],
): OpenedFirstContact | undefined {
  if (frame.length < FIRST_CONTACT_OVERHEAD) return undefined;
  const tag = frame.subarray(0, TAG_BYTES);
  const ePub = frame.subarray(TAG_BYTES, TAG_BYTES + 32);
  for (const preKey of preKeys) {
    let shared: Uint8Array;
    try {
      shared = x25519Shared(preKey.secretKey, ePub as X25519PublicKey);
    } catch {
      return undefined; // a low-order point: not a frame anyone honest made
    }
    const k = keys(shared, ePub, preKey.publicKey);
    if (!equalBytes(k.tag, tag)) continue;
    try {
      const r = new ByteReader(frame.subarray(TAG_BYTES + 32));
      const masked = r.bytes(2, 'first-contact seal length');
      const length = ((masked[0]! << 8) | masked[1]!) ^ k.mask;
      if (length > MAX_SEALED) return undefined;
      const sealed = r.bytes(length, 'first-contact seal');
      const inner = r.rest();
      const opened = xchacha20poly1305(k.key, ZERO_NONCE, tag).decrypt(sealed);
      return {
        ephemeralKey: asX25519PublicKey(opened.slice(0, 32)),
        senderCard: opened.slice(32),
        preKey,
        inner,
      };
    } catch {
      // A matching 64-bit tag with a bad seal is a forgery or a collision: not ours.
      return undefined;
    }
  }
  return undefined;
}
