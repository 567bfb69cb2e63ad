/**
 * Admission rules of the local network over wRPC, with the project's own client: transactions
 * built by our library are accepted (v0 and v1, Schnorr and ECDSA, every sighash type), and each
 * broken rule is refused with the real node's text (FACTS §3–§5, rusty-kaspa error strings).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex } from '../../src/util/bytes.ts';
import { SIGHASH_TYPES } from '../../src/kaspa/sighash.ts';
import { transactionId } from '../../src/kaspa/txid.ts';
import { RpcError } from '../../src/kaspa/rpc/errors.ts';
import type { KaspaRpcClient } from '../../src/kaspa/rpc/client.ts';
import { SOMPI_PER_KAS, type Transaction, type Utxo } from '../../src/kaspa/types.ts';
import { startDevnet, DevnetError, TxRejectedError, type DevnetHandle } from '../../src/devnet/index.ts';
import { ALICE, BOB, CAROL, connect, schnorrKey, spend, type TestKey } from './helpers.ts';

const KAS = SOMPI_PER_KAS;

async function rejection(p: Promise<unknown>): Promise<RpcError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof RpcError, `expected RpcError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a rejection');
}

describe('devnet transaction rules over wRPC', () => {
  let devnet: DevnetHandle;
  let client: KaspaRpcClient;
  /** Spendable coins of a key, largest first. */
  const coins = async (key: TestKey): Promise<Utxo[]> =>
    (await client.getUtxosByAddresses([key.address]))
      .filter((u) => !u.entry.isCoinbase)
      .sort((a, b) => (a.entry.amount > b.entry.amount ? -1 : a.entry.amount < b.entry.amount ? 1 : 0));

  before(async () => {
    devnet = await startDevnet({
      port: 0,
      controlPort: false,
      blocksPerSecond: 0,
      miningAddress: ALICE.address,
      prefund: { [ALICE.address]: 1000n * KAS, [CAROL.address]: 100n * KAS },
    });
    client = await connect(devnet.url);
  });
  after(async () => {
    client.close();
    await devnet.stop();
  });

  it('accepts v0 and v1 Schnorr spends under every standard sighash type, and mines them', async () => {
    for (const version of [0, 1] as const) {
      for (const hashType of SIGHASH_TYPES) {
        const [coin] = await coins(ALICE);
        const tx = spend(ALICE, [coin!], { version, amount: 1n * KAS, to: BOB.script, hashType });
        const id = await client.submitTransaction(tx);
        devnet.mine();
        assert.ok(devnet.chain.isAccepted(bytesToHex(id)), `v${version} hashType ${hashType}`);
      }
    }
    const bob = await client.getUtxosByAddresses([BOB.address]);
    assert.equal(bob.length, 2 * SIGHASH_TYPES.length);
    assert.ok(bob.every((u) => u.entry.amount === 1n * KAS && !u.entry.isCoinbase));
  });

  it('accepts P2PK-ECDSA spends (v0 and v1)', async () => {
    for (const version of [0, 1] as const) {
      const [coin] = await coins(CAROL);
      const id = await client.submitTransaction(
        spend(CAROL, [coin!], { version, amount: 2n * KAS, to: BOB.script }),
      );
      devnet.mine();
      assert.ok(devnet.chain.isAccepted(bytesToHex(id)));
    }
  });

  it('recomputes and overwrites the submitted storage mass (FACTS §4.3)', async () => {
    const [coin] = await coins(BOB);
    const honest = spend(BOB, [coin!], { amount: KAS / 5n, to: ALICE.script, payload: new Uint8Array(200) });
    assert.ok(honest.storageMass > 0n);
    const id = await client.submitTransaction({ ...honest, storageMass: 7n });
    const entry = await client.getMempoolEntry(id);
    assert.equal(entry.transaction.storageMass, honest.storageMass);
    assert.equal(entry.isOrphan, false);
    devnet.mine();
  });

  it('refuses a bad signature', async () => {
    const [coin] = await coins(ALICE);
    const tx = spend(ALICE, [coin!], { amount: KAS, to: BOB.script });
    const sig = tx.inputs[0]!.signatureScript.slice();
    sig[10]! ^= 1;
    const bad: Transaction = { ...tx, inputs: [{ ...tx.inputs[0]!, signatureScript: sig }] };
    const e = await rejection(client.submitTransaction(bad));
    assert.equal(e.code, 'REJECTED_TRANSACTION');
    assert.equal(
      e.rejectReason,
      'failed to verify the signature script: false stack entry at end of script execution',
    );
  });

  it('refuses a v0 P2PK input committing no sig-op budget (FACTS §3.6)', async () => {
    const [coin] = await coins(ALICE);
    const tx = spend(ALICE, [coin!], { amount: KAS, to: BOB.script });
    const e = await rejection(
      client.submitTransaction({ ...tx, inputs: [{ ...tx.inputs[0]!, sigOpCount: 0 }] }),
    );
    assert.match(
      e.rejectReason ?? '',
      /^failed to verify the signature script: script units exceeded the amount committed/,
    );
  });

  it('refuses a fee one sompi below the minimum relay fee (FACTS §4.5)', async () => {
    const [coin] = await coins(ALICE);
    const ok = spend(ALICE, [coin!], { amount: KAS, to: BOB.script });
    const minimum = coin!.entry.amount - ok.outputs.reduce((s, o) => s + o.value, 0n);
    const tx = spend(ALICE, [coin!], { amount: KAS, to: BOB.script, fee: minimum - 1n });
    const e = await rejection(client.submitTransaction(tx));
    assert.equal(
      e.rejectReason,
      `transaction ${bytesToHex(e.rejectedTxId!)} is not standard: transaction has ${minimum - 1n} fees which is under the required amount of ${minimum} for compute mass ${minimum / 100n}`,
    );
  });

  it('refuses storage mass over the 500,000 limit (KIP-9)', async () => {
    const [coin] = await coins(ALICE);
    const e = await rejection(
      client.submitTransaction(spend(ALICE, [coin!], { amount: 1000n, to: BOB.script })),
    );
    assert.match(
      e.rejectReason ?? '',
      /^transaction storage mass of \d+ is larger than max allowed size of 500000$/,
    );
  });

  it('refuses double spends: against the mempool, then against the chain', async () => {
    const [coin] = await coins(ALICE);
    const first = spend(ALICE, [coin!], { amount: KAS, to: BOB.script });
    const second = spend(ALICE, [coin!], { amount: 2n * KAS, to: BOB.script });
    const firstId = await client.submitTransaction(first);
    const e = await rejection(client.submitTransaction(second));
    const op = `(${bytesToHex(coin!.outpoint.transactionId)}, ${coin!.outpoint.index})`;
    assert.equal(
      e.rejectReason,
      `output ${op} already spent by transaction ${bytesToHex(firstId)} in the mempool`,
    );
    devnet.mine();
    const again = await rejection(client.submitTransaction(second));
    assert.equal(
      again.rejectReason,
      `transaction ${bytesToHex(again.rejectedTxId!)} is an orphan where orphan is disallowed`,
    );
    const replay = await rejection(client.submitTransaction(first));
    assert.equal(
      replay.rejectReason,
      `transaction ${bytesToHex(firstId)} was already accepted by the consensus`,
    );
  });

  it('refuses an immature coinbase spend (maturity 1,000 DAA, FACTS §7.2)', async () => {
    devnet.mine(2);
    const reward = (await client.getUtxosByAddresses([ALICE.address])).find((u) => u.entry.isCoinbase);
    assert.ok(reward !== undefined);
    const e = await rejection(
      client.submitTransaction(spend(ALICE, [reward], { amount: KAS, to: BOB.script })),
    );
    assert.match(
      e.rejectReason ?? '',
      /^one of the transaction inputs spends an immature UTXO: transaction input #0 tried to spend coinbase outpoint \([0-9a-f]{64}, 0\) with daa score of \d+\n {4}while the merging block daa score is \d+ and the coinbase maturity period of 1000 hasn't passed yet$/,
    );
  });

  it('refuses a v1 input carrying a sig-op count, at the RPC converter and in consensus', async () => {
    const [coin] = await coins(ALICE);
    const tx = spend(ALICE, [coin!], { version: 1, amount: KAS, to: BOB.script });
    const bad: Transaction = { ...tx, inputs: [{ ...tx.inputs[0]!, sigOpCount: 1 }] };
    const e = await rejection(client.submitTransaction(bad));
    assert.equal(e.code, 'SERVER_ERROR');
    assert.equal(
      e.serverMessage,
      'RpcTransactionInput.sig_op_count is inconsistent with transaction version 1',
    );
    assert.throws(
      () => devnet.chain.submitTransaction(bad),
      (err: unknown) =>
        err instanceof TxRejectedError &&
        err.rule === 'isolation' &&
        err.reason === 'transaction input #0 has a sig op count field with value 1 in version 1 transaction',
    );
  });

  it('refuses another network’s address where the node checks it', async () => {
    const e = await rejection(
      client.getBlockTemplate('kaspa:qqzrk3a4acjla3zc9ngr37u4grtkr0k0mqf6qhmd9lteks00av6asl6rqhjnm'),
    );
    assert.equal(e.serverMessage, 'The address has an invalid prefix kaspa');
    assert.throws(
      () => devnet.fund('kaspatest:qqzrk3a4acjla3zc9ngr37u4grtkr0k0mqf6qhmd9lteks00av6as7u9mcvzl', KAS),
      (err: unknown) => err instanceof DevnetError && err.code === 'BAD_REQUEST',
    );
  });

  it('funds through the faucet with a real transaction, visible in the mempool then the chain', async () => {
    const id = devnet.fund(BOB.address, 3n * KAS);
    const entry = await client.getMempoolEntries();
    assert.ok(entry.some((e) => e.transaction.outputs[0]?.value === 3n * KAS));
    devnet.mine();
    assert.ok(devnet.chain.isAccepted(id));
  });

  it('answers getMempoolEntriesByAddresses per address asked: its pending spends and receipts', async () => {
    devnet.mine();
    const stranger = schnorrKey('7'.repeat(64));
    const toBob = spend(ALICE, [(await coins(ALICE))[0]!], { amount: 2n * KAS, to: BOB.script });
    const carolToBob = spend(CAROL, [(await coins(CAROL))[0]!], { amount: 1n * KAS, to: BOB.script });
    const a = bytesToHex(await client.submitTransaction(toBob));
    const c = bytesToHex(await client.submitTransaction(carolToBob));
    const asked = [ALICE, BOB, CAROL, BOB, stranger].map((k) => k.address);
    const entries = await client.getMempoolEntriesByAddresses(asked);
    const ids = (list: readonly { transaction: Transaction }[]): string[] =>
      list.map((e) => bytesToHex(transactionId(e.transaction))).sort();
    assert.deepEqual(
      entries.map((e) => ({ address: e.address, sending: ids(e.sending), receiving: ids(e.receiving) })),
      [
        { address: ALICE.address, sending: [a], receiving: [a] },
        { address: BOB.address, sending: [], receiving: [a, c].sort() },
        { address: CAROL.address, sending: [c], receiving: [c] },
        { address: BOB.address, sending: [], receiving: [a, c].sort() },
        { address: stranger.address, sending: [], receiving: [] },
      ],
    );
    devnet.mine();
    for (const e of await client.getMempoolEntriesByAddresses(asked)) {
      assert.deepEqual([e.sending.length, e.receiving.length], [0, 0], `${e.address} after mining`);
    }
  });
});
