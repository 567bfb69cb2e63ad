/**
 * The builder never returns what a Toccata node would refuse (FACTS §4.4, §4.5), pays
 * max(floor, feerate × normalized mass), says why when it cannot, and the messenger's shapes
 * have the masses docs/kaspa-mass.md lists.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BuildError,
  buildTransaction,
  smallestSafeOutput,
  type BuiltTransaction,
} from '../../src/kaspa/builder.ts';
import { feeForMass, minimumRelayFee } from '../../src/kaspa/fee.ts';
import {
  MASS_LIMITS,
  computeMass,
  normalizedMass,
  storageMass,
  transientMass,
} from '../../src/kaspa/mass.ts';
import { signTransaction, verifyInputSignature } from '../../src/kaspa/sign.ts';
import { transactionId } from '../../src/kaspa/txid.ts';
import { bytesToHex } from '../../src/util/bytes.ts';
import {
  KAS,
  NOTIFICATION,
  coin,
  massTable,
  me,
  messengerShapes,
  myChange,
  peers,
  wallet,
} from './shapes.ts';
import { errorCode } from './fixtures.ts';

/** Key of the wallet that owns a coin built by `coin()`: receive 0 or the peer account. */
function keyFor(xOnly: Uint8Array): Uint8Array {
  const hex = bytesToHex(xOnly);
  if (hex === bytesToHex(me.payload)) return wallet.privateKey(0, 0, 0);
  for (let i = 0; i < 16; i++)
    if (hex === bytesToHex(wallet.publicKey(1, 0, i))) return wallet.privateKey(1, 0, i);
  throw new Error('unknown owner');
}

/** Signs, then checks every rule a node applies to mass and fee at Toccata. */
function assertNodeAccepts(b: BuiltTransaction, label: string): void {
  const keys = b.spent.map((e) => keyFor(e.scriptPublicKey.script.subarray(1, 33)));
  const signed = signTransaction(b.tx, b.spent, keys);
  for (let i = 0; i < signed.inputs.length; i++)
    assert.equal(verifyInputSignature(signed, i, b.spent), true, label);
  assert.deepEqual(transactionId(signed), transactionId(b.tx), label);
  const compute = computeMass(signed);
  assert.equal(compute, b.mass.compute, `${label}: estimate equals the signed mass`);
  assert.ok(compute <= MASS_LIMITS.compute, label);
  assert.ok(transientMass(signed) <= MASS_LIMITS.transient, label);
  const storage = storageMass(signed, b.spent);
  assert.ok(storage !== undefined && storage <= MASS_LIMITS.storage, label);
  assert.equal(signed.storageMass, storage, `${label}: committed storage mass`);
  const totalIn = b.spent.reduce((a, e) => a + e.amount, 0n);
  const totalOut = signed.outputs.reduce((a, o) => a + o.value, 0n);
  assert.equal(totalIn - totalOut, b.fee, `${label}: inputs = outputs + fee`);
  assert.ok(
    b.fee >= minimumRelayFee(signed),
    `${label}: fee ${b.fee} ≥ relay floor ${minimumRelayFee(signed)}`,
  );
  assert.ok(
    signed.outputs.every((o) => o.value > 0n),
    label,
  );
  assert.equal(normalizedMass(signed, b.spent), b.mass.normalized, label);
}

describe('transaction builder', () => {
  for (const version of [0, 1] as const) {
    it(`v${version}: every messenger shape is accepted and its mass is printed`, () => {
      for (const feerate of [undefined, 100]) {
        for (const s of messengerShapes(version, feerate)) {
          assertNodeAccepts(s.built, s.name);
          if (feerate !== undefined) {
            assert.ok(
              s.built.fee >= feeForMass(s.built.mass.normalized, feerate),
              `${s.name}: fee ≥ feerate × mass`,
            );
          }
          if (feerate === undefined) {
            const m = s.built.mass;
            console.log(
              `v${version} ${s.name}: ${s.built.tx.inputs.length} in / ${s.built.tx.outputs.length} out, ` +
                `compute ${m.compute}, transient ${m.transient}, storage ${m.storage}, fee ${s.built.fee}`,
            );
          }
        }
      }
    });
  }

  it('mirror returns have near-zero storage mass (NOTES §1)', () => {
    for (const s of messengerShapes(0)) {
      if (s.name.startsWith('return'))
        assert.ok(s.built.mass.storage < 10_000n, `${s.name}: ${s.built.mass.storage}`);
    }
  });

  it('docs/kaspa-mass.md carries the table this code computes', () => {
    // Compared cell by cell, so that Markdown formatters may pad the columns.
    const cells = (md: string): string =>
      md
        .split('\n')
        .filter((l) => l.startsWith('|'))
        .map((l) =>
          l
            .split('|')
            .map((c) => c.trim().replace(/^-+$/, '-'))
            .join('|'),
        )
        .join('\n');
    const doc = readFileSync(join(import.meta.dirname, '../../docs/kaspa-mass.md'), 'utf8');
    assert.ok(
      cells(doc).includes(cells(massTable())),
      'regenerate the table in docs/kaspa-mass.md from massTable()',
    );
  });

  it('says why it cannot build', () => {
    const ten = [coin(10n * KAS, 1)];
    const base = { utxos: ten, changeAddress: myChange };
    assert.equal(
      errorCode(() => buildTransaction({ ...base, outputs: [{ to: peers[0]!, amount: 11n * KAS }] })),
      'INSUFFICIENT_FUNDS',
    );
    // A 1000-sompi output costs 10^9 storage grams (NOTES §1).
    assert.equal(
      errorCode(() => buildTransaction({ ...base, outputs: [{ to: peers[0]!, amount: 1000n }] })),
      'STORAGE_MASS_TOO_HIGH',
    );
    assert.equal(
      errorCode(() => buildTransaction({ ...base, outputs: [], payload: new Uint8Array(70_000) })),
      'PAYLOAD_TOO_LARGE',
    );
    // Allowed by the setting but not by transient mass: 250 KB is the whole-tx ceiling.
    assert.equal(
      errorCode(() =>
        buildTransaction({
          ...base,
          outputs: [],
          payload: new Uint8Array(260_000),
          maxPayloadBytes: 300_000,
        }),
      ),
      'PAYLOAD_TOO_LARGE',
    );
    const dust = Array.from({ length: 600 }, (_, i) => coin(NOTIFICATION, 1000 + i));
    assert.equal(
      errorCode(() =>
        buildTransaction({
          utxos: dust,
          changeAddress: myChange,
          outputs: [{ to: peers[0]!, amount: 60n * KAS }],
        }),
      ),
      'COMPUTE_MASS_TOO_HIGH',
    );
    assert.throws(() => buildTransaction({ ...base, outputs: [{ to: peers[0]!, amount: 0n }] }), RangeError);
    assert.ok(new BuildError('INSUFFICIENT_FUNDS', 'x') instanceof Error);
  });

  it('leaves a change too small to stand alone to the fee', () => {
    const b = buildTransaction({
      utxos: [coin(NOTIFICATION + 400_000n, 1)],
      outputs: [{ to: peers[0]!, amount: NOTIFICATION }],
      changeAddress: myChange,
    });
    assert.equal(b.tx.outputs.length, 1);
    assert.equal(b.change, 0n);
    assertNodeAccepts(b, 'absorbed change');
  });

  it('adds a coin rather than give a sizeable change to the fee', () => {
    const b = buildTransaction({
      utxos: [coin(20_000_000n, 1), coin(20_000_000n, 2)],
      outputs: [{ to: peers[0]!, amount: 19_000_000n }],
      changeAddress: myChange,
    });
    assert.equal(b.tx.inputs.length, 2);
    assert.ok(b.change > 20_000_000n, String(b.change));
    assert.ok(b.mass.storage < 1_000n, String(b.mass.storage));
    assertNodeAccepts(b, 'second coin instead of absorbed change');
  });

  it('smallest safe output to a fresh address (FACTS §4.7)', () => {
    // FACTS: 1,999,997 sompi from a 1000-KAS coin, 2,000,813 from a 1-KAS coin (node limit);
    // 9,999,901 and 10,113,678 under the reference wallet's 100,000.
    const near = (a: bigint | undefined, b: bigint): boolean => a !== undefined && a >= b - 2n && a <= b + 2n;
    const x = smallestSafeOutput(1000n * KAS);
    assert.ok(near(x, 1_999_997n), String(x));
    const y = smallestSafeOutput(KAS);
    assert.ok(near(y, 2_000_813n), String(y));
    const z = smallestSafeOutput(1000n * KAS, { storageLimit: 100_000n });
    assert.ok(near(z, 9_999_901n), String(z));
    const w = smallestSafeOutput(KAS, { storageLimit: 100_000n });
    assert.ok(near(w, 10_113_678n), String(w));
    assert.equal(smallestSafeOutput(1000n), undefined);
  });
});
