/**
 * The removal guarantee of docs/devices.md §7 with real sessions: Bob encrypts each message under
 * one session per device of Alice's verified list (Sesame fan-out); once Alice's new list without
 * her phone reaches him, the next message has no frame the phone can open, and an older list
 * replayed by the phone does not bring it back.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { peerIdFromPublicKey } from '../../../src/core/identity/peer-id.ts';
import { DeviceError, DeviceList, acceptDeviceList, fanOut } from '../../../src/core/devices/index.ts';
import { dec, enc, errorCode, makeUser, type TestUser } from '../helpers.ts';

const T0 = 1_800_000_000_000;

/** Every frame of one publication, tried by one device: the texts it could open. */
function opened(device: TestUser, frames: readonly Uint8Array[]): string[] {
  const out: string[] = [];
  for (const f of frames) {
    const r = device.sessions.tryDecrypt(f);
    if (r?.kind === 'message') out.push(dec(r.plaintext));
  }
  return out;
}

describe('a removed device reads no new message', () => {
  it('Bob stops encrypting to Alice’s phone once her new list reaches him', () => {
    // Alice's laptop is her first device (device key = identity key); her phone has its own key.
    const laptop = makeUser('Alice laptop');
    const phone = makeUser('Alice phone');
    const bob = makeUser('Bob');
    const alice = laptop.identity;
    const both = DeviceList.first(alice, { name: 'Laptop', kind: 'browser' }, T0).add(
      alice,
      { key: phone.identity.publicKey, kind: 'phone', addedAt: T0 + 1, name: 'Phone' },
      T0 + 1,
    );
    for (const d of [laptop, phone]) {
      bob.sessions.addContact(d.card);
      d.sessions.addContact(bob.card);
    }
    let bobsView = acceptDeviceList(undefined, both.serialize(), alice.publicKey);

    const publish = (text: string): Uint8Array[] =>
      fanOut({
        ours: { identityKey: bob.identity.publicKey, list: undefined },
        theirs: { identityKey: alice.publicKey, list: bobsView },
        self: bob.identity.publicKey,
      }).map((t) => bob.sessions.encrypt(peerIdFromPublicKey(t.device), enc(text)));

    const first = publish('before removal');
    assert.equal(first.length, 2);
    assert.deepEqual(opened(laptop, first), ['before removal']);
    assert.deepEqual(opened(phone, first), ['before removal']);

    // The laptop removes the phone; the list reaches Bob with Alice's next traffic.
    const without = both.remove(alice, phone.identity.publicKey, T0 + 2);
    bobsView = acceptDeviceList(bobsView, without.serialize(), alice.publicKey);

    const second = publish('after removal');
    assert.equal(second.length, 1);
    assert.deepEqual(opened(laptop, second), ['after removal']);
    assert.deepEqual(opened(phone, second), [], 'the removed phone opens nothing new');

    // The phone replays the older list to Bob: refused, and Bob's view stays.
    assert.equal(
      errorCode(() => acceptDeviceList(bobsView, both.serialize(), alice.publicKey), DeviceError),
      'STALE_COUNTER',
    );
    assert.deepEqual(opened(phone, publish('still removed')), []);
    // And it cannot go on sending as Alice.
    assert.equal(
      errorCode(
        () =>
          fanOut({
            ours: { identityKey: alice.publicKey, list: without },
            theirs: { identityKey: bob.identity.publicKey, list: undefined },
            self: phone.identity.publicKey,
          }),
        DeviceError,
      ),
      'NOT_LISTED',
    );
  });
});
