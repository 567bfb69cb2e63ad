/**
 * Each device of a person hands out addresses of its own (src/core/devices/branch.ts,
 * docs/protocol.md "Chain transactions and addresses" version 3): its own change chain, which
 * its siblings watch, and its own notification sequence to each contact, which the contact
 * watches beside the first device's. Pure address books, no node.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { schnorr } from '@noble/curves/secp256k1.js';
import { Identity } from '../../../src/core/identity/identity.ts';
import { ChainAddresses, type PeerKeys } from '../../../src/core/delivery/addresses/index.ts';
import { COINS_STORE } from '../../../src/core/delivery/kaspa-chain.ts';
import { KaspaHdWallet } from '../../../src/kaspa/hd.ts';
import { Address } from '../../../src/kaspa/address.ts';
import { ed25519ToX25519 } from '../../../src/core/identity/keys.ts';
import {
  DeviceList,
  FIRST_DEVICE_BRANCH,
  changeBranch,
  chainDevice,
  siblingBranches,
} from '../../../src/core/devices/index.ts';
import { MemoryDatabase, openDb } from '../delivery/fakes.ts';

const PREFIX = 'kaspasim';

/** One person's identity and wallet, and a book per device over a store of its own. */
class Person {
  readonly identity = Identity.generate();
  readonly wallet = KaspaHdWallet.fromSeed(this.identity.walletSeed(), 'testnet');
  readonly second = Identity.generate();
  readonly list = DeviceList.create(this.identity, 1, [
    { key: this.identity.publicKey, kind: 'desktop', addedAt: 1, name: 'Laptop' },
    { key: this.second.publicKey, kind: 'phone', addedAt: 2, name: 'Phone' },
  ]);
  readonly peers = new Map<string, PeerKeys>();

  keys(devices: readonly Uint8Array[] = []): PeerKeys {
    return {
      dh: ed25519ToX25519(this.identity.publicKey),
      base: this.wallet.address(PREFIX, 0, 0, 0),
      devices,
    };
  }

  async book(device: Identity): Promise<ChainAddresses> {
    return ChainAddresses.open({
      wallet: this.wallet,
      prefix: PREFIX,
      selfDh: this.identity.dhPublicKey,
      agree: (p) => this.identity.agree(p as never),
      peerOf: (c) => this.peers.get(c),
      db: await openDb(new MemoryDatabase()),
      store: COINS_STORE,
      window: 4,
      device: chainDevice(this.identity.publicKey, device.publicKey),
      siblings: () => siblingBranches(this.list, device.publicKey),
    });
  }
}

/** Whether `key` spends from `address` (its x-only public key is the address's). */
function spends(key: Uint8Array | undefined, address: string): boolean {
  assert.ok(key, `a key for ${address}`);
  return Address.decode(address, PREFIX).payload.every((b, i) => b === schnorr.getPublicKey(key)[i]);
}

describe("each device's own chain addresses", () => {
  it('the first device keeps the BIP-44 internal chain; another device has a chain above it', () => {
    const alice = new Person();
    assert.equal(changeBranch(alice.identity.publicKey, alice.identity.publicKey), FIRST_DEVICE_BRANCH);
    const b = changeBranch(alice.identity.publicKey, alice.second.publicKey);
    assert.ok(b >= 2 && b < 2 ** 31, `chain ${b} is a non-hardened index above 1`);
    assert.deepEqual(chainDevice(alice.identity.publicKey, alice.identity.publicKey), { branch: 1 });
    assert.deepEqual(siblingBranches(alice.list, alice.second.publicKey), [1]);
    assert.deepEqual(siblingBranches(alice.list, alice.identity.publicKey), [b]);
  });

  it("two devices never hand out one change address, and each watches and owns the other's", async () => {
    const alice = new Person();
    const first = await alice.book(alice.identity);
    const second = await alice.book(alice.second);
    const fromFirst: string[] = [];
    const fromSecond: string[] = [];
    for (let i = 0; i < 10; i++) {
      fromFirst.push((await first.nextChange()).toString());
      fromSecond.push((await second.nextChange()).toString());
    }
    assert.equal(new Set([...fromFirst, ...fromSecond]).size, 20, 'no address handed out twice');
    assert.equal(
      fromFirst[0],
      alice.wallet.address(PREFIX, 0, 1, 0).toString(),
      'first device: m/…/1/j as before',
    );
    const watchedBySecond = new Set(second.watched([]));
    for (const a of fromFirst)
      assert.ok(watchedBySecond.has(a), 'the sibling watches the first device’s change');
    for (const a of fromSecond) assert.ok(new Set(first.watched([])).has(a), 'and the other way round');
    assert.deepEqual(second.originOf(fromFirst[3]!), { kind: 'sibling', branch: 1, j: 3 });
    assert.ok(spends(second.keyOf(fromFirst[3]!), fromFirst[3]!));
    // A coin far along the sibling's chain moves the watched range on, as a gap limit does.
    const far = alice.wallet.address(PREFIX, 0, 1, 19).toString();
    assert.ok(watchedBySecond.has(far));
    const added = await second.arrived(far);
    assert.ok(added.includes(alice.wallet.address(PREFIX, 0, 1, 39).toString()));
    assert.equal(new Set(second.watched([])).has(alice.wallet.address(PREFIX, 0, 1, 40).toString()), false);
  });

  it("a contact's two devices pay two sequences, and the recipient watches and spends both", async () => {
    const alice = new Person();
    const bob = new Person();
    alice.peers.set('bob', bob.keys());
    bob.peers.set('alice', alice.keys([alice.second.publicKey]));
    const first = await alice.book(alice.identity);
    const second = await alice.book(alice.second);
    const bobs = await bob.book(bob.identity);
    await first.heard('bob');
    await second.heard('bob');
    const a = first.nextNotify('bob')!;
    const b = second.nextNotify('bob')!;
    assert.notEqual(a.address.toString(), b.address.toString(), 'the devices never pay one address');
    const window = new Set(bobs.windowOf('alice'));
    assert.ok(window.has(a.address.toString()), "the first device's sequence is watched");
    assert.ok(window.has(b.address.toString()), "the second device's sequence is watched");
    assert.ok(spends(bobs.keyOf(b.address.toString()), b.address.toString()));
    assert.equal(window.size, 8, 'a window of 4 per sequence');
    await b.commit();
    const next = second.nextNotify('bob')!.address.toString();
    assert.equal(new Set(bobs.windowOf('alice')).has(next), true);
    // The second device's coin moves its own sequence on, not the first device's.
    const added = await bobs.arrived(b.address.toString());
    assert.equal(added.length, 1);
    assert.ok(new Set(bobs.windowOf('alice')).has(a.address.toString()));
  });
});
