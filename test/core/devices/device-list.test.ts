import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Identity } from '../../../src/core/identity/identity.ts';
import type { Ed25519PublicKey } from '../../../src/core/identity/keys.ts';
import {
  DeviceError,
  DeviceList,
  MAX_DEVICES,
  MAX_DEVICE_LIST_BYTES,
  acceptDeviceList,
  devicesOf,
  type DeviceEntry,
} from '../../../src/core/devices/index.ts';
import { ByteWriter } from '../../../src/util/binary.ts';
import { DecodeError } from '../../../src/util/errors.ts';
import { concatBytes, utf8ToBytes } from '../../../src/util/bytes.ts';
import { errorCode } from '../helpers.ts';

const T0 = 1_800_000_000_000;
const device = (name: string, addedAt = T0): DeviceEntry => ({
  key: Identity.generate().publicKey,
  kind: 'phone',
  addedAt,
  name,
});

/** A list signed the way `DeviceList.create` signs, with any body (to build hostile lists). */
function signRaw(signer: Identity, body: Uint8Array): Uint8Array {
  return concatBytes(body, signer.sign(concatBytes(utf8ToBytes('p2pcomm/v1/device-list'), body)));
}

function body(
  identityKey: Uint8Array,
  counter: number,
  entries: readonly { key: Uint8Array; kind: number; name: Uint8Array }[],
  { version = 1, count = entries.length } = {},
): Uint8Array {
  const w = new ByteWriter().u8(version).bytes(identityKey).u64(counter).u8(count);
  for (const e of entries) w.bytes(e.key).u8(e.kind).u64(T0).varBytes(e.name);
  return w.finish();
}

describe('signed device list', () => {
  const alice = Identity.generate();

  it('is created, added to, removed from and verified; the first device is the identity key', () => {
    const first = DeviceList.first(alice, { name: 'Laptop', kind: 'browser' }, T0);
    assert.deepEqual(devicesOf(first, alice.publicKey), [alice.publicKey]);
    const phone = device('Phone');
    const two = first.add(alice, phone, T0 + 10);
    assert.equal(two.counter, T0 + 10);
    assert.ok(two.has(phone.key) && two.has(alice.publicKey));
    const back = DeviceList.verify(two.serialize(), alice.publicKey);
    assert.deepEqual(back.devices, two.devices);
    assert.equal(back.counter, two.counter);
    const one = two.remove(alice, alice.publicKey, T0 + 20);
    assert.deepEqual(
      one.devices.map((d) => d.name),
      ['Phone'],
    );
    assert.ok(!one.has(alice.publicKey), 'a removed device is absent');
    assert.throws(() => one.remove(alice, phone.key, T0 + 30), RangeError, 'the last device stays');
    assert.throws(() => one.add(alice, phone, T0 + 30), RangeError, 'no device twice');
  });

  it('counts up even when the clock goes back, and outranks an unseen list after a restore', () => {
    const a = DeviceList.first(alice, { name: 'A', kind: 'desktop' }, T0);
    const b = a.add(alice, device('B'), T0 - 5_000);
    assert.equal(b.counter, T0 + 1);
    // A device restored from the recovery key that never saw `b` starts from the clock.
    const restored = DeviceList.first(alice, { name: 'Restored', kind: 'browser' }, T0 + 60_000);
    const taken = acceptDeviceList(b, restored.serialize(), alice.publicKey);
    assert.equal(taken.counter, T0 + 60_000);
    assert.deepEqual(
      taken.devices.map((d) => d.name),
      ['Restored'],
    );
  });

  it('takes a newer list, keeps the same one, and refuses a replayed older counter', () => {
    const v1 = DeviceList.first(alice, { name: 'A', kind: 'desktop' }, T0);
    const phone = device('Phone');
    const v2 = v1.add(alice, phone, T0 + 1);
    const v3 = v2.remove(alice, phone.key, T0 + 2);
    assert.equal(acceptDeviceList(undefined, v1.serialize(), alice.publicKey).counter, v1.counter);
    assert.equal(acceptDeviceList(v1, v3.serialize(), alice.publicKey).counter, v3.counter);
    assert.equal(
      acceptDeviceList(v3, v3.serialize(), alice.publicKey),
      v3,
      'the same list again changes nothing',
    );
    // The replay that would bring the removed phone back:
    const e = errorCode(() => acceptDeviceList(v3, v2.serialize(), alice.publicKey), DeviceError);
    assert.equal(e, 'STALE_COUNTER');
    // A rival list of the same counter (two devices signing at once) is refused too.
    const rival = DeviceList.create(alice, v3.counter, [...v3.devices, device('Rival')]);
    assert.equal(
      errorCode(() => acceptDeviceList(v3, rival.serialize(), alice.publicKey), DeviceError),
      'STALE_COUNTER',
    );
  });

  it('refuses a forged signature and a list of another identity', () => {
    const name = "Bob's second laptop";
    const list = DeviceList.first(alice, { name: 'A', kind: 'desktop' }, T0).add(alice, device(name), T0 + 1);
    const bytes = list.serialize();
    const flipped = bytes.slice();
    flipped[bytes.length - 1]! ^= 1;
    assert.equal(
      errorCode(() => DeviceList.verify(flipped, alice.publicKey), DeviceError),
      'BAD_SIGNATURE',
    );
    // Found by the whole name, not by one byte value: a single byte could as well be inside a
    // random key, and changing the identity key is another refusal (WRONG_IDENTITY).
    const at = Buffer.from(bytes).indexOf(Buffer.from(name, 'utf8'));
    assert.ok(at > 0, 'the name is in the signed list');
    const renamed = bytes.slice();
    renamed[at]! ^= 0x20; // 'B' → 'b' inside the signed part
    assert.equal(
      errorCode(() => DeviceList.verify(renamed, alice.publicKey), DeviceError),
      'BAD_SIGNATURE',
    );
    // Mallory signs a list naming Alice's identity key: the signature is not Alice's.
    const mallory = Identity.generate();
    const forged = signRaw(
      mallory,
      body(alice.publicKey, T0 + 5, [{ key: mallory.publicKey, kind: 1, name: utf8ToBytes('x') }]),
    );
    assert.equal(
      errorCode(() => DeviceList.verify(forged, alice.publicKey), DeviceError),
      'BAD_SIGNATURE',
    );
    // Bob's own, valid list is not Alice's.
    const bob = Identity.generate();
    const bobs = DeviceList.first(bob, { name: 'Bob', kind: 'phone' }, T0);
    assert.equal(
      errorCode(() => DeviceList.verify(bobs.serialize(), alice.publicKey), DeviceError),
      'WRONG_IDENTITY',
    );
    assert.equal(
      errorCode(() => acceptDeviceList(list, bobs.serialize(), alice.publicKey), DeviceError),
      'WRONG_IDENTITY',
    );
    assert.equal(
      errorCode(() => devicesOf(bobs, alice.publicKey), DeviceError),
      'WRONG_IDENTITY',
    );
    assert.equal(
      errorCode(() => bobs.add(alice, device('C'), T0 + 1), DeviceError),
      'WRONG_IDENTITY',
    );
  });

  it('refuses malformed and oversized lists with DecodeError codes', () => {
    const k = (): Uint8Array => Identity.generate().publicKey;
    const name = utf8ToBytes('n');
    const good = body(alice.publicKey, T0, [{ key: k(), kind: 1, name }]);
    const key = k();
    const nine = Array.from({ length: MAX_DEVICES + 1 }, () => ({ key: k(), kind: 1, name }));
    const cases: [string, Uint8Array, string][] = [
      ['empty', new Uint8Array(0), 'TRUNCATED'],
      [
        'version 2',
        signRaw(alice, body(alice.publicKey, T0, [{ key, kind: 1, name }], { version: 2 })),
        'UNKNOWN_VERSION',
      ],
      [
        'version 0',
        signRaw(alice, body(alice.publicKey, T0, [{ key, kind: 1, name }], { version: 0 })),
        'UNKNOWN_VERSION',
      ],
      ['no device', signRaw(alice, body(alice.publicKey, T0, [])), 'MALFORMED'],
      ['nine devices', signRaw(alice, body(alice.publicKey, T0, nine)), 'MALFORMED'],
      ['count above entries', body(alice.publicKey, T0, [{ key, kind: 1, name }], { count: 2 }), 'TRUNCATED'],
      [
        'repeated key',
        signRaw(
          alice,
          body(alice.publicKey, T0, [
            { key, kind: 1, name },
            { key, kind: 2, name },
          ]),
        ),
        'MALFORMED',
      ],
      ['unknown kind', signRaw(alice, body(alice.publicKey, T0, [{ key, kind: 99, name }])), 'MALFORMED'],
      [
        'name not UTF-8',
        signRaw(alice, body(alice.publicKey, T0, [{ key, kind: 1, name: Uint8Array.of(0xff) }])),
        'MALFORMED',
      ],
      [
        'name of 65 bytes',
        signRaw(alice, body(alice.publicKey, T0, [{ key, kind: 1, name: new Uint8Array(65).fill(0x61) }])),
        'TOO_LARGE',
      ],
      ['no signature', good, 'TRUNCATED'],
      ['trailing byte', concatBytes(signRaw(alice, good), Uint8Array.of(0)), 'TRAILING_BYTES'],
      ['oversized', new Uint8Array(MAX_DEVICE_LIST_BYTES + 1).fill(1), 'TOO_LARGE'],
    ];
    for (const [what, bytes, code] of cases)
      assert.equal(
        errorCode(() => DeviceList.verify(bytes, alice.publicKey), DecodeError),
        code,
        what,
      );
    assert.throws(() => DeviceList.verify('list' as unknown as Uint8Array, alice.publicKey), TypeError);
    assert.throws(() => DeviceList.verify(good, new Uint8Array(31) as Ed25519PublicKey), RangeError);
  });

  it('never accepts a list changed in any byte (property)', () => {
    const list = DeviceList.first(alice, { name: 'Laptop', kind: 'browser' }, T0).add(
      alice,
      device('Phone'),
      T0 + 1,
    );
    const bytes = list.serialize();
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const b = bytes.slice();
        b[at]! ^= x;
        try {
          DeviceList.verify(b, alice.publicKey);
          return false;
        } catch (e) {
          return e instanceof DeviceError || e instanceof DecodeError;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('builds nothing it could not read back', () => {
    assert.throws(() => DeviceList.create(alice, T0, []), RangeError);
    const many = Array.from({ length: MAX_DEVICES + 1 }, (_, i) => device(`d${i}`));
    assert.throws(() => DeviceList.create(alice, T0, many), RangeError);
    const d = device('x');
    assert.throws(() => DeviceList.create(alice, T0, [d, d]), RangeError);
    assert.throws(() => DeviceList.create(alice, T0, [{ ...d, name: 'x'.repeat(65) }]), RangeError);
    assert.throws(() => DeviceList.create(alice, T0, [{ ...d, kind: 'toaster' as 'phone' }]), RangeError);
    const full = DeviceList.create(alice, T0, many.slice(0, MAX_DEVICES));
    assert.throws(() => full.add(alice, device('one more'), T0 + 1), RangeError);
    assert.ok(full.serialize().length <= MAX_DEVICE_LIST_BYTES);
  });
});
