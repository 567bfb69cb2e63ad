/**
 * The local Kaspa network: a process that speaks and behaves like
 * `kaspad --simnet --utxoindex --rpclisten-json` (FACTS §6, §7), for development, demos and
 * tests. `startDevnet` runs it in-process; `npm run devnet` runs it alone (`main.ts`).
 */
import { Address, addressToScriptPublicKey } from '../kaspa/address.ts';
import type { ScriptPublicKey } from '../kaspa/types.ts';
import { Chain } from './chain.ts';
import { startControlServer, type ControlServer } from './control.ts';
import { DevnetError } from './errors.ts';
import { Faucet } from './faucet.ts';
import { ADDRESS_PREFIX, DEFAULT_RPC_PORT, TARGET_TIME_PER_BLOCK_MS } from './params.ts';
import type { DevnetFaults } from './faults.ts';
import { WrpcServer, type NotificationPolicy } from './rpc/server.ts';
import { DevnetStore } from './store.ts';

export { DevnetError, TxRejectedError, type DevnetErrorCode, type RejectRule } from './errors.ts';
export { parseKas } from './faucet.ts';
export type { Block, Chain } from './chain.ts';
export type { DevnetFaults } from './faults.ts';

/** Options of `startDevnet`. */
export interface DevnetOptions {
  /** Interface to bind; loopback only by default. */
  readonly host?: string;
  /** wRPC JSON port; default 18510 (simnet, FACTS §6.1); 0 picks a free port. */
  readonly port?: number;
  /**
   * More wRPC JSON ports served from the same chain, each its own server (0 picks a free
   * port): in tests they stand for nodes of different operators (docs/devnet.md).
   */
  readonly rpcPorts?: readonly number[];
  /** Local-only HTTP control port (faucet, mining, faults); default `port + 1` (0 when `port` is 0); false disables it. */
  readonly controlPort?: number | false;
  /** Blocks mined per second; default 10 (FACTS §0); 0 mines only on `mine()`. */
  readonly blocksPerSecond?: number;
  /** Directory that keeps chain, UTXO set and mempool across restarts; in-memory when absent. */
  readonly dataDir?: string;
  /** Blocks whose bodies are kept (FACTS §6.6); default 1,080,000 like a real node (~30 h). */
  readonly pruningDepth?: number;
  /** Coinbase maturity in DAA score; default 1,000 like a real node (FACTS §7.2). */
  readonly coinbaseMaturity?: bigint;
  /** Addresses credited at start with already-mature coins (sompi), on a fresh data directory only. */
  readonly prefund?: Readonly<Record<string, bigint>>;
  /** Address that receives block rewards; default the faucet's own address. */
  readonly miningAddress?: string;
}

/** A running local network. */
export interface DevnetHandle {
  /** wRPC JSON URL, `ws://127.0.0.1:<port>`. */
  readonly url: string;
  /** Every wRPC JSON URL: `url` first, then one per `rpcPorts` entry. */
  readonly urls: readonly string[];
  /** Stops serving `urls[index]` (its connections drop, as when a node dies); the chain goes on. */
  stopRpc(index: number): Promise<void>;
  /** Serves `urls[index]` again on the same port after `stopRpc`. */
  restartRpc(index: number): Promise<void>;
  /** Control endpoint base URL (`http://127.0.0.1:<port>/devnet`), when enabled. */
  readonly controlUrl: string | undefined;
  /** The faucet's `kaspasim:` address. */
  readonly faucetAddress: string;
  /** The consensus state, for assertions in tests. */
  readonly chain: Chain;
  readonly faults: DevnetFaults;
  /** Mines `n` blocks now (default 1), including mempool transactions; returns their hashes. */
  mine(n?: number): string[];
  /** Sends `sompi` to a `kaspasim:` address with a real faucet transaction; returns its id. */
  fund(address: string, sompi: bigint): string;
  /** Stops mining and servers and closes the data directory. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a local network. */
export async function startDevnet(options: DevnetOptions = {}): Promise<DevnetHandle> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_RPC_PORT;
  const bps = options.blocksPerSecond ?? 1000 / TARGET_TIME_PER_BLOCK_MS;
  if (!Number.isFinite(bps) || bps < 0 || bps > 1000)
    throw new RangeError(`"blocksPerSecond" expected 0..1000, got ${bps}`);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new RangeError(`"port" expected 0..65535, got ${port}`);
  const extraPorts = options.rpcPorts ?? [];
  if (!Array.isArray(extraPorts) || extraPorts.length > 64)
    throw new RangeError('"rpcPorts" expected an array of at most 64 ports');
  for (const p of extraPorts)
    if (!Number.isInteger(p) || p < 0 || p > 65535)
      throw new RangeError(`"rpcPorts" expected ports 0..65535, got ${String(p)}`);

  const chain = new Chain({
    ...(options.pruningDepth === undefined ? {} : { pruningDepth: options.pruningDepth }),
    ...(options.coinbaseMaturity === undefined ? {} : { coinbaseMaturity: options.coinbaseMaturity }),
  });
  let store: DevnetStore | undefined;
  let fresh = true;
  if (options.dataDir !== undefined) {
    store = await DevnetStore.open(options.dataDir);
    const state = await store.load(chain.pruningDepth);
    if (state !== undefined) {
      chain.restore(state);
      fresh = false;
    }
    store.attach(chain);
  }
  const faucet = new Faucet(chain);
  if (fresh) {
    for (const [address, amount] of Object.entries(options.prefund ?? {}))
      chain.allocate(simnetScript(address), amount);
  }
  const miner = options.miningAddress === undefined ? faucet.script : simnetScript(options.miningAddress);

  const policy: NotificationPolicy = { delayMs: 0, withhold: false };
  // Each port is its own server with its own node id, as separate kaspad processes would be;
  // kaspad's node id is a random (v4) UUID in its hyphenated text form.
  const servers: (WrpcServer | undefined)[] = [];
  const ports: number[] = [];
  const listen = (p: number): Promise<WrpcServer> =>
    WrpcServer.listen({ host, port: p, chain, policy, p2pId: crypto.randomUUID() });
  try {
    for (const p of [port, ...extraPorts]) {
      const s = await listen(p);
      servers.push(s);
      ports.push(Number(new URL(s.url).port));
    }
  } catch (e) {
    for (const s of servers) await s?.close();
    await store?.close();
    throw e;
  }
  const urls = servers.map((s) => s!.url);
  const live = (): WrpcServer[] => servers.filter((s): s is WrpcServer => s !== undefined);
  const checkIndex = (index: number): void => {
    if (!Number.isInteger(index) || index < 0 || index >= servers.length)
      throw new RangeError(`"index" expected 0..${servers.length - 1}, got ${index}`);
  };

  let paused = false;
  let timer: NodeJS.Timeout | undefined;
  if (bps > 0) {
    const interval = 1000 / bps;
    let next = performance.now() + interval;
    const tick = (): void => {
      if (!paused) chain.mine(miner);
      // Scheduled against an absolute clock so the block rate does not drift with mining time.
      next += interval;
      const now = performance.now();
      if (next < now) next = now + interval;
      timer = setTimeout(tick, next - now);
    };
    timer = setTimeout(tick, interval);
  }

  const faults: DevnetFaults = {
    dropConnections: () => live().reduce((n, s) => n + s.dropConnections(), 0),
    delayNotifications: (ms) => {
      if (!Number.isFinite(ms) || ms < 0)
        throw new RangeError(`"ms" expected a non-negative number, got ${ms}`);
      policy.delayMs = ms;
    },
    withholdNotifications: () => {
      policy.withhold = true;
    },
    releaseNotifications: (opts = {}) => {
      policy.withhold = false;
      return live().reduce((n, s) => n + s.releaseNotifications(opts.discard === true), 0);
    },
    pauseMining: () => {
      paused = true;
    },
    resumeMining: () => {
      paused = false;
    },
    reorg: (depth, opts = {}) => {
      const r = chain.reorg(depth, { ...opts, miner });
      return { removed: r.removed.map((b) => b.hashHex), added: r.added.map((b) => b.hashHex) };
    },
  };

  const mine = (n = 1): string[] => {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`"n" expected a positive integer, got ${n}`);
    const hashes: string[] = [];
    for (let i = 0; i < n; i++) hashes.push(chain.mine(miner).hashHex);
    return hashes;
  };
  const fund = (address: string, sompi: bigint): string => faucet.fund(address, sompi).idHex;

  let control: ControlServer | undefined;
  if (options.controlPort !== false) {
    const controlPort = options.controlPort ?? (port === 0 ? 0 : port + 1);
    try {
      control = await startControlServer({
        host,
        port: controlPort,
        mine,
        fund,
        faults,
        status: () => ({
          url: urls[0],
          faucetAddress: faucet.address,
          sink: chain.sink.hashHex,
          virtualDaaScore: chain.virtualDaaScore,
          blockCount: chain.blockCount,
          mempoolSize: chain.mempool.size,
          miningPaused: paused,
          blocksPerSecond: bps,
          connections: live().reduce((n, s) => n + s.connectionCount, 0),
        }),
      });
    } catch (e) {
      for (const s of live()) await s.close();
      await store?.close();
      throw e;
    }
  }

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (timer !== undefined) clearTimeout(timer);
      paused = true;
      await control?.close();
      for (const s of live()) await s.close();
      await store?.close();
    })();
    return stopped;
  };

  const stopRpc = async (index: number): Promise<void> => {
    checkIndex(index);
    const s = servers[index];
    servers[index] = undefined;
    await s?.close();
  };
  const restartRpc = async (index: number): Promise<void> => {
    checkIndex(index);
    if (servers[index] !== undefined || stopped !== undefined) return;
    servers[index] = await listen(ports[index]!);
  };

  return {
    url: urls[0]!,
    urls,
    stopRpc,
    restartRpc,
    controlUrl: control?.url,
    faucetAddress: faucet.address,
    chain,
    faults,
    mine,
    fund,
    stop,
  };
}

/** The script of a `kaspasim:` address; other networks are refused (wrong-network guard). */
function simnetScript(address: string): ScriptPublicKey {
  const a = Address.decode(address);
  if (a.prefix !== ADDRESS_PREFIX)
    throw new DevnetError('BAD_REQUEST', `The address has an invalid prefix ${a.prefix}`);
  return addressToScriptPublicKey(a);
}
