import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { schnorr } from '@noble/curves/secp256k1.js';
import { Address, AddressVersion, addressToScriptPublicKey } from '../../../src/kaspa/address.ts';
import type { TxId, Utxo } from '../../../src/kaspa/types.ts';
import { buildFormat1Publication as buildPublication } from './format1.ts';
import { DeliveryError } from '../../../src/core/delivery/errors.ts';
import { OwnTransactions, decodeOwnTx, type OwnTx } from '../../../src/core/delivery/own-txs.ts';
import { COINS_STORE } from '../../../src/core/delivery/kaspa-chain.ts';
import { outpointKey } from '../../../src/kaspa/utxo-watcher.ts';
import { transactionId } from '../../../src/kaspa/txid.ts';
import { bytesToHex, randomBytes, utf8ToBytes } from '../../../src/util/bytes.ts';
import { encodeKey } from '../../../src/storage/keys.ts';
import { MemoryDatabase, openDb } from './fakes.ts';

function signed(): OwnTx {
  const key = schnorr.utils.randomSecretKey();
  const self = new Address('kaspasim', AddressVersion.PubKey, schnorr.getPublicKey(key));
  const bob = new Address(
    'kaspasim',
    AddressVersion.PubKey,
    schnorr.getPublicKey(schnorr.utils.randomSecretKey()),
  );
  const utxo: Utxo = {
    outpoint: { transactionId: randomBytes(32) as TxId, index: 1 },
    entry: {
      amount: 10n ** 9n,
      scriptPublicKey: addressToScriptPublicKey(self),
      blockDaaScore: 7n,
      isCoinbase: false,
    },
  };
  const built = buildPublication({
    payload: randomBytes(200),
    recipients: [{ address: bob }],
    funding: [{ utxo, privateKey: key }],
    changeAddress: self,
  });
  return {
    txHex: bytesToHex(transactionId(built.tx)),
    tx: built.tx,
    inputs: [outpointKey(utxo.outpoint)],
    outputs: [{ index: built.changeIndex!, address: self.toString() }],
    submitAt: 1_800_000_000_000,
  };
}

describe('own transaction records (docs/protocol.md "Own transaction record")', () => {
  it('round-trips through the store, indexes spent outpoints, and is forgotten once deep', async () => {
    const data = new MemoryDatabase();
    const own = new OwnTransactions(await openDb(data), COINS_STORE);
    const t = signed();
    await own.put(t);
    await own.update(t.txHex, { submitted: true });
    await own.update(t.txHex, { acceptedDaa: 500n });
    const again = new OwnTransactions(await openDb(data), COINS_STORE);
    const [loaded] = await again.load();
    assert.equal(loaded!.txHex, t.txHex);
    assert.equal(bytesToHex(transactionId(loaded!.tx)), t.txHex, 'the same signed transaction');
    assert.equal(loaded!.submitAt, undefined);
    assert.equal(loaded!.acceptedDaa, 500n);
    assert.equal(again.spenderOf(t.inputs[0]!)?.txHex, t.txHex);
    assert.ok(again.ownsOutput(t.txHex, t.outputs[0]!.index));
    await again.prune(1_499n, 1_000n);
    assert.equal(again.size, 1, 'not deep yet');
    await again.prune(1_500n, 1_000n);
    assert.equal(again.size, 0);
    assert.equal(again.spenderOf(t.inputs[0]!), undefined);
    assert.equal((await new OwnTransactions(await openDb(data), COINS_STORE).load()).length, 0);
  });

  it('a record that left the chain is not pruned by its old acceptance', async () => {
    const own = new OwnTransactions(await openDb(new MemoryDatabase()), COINS_STORE);
    const t = signed();
    await own.put(t);
    await own.update(t.txHex, { acceptedDaa: 10n });
    await own.update(t.txHex, { acceptedDaa: null });
    await own.prune(10_000n, 1_000n);
    assert.equal(own.size, 1);
  });

  it('keeps the accepting block across a reload (version 2) and still reads version 1', async () => {
    const t = signed();
    const data = new MemoryDatabase();
    const db = await openDb(data);
    const own = new OwnTransactions(db, COINS_STORE);
    await own.put(t);
    const block = 'cd'.repeat(32);
    await own.update(t.txHex, { acceptedDaa: 7n, acceptedBlock: block });
    const [loaded] = await new OwnTransactions(await openDb(data), COINS_STORE).load();
    assert.equal(loaded!.acceptedBlock, block);
    assert.equal(loaded!.acceptedDaa, 7n);
    // Off the chain again: the block goes with the acceptance.
    await own.update(t.txHex, { acceptedDaa: null });
    const [off] = await new OwnTransactions(await openDb(data), COINS_STORE).load();
    assert.equal(off!.acceptedBlock, undefined);
    const stored = JSON.parse(
      new TextDecoder().decode((await db.get(COINS_STORE, encodeKey('own', t.txHex)))!),
    ) as Record<string, unknown>;
    assert.equal(stored['v'], 2);
    const v1: Record<string, unknown> = { ...stored, v: 1, acceptedDaa: '9' };
    delete v1['acceptedBlock'];
    const old = decodeOwnTx(utf8ToBytes(JSON.stringify(v1)));
    assert.equal(old.acceptedDaa, 9n);
    assert.equal(old.acceptedBlock, undefined);
  });

  it('refuses malformed records and other versions with CORRUPT_RECORD', async () => {
    const t = signed();
    const db = await openDb(new MemoryDatabase());
    await new OwnTransactions(db, COINS_STORE).put(t);
    const good = JSON.parse(
      new TextDecoder().decode((await db.get(COINS_STORE, encodeKey('own', t.txHex)))!),
    ) as Record<string, unknown>;
    const bad: unknown[] = [
      'not json',
      '[]',
      { ...good, v: 3 },
      { ...good, v: 0 },
      { ...good, acceptedBlock: undefined },
      { ...good, acceptedBlock: 'ab'.repeat(32) }, // an accepting block without acceptance
      { ...good, acceptedDaa: '5', acceptedBlock: 'AB'.repeat(32) },
      { ...good, acceptedDaa: '5', acceptedBlock: 'ab'.repeat(31) },
      { ...good, tx: { version: 'x' } },
      { ...good, inputs: ['zz'] },
      { ...good, inputs: [...(good['inputs'] as string[]), ...(good['inputs'] as string[])] },
      { ...good, outputs: [[99, 'kaspasim:x']] },
      { ...good, outputs: [[-1, 'kaspasim:x']] },
      { ...good, outputs: [[0, 'x'.repeat(129)]] },
      { ...good, submitAt: 'soon' },
      { ...good, acceptedDaa: 12 },
      { ...good, acceptedDaa: '-1' },
    ];
    for (const b of bad) {
      const bytes = utf8ToBytes(typeof b === 'string' ? b : JSON.stringify(b));
      assert.throws(
        () => decodeOwnTx(bytes),
        (e: unknown) => e instanceof DeliveryError && e.code === 'CORRUPT_RECORD',
        JSON.stringify(b).slice(0, 80),
      );
    }
  });
});
