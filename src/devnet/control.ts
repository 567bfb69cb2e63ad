/**
 * The local-only control endpoint: plain HTTP on loopback (by default the wRPC port + 1), under
 * `/devnet/…`, for the faucet, manual mining and fault injection. It is a separate listener on
 * purpose: the wRPC port must behave exactly like kaspad's and so offers nothing kaspad lacks.
 *
 *   GET  /devnet/status
 *   POST /devnet/fund      {"address":"kaspasim:…","amount":"100"}   (KAS, string) or {"sompi":…}
 *   POST /devnet/mine      {"count":1}
 *   POST /devnet/mining    {"paused":true}
 *   POST /devnet/reorg     {"depth":2,"replacement":3,"dropTransactions":false}
 *   POST /devnet/faults/drop-connections
 *   POST /devnet/faults/notifications  {"delayMs":250} | {"withhold":true} | {"release":"deliver"|"discard"}
 *
 * For scripts and tests, never for browsers: any web page the user opens can send requests to
 * 127.0.0.1, and a "simple" cross-origin POST (text/plain, no preflight) would still run. So a
 * request carrying `Origin` (every browser POST does, Fetch §3.1) is refused, as is a `Host`
 * that does not name this machine (a DNS-rebound name), and a POST body must be
 * `application/json` (not sendable cross-origin without a preflight, which is never granted).
 * The web app's faucet is the route on its own origin (src/web/engine/local-origin.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseJson, stringifyJson } from '../kaspa/rpc/json.ts';
import {
  prop,
  readBool,
  readObject,
  readOptional,
  readString,
  readU64,
  readUint,
} from '../kaspa/rpc/fields.ts';
import { DecodeError, P2pCommError } from '../util/errors.ts';
import { parseKas } from './faucet.ts';
import type { DevnetFaults } from './faults.ts';

/** What the control endpoint drives. */
export interface ControlTarget {
  readonly host: string;
  readonly port: number;
  mine(n: number): string[];
  fund(address: string, sompi: bigint): string;
  readonly faults: DevnetFaults;
  status(): Record<string, unknown>;
}

/** A running control endpoint. */
export interface ControlServer {
  /** `http://host:port/devnet`. */
  readonly url: string;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

/** Whether a Host header names this machine (127.0.0.1, localhost or [::1], any port). */
function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  return /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(host);
}

function isJson(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';
}

/** Starts the control endpoint. */
export function startControlServer(target: ControlTarget): Promise<ControlServer> {
  const routes: Record<string, (body: Readonly<Record<string, unknown>>) => unknown> = {
    'GET /devnet/status': () => target.status(),
    'POST /devnet/fund': (b) => {
      const address = readString(prop(b, 'address'), 'address');
      const sompi =
        prop(b, 'sompi') !== undefined
          ? readU64(prop(b, 'sompi'), 'sompi')
          : parseKas(readString(prop(b, 'amount'), 'amount'));
      return { transactionId: target.fund(address, sompi) };
    },
    'POST /devnet/mine': (b) => ({
      hashes: target.mine(readOptional(prop(b, 'count'), 'count', (v, f) => readUint(v, f, 100_000)) ?? 1),
    }),
    'POST /devnet/mining': (b) => {
      if (readBool(prop(b, 'paused'), 'paused')) target.faults.pauseMining();
      else target.faults.resumeMining();
      return {};
    },
    'POST /devnet/reorg': (b) =>
      target.faults.reorg(readUint(prop(b, 'depth'), 'depth', 1_000_000), {
        ...(prop(b, 'replacement') === undefined
          ? {}
          : { replacement: readUint(prop(b, 'replacement'), 'replacement', 1_000_000) }),
        ...(prop(b, 'dropTransactions') === undefined
          ? {}
          : { dropTransactions: readBool(prop(b, 'dropTransactions'), 'dropTransactions') }),
      }),
    'POST /devnet/faults/drop-connections': () => ({ dropped: target.faults.dropConnections() }),
    'POST /devnet/faults/notifications': (b) => {
      const delay = readOptional(prop(b, 'delayMs'), 'delayMs', (v, f) => readUint(v, f, 3_600_000));
      if (delay !== undefined) target.faults.delayNotifications(delay);
      if (readOptional(prop(b, 'withhold'), 'withhold', readBool) === true)
        target.faults.withholdNotifications();
      const release = readOptional(prop(b, 'release'), 'release', readString);
      if (release !== undefined) {
        if (release !== 'deliver' && release !== 'discard')
          throw new RangeError('"release" expected "deliver" or "discard"');
        return { released: target.faults.releaseNotifications({ discard: release === 'discard' }) };
      }
      return {};
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const reply = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(stringifyJson(value));
    };
    const route = routes[`${req.method ?? ''} ${(req.url ?? '').split('?')[0]!}`];
    if (route === undefined) return reply(404, { error: 'no such control route' });
    if (req.headers.origin !== undefined || !isLoopbackHost(req.headers.host))
      return reply(403, { error: 'the control endpoint takes no browser requests' });
    if (req.method === 'POST' && !isJson(req.headers['content-type']))
      return reply(415, { error: 'expected an application/json body' });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) return reply(413, { error: 'body too large' });
      chunks.push(chunk);
    }
    try {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text.trim() === '' ? {} : readObject(parseJson(text), 'body');
      reply(200, route(body));
    } catch (e) {
      if (e instanceof DecodeError || e instanceof RangeError || e instanceof TypeError)
        return reply(400, { error: e.message });
      if (e instanceof P2pCommError) return reply(422, { error: e.message, code: e.code });
      reply(500, { error: e instanceof Error ? e.message : String(e) });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(e));
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(target.port, target.host, () => {
      server.off('error', reject);
      const a = server.address() as AddressInfo;
      resolve({
        url: `http://${a.address}:${a.port}/devnet`,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
