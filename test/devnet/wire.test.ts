/**
 * The wRPC JSON envelope and framing of FACTS §6.2, seen from a raw WebSocket: replies under
 * `params`, errors with code 0, connection dropped on frames kaspad cannot parse, bad params
 * answered "request deserialization error", strict in-order handling, the notification wrapper
 * and getVirtualChainFromBlockV2 verbosity levels (FACTS §6.5 table).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { parseJson, stringifyJson } from '../../src/kaspa/rpc/json.ts';
import { SOMPI_PER_KAS } from '../../src/kaspa/types.ts';
import { headerFromRpc } from '../../src/devnet/codec.ts';
import { hashHeader } from '../../src/devnet/header.ts';
import { bytesToHex } from '../../src/util/bytes.ts';
import { startDevnet, type DevnetHandle } from '../../src/devnet/index.ts';
import { BOB } from './helpers.ts';

type Frame = Record<string, unknown>;

class RawClient {
  readonly frames: Frame[] = [];
  #waiters: (() => void)[] = [];
  closed: Promise<void>;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => {
      this.frames.push(parseJson(d.toString('utf8')) as Frame);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.closed = new Promise((r) => ws.once('close', () => r()));
  }
  static async open(url: string): Promise<RawClient> {
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new RawClient(ws);
  }
  send(text: string): void {
    this.ws.send(text);
  }
  async next(predicate: (f: Frame) => boolean): Promise<Frame> {
    for (;;) {
      const i = this.frames.findIndex(predicate);
      if (i >= 0) return this.frames.splice(i, 1)[0]!;
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }
  async call(id: number, method: string, params: unknown): Promise<Frame> {
    this.send(stringifyJson({ id, method, params }));
    return this.next((f) => f['id'] === id);
  }
  close(): void {
    this.ws.close();
  }
}

describe('devnet wRPC JSON wire', () => {
  let devnet: DevnetHandle;
  before(async () => {
    devnet = await startDevnet({ port: 0, controlPort: false, blocksPerSecond: 0, coinbaseMaturity: 0n });
  });
  after(() => devnet.stop());

  it('answers under params, and errors with code 0 and the node text', async () => {
    const c = await RawClient.open(devnet.url);
    assert.deepEqual(await c.call(1, 'ping', {}), { id: 1, method: 'ping', params: {} });
    const info = await c.call(2, 'getServerInfo', {});
    // Sorted, as kaspad's serde_json maps write them.
    assert.deepEqual(Object.keys(info['params'] as Frame), [
      'hasUtxoIndex',
      'isSynced',
      'networkId',
      'rpcApiRevision',
      'rpcApiVersion',
      'serverVersion',
      'virtualDaaScore',
    ]);
    const missing = await c.call(3, 'getMempoolEntry', {
      transactionId: '00'.repeat(32),
      includeOrphanPool: false,
      filterTransactionPool: false,
    });
    assert.deepEqual(missing, {
      id: 3,
      method: 'getMempoolEntry',
      error: { code: 0, message: `Transaction ${'00'.repeat(32)} not found`, data: null },
    });
    const inconsistent = await c.call(4, 'getMempoolEntries', {
      includeOrphanPool: false,
      filterTransactionPool: true,
    });
    assert.equal(
      (inconsistent['error'] as Frame)['message'],
      'transaction query must either not filter transactions or include orphans',
    );
    c.close();
  });

  it('answers bad params with "request deserialization error" and keeps the connection', async () => {
    const c = await RawClient.open(devnet.url);
    for (const [id, params] of [
      [1, { addresses: 'kaspasim:nope' }],
      [2, { addresses: ['kaspasim:qqqq'] }],
      [3, {}],
    ] as const) {
      const r = await c.call(id, 'getUtxosByAddresses', params);
      assert.equal((r['error'] as Frame)['message'], 'request deserialization error');
    }
    assert.equal(
      (await c.call(4, 'getBlock', { hash: 'zz', includeTransactions: true }))['error'] !== undefined,
      true,
    );
    assert.deepEqual((await c.call(5, 'ping', {}))['params'], {});
    c.close();
  });

  for (const [what, frame] of [
    ['bad JSON', '{"id":1,"method":"ping","params":{}'],
    ['an unknown method', '{"id":1,"method":"getEverything","params":{}}'],
    ['a non-integer id', '{"id":"one","method":"ping","params":{}}'],
    // kaspad's wRPC framework reads the envelope with serde into `{ id: Option<u64>, method,
    // params: Value }`: anything serde refuses there is a malformed message, and the
    // connection is closed without a reply.
    ['an id of 2^64', '{"id":18446744073709551616,"method":"ping","params":{}}'],
    ['an id written 1.0', '{"id":1.0,"method":"ping","params":{}}'],
    ['an id written 1e3', '{"id":1e3,"method":"ping","params":{}}'],
    ['a negative id', '{"id":-1,"method":"ping","params":{}}'],
    ['duplicate id keys', '{"id":1,"id":2,"method":"ping","params":{}}'],
    ['duplicate method keys', '{"id":1,"method":"ping","method":"getInfo","params":{}}'],
    ['missing params', '{"id":1,"method":"ping"}'],
    ['a top-level array', '[{"id":1,"method":"ping","params":{}}]'],
    ['a binary frame', null],
  ] as const) {
    it(`drops the connection on ${what}`, { timeout: 10_000 }, async () => {
      const c = await RawClient.open(devnet.url);
      if (frame === null) c.ws.send(Buffer.from([1, 2, 3]));
      else c.send(frame);
      await c.closed;
    });
  }

  it('accepts the largest u64 id and an id-less request with unknown extra keys, as serde does', async () => {
    const c = await RawClient.open(devnet.url);
    c.send('{"id":18446744073709551615,"method":"ping","params":{}}');
    const r = await c.next(() => true);
    assert.equal(r['id'], 18446744073709551615n);
    c.send('{"method":"ping","params":{},"extra":[1,{"id":1}]}');
    assert.deepEqual((await c.call(7, 'ping', {}))['params'], {});
    assert.equal(c.frames.length, 0, 'the id-less request got no reply');
    c.close();
  });

  it('answers each coin once however often its address is repeated', { timeout: 20_000 }, async () => {
    devnet.fund(BOB.address, SOMPI_PER_KAS);
    devnet.mine();
    const c = await RawClient.open(devnet.url);
    const once = await c.call(1, 'getUtxosByAddresses', { addresses: [BOB.address] });
    const repeated = await c.call(2, 'getUtxosByAddresses', { addresses: Array(10_000).fill(BOB.address) });
    const entries = (f: Frame): unknown[] => (f['params'] as { entries: unknown[] }).entries;
    assert.ok(entries(once).length > 0);
    assert.deepEqual(entries(repeated), entries(once));
    c.close();
  });

  it('handles the requests of one connection strictly in order; id-less frames get no reply', async () => {
    const c = await RawClient.open(devnet.url);
    c.send(stringifyJson({ method: 'ping', params: {} }));
    const methods = ['getInfo', 'getBlockDagInfo', 'getSink', 'ping', 'getFeeEstimate'];
    for (let i = 0; i < 100; i++)
      c.send(stringifyJson({ id: i + 1, method: methods[i % methods.length], params: {} }));
    await c.next((f) => f['id'] === 100);
    assert.deepEqual(
      c.frames.map((f) => f['id']),
      Array.from({ length: 99 }, (_, i) => i + 1),
    );
    c.close();
  });

  it('refuses a blanket UtxosChanged subscription (safe RPC mode) and wraps notifications by variant', async () => {
    const c = await RawClient.open(devnet.url);
    const blanket = await c.call(1, 'subscribe', { UtxosChanged: { addresses: [] } });
    assert.equal(
      (blanket['error'] as Frame)['message'],
      'Method unavailable in safe mode. Run the node with --unsaferpc argument.',
    );
    const sub = await c.call(2, 'subscribe', { UtxosChanged: { addresses: [BOB.address] } });
    assert.equal(typeof (sub['params'] as Frame)['id'], 'number');
    await c.call(3, 'subscribe', { BlockAdded: {} });
    await c.call(4, 'subscribe', { VirtualDaaScoreChanged: {} });
    devnet.fund(BOB.address, SOMPI_PER_KAS);
    devnet.mine();
    const utxo = await c.next((f) => f['method'] === 'utxosChangedNotification');
    assert.deepEqual(Object.keys(utxo), ['method', 'params']);
    const added = ((utxo['params'] as Frame)['UtxosChanged'] as Frame)['added'] as Frame[];
    assert.equal(added[0]!['address'], BOB.address);
    const block = await c.next((f) => f['method'] === 'blockAddedNotification');
    const rpcBlock = ((block['params'] as Frame)['BlockAdded'] as Frame)['block'] as Frame;
    const header = rpcBlock['header'] as Frame;
    // The block hash is the keyed-BLAKE2b header hash (`consensus/core/src/hashing/header.rs`).
    assert.equal(bytesToHex(hashHeader(headerFromRpc(header))), header['hash']);
    const daa = await c.next((f) => f['method'] === 'virtualDaaScoreChangedNotification');
    assert.equal(
      typeof ((daa['params'] as Frame)['VirtualDaaScoreChanged'] as Frame)['virtualDaaScore'],
      'number',
    );
    c.close();
  });

  it('mines through getBlockTemplate / submitBlock, and refuses a stale template', async () => {
    const c = await RawClient.open(devnet.url);
    const t = (await c.call(1, 'getBlockTemplate', { payAddress: BOB.address, extraData: [1, 2] }))[
      'params'
    ] as Frame;
    assert.equal(t['isSynced'], true);
    const ok = await c.call(2, 'submitBlock', { block: t['block'], allowNonDaaBlocks: false });
    assert.deepEqual(ok['params'], { report: { type: 'success' } });
    const stale = await c.call(3, 'submitBlock', { block: t['block'], allowNonDaaBlocks: false });
    assert.deepEqual(stale['params'], { report: { type: 'reject', reason: 'blockInvalid' } });
    c.close();
  });

  it('serves getVirtualChainFromBlockV2 at every verbosity level (nulls for what a level leaves out)', async () => {
    const c = await RawClient.open(devnet.url);
    const start = devnet.chain.sink.hashHex;
    devnet.fund(BOB.address, SOMPI_PER_KAS);
    devnet.mine(2);
    const at = async (level: string | undefined): Promise<{ header: Frame; tx: Frame }> => {
      const params =
        level === undefined ? { startHash: start } : { startHash: start, dataVerbosityLevel: level };
      const r = (await c.call(Math.floor(Math.random() * 1e9), 'getVirtualChainFromBlockV2', params))[
        'params'
      ] as Frame;
      const accepted = (r['chainBlockAcceptedTransactions'] as Frame[])[1]!;
      return {
        header: accepted['chainBlockHeader'] as Frame,
        tx: (accepted['acceptedTransactions'] as Frame[])[1]!,
      };
    };
    const none = await at('None');
    assert.equal(typeof none.header['hash'], 'string');
    assert.equal(none.header['timestamp'], null);
    // kaspad 2.1.0 lists every input at every level, its nested verbose objects nulled out.
    assert.deepEqual((none.tx['inputs'] as Frame[])[0], {
      computeBudget: null,
      previousOutpoint: null,
      sequence: null,
      sigOpCount: null,
      signatureScript: null,
      verboseData: {
        utxoEntry: {
          amount: null,
          blockDaaScore: null,
          covenantId: null,
          isCoinbase: null,
          scriptPublicKey: null,
          verboseData: { scriptPublicKeyAddress: null, scriptPublicKeyType: null },
        },
      },
    });
    assert.equal(typeof none.tx['gas'], 'number');
    assert.equal(typeof none.tx['payload'], 'string');
    const low = await at('Low');
    assert.equal(typeof low.header['timestamp'], 'number');
    assert.equal(low.header['parentsByLevel'], null);
    const lowInput = (low.tx['inputs'] as Frame[])[0]!;
    assert.equal(typeof lowInput['signatureScript'], 'string');
    assert.deepEqual(((lowInput['verboseData'] as Frame)['utxoEntry'] as Frame)['verboseData'], {
      scriptPublicKeyAddress: devnet.faucetAddress,
      scriptPublicKeyType: 'PubKey',
    });
    assert.equal(typeof (low.tx['verboseData'] as Frame)['transactionId'], 'string');
    const high = await at('High');
    // Compressed parents: runs of `[cumulativeLevelCount, parents]`.
    const block = devnet.chain.block(high.header['hash'] as string)!;
    assert.deepEqual(high.header['parentsByLevel'], [
      [block.header.parentsByLevel.length, block.header.parentsByLevel[0]!.map((h) => bytesToHex(h))],
    ]);
    assert.equal(high.header['utxoCommitment'], null);
    assert.equal(typeof high.tx['payload'], 'string');
    assert.equal(high.tx['version'], null);
    const utxoEntry = ((high.tx['inputs'] as Frame[])[0]!['verboseData'] as Frame)['utxoEntry'] as Frame;
    assert.equal(utxoEntry['blockDaaScore'], null);
    const full = await at('Full');
    assert.equal(full.tx['version'], 0);
    assert.equal(typeof full.header['pruningPoint'], 'string');
    assert.deepEqual(await at(undefined), full, 'the default level is Full');
    c.close();
  });

  it('returns at most 2,480 chain blocks per virtual-chain call (10 × mergeset size limit)', async () => {
    const c = await RawClient.open(devnet.url);
    const start = devnet.chain.sink.hashHex;
    devnet.mine(2500);
    const r = (
      await c.call(1, 'getVirtualChainFromBlockV2', { startHash: start, dataVerbosityLevel: 'None' })
    )['params'] as Frame;
    assert.equal((r['addedChainBlockHashes'] as unknown[]).length, 2480);
    const v1 = (
      await c.call(2, 'getVirtualChainFromBlock', { startHash: start, includeAcceptedTransactionIds: false })
    )['params'] as Frame;
    assert.equal((v1['addedChainBlockHashes'] as unknown[]).length, 2480);
    c.close();
  });
});
