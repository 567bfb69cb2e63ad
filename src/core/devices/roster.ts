/**
 * What one device keeps of every person's devices (docs/devices.md §3): the newest verified
 * device list of each contact and of our own person, and the device card of each listed device
 * other than the first one (whose card is the contact card itself). The session layer asks it
 * which devices a message goes to (`fanOut`) and whose device a sender is; it never touches a
 * session itself, it only says which device cards appeared and which were dropped.
 *
 * Stored form, the device part of the contact records ("Device record", docs/protocol.md):
 *
 *   u8 version=1 | varuint n (0..4096)
 *   | n × (varbytes list (≤ 954 B) | u8 m (0..8) | m × varbytes card (≤ 2,560 B))
 *
 * Everything is verified again on load, as one-time pre-key batches are: a record altered at
 * rest is refused (the list's own errors), never half-read.
 */
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { DecodeError } from '../../util/errors.ts';
import { bytesToHex, equalBytes } from '../../util/bytes.ts';
import { ContactCard, MAX_CARD_BYTES } from '../contact/card.ts';
import { asEd25519PublicKey, type Ed25519PublicKey } from '../identity/keys.ts';
import { formatPeerId, peerIdFromPublicKey } from '../identity/peer-id.ts';
import type { DeviceList } from './device-list.ts';
import { acceptDeviceList, MAX_DEVICE_LIST_BYTES, MAX_DEVICES, type DeviceKey } from './device-list.ts';
import { DeviceError } from './errors.ts';
import { fanOut, type FanOutTarget } from './fan-out.ts';

/** Device record format version. */
export const DEVICE_RECORD_VERSION = 1;
/** Most people one record keeps (bounds the decoder; a contact list is far smaller). */
export const MAX_RECORD_PEOPLE = 4096;

interface Person {
  list: DeviceList;
  /** Device cards by device key (hex), for the listed devices other than the identity key. */
  cards: Map<string, ContactCard>;
}

/** What an accepted update changed. */
export interface DeviceUpdate {
  readonly list: DeviceList;
  /** Device cards that are new or newer (the session layer adds them). */
  readonly added: readonly ContactCard[];
  /** Devices that were listed and no longer are (the session layer forgets them). */
  readonly removed: readonly DeviceKey[];
}

/** The device lists and device cards one device keeps. */
export class DeviceRoster {
  readonly #people = new Map<string, Person>();
  /** Device peer id (printable) to the person's identity key, for every listed device. */
  readonly #owner = new Map<string, Ed25519PublicKey>();

  /** `person`: our identity key; `self`: this device's key (the identity key on the first device). */
  constructor(
    readonly person: Ed25519PublicKey,
    readonly self: DeviceKey,
  ) {
    asEd25519PublicKey(person, 'person');
    asEd25519PublicKey(self, 'self');
  }

  /** The newest verified list of `person` (undefined: none heard, the one-device list). */
  listOf(person: Ed25519PublicKey): DeviceList | undefined {
    return this.#people.get(bytesToHex(person))?.list;
  }

  /** The device card kept for `device` of `person`. */
  cardOf(person: Ed25519PublicKey, device: DeviceKey): ContactCard | undefined {
    return this.#people.get(bytesToHex(person))?.cards.get(bytesToHex(device));
  }

  /** Every device card kept for `person`'s listed devices. */
  cardsOf(person: Ed25519PublicKey): readonly ContactCard[] {
    return [...(this.#people.get(bytesToHex(person))?.cards.values() ?? [])];
  }

  /** Whose listed device the session peer `peer` (printable peer id) is. */
  ownerOf(peer: string): Ed25519PublicKey | undefined {
    return this.#owner.get(peer);
  }

  /** The sessions a message to `recipient` goes out under (`fanOut` over the kept lists). */
  targets(recipient: Ed25519PublicKey): FanOutTarget[] {
    return fanOut({
      ours: { identityKey: this.person, list: this.listOf(this.person) },
      theirs: { identityKey: recipient, list: this.listOf(recipient) },
      self: this.self,
    });
  }

  /**
   * Takes `listBytes` as `person`'s newest list, with device cards for listed devices. Refused
   * whole, nothing kept: the errors of `acceptDeviceList` (WRONG_IDENTITY, BAD_SIGNATURE,
   * STALE_COUNTER, DecodeError); for a card, its own errors, and DeviceError NOT_LISTED when it
   * is for a device the list does not name, WRONG_IDENTITY when its own list is another
   * person's. The same list again only adds cards not kept yet.
   */
  accept(
    person: Ed25519PublicKey,
    listBytes: Uint8Array,
    cardBytes: readonly Uint8Array[] = [],
  ): DeviceUpdate {
    asEd25519PublicKey(person, 'person');
    if (cardBytes.length > MAX_DEVICES)
      throw new DecodeError('MALFORMED', `${cardBytes.length} device cards, at most ${MAX_DEVICES}`);
    const key = bytesToHex(person);
    const kept = this.#people.get(key);
    const list = acceptDeviceList(kept?.list, listBytes, person);
    const cards = new Map(list === kept?.list ? kept.cards : []);
    if (kept !== undefined && list !== kept.list)
      for (const [k, c] of kept.cards) if (list.has(c.identityKey)) cards.set(k, c);
    const added: ContactCard[] = [];
    for (const bytes of cardBytes) {
      const card = ContactCard.deserialize(bytes);
      if (!list.has(card.identityKey))
        throw new DeviceError('NOT_LISTED', 'A device card for a device the device list does not name.');
      if (card.deviceList !== undefined && !equalBytes(card.deviceList.identityKey, person))
        throw new DeviceError('WRONG_IDENTITY', 'This device card belongs to another person.');
      if (equalBytes(card.identityKey, person)) continue;
      const old = cards.get(bytesToHex(card.identityKey));
      if (old !== undefined && (old.sameCard(card) || card.issuedAt <= old.issuedAt)) continue;
      cards.set(bytesToHex(card.identityKey), card);
      added.push(card);
    }
    const removed = (kept?.list.devices ?? [{ key: person }]).map((d) => d.key).filter((k) => !list.has(k));
    for (const k of removed) this.#owner.delete(peerOf(k));
    for (const d of list.devices) this.#owner.set(peerOf(d.key), person);
    this.#people.set(key, { list, cards });
    return { list, added, removed };
  }

  /** Forgets `person` (a deleted contact); our own person is never forgotten. */
  forget(person: Ed25519PublicKey): void {
    if (equalBytes(person, this.person)) return;
    const kept = this.#people.get(bytesToHex(person));
    if (kept === undefined) return;
    for (const d of kept.list.devices) this.#owner.delete(peerOf(d.key));
    this.#people.delete(bytesToHex(person));
  }

  /** The record bytes (module doc). */
  serialize(): Uint8Array {
    const w = new ByteWriter(256).u8(DEVICE_RECORD_VERSION).varUint(this.#people.size);
    for (const p of this.#people.values()) {
      w.varBytes(p.list.serialize()).u8(p.cards.size);
      for (const c of p.cards.values()) w.varBytes(c.serialize());
    }
    return w.finish();
  }

  /**
   * Reads a record written by `serialize` for the same person and device. DecodeError
   * UNKNOWN_VERSION for another record version, MALFORMED or the lists' and cards' own errors
   * for anything that does not verify again.
   */
  static deserialize(person: Ed25519PublicKey, self: DeviceKey, bytes: Uint8Array): DeviceRoster {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('"bytes" expected Uint8Array');
    const roster = new DeviceRoster(person, self);
    const r = new ByteReader(bytes);
    const version = r.u8('device record version');
    if (version !== DEVICE_RECORD_VERSION)
      throw new DecodeError(
        'UNKNOWN_VERSION',
        `device record version ${version} is not read by this client (version ${DEVICE_RECORD_VERSION})`,
      );
    const n = r.varUint('device record people');
    if (n > MAX_RECORD_PEOPLE) throw new DecodeError('MALFORMED', `device record of ${n} people`);
    for (let i = 0; i < n; i++) {
      const list = r.varBytes(MAX_DEVICE_LIST_BYTES, 'device list');
      const m = r.u8('device card count');
      if (m > MAX_DEVICES) throw new DecodeError('MALFORMED', `device record entry of ${m} cards`);
      const cards: Uint8Array[] = [];
      for (let j = 0; j < m; j++) cards.push(r.varBytes(MAX_CARD_BYTES, 'device card'));
      if (list.length < 33) throw new DecodeError('TRUNCATED', 'device list in a device record');
      const owner = asEd25519PublicKey(list.slice(1, 33));
      if (roster.listOf(owner) !== undefined)
        throw new DecodeError('MALFORMED', 'device record lists one person twice');
      roster.accept(owner, list, cards);
    }
    r.end('device record');
    return roster;
  }
}

function peerOf(key: Ed25519PublicKey): string {
  return formatPeerId(peerIdFromPublicKey(key));
}
