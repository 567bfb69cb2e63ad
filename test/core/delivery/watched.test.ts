/**
 * What the chain adapter watches, and for how long (docs/delivery.md "Watched addresses",
 * docs/privacy.md "What a node operator learns"): an emptied address stays subscribed until
 * the transaction that emptied it is deeper than the confirmation depth, so a reorganisation
 * can still bring its coin back; then it is dropped, and a subscription, a reconnect's
 * re-subscription and its catch-up name only what is still watched.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket, WebSocketServer } from 'ws';
import { startDevnet, type DevnetHandle } from '../../../src/devnet/index.ts';
import { Identity } from '../../../src/core/identity/identity.ts';
import { KaspaChain } from '../../../src/core/delivery/kaspa-chain.ts';
import type { ChainHandler } from '../../../src/core/delivery/ports.ts';
import { KaspaHdWallet } from '../../../src/kaspa/hd.ts';
import { KaspaRpcClient } from '../../../src/kaspa/rpc/client.ts';
import type { KaspaNode } from '../../../src/kaspa/rpc/node.ts';
import { UtxoWatcher } from '../../../src/kaspa/utxo-watcher.ts';
import { SOMPI_PER_KAS } from '../../../src/kaspa/types.ts';
import { bytesToHex, randomBytes } from '../../../src/util/bytes.ts';
import { MemoryDatabase, openDb } from './fakes.ts';
import { until } from './harness.ts';
import { serverAndClient } from '../../kaspa/rpc/fake-server.ts';

const A = 'kaspasim:qqzrk3a4acjla3zc9ngr37u4grtkr0k0mqf6qhmd9lteks00av6ass27ptvdg';
const B = 'kaspasim:qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqekcujlt2';

/** Publications of the long-session test. */
const PUBLICATIONS = 200;
/** The adapter's confirmation depth in these tests (DAA scores; one block each here). */
const DEPTH = 20n;
/** Notification window per contact (the adapter's default). */
const WINDOW = 8;

/** The address lists a node was handed, per call, through the KaspaNode interface. */
interface Recorded {
  readonly subscribed: string[][];
  readonly asked: string[][];
}

/** `node`, recording the addresses of every UTXO subscription and snapshot request. */
function recording<T extends KaspaNode>(node: T): { node: T; calls: Recorded } {
  const calls: Recorded = { subscribed: [], asked: [] };
  const proxy = new Proxy(node, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      if (key === 'subscribeUtxosChanged')
        return (addresses: readonly string[], ...rest: unknown[]) => {
          calls.subscribed.push([...addresses]);
          return (value as (...a: unknown[]) => unknown).call(target, addresses, ...rest);
        };
      if (key === 'getUtxosByAddresses')
        return (addresses: readonly string[], ...rest: unknown[]) => {
          calls.asked.push([...addresses]);
          return (value as (...a: unknown[]) => unknown).call(target, addresses, ...rest);
        };
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  return { node: proxy, calls };
}

/** One request frame as the node operator sees it: its method and the addresses it names. */
interface SeenFrame {
  readonly method: string;
  readonly addresses: readonly string[];
}

/**
 * Stands where the node operator stands: forwards every frame between a client and the node,
 * records each connection's requests, and can drop every connection (a network gap).
 */
class WireView {
  readonly connections: SeenFrame[][] = [];
  private readonly sockets = new Set<WebSocket>();

  private constructor(
    private readonly server: WebSocketServer,
    upstream: string,
  ) {
    server.on('connection', (socket) => {
      const frames: SeenFrame[] = [];
      this.connections.push(frames);
      this.sockets.add(socket);
      const node = new WebSocket(upstream);
      const early: string[] = [];
      node.on('open', () => {
        for (const m of early.splice(0)) node.send(m);
      });
      node.on('message', (data, isBinary) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(data, { binary: isBinary });
      });
      socket.on('message', (data: Buffer) => {
        const text = data.toString('utf8');
        frames.push(seen(text));
        if (node.readyState === WebSocket.OPEN) node.send(text);
        else early.push(text);
      });
      const close = (): void => {
        this.sockets.delete(socket);
        socket.terminate();
        node.terminate();
      };
      for (const s of [socket, node]) {
        s.on('close', close);
        s.on('error', close);
      }
    });
  }

  static async start(upstream: string): Promise<WireView> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return new WireView(server, upstream);
  }

  get url(): string {
    const a = this.server.address();
    if (a === null || typeof a === 'string') throw new Error('not listening');
    return `ws://127.0.0.1:${a.port}`;
  }

  dropAll(): void {
    for (const s of [...this.sockets]) s.terminate();
  }

  async stop(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function seen(text: string): SeenFrame {
  const addresses: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string' && v.startsWith('kaspasim:')) addresses.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
  };
  try {
    const frame = JSON.parse(text) as { method?: unknown; params?: unknown };
    walk(frame.params);
    return { method: typeof frame.method === 'string' ? frame.method : '', addresses };
  } catch {
    return { method: '', addresses };
  }
}

/** The UTXO-related requests of one connection, in order. */
function utxoFrames(frames: readonly SeenFrame[]): SeenFrame[] {
  return frames.filter(
    (f) =>
      (f.method === 'subscribe' || f.method === 'unsubscribe' || f.method === 'getUtxosByAddresses') &&
      f.addresses.length > 0,
  );
}

describe('UtxoWatcher subscriptions name only what changes', () => {
  const connected = serverAndClient({ reconnect: { initialDelayMs: 5, maxDelayMs: 20 } });

  it('a new address is subscribed alone; a removed one is neither re-subscribed nor caught up', async () => {
    const { server, client } = await connected();
    server.on('getUtxosByAddresses', () => ({ entries: [] }));
    const { node, calls } = recording(client);
    const watcher = new UtxoWatcher(node);
    await watcher.addAddresses([A]);
    await watcher.addAddresses([B]);
    assert.deepEqual(
      server.calls('subscribe').map((f) => f.params),
      [{ UtxosChanged: { addresses: [A] } }, { UtxosChanged: { addresses: [B] } }],
      'each subscription names only its new address',
    );
    await watcher.removeAddresses([A]);
    assert.equal(server.calls('subscribe').length, 2, 'a removal subscribes nothing again');
    assert.deepEqual(
      server.calls('unsubscribe').map((f) => f.params),
      [{ UtxosChanged: { addresses: [A] } }],
    );
    const before = calls.asked.length;
    server.dropAll();
    await server.waitForConnections(2);
    await until('the catch-up after the reconnect', () => calls.asked.length > before, 10_000);
    assert.deepEqual(calls.asked.slice(before), [[B]], 'the catch-up reads only the watched address');
    await until('re-subscribed', () => server.connections[1]!.utxoAddresses.size > 0, 10_000);
    assert.deepEqual(server.connections[1]!.utxoAddresses, new Set([B]));
    await watcher.stop();
  });
});

/** A peer with keys and a card address: enough for the adapter to pay it. */
function peer(): { dh: Uint8Array; base: ReturnType<KaspaHdWallet['address']> } {
  const identity = Identity.generate();
  const wallet = KaspaHdWallet.fromSeed(identity.walletSeed(), 'testnet');
  return { dh: identity.dhPublicKey, base: wallet.address('kaspasim', 0, 0, 0) };
}

describe(
  'the chain adapter drops emptied addresses once deep (local Kaspa network)',
  { timeout: 600_000 },
  () => {
    it(`${PUBLICATIONS} publications: the watched set stays bounded, a reorganisation within the depth is handled, a reconnect names only what is watched`, async () => {
      const identity = Identity.generate();
      const wallet = KaspaHdWallet.fromSeed(identity.walletSeed(), 'testnet');
      const card = wallet.address('kaspasim', 0, 0, 0).toString();
      const bob = peer();
      const devnet: DevnetHandle = await startDevnet({
        port: 0,
        controlPort: false,
        blocksPerSecond: 0,
        prefund: { [card]: 2_000n * SOMPI_PER_KAS },
      });
      const wire = await WireView.start(devnet.url);
      const probe = new KaspaRpcClient({ urls: devnet.url });
      await probe.connect();
      const rpc = new KaspaRpcClient({ urls: wire.url, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
      await rpc.connect();
      const { node, calls } = recording(rpc);
      const accepted = new Map<string, number>();
      const dropped: string[] = [];
      const handler: ChainHandler = {
        incoming: async () => [],
        accepted: (txId) => accepted.set(bytesToHex(txId), (accepted.get(bytesToHex(txId)) ?? 0) + 1),
        dropped: (txId) => dropped.push(bytesToHex(txId)),
        funds: () => undefined,
        checkpoint: () => undefined,
      };
      const chain = new KaspaChain({
        client: node,
        wallet,
        prefix: 'kaspasim',
        identity,
        peerOf: (c) => (c === 'bob' ? bob : undefined),
        contacts: () => ['bob'],
        db: await openDb(new MemoryDatabase()),
        receiptDelayMs: () => 0,
        confirmationDepth: DEPTH,
      });
      /** Watched addresses that hold no coin on the node: the part that must stay bounded. */
      const idleWatched = async (): Promise<{ watched: number; idle: number }> => {
        const watched = chain.watchedAddresses();
        const holding = new Set((await probe.getUtxosByAddresses(watched)).map((u) => u.address));
        return { watched: watched.length, idle: watched.filter((a) => !holding.has(a)).length };
      };
      // Card, the contact's window, and the addresses emptied by the publications of the last
      // DEPTH DAA scores (two blocks each here; a publication, with its refill, empties at most
      // two), and of one publication more: the adapter's DAA score moves only when it sees a
      // coin, and a removal runs after the subscriptions queued before it. Removals are not
      // batched: the node removes per address (test/oracle/utxo-unsubscribe.ts). Until the depth has passed since the start, also what the start watches in case and
      // finds empty (`initial`, the start's look-ahead: recent change, remembered addresses).
      let initial = 0;
      const bound = (publications = Infinity): number =>
        1 + WINDOW + 2 * (Number(DEPTH) / 2 + 3) + (publications <= Number(DEPTH) / 2 + 2 ? initial : 0);
      const publish = async (): Promise<string> => {
        const { txId } = await chain.publish(randomBytes(120), ['bob']);
        const hex = bytesToHex(txId);
        // A block's transactions are accepted by the chain block after it (FACTS §6.6): two
        // blocks, or one more when the publication spends a coin of a transaction still in the
        // mempool (a refill, or a resubmission after the reorganisation below), which a block
        // template takes only once its parent is in a block. Mined one by one until seen
        // accepted, bounded, rather than a fixed count that leaves such a publication waiting.
        devnet.mine(2);
        for (let i = 0; !accepted.has(hex); i++) {
          assert.ok(i < 1_200, `publication ${hex} not accepted after ${i} more blocks`);
          await new Promise((r) => setTimeout(r, 50));
          if (i % 10 === 9) devnet.mine(1);
        }
        return hex;
      };
      try {
        await chain.start(handler, undefined);
        initial = (await idleWatched()).idle;
        let worst = 0;
        for (let i = 0; i < PUBLICATIONS; i++) {
          await publish();
          const { watched, idle } = await idleWatched();
          worst = Math.max(worst, idle);
          assert.ok(
            idle <= bound(i + 1),
            `after ${i + 1} publications ${idle} of ${watched} watched addresses hold nothing (bound ${bound(i + 1)})`,
          );
        }
        const figures = await idleWatched();
        console.log(
          `watched after ${PUBLICATIONS} publications: ${figures.watched} (${figures.idle} holding no coin, at most ${worst} on the way, bound ${bound()}; ${initial} idle at the start)`,
        );
        // What the node is told (one connection so far): each subscribe names new addresses,
        // never the whole list again, and an unsubscribe only the dropped ones.
        const frames = (method: string): (readonly string[])[] =>
          wire.connections.flatMap((c) => c.filter((f) => f.method === method).map((f) => f.addresses));
        const subscribed = frames('subscribe');
        const unsubscribed = frames('unsubscribe');
        const distinct = new Set(subscribed.flat()).size;
        const named = subscribed.reduce((n, list) => n + list.length, 0);
        console.log(
          `on the wire: ${subscribed.length} subscribes naming ${named} addresses (${distinct} distinct, at most ${Math.max(...subscribed.map((l) => l.length))} in one), ${unsubscribed.length} unsubscribes naming ${unsubscribed.reduce((n, l) => n + l.length, 0)}; snapshot reads: ${calls.asked.length} naming ${calls.asked.reduce((n, l) => n + l.length, 0)}`,
        );
        assert.equal(named, distinct, `${named} addresses named in subscriptions of ${distinct}`);
        // Held coins too: a decoy or change address is dropped once its coin is deep, so the
        // whole set is the bound above plus what the publications of the last depth left held.
        assert.ok(
          figures.watched <= bound() + 2 * (Number(DEPTH) / 2 + 3),
          `${figures.watched} addresses watched after ${PUBLICATIONS} publications`,
        );

        // A reorganisation within the depth: the last publication leaves the chain and the coin
        // it spent comes back on an address still watched; the same transaction is accepted again.
        const last = await publish();
        // Two blocks: the one holding it and the one accepting it.
        devnet.faults.reorg(2, { dropTransactions: true });
        for (let i = 0; (accepted.get(last) ?? 0) < 2; i++) {
          assert.ok(i < 600, 'the publication was not accepted again');
          await new Promise((r) => setTimeout(r, 50));
          devnet.mine(1);
        }
        assert.deepEqual(dropped, [], 'nothing was given up');

        // A reconnect: the new connection subscribes to and reads only what is still watched.
        await publish();
        const connectionsBefore = wire.connections.length;
        wire.dropAll();
        await until(
          'reconnected and caught up',
          () => {
            const frames = wire.connections[connectionsBefore];
            return frames !== undefined && utxoFrames(frames).some((f) => f.method === 'getUtxosByAddresses');
          },
          30_000,
        );
        const watched = new Set(chain.watchedAddresses());
        const after = utxoFrames(wire.connections[connectionsBefore]!).flatMap((f) => f.addresses);
        assert.ok(after.length > 0);
        assert.ok(
          after.every((a) => watched.has(a)),
          `${after.filter((a) => !watched.has(a)).length} unwatched addresses named after the reconnect`,
        );
        assert.ok(watched.size <= figures.watched + 4, `${watched.size} watched`);
      } finally {
        await chain.stop().catch(() => undefined);
        probe.close();
        rpc.close();
        await wire.stop();
        await devnet.stop();
      }
    });
  },
);
