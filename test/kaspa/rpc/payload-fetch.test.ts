import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KaspaRpcClient } from '../../../src/kaspa/rpc/client.ts';
import { transactionFromRpc, transactionToRpc, mempoolEntryToRpc } from '../../../src/kaspa/rpc/convert.ts';
import { parseJson } from '../../../src/kaspa/rpc/json.ts';
import { PayloadFetcher } from '../../../src/kaspa/payload-fetch.ts';
import { transactionId } from '../../../src/kaspa/txid.ts';
import { bytesToHex, hexToBytes } from '../../../src/util/bytes.ts';
import type { BlockHash, Transaction } from '../../../src/kaspa/types.ts';
import { ZERO_HASH, serverAndClient, until, type FakeWrpcServer } from './fake-server.ts';
import { FACTS_SUBMIT_TX_JSON } from './fixtures.ts';

const base = transactionFromRpc(parseJson(FACTS_SUBMIT_TX_JSON));
function tx(tag: number): Transaction {
  return { ...base, payload: new Uint8Array([0x70, tag, 1, 2, 3]) };
}
const hashHex = (n: number): string => n.toString(16).padStart(64, '0');
const hash = (n: number): BlockHash => hexToBytes(hashHex(n)) as BlockHash;

function rpcTx(t: Transaction, blockHash = ZERO_HASH): Record<string, unknown> {
  return {
    ...transactionToRpc(t),
    verboseData: {
      transactionId: bytesToHex(transactionId(t)),
      hash: ZERO_HASH,
      computeMass: 2236,
      blockHash,
      blockTime: 1_700_000_000_000,
    },
  };
}

function rpcBlock(n: number, daaScore: number, txs: Transaction[]): Record<string, unknown> {
  return {
    header: {
      hash: hashHex(n),
      version: 2,
      parentsByLevel: [[hashHex(Math.max(n - 1, 0))]],
      hashMerkleRoot: ZERO_HASH,
      acceptedIdMerkleRoot: ZERO_HASH,
      utxoCommitment: ZERO_HASH,
      timestamp: 1_700_000_000_000,
      bits: 0x207fffff,
      nonce: 2,
      daaScore,
      blueWork: '0000000000000000000000000000000000000000000001f4',
      blueScore: daaScore,
      pruningPoint: ZERO_HASH,
    },
    transactions: txs.map((t) => rpcTx(t, hashHex(n))),
    verboseData: {
      hash: hashHex(n),
      difficulty: 1,
      selectedParentHash: hashHex(Math.max(n - 1, 0)),
      transactionIds: txs.map((t) => bytesToHex(transactionId(t))),
      isHeaderOnly: false,
      blueScore: daaScore,
      childrenHashes: [],
      mergeSetBluesHashes: [],
      mergeSetRedsHashes: [],
      isChainBlock: true,
    },
  };
}

describe('PayloadFetcher', () => {
  const connected = serverAndClient();

  async function setup(): Promise<{ server: FakeWrpcServer; client: KaspaRpcClient }> {
    const { server, client } = await connected();
    server.on('getMempoolEntry', (p) => ({ error: `Transaction ${String(p['transactionId'])} not found` }));
    return { server, client };
  }

  it('finds a transaction still in the mempool', async () => {
    const { server, client } = await setup();
    const t = tx(1);
    server.on('getMempoolEntry', () => ({
      mempoolEntry: mempoolEntryToRpc({ fee: 1n, transaction: t, isOrphan: false }),
    }));
    const r = await new PayloadFetcher(client).fetch(transactionId(t));
    assert.equal(r.status, 'found');
    assert.ok(r.status === 'found');
    assert.equal(r.source, 'mempool');
    assert.deepEqual(r.payload, t.payload);
    assert.equal(r.acceptingBlockHash, undefined);
  });

  it('serves from the cache fed by BlockAdded and VirtualChainChanged, with the accepting block', async () => {
    const { server, client } = await setup();
    const t = tx(2);
    const fetcher = new PayloadFetcher(client);
    await fetcher.start();
    assert.deepEqual(
      server.calls('subscribe').map((f) => f.params),
      [{ BlockAdded: {} }, { VirtualChainChanged: { include_accepted_transaction_ids: true } }],
    );
    server.notify('BlockAdded', 'blockAddedNotification', { block: rpcBlock(10, 700, [t]) });
    server.notify('BlockAdded', 'blockAddedNotification', { block: rpcBlock(11, 777, []) });
    server.notify('VirtualChainChanged', 'virtualChainChangedNotification', {
      removedChainBlockHashes: [],
      addedChainBlockHashes: [hashHex(11)],
      acceptedTransactionIds: [
        { acceptingBlockHash: hashHex(11), acceptedTransactionIds: [bytesToHex(transactionId(t))] },
      ],
    });
    await client.ping();
    await until(() => bytesToHex(client.position.sink ?? new Uint8Array()) === hashHex(11));
    const r = await fetcher.fetch(transactionId(t));
    assert.ok(r.status === 'found');
    assert.equal(r.source, 'block-cache');
    assert.equal(bytesToHex(r.acceptingBlockHash!), hashHex(11));
    assert.equal(r.acceptingDaaScore, 777n);
    assert.deepEqual(r.transaction, t);
    // A cache hit needs no round trip to the node.
    assert.equal(server.calls('getMempoolEntry').length, 0);
    await fetcher.stop();
    assert.equal(server.calls('unsubscribe').length, 2);
  });

  it('reads a known containing block with getBlock', async () => {
    const { server, client } = await setup();
    const t = tx(3);
    server.on('getBlock', (p) => {
      assert.equal(p['includeTransactions'], true);
      return { block: rpcBlock(20, 900, [tx(9), t]) };
    });
    const r = await new PayloadFetcher(client).fetch(transactionId(t), {
      blockHash: hash(20),
      acceptingDaaScore: 901n,
    });
    assert.ok(r.status === 'found');
    assert.equal(r.source, 'block');
    assert.equal(r.acceptingDaaScore, 901n);
  });

  it('walks getVirtualChainFromBlockV2 pages of 2,480 chain blocks from the cursor', async () => {
    const { server, client } = await setup();
    const t = tx(4);
    const CHAIN = 6000;
    const AT = 3000;
    server.on('getVirtualChainFromBlockV2', (p) => {
      assert.equal(p['dataVerbosityLevel'], 'Full');
      const start = parseInt(p['startHash'] as string, 16);
      const added: number[] = [];
      for (let n = start + 1; n <= Math.min(CHAIN, start + 2480); n++) added.push(n);
      return {
        removedChainBlockHashes: [],
        addedChainBlockHashes: added.map(hashHex),
        chainBlockAcceptedTransactions: added.map((n) => ({
          chainBlockHeader: { hash: hashHex(n), daaScore: 10_000 + n, blueScore: n },
          acceptedTransactions: n === AT ? [rpcTx(tx(8)), rpcTx(t)] : [],
        })),
      };
    });
    server.on('getBlock', () => ({ block: rpcBlock(0, 0, []) })); // the pruning point, at DAA 0
    const fetcher = new PayloadFetcher(client);
    const r = await fetcher.fetch(transactionId(t), { cursor: hash(100) });
    assert.ok(r.status === 'found');
    assert.equal(r.source, 'virtual-chain');
    assert.equal(bytesToHex(r.acceptingBlockHash!), hashHex(AT));
    assert.equal(r.acceptingDaaScore, BigInt(10_000 + AT));
    assert.equal(bytesToHex(r.cursor!), hashHex(AT));
    assert.deepEqual(
      server.calls('getVirtualChainFromBlockV2').map((f) => f.params['startHash']),
      [hashHex(100), hashHex(2580)],
    );

    // The other coin of the same catch-up comes from the pages already read: no round trip.
    server.received.length = 0;
    const sibling = await fetcher.fetch(transactionId(tx(8)), { cursor: hash(100) });
    assert.ok(sibling.status === 'found');
    assert.equal(sibling.source, 'block-cache');
    assert.deepEqual(sibling.transaction, tx(8));
    assert.equal(bytesToHex(sibling.acceptingBlockHash!), hashHex(AT));
    assert.equal(sibling.acceptingDaaScore, BigInt(10_000 + AT));
    assert.deepEqual(server.received, []);

    // Not on the chain: the scan stops past the UTXO's DAA score and hands back the cursor.
    const missing = await fetcher.fetch(transactionId(tx(5)), {
      cursor: hash(100),
      acceptingDaaScore: 10_200n,
    });
    assert.equal(missing.status, 'not-found');
    assert.ok(
      missing.status === 'not-found' && missing.reachedAcceptance,
      'the miss is final: the scan passed it',
    );
    assert.equal(bytesToHex(missing.cursor!), hashHex(201));

    // The node's sink is the chain's tip, and the virtual's DAA score one past the tip's.
    server.dag = { virtualDaaScore: BigInt(10_000 + CHAIN + 1), sink: hashHex(CHAIN) };
    // A coin the node's UTXO set shows at a DAA score past its last chain block: accepted by the
    // virtual, not yet by a chain block (FACTS §6.4). The miss is not final: the caller asks again.
    const ahead = await fetcher.fetch(transactionId(tx(9)), {
      cursor: hash(CHAIN - 10),
      acceptingDaaScore: BigInt(10_000 + CHAIN + 1),
    });
    assert.equal(ahead.status, 'not-found');
    assert.ok(ahead.status === 'not-found' && !ahead.reachedAcceptance, 'the chain has not reached it yet');
    assert.equal(bytesToHex(ahead.cursor!), hashHex(CHAIN));
    // The same coin's transaction is in the sink block itself: read from there, accepted by the virtual.
    server.on('getBlock', (p) =>
      p['hash'] === hashHex(CHAIN)
        ? { block: rpcBlock(CHAIN, 10_000 + CHAIN, [tx(10)]) }
        : { block: rpcBlock(0, 0, []) },
    );
    const inSink = await fetcher.fetch(transactionId(tx(10)), {
      cursor: hash(CHAIN - 10),
      acceptingDaaScore: BigInt(10_000 + CHAIN + 1),
    });
    assert.ok(inSink.status === 'found');
    assert.equal(inSink.source, 'block');
    assert.deepEqual(inSink.transaction, tx(10));
    assert.equal(inSink.acceptingDaaScore, BigInt(10_000 + CHAIN + 1));
    assert.equal(inSink.acceptingBlockHash, undefined, 'no chain block accepts it yet');
    server.on('getBlock', () => ({ block: rpcBlock(0, 0, []) }));

    // At the tip's own DAA score the tip is the accepting block, and it was read: final.
    const atTipBlock = await fetcher.fetch(transactionId(tx(9)), {
      cursor: hash(CHAIN - 10),
      acceptingDaaScore: BigInt(10_000 + CHAIN),
    });
    assert.ok(atTipBlock.status === 'not-found' && atTipBlock.reachedAcceptance);
    // The chain moved on while the scan read it (the sink is another block now): not final.
    server.dag = { virtualDaaScore: BigInt(10_000 + CHAIN + 2), sink: hashHex(CHAIN + 1) };
    const moved = await fetcher.fetch(transactionId(tx(9)), {
      cursor: hash(CHAIN - 10),
      acceptingDaaScore: BigInt(10_000 + CHAIN),
    });
    assert.ok(moved.status === 'not-found' && !moved.reachedAcceptance);

    // Reaching the tip without a match: every page is read once, the cursor ends at the tip.
    server.received.length = 0;
    const atTip = await fetcher.fetch(transactionId(tx(6)), { cursor: hash(CHAIN - 10) });
    assert.equal(atTip.status, 'not-found');
    assert.equal(bytesToHex(atTip.cursor!), hashHex(CHAIN));
  });

  it('reports pruned when the cursor or the acceptance lies below the pruning point', async () => {
    const { server, client } = await setup();
    server.on('getVirtualChainFromBlockV2', () => ({ error: 'cannot find header 00..' }));
    server.on('getBlock', (p) => {
      assert.equal(p['hash'], ZERO_HASH); // the fake's pruning point
      return { block: { ...rpcBlock(0, 1000, []), transactions: [] } };
    });
    const fetcher = new PayloadFetcher(client);
    const gone = await fetcher.fetch(transactionId(tx(7)), { cursor: hash(1) });
    assert.equal(gone.status, 'pruned');
    assert.equal(gone.cursor, undefined);
    assert.equal((await fetcher.fetch(transactionId(tx(7)), { acceptingDaaScore: 999n })).status, 'pruned');
    assert.equal(
      (await fetcher.fetch(transactionId(tx(7)), { acceptingDaaScore: 1000n })).status,
      'not-found',
    );
    assert.equal((await fetcher.fetch(transactionId(tx(7)))).status, 'not-found');
  });

  it('ignores a transaction whose content does not hash to the requested id', async () => {
    const { server, client } = await setup();
    const real = tx(1);
    const forged = { ...real, payload: new Uint8Array([0xff]) };
    server.on('getMempoolEntry', () => ({
      mempoolEntry: mempoolEntryToRpc({ fee: 1n, transaction: forged, isOrphan: false }),
    }));
    const r = await new PayloadFetcher(client).fetch(transactionId(real));
    assert.equal(r.status, 'not-found');
  });
});
