/**
 * Contact card: what a user hands out (invite link, QR) so others can reach them.
 *
 * Binary layout (version 3; version 2 is the same without `deviceList`):
 *
 *   u8 version=3 | identityKey[32] (Ed25519) | varuint preKeyId | preKey[32] (X25519)
 *   | kemDigest[32] = SHA-256(kemPreKey) | varuint issuedAt (Unix seconds; the card version)
 *   | u8 n=1..4 | n × address | varbytes displayName (UTF-8, ≤ 64 bytes)
 *   | varbytes deviceList (1..954 bytes, devices/device-list.ts; version 3 only) | signature[64]
 *   | kemPreKey[1184] (ML-KEM-768; present in the full form, absent in the compact form)
 *   address = u8 network (index in NETWORK_PREFIXES) | u8 version | payload (32 or 33 bytes)
 *
 * Several devices (docs/devices.md §3): a card carrying a device list is written as version 3,
 * and the list must verify under its own identity key and name the card's key, so a device's
 * card (whose `identityKey` is the device key) ties that device to its person in the same
 * bytes a first contact carries. A card without a list is written as version 2, byte for byte
 * as before, and reads as the one-device list `[identityKey]` (`devicesOf`): single-device
 * profiles, invites and first contacts do not change.
 *
 * One Ed25519 signature by the identity key covers every byte before it, domain-separated
 * by CARD_DOMAIN. It is also the pre-key signature of X3DH §3.2 ("Sig(IK, SPK)") and of
 * PQXDH §3.2 ("Sig(IK, EncodeKEM(PQSPK))"): the ML-KEM pre-key is signed through its digest,
 * so the same signature holds for both forms. The full form (invite links) lets anyone start
 * a post-quantum hybrid session; the compact form (sealed inside first-contact frames, where
 * every byte is paid on chain) proves the sender's identity and pre-keys without the
 * 1,184-byte key. The version is the issue time in seconds: monotonic without any counter to
 * keep, so a card issued after a restore from the recovery key still replaces older ones.
 * Version 1 (pre-key derived from the seed, no ML-KEM pre-key) is refused (UNKNOWN_VERSION).
 *
 * Invite link (version 5), what a user hands out: a first-contact address of its own, the card,
 * and one-time pre-keys minted for that invite (session/prekeys.ts), so the first session
 * started from it gains forward secrecy against a later theft of the recipient's state
 * (X3DH §3.3 OPK):
 *
 *   u8 version=5 | u8 network | u8 addrVersion=0 | x-only key[32]   (first-contact address)
 *   | u8 n=0..4 | n × (u32 id | X25519 one-time pre-key[32]) | card (full form)
 *
 * The first-contact address is where someone holding this invite pays until it has heard
 * from the inviter on chain; each invite names its own (BIP-44 receive index, docs/protocol.md
 * "Chain transactions and addresses"), so two invites, or a published one, do not point at
 * one address on chain. It is not signed: whoever can change the link can change the card.
 * Version 3 (no address; first contacts pay the card's address) is still read.
 *
 * The one-time keys are not signed, as in X3DH (§3.2: only the signed pre-key is): a changed
 * key or id only makes the first contact fail or fall back to what the signed pre-keys give,
 * and whoever can change the link can change the whole card anyway. A bare card in a link
 * (invite version 2) is refused by `Invite.fromLink` (UNKNOWN_VERSION, "ask for a new invite"):
 * it names no one-time key. `ContactCard.fromLink` reads both and returns the card.
 */
import { base64urlnopad } from '@scure/base';
import { Address, AddressVersion, NETWORK_PREFIXES } from '../../kaspa/address.ts';
import { ContactCardError } from '../errors.ts';
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { DecodeError, assertInteger } from '../../util/errors.ts';
import { bytesToUtf8, concatBytes, equalBytes, utf8ToBytes } from '../../util/bytes.ts';
import {
  ML_KEM,
  asEd25519PublicKey,
  asMlKemPublicKey,
  asX25519PublicKey,
  ed25519ToX25519,
  verifyEd25519,
  type Ed25519PublicKey,
  type MlKemPublicKey,
  type PublicPreKey,
  type X25519PublicKey,
} from '../identity/keys.ts';
import { peerIdFromPublicKey, type PeerId } from '../identity/peer-id.ts';
import type { Identity } from '../identity/identity.ts';
import { DeviceList, MAX_DEVICE_LIST_BYTES } from '../devices/device-list.ts';
import { DeviceError } from '../devices/errors.ts';

/** Card format version written for a card without a device list (read as one device). */
export const CARD_VERSION = 2;
/** Card format version written for a card that carries the person's signed device list. */
export const CARD_VERSION_DEVICES = 3;
const CARD_DOMAIN = utf8ToBytes('p2pcomm/v2/contact-card');
/** Longest display name in UTF-8 bytes; longer names would push the QR code past 300 chars. */
export const MAX_DISPLAY_NAME_BYTES = 64;
/** Most notification addresses a card may list. */
export const MAX_ADDRESSES = 4;
/** Largest possible compact card in bytes. */
export const MAX_COMPACT_CARD_BYTES =
  1 +
  32 +
  5 +
  32 +
  32 +
  8 +
  1 +
  MAX_ADDRESSES * 35 +
  1 +
  MAX_DISPLAY_NAME_BYTES +
  2 +
  MAX_DEVICE_LIST_BYTES +
  64;
/** Largest possible card in bytes, full form (bounds the decoder). */
export const MAX_CARD_BYTES = MAX_COMPACT_CARD_BYTES + ML_KEM.publicKey;
/** URI scheme of the text form. */
export const CARD_URI_PREFIX = 'p2pcomm:';
/**
 * Invite link format version (the first byte; a bare card starts with CARD_VERSION, a short
 * invite with 4). Version 5 names a first-contact address of its own; version 3, without it,
 * is still read (INVITE_VERSION_NO_ADDRESS).
 */
export const INVITE_VERSION = 5;
/** The previous invite version: the same fields without the first-contact address. */
export const INVITE_VERSION_NO_ADDRESS = 3;
/** Bytes the first-contact address adds to an invite (network, version, x-only key). */
export const INVITE_ADDRESS_BYTES = 2 + 32;
/** Most one-time pre-keys one invite carries. */
export const MAX_INVITE_ONE_TIME = 4;
/** Bytes one one-time pre-key adds to an invite (before base64url). */
export const INVITE_ONE_TIME_BYTES = 4 + 32;
const MAX_INVITE_BYTES =
  2 + INVITE_ADDRESS_BYTES + MAX_INVITE_ONE_TIME * INVITE_ONE_TIME_BYTES + MAX_CARD_BYTES;

const PAYLOAD_BYTES: Readonly<Record<number, number>> = {
  [AddressVersion.PubKey]: 32,
  [AddressVersion.PubKeyECDSA]: 33,
  [AddressVersion.ScriptHash]: 32,
};

/** What the owner chooses when issuing a card. */
export interface ContactCardFields {
  /** Kaspa addresses where this contact wants notification outputs (1 to 4). */
  readonly addresses: readonly Address[];
  readonly displayName: string;
  /** The signed pre-key pair the card announces (the session manager's current one). */
  readonly preKey: PublicPreKey;
  /** Issue time in Unix seconds; the card version (default: now). */
  readonly issuedAt?: number;
  /** The person's device list naming this card's key (written as card version 3). */
  readonly deviceList?: DeviceList;
}

/** A verified contact card. Instances exist only after the signature checked out. */
export class ContactCard {
  readonly identityKey: Ed25519PublicKey;
  readonly preKeyId: number;
  readonly preKey: X25519PublicKey;
  /** The ML-KEM-768 pre-key (PQXDH PQSPK); undefined in the compact form. */
  readonly kemPreKey: MlKemPublicKey | undefined;
  readonly issuedAt: number;
  readonly addresses: readonly Address[];
  readonly displayName: string;
  /** The person's verified device list (version 3), naming this card's key; undefined in version 2. */
  readonly deviceList: DeviceList | undefined;
  /** The signed part and signature: the compact form. */
  readonly #compact: Uint8Array;

  private constructor(
    compact: Uint8Array,
    f: {
      identityKey: Ed25519PublicKey;
      preKeyId: number;
      preKey: X25519PublicKey;
      kemPreKey: MlKemPublicKey | undefined;
      issuedAt: number;
      addresses: Address[];
      displayName: string;
      deviceList: DeviceList | undefined;
    },
  ) {
    this.#compact = compact;
    this.identityKey = f.identityKey;
    this.preKeyId = f.preKeyId;
    this.preKey = f.preKey;
    this.kemPreKey = f.kemPreKey;
    this.issuedAt = f.issuedAt;
    this.addresses = Object.freeze(f.addresses);
    this.displayName = f.displayName;
    this.deviceList = f.deviceList;
  }

  /** Issues and signs a card for `identity`. */
  static create(identity: Identity, fields: ContactCardFields): ContactCard {
    const preKey = fields.preKey;
    if (typeof preKey !== 'object' || preKey === null)
      throw new TypeError('"preKey" expected a PublicPreKey');
    assertInteger('preKey.id', preKey.id, 0, 0xffff_ffff);
    asX25519PublicKey(preKey.publicKey, 'preKey.publicKey');
    asMlKemPublicKey(preKey.kemPublicKey, 'preKey.kemPublicKey');
    const issuedAt = fields.issuedAt ?? Math.floor(Date.now() / 1000);
    assertInteger('issuedAt', issuedAt, 0, Number.MAX_SAFE_INTEGER);
    if (
      !Array.isArray(fields.addresses) ||
      fields.addresses.length < 1 ||
      fields.addresses.length > MAX_ADDRESSES
    ) {
      throw new RangeError(`"addresses" expected 1..${MAX_ADDRESSES} addresses`);
    }
    for (const a of fields.addresses) {
      if (!(a instanceof Address)) throw new TypeError('"addresses" expected Address instances');
    }
    if (typeof fields.displayName !== 'string') throw new TypeError('"displayName" expected a string');
    const name = utf8ToBytes(fields.displayName.normalize('NFC'));
    if (name.length > MAX_DISPLAY_NAME_BYTES) {
      throw new RangeError(`"displayName" is ${name.length} UTF-8 bytes, at most ${MAX_DISPLAY_NAME_BYTES}`);
    }
    const list = fields.deviceList;
    if (list !== undefined && !(list instanceof DeviceList))
      throw new TypeError('"deviceList" expected a DeviceList');
    if (list !== undefined && !list.has(identity.publicKey))
      throw new RangeError('"deviceList" does not name the key this card is issued for');
    const w = new ByteWriter(MAX_CARD_BYTES)
      .u8(list === undefined ? CARD_VERSION : CARD_VERSION_DEVICES)
      .bytes(identity.publicKey)
      .varUint(preKey.id)
      .bytes(preKey.publicKey)
      .bytes(sha256(preKey.kemPublicKey))
      .varUint(issuedAt)
      .u8(fields.addresses.length);
    for (const a of fields.addresses) w.u8(NETWORK_PREFIXES.indexOf(a.prefix)).u8(a.version).bytes(a.payload);
    w.varBytes(name);
    if (list !== undefined) w.varBytes(list.serialize());
    const body = w.finish();
    const signature = identity.sign(concatBytes(CARD_DOMAIN, body));
    return ContactCard.deserialize(concatBytes(body, signature, preKey.kemPublicKey));
  }

  /**
   * Decodes and verifies a card, full or compact, version 2 or 3. DecodeError for malformed
   * bytes, ContactCardError BAD_SIGNATURE when the signature (or the ML-KEM pre-key's digest)
   * does not match (tampered card); for version 3, the errors of `DeviceList.verify` for its
   * list, and DeviceError NOT_LISTED when the list does not name the card's key.
   */
  static deserialize(bytes: Uint8Array): ContactCard {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('"bytes" expected Uint8Array');
    if (bytes.length > MAX_CARD_BYTES)
      throw new DecodeError('TOO_LARGE', `contact card exceeds ${MAX_CARD_BYTES} bytes`);
    const r = new ByteReader(bytes);
    const version = r.u8('card version');
    if (version !== CARD_VERSION && version !== CARD_VERSION_DEVICES)
      throw new DecodeError(
        'UNKNOWN_VERSION',
        `contact card version ${version} is not supported (this client reads versions ${CARD_VERSION} and ${CARD_VERSION_DEVICES}); ask for a new invite`,
      );
    const identityKey = asEd25519PublicKey(r.bytes(32, 'identity key'));
    const preKeyId = r.varUint('pre-key id');
    if (preKeyId > 0xffff_ffff) throw new DecodeError('MALFORMED', 'pre-key id exceeds 32 bits');
    const preKey = asX25519PublicKey(r.bytes(32, 'pre-key'));
    const kemDigest = r.bytes(32, 'ML-KEM pre-key digest');
    const issuedAt = r.varUint('issuedAt');
    const count = r.u8('address count');
    if (count < 1 || count > MAX_ADDRESSES)
      throw new DecodeError('MALFORMED', `contact card lists ${count} addresses`);
    const addresses: Address[] = [];
    for (let i = 0; i < count; i++) {
      const network = NETWORK_PREFIXES[r.u8('address network')];
      const av = r.u8('address version');
      const len = PAYLOAD_BYTES[av];
      if (network === undefined) throw new DecodeError('MALFORMED', 'unknown address network');
      if (len === undefined) throw new DecodeError('MALFORMED', `unknown address version ${av}`);
      addresses.push(new Address(network, av, r.bytes(len, 'address payload')));
    }
    const nameBytes = r.varBytes(MAX_DISPLAY_NAME_BYTES, 'display name');
    let displayName: string;
    try {
      displayName = bytesToUtf8(nameBytes);
    } catch (e) {
      throw new DecodeError('MALFORMED', 'display name is not valid UTF-8', { cause: e });
    }
    const listBytes =
      version === CARD_VERSION_DEVICES ? r.varBytes(MAX_DEVICE_LIST_BYTES, 'device list') : undefined;
    const bodyLength = r.offset;
    const signature = r.bytes(64, 'signature');
    const compactLength = r.offset;
    const tail = r.rest();
    if (tail.length > ML_KEM.publicKey)
      throw new DecodeError(
        'TRAILING_BYTES',
        `contact card has ${tail.length - ML_KEM.publicKey} extra bytes`,
      );
    if (tail.length !== 0 && tail.length !== ML_KEM.publicKey)
      throw new DecodeError('TRUNCATED', `contact card ends inside its ML-KEM pre-key`);
    const body = bytes.subarray(0, bodyLength);
    if (!verifyEd25519(signature, concatBytes(CARD_DOMAIN, body), identityKey)) {
      throw new ContactCardError(
        'BAD_SIGNATURE',
        'contact card signature does not verify (tampered or forged)',
      );
    }
    const kemPreKey = tail.length === 0 ? undefined : asMlKemPublicKey(tail.slice());
    if (kemPreKey !== undefined && !equalBytes(sha256(kemPreKey), kemDigest)) {
      throw new ContactCardError('BAD_SIGNATURE', 'the ML-KEM pre-key is not the one the card signs');
    }
    let deviceList: DeviceList | undefined;
    if (listBytes !== undefined) {
      // The list is signed by the person's identity key, which is its own first field: who
      // that person is follows from the list, and a contact record checks it is the one it keeps.
      if (listBytes.length < 33) throw new DecodeError('TRUNCATED', 'device list in a card is too short');
      deviceList = DeviceList.verify(listBytes, asEd25519PublicKey(listBytes.slice(1, 33)));
      if (!deviceList.has(identityKey))
        throw new DeviceError('NOT_LISTED', 'This card is for a device its own device list does not name.');
    }
    return new ContactCard(bytes.slice(0, compactLength), {
      identityKey,
      preKeyId,
      preKey,
      kemPreKey,
      issuedAt,
      addresses,
      displayName,
      deviceList,
    });
  }

  /** The card bytes: the full form when the ML-KEM pre-key is known, else the compact one. */
  serialize(): Uint8Array {
    return this.kemPreKey === undefined ? this.#compact.slice() : concatBytes(this.#compact, this.kemPreKey);
  }

  /**
   * `w.varBytes(this.serialize())` without the copy: session state writes every contact's
   * card at each save (session-manager.ts).
   */
  writeTo(w: ByteWriter): void {
    const kem = this.kemPreKey;
    w.varUint(this.#compact.length + (kem?.length ?? 0)).bytes(this.#compact);
    if (kem !== undefined) w.bytes(kem);
  }

  /** The peer id serialized card bytes claim, unverified (a lookup key only); undefined if too short. */
  static claimedPeerId(bytes: Uint8Array): PeerId | undefined {
    // Every version begins with its version byte and then the 32-byte identity key.
    return bytes.length < 33 ? undefined : peerIdFromPublicKey(asEd25519PublicKey(bytes.slice(1, 33)));
  }

  /**
   * True when `bytes` are this signed card, full or compact, compared without copying: its
   * signature then covers them too (the full form's ML-KEM key is checked against the digest
   * it signs).
   */
  matches(bytes: Uint8Array): boolean {
    const c = this.#compact;
    const kem = this.kemPreKey;
    if (bytes.length === c.length) return equalBytes(bytes, c);
    if (kem === undefined || bytes.length !== c.length + kem.length) return false;
    return equalBytes(bytes.subarray(0, c.length), c) && equalBytes(bytes.subarray(c.length), kem);
  }

  /** The compact form: the signed part alone, without the 1,184-byte ML-KEM pre-key. */
  serializeCompact(): Uint8Array {
    return this.#compact.slice();
  }

  /**
   * `p2pcomm:<base64url>` of `serialize()`: about 1,900 characters for the full form, which
   * fits an invite link and a QR code (measured in bench/core.bench.ts).
   */
  toLink(): string {
    return CARD_URI_PREFIX + base64urlnopad.encode(this.serialize());
  }

  /**
   * Parses `toLink()` output or an invite link (`Invite`, its card is returned); also
   * accepted: the bare base64url, or after a `#` in a URL.
   */
  static fromLink(text: string): ContactCard {
    const bytes = linkBytes(text);
    return bytes[0] === INVITE_VERSION || bytes[0] === INVITE_VERSION_NO_ADDRESS
      ? Invite.deserialize(bytes).card
      : ContactCard.deserialize(bytes);
  }

  /** BLAKE3 of the identity key. */
  get peerId(): PeerId {
    return peerIdFromPublicKey(this.identityKey);
  }

  /** The identity key of the person this card speaks for: its list's signer, else its own key. */
  get personKey(): Ed25519PublicKey {
    return this.deviceList?.identityKey ?? this.identityKey;
  }

  /** X25519 form of the identity key (X3DH IK). */
  get identityDhKey(): X25519PublicKey {
    return ed25519ToX25519(this.identityKey);
  }

  /** True when both cards belong to the same identity. */
  sameIdentity(other: ContactCard): boolean {
    return equalBytes(this.identityKey, other.identityKey);
  }

  /** True when both are the same signed card (one may be the compact form of the other). */
  sameCard(other: ContactCard): boolean {
    return equalBytes(this.#compact, other.#compact);
  }

  /** True when this card should replace `other` (same identity, issued later). */
  supersedes(other: ContactCard): boolean {
    return this.sameIdentity(other) && this.issuedAt > other.issuedAt;
  }
}

/** The bytes of a `p2pcomm:` link (also the bare base64url, or after a `#` in a URL). */
function linkBytes(text: string): Uint8Array {
  if (typeof text !== 'string') throw new TypeError(`"text" expected a string, got ${typeof text}`);
  let s = text.trim();
  const hash = s.lastIndexOf('#');
  if (hash >= 0) s = s.slice(hash + 1);
  if (s.toLowerCase().startsWith(CARD_URI_PREFIX)) s = s.slice(CARD_URI_PREFIX.length);
  if (s.length === 0 || s.length > Math.ceil((MAX_INVITE_BYTES * 4) / 3) || !/^[A-Za-z0-9_-]+$/.test(s)) {
    throw new ContactCardError('BAD_LINK', 'not a p2pComm contact link');
  }
  try {
    return base64urlnopad.decode(s);
  } catch (e) {
    throw new ContactCardError('BAD_LINK', 'contact link is not valid base64url', { cause: e });
  }
}

/** A one-time pre-key as an invite carries it (session/prekeys.ts). */
export interface InviteOneTimeKey {
  readonly id: number;
  readonly publicKey: X25519PublicKey;
}

/** An invite: a verified card in full form and the one-time pre-keys minted for it. */
export class Invite {
  readonly card: ContactCard;
  readonly oneTimeKeys: readonly InviteOneTimeKey[];
  /** Where first contacts made from this invite pay; undefined for a version 3 invite. */
  readonly firstContact: Address | undefined;

  /**
   * `firstContact`: a Schnorr address on a network the card lists (version 5); without it
   * the invite is written as version 3.
   */
  constructor(card: ContactCard, oneTimeKeys: readonly InviteOneTimeKey[] = [], firstContact?: Address) {
    if (!(card instanceof ContactCard)) throw new TypeError('"card" expected a ContactCard');
    if (card.kemPreKey === undefined) throw new TypeError('"card" expected the full form');
    if (firstContact !== undefined) {
      if (!(firstContact instanceof Address)) throw new TypeError('"firstContact" expected an Address');
      if (firstContact.version !== AddressVersion.PubKey)
        throw new RangeError('"firstContact" expected a Schnorr (P2PK) address');
      if (!card.addresses.some((a) => a.prefix === firstContact.prefix))
        throw new RangeError(`"firstContact" is on ${firstContact.prefix}, a network the card does not list`);
    }
    if (!Array.isArray(oneTimeKeys) || oneTimeKeys.length > MAX_INVITE_ONE_TIME)
      throw new RangeError(`"oneTimeKeys" expected at most ${MAX_INVITE_ONE_TIME} keys`);
    for (const k of oneTimeKeys) {
      assertInteger('oneTimeKeys[].id', k.id, 0, 0xffff_ffff);
      asX25519PublicKey(k.publicKey, 'oneTimeKeys[].publicKey');
    }
    this.card = card;
    this.oneTimeKeys = Object.freeze(oneTimeKeys.map((k) => ({ id: k.id, publicKey: k.publicKey })));
    this.firstContact = firstContact;
  }

  /** The invite bytes (layout in the module doc). */
  serialize(): Uint8Array {
    const card = this.card.serialize();
    const a = this.firstContact;
    const w = new ByteWriter(
      2 + INVITE_ADDRESS_BYTES + this.oneTimeKeys.length * INVITE_ONE_TIME_BYTES + card.length,
    );
    if (a === undefined) w.u8(INVITE_VERSION_NO_ADDRESS);
    else w.u8(INVITE_VERSION).u8(NETWORK_PREFIXES.indexOf(a.prefix)).u8(a.version).bytes(a.payload);
    w.u8(this.oneTimeKeys.length);
    for (const k of this.oneTimeKeys) w.u32(k.id).bytes(k.publicKey);
    return w.bytes(card).finish();
  }

  /**
   * Decodes and verifies an invite (version 5, or 3 without first-contact address).
   * DecodeError UNKNOWN_VERSION for a bare card (version 2) or another version, DecodeError
   * for malformed bytes (MALFORMED for an address of another kind or on a network the card
   * does not list), ContactCardError for a bad card.
   */
  static deserialize(bytes: Uint8Array): Invite {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('"bytes" expected Uint8Array');
    if (bytes.length > MAX_INVITE_BYTES)
      throw new DecodeError('TOO_LARGE', `invite exceeds ${MAX_INVITE_BYTES} bytes`);
    const r = new ByteReader(bytes);
    const version = r.u8('invite version');
    if (version !== INVITE_VERSION && version !== INVITE_VERSION_NO_ADDRESS)
      throw new DecodeError(
        'UNKNOWN_VERSION',
        `invite version ${version} is not supported (this client reads versions ${INVITE_VERSION} and ${INVITE_VERSION_NO_ADDRESS}); ask for a new invite`,
      );
    let firstContact: Address | undefined;
    if (version === INVITE_VERSION) {
      const network = NETWORK_PREFIXES[r.u8('first-contact address network')];
      const av = r.u8('first-contact address version');
      if (network === undefined) throw new DecodeError('MALFORMED', 'unknown first-contact address network');
      if (av !== AddressVersion.PubKey)
        throw new DecodeError('MALFORMED', `first-contact address version ${av} is not Schnorr (P2PK)`);
      firstContact = new Address(network, av, r.bytes(32, 'first-contact address'));
    }
    const n = r.u8('one-time key count');
    if (n > MAX_INVITE_ONE_TIME) throw new DecodeError('MALFORMED', `invite carries ${n} one-time keys`);
    const keys: InviteOneTimeKey[] = [];
    for (let i = 0; i < n; i++) {
      const id = r.u32('one-time key id');
      const publicKey = asX25519PublicKey(r.bytes(32, 'one-time key'));
      if (keys.some((k) => k.id === id)) throw new DecodeError('MALFORMED', 'duplicate one-time key id');
      keys.push({ id, publicKey });
    }
    const card = ContactCard.deserialize(r.rest());
    if (card.kemPreKey === undefined)
      throw new DecodeError('TRUNCATED', 'an invite carries the full card, with its ML-KEM pre-key');
    if (firstContact !== undefined && !card.addresses.some((a) => a.prefix === firstContact.prefix))
      throw new DecodeError(
        'MALFORMED',
        `first-contact address on ${firstContact.prefix}, a network the card does not list`,
      );
    return new Invite(card, keys, firstContact);
  }

  /** `p2pcomm:<base64url>` of `serialize()`. */
  toLink(): string {
    return CARD_URI_PREFIX + base64urlnopad.encode(this.serialize());
  }

  /** Parses `toLink()` output (forms as `ContactCard.fromLink`). */
  static fromLink(text: string): Invite {
    return Invite.deserialize(linkBytes(text));
  }
}
