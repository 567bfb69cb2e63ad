import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startDevnet, type DevnetHandle } from '../../src/devnet/index.ts';
import { KaspaRpcClient } from '../../src/kaspa/rpc/client.ts';
import { utxosByAddressesEntryToRpc, type AddressedUtxo } from '../../src/kaspa/rpc/convert.ts';
import { NodePool, NodePoolError, type NodePoolOptions } from '../../src/kaspa/rpc/pool.ts';
import type { UtxosChanged } from '../../src/kaspa/rpc/responses.ts';
import { UtxoWatcher } from '../../src/kaspa/utxo-watcher.ts';
import type { TxId } from '../../src/kaspa/types.ts';
import { RecordingProxy } from '../privacy/node-view.ts';
import { spend } from '../devnet/helpers.ts';
import { NETWORKS, defaultNodeUrls } from '../../src/web/engine/network.ts';
import { TamperProxy, freshKey, recordingFactory, until } from './node-pool-helpers.ts';

const FAST: NonNullable<NodePoolOptions['client']> = {
  reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
  heartbeatMs: 0,
  requestTimeoutMs: 10_000,
};

describe('NodePool', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function devnet(nodes: number): Promise<DevnetHandle> {
    const d = await startDevnet({
      port: 0,
      controlPort: false,
      blocksPerSecond: 0,
      coinbaseMaturity: 0n,
      rpcPorts: Array.from({ length: nodes - 1 }, () => 0),
    });
    cleanup.push(() => d.stop());
    d.mine(1);
    return d;
  }

  function pool(options: NodePoolOptions): NodePool {
    const p = new NodePool({ network: 'simnet', client: FAST, ...options });
    cleanup.push(() => p.close());
    return p;
  }

  async function proxy<T extends RecordingProxy | TamperProxy>(p: Promise<T>): Promise<T> {
    const started = await p;
    cleanup.push(() => started.stop());
    return started;
  }

  const addresses = (n: number): string[] => Array.from({ length: n }, () => freshKey().address);

  it('spreads watched addresses over the nodes by a keyed assignment that survives a restart', async () => {
    const d = await devnet(3);
    const proxies = await Promise.all(d.urls.map((u) => proxy(RecordingProxy.start(u))));
    const urls = proxies.map((p) => p.url);
    const key = randomBytes(32);
    const watched = addresses(100);
    const first = pool({ urls, assignmentKey: key });
    await first.connect();
    await new UtxoWatcher(first).addAddresses(watched);

    const seen = proxies.map((p) => new Set(p.connections.flatMap((c) => [...c.addresses])));
    // Every address asked of exactly one node, and no node asked about all of them.
    for (const a of watched) assert.equal(seen.filter((s) => s.has(a)).length, 1, a);
    for (const s of seen) {
      assert.ok(s.size > 0 && s.size < watched.length, `one node saw ${s.size} of 100`);
    }
    for (const [i, s] of seen.entries()) for (const a of s) assert.equal(first.nodeOf(a), urls[i]);

    // Same key, same nodes: the same node per address after a restart; another key: another split.
    const before = watched.map((a) => first.nodeOf(a));
    first.close();
    const again = pool({ urls, assignmentKey: key });
    await again.connect();
    assert.deepEqual(
      watched.map((a) => again.nodeOf(a)),
      before,
    );
    const other = pool({ urls, assignmentKey: randomBytes(32) });
    await other.connect();
    assert.notDeepEqual(
      watched.map((a) => other.nodeOf(a)),
      before,
    );
  });

  it('fails over when a node dies mid-subscription: coins paid meanwhile are found, none twice', async () => {
    const d = await devnet(3);
    const p = pool({ urls: d.urls });
    await p.connect();
    const watched = addresses(30);
    const watcher = new UtxoWatcher(p);
    const found: AddressedUtxo[] = [];
    watcher.on('change', (c) => found.push(...c.added));
    await watcher.addAddresses(watched);

    const victim = 1;
    const target = watched.find((a) => p.nodeOf(a) === d.urls[victim])!;
    assert.ok(target !== undefined);
    let reconnects = 0;
    p.on('reconnect', () => reconnects++);
    // The node dies; the coin is paid and mined before the pool has even noticed.
    await d.stopRpc(victim);
    d.fund(target, 5_000_000_000n);
    d.mine(1);
    await until(() => found.some((u) => u.address === target));
    assert.equal(p.nodes[victim]!.state, 'down');
    assert.notEqual(p.nodeOf(target), d.urls[victim]);
    assert.ok(reconnects >= 1);
    assert.ok(p.isConnected);

    // Later coins arrive live on the node that took over; then the node returns and takes its share back.
    d.fund(target, 6_000_000_000n);
    d.mine(1);
    await until(() => found.filter((u) => u.address === target).length === 2);
    await d.restartRpc(victim);
    await until(() => p.nodes[victim]!.state === 'up');
    await until(() => p.nodeOf(target) === d.urls[victim]);
    d.fund(target, 7_000_000_000n);
    d.mine(1);
    await until(() => found.filter((u) => u.address === target).length === 3);
    await watcher.catchUp();
    const keys = found.map(
      (u) => `${Buffer.from(u.outpoint.transactionId).toString('hex')}:${u.outpoint.index}`,
    );
    assert.equal(new Set(keys).size, keys.length, 'a coin reported twice');
    assert.deepEqual(
      watcher
        .utxos()
        .filter((u) => u.address === target)
        .map((u) => u.entry.amount)
        .sort(),
      [5_000_000_000n, 6_000_000_000n, 7_000_000_000n],
    );
  });

  it('moves a query in flight to another node when its node drops', async () => {
    const d = await devnet(2);
    const slow = await proxy(TamperProxy.start(d.urls[0]!));
    const p = pool({ urls: [slow.url, d.urls[1]!] });
    await p.connect();
    const watched = addresses(20);
    const onSlow = watched.filter((a) => p.nodeOf(a) === slow.url);
    assert.ok(onSlow.length > 0);
    d.fund(onSlow[0]!, 1_000_000_000n);
    d.mine(1);
    // The first node swallows the query and hangs up: the addresses are asked of the other node.
    let dropped = false;
    slow.reply = (method, params) => {
      if (method === 'getUtxosByAddresses' && !dropped) {
        dropped = true;
        void slow.stop();
      }
      return params;
    };
    const utxos = await p.getUtxosByAddresses(watched);
    assert.ok(dropped);
    assert.deepEqual(
      utxos.map((u) => u.address),
      [onSlow[0]],
    );
  });

  it('sets aside a node that stops answering, and asks the others from then on', async () => {
    const d = await devnet(2);
    const mute = await proxy(TamperProxy.start(d.urls[0]!));
    const p = pool({ urls: [mute.url, d.urls[1]!], client: { ...FAST, requestTimeoutMs: 1_000 } });
    await p.connect();
    const watched = addresses(20);
    assert.ok(watched.some((a) => p.nodeOf(a) === mute.url));
    // Connected, but silent: replies never come.
    mute.silent = true;
    await assert.rejects(p.getUtxosByAddresses(watched), (e: { code?: string }) => e.code === 'TIMEOUT');
    assert.equal(p.nodes[0]!.state, 'down');
    assert.equal((p.nodes[0]!.error as NodePoolError).code, 'UNHEALTHY');
    for (const a of watched) assert.equal(p.nodeOf(a), d.urls[1]);
    assert.deepEqual(await p.getUtxosByAddresses(watched), []);
  });

  it('refuses a node of another network, and one not synced, naming it', async () => {
    const d = await devnet(2);
    const wrong = await proxy(TamperProxy.start(d.urls[0]!));
    wrong.reply = (method, params) =>
      method === 'getServerInfo' ? { ...params, networkId: 'mainnet' } : params;
    const errors: unknown[] = [];
    const p = pool({ urls: [wrong.url, d.urls[1]!] });
    p.on('error', (e) => errors.push(e));
    await p.connect();
    await until(() => p.nodes[0]!.state === 'refused');
    const refusal = errors.find((e): e is NodePoolError => e instanceof NodePoolError);
    assert.ok(refusal !== undefined);
    assert.equal(refusal.code, 'WRONG_NETWORK');
    assert.equal(refusal.url, wrong.url);
    assert.match(refusal.message, /mainnet/);
    for (const a of addresses(20)) assert.equal(p.nodeOf(a), d.urls[1]);

    // A pool of that node alone never uses it: connecting fails, saying why.
    const alone = pool({ urls: [wrong.url] });
    // connect() waits out its time (a caller retrying at once must not spin); calls fail at once.
    await assert.rejects(
      alone.connect({ timeoutMs: 1_000 }),
      (e: { code?: string; message: string }) => e.code === 'TIMEOUT' && /mainnet/.test(e.message),
    );
    await assert.rejects(
      alone.getSink(),
      (e: { code?: string; message: string }) => e.code === 'CONNECT_FAILED' && /mainnet/.test(e.message),
    );

    // Not synced: set aside and rechecked, used once it says it is synced.
    const lagging = await proxy(TamperProxy.start(d.urls[0]!));
    let synced = false;
    lagging.reply = (method, params) =>
      method === 'getServerInfo' ? { ...params, isSynced: synced } : params;
    const q = pool({ urls: [lagging.url, d.urls[1]!], recheck: { initialDelayMs: 20, maxDelayMs: 50 } });
    await q.connect();
    await until(() => q.nodes[0]!.state === 'syncing');
    assert.equal((q.nodes[0]!.error as NodePoolError).code, 'NOT_SYNCED');
    synced = true;
    await until(() => q.nodes[0]!.state === 'up');
  });

  it('takes each node at its word for its own share: an invented coin is reported, a withheld one missed', async () => {
    const d = await devnet(2);
    const liar = await proxy(TamperProxy.start(d.urls[0]!));
    const p = pool({ urls: [liar.url, d.urls[1]!] });
    await p.connect();
    const keys = Array.from({ length: 20 }, () => freshKey());
    const keyOf = new Map(keys.map((k) => [k.address, k]));
    const watched = keys.map((k) => k.address);
    const onLiar = watched.filter((a) => p.nodeOf(a) === liar.url);
    const onHonest = watched.filter((a) => p.nodeOf(a) === d.urls[1]);
    assert.ok(onLiar.length >= 2 && onHonest.length >= 1);
    for (const a of [onLiar[0]!, onHonest[0]!]) d.fund(a, 2_000_000_000n);
    d.mine(1);
    const invented = (address: string, n: number): unknown =>
      utxosByAddressesEntryToRpc({
        address,
        outpoint: { transactionId: new Uint8Array(32).fill(n) as TxId, index: 0 },
        entry: {
          amount: 9_999_000_000n,
          scriptPublicKey: keyOf.get(address)?.script ?? { version: 0, script: new Uint8Array(34) },
          blockDaaScore: 1n,
          isCoinbase: false,
        },
      });
    const stranger = freshKey().address;
    liar.reply = (method, params) => {
      if (method !== 'getUtxosByAddresses') return params;
      const honest = (params['entries'] as Record<string, unknown>[]).filter(
        (e) => e['address'] !== onLiar[0], // withheld
      );
      return {
        entries: [...honest, invented(onLiar[1]!, 7), invented(stranger, 8), invented(onHonest[0]!, 9)],
      };
    };
    const utxos = await p.getUtxosByAddresses(watched);
    const by = (a: string): bigint[] => utxos.filter((u) => u.address === a).map((u) => u.entry.amount);
    // Its own share: what it says goes (the pool does not show the address to a second node to check).
    assert.deepEqual(by(onLiar[0]!), []);
    assert.deepEqual(by(onLiar[1]!), [9_999_000_000n]);
    // Beyond its share it cannot reach: answers about addresses it was not asked are dropped.
    assert.deepEqual(by(stranger), []);
    assert.deepEqual(by(onHonest[0]!), [2_000_000_000n]);
    // The invented coin cannot be spent: the honest node refuses the transaction.
    const honestOnly = new KaspaRpcClient({ urls: d.urls[1]!, reconnect: false, heartbeatMs: 0 });
    cleanup.push(() => honestOnly.close());
    await honestOnly.connect();
    const fake = utxos.find((u) => u.address === onLiar[1])!;
    await assert.rejects(
      honestOnly.submitTransaction(
        spend(keyOf.get(onLiar[1]!)!, [fake], { amount: 1n, to: freshKey().script, sweep: true }),
      ),
      (e: { code?: string }) => e.code === 'REJECTED_TRANSACTION',
    );
  });

  it('reports a change once when a node repeats it, and a later removal of that coin too', async () => {
    const d = await devnet(1);
    const echo = await proxy(TamperProxy.start(d.urls[0]!));
    echo.notification = (f) => [f, f];
    const key = freshKey();
    const lone = new KaspaRpcClient({ urls: echo.url, heartbeatMs: 0 });
    cleanup.push(() => lone.close());
    await lone.connect();
    const p = pool({ urls: [echo.url] });
    await p.connect();
    const byClient: UtxosChanged[] = [];
    const byPool: UtxosChanged[] = [];
    await lone.subscribeUtxosChanged([key.address], (n) => byClient.push(n));
    await p.subscribeUtxosChanged([key.address], (n) => byPool.push(n));
    d.fund(key.address, 3_000_000_000n);
    d.mine(1);
    await until(() => byClient.length === 2);
    await until(() => byPool.length === 1);
    const coin = byPool[0]!.added[0]!;
    await p.submitTransaction(spend(key, [coin], { amount: 1n, to: freshKey().script, sweep: true }));
    d.mine(1);
    await until(() => byClient.length === 4);
    await until(() => byPool.length === 2);
    assert.equal(byPool[1]!.removed.length, 1);
    assert.deepEqual(byPool[1]!.added, []);
    assert.equal(byPool.length, 2);
  });

  it('submits through the node that already watches the spent coin, not where the recipient is watched', async () => {
    const d = await devnet(3);
    const { factory, traffic } = recordingFactory();
    const p = pool({ urls: d.urls, client: { ...FAST, webSocketFactory: factory } });
    await p.connect();
    const keys = Array.from({ length: 6 }, () => freshKey());
    for (const k of keys) d.fund(k.address, 4_000_000_000n);
    d.mine(1);
    const watcher = new UtxoWatcher(p);
    await watcher.addAddresses(keys.map((k) => k.address));
    const to = freshKey();
    for (const k of keys) {
      const coin = watcher.utxos().find((u) => u.address === k.address)!;
      const before = new Map(d.urls.map((u) => [u, count(u)]));
      await p.submitTransaction(spend(k, [coin], { amount: 1_000_000_000n, to: to.script }));
      const went = d.urls.filter((u) => count(u) > before.get(u)!);
      assert.deepEqual(went, [p.nodeOf(k.address)]);
    }
    function count(url: string): number {
      return (traffic.methods.get(url) ?? []).filter((m) => m === 'submitTransaction').length;
    }
  });

  it('waits for a node like a lone client does, and fails calls in words once closed', async () => {
    const d = await devnet(1);
    const p = pool({ urls: d.urls });
    await assert.rejects(p.getSink(), (e: { code?: string }) => e.code === 'NOT_CONNECTED');
    await p.connect();
    assert.equal((await p.getBlockDagInfo()).network, 'simnet');
    p.close();
    await assert.rejects(p.getSink(), (e: { code?: string }) => e.code === 'NOT_CONNECTED');
    assert.throws(() => new NodePool({ urls: [] }), RangeError);
    assert.throws(() => new NodePool({ urls: d.urls, assignmentKey: new Uint8Array(4) }), RangeError);
  });
});

describe('Default node lists', () => {
  it("puts the user's own nodes first, then the public ones unless only their own are wanted", () => {
    const mine = 'wss://node.example.org/kaspa';
    assert.deepEqual(defaultNodeUrls('testnet-10', { ownNodeUrls: [mine] }), [
      mine,
      ...NETWORKS['testnet-10'].publicNodeUrls,
    ]);
    assert.deepEqual(defaultNodeUrls('testnet-10', { ownNodeUrls: [mine], ownNodesOnly: true }), [mine]);
    assert.deepEqual(defaultNodeUrls('mainnet', { ownNodesOnly: true }), [NETWORKS.mainnet.defaultNodeUrl]);
    assert.deepEqual(defaultNodeUrls('local'), [NETWORKS.local.defaultNodeUrl]);
    for (const n of ['local', 'testnet-10', 'mainnet'] as const)
      for (const u of NETWORKS[n].publicNodeUrls) assert.match(u, /^wss:\/\//);
  });
});
