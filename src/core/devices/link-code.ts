/**
 * The link code an existing device shows (QR code, or a link to paste) so that a new device
 * can join the same person (docs/devices.md §5, docs/protocol.md "Device link code").
 *
 *   u8 version=1 | identityKey[32] | secret[16] | u32 expiresAt (Unix s, little-endian)
 *   | check[4] = BLAKE3(every byte before)[0..4]
 *   text = "p2pcomm-link:" base64url(code)           (57 bytes, 89 characters, QR version 6 at M)
 *
 * The secret is one-time and short-lived: it authenticates both ends of the device-to-device
 * channel (handshake.ts), and whoever holds it for its few minutes can link a device, as
 * with Signal's linking QR code; so it is shown, never sent. 128 bits make an offline search
 * of a recorded handshake hopeless, which a short typed code (a few digits) would not: such a
 * code needs a PAKE instead (docs/devices.md §5 says why none is used yet). The check bytes
 * catch a damaged scan or paste before any network step; they are no authentication (an
 * attacker can recompute them); a forged code fails the handshake.
 *
 * The existing device keeps what it showed in `LinkOffers`: each code links one device once,
 * until it expires; then it is refused as replayed or expired, with nothing changed.
 */
import { blake3 } from '@noble/hashes/blake3.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64urlnopad } from '@scure/base';
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { DecodeError, assertInteger } from '../../util/errors.ts';
import { bytesToHex, concatBytes, equalBytes, randomBytes, utf8ToBytes } from '../../util/bytes.ts';
import type { Ed25519PublicKey } from '../identity/keys.ts';
import type { Identity } from '../identity/identity.ts';
import type { DeviceKey } from './device-list.ts';
import { DeviceError } from './errors.ts';

/** Link code format version. */
export const LINK_CODE_VERSION = 1;
/** Bytes of the one-time link secret. */
export const LINK_SECRET_BYTES = 16;
/** Bytes of a link code. */
export const LINK_CODE_BYTES = 1 + 32 + LINK_SECRET_BYTES + 4 + 4;
/** Prefix of the text form. */
export const LINK_CODE_PREFIX = 'p2pcomm-link:';
/** How long a shown code links a device. @default 600_000 (10 minutes) */
export const DEFAULT_LINK_LIFETIME_MS = 10 * 60_000;
const OFFER_ID_INFO = utf8ToBytes('p2pcomm/v1/device-link/offer-id');

/** A decoded link code (not yet authenticated: the handshake does that). */
export interface LinkCode {
  readonly identityKey: Ed25519PublicKey;
  readonly secret: Uint8Array;
  /** Unix seconds after which the code links nothing. */
  readonly expiresAt: number;
}

/** The binary form of `code`. */
export function encodeLinkCode(code: LinkCode): Uint8Array {
  assertInteger('expiresAt', code.expiresAt, 0, 0xffff_ffff);
  const body = new ByteWriter(LINK_CODE_BYTES)
    .u8(LINK_CODE_VERSION)
    .bytes(code.identityKey)
    .bytes(code.secret)
    .u32(code.expiresAt)
    .finish();
  if (body.length !== LINK_CODE_BYTES - 4)
    throw new RangeError('"code" has a key or secret of the wrong length');
  return concatBytes(body, blake3(body).subarray(0, 4));
}

/** The text form shown as a QR code or copied. */
export function linkCodeText(code: LinkCode): string {
  return LINK_CODE_PREFIX + base64urlnopad.encode(encodeLinkCode(code));
}

/**
 * Reads a link code in binary or text form. DecodeError for what is no link code (wrong prefix,
 * length, version); DeviceError LINK_DAMAGED when the check bytes do not match ("scan the code
 * again"). Expiry is checked by `checkLinkCode`, since it depends on the clock.
 */
export function decodeLinkCode(input: Uint8Array | string): LinkCode {
  let bytes: Uint8Array;
  if (typeof input === 'string') {
    const text = input.trim();
    if (!text.startsWith(LINK_CODE_PREFIX))
      throw new DecodeError('MALFORMED', 'this is not a p2pComm link code');
    try {
      bytes = base64urlnopad.decode(text.slice(LINK_CODE_PREFIX.length));
    } catch (e) {
      throw new DecodeError('MALFORMED', 'the link code is not valid base64url', { cause: e });
    }
  } else if (input instanceof Uint8Array) bytes = input;
  else throw new TypeError('"input" expected a string or Uint8Array');
  const r = new ByteReader(bytes);
  const version = r.u8('link code version');
  if (version !== LINK_CODE_VERSION)
    throw new DecodeError(
      'UNKNOWN_VERSION',
      `This link code was made by another version of p2pComm (link code version ${version}).`,
    );
  const identityKey = r.bytes(32, 'link code identity key') as Ed25519PublicKey;
  const secret = r.bytes(LINK_SECRET_BYTES, 'link secret');
  const expiresAt = r.u32('link code expiry');
  const check = r.bytes(4, 'link code check');
  r.end('link code');
  if (!equalBytes(check, blake3(bytes.subarray(0, LINK_CODE_BYTES - 4)).subarray(0, 4)))
    throw new DeviceError('LINK_DAMAGED', 'This link code is damaged. Scan it again or copy it whole.');
  return { identityKey, secret, expiresAt };
}

/**
 * Checks a decoded code before the new device connects: DeviceError LINK_EXPIRED past its expiry,
 * WRONG_IDENTITY when `expected` (the person the user means to join, when known) is another.
 */
export function checkLinkCode(code: LinkCode, nowMs: number, expected?: Ed25519PublicKey): void {
  if (nowMs >= code.expiresAt * 1000)
    throw new DeviceError('LINK_EXPIRED', 'This link code has expired. Show a new one on your other device.');
  if (expected !== undefined && !equalBytes(expected, code.identityKey))
    throw new DeviceError('WRONG_IDENTITY', 'This link code belongs to another person.');
}

/**
 * The 8-byte name of an offer on the channel: derived from the secret, so the existing device can
 * find the offer without the secret ever being sent, and an observer learns nothing from it.
 */
export function linkOfferId(code: LinkCode): Uint8Array {
  return hkdf(sha256, code.secret, code.identityKey, OFFER_ID_INFO, 8);
}

type OfferState =
  | { readonly kind: 'open' }
  | { readonly kind: 'bound'; readonly device: DeviceKey }
  | { readonly kind: 'done'; readonly device: DeviceKey };

interface Offer {
  readonly code: LinkCode;
  state: OfferState;
}

/** Settings of `LinkOffers`. */
export interface LinkOffersOptions {
  /** @default DEFAULT_LINK_LIFETIME_MS */
  readonly lifetimeMs?: number;
  /** Offers remembered at once, open or finished (oldest forgotten first). @default 8 */
  readonly capacity?: number;
}

/**
 * The codes this device has shown, and what became of each (held in memory by the existing
 * device while its linking screen is open; a restart forgets them, which only refuses a code).
 */
export class LinkOffers {
  readonly #identity: Identity;
  readonly #lifetimeMs: number;
  readonly #capacity: number;
  readonly #offers = new Map<string, Offer>();

  constructor(identity: Identity, options: LinkOffersOptions = {}) {
    this.#identity = identity;
    this.#lifetimeMs = options.lifetimeMs ?? DEFAULT_LINK_LIFETIME_MS;
    this.#capacity = options.capacity ?? 8;
    assertInteger('lifetimeMs', this.#lifetimeMs, 1_000, 24 * 3_600_000);
    assertInteger('capacity', this.#capacity, 1, 64);
  }

  /** A new code to show, valid from `nowMs` for the configured lifetime. */
  mint(nowMs: number): LinkCode {
    assertInteger('nowMs', nowMs, 0, Number.MAX_SAFE_INTEGER);
    const code: LinkCode = {
      identityKey: this.#identity.publicKey,
      secret: randomBytes(LINK_SECRET_BYTES),
      expiresAt: Math.ceil((nowMs + this.#lifetimeMs) / 1000),
    };
    this.#offers.set(bytesToHex(linkOfferId(code)), { code, state: { kind: 'open' } });
    while (this.#offers.size > this.#capacity) this.#offers.delete(this.#offers.keys().next().value!);
    return code;
  }

  /**
   * The code named `offerId`, for a handshake from the new device `device`. DeviceError
   * LINK_UNKNOWN (never shown here, or forgotten), LINK_EXPIRED, LINK_REPLAYED (it linked a
   * device already), LINK_IN_USE (another device is linking with it). Changes nothing.
   */
  lookup(offerId: Uint8Array, nowMs: number): LinkCode {
    const offer = this.#offers.get(bytesToHex(offerId));
    if (offer === undefined)
      throw new DeviceError('LINK_UNKNOWN', 'This link code was not shown by this device, or is too old.');
    if (offer.state.kind === 'done')
      throw new DeviceError('LINK_REPLAYED', 'This link code has been used already. Show a new one.');
    if (nowMs >= offer.code.expiresAt * 1000)
      throw new DeviceError('LINK_EXPIRED', 'This link code has expired. Show a new one.');
    return offer.code;
  }

  /**
   * Binds the offer to the first new device that proved it holds the secret and its device key;
   * a second device with the same code is LINK_IN_USE, the same device again (a resumed
   * transfer) is let through.
   */
  bind(offerId: Uint8Array, device: DeviceKey, nowMs: number): void {
    this.lookup(offerId, nowMs);
    const offer = this.#offers.get(bytesToHex(offerId))!;
    if (offer.state.kind === 'bound' && !equalBytes(offer.state.device, device))
      throw new DeviceError('LINK_IN_USE', 'Another device is being linked with this code.');
    offer.state = { kind: 'bound', device };
  }

  /** Marks the offer used: it links no other device, and the same code again is LINK_REPLAYED. */
  complete(offerId: Uint8Array): void {
    const offer = this.#offers.get(bytesToHex(offerId));
    if (offer === undefined || offer.state.kind !== 'bound')
      throw new RangeError('"offerId" is not a bound offer');
    offer.state = { kind: 'done', device: offer.state.device };
  }

  /** What became of the offer (for the linking screen and tests). */
  state(offerId: Uint8Array): OfferState['kind'] | undefined {
    return this.#offers.get(bytesToHex(offerId))?.state.kind;
  }
}
