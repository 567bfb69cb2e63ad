/**
 * Data directory and pruning: a restarted node resumes with its chain, UTXO set and mempool, and
 * block bodies below the pruning window are gone while the coins they created remain, answered
 * the way a real node answers for pruned data (FACTS §6.6).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, hexToBytes } from '../../src/util/bytes.ts';
import { RpcError } from '../../src/kaspa/rpc/errors.ts';
import { SOMPI_PER_KAS, type BlockHash } from '../../src/kaspa/types.ts';
import { startDevnet, type DevnetHandle } from '../../src/devnet/index.ts';
import { ALICE, BOB, connect, spend } from './helpers.ts';

const KAS = SOMPI_PER_KAS;

describe('devnet data directory', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'devnet-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('survives a restart with chain, UTXO set and mempool', async () => {
    const options = { port: 0, controlPort: false, blocksPerSecond: 0, dataDir: dir } as const;
    const first = await startDevnet({ ...options, prefund: { [ALICE.address]: 100n * KAS } });
    let client = await connect(first.url);
    const [coin] = await client.getUtxosByAddresses([ALICE.address]);
    const acceptedId = bytesToHex(
      await client.submitTransaction(spend(ALICE, [coin!], { amount: 5n * KAS, to: BOB.script })),
    );
    first.mine(3);
    const change = (await client.getUtxosByAddresses([ALICE.address])).find((u) => !u.entry.isCoinbase)!;
    const pendingId = bytesToHex(
      await client.submitTransaction(spend(ALICE, [change], { amount: KAS, to: BOB.script })),
    );
    const before = await client.getBlockDagInfo();
    const bobBefore = await client.getUtxosByAddresses([BOB.address]);
    client.close();
    await first.stop();

    // Prefunding again must not credit a second time: it applies to a fresh directory only.
    const second = await startDevnet({ ...options, prefund: { [ALICE.address]: 999n * KAS } });
    client = await connect(second.url);
    try {
      const after = await client.getBlockDagInfo();
      assert.equal(bytesToHex(after.sink), bytesToHex(before.sink));
      assert.equal(after.virtualDaaScore, before.virtualDaaScore);
      assert.equal(after.blockCount, before.blockCount);
      assert.deepEqual(await client.getUtxosByAddresses([BOB.address]), bobBefore);
      assert.ok(second.chain.isAccepted(acceptedId));
      const pending = await client.getMempoolEntry(hexToBytes(pendingId) as never);
      assert.equal(pending.isOrphan, false);
      const block = await client.getBlock(before.sink, { includeTransactions: true });
      assert.equal(block.transactions.length, 1, 'the sink holds only its coinbase');
      // Mining continues on top of the restored sink and accepts the restored mempool.
      second.mine();
      assert.equal(bytesToHex(second.chain.sink.header.parentsByLevel[0]![0]!), bytesToHex(before.sink));
      assert.ok(second.chain.isAccepted(pendingId));
      assert.equal((await client.getBalanceByAddress(ALICE.address)) < 100n * KAS, true);
    } finally {
      client.close();
      await second.stop();
    }
  });
});

describe('devnet pruning window', () => {
  let devnet: DevnetHandle;
  before(async () => {
    devnet = await startDevnet({
      port: 0,
      controlPort: false,
      blocksPerSecond: 0,
      pruningDepth: 5,
      prefund: { [ALICE.address]: 100n * KAS },
    });
  });
  after(() => devnet.stop());

  it('drops bodies older than the window but keeps the coins they created', async () => {
    const client = await connect(devnet.url);
    try {
      const [coin] = await client.getUtxosByAddresses([ALICE.address]);
      const id = await client.submitTransaction(
        spend(ALICE, [coin!], { amount: 7n * KAS, to: BOB.script, payload: Uint8Array.of(1, 2, 3) }),
      );
      const [holder] = devnet.mine();
      const [accepting] = devnet.mine();
      // While inside the window the payload is reachable through the virtual chain (FACTS §6.6 route 2).
      const early = await client.getVirtualChainFromBlockV2(hexToBytes(holder!) as BlockHash);
      assert.equal(bytesToHex(early.addedChainBlockHashes[0]!), accepting);
      assert.deepEqual(
        early.chainBlockAcceptedTransactions[0]!.acceptedTransactions[1]!.payload,
        Uint8Array.of(1, 2, 3),
      );

      devnet.mine(10);
      const pruned = await client.getBlock(hexToBytes(holder!) as BlockHash, { includeTransactions: true });
      assert.equal(pruned.transactions.length, 0, 'a pruned block answers header-only');
      assert.equal(bytesToHex(pruned.header.hash), holder);
      const e = await client.getVirtualChainFromBlockV2(hexToBytes(holder!) as BlockHash).then(
        () => assert.fail('expected an error'),
        (err: unknown) => err,
      );
      assert.ok(e instanceof RpcError && e.code === 'SERVER_ERROR');
      assert.equal(e.serverMessage, `block ${holder} is too deep (before the current pruning point)`);
      // The coin outlives its body.
      const bob = await client.getUtxosByAddresses([BOB.address]);
      assert.equal(bob.length, 1);
      assert.equal(bytesToHex(bob[0]!.outpoint.transactionId), bytesToHex(id));
      // From the pruning point on, the chain is served.
      const dag = await client.getBlockDagInfo();
      const fromPruningPoint = await client.getVirtualChainFromBlockV2(dag.pruningPointHash);
      assert.equal(fromPruningPoint.addedChainBlockHashes.length, 5);
    } finally {
      client.close();
    }
  });
});
