/**
 * The first-contact wrapper: how an initiator's frames reach a recipient who knows nothing
 * of the session yet, without revealing either party.
 *
 *   frame  = tag[8] | E'[32] | u16(len(sealed)) XOR mask | sealed | inner frame (ratchet.ts)
 *   k      = X25519(e', SPK_B);  tag ‖ key ‖ mask = HKDF-SHA256(k, salt = E' ‖ SPK_B, 42 bytes)
 *   sealed = XChaCha20-Poly1305(key, nonce = 0, aad = tag)(
 *              u8 version=3 | u8 flags | [u32 OPK id, when flags bit 0] | EK_A[32] | CT[1088]
 *              | sender's compact contact card)
 *
 * Flags bit 0 says the session started with our one-time pre-key of that id (X3DH §3.3,
 * "identifiers stating which of Bob's prekeys Alice used"); other bits are refused.
 *
 * The length of the seal is masked: in a batch, where frames are not delimited in clear
 * (envelope/batch.ts), a card-sized length field 40 bytes after any offset would mark where a
 * first-contact frame starts. The inner frame says where it ends (its encrypted header).
 *
 * E' is a fresh key for every frame, so the X3DH ephemeral EK_A and the PQXDH ciphertext CT,
 * which every pre-reply frame must carry (X3DH §3.3, PQXDH §3.3), are never seen twice in
 * clear: frames of one new session cannot be linked. The sender's card travels sealed, so
 * neither peer ID appears in clear (NOTES §6), and in its compact form (the digest of its
 * ML-KEM pre-key, not the 1,184-byte key), which keeps every pre-reply frame 1,152 bytes
 * smaller; the full card follows in session traffic once the session is confirmed.
 * A recipient spends one X25519 per active signed pre-key on a frame whose tag it does not
 * recognise, bounded work rather than trial decryption of everything. The zero nonce is
 * safe because each key seals exactly one message.
 *
 * The top bit of E' is randomised: X25519 ignores it (RFC 7748 §5), and real public keys
 * always have it clear, which would otherwise mark first-contact frames at a glance.
 *
 * Version 1 (no CT, sealed to seed-derived pre-keys) is not accepted: its pre-keys are no
 * longer held, so such a frame looks like anyone else's traffic; a sealed part of another
 * version (2: no flags, no one-time pre-key) is refused with SessionError UNSUPPORTED_VERSION.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { SessionError } from '../errors.ts';
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { DecodeError } from '../../util/errors.ts';
import { concatBytes, equalBytes, randomBytes, utf8ToBytes } from '../../util/bytes.ts';
import {
  ML_KEM,
  asMlKemCiphertext,
  asX25519PublicKey,
  randomX25519KeyPair,
  x25519Shared,
  type MlKemCiphertext,
  type X25519PublicKey,
} from '../identity/keys.ts';
import { MAX_CARD_BYTES } from '../contact/card.ts';
import { TAG_BYTES } from './kdf.ts';
import type { PreKeyPair } from './prekeys.ts';

/** Version of the sealed part. */
export const FIRST_CONTACT_VERSION = 3;
const FLAG_ONE_TIME = 1;
const INFO = utf8ToBytes('p2pcomm/v2/first-contact');
const ZERO_NONCE = new Uint8Array(24);
/** Largest sealed part: version, flags, OPK id, EK_A, CT, a card, the AEAD tag. */
const MAX_SEALED = 1 + 1 + 4 + 32 + ML_KEM.ciphertext + MAX_CARD_BYTES + 16;
/**
 * Bytes the wrapper adds besides the sender card without a one-time pre-key: tag, E', length,
 * version, flags, EK_A, CT, AEAD tag. A one-time pre-key adds ONE_TIME_ID_BYTES.
 */
export const FIRST_CONTACT_OVERHEAD = TAG_BYTES + 32 + 2 + 1 + 1 + 32 + ML_KEM.ciphertext + 16;
/** Bytes the id of a one-time pre-key adds to a first-contact frame. */
export const ONE_TIME_ID_BYTES = 4;
/** The same without CT: the classical (X3DH-only) wrapper, the benchmark's reference. */
export const CLASSICAL_FIRST_CONTACT_OVERHEAD = TAG_BYTES + 32 + 2 + 32 + 16;

function keys(
  shared: Uint8Array,
  ePub: Uint8Array,
  preKey: X25519PublicKey,
): { tag: Uint8Array; key: Uint8Array; mask: number } {
  const out = hkdf(sha256, shared, concatBytes(ePub, preKey), INFO, TAG_BYTES + 32 + 2);
  const mask = (out[TAG_BYTES + 32]! << 8) | out[TAG_BYTES + 33]!;
  return { tag: out.slice(0, TAG_BYTES), key: out.slice(TAG_BYTES, TAG_BYTES + 32), mask };
}

/**
 * Wraps `inner` for a recipient identified only by its signed pre-key; `oneTimeKeyId` names
 * the recipient's one-time pre-key the session started with, if any.
 */
export function sealFirstContact(
  peerPreKey: X25519PublicKey,
  ephemeralKey: X25519PublicKey,
  kemCiphertext: MlKemCiphertext,
  senderCard: Uint8Array,
  inner: Uint8Array,
  oneTimeKeyId: number | null = null,
): Uint8Array {
  const e = randomX25519KeyPair();
  const ePub = e.publicKey.slice();
  ePub[31]! |= randomBytes(1)[0]! & 0x80;
  if (senderCard.length > MAX_CARD_BYTES)
    throw new RangeError(`"senderCard" expected at most ${MAX_CARD_BYTES} bytes, got ${senderCard.length}`);
  const { tag, key, mask } = keys(x25519Shared(e.secretKey, peerPreKey), ePub, peerPreKey);
  const head = new ByteWriter(6).u8(FIRST_CONTACT_VERSION);
  if (oneTimeKeyId === null) head.u8(0);
  else head.u8(FLAG_ONE_TIME).u32(oneTimeKeyId);
  const sealed = xchacha20poly1305(key, ZERO_NONCE, tag).encrypt(
    concatBytes(head.finish(), ephemeralKey, kemCiphertext, senderCard),
  );
  return new ByteWriter(FIRST_CONTACT_OVERHEAD + ONE_TIME_ID_BYTES + senderCard.length + inner.length)
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
  /** The PQXDH ciphertext CT for our ML-KEM pre-key. */
  readonly kemCiphertext: MlKemCiphertext;
  /** The initiator's contact card bytes (not yet verified). */
  readonly senderCard: Uint8Array;
  /** The pre-key the frame was sealed to. */
  readonly preKey: PreKeyPair;
  /** The id of our one-time pre-key the session started with, or null (signed pre-key only). */
  readonly oneTimeKeyId: number | null;
  readonly inner: Uint8Array;
}

/**
 * Tries each of our active signed pre-keys on a frame; undefined when the frame is not
 * a first-contact frame for us (the common case in a batch for other people). SessionError
 * UNSUPPORTED_VERSION when it is ours but of another version.
 */
export function openFirstContact(
  frame: Uint8Array,
  preKeys: readonly PreKeyPair[],
): OpenedFirstContact | undefined {
  if (frame.length < CLASSICAL_FIRST_CONTACT_OVERHEAD) return undefined;
  const tag = frame.subarray(0, TAG_BYTES);
  const ePub = frame.subarray(TAG_BYTES, TAG_BYTES + 32);
  for (const preKey of preKeys) {
    let shared: Uint8Array;
    try {
      shared = x25519Shared(preKey.dh.secretKey, ePub as X25519PublicKey);
    } catch {
      return undefined; // a low-order point: not a frame anyone honest made
    }
    const k = keys(shared, ePub, preKey.dh.publicKey);
    if (!equalBytes(k.tag, tag)) continue;
    let opened: Uint8Array;
    let inner: Uint8Array;
    try {
      const r = new ByteReader(frame.subarray(TAG_BYTES + 32));
      const masked = r.bytes(2, 'first-contact seal length');
      const length = ((masked[0]! << 8) | masked[1]!) ^ k.mask;
      if (length > MAX_SEALED) return undefined;
      const sealed = r.bytes(length, 'first-contact seal');
      inner = r.rest();
      opened = xchacha20poly1305(k.key, ZERO_NONCE, tag).decrypt(sealed);
    } catch {
      // A matching 64-bit tag with a bad seal is a forgery or a collision: not ours.
      return undefined;
    }
    const r = new ByteReader(opened);
    const version = r.u8('first-contact version');
    if (version !== FIRST_CONTACT_VERSION) {
      throw new SessionError(
        'UNSUPPORTED_VERSION',
        `first-contact frame version ${version}, this client speaks ${FIRST_CONTACT_VERSION}`,
      );
    }
    try {
      const flags = r.u8('first-contact flags');
      if ((flags & ~FLAG_ONE_TIME) !== 0) return undefined;
      const oneTimeKeyId = flags & FLAG_ONE_TIME ? r.u32('one-time pre-key id') : null;
      return {
        oneTimeKeyId,
        ephemeralKey: asX25519PublicKey(r.bytes(32, 'EK_A')),
        kemCiphertext: asMlKemCiphertext(r.bytes(ML_KEM.ciphertext, 'CT')),
        senderCard: r.rest(),
        preKey,
        inner,
      };
    } catch (e) {
      if (e instanceof DecodeError) return undefined;
      throw e;
    }
  }
  return undefined;
}
