/**
 * The short invite (invite version 4): what a QR code can carry at version 6 or lower, without
 * weakening the card. The full invite (version 5, card.ts: the signed card with its 1,184-byte
 * ML-KEM pre-key and a one-time pre-key) travels elsewhere, sealed under a key derived from a
 * secret the short form carries; the short form also carries a fingerprint of the inviter's
 * identity key, so a scanner accepts exactly the card the inviter signed.
 *
 *   short   = u8 version=4 | secret[16] | fingerprint[10]                     (27 bytes)
 *   text    = "p2pcomm:" base64url(short)                                     (44 characters)
 *   fingerprint = the first 10 bytes of the inviter's peer id (BLAKE3 of its identity key)
 *
 *   key ‖ locator = HKDF-SHA256(secret, salt = fingerprint, info "p2pcomm/v1/short-invite", 64)
 *   sealed  = u8 version=2 | nonce[24]
 *             | XChaCha20-Poly1305(key, nonce, aad = "p2pcomm/v1/short-invite" ‖ fingerprint)(
 *                 full invite (version 5 or 3) | 0x80 | 0x00… to SEALED_PLAINTEXT_BYTES)
 *
 * `locator` names where the sealed invite is kept (`InviteCardDirectory`): 32 bytes that say
 * nothing about the inviter to whoever does not hold the secret (an observer of the place
 * sees a random-looking name and a fixed-size ciphertext, docs/privacy.md). The secret has 128
 * bits, enough against a search for the key (the sealed form is public), and the fingerprint 80
 * bits: to substitute a card, someone who learns the secret (a second scanner, the place
 * itself) would need an identity key whose BLAKE3 starts with these 80 bits, a second preimage
 * (2^80 work). What is found at the locator is therefore checked three ways: the seal opens
 * under the secret, the card's signature verifies, and its peer id starts with the fingerprint;
 * anything else is skipped (several candidates may sit at one locator, one may be honest).
 *
 * Everything a short invite cannot give (the place is unreachable, the inviter never published
 * or is out of funds) is covered by the full invite link, which still works as before.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64urlnopad } from '@scure/base';
import { ContactCardError } from '../errors.ts';
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { DecodeError, P2pCommError, assertBytes } from '../../util/errors.ts';
import { concatBytes, equalBytes, randomBytes, utf8ToBytes } from '../../util/bytes.ts';
import {
  CARD_URI_PREFIX,
  INVITE_ADDRESS_BYTES,
  INVITE_VERSION,
  INVITE_VERSION_NO_ADDRESS,
  Invite,
  MAX_CARD_BYTES,
  MAX_INVITE_ONE_TIME,
} from './card.ts';

/** Short invite format version (the first byte, after the full invite's 3). */
export const SHORT_INVITE_VERSION = 4;
/** Bytes of the secret a short invite carries. */
export const SHORT_INVITE_SECRET_BYTES = 16;
/** Bytes of the identity fingerprint a short invite carries. */
export const SHORT_INVITE_FINGERPRINT_BYTES = 10;
/** Bytes of a short invite. */
export const SHORT_INVITE_BYTES = 1 + SHORT_INVITE_SECRET_BYTES + SHORT_INVITE_FINGERPRINT_BYTES;
/**
 * Sealed invite format version (3: sized for a full invite of version 5 whose card may carry a
 * device list, card version 3). Version 2 (1,786 bytes, cards without a device list) and
 * version 1 (1,752 bytes, invite version 3) are named when found and not read.
 */
export const SEALED_INVITE_VERSION = 3;
/** Sizes of the sealed invite versions before this one, so an old one is refused by name. */
const OLD_SEALED_BYTES: ReadonlyMap<number, number> = new Map([
  [1, 1_752],
  [2, 1_786],
]);
/**
 * Every sealed invite pads to this many plaintext bytes: the largest full invite (its
 * first-contact address, 4 one-time keys, 4 card addresses, a 64-byte name) plus the padding
 * marker, so its size tells nothing.
 */
export const SEALED_PLAINTEXT_BYTES =
  2 + INVITE_ADDRESS_BYTES + MAX_INVITE_ONE_TIME * 36 + MAX_CARD_BYTES + 1;
/** Bytes of a sealed invite. */
export const SEALED_INVITE_BYTES = 1 + 24 + SEALED_PLAINTEXT_BYTES + 16;
/** Most candidates `resolveShortInvite` examines at one locator (bounded work). */
export const MAX_CANDIDATES = 16;
const DOMAIN = utf8ToBytes('p2pcomm/v1/short-invite');

/** Why a short invite could not be resolved. */
export class ShortInviteError extends P2pCommError<
  /** Nothing at the locator opened and matched: not published (yet), pruned, or replaced. */
  'NOT_FOUND'
> {}

/** A short invite: the secret that finds and opens the full invite, and whom it must name. */
export class ShortInvite {
  readonly secret: Uint8Array;
  readonly fingerprint: Uint8Array;

  private constructor(secret: Uint8Array, fingerprint: Uint8Array) {
    this.secret = secret;
    this.fingerprint = fingerprint;
  }

  /** A fresh short invite for the full invite `invite` (a new random secret). */
  static create(invite: Invite): ShortInvite {
    if (!(invite instanceof Invite)) throw new TypeError('"invite" expected an Invite');
    return new ShortInvite(
      randomBytes(SHORT_INVITE_SECRET_BYTES),
      invite.card.peerId.slice(0, SHORT_INVITE_FINGERPRINT_BYTES),
    );
  }

  /** The 27 bytes (layout in the module doc). */
  serialize(): Uint8Array {
    return concatBytes(Uint8Array.of(SHORT_INVITE_VERSION), this.secret, this.fingerprint);
  }

  /** Decodes `serialize()` output; DecodeError UNKNOWN_VERSION, TRUNCATED or TRAILING_BYTES. */
  static deserialize(bytes: Uint8Array): ShortInvite {
    assertBytes('bytes', bytes);
    const r = new ByteReader(bytes);
    const version = r.u8('invite version');
    if (version !== SHORT_INVITE_VERSION)
      throw new DecodeError(
        'UNKNOWN_VERSION',
        `short invite version ${version} is not read by this client (version ${SHORT_INVITE_VERSION})`,
      );
    const secret = r.bytes(SHORT_INVITE_SECRET_BYTES, 'invite secret');
    const fingerprint = r.bytes(SHORT_INVITE_FINGERPRINT_BYTES, 'identity fingerprint');
    r.end('short invite');
    return new ShortInvite(secret, fingerprint);
  }

  /** `p2pcomm:<base64url>`: 44 characters, a version 4 QR code at level M. */
  toLink(): string {
    return CARD_URI_PREFIX + base64urlnopad.encode(this.serialize());
  }

  /** The seal key and the locator (module doc). */
  #derive(): { key: Uint8Array; locator: Uint8Array } {
    const out = hkdf(sha256, this.secret, this.fingerprint, DOMAIN, 64);
    return { key: out.slice(0, 32), locator: out.slice(32) };
  }

  /** Where the sealed invite is kept: 32 bytes derived from the secret. */
  get locator(): Uint8Array {
    return this.#derive().locator;
  }

  /** True when `invite`'s card is the one this short invite names. */
  names(invite: Invite): boolean {
    return equalBytes(invite.card.peerId.subarray(0, SHORT_INVITE_FINGERPRINT_BYTES), this.fingerprint);
  }

  /** Seals the full invite for publication at `locator` (fixed size, padded). */
  seal(invite: Invite): Uint8Array {
    if (!(invite instanceof Invite)) throw new TypeError('"invite" expected an Invite');
    if (!this.names(invite))
      throw new ContactCardError(
        'IDENTITY_MISMATCH',
        'the invite is not for the identity this short invite names',
      );
    const plain = new Uint8Array(SEALED_PLAINTEXT_BYTES);
    const bytes = invite.serialize();
    plain.set(bytes);
    plain[bytes.length] = 0x80;
    const nonce = randomBytes(24);
    const sealed = xchacha20poly1305(this.#derive().key, nonce, this.#aad()).encrypt(plain);
    return new ByteWriter(SEALED_INVITE_BYTES).u8(SEALED_INVITE_VERSION).bytes(nonce).bytes(sealed).finish();
  }

  /**
   * Opens a sealed invite found at the locator. DecodeError for another size or version;
   * ContactCardError BAD_SIGNATURE when the seal does not open under this secret or the card
   * does not verify, IDENTITY_MISMATCH when the card is not the one the fingerprint names.
   */
  open(sealed: Uint8Array): Invite {
    assertBytes('sealed', sealed);
    // An older seal, at its own size, is named as such.
    if (sealed.length === OLD_SEALED_BYTES.get(sealed[0]!))
      throw new DecodeError(
        'UNKNOWN_VERSION',
        `sealed invite version ${sealed[0]} is not read by this client; ask for a new invite`,
      );
    if (sealed.length !== SEALED_INVITE_BYTES)
      throw new DecodeError(
        'MALFORMED',
        `a sealed invite is ${SEALED_INVITE_BYTES} bytes, got ${sealed.length}`,
      );
    if (sealed[0] !== SEALED_INVITE_VERSION)
      throw new DecodeError(
        'UNKNOWN_VERSION',
        `sealed invite version ${sealed[0]} is not read by this client`,
      );
    let plain: Uint8Array;
    try {
      plain = xchacha20poly1305(this.#derive().key, sealed.subarray(1, 25), this.#aad()).decrypt(
        sealed.subarray(25),
      );
    } catch (cause) {
      throw new ContactCardError('BAD_SIGNATURE', 'the sealed invite does not open under this invite', {
        cause,
      });
    }
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    if (end < 0 || plain[end] !== 0x80) throw new DecodeError('MALFORMED', 'sealed invite padding');
    const body = plain.subarray(0, end);
    if (body[0] !== INVITE_VERSION && body[0] !== INVITE_VERSION_NO_ADDRESS)
      throw new DecodeError('UNKNOWN_VERSION', 'sealed invite holds another version');
    const invite = Invite.deserialize(body);
    if (!this.names(invite))
      throw new ContactCardError(
        'IDENTITY_MISMATCH',
        'the sealed card is not the identity this invite names',
      );
    return invite;
  }

  #aad(): Uint8Array {
    return concatBytes(DOMAIN, this.fingerprint);
  }
}

/**
 * Where sealed invites are kept and found, by locator: the narrow port between the invite and
 * whatever carries it (a Kaspa transaction payload, src/web/engine, or a test's memory).
 */
export interface InviteCardDirectory {
  /** Keeps `sealed` at `locator`. */
  publish(
    locator: Uint8Array,
    sealed: Uint8Array,
    options?: { readonly signal?: AbortSignal },
  ): Promise<void>;
  /** What is kept at `locator`, newest first; empty when nothing is. */
  find(locator: Uint8Array, options?: { readonly signal?: AbortSignal }): Promise<readonly Uint8Array[]>;
}

/**
 * The full invite behind `short`: the first of at most MAX_CANDIDATES sealed invites at its
 * locator that opens under its secret and names its identity. ShortInviteError NOT_FOUND when
 * none does; candidates that are malformed, forged or for another identity are skipped.
 */
export async function resolveShortInvite(
  short: ShortInvite,
  directory: InviteCardDirectory,
  options: { readonly signal?: AbortSignal } = {},
): Promise<Invite> {
  const found = await directory.find(short.locator, options);
  for (const sealed of found.slice(0, MAX_CANDIDATES)) {
    try {
      return short.open(sealed);
    } catch (e) {
      if (!(e instanceof P2pCommError)) throw e;
    }
  }
  throw new ShortInviteError(
    'NOT_FOUND',
    'the card of this invite was not found; ask for the full invite link ("Copy full invite")',
  );
}

/** An invite link read: a full invite (version 5 or 3), or a short one (version 4) to resolve. */
export type ParsedInvite =
  | { readonly kind: 'full'; readonly invite: Invite }
  | { readonly kind: 'short'; readonly short: ShortInvite };

/**
 * Reads an invite link of either form (text forms as `ContactCard.fromLink`). Errors as
 * `Invite.fromLink` / `ShortInvite.deserialize`.
 */
export function parseInviteLink(text: string): ParsedInvite {
  if (typeof text !== 'string') throw new TypeError(`"text" expected a string, got ${typeof text}`);
  let s = text.trim();
  const hash = s.lastIndexOf('#');
  if (hash >= 0) s = s.slice(hash + 1);
  if (s.toLowerCase().startsWith(CARD_URI_PREFIX)) s = s.slice(CARD_URI_PREFIX.length);
  if (/^[A-Za-z0-9_-]+$/.test(s) && s.length === Math.ceil((SHORT_INVITE_BYTES * 4) / 3)) {
    let bytes: Uint8Array;
    try {
      bytes = base64urlnopad.decode(s);
    } catch (cause) {
      throw new ContactCardError('BAD_LINK', 'contact link is not valid base64url', { cause });
    }
    if (bytes[0] === SHORT_INVITE_VERSION) return { kind: 'short', short: ShortInvite.deserialize(bytes) };
  }
  return { kind: 'full', invite: Invite.fromLink(text) };
}
