import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { schnorr } from '@noble/curves/secp256k1.js';
import { Address, AddressVersion, addressToScriptPublicKey } from '../../../src/kaspa/address.ts';
import { minimumRelayFee } from '../../../src/kaspa/fee.ts';
import { verifyInputSignature } from '../../../src/kaspa/sign.ts';
import type { TxId, Utxo } from '../../../src/kaspa/types.ts';
import {
  DEFAULT_NOTIFICATION_STORAGE_BUDGET,
  notificationValue,
  randomNotificationValue,
  type Spendable,
} from '../../../src/core/delivery/chain-tx.ts';
import { notificationAmount } from '../../../src/kaspa/builder.ts';
import { buildFormat1Publication as buildPublication } from './format1.ts';
import { DeliveryError } from '../../../src/core/delivery/errors.ts';
import { randomBytes } from '../../../src/util/bytes.ts';

const SOMPI_PER_KAS = 100_000_000n;

function party(): { address: Address; key: Uint8Array } {
  const key = schnorr.utils.randomSecretKey();
  return { address: new Address('kaspatest', AddressVersion.PubKey, schnorr.getPublicKey(key)), key };
}

function coin(owner: { address: Address; key: Uint8Array }, amount: bigint): Spendable {
  const utxo: Utxo = {
    outpoint: { transactionId: randomBytes(32) as TxId, index: 0 },
    entry: {
      amount,
      scriptPublicKey: addressToScriptPublicKey(owner.address),
      blockDaaScore: 1n,
      isCoinbase: false,
    },
  };
  return { utxo, privateKey: owner.key };
}

function assertSigned(built: ReturnType<typeof buildPublication>): void {
  const spent = built.spent.map((s) => s.utxo.entry);
  built.tx.inputs.forEach((_, i) => assert.ok(verifyInputSignature(built.tx, i, spent), `input ${i} signed`));
  const inValue = spent.reduce((n, e) => n + e.amount, 0n);
  const outValue = built.tx.outputs.reduce((n, o) => n + o.value, 0n);
  assert.equal(inValue - outValue, built.fee, 'fee is what the inputs leave');
  assert.ok(built.fee >= minimumRelayFee(built.tx), 'fee pays the relay floor');
}

// The format-1 shapes, built by the test helper that crafts old transactions (format1.ts):
// the refusal test and the cost bench rely on it building what format 1 published.
describe('chain format 1 (test helper): publication shapes', () => {
  const alice = party();
  const bob = party();
  const payload = randomBytes(300);
  const v = notificationValue();

  it('first contact: funding → a new coin and change; the coin is what it locks', () => {
    const built = buildPublication({
      payload,
      recipients: [{ address: bob.address }],
      funding: [coin(alice, 2n * SOMPI_PER_KAS)],
      changeAddress: alice.address,
    });
    assertSigned(built);
    assert.equal(built.tx.outputs[0]!.value, v);
    assert.deepEqual(built.tx.outputs[0]!.scriptPublicKey, addressToScriptPublicKey(bob.address));
    assert.equal(built.changeIndex, 1);
    assert.equal(built.locked, v);
  });

  it('bounce: a held coin too small to return alone is topped up from funding to the coin value', () => {
    // With every recipient's coin in hand a publication is a return (next test), unless the
    // coin cannot pay its fee and stay worth half a notification.
    const held = coin(alice, v / 4n);
    const built = buildPublication({
      payload,
      recipients: [{ address: bob.address, held }],
      funding: [coin(alice, 2n * SOMPI_PER_KAS)],
      changeAddress: alice.address,
    });
    assertSigned(built);
    assert.ok(built.spent.includes(held), 'the held coin is spent');
    assert.equal(built.tx.outputs[0]!.value, v);
    assert.equal(built.changeIndex, 1);
    assert.equal(built.locked, v - v / 4n);
  });

  it('return: a held coin with no funding pays the fee itself', () => {
    const held = coin(alice, v);
    const built = buildPublication({
      payload,
      recipients: [{ address: bob.address, held }],
      funding: [],
      changeAddress: alice.address,
    });
    assertSigned(built);
    assert.deepEqual(built.spent, [held]);
    assert.equal(built.tx.outputs.length, 1);
    assert.equal(built.tx.outputs[0]!.value, v - built.fee);
    assert.equal(built.changeIndex, undefined);
  });

  it('funds that cannot pay: DeliveryError INSUFFICIENT_FUNDS', () => {
    for (const funding of [[], [coin(alice, v / 2n)]]) {
      assert.throws(
        () =>
          buildPublication({
            payload,
            recipients: [{ address: bob.address }],
            funding,
            changeAddress: alice.address,
          }),
        (e: unknown) => e instanceof DeliveryError && e.code === 'INSUFFICIENT_FUNDS',
      );
    }
  });
});

describe('notification values (docs/protocol.md "Chain transactions and addresses", "Returns")', () => {
  const v = notificationAmount(2, DEFAULT_NOTIFICATION_STORAGE_BUDGET);
  const draws = (owed: bigint): bigint[] => {
    let i = 0;
    // Uniform steps across [0, 1), the ends included.
    return Array.from({ length: 101 }, () =>
      randomNotificationValue(
        () => Math.min(i++ / 100, 1 - 1e-12),
        DEFAULT_NOTIFICATION_STORAGE_BUDGET,
        2,
        owed,
      ),
    );
  };
  it('stay in [v, 3v/2) when nothing or at most one coin of the range is owed', () => {
    for (const owed of [0n, v, v + v / 2n])
      for (const x of draws(owed)) assert.ok(x >= v && x < v + v / 2n, `${x} in the range (owed ${owed})`);
  });
  it('repay a run: uniform in [owed, owed + v/2) when more is owed than the range repays', () => {
    for (const owed of [v + v / 2n + 1n, 5n * v, 86n * v]) {
      const xs = draws(owed);
      for (const x of xs) assert.ok(x >= owed && x < owed + v / 2n, `${x} repays ${owed}`);
      assert.ok(
        Math.max(...xs.map(Number)) - Math.min(...xs.map(Number)) > Number(v / 4n),
        'spread over the band',
      );
    }
  });
});
