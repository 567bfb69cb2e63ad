/**
 * The node a client connects to is an observer too. This proxy stands where a node operator
 * stands: between each client's WebSocket and the node, it forwards every frame unchanged and
 * records, per connection, every address the client subscribes to or asks about.
 */
import { WebSocket, WebSocketServer } from 'ws';

/** What the node saw of one client connection. */
export interface ConnectionView {
  readonly connection: number;
  /** Every address named in a request of this connection. */
  readonly addresses: Set<string>;
}

export class RecordingProxy {
  readonly connections: ConnectionView[] = [];
  readonly #server: WebSocketServer;
  readonly #upstream: string;

  private constructor(server: WebSocketServer, upstream: string) {
    this.#server = server;
    this.#upstream = upstream;
    server.on('connection', (socket) => this.#accept(socket));
  }

  /** Listens on a free loopback port in front of the node at `upstream`. */
  static async start(upstream: string): Promise<RecordingProxy> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    return new RecordingProxy(server, upstream);
  }

  get url(): string {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy not listening on a port');
    return `ws://127.0.0.1:${address.port}`;
  }

  #accept(socket: WebSocket): void {
    const view: ConnectionView = { connection: this.connections.length, addresses: new Set() };
    this.connections.push(view);
    const node = new WebSocket(this.#upstream);
    const early: (Buffer | string)[] = [];
    node.on('open', () => {
      for (const m of early.splice(0)) node.send(m);
    });
    node.on('message', (data, isBinary) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(data, { binary: isBinary });
    });
    socket.on('message', (data: Buffer) => {
      record(view, data.toString('utf8'));
      if (node.readyState === WebSocket.OPEN) node.send(data.toString('utf8'));
      else early.push(data.toString('utf8'));
    });
    const closeBoth = (): void => {
      socket.terminate();
      node.terminate();
    };
    socket.on('close', closeBoth);
    node.on('close', closeBoth);
    socket.on('error', closeBoth);
    node.on('error', closeBoth);
  }

  async stop(): Promise<void> {
    for (const c of this.#server.clients) c.terminate();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function record(view: ConnectionView, text: string): void {
  let request: unknown;
  try {
    request = JSON.parse(text);
  } catch {
    return;
  }
  const params = (request as { params?: { addresses?: unknown } } | null)?.params;
  if (params !== undefined && Array.isArray(params.addresses))
    for (const a of params.addresses) if (typeof a === 'string') view.addresses.add(a);
}
