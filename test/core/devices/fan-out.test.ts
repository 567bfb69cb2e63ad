import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Identity } from '../../../src/core/identity/identity.ts';
import { DeviceError, DeviceList, fanOut, type DeviceEntry } from '../../../src/core/devices/index.ts';
import { bytesToHex } from '../../../src/util/bytes.ts';
import { errorCode } from '../helpers.ts';

const T0 = 1_800_000_000_000;
const entry = (id: Identity, name: string): DeviceEntry => ({
  key: id.publicKey,
  kind: 'phone',
  addedAt: T0,
  name,
});
const names = (targets: ReturnType<typeof fanOut>, who: Map<string, string>): string[] =>
  targets.map((t) => `${t.owner}:${who.get(bytesToHex(t.device))}`);

describe('per-device session fan-out (Sesame)', () => {
  const alice = Identity.generate();
  const bob = Identity.generate();
  const aPhone = Identity.generate();
  const bPhone = Identity.generate();
  const bTablet = Identity.generate();
  const who = new Map(
    [
      [alice, 'alice-laptop'],
      [aPhone, 'alice-phone'],
      [bob, 'bob-desktop'],
      [bPhone, 'bob-phone'],
      [bTablet, 'bob-tablet'],
    ].map(([i, n]) => [bytesToHex((i as Identity).publicKey), n as string]),
  );
  const aList = DeviceList.first(alice, { name: 'Laptop', kind: 'browser' }, T0).add(
    alice,
    entry(aPhone, 'Phone'),
    T0 + 1,
  );
  const bList = DeviceList.first(bob, { name: 'Desktop', kind: 'desktop' }, T0).add(
    bob,
    entry(bPhone, 'Phone'),
    T0 + 1,
  );

  it('encrypts to each recipient device and to our other devices, never to ourselves', () => {
    const t = fanOut({
      ours: { identityKey: alice.publicKey, list: aList },
      theirs: { identityKey: bob.publicKey, list: bList },
      self: aPhone.publicKey,
    });
    assert.deepEqual(names(t, who), ['recipient:bob-desktop', 'recipient:bob-phone', 'own:alice-laptop']);
  });

  it('is exactly today’s one session when both people have one device and no list', () => {
    const t = fanOut({
      ours: { identityKey: alice.publicKey, list: undefined },
      theirs: { identityKey: bob.publicKey, list: undefined },
      self: alice.publicKey,
    });
    assert.deepEqual(names(t, who), ['recipient:bob-desktop']);
  });

  it('stops encrypting to a removed device from the next message on', () => {
    const three = bList.add(bob, entry(bTablet, 'Tablet'), T0 + 2);
    const before = fanOut({
      ours: { identityKey: alice.publicKey, list: aList },
      theirs: { identityKey: bob.publicKey, list: three },
      self: alice.publicKey,
    });
    assert.ok(names(before, who).includes('recipient:bob-tablet'));
    const removed = three.remove(bob, bTablet.publicKey, T0 + 3);
    const after = fanOut({
      ours: { identityKey: alice.publicKey, list: aList },
      theirs: { identityKey: bob.publicKey, list: removed },
      self: alice.publicKey,
    });
    assert.deepEqual(names(after, who), ['recipient:bob-desktop', 'recipient:bob-phone', 'own:alice-phone']);
  });

  it('refuses to send from a device removed from its own list', () => {
    const without = aList.remove(alice, aPhone.publicKey, T0 + 5);
    const code = errorCode(
      () =>
        fanOut({
          ours: { identityKey: alice.publicKey, list: without },
          theirs: { identityKey: bob.publicKey, list: bList },
          self: aPhone.publicKey,
        }),
      DeviceError,
    );
    assert.equal(code, 'NOT_LISTED');
  });

  it("refuses a list that is not the named person's", () => {
    const code = errorCode(
      () =>
        fanOut({
          ours: { identityKey: alice.publicKey, list: aList },
          theirs: { identityKey: bob.publicKey, list: aList },
          self: alice.publicKey,
        }),
      DeviceError,
    );
    assert.equal(code, 'WRONG_IDENTITY');
  });

  it('sends a note to ourselves to our other devices only, once each', () => {
    const t = fanOut({
      ours: { identityKey: alice.publicKey, list: aList },
      theirs: { identityKey: alice.publicKey, list: aList },
      self: alice.publicKey,
    });
    assert.deepEqual(names(t, who), ['own:alice-phone']);
  });
});
