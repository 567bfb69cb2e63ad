/**
 * A scripted wRPC JSON server for tests (FACTS §6.2 envelope), on 127.0.0.1 with an ephemeral
 * port. Each test installs handlers per method; the server records every frame, tracks
 * subscriptions per connection, and can drop connections, stay silent or send junk.
 */
import { afterEach } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { KaspaRpcClient, type KaspaRpcClientOptions } from '../../../src/kaspa/rpc/client.ts';
import { NodePool } from '../../../src/kaspa/rpc/pool.ts';
import { parseJson, stringifyJson } from '../../../src/kaspa/rpc/json.ts';

export const NO_REPLY = Symbol('no reply');
export const CLOSE = Symbol('close connection');

/** What a handler may return: a result (sent under `params`), an error, silence, or a hang-up. */
export type HandlerResult = unknown | { readonly error: string } | typeof NO_REPLY | typeof CLOSE;
export type Handler = (
  params: Record<string, unknown>,
  conn: FakeConnection,
) => HandlerResult | Promise<HandlerResult>;

export interface FakeConnection {
  readonly ws: WebSocket;
  readonly index: number;
  /** Scopes this connection subscribed to; UtxosChanged addresses kept as a set. */
  readonly subscriptions: Map<string, unknown>;
  readonly utxoAddresses: Set<string>;
}

export interface ReceivedFrame {
  readonly conn: number;
  readonly id: unknown;
  readonly method: string;
  readonly params: Record<string, unknown>;
}

export const ZERO_HASH = '00'.repeat(32);

/** Set by node-pool-compat.test.ts: `serverAndClient` then hands out a one-node NodePool. */
const ONE_NODE_POOL = process.env['P2PCOMM_ONE_NODE_POOL'] === '1';

export class FakeWrpcServer {
  readonly handlers = new Map<string, Handler>();
  readonly received: ReceivedFrame[] = [];
  readonly connections: FakeConnection[] = [];
  /** Values the default getBlockDagInfo handler reports. */
  dag = { virtualDaaScore: 1000n as bigint, sink: 'aa'.repeat(32) };
  private connectionWaiters: (() => void)[] = [];

  private constructor(private readonly wss: WebSocketServer) {
    wss.on('connection', (ws) => this.onConnection(ws));
    this.handlers.set('getBlockDagInfo', () => ({
      network: 'simnet',
      blockCount: 10,
      headerCount: 10,
      tipHashes: [this.dag.sink],
      difficulty: 1.5,
      pastMedianTime: 1_700_000_000_000,
      virtualParentHashes: [this.dag.sink],
      pruningPointHash: ZERO_HASH,
      virtualDaaScore: this.dag.virtualDaaScore,
      sink: this.dag.sink,
    }));
    this.handlers.set('getServerInfo', () => ({
      rpcApiVersion: 1,
      rpcApiRevision: 0,
      serverVersion: '1.0.0',
      networkId: 'simnet',
      hasUtxoIndex: true,
      isSynced: true,
      virtualDaaScore: this.dag.virtualDaaScore,
    }));
    this.handlers.set('ping', () => ({}));
    this.handlers.set('subscribe', () => ({ id: 1 }));
    this.handlers.set('unsubscribe', () => ({}));
  }

  static async start(port = 0): Promise<FakeWrpcServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    return new FakeWrpcServer(wss);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  get port(): number {
    return (this.wss.address() as AddressInfo).port;
  }

  /** Live connections. */
  get open(): FakeConnection[] {
    return this.connections.filter((c) => c.ws.readyState === c.ws.OPEN);
  }

  on(method: string, handler: Handler): this {
    this.handlers.set(method, handler);
    return this;
  }

  /** Frames received for `method`. */
  calls(method: string): ReceivedFrame[] {
    return this.received.filter((f) => f.method === method);
  }

  /** Resolves once `n` connections have been accepted in total. */
  async waitForConnections(n: number): Promise<void> {
    while (this.connections.length < n) await new Promise<void>((r) => this.connectionWaiters.push(r));
  }

  /** Sends a notification to every open connection subscribed to `variant`. */
  notify(variant: string, method: string, body: unknown): void {
    for (const c of this.open) {
      if (c.subscriptions.has(variant)) c.ws.send(stringifyJson({ method, params: { [variant]: body } }));
    }
  }

  /** Sends raw text to every open connection. */
  sendRaw(text: string): void {
    for (const c of this.open) c.ws.send(text);
  }

  /** Drops every open connection abruptly. */
  dropAll(): void {
    for (const c of this.open) c.ws.terminate();
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private onConnection(ws: WebSocket): void {
    const conn: FakeConnection = {
      ws,
      index: this.connections.length,
      subscriptions: new Map(),
      utxoAddresses: new Set(),
    };
    this.connections.push(conn);
    for (const w of this.connectionWaiters.splice(0)) w();
    ws.on('message', (data) => {
      void this.onMessage(conn, String(data));
    });
  }

  private async onMessage(conn: FakeConnection, text: string): Promise<void> {
    let frame: Record<string, unknown>;
    try {
      frame = parseJson(text) as Record<string, unknown>;
    } catch {
      conn.ws.terminate(); // kaspad drops a connection on a malformed envelope (FACTS §6.2)
      return;
    }
    const method = frame['method'] as string;
    const params = (frame['params'] ?? {}) as Record<string, unknown>;
    // A one-node pool's health check is the one request it adds to a lone client's; left out
    // so that the same assertions hold for both (node-pool-compat.test.ts).
    if (!(ONE_NODE_POOL && method === 'getServerInfo'))
      this.received.push({ conn: conn.index, id: frame['id'], method, params });
    if (method === 'subscribe' || method === 'unsubscribe') this.trackScope(conn, method, params);
    const handler = this.handlers.get(method);
    const result = handler === undefined ? { error: 'RPC method not found' } : await handler(params, conn);
    if (result === NO_REPLY) return;
    if (result === CLOSE) {
      conn.ws.terminate();
      return;
    }
    if (conn.ws.readyState !== conn.ws.OPEN) return;
    if (
      typeof result === 'object' &&
      result !== null &&
      'error' in result &&
      typeof result.error === 'string'
    ) {
      conn.ws.send(
        stringifyJson({ id: frame['id'], method, error: { code: 0, message: result.error, data: null } }),
      );
    } else {
      conn.ws.send(stringifyJson({ id: frame['id'], method, params: result }));
    }
  }

  private trackScope(conn: FakeConnection, method: string, params: Record<string, unknown>): void {
    const [variant] = Object.keys(params);
    if (variant === undefined) return;
    const body = params[variant] as Record<string, unknown>;
    if (variant === 'UtxosChanged') {
      const addrs = (body['addresses'] as string[]) ?? [];
      for (const a of addrs) {
        if (method === 'subscribe') conn.utxoAddresses.add(a);
        else conn.utxoAddresses.delete(a);
      }
      if (conn.utxoAddresses.size > 0) conn.subscriptions.set(variant, body);
      else conn.subscriptions.delete(variant);
      return;
    }
    if (method === 'subscribe') conn.subscriptions.set(variant, body);
    else conn.subscriptions.delete(variant);
  }
}

/** Polls a condition on the event loop; the test runner's own timeout bounds it. */
export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

/**
 * For the calling `describe`: a function that starts a fresh fake server and connects a client
 * to it (no heartbeat, plus `options`); both are closed after each test.
 */
export function serverAndClient(
  options: Partial<KaspaRpcClientOptions> = {},
): () => Promise<{ server: FakeWrpcServer; client: KaspaRpcClient }> {
  const open: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const close of open.splice(0).reverse()) await close();
  });
  return async () => {
    const server = await FakeWrpcServer.start();
    // The pool answers for the client through the methods KaspaNode names, which is all the
    // watcher and fetcher tests use.
    const client = ONE_NODE_POOL
      ? (new NodePool({
          urls: [server.url],
          client: { heartbeatMs: 0, ...options },
        }) as unknown as KaspaRpcClient)
      : new KaspaRpcClient({ urls: server.url, heartbeatMs: 0, ...options });
    open.push(
      () => server.close(),
      () => client.close(),
    );
    await client.connect();
    return { server, client };
  };
}
