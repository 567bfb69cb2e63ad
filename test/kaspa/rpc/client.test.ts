import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_MAX_FRAME_BYTES,
  KaspaRpcClient,
  type KaspaRpcClientEvents,
  type KaspaRpcClientOptions,
} from '../../../src/kaspa/rpc/client.ts';
import { RpcError } from '../../../src/kaspa/rpc/errors.ts';
import type { WebSocketLike } from '../../../src/kaspa/rpc/socket.ts';
import { transactionFromRpc } from '../../../src/kaspa/rpc/convert.ts';
import { parseJson } from '../../../src/kaspa/rpc/json.ts';
import { bytesToHex, hexToBytes } from '../../../src/util/bytes.ts';
import type { BlockHash, TxId } from '../../../src/kaspa/types.ts';
import type { UtxosChanged } from '../../../src/kaspa/rpc/responses.ts';
import { CLOSE, FakeWrpcServer, NO_REPLY, ZERO_HASH, until } from './fake-server.ts';
import { FACTS_SUBMIT_TX_JSON, FACTS_UTXOS_CHANGED_JSON, SERVER_INFO_U64_MAX } from './fixtures.ts';

const ADDR = 'kaspa:qrqjaalxdcvuhjqhf8nuzkhxvdj7xv7tp3zlea689p8vh8hczvdt7avlxenuw';
const ADDR2 = 'kaspa:qqzrk3a4acjla3zc9ngr37u4grtkr0k0mqf6qhmd9lteks00av6asl6rqhjnm';
const TXID = '526057f14727e0d5464127ca853a23a6b013a74d01f064339fafcf4d3666588c';

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => {
  unhandled.push(e);
};

function isRpcError(code: RpcError['code']) {
  return (e: unknown): boolean => e instanceof RpcError && e.code === code;
}

function nextEvent<K extends keyof KaspaRpcClientEvents>(
  c: KaspaRpcClient,
  event: K,
): Promise<KaspaRpcClientEvents[K]> {
  return new Promise((resolve) => {
    const off = c.on(event, (v) => {
      off();
      resolve(v);
    });
  });
}

describe('KaspaRpcClient', () => {
  let server: FakeWrpcServer;
  const clients: KaspaRpcClient[] = [];
  const servers: FakeWrpcServer[] = [];

  function client(opts: Partial<KaspaRpcClientOptions> = {}): KaspaRpcClient {
    const c = new KaspaRpcClient({
      urls: opts.urls ?? server.url,
      heartbeatMs: 0,
      reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
      ...opts,
    });
    clients.push(c);
    return c;
  }

  before(() => process.on('unhandledRejection', onUnhandled));
  after(() => {
    process.off('unhandledRejection', onUnhandled);
    assert.deepEqual(unhandled, []);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of servers.splice(0)) await s.close();
  });

  async function fresh(): Promise<FakeWrpcServer> {
    server = await FakeWrpcServer.start();
    servers.push(server);
    return server;
  }

  it('speaks the FACTS §6.2 envelope: small incrementing ids, params {} for empty requests, results under params', async () => {
    await fresh();
    server.on('getServerInfo', () => SERVER_INFO_U64_MAX);
    const c = client();
    await c.connect();
    await c.ping();
    const info = await c.getServerInfo();
    assert.equal(info.virtualDaaScore, 18446744073709551615n);
    assert.equal(info.networkId, 'simnet');
    const ids = server.received.map((f) => f.id);
    assert.deepEqual(
      ids,
      ids.map((_, i) => i + 1),
    );
    assert.deepEqual(server.calls('ping')[0]!.params, {});
    assert.equal(c.position.virtualDaaScore, 18446744073709551615n);
  });

  it('submits a transaction and returns the node id; refusals are REJECTED_TRANSACTION with id and reason', async () => {
    await fresh();
    const tx = transactionFromRpc(parseJson(FACTS_SUBMIT_TX_JSON));
    let n = 0;
    server.on('submitTransaction', (p) => {
      assert.deepEqual(p['allowOrphan'], false);
      assert.deepEqual(transactionFromRpc(p['transaction']), tx);
      return n++ === 0
        ? { transactionId: TXID }
        : { error: `Rejected transaction ${TXID}: transaction input #0 is already spent` };
    });
    const c = client();
    await c.connect();
    assert.equal(bytesToHex(await c.submitTransaction(tx)), TXID);
    await assert.rejects(c.submitTransaction(tx), (e: unknown) => {
      assert.ok(e instanceof RpcError && e.code === 'REJECTED_TRANSACTION');
      assert.equal(bytesToHex(e.rejectedTxId!), TXID);
      assert.equal(e.rejectReason, 'transaction input #0 is already spent');
      return true;
    });
  });

  it('surfaces node errors as SERVER_ERROR with the node message, and bad results as MALFORMED_RESPONSE', async () => {
    await fresh();
    server.on('getUtxosByAddresses', () => ({
      error: 'Method unavailable. Run the node with the --utxoindex argument.',
    }));
    server.on('getFeeEstimate', () => ({ estimate: { priorityBucket: { feerate: 'fast' } } }));
    const c = client();
    await c.connect();
    await assert.rejects(c.getUtxosByAddresses([ADDR]), (e: unknown) => {
      assert.ok(e instanceof RpcError && e.code === 'SERVER_ERROR');
      assert.equal(e.serverMessage, 'Method unavailable. Run the node with the --utxoindex argument.');
      assert.equal(e.method, 'getUtxosByAddresses');
      return true;
    });
    await assert.rejects(c.getFeeEstimate(), isRpcError('MALFORMED_RESPONSE'));
    await assert.rejects(c.getInfo(), isRpcError('SERVER_ERROR')); // not scripted: "RPC method not found"
  });

  it('decodes typed results of the wrappers', async () => {
    await fresh();
    const frame = parseJson(FACTS_UTXOS_CHANGED_JSON) as { params: { UtxosChanged: { added: unknown[] } } };
    const tx = parseJson(FACTS_SUBMIT_TX_JSON);
    server
      .on('getUtxosByAddresses', () => ({ entries: frame.params.UtxosChanged.added }))
      .on('getBalanceByAddress', () => ({ balance: 2900000000000000000n }))
      .on('getBalancesByAddresses', () => ({
        entries: [
          { address: ADDR, balance: 5 },
          { address: ADDR2, balance: null },
        ],
      }))
      .on('getSink', () => ({ sink: 'bb'.repeat(32) }))
      .on('getMempoolEntry', () => ({ mempoolEntry: { fee: 223600, transaction: tx, is_orphan: false } }))
      .on('getMempoolEntries', () => ({ mempoolEntries: [{ fee: 1, transaction: tx, is_orphan: true }] }))
      .on('getMempoolEntriesByAddresses', () => ({
        entries: [{ address: ADDR, sending: [], receiving: [{ fee: 1, transaction: tx, is_orphan: false }] }],
      }))
      .on('getFeeEstimate', () => ({
        estimate: {
          priorityBucket: { feerate: 100.5, estimatedSeconds: 1 },
          normalBuckets: [{ feerate: 100, estimatedSeconds: 10 }],
          lowBuckets: [],
        },
      }))
      .on('getUtxoReturnAddress', (p) => {
        assert.equal(p['acceptingBlockDaaScore'], 123456);
        return { returnAddress: ADDR2 };
      })
      .on('submitBlock', (p) => {
        assert.equal(p['allowNonDaaBlocks'], false);
        return { report: { type: 'reject', reason: 'isInIBD' } };
      })
      .on('getBlockTemplate', (p) => {
        assert.deepEqual(p['extraData'], [1, 2]);
        return { block: { header: { version: 2, nonce: 0 }, transactions: [tx] }, isSynced: false };
      });
    const c = client();
    await c.connect();
    const utxos = await c.getUtxosByAddresses([ADDR]);
    assert.equal(utxos[0]!.entry.amount, 20_000_000n);
    assert.equal(await c.getBalanceByAddress(ADDR), 2_900_000_000_000_000_000n);
    assert.deepEqual(await c.getBalancesByAddresses([ADDR, ADDR2]), [
      { address: ADDR, balance: 5n },
      { address: ADDR2, balance: undefined },
    ]);
    assert.equal(bytesToHex(await c.getSink()), 'bb'.repeat(32));
    const entry = await c.getMempoolEntry(hexToBytes(TXID) as TxId);
    assert.equal(entry.fee, 223_600n);
    assert.equal(server.calls('getMempoolEntry')[0]!.params['transactionId'], TXID);
    assert.equal((await c.getMempoolEntries())[0]!.isOrphan, true);
    assert.equal((await c.getMempoolEntriesByAddresses([ADDR]))[0]!.receiving.length, 1);
    assert.equal((await c.getFeeEstimate()).priorityBucket.feerate, 100.5);
    assert.equal(await c.getUtxoReturnAddress(hexToBytes(TXID) as TxId, 123_456n), ADDR2);
    const template = await c.getBlockTemplate(ADDR, { extraData: new Uint8Array([1, 2]) });
    assert.equal(template.isSynced, false);
    assert.deepEqual(await c.submitBlock(template.block), { type: 'reject', reason: 'isInIBD' });
    // The template is echoed back untouched.
    assert.deepEqual(server.calls('submitBlock')[0]!.params['block'], template.block);
  });

  it('times out a call the server never answers, and keeps working', async () => {
    await fresh();
    server.on('getInfo', () => NO_REPLY);
    const c = client();
    await c.connect();
    await assert.rejects(c.getInfo({ timeoutMs: 30 }), isRpcError('TIMEOUT'));
    await c.ping();
  });

  it('aborts a call in flight and before it starts; a late answer is ignored quietly', async () => {
    await fresh();
    let release: () => void = () => undefined;
    server.on('getInfo', () => new Promise((r) => (release = () => r({ error: 'late' }))));
    const c = client();
    const errors: unknown[] = [];
    c.on('error', (e) => errors.push(e));
    await c.connect();
    const ac = new AbortController();
    const p = c.getInfo({ signal: ac.signal });
    await until(() => server.calls('getInfo').length === 1);
    ac.abort();
    await assert.rejects(p, isRpcError('ABORTED'));
    release();
    await c.ping();
    assert.deepEqual(errors, []);
    await assert.rejects(c.ping({ signal: AbortSignal.abort() }), isRpcError('ABORTED'));
  });

  it('fails in-flight calls with CONNECTION_CLOSED when the server hangs up, then recovers', async () => {
    await fresh();
    server.on('getInfo', () => CLOSE);
    const c = client();
    await c.connect();
    await assert.rejects(c.getInfo(), isRpcError('CONNECTION_CLOSED'));
    await c.ping(); // waits for the reconnect
    assert.equal(server.connections.length, 2);
  });

  it('refuses a frame over maxFrameBytes: the call fails with FRAME_TOO_LARGE, the connection is replaced', async () => {
    await fresh();
    server.on('getInfo', () => ({ padding: 'x'.repeat(4096) }));
    const c = client({ maxFrameBytes: 2048 });
    const errors: unknown[] = [];
    c.on('error', (e) => errors.push(e));
    await c.connect();
    await assert.rejects(c.getInfo(), isRpcError('FRAME_TOO_LARGE'));
    await c.ping(); // a fresh connection, and small frames still pass
    assert.equal(server.connections.length, 2);
    assert.ok(errors.some((e) => e instanceof RpcError && e.code === 'FRAME_TOO_LARGE'));
  });

  it('the same on a socket that delivers the oversized frame itself (browsers have no maxPayload)', async () => {
    await fresh();
    server.on('getInfo', () => ({ padding: 'x'.repeat(4096) }));
    // Wraps the platform factory: the client sees the frame and must refuse it unparsed.
    const { WebSocket } = await import('ws');
    const c = client({
      maxFrameBytes: 2048,
      webSocketFactory: (url) => new WebSocket(url) as unknown as WebSocketLike,
    });
    await c.connect();
    await assert.rejects(c.getInfo(), isRpcError('FRAME_TOO_LARGE'));
    await c.ping();
    assert.equal(server.connections.length, 2);
  });

  it('has a default frame limit above kaspad replies and below its 128 MiB cap', () => {
    assert.equal(DEFAULT_MAX_FRAME_BYTES, 64 * 1024 * 1024);
    assert.throws(() => new KaspaRpcClient({ urls: 'ws://127.0.0.1:1', maxFrameBytes: 0 }), RangeError);
  });

  it('refuses calls before connect and after close with NOT_CONNECTED', async () => {
    await fresh();
    const c = client();
    await assert.rejects(c.ping(), isRpcError('NOT_CONNECTED'));
    await c.connect();
    const pending = c.getInfo();
    server.on('getInfo', () => NO_REPLY);
    c.close();
    await assert.rejects(pending, isRpcError('CONNECTION_CLOSED'));
    await assert.rejects(c.ping(), isRpcError('NOT_CONNECTED'));
    await assert.rejects(c.connect(), isRpcError('NOT_CONNECTED'));
  });

  it('survives malformed frames, unknown ids and unknown notifications, reporting them as error events', async () => {
    await fresh();
    const c = client();
    const errors: unknown[] = [];
    c.on('error', (e) => errors.push(e));
    await c.connect();
    server.sendRaw('{not json');
    server.sendRaw('[1,2,3]');
    server.sendRaw('{"id":999,"method":"ping","params":{}}');
    server.sendRaw('{"method":"newBlockTemplateNotification","params":{"NewBlockTemplate":{}}}');
    server.sendRaw('{"method":"x","params":7}');
    await c.ping();
    await until(() => errors.length >= 4);
    assert.ok(errors.every((e) => e instanceof RpcError && e.code === 'MALFORMED_RESPONSE'));
    assert.equal(errors.length, 4);
  });

  it('subscribes before it queries and routes UtxosChanged entries to the subscriber of each address', async () => {
    await fresh();
    const frame = parseJson(FACTS_UTXOS_CHANGED_JSON) as { params: { UtxosChanged: { added: unknown[] } } };
    server.on('getUtxosByAddresses', () => ({ entries: [] }));
    const c = client();
    await c.connect();
    const got1: UtxosChanged[] = [];
    const got2: UtxosChanged[] = [];
    const s1 = await c.subscribeUtxosChanged([ADDR], (n) => got1.push(n));
    await c.getUtxosByAddresses([ADDR]);
    const s2 = await c.subscribeUtxosChanged([ADDR2], (n) => got2.push(n));
    const order = server.received.map((f) => f.method).filter((m) => m !== 'getBlockDagInfo');
    assert.deepEqual(order, ['subscribe', 'getUtxosByAddresses', 'subscribe']);
    assert.deepEqual(server.calls('subscribe')[1]!.params, { UtxosChanged: { addresses: [ADDR2] } });
    server.notify('UtxosChanged', 'utxosChangedNotification', {
      added: frame.params.UtxosChanged.added,
      removed: [],
    });
    await until(() => got1.length === 1);
    assert.equal(got1[0]!.added[0]!.entry.amount, 20_000_000n);
    await s1.unsubscribe();
    assert.deepEqual(server.calls('unsubscribe')[0]!.params, { UtxosChanged: { addresses: [ADDR] } });
    await s2.unsubscribe();
    assert.deepEqual(got2, []);
  });

  it('reference-counts scopes: the node is told once per scope', async () => {
    await fresh();
    const c = client();
    await c.connect();
    const a = await c.subscribeVirtualDaaScoreChanged(() => undefined);
    const b = await c.subscribeVirtualDaaScoreChanged(() => undefined);
    const v1 = await c.subscribeVirtualChainChanged(false, () => undefined);
    const v2 = await c.subscribeVirtualChainChanged(true, () => undefined);
    assert.deepEqual(
      server.calls('subscribe').map((f) => f.params),
      [
        { VirtualDaaScoreChanged: {} },
        { VirtualChainChanged: { include_accepted_transaction_ids: false } },
        { VirtualChainChanged: { include_accepted_transaction_ids: true } },
      ],
    );
    await a.unsubscribe();
    assert.equal(server.calls('unsubscribe').length, 0);
    await b.unsubscribe();
    await v1.unsubscribe();
    await v2.unsubscribe();
    assert.deepEqual(
      server.calls('unsubscribe').map((f) => f.params),
      [{ VirtualDaaScoreChanged: {} }, { VirtualChainChanged: { include_accepted_transaction_ids: true } }],
    );
  });

  it('reconnects, resubscribes every scope before queued calls, and reports the gap', async () => {
    await fresh();
    const c = client();
    await c.connect();
    const scores: bigint[] = [];
    await c.subscribeVirtualDaaScoreChanged((s) => scores.push(s));
    await c.subscribeUtxosChanged([ADDR, ADDR2], () => undefined);
    await c.subscribeBlockAdded(() => undefined);
    server.notify('VirtualDaaScoreChanged', 'virtualDaaScoreChangedNotification', { virtualDaaScore: 1500 });
    await until(() => scores.length === 1);
    server.dag = { virtualDaaScore: 2000n, sink: 'cc'.repeat(32) };
    const gapP = nextEvent(c, 'reconnect');
    const closed = nextEvent(c, 'close');
    server.dropAll();
    await closed;
    const queued = c.ping();
    const gap = await gapP;
    await queued;
    assert.equal(gap.before.virtualDaaScore, 1500n);
    assert.equal(bytesToHex(gap.before.sink!), 'aa'.repeat(32));
    assert.equal(gap.after.virtualDaaScore, 2000n);
    assert.equal(bytesToHex(gap.after.sink!), 'cc'.repeat(32));
    assert.ok(gap.reconnectedAt >= gap.disconnectedAt);
    const second = server.received.filter((f) => f.conn === 1).map((f) => f.method);
    assert.deepEqual(second, ['subscribe', 'subscribe', 'subscribe', 'getBlockDagInfo', 'ping']);
    const conn = server.connections[1]!;
    assert.deepEqual([...conn.utxoAddresses].sort(), [ADDR, ADDR2].sort());
    assert.ok(conn.subscriptions.has('BlockAdded') && conn.subscriptions.has('VirtualDaaScoreChanged'));
    server.notify('VirtualDaaScoreChanged', 'virtualDaaScoreChangedNotification', { virtualDaaScore: 2001 });
    await until(() => scores.length === 2);
    assert.equal(scores[1], 2001n);
  });

  it('fails over to the next URL when a node is unreachable or goes away', async () => {
    const dead = await FakeWrpcServer.start();
    const deadUrl = dead.url;
    await dead.close();
    const first = await fresh();
    const second = await FakeWrpcServer.start();
    servers.push(second);
    const c = client({ urls: [deadUrl, first.url, second.url] });
    await c.connect();
    assert.equal(c.url, first.url);
    const gapP = nextEvent(c, 'reconnect');
    await first.close();
    servers.splice(servers.indexOf(first), 1);
    const gap = await gapP;
    assert.equal(gap.url, second.url);
    await c.ping();
    assert.equal(second.calls('ping').length, 1);
  });

  it('without reconnects, gives up with CONNECT_FAILED after one round of URLs', async () => {
    const dead = await FakeWrpcServer.start();
    const url = dead.url;
    await dead.close();
    server = dead;
    const c = client({ urls: [url], reconnect: false });
    await assert.rejects(c.connect(), isRpcError('CONNECT_FAILED'));
  });

  it('drops a connection whose node stops answering pings and reconnects', async () => {
    await fresh();
    let silent = true;
    server.on('ping', () => (silent ? NO_REPLY : {}));
    const c = client({ heartbeatMs: 20 });
    await c.connect();
    const gap = nextEvent(c, 'reconnect');
    await until(() => server.connections.length >= 2);
    silent = false;
    await gap;
    await c.ping();
  });

  it('checks arguments at the boundary', async () => {
    await fresh();
    assert.throws(() => new KaspaRpcClient({ urls: [] }), RangeError);
    assert.throws(() => new KaspaRpcClient({ urls: 'http://x' }), TypeError);
    const c = client();
    await c.connect();
    await assert.rejects(c.getUtxosByAddresses(['nocolon']), TypeError);
    await assert.rejects(
      c.subscribeUtxosChanged([], () => undefined),
      RangeError,
    );
    await assert.rejects(c.ping({ timeoutMs: 0 }), RangeError);
    await assert.rejects(c.getBlock(new Uint8Array(3) as BlockHash), RangeError);
    assert.equal(ZERO_HASH.length, 64);
  });
});
