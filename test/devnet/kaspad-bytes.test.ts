/**
 * The devnet's frames byte for byte as kaspad 2.1.0 (`--simnet --utxoindex`, wRPC JSON) writes
 * them: every expected text here was read off a real node's replies (docs/devnet.md). Key
 * order, f64 formatting, null fields and error texts are pinned; values that differ by nature
 * (node id, hashes, times) are replaced before comparing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WebSocket } from 'ws';
import { bytesToHex, utf8ToBytes } from '../../src/util/bytes.ts';
import { SOMPI_PER_KAS } from '../../src/kaspa/types.ts';
import { startDevnet, type DevnetHandle } from '../../src/devnet/index.ts';
import { difficultyForBits } from '../../src/devnet/header.ts';
import { GENESIS_BITS } from '../../src/devnet/params.ts';
import { compressedParents, parentsByLevelFromRpc } from '../../src/kaspa/rpc/responses.ts';
import type { BlockHash } from '../../src/kaspa/types.ts';
import { ALICE, BOB } from './helpers.ts';

const ZERO = '00'.repeat(32);

/** A wRPC connection that keeps every frame as the text it arrived in. */
class TextClient {
  readonly frames: string[] = [];
  #waiters: (() => void)[] = [];
  #nextId = 1;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => {
      this.frames.push(d.toString('utf8'));
      for (const w of this.#waiters.splice(0)) w();
    });
  }
  static async open(url: string): Promise<TextClient> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new TextClient(ws);
  }
  async next(predicate: (text: string) => boolean): Promise<string> {
    for (;;) {
      const i = this.frames.findIndex(predicate);
      if (i >= 0) return this.frames.splice(i, 1)[0]!;
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }
  /** Sends a request; resolves with the reply's text. */
  call(method: string, params: unknown): Promise<string> {
    const id = this.#nextId++;
    this.ws.send(JSON.stringify({ id, method, params }));
    return this.next((t) => t.startsWith(`{"id":${id},`));
  }
  /** The reply's `params` object (JSON.parse keeps the wire's key order for these keys). */
  async params(method: string, params: unknown): Promise<Record<string, unknown>> {
    return (JSON.parse(await this.call(method, params)) as { params: Record<string, unknown> }).params;
  }
  close(): void {
    this.ws.close();
  }
}

/** A reply's text without its leading `"id":n,` (ids depend on the order the cases run in). */
function withoutId(text: string): string {
  assert.match(text, /^\{"id":\d+,/);
  return text.replace(/^\{"id":\d+,/, '{');
}

/** Every object key path in `value` whose keys are not in ascending order. */
function unsortedPaths(value: unknown, path = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => unsortedPaths(v, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o);
  const own = keys.join() === [...keys].sort().join() ? [] : [path];
  return [...own, ...keys.flatMap((k) => unsortedPaths(o[k], `${path}.${k}`))];
}

describe('devnet frames as kaspad 2.1.0 writes them', () => {
  let devnet: DevnetHandle;
  let c: TextClient;
  before(async () => {
    devnet = await startDevnet({
      port: 0,
      controlPort: false,
      blocksPerSecond: 0,
      coinbaseMaturity: 0n,
      prefund: { [ALICE.address]: 100n * SOMPI_PER_KAS },
    });
    c = await TextClient.open(devnet.url);
  });
  after(async () => {
    c.close();
    await devnet.stop();
  });

  it('writes getServerInfo with sorted keys and the 2.1.0 version', async () => {
    const daa = devnet.chain.virtualDaaScore;
    // No block mined yet: the sink is the 2021 genesis, so the node is not synced (as kaspad).
    assert.equal(
      withoutId(await c.call('getServerInfo', {})),
      '{"method":"getServerInfo","params":{"hasUtxoIndex":true,"isSynced":false,"networkId":"simnet",' +
        `"rpcApiRevision":0,"rpcApiVersion":1,"serverVersion":"2.1.0","virtualDaaScore":${daa}}}`,
    );
  });

  it('gives getInfo a UUID node id', async () => {
    const text = await c.call('getInfo', {});
    const uuid = /"p2pId":"([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})"/.exec(text);
    assert.ok(uuid !== null, text);
    assert.equal(
      withoutId(text.replace(uuid[1]!, 'ID')),
      '{"method":"getInfo","params":{"hasMessageId":true,"hasNotifyCommand":true,"isSynced":false,' +
        '"isUtxoIndexed":true,"mempoolSize":0,"p2pId":"ID","serverVersion":"2.1.0"}}',
    );
  });

  it('reports the difficulty as max target / target, written as an f64', async () => {
    // Simnet max target 2^255 − 1 over the target of 0x207fffff: 2^23 / (2^23 − 1).
    assert.equal(difficultyForBits(GENESIS_BITS), 1.0000001192093038);
    const text = await c.call('getBlockDagInfo', {});
    assert.match(text, /"difficulty":1\.0000001192093038,"headerCount":/);
    assert.deepEqual(unsortedPaths(JSON.parse(text)), []);
  });

  it('answers getFeeEstimate on an empty mempool with one priority, two normal and one low bucket', async () => {
    // No transaction seen yet: every wait is the initial average mass over the network's
    // capacity, 2036 / (10 × 500,000) s, at the 100 sompi/gram floor.
    const bucket = '{"estimatedSeconds":0.0004072,"feerate":100.0}';
    assert.equal(
      withoutId(await c.call('getFeeEstimate', {})),
      `{"method":"getFeeEstimate","params":{"estimate":{"lowBuckets":[${bucket}],` +
        `"normalBuckets":[${bucket},${bucket}],"priorityBucket":${bucket}}}}`,
    );
  });

  it('keeps the Rust field order in error replies and uses the node texts', async () => {
    assert.equal(
      withoutId(await c.call('getBlock', { hash: ZERO, includeTransactions: true })),
      `{"method":"getBlock","error":{"code":0,"message":"cannot find header ${ZERO}","data":null}}`,
    );
    assert.equal(
      withoutId(await c.call('getUtxoReturnAddress', { txid: ZERO, acceptingBlockDaaScore: 1 })),
      '{"method":"getUtxoReturnAddress","error":{"code":0,"message":"utxo inquirer error: ' +
        `Did not find queried transactions in acceptance data: [${ZERO}]","data":null}}`,
    );
  });

  it('writes getBlock transactions with "covenant":null outputs and null input verbose data', async () => {
    const txid = devnet.fund(BOB.address, 5n * SOMPI_PER_KAS);
    const [hash] = devnet.mine(1);
    const text = await c.call('getBlock', { hash, includeTransactions: true });
    const block = (JSON.parse(text) as { params: { block: Record<string, unknown> } }).params.block;
    assert.deepEqual(unsortedPaths(block), []);
    const txs = block['transactions'] as Record<string, unknown>[];
    const fund = txs.find((t) => (t['verboseData'] as Record<string, unknown>)['transactionId'] === txid)!;
    for (const input of fund['inputs'] as Record<string, unknown>[]) assert.equal(input['verboseData'], null);
    for (const tx of txs) {
      for (const output of tx['outputs'] as Record<string, unknown>[]) {
        assert.ok('covenant' in output);
        assert.equal(output['covenant'], null);
      }
    }
    assert.match(text, /"difficulty":1\.0000001192093038,/);
  });

  it('builds templates like kaspad: "2.1.0/" then the extra data in the coinbase, null verbose data', async () => {
    const params = await c.params('getBlockTemplate', { payAddress: ALICE.address, extraData: [1, 2] });
    assert.deepEqual(unsortedPaths(params), []);
    const [coinbase] = (params['block'] as { transactions: Record<string, unknown>[] }).transactions;
    assert.ok(coinbase !== undefined);
    assert.ok((coinbase['payload'] as string).endsWith(`${bytesToHex(utf8ToBytes('2.1.0/'))}0102`));
    assert.equal(coinbase['verboseData'], null);
    for (const output of coinbase['outputs'] as Record<string, unknown>[]) {
      assert.equal(output['verboseData'], null);
      assert.equal(output['covenant'], null);
    }
    // Blocks mined by the node itself carry the same marker, as if a miner had used the RPC.
    const mined = devnet.chain.sink.transactions![0]!.payload;
    assert.ok(bytesToHex(mined).endsWith(bytesToHex(utf8ToBytes('2.1.0/'))));
  });

  it('writes mempool transactions with verbose data placed in no block, and the experimental estimate', async () => {
    const txid = devnet.fund(BOB.address, 2n * SOMPI_PER_KAS);
    const entries = (
      await c.params('getMempoolEntries', { includeOrphanPool: false, filterTransactionPool: false })
    )['mempoolEntries'] as Record<string, unknown>[];
    assert.deepEqual(unsortedPaths(entries), []);
    const entry = entries.find(
      (e) =>
        ((e['transaction'] as Record<string, unknown>)['verboseData'] as Record<string, unknown>)[
          'transactionId'
        ] === txid,
    )!;
    assert.equal(entry['is_orphan'], false);
    const tx = entry['transaction'] as Record<string, unknown>;
    const verbose = tx['verboseData'] as Record<string, unknown>;
    assert.equal(verbose['blockHash'], ZERO);
    assert.equal(verbose['blockTime'], 0);
    assert.ok((verbose['computeMass'] as number) > 0);
    for (const input of tx['inputs'] as Record<string, unknown>[]) assert.equal(input['verboseData'], null);
    for (const output of tx['outputs'] as Record<string, unknown>[]) {
      assert.equal(output['covenant'], null);
      assert.equal((output['verboseData'] as Record<string, unknown>)['scriptPublicKeyType'], 'PubKey');
    }

    const text = await c.call('getFeeEstimateExperimental', { verbose: true });
    const feerate = devnet.chain.mempool.get(txid)!.feerate;
    const f64 = Number.isInteger(feerate) ? `${feerate}.0` : String(feerate);
    assert.match(
      text,
      new RegExp(
        `"verbose":\\{"mempoolReadyTransactionsCount":1,"mempoolReadyTransactionsTotalMass":\\d+,` +
          `"networkMassPerSecond":5000000,"nextBlockTemplateFeerateMax":${f64},` +
          `"nextBlockTemplateFeerateMedian":${f64},"nextBlockTemplateFeerateMin":${f64}\\}`,
      ),
    );
    devnet.mine(1);
    assert.match(
      await c.call('getFeeEstimateExperimental', { verbose: true }),
      /"nextBlockTemplateFeerateMax":-1\.0,"nextBlockTemplateFeerateMedian":-1\.0,"nextBlockTemplateFeerateMin":-1\.0\}/,
    );
    assert.match(await c.call('getFeeEstimateExperimental', { verbose: false }), /,"verbose":null\}\}$/);
  });

  it('answers getCurrentBlockColor and getConnections profile data like kaspad', async () => {
    const sink = devnet.chain.sink.hashHex;
    assert.equal(
      withoutId(await c.call('getCurrentBlockColor', { hash: sink })),
      `{"method":"getCurrentBlockColor","error":{"code":0,"message":"Block ${sink} doesn't have any merger block.","data":null}}`,
    );
    assert.deepEqual(await c.params('getCurrentBlockColor', { hash: devnet.chain.genesis.hashHex }), {
      blue: true,
    });
    assert.match(
      await c.call('getConnections', { includeProfileData: true }),
      /"params":\{"clients":\d+,"peers":0,"profileData":\{"cpuUsage":\d+\.\d+(e-\d+)?,"memoryUsage":\d+\}\}\}$/,
    );
    assert.deepEqual(await c.params('getConnections', { includeProfileData: false }), {
      clients: 1,
      peers: 0,
      profileData: null,
    });
  });

  it('estimates the hash rate from the blue work and time a window of chain blocks spans', async () => {
    devnet.mine(3);
    const blocks = devnet.chain.chain.slice(-3);
    const [first, last] = [blocks[0]!.header, blocks[2]!.header];
    const ms = last.timestamp - first.timestamp;
    const expected = ms > 0n ? ((last.blueWork - first.blueWork) * 1000n) / ms : 0n;
    assert.deepEqual(await c.params('estimateNetworkHashesPerSecond', { windowSize: 3 }), {
      networkHashesPerSecond: Number(expected),
    });
  });

  it('sorts the keys of notifications and writes their f64 fields as kaspad does', async () => {
    const n = await TextClient.open(devnet.url);
    for (const scope of [
      { BlockAdded: {} },
      { VirtualDaaScoreChanged: {} },
      { UtxosChanged: { addresses: [BOB.address] } },
    ]) {
      await n.call('subscribe', scope);
    }
    devnet.fund(BOB.address, SOMPI_PER_KAS);
    devnet.mine(1);
    const added = await n.next((t) => t.startsWith('{"method":"blockAddedNotification"'));
    const daa = await n.next((t) => t.startsWith('{"method":"virtualDaaScoreChangedNotification"'));
    const utxos = await n.next((t) => t.startsWith('{"method":"utxosChangedNotification"'));
    assert.match(added, /"difficulty":1\.0000001192093038,/);
    assert.match(added, /"isChainBlock":false,/);
    assert.equal(
      daa,
      '{"method":"virtualDaaScoreChangedNotification","params":{"VirtualDaaScoreChanged":' +
        `{"virtualDaaScore":${devnet.chain.virtualDaaScore}}}}`,
    );
    for (const frame of [added, utxos]) assert.deepEqual(unsortedPaths(JSON.parse(frame)), []);
    assert.match(
      utxos,
      /"utxoEntry":\{"amount":\d+,"blockDaaScore":\d+,"covenantId":null,"isCoinbase":false,/,
    );
    n.close();
  });
});

describe('compressed parents of getVirtualChainFromBlockV2 headers', () => {
  const h = (b: number) => new Uint8Array(32).fill(b) as BlockHash;

  it('runs equal levels as [cumulativeLevelCount, parents], as kaspad 2.1.0 sends them', () => {
    // The shape of a kaspad simnet header: one own level, two shared, five shared.
    const levels = [[h(1)], [h(2)], [h(2)], [h(3)], [h(3)], [h(3)], [h(3)], [h(3)]];
    assert.deepEqual(compressedParents(levels), [
      [1, [bytesToHex(h(1))]],
      [3, [bytesToHex(h(2))]],
      [8, [bytesToHex(h(3))]],
    ]);
  });

  it('expands back to the same levels through the client parser', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }), { maxLength: 12 }),
        (shape) => {
          const levels = shape.map((level) => level.map(h));
          assert.deepEqual(parentsByLevelFromRpc(compressedParents(levels), 'p'), levels);
        },
      ),
    );
  });
});
