/**
 * The local network under hostile clients, as a real node must be: 20,000 hostile frames from
 * several sockets (oversized strings, malformed JSON, deep nesting, ids serde refuses, repeated
 * addresses, unknown methods and scopes, subscription floods, getBlocks from genesis with
 * transactions) and a client that stops reading, while a well-behaved client keeps asking.
 * Its answers stay correct, the process stays up, and every reply is bounded: repeated
 * addresses name each coin once, paged replies stop at the reply budget, and a client that
 * lets its replies pile up is dropped once its backlog passes 32 MiB.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex } from '../../src/util/bytes.ts';
import type { KaspaRpcClient } from '../../src/kaspa/rpc/client.ts';
import { SOMPI_PER_KAS } from '../../src/kaspa/types.ts';
import { startDevnet, type DevnetHandle } from '../../src/devnet/index.ts';
import { BOB, connect, within } from './helpers.ts';
import { hostileLoad, slowReader } from './hostile.ts';

/** Heap the process may grow by under the whole load (the node and the test share it). */
const HEAP_BOUND_BYTES = 768 * 1024 * 1024;

describe('devnet under hostile clients', () => {
  let devnet: DevnetHandle;
  let client: KaspaRpcClient;
  const outpoints = async (): Promise<string[]> =>
    (await client.getUtxosByAddresses([BOB.address]))
      .map((u) => `${bytesToHex(u.outpoint.transactionId)}:${u.outpoint.index}`)
      .sort();
  const connections = async (): Promise<number> =>
    ((await (await fetch(`${devnet.controlUrl!}/status`)).json()) as { connections: number }).connections;

  before(async () => {
    devnet = await startDevnet({ port: 0, blocksPerSecond: 0, coinbaseMaturity: 0n });
    // A chain with transactions to page through, and coins for the repeated address.
    for (let i = 0; i < 60; i++) {
      devnet.fund(BOB.address, SOMPI_PER_KAS + BigInt(i));
      devnet.mine();
    }
    client = await connect(devnet.url);
  });
  after(async () => {
    client.close();
    await devnet.stop();
  });

  it('drops a client that stops reading its replies once its backlog passes the bound', async () => {
    const replies = await slowReader(devnet.url, devnet.chain.genesis.hashHex, 400, connections);
    assert.notEqual(replies, undefined, 'the node kept a connection whose backlog grew without bound');
    assert.ok(replies! < 400, `the slow reader got all ${replies} replies`);
    await within(client.ping(), 10_000, 'a ping after the slow reader');
  });

  it('keeps a well-behaved client correctly served through 20,000 hostile frames', async () => {
    const expected = await outpoints();
    assert.equal(expected.length, 60);
    const heapBefore = process.memoryUsage().heapUsed;
    let answered = 0;
    let done = false;
    const miner = setInterval(() => devnet.mine(), 500);
    const wellBehaved = (async () => {
      while (!done) {
        assert.deepEqual(await within(outpoints(), 30_000, 'getUtxosByAddresses under load'), expected);
        const dag = await within(client.getBlockDagInfo(), 30_000, 'getBlockDagInfo under load');
        const sink = devnet.chain.block(bytesToHex(dag.sink));
        assert.ok(sink !== undefined && devnet.chain.chainIndex(sink) >= 0, 'the sink is a chain block');
        const block = await within(client.getBlock(dag.sink), 30_000, 'getBlock under load');
        assert.equal(bytesToHex(block.header.hash), bytesToHex(dag.sink));
        answered++;
      }
    })();
    let heapPeak = heapBefore;
    const sampler = setInterval(() => {
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    }, 50);
    try {
      const result = await within(
        hostileLoad({
          url: devnet.url,
          frames: 20_000,
          sockets: 4,
          address: BOB.address,
          addressCoins: expected.length,
          genesisHash: devnet.chain.genesis.hashHex,
        }),
        540_000,
        'the hostile load',
      );
      assert.ok(result.sent >= 20_000);
      assert.equal(result.dropped, result.connections, 'every burst ended with its connection dropped');
      assert.ok(result.repeatedReplies > 0);
      assert.equal(result.inflatedReplies, 0, 'a repeated address names each coin once');
    } finally {
      done = true;
      clearInterval(miner);
      clearInterval(sampler);
      await within(wellBehaved, 30_000, 'the well-behaved client to finish');
    }
    assert.ok(answered > 0, 'the well-behaved client was answered during the load');
    assert.ok(
      heapPeak - heapBefore < HEAP_BOUND_BYTES,
      `heap grew by ${Math.round((heapPeak - heapBefore) / 2 ** 20)} MiB`,
    );
    // The process is up and serves new clients.
    const fresh = await connect(devnet.url);
    try {
      assert.deepEqual(
        (await within(fresh.getUtxosByAddresses([BOB.address]), 10_000, 'a fresh client')).length,
        expected.length,
      );
    } finally {
      fresh.close();
    }
  });
});
