/**
 * Node side of the local network's faucet for the web app (`npm start`, end-to-end tests):
 * serves the built app (through `serveWeb`, with its CSP) and, on the same origin, a
 * `POST /devnet/fund` route that pays a fixed amount to a `kaspasim:` address. Same origin,
 * because the app's CSP allows `connect-src 'self' ws: wss:` only, so the page cannot reach the
 * devnet's control port directly. Loopback only, simnet addresses only: nothing here exists
 * on testnet or mainnet, where the app never asks (src/web/engine/network.ts).
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import { serveWeb, type WebServer } from '../../../scripts/serve-web.ts';
import { Address } from '../../kaspa/address.ts';
import { LOCAL_FUND_PATH } from './network.ts';

/** What one request is paid: 100 KAS in sompi, whatever the request asks. */
export const LOCAL_FUND_SOMPI = 100n * 100_000_000n;

/** Options of `serveAppWithLocalFaucet`. */
export interface LocalOriginOptions {
  /** Built app folder (`buildWeb` output). */
  readonly root: string;
  /** TCP port on 127.0.0.1; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Pays `sompi` to a `kaspasim:` address; returns the transaction id (`DevnetHandle.fund`). */
  readonly fund: (address: string, sompi: bigint) => string;
}

const MAX_BODY = 4096;

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function fundRoute(
  req: IncomingMessage,
  res: ServerResponse,
  options: LocalOriginOptions,
): Promise<void> {
  const reply = (status: number, body: Record<string, string>): void => {
    res
      .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      .end(JSON.stringify(body));
  };
  const text = await readBody(req);
  if (text === undefined) return reply(413, { error: 'body too large' });
  let address: unknown;
  try {
    address = (JSON.parse(text) as { address?: unknown } | null)?.address;
  } catch {
    return reply(400, { error: 'body is not JSON' });
  }
  try {
    if (typeof address !== 'string') throw new TypeError('"address" expected a string');
    Address.decode(address, 'kaspasim');
    reply(200, { transactionId: options.fund(address, LOCAL_FUND_SOMPI) });
  } catch (e) {
    reply(400, { error: e instanceof Error ? e.message : String(e) });
  }
}

/** Starts the app server with the faucet route; `close` stops both listeners. */
export async function serveAppWithLocalFaucet(options: LocalOriginOptions): Promise<WebServer> {
  const app = await serveWeb({ root: options.root, port: 0 });
  const target = new URL(app.url);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'POST' && path === LOCAL_FUND_PATH) {
      fundRoute(req, res, options).catch(() => res.headersSent || res.writeHead(500).end());
      return;
    }
    // Everything else is the app exactly as serveWeb answers it (headers, CSP, status).
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        // A broken upstream mid-body ends this response (destroyed), never the process.
        pipeline(up, res, () => undefined);
      },
    );
    upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    req.pipe(upstream);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: async () => {
      await new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      });
      await app.close();
    },
  };
}
