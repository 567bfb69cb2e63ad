/**
 * Fault injection: dropped connections, delayed and withheld notifications, paused block
 * production and a reorganisation that takes an accepted transaction out of the virtual chain,
 * through the in-process API and through the local control endpoint.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { bytesToHex, hexToBytes } from '../../src/util/bytes.ts';
import type { UtxosChanged, VirtualChainChanged } from '../../src/kaspa/rpc/responses.ts';
import { RpcError } from '../../src/kaspa/rpc/errors.ts';
import { SOMPI_PER_KAS, type TxId } from '../../src/kaspa/types.ts';
import { startDevnet, type DevnetHandle } from '../../src/devnet/index.ts';
import { BOB, CAROL, connect, waitFor } from './helpers.ts';

const KAS = SOMPI_PER_KAS;

describe('devnet faults', () => {
  let devnet: DevnetHandle;
  before(async () => {
    devnet = await startDevnet({ port: 0, blocksPerSecond: 0 });
  });
  after(() => devnet.stop());

  it('drops client connections', async () => {
    const client = await connect(devnet.url);
    const closed = waitFor<unknown>((push) => client.on('close', push));
    assert.equal(devnet.faults.dropConnections(), 1);
    await closed;
    await assert.rejects(client.ping(), (e: unknown) => e instanceof RpcError);
    client.close();
  });

  it('withholds notifications until released, then delivers them in order', async () => {
    const client = await connect(devnet.url);
    const seen: UtxosChanged[] = [];
    await client.subscribeUtxosChanged([BOB.address], (n) => seen.push(n));
    devnet.faults.withholdNotifications();
    const id = devnet.fund(BOB.address, 2n * KAS);
    devnet.mine();
    await client.ping();
    assert.equal(seen.length, 0, 'nothing is delivered while withheld');
    const arrived = waitFor<UtxosChanged>((push) => void client.subscribeUtxosChanged([BOB.address], push));
    assert.ok(devnet.faults.releaseNotifications() >= 1);
    await arrived;
    assert.equal(bytesToHex(seen[0]!.added[0]!.outpoint.transactionId), id);
    client.close();
  });

  it('discards withheld notifications when asked', async () => {
    const client = await connect(devnet.url);
    const seen: UtxosChanged[] = [];
    await client.subscribeUtxosChanged([CAROL.address], (n) => seen.push(n));
    devnet.faults.withholdNotifications();
    devnet.fund(CAROL.address, KAS);
    devnet.mine();
    assert.ok(devnet.faults.releaseNotifications({ discard: true }) >= 1);
    await client.ping();
    assert.equal(seen.length, 0);
    client.close();
  });

  it('delays notifications behind later replies', async () => {
    const client = await connect(devnet.url);
    const order: string[] = [];
    let notify: (() => void) | undefined;
    const notified = new Promise<void>((resolve) => (notify = resolve));
    // Awaited: the node must know the subscription before the block is mined.
    await client.subscribeUtxosChanged([BOB.address], () => {
      order.push('notification');
      notify?.();
    });
    devnet.faults.delayNotifications(200);
    devnet.fund(BOB.address, KAS);
    devnet.mine();
    await client.ping();
    order.push('ping reply');
    await notified;
    devnet.faults.delayNotifications(0);
    assert.deepEqual(order, ['ping reply', 'notification']);
    client.close();
  });

  it('reorganises: the accepted transaction leaves the virtual chain, its UTXOs revert, it returns to the mempool', async () => {
    const client = await connect(devnet.url);
    const chains: VirtualChainChanged[] = [];
    const utxos: UtxosChanged[] = [];
    await client.subscribeVirtualChainChanged(true, (n) => chains.push(n));
    await client.subscribeUtxosChanged([CAROL.address], (n) => utxos.push(n));
    const id = devnet.fund(CAROL.address, 4n * KAS);
    const [holder, accepting] = devnet.mine(2);
    assert.ok(devnet.chain.isAccepted(id));
    const before = await client.getUtxosByAddresses([CAROL.address]);
    assert.ok(before.some((u) => bytesToHex(u.outpoint.transactionId) === id));

    const reverted = waitFor<UtxosChanged>(
      (push) => void client.subscribeUtxosChanged([CAROL.address], push),
      (n) => n.removed.some((u) => bytesToHex(u.outpoint.transactionId) === id),
    );
    const { removed, added } = devnet.faults.reorg(2);
    assert.deepEqual(removed, [accepting, holder]);
    assert.equal(added.length, 3);
    await reverted;
    const change = chains.find((c) => c.removedChainBlockHashes.length > 0)!;
    assert.deepEqual(
      change.removedChainBlockHashes.map((h) => bytesToHex(h)),
      [accepting, holder],
    );
    assert.deepEqual(
      change.addedChainBlockHashes.map((h) => bytesToHex(h)),
      added,
    );
    assert.ok(!devnet.chain.isAccepted(id));
    assert.ok(
      !(await client.getUtxosByAddresses([CAROL.address])).some(
        (u) => bytesToHex(u.outpoint.transactionId) === id,
      ),
    );
    const entry = await client.getMempoolEntry(hexToBytes(id) as TxId);
    assert.equal(
      bytesToHex(entry.transaction.outputs[0]!.scriptPublicKey.script),
      bytesToHex(CAROL.script.script),
    );
    // The removed blocks are still known, off the selected chain.
    const old = await client.getBlock(hexToBytes(holder!) as never);
    assert.equal(old.isChainBlock, false);
    // The next block takes the transaction again.
    devnet.mine();
    assert.ok(devnet.chain.isAccepted(id));

    // With dropTransactions the transaction is gone from the virtual state and the mempool.
    devnet.mine();
    devnet.faults.reorg(2, { dropTransactions: true, replacement: 2 });
    assert.ok(!devnet.chain.isAccepted(id));
    await assert.rejects(
      client.getMempoolEntry(hexToBytes(id) as TxId),
      (e: unknown) => e instanceof RpcError && e.serverMessage === `Transaction ${id} not found`,
    );
    client.close();
  });

  it('pauses and resumes block production, also through the control endpoint', async () => {
    const auto = await startDevnet({ port: 0, blocksPerSecond: 50 });
    try {
      const post = async (path: string, body: unknown): Promise<unknown> => {
        const res = await fetch(`${auto.controlUrl!}/${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        assert.equal(res.status, 200, await res.clone().text());
        return res.json();
      };
      await post('mining', { paused: true });
      const frozen = auto.chain.virtualDaaScore;
      await sleep(200);
      assert.equal(auto.chain.virtualDaaScore, frozen, 'no block while paused');
      const client = await connect(auto.url);
      const advanced = waitFor<bigint>((push) => void client.subscribeVirtualDaaScoreChanged(push));
      await post('mining', { paused: false });
      assert.ok((await advanced) > frozen);
      // The other routes answer too.
      const funded = (await post('fund', { address: BOB.address, amount: '1.5' })) as {
        transactionId: string;
      };
      assert.match(funded.transactionId, /^[0-9a-f]{64}$/);
      assert.deepEqual(await post('faults/notifications', { withhold: true }), {});
      assert.ok(
        ((await post('faults/notifications', { release: 'deliver' })) as { released: number }).released >= 0,
      );
      assert.equal(((await post('faults/drop-connections', {})) as { dropped: number }).dropped, 1);
      const status = (await (await fetch(`${auto.controlUrl!}/status`)).json()) as { miningPaused: boolean };
      assert.equal(status.miningPaused, false);
      client.close();
    } finally {
      await auto.stop();
    }
  });
});
