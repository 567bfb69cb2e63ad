/**
 * Node side of the local network's faucet for the web app (`npm start`, end-to-end tests):
 * serves the built app (through `serveWeb`, with its CSP) and, on the same origin, a
 * `POST /devnet/fund` route that pays a fixed amount to a `kaspasim:` address. Same origin,
 * because the app's CSP allows `connect-src 'self' ws: wss:` only, so the page cannot reach the
 * devnet's control port directly. Loopback only, simnet addresses only: nothing here exists
 * on testnet or mainnet, where the app never asks (src/web/engine/network.ts). Only the app's
 * own page may ask (`fromOwnPage`): other pages the user opens reach 127.0.0.1 too.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import { serveWeb, type WebServer } from '../serve.ts';
import { Address } from '../../kaspa/address.ts';
import { LOCAL_FAUCET_META, LOCAL_FUND_PATH } from './network.ts';

/** What one request is paid: 100 KAS in sompi, whatever the request asks. */
export const LOCAL_FUND_SOMPI = 100n * 100_000_000n;

/** Options of `serveAppWithLocalFaucet`. */
export interface LocalOriginOptions {
  /** Built app folder (`buildWeb` output). */
  readonly root: string;
  /** TCP port on 127.0.0.1; 0 picks a free one. @default 0 */
  readonly port?: number;
  /**
   * Pays `sompi` to a `kaspasim:` address; returns the transaction id (`DevnetHandle.fund`, or
   * a miner's payment on a simnet node, which resolves once the node took it).
   */
  readonly fund: (address: string, sompi: bigint) => string | Promise<string>;
}

const MAX_BODY = 4096;
/** Largest page rewritten to name the faucet (index.html is a few hundred bytes). */
const MAX_PAGE = 1 << 20;

/** The tag that tells the page a faucet is served here (config.ts `advertisedLocalFaucet`). */
const FAUCET_TAG = `<meta name="${LOCAL_FAUCET_META}" content="${LOCAL_FUND_PATH}" />`;

/**
 * Answers with the app's page plus the faucet tag after `<head>`: only pages of this server
 * name the faucet, so the same build served elsewhere never asks for coins. Anything else
 * (another type, status or size) passes through unchanged.
 */
function relayPage(up: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  let size = 0;
  up.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_PAGE) {
      up.destroy();
      res.destroy();
      return;
    }
    chunks.push(c);
  });
  up.on('error', () => res.destroy());
  up.on('end', () => {
    const page = Buffer.from(Buffer.concat(chunks).toString('utf8').replace('<head>', `<head>${FAUCET_TAG}`));
    const headers = { ...up.headers, 'content-length': String(page.length) };
    res.writeHead(up.statusCode ?? 502, headers).end(page);
  });
}

/**
 * Whether a request to the faucet comes from the app's own page on this server. Any web page
 * the user opens can send requests to 127.0.0.1, so the route checks what a browser cannot let
 * another page forge (Fetch §3.1 "append a request `Origin` header": every POST carries the
 * page's origin, or `null` where it is hidden):
 * - `Origin` is exactly this server's loopback origin (127.0.0.1, localhost or [::1] with its
 *   port); `null`, absent or any other origin is refused;
 * - `Host` names this machine too, so a DNS-rebound name (a page of evil.example whose name
 *   now resolves to 127.0.0.1, and is therefore "same origin") is refused;
 * - the body is `application/json`, which a page of another origin cannot send without a CORS
 *   preflight that this server never grants (Fetch §4.8, CORS-safelisted request headers).
 */
function fromOwnPage(req: IncomingMessage, port: number): boolean {
  const hosts = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  const { host, origin } = req.headers;
  return (
    host !== undefined &&
    hosts.includes(host) &&
    origin !== undefined &&
    hosts.some((h) => origin === `http://${h}`)
  );
}

function isJson(req: IncomingMessage): boolean {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
}

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
  port: number,
): Promise<void> {
  const reply = (
    status: number,
    body: Record<string, string>,
    headers: Record<string, string> = {},
  ): void => {
    res
      .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers })
      .end(JSON.stringify(body));
  };
  if (req.method !== 'POST') return reply(405, { error: 'POST only' }, { allow: 'POST' });
  if (!fromOwnPage(req, port)) return reply(403, { error: "only the app's own page may ask the faucet" });
  if (!isJson(req)) return reply(415, { error: 'expected an application/json body' });
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
    reply(200, { transactionId: await options.fund(address, LOCAL_FUND_SOMPI) });
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
    if (path === LOCAL_FUND_PATH) {
      const { port } = server.address() as AddressInfo;
      fundRoute(req, res, options, port).catch(() => res.headersSent || res.writeHead(500).end());
      return;
    }
    // Everything else is the app exactly as serveWeb answers it (headers, CSP, status). Each
    // request opens its own loopback connection (`agent: false`): Node's global agent keeps
    // connections alive and may reuse one in the instant the upstream closes it for idleness
    // (its 5 s keep-alive timeout), which fails that request with ECONNRESET, a 502 the page
    // sees when it is reopened after a pause. A fresh loopback connection costs next to nothing.
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: false,
      },
      (up) => {
        const type = String(up.headers['content-type'] ?? '');
        if (req.method === 'GET' && up.statusCode === 200 && type.startsWith('text/html')) {
          relayPage(up, res);
          return;
        }
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
