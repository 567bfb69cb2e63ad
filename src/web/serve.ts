/**
 * Serves the built web app (`dist/web/`) on 127.0.0.1 with the CSP header, exact MIME types
 * and no directory listing. 127.0.0.1 is a secure context, so service workers, the camera and
 * notifications work without TLS.
 *
 * Node only (the app's own static server, used by `npm start`, the tests and
 * `scripts/serve-web.ts`).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream';
import { CSP_HEADER } from './csp.ts';

/** Options of `serveWeb`. */
export interface ServeWebOptions {
  /** Folder to serve. @default "dist/web" under the repository */
  readonly root?: string;
  /** TCP port; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Loopback address to bind. @default "127.0.0.1" */
  readonly host?: string;
}

/** A running server. */
export interface WebServer {
  /** Base URL, e.g. "http://127.0.0.1:43210/". */
  readonly url: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/** Headers on every response: the policy, plus no sniffing, no referrer, no framing. */
const SECURITY_HEADERS = {
  'content-security-policy': CSP_HEADER,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  // The camera scans invite QR codes and the microphone records voice notes, both on this
  // origin only (W3C Permissions Policy §5); nothing else is ever asked for.
  'permissions-policy': 'camera=(self), microphone=(self), geolocation=()',
};

/** Starts the server; see the module comment. */
export async function serveWeb(options: ServeWebOptions = {}): Promise<WebServer> {
  const root = resolve(options.root ?? join(import.meta.dirname, '..', '..', 'dist/web'));
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1' && host !== '::1' && host !== 'localhost') {
    throw new RangeError(`"host" expected a loopback address, got ${host}`);
  }
  const server = createServer((req, res) => void handle(root, req, res));
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, host, () => ok());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host === '::1' ? '[::1]' : host}:${port}/`,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

async function handle(root: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...SECURITY_HEADERS, allow: 'GET, HEAD' }).end();
    return;
  }
  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    res.writeHead(400, SECURITY_HEADERS).end();
    return;
  }
  if (path.endsWith('/')) path += 'index.html';
  const file = resolve(root, `.${path}`);
  // resolve() collapses "..": anything outside the root is refused, not looked up.
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(403, SECURITY_HEADERS).end();
    return;
  }
  const type = MIME[extname(file)];
  const info = await stat(file).catch(() => undefined);
  if (type === undefined || info === undefined || !info.isFile()) {
    res.writeHead(404, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' }).end('Not found');
    return;
  }
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': type,
    'content-length': info.size,
    // Revalidate every time; the service worker is what keeps files offline.
    'cache-control': 'no-cache',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  // pipeline, not pipe: a read that fails after the headers went out (the file removed or
  // damaged since the stat) cuts this response off instead of crashing the server.
  pipeline(createReadStream(file), res, () => undefined);
}
