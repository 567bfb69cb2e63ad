/**
 * Fixtures of the NodePool tests and the `nodepool` bench table: nodes that lie or serve the
 * wrong network (a rewriting proxy in front of a real devnet port), a WebSocket factory that
 * records what a client sends to each node, and the operator-view scenario (one client with
 * 100 watched addresses and 20 submissions, measured through test/privacy's RecordingProxy).
 */
import { randomBytes } from 'node:crypto';
import { WebSocket, WebSocketServer } from 'ws';
import { bytesToHex } from '../../src/util/bytes.ts';
import { parseJson, stringifyJson } from '../../src/kaspa/rpc/json.ts';
import type { WebSocketFactory, WebSocketLike } from '../../src/kaspa/rpc/socket.ts';
import { NodePool, type NodePoolOptions } from '../../src/kaspa/rpc/pool.ts';
import { UtxoWatcher } from '../../src/kaspa/utxo-watcher.ts';
import { startDevnet } from '../../src/devnet/index.ts';
import { RecordingProxy } from '../privacy/node-view.ts';
import { schnorrKey, spend, type TestKey } from '../devnet/helpers.ts';

type Json = Record<string, unknown>;

/**
 * Stands where a dishonest operator stands: forwards frames both ways, letting `reply` rewrite
 * answers (by method) and `notification` rewrite or multiply notifications.
 */
export class TamperProxy {
  reply: (method: string, params: Json) => Json = (_m, p) => p;
  /** Returns the frames to send in place of one notification. */
  notification: (frame: Json) => Json[] = (f) => [f];
  /** Keeps the connection open but forwards nothing back: a node that stopped answering. */
  silent = false;
  readonly #server: WebSocketServer;

  private constructor(
    server: WebSocketServer,
    readonly upstream: string,
  ) {
    this.#server = server;
    server.on('connection', (socket) => this.#accept(socket));
  }

  static async start(upstream: string): Promise<TamperProxy> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return new TamperProxy(server, upstream);
  }

  get url(): string {
    const a = this.#server.address();
    if (a === null || typeof a === 'string') throw new Error('proxy not listening');
    return `ws://127.0.0.1:${a.port}`;
  }

  #accept(socket: WebSocket): void {
    const node = new WebSocket(this.upstream);
    const early: string[] = [];
    node.on('open', () => {
      for (const m of early.splice(0)) node.send(m);
    });
    node.on('message', (data: Buffer) => {
      if (this.silent) return;
      const frame = parseJson(data.toString('utf8')) as Json;
      const out =
        frame['id'] === undefined
          ? this.notification(frame)
          : frame['params'] === undefined
            ? [frame]
            : [{ ...frame, params: this.reply(String(frame['method']), frame['params'] as Json) }];
      for (const f of out) if (socket.readyState === WebSocket.OPEN) socket.send(stringifyJson(f));
    });
    socket.on('message', (data: Buffer) => {
      if (node.readyState === WebSocket.OPEN) node.send(data.toString('utf8'));
      else early.push(data.toString('utf8'));
    });
    const closeBoth = (): void => {
      socket.terminate();
      node.terminate();
    };
    for (const s of [socket, node]) {
      s.on('close', closeBoth);
      s.on('error', closeBoth);
    }
  }

  async stop(): Promise<void> {
    for (const c of this.#server.clients) c.terminate();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** What a client sent to and received from each node URL. */
export interface Traffic {
  /** Request methods sent, per URL, in order. */
  readonly methods: Map<string, string[]>;
  bytesSent: number;
  bytesReceived: number;
  requests: number;
}

/** A WebSocket factory (the `ws` package) that counts frames and bytes per URL. */
export function recordingFactory(): { factory: WebSocketFactory; traffic: Traffic } {
  const traffic: Traffic = { methods: new Map(), bytesSent: 0, bytesReceived: 0, requests: 0 };
  const factory: WebSocketFactory = (url) => {
    const ws = new WebSocket(url);
    const send = ws.send.bind(ws);
    ws.send = ((data: string) => {
      traffic.bytesSent += Buffer.byteLength(data);
      traffic.requests++;
      const method = String((parseJson(data) as Json)['method']);
      let list = traffic.methods.get(url);
      if (list === undefined) traffic.methods.set(url, (list = []));
      list.push(method);
      send(data);
    }) as typeof ws.send;
    ws.on('message', (data: Buffer) => {
      traffic.bytesReceived += data.length;
    });
    return ws as unknown as WebSocketLike;
  };
  return { factory, traffic };
}

/** A fresh `kaspasim:` key with its address. */
export function freshKey(): TestKey {
  return schnorrKey(bytesToHex(randomBytes(32)));
}

/** Polls a condition; the test runner's own timeout bounds it. */
export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
}

/** Options of the operator-view scenario. */
export interface OperatorViewOptions {
  /** Nodes (operators) the clients spread over. */
  readonly nodes: number;
  /** Decoy set size (1: none). */
  readonly setSize?: number;
  /** Watched addresses of the measured client. @default 100 */
  readonly watched?: number;
  /** Transactions it submits, each paying the recipient. @default 20 */
  readonly submissions?: number;
}

/** What the operators learned. */
export interface OperatorView {
  /** Per operator: share of the client's watched addresses it was asked about. */
  readonly shares: readonly number[];
  /** Per operator: addresses it was asked about in all (real ones and decoys). */
  readonly asked: readonly number[];
  /** Submissions whose node also held the recipient's subscription. */
  readonly submitterSawRecipient: number;
  readonly submissions: number;
  /** Traffic of the measured client from connect to the last submission's notification. */
  readonly traffic: Traffic;
}

/**
 * One devnet with `nodes` RPC ports, a RecordingProxy in front of each; the measured client
 * watches `watched` addresses through a pool and pays a recipient `submissions` times from
 * coins on 20 of them; the recipient watches its own address through its own pool.
 */
export async function measureOperatorView(o: OperatorViewOptions): Promise<OperatorView> {
  const watched = o.watched ?? 100;
  const submissions = o.submissions ?? 20;
  const devnet = await startDevnet({
    port: 0,
    controlPort: false,
    blocksPerSecond: 0,
    coinbaseMaturity: 0n,
    rpcPorts: Array.from({ length: o.nodes - 1 }, () => 0),
  });
  const proxies = await Promise.all(devnet.urls.map((u) => RecordingProxy.start(u)));
  const urls = proxies.map((p) => p.url);
  const pools: NodePool[] = [];
  const pool = (extra: Partial<NodePoolOptions> = {}): NodePool => {
    const p = new NodePool({ urls, network: 'simnet', ...extra });
    pools.push(p);
    return p;
  };
  try {
    devnet.mine(1);
    const mineAll = (): number => {
      let n = 0;
      for (; devnet.chain.mempool.size > 0; n++) devnet.mine(1);
      return n;
    };
    const recipientKey = freshKey();
    const recipient = pool();
    await recipient.connect();
    const recipientWatch = new UtxoWatcher(recipient);
    await recipientWatch.addAddresses([recipientKey.address]);

    const { factory, traffic } = recordingFactory();
    const client = pool({
      ...(o.setSize === undefined ? {} : { decoys: { setSize: o.setSize } }),
      client: { webSocketFactory: factory },
    });
    await client.connect();
    // The decoy candidates come from the blocks the client sees, as the chain adapter's
    // BlockAdded subscription would show them.
    let blocksSeen = 0;
    const blocks = await client.subscribeBlockAdded(() => blocksSeen++);
    // History for decoys: real outputs to other people, as a live chain has.
    for (let i = 0; i < 4 * watched; i++) devnet.fund(freshKey().address, 10_000_000_000n);
    const mined = mineAll();
    await until(() => blocksSeen >= mined);
    await blocks.unsubscribe();
    const keys = Array.from({ length: watched }, () => freshKey());
    const spenders = keys.slice(0, submissions);
    for (const k of spenders) devnet.fund(k.address, 10_000_000_000n);
    mineAll();
    // Counted from here: the cost of watching and submitting, not of reading history.
    traffic.methods.clear();
    traffic.bytesSent = traffic.bytesReceived = traffic.requests = 0;
    const watch = new UtxoWatcher(client);
    await watch.addAddresses(keys.map((k) => k.address));
    let paid = 0;
    recipientWatch.on('change', (c) => (paid += c.added.length));
    for (const k of spenders) {
      const coin = watch.utxos().find((u) => u.address === k.address)!;
      await client.submitTransaction(spend(k, [coin], { amount: 1_000_000_000n, to: recipientKey.script }));
    }
    mineAll();
    await until(() => paid >= submissions);

    const real = new Set(keys.map((k) => k.address));
    const seen = proxies.map((p) => {
      const all = new Set<string>();
      for (const c of p.connections) for (const a of c.addresses) all.add(a);
      return all;
    });
    const submitted = urls.map(
      (u) => (traffic.methods.get(u) ?? []).filter((m) => m === 'submitTransaction').length,
    );
    const holdsRecipient = seen.map((s) => s.has(recipientKey.address));
    return {
      shares: seen.map((s) => [...s].filter((a) => real.has(a)).length / watched),
      asked: seen.map((s) => s.size - (s.has(recipientKey.address) ? 1 : 0)),
      submitterSawRecipient: submitted.reduce((n, c, i) => n + (holdsRecipient[i]! ? c : 0), 0),
      submissions: submitted.reduce((a, b) => a + b, 0),
      traffic,
    };
  } finally {
    for (const p of pools) p.close();
    for (const p of proxies) await p.stop();
    await devnet.stop();
  }
}
