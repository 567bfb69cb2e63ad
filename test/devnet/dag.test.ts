/**
 * Parallel blocks: a block built on a template that went stale (the same parents as a block
 * connected meanwhile) is accepted as kaspad accepts it, leaving two tips; the next template
 * merges them, and every RPC view (DAG info, getBlock, the virtual chain, UtxosChanged,
 * getUtxosByAddresses) follows the merged state. Also the node's `isSynced`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex } from '../../src/util/bytes.ts';
import type { KaspaRpcClient } from '../../src/kaspa/rpc/client.ts';
import type { UtxosChanged } from '../../src/kaspa/rpc/responses.ts';
import { SOMPI_PER_KAS, type Utxo } from '../../src/kaspa/types.ts';
import { startDevnet, type DevnetHandle } from '../../src/devnet/index.ts';
import { Chain } from '../../src/devnet/chain.ts';
import { ALICE, BOB, CAROL, RawSocket, connect, spend, within, type Frame } from './helpers.ts';

const KAS = SOMPI_PER_KAS;

describe('devnet parallel blocks', () => {
  let devnet: DevnetHandle;
  let client: KaspaRpcClient;
  let raw: RawSocket;
  const aliceCoins = async (): Promise<Utxo[]> =>
    (await client.getUtxosByAddresses([ALICE.address])).filter((u) => !u.entry.isCoinbase);

  before(async () => {
    devnet = await startDevnet({
      port: 0,
      controlPort: false,
      blocksPerSecond: 0,
      coinbaseMaturity: 0n,
      prefund: { [ALICE.address]: 100n * KAS },
    });
    client = await connect(devnet.url);
    raw = await RawSocket.open(devnet.url);
  });
  after(async () => {
    client.close();
    raw.close();
    await devnet.stop();
  });

  it('accepts a block from a stale template as a parallel block and merges both tips next', async () => {
    devnet.mine();
    const start = devnet.chain.sink;
    const seen: UtxosChanged[] = [];
    await client.subscribeUtxosChanged([BOB.address, ALICE.address], (n) => seen.push(n));
    const [coin] = await aliceCoins();
    const tx = spend(ALICE, [coin!], { amount: 3n * KAS, to: BOB.script });
    const id = await client.submitTransaction(tx);

    // A miner takes a template; the node connects another block on the same parents meanwhile.
    const stale = await client.getBlockTemplate(CAROL.address);
    const [rival] = devnet.mine();
    const report = await client.submitBlock(stale.block);
    assert.deepEqual(report, { type: 'success' }, 'a stale template is a valid parallel block');

    const dag = await client.getBlockDagInfo();
    const tips = dag.tipHashes.map((h) => bytesToHex(h)).sort();
    assert.equal(tips.length, 2);
    assert.ok(tips.includes(rival!));
    assert.deepEqual(dag.virtualParentHashes.map((h) => bytesToHex(h)).sort(), tips);
    const parallel = tips.find((h) => h !== rival)!;
    // Both blocks carry the transaction; it is accepted once and pays Bob once.
    assert.ok(devnet.chain.isAccepted(bytesToHex(id)));
    const bob = await client.getUtxosByAddresses([BOB.address]);
    assert.equal(bob.filter((u) => bytesToHex(u.outpoint.transactionId) === bytesToHex(id)).length, 1);

    // Both blocks have the same selected parent and score; the sink is the one of larger hash.
    const sink = devnet.chain.sink;
    assert.equal(sink.hashHex, [rival!, parallel].sort().at(-1));
    assert.equal(devnet.chain.virtualDaaScore, sink.header.daaScore + 2n, 'the virtual merges both tips');

    // The next template names both tips and merges them.
    const next = await client.getBlockTemplate(CAROL.address);
    const parents = (next.block.header as unknown as { parentsByLevel: string[][] }).parentsByLevel[0]!;
    assert.deepEqual([...parents].sort(), tips);
    assert.deepEqual(await client.submitBlock(next.block), { type: 'success' });
    const merging = devnet.chain.sink;
    assert.deepEqual(devnet.chain.tips, [merging]);
    assert.equal(merging.header.daaScore, sink.header.daaScore + 2n);

    const block = (await raw.call('getBlock', { hash: merging.hashHex, includeTransactions: true }))[
      'params'
    ] as Frame;
    const verbose = (block['block'] as Frame)['verboseData'] as Frame;
    assert.equal(verbose['selectedParentHash'], sink.hashHex);
    assert.deepEqual(verbose['mergeSetBluesHashes'], [
      sink.hashHex,
      sink.hashHex === rival ? parallel : rival,
    ]);
    // The merging block's coinbase pays both merged blocks' miners.
    const coinbase = merging.transactions![0]!;
    assert.equal(coinbase.outputs.length, 2);
    const loser = devnet.chain.block(sink.hashHex === rival ? parallel : rival!)!;
    assert.equal(
      bytesToHex(coinbase.outputs[1]!.scriptPublicKey.script),
      bytesToHex(loser.minerScript.script),
    );
    const loserInfo = (await raw.call('getBlock', { hash: loser.hashHex, includeTransactions: false }))[
      'params'
    ] as Frame;
    assert.equal(((loserInfo['block'] as Frame)['verboseData'] as Frame)['isChainBlock'], false);
    assert.deepEqual(
      (await raw.call('getCurrentBlockColor', { hash: loser.hashHex }))['params'],
      { blue: true },
      'a merged block is blue',
    );

    // The virtual chain: the merging block accepts nothing of the loser (its copy of the
    // transaction conflicts, and a merged block's coinbase is never accepted).
    const v2 = await client.getVirtualChainFromBlockV2(start.hash, { dataVerbosityLevel: 'Low' });
    assert.deepEqual(
      v2.addedChainBlockHashes.map((h) => bytesToHex(h)),
      devnet.chain.chain.slice(devnet.chain.chainIndex(start) + 1).map((b) => b.hashHex),
    );
    const accepted = v2.chainBlockAcceptedTransactions.flatMap((c) =>
      c.acceptedTransactions.map((t) => bytesToHex(t.transactionId!)),
    );
    assert.equal(accepted.filter((t) => t === bytesToHex(id)).length, 1, 'accepted exactly once');
    const last = v2.chainBlockAcceptedTransactions
      .at(-1)!
      .acceptedTransactions.map((t) => bytesToHex(t.transactionId!));
    assert.deepEqual(
      last,
      sink.accepted!.map((i) => bytesToHex(sink.transactionIds![i]!)),
    );
    assert.ok(!last.includes(bytesToHex(loser.transactionIds![0]!)));
    // UtxosChanged told the same story as getUtxosByAddresses: Bob's coin once, never removed.
    await client.ping();
    const bobAdded = seen
      .flatMap((n) => n.added)
      .filter((u) => bytesToHex(u.outpoint.transactionId) === bytesToHex(id));
    const bobRemoved = seen
      .flatMap((n) => n.removed)
      .filter((u) => bytesToHex(u.outpoint.transactionId) === bytesToHex(id));
    assert.ok(bobAdded.length >= 1);
    assert.equal(bobAdded.length - bobRemoved.length, 2, 'two outputs (payment and change) stay');
  });

  it('does not accept a transaction that conflicts with one accepted by the selected parent', async () => {
    const chain = devnet.chain;
    const [coin] = await aliceCoins();
    const toBob = spend(ALICE, [coin!], { amount: 2n * KAS, to: BOB.script });
    const toCarol = spend(ALICE, [coin!], { amount: 2n * KAS, to: CAROL.script });
    const bobId = bytesToHex(await client.submitTransaction(toBob));
    const before = chain.sink;
    devnet.mine();
    assert.ok(chain.isAccepted(bobId));
    // Another miner, still on `before`, spent the same coin to Carol: valid in its own past.
    const rival = chain.submitBlock(chain.templateOver([before], CAROL.script, [toCarol]));
    assert.ok(!('reason' in rival), 'reason' in rival ? rival.detail : '');
    const carolId = bytesToHex(rival.transactionIds![1]!);
    assert.equal(chain.tips.length, 2);
    // Whichever wins the tie, exactly one side of the double spend is accepted, before and
    // after the next block merges both.
    assert.notEqual(chain.isAccepted(bobId), chain.isAccepted(carolId));
    devnet.mine();
    assert.notEqual(chain.isAccepted(bobId), chain.isAccepted(carolId));
    const merged = chain.sink.mergeset;
    assert.equal(merged.length, 2);
    assert.deepEqual(merged[1]!.accepted, [], 'the losing side contributes nothing');
    const winnerId = chain.isAccepted(bobId) ? bobId : carolId;
    const coins = await client.getUtxosByAddresses([BOB.address, CAROL.address]);
    assert.ok(coins.some((u) => bytesToHex(u.outpoint.transactionId) === winnerId));
    assert.ok(
      !coins.some((u) => bytesToHex(u.outpoint.transactionId) === (winnerId === bobId ? carolId : bobId)),
    );
  });
});

describe('devnet parallel blocks across a restart', () => {
  it('keeps both tips, the merge order and the UTXO set in the data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'p2pcomm-dag-'));
    try {
      const opts = {
        port: 0,
        controlPort: false as const,
        blocksPerSecond: 0,
        dataDir: dir,
        coinbaseMaturity: 0n,
      };
      const first = await startDevnet({ ...opts, prefund: { [ALICE.address]: 10n * KAS } });
      first.mine();
      const before = first.chain.sink;
      const [coin] = first.chain.utxos.byScript(ALICE.script);
      first.fund(BOB.address, KAS);
      first.mine();
      const rival = first.chain.submitBlock(
        first.chain.templateOver([before], CAROL.script, [
          spend(ALICE, [coin!], { amount: 2n * KAS, to: CAROL.script }),
        ]),
      );
      assert.ok(!('reason' in rival));
      const tips = first.chain.tips.map((b) => b.hashHex).sort();
      const daa = first.chain.virtualDaaScore;
      const utxos = [...first.chain.utxos.values()]
        .map((u) => `${bytesToHex(u.outpoint.transactionId)}:${u.outpoint.index}`)
        .sort();
      await first.stop();
      const second = await startDevnet(opts);
      try {
        assert.deepEqual(second.chain.tips.map((b) => b.hashHex).sort(), tips);
        assert.equal(second.chain.virtualDaaScore, daa);
        assert.deepEqual(
          [...second.chain.utxos.values()]
            .map((u) => `${bytesToHex(u.outpoint.transactionId)}:${u.outpoint.index}`)
            .sort(),
          utxos,
        );
        // Mining on goes on from the same state: the next block merges both tips.
        second.mine();
        assert.equal(second.chain.sink.mergeset.length, 2);
        assert.deepEqual(second.chain.tips, [second.chain.sink]);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('devnet isSynced', () => {
  it('is false on a fresh node until it has a recent block, as kaspad reports', async () => {
    const devnet = await startDevnet({ port: 0, controlPort: false, blocksPerSecond: 0 });
    const client = await connect(devnet.url);
    try {
      assert.equal((await within(client.getServerInfo(), 10_000, 'getServerInfo')).isSynced, false);
      assert.equal((await client.getInfo()).isSynced, false);
      assert.equal((await client.getBlockTemplate(BOB.address)).isSynced, false);
      devnet.mine();
      assert.equal((await client.getServerInfo()).isSynced, true);
      assert.equal((await client.getBlockTemplate(BOB.address)).isSynced, true);
    } finally {
      client.close();
      await devnet.stop();
    }
  });

  it('turns false again when the sink is older than 1,000 s (10 BPS × 30,000 / 3)', () => {
    let now = Date.now();
    const chain = new Chain({ now: () => now });
    chain.mine(BOB.script);
    assert.equal(chain.isSynced, true);
    now += 999_000;
    assert.equal(chain.isSynced, true);
    now += 2_000;
    assert.equal(chain.isSynced, false);
    chain.mine(BOB.script);
    assert.equal(chain.isSynced, true);
  });

  it('starts synced from the project start command: a devnet that mines reports synced once running', async () => {
    const devnet = await startDevnet({ port: 0, controlPort: false, blocksPerSecond: 50 });
    const client = await connect(devnet.url);
    try {
      const synced = await within(
        (async () => {
          while (!(await client.getServerInfo()).isSynced) await new Promise((r) => setTimeout(r, 20));
          return true;
        })(),
        10_000,
        'a mining devnet to report synced',
      );
      assert.equal(synced, true);
    } finally {
      client.close();
      await devnet.stop();
    }
  });
});
