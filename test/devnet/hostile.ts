/**
 * Hostile wRPC clients for the load test and its bench row: several sockets sending malformed,
 * oversized, deeply nested and abusive frames in bursts, each burst ended by a frame kaspad's
 * wRPC framework drops the connection for, and a reader that stops reading while asking for
 * large replies. Every wait has a time limit and every socket is closed in `finally`.
 */
import type { Socket } from 'node:net';
import { RawSocket, within, type Frame } from './helpers.ts';

/** Frames the node answers (with a result or an error), sent before a burst's last frame. */
export const ANSWERED_KINDS = [
  'repeated-addresses',
  'bad-params',
  'huge-string',
  'get-blocks-from-genesis',
  'subscription-flood',
  'unknown-scope',
  'mempool-repeated-addresses',
  'client-notification',
] as const;

/** Frames kaspad's wRPC framework answers by closing the connection. */
export const DROPPED_KINDS = [
  'malformed-json',
  'deep-nesting',
  'huge-id',
  'float-id',
  'duplicate-id',
  'missing-params',
  'unknown-method',
  'binary',
] as const;

export type HostileKind = (typeof ANSWERED_KINDS)[number] | (typeof DROPPED_KINDS)[number];

export interface HostileOptions {
  readonly url: string;
  /** Frames to send in all, across the sockets. */
  readonly frames: number;
  /** Sockets sending at once. */
  readonly sockets: number;
  /** An address with coins, repeated in requests; and how many coins it has. */
  readonly address: string;
  readonly addressCoins: number;
  readonly genesisHash: string;
  /** Frames per burst (one connection each); the last one gets the connection dropped. */
  readonly burst?: number;
}

export interface HostileResult {
  readonly sent: number;
  readonly byKind: Readonly<Record<string, number>>;
  readonly connections: number;
  /** Connections the node closed after the burst's last frame. */
  readonly dropped: number;
  /** Replies to a request repeating one address thousands of times that listed each coin more than once. */
  readonly inflatedReplies: number;
  readonly repeatedReplies: number;
}

function frameFor(kind: HostileKind, id: number, o: HostileOptions): string | Buffer {
  const req = (method: string, params: unknown): string => JSON.stringify({ id, method, params });
  switch (kind) {
    case 'repeated-addresses':
      return req('getUtxosByAddresses', { addresses: Array<string>(1_000).fill(o.address) });
    case 'bad-params':
      return req('getBlock', { hash: 'zz', includeTransactions: 'yes' });
    case 'huge-string':
      return req('getBlock', { hash: 'a'.repeat(512 * 1024), includeTransactions: true });
    case 'get-blocks-from-genesis':
      return req('getBlocks', { lowHash: o.genesisHash, includeBlocks: true, includeTransactions: true });
    case 'subscription-flood':
      return req('subscribe', { UtxosChanged: { addresses: Array<string>(200).fill(o.address) } });
    case 'unknown-scope':
      return req('subscribe', { Nothing: {} });
    case 'mempool-repeated-addresses':
      return req('getMempoolEntriesByAddresses', {
        addresses: Array<string>(200).fill(o.address),
        includeOrphanPool: false,
        filterTransactionPool: false,
      });
    case 'client-notification':
      return JSON.stringify({ method: 'ping', params: {} });
    case 'malformed-json':
      return `{"id":${id},"method":"ping","params":{`;
    case 'deep-nesting':
      return `{"id":${id},"method":"ping","params":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    case 'huge-id':
      return '{"id":18446744073709551616,"method":"ping","params":{}}';
    case 'float-id':
      return '{"id":1.0,"method":"ping","params":{}}';
    case 'duplicate-id':
      return `{"id":${id},"id":${id + 1},"method":"ping","params":{}}`;
    case 'missing-params':
      return `{"id":${id},"method":"ping"}`;
    case 'unknown-method':
      return req('getEverything', {});
    case 'binary':
      return Buffer.from([0x7b, 0x00, 0xff, 0x7d]);
  }
}

/** Runs the hostile sockets until `frames` were sent; resolves with what they saw. */
export async function hostileLoad(o: HostileOptions): Promise<HostileResult> {
  const burst = o.burst ?? 40;
  const byKind: Record<string, number> = {};
  let sent = 0;
  let connections = 0;
  let dropped = 0;
  let inflatedReplies = 0;
  let repeatedReplies = 0;
  let bursts = 0;
  const worker = async (): Promise<void> => {
    while (sent < o.frames) {
      const n = bursts++;
      const socket = await RawSocket.open(o.url);
      connections++;
      try {
        const repeatedIds = new Set<number>();
        for (let i = 0; i < burst - 1; i++) {
          let kind: HostileKind = ANSWERED_KINDS[(n + i) % ANSWERED_KINDS.length]!;
          // The costly kinds are rationed so the run measures the node, not the loopback.
          if (kind === 'huge-string' && n % 10 !== 0) kind = 'bad-params';
          if (kind === 'get-blocks-from-genesis' && (n % 5 !== 0 || i >= ANSWERED_KINDS.length))
            kind = 'unknown-scope';
          const id = n * burst + i + 1;
          if (kind === 'repeated-addresses') repeatedIds.add(id);
          socket.send(frameFor(kind, id, o));
          byKind[kind] = (byKind[kind] ?? 0) + 1;
          sent++;
        }
        const last = DROPPED_KINDS[n % DROPPED_KINDS.length]!;
        socket.send(frameFor(last, n * burst + burst, o));
        byKind[last] = (byKind[last] ?? 0) + 1;
        sent++;
        await within(socket.closed, 30_000, `the node to close the connection after ${last}`);
        dropped++;
        for (const f of socket.frames) {
          if (typeof f['id'] !== 'number' || !repeatedIds.has(f['id'])) continue;
          repeatedReplies++;
          const entries = ((f['params'] as Frame | undefined)?.['entries'] as unknown[] | undefined) ?? [];
          if (entries.length !== o.addressCoins) inflatedReplies++;
        }
      } finally {
        socket.close();
      }
    }
  };
  await Promise.all(Array.from({ length: o.sockets }, () => worker()));
  return { sent, byKind, connections, dropped, inflatedReplies, repeatedReplies };
}

/**
 * A client that asks for `requests` large replies and does not read them. Resolves with how
 * many replies reached it before the node closed the connection, or undefined when the node
 * still held it open after 30 s. `connections` reads the node's count of open connections.
 */
export async function slowReader(
  url: string,
  genesisHash: string,
  requests: number,
  connections: () => Promise<number>,
): Promise<number | undefined> {
  const socket = await RawSocket.open(url);
  try {
    const open = await connections();
    const tcp = (socket.ws as unknown as { _socket: Socket })._socket;
    tcp.pause();
    for (let i = 0; i < requests; i++) {
      socket.send(
        JSON.stringify({
          id: i + 1,
          method: 'getBlocks',
          params: { lowHash: genesisHash, includeBlocks: true, includeTransactions: true },
        }),
      );
    }
    // A paused socket notices no close, so the node's own count tells when it gave up on it.
    const deadline = Date.now() + 30_000;
    let closed = false;
    while (!closed && Date.now() < deadline) {
      closed = (await connections()) < open;
      if (!closed) await new Promise((r) => setTimeout(r, 50));
    }
    tcp.resume();
    if (!closed) return undefined;
    await within(socket.closed, 30_000, 'the slow reader to see its connection closed');
    return socket.frames.filter((f) => typeof f['id'] === 'number').length;
  } finally {
    socket.close();
  }
}
