/**
 * The card and the contact record carry the signed device list (docs/devices.md §3; formats in
 * docs/protocol.md "Contact card" version 3, "Device record" version 1, "Envelope types 24 and
 * 25"): a version-2 card still reads as one device and is written byte for byte as before; a
 * list of another identity, a lower counter, a forged list or a device card the list does not
 * name is refused with a typed error and nothing is kept.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ContactCard, CARD_VERSION, CARD_VERSION_DEVICES } from '../../../src/core/contact/card.ts';
import { Identity } from '../../../src/core/identity/identity.ts';
import { SessionManager } from '../../../src/core/session/session-manager.ts';
import { KaspaHdWallet } from '../../../src/kaspa/hd.ts';
import {
  DeviceList,
  DeviceRoster,
  devicesOf,
  DEVICE_RECORD_VERSION,
} from '../../../src/core/devices/index.ts';
import { decodeEnvelope, encodeEnvelope, createEnvelope } from '../../../src/core/envelope/envelope.ts';
import { P2pCommError } from '../../../src/util/errors.ts';
import { formatPeerId } from '../../../src/core/identity/peer-id.ts';

const person = Identity.generate();
const address = KaspaHdWallet.fromSeed(person.walletSeed(), 'testnet').address('kaspasim', 0, 0, 0);
const phone = Identity.generate();

function cardOf(id: Identity, deviceList?: DeviceList): ContactCard {
  const s = SessionManager.create(id);
  return s.issueOwnCard({
    displayName: 'Alice',
    addresses: [address],
    ...(deviceList ? { deviceList } : {}),
  });
}

function listOf(counter: number, ...ids: Identity[]): DeviceList {
  return DeviceList.create(
    person,
    counter,
    ids.map((d, i) => ({ key: d.publicKey, kind: 'phone', addedAt: 1_000 + i, name: `d${i}` })),
  );
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof P2pCommError) return `${e.constructor.name} ${e.code}`;
    throw e;
  }
  return 'accepted';
}

describe('contact card version 3: the device list', () => {
  it('a card without a list is version 2, as before, and reads as the one-device list', () => {
    const card = cardOf(person);
    assert.equal(card.serialize()[0], CARD_VERSION);
    const read = ContactCard.deserialize(card.serialize());
    assert.equal(read.deviceList, undefined);
    assert.deepEqual(devicesOf(read.deviceList, read.identityKey), [person.publicKey]);
    assert.deepEqual(read.personKey, person.publicKey);
  });

  it("a device's card carries the list and ties the device to its person", () => {
    const list = listOf(5, person, phone);
    const card = cardOf(phone, list);
    const bytes = card.serialize();
    assert.equal(bytes[0], CARD_VERSION_DEVICES);
    const read = ContactCard.deserialize(bytes);
    assert.deepEqual(read.deviceList?.serialize(), list.serialize());
    assert.deepEqual(read.personKey, person.publicKey);
    assert.deepEqual(ContactCard.deserialize(read.serializeCompact()).deviceList?.counter, 5);
  });

  it('refuses a card whose list does not name it (NOT_LISTED), a forged list (BAD_SIGNATURE)', () => {
    const list = listOf(5, person);
    assert.throws(() => cardOf(phone, list), RangeError);
    const card = cardOf(person, listOf(5, person, phone)).serialize();
    // The list's signature is the 64 bytes before the card's own signature and ML-KEM key.
    const listSigEnd = card.length - 1184 - 64;
    const forged = card.slice();
    forged[listSigEnd - 1]! ^= 1;
    // The card's own signature covers the list too: the card refuses first.
    assert.equal(
      code(() => ContactCard.deserialize(forged)),
      'ContactCardError BAD_SIGNATURE',
    );
  });

  it('refuses an unknown card version', () => {
    const bytes = cardOf(person).serialize();
    bytes[0] = 4;
    assert.equal(
      code(() => ContactCard.deserialize(bytes)),
      'DecodeError UNKNOWN_VERSION',
    );
  });
});

describe('device roster: the device part of the contact records', () => {
  const self = Identity.generate();
  const roster = (): DeviceRoster => new DeviceRoster(self.publicKey, self.publicKey);

  it('takes a newer list, drops a removed device, refuses a replay and another identity', () => {
    const r = roster();
    const phoneCard = cardOf(phone, listOf(5, person, phone)).serialize();
    const first = r.accept(person.publicKey, listOf(5, person, phone).serialize(), [phoneCard]);
    assert.equal(first.added.length, 1);
    assert.deepEqual(
      r.targets(person.publicKey).map((t) => t.device),
      [person.publicKey, phone.publicKey],
    );
    const removed = r.accept(person.publicKey, listOf(6, person).serialize());
    assert.deepEqual(removed.removed, [phone.publicKey]);
    assert.equal(r.cardOf(person.publicKey, phone.publicKey), undefined);
    assert.equal(r.ownerOf(formatPeerId(phone.peerId)), undefined);
    const before = r.serialize();
    assert.equal(
      code(() => r.accept(person.publicKey, listOf(5, person, phone).serialize(), [phoneCard])),
      'DeviceError STALE_COUNTER',
    );
    const other = Identity.generate();
    const foreign = DeviceList.create(other, 9, [
      { key: other.publicKey, kind: 'cli', addedAt: 1, name: '' },
    ]);
    assert.equal(
      code(() => r.accept(person.publicKey, foreign.serialize())),
      'DeviceError WRONG_IDENTITY',
    );
    assert.deepEqual(r.serialize(), before, 'nothing changed by a refusal');
  });

  it('refuses a device card the list does not name, keeping nothing', () => {
    const r = roster();
    const stray = cardOf(Identity.generate()).serialize();
    assert.equal(
      code(() => r.accept(person.publicKey, listOf(5, person, phone).serialize(), [stray])),
      'DeviceError NOT_LISTED',
    );
    assert.equal(r.listOf(person.publicKey), undefined);
  });

  it('round-trips through its record, verified again; other versions and altered bytes refused', () => {
    const r = roster();
    r.accept(person.publicKey, listOf(5, person, phone).serialize(), [
      cardOf(phone, listOf(5, person, phone)).serialize(),
    ]);
    const bytes = r.serialize();
    assert.equal(bytes[0], DEVICE_RECORD_VERSION);
    const back = DeviceRoster.deserialize(self.publicKey, self.publicKey, bytes);
    assert.deepEqual(back.serialize(), bytes);
    const v2 = bytes.slice();
    v2[0] = 2;
    assert.equal(
      code(() => DeviceRoster.deserialize(self.publicKey, self.publicKey, v2)),
      'DecodeError UNKNOWN_VERSION',
    );
    // A byte of the stored list's signature altered at rest.
    const altered = bytes.slice();
    const listEnd = 2 + 2 + listOf(5, person, phone).serialize().length;
    altered[listEnd - 1]! ^= 1;
    assert.equal(
      code(() => DeviceRoster.deserialize(self.publicKey, self.publicKey, altered)),
      'DeviceError BAD_SIGNATURE',
    );
  });
});

describe('envelope types 24 (devices) and 25 (sent-to)', () => {
  it('round-trip and refuse oversized fields', () => {
    const list = listOf(5, person, phone).serialize();
    const e = createEnvelope({ type: 'devices', list, cards: [new Uint8Array(10)] });
    assert.deepEqual(decodeEnvelope(encodeEnvelope(e)), e);
    const s = createEnvelope({ type: 'sent-to', person: person.publicKey });
    assert.deepEqual(decodeEnvelope(encodeEnvelope(s)).body, { type: 'sent-to', person: person.publicKey });
    assert.throws(
      () => encodeEnvelope(createEnvelope({ type: 'devices', list: new Uint8Array(955), cards: [] })),
      RangeError,
    );
    assert.throws(
      () =>
        encodeEnvelope(createEnvelope({ type: 'devices', list, cards: Array(9).fill(new Uint8Array(1)) })),
      RangeError,
    );
    const bytes = encodeEnvelope(createEnvelope({ type: 'devices', list, cards: [] }));
    // The card count byte follows the list: 9 is more than a list may name.
    bytes[bytes.length - 1] = 9;
    assert.equal(
      code(() => decodeEnvelope(bytes)),
      'DecodeError MALFORMED',
    );
  });
});
