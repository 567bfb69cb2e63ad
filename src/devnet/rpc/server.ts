/**
 * The wRPC JSON endpoint: one JSON object per WebSocket text frame, in the envelope of
 * FACTS §6.2 (`workflow-rpc` serde_json messages). Like kaspad it handles the requests of one
 * connection strictly in order, answers bad params with "request deserialization error", and
 * drops the connection on a frame it cannot parse (bad JSON, non-integer id, unknown method).
 * Subscriptions (FACTS §6.4) live and die with their connection.
 */
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { DecodeError } from '../../util/errors.ts';
import { addressToScriptPublicKey, scriptPublicKeyToAddress } from '../../kaspa/address.ts';
import { stringifyJson } from '../../kaspa/rpc/json.ts';
import { prop, readBool, readObject, RpcFieldError } from '../../kaspa/rpc/fields.ts';
import { NOTIFICATION_METHODS } from '../../kaspa/rpc/wire.ts';
import type { Chain, VirtualChange } from '../chain.ts';
import { DevnetError } from '../errors.ts';
import { readRequestEnvelope } from './envelope.ts';
import { spkKey } from '../utxo-set.ts';
import type { Utxo } from '../../kaspa/types.ts';
import {
  KNOWN_METHODS,
  readAddresses,
  blockToRpc,
  createMethods,
  type MethodContext,
  type MethodHandler,
} from './methods.ts';
import { utxosByAddressesEntryToRpc } from '../../kaspa/rpc/convert.ts';
import { ADDRESS_PREFIX } from '../params.ts';

/**
 * How replies and notifications are written: kaspad turns every RPC body into a serde_json
 * `Value` whose maps are BTreeMaps, so each object's keys come out sorted. The envelopes
 * around a body (`id`, `method`, `params`) happen to be in that order already.
 */
const NODE_JSON = { sortKeys: true } as const;

/** kaspad's maximum wRPC message size (FACTS §5). */
const MAX_MESSAGE_BYTES = 128 * 1024 * 1024;

/**
 * Bytes a connection may have queued unsent before it is dropped. A client that subscribes and
 * stops reading would otherwise make the node hold every notification in memory; kaspad's
 * per-connection notification channel is bounded the same way, and its consumer closed when full.
 */
export const MAX_BACKLOG_BYTES = 32 * 1024 * 1024;

/** How notifications are delivered; changed at run time by fault injection. */
export interface NotificationPolicy {
  /** Extra delay before each notification frame, in ms (0 = immediate). */
  delayMs: number;
  /** While true, notifications are held back until released. */
  withhold: boolean;
}

type Variant = keyof typeof NOTIFICATION_METHODS;

interface Subscriptions {
  /** Script keys watched for UtxosChanged; undefined when not subscribed. */
  utxos: Set<string> | undefined;
  blockAdded: boolean;
  /** VirtualChainChanged with or without accepted transaction ids; undefined when not subscribed. */
  virtualChain: { includeIds: boolean } | undefined;
  virtualDaaScore: boolean;
  sinkBlueScore: boolean;
}

class Connection {
  readonly subs: Subscriptions = {
    utxos: undefined,
    blockAdded: false,
    virtualChain: undefined,
    virtualDaaScore: false,
    sinkBlueScore: false,
  };
  /** Notification frames held back while the policy withholds them. */
  readonly held: string[] = [];
  constructor(
    readonly socket: WebSocket,
    readonly listenerId: number,
  ) {}

  send(text: string): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (this.socket.bufferedAmount + text.length > MAX_BACKLOG_BYTES) return this.drop();
    this.socket.send(text);
  }

  drop(): void {
    this.socket.terminate();
  }
}

/** Options of `WrpcServer.listen`. */
export interface WrpcServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly chain: Chain;
  readonly p2pId: string;
  readonly policy: NotificationPolicy;
}

/** A running wRPC JSON server over a chain. */
export class WrpcServer {
  readonly #wss: WebSocketServer;
  readonly #chain: Chain;
  readonly #connections = new Set<Connection>();
  readonly #methods: Map<string, MethodHandler>;
  readonly #policy: NotificationPolicy;
  readonly #unlisten: () => void;
  #nextListenerId = 1;

  private constructor(wss: WebSocketServer, opts: WrpcServerOptions) {
    this.#wss = wss;
    this.#chain = opts.chain;
    this.#policy = opts.policy;
    const ctx: MethodContext = {
      chain: opts.chain,
      p2pId: opts.p2pId,
      connectionCount: () => this.#connections.size,
    };
    this.#methods = createMethods(ctx);
    wss.on('connection', (socket) => this.#accept(socket));
    this.#unlisten = opts.chain.listen({
      blockAdded: (block) => {
        // kaspad announces a block when its body is stored, before the virtual moves onto it, so
        // the announcement never says it is a chain block (getBlock will, once it is).
        const rpc = blockToRpc(this.#chain, block, true);
        const frame = this.#frame('BlockAdded', {
          block: { ...rpc, verboseData: { ...rpc.verboseData, isChainBlock: false } },
        });
        this.#broadcast((c) => c.subs.blockAdded, frame);
      },
      virtualChanged: (change) => this.#publishVirtual(change),
    });
  }

  /** Starts listening; resolves once the port is bound. */
  static listen(opts: WrpcServerOptions): Promise<WrpcServer> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({ host: opts.host, port: opts.port, maxPayload: MAX_MESSAGE_BYTES });
      wss.once('error', reject);
      wss.once('listening', () => {
        wss.off('error', reject);
        resolve(new WrpcServer(wss, opts));
      });
    });
  }

  /** `ws://host:port` (no path, FACTS §6.1). */
  get url(): string {
    const a = this.#wss.address() as AddressInfo;
    return `ws://${a.address}:${a.port}`;
  }

  /** Number of open client connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Closes every client connection abruptly (fault injection); returns how many. */
  dropConnections(): number {
    const n = this.#connections.size;
    for (const c of this.#connections) c.drop();
    return n;
  }

  /** Sends (or, with `discard`, forgets) every notification held back while withholding. */
  releaseNotifications(discard = false): number {
    let n = 0;
    for (const c of this.#connections) {
      n += c.held.length;
      const frames = c.held.splice(0);
      if (!discard) for (const f of frames) c.send(f);
    }
    return n;
  }

  /** Stops listening and closes every connection. */
  close(): Promise<void> {
    this.#unlisten();
    for (const c of this.#connections) c.drop();
    return new Promise((resolve) => this.#wss.close(() => resolve()));
  }

  #accept(socket: WebSocket): void {
    const conn = new Connection(socket, this.#nextListenerId++);
    this.#connections.add(conn);
    socket.on('close', () => this.#connections.delete(conn));
    socket.on('error', () => conn.drop());
    // `ws` delivers frames in arrival order and every handler is synchronous, so requests of one
    // connection are answered strictly in order, as kaspad's non-async handling does.
    socket.on('message', (data: RawData, isBinary: boolean) => this.#onFrame(conn, data, isBinary));
  }

  #onFrame(conn: Connection, data: RawData, isBinary: boolean): void {
    if (isBinary) return conn.drop();
    const envelope = readRequestEnvelope(
      Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'),
    );
    if (envelope === undefined || !KNOWN_METHODS.has(envelope.method)) return conn.drop();
    const { id, method, params } = envelope;
    // Without an id the frame is a client-side notification: no reply is due.
    if (id === undefined) return;
    let reply: string;
    try {
      const body = readObject(params, 'params');
      const result =
        method === 'subscribe' || method === 'unsubscribe'
          ? this.#subscription(conn, method, body)
          : this.#methods.get(method)!(body);
      reply = stringifyJson({ id, method, params: result }, NODE_JSON);
      // No frame larger than a client may receive (FACTS §5): the request is answered with an error.
      if (reply.length > MAX_MESSAGE_BYTES)
        throw new DevnetError(
          'BAD_REQUEST',
          `response of ${reply.length} bytes exceeds the message size limit`,
        );
    } catch (e) {
      // The error envelope keeps the field order of its Rust structs (`id`, `method`, `error`;
      // `code`, `message`, `data`): only serde_json `Value` maps come out sorted.
      reply = stringifyJson({ id, method, error: { code: 0, message: errorText(e), data: null } });
    }
    conn.send(reply);
  }

  #subscription(
    conn: Connection,
    method: 'subscribe' | 'unsubscribe',
    scope: Readonly<Record<string, unknown>>,
  ): unknown {
    const keys = Object.keys(scope);
    if (keys.length !== 1) throw new RpcFieldError('params', 'expected one scope variant');
    const variant = keys[0]!;
    const body = readObject(scope[variant], `params.${variant}`);
    const on = method === 'subscribe';
    switch (variant) {
      case 'UtxosChanged': {
        // Each distinct address is decoded once: a flood repeating one costs one decode.
        const addresses = readAddresses(prop(body, 'addresses'), 'addresses');
        if (!on) {
          // As kaspad 2.1.0 does (test/oracle/utxo-unsubscribe.ts; rusty-kaspa notify
          // subscription: Selected(S) minus R is Selected(S - R), an empty list is None): the
          // named addresses are removed and the rest stay, an address never named changes
          // nothing, an empty list ends the subscription. Addresses are a set, not counted.
          // Unsubscribing is always allowed, even with an empty list.
          const watched = conn.subs.utxos;
          if (watched === undefined) break;
          if (addresses.length === 0) watched.clear();
          for (const a of addresses) watched.delete(spkKey(addressToScriptPublicKey(a)));
          if (watched.size === 0) conn.subs.utxos = undefined;
          break;
        }
        if (addresses.length === 0) {
          throw new DevnetError(
            'BAD_REQUEST',
            'Method unavailable in safe mode. Run the node with --unsaferpc argument.',
          );
        }
        conn.subs.utxos ??= new Set();
        for (const a of addresses) conn.subs.utxos.add(spkKey(addressToScriptPublicKey(a)));
        break;
      }
      case 'BlockAdded':
        conn.subs.blockAdded = on;
        break;
      case 'VirtualChainChanged':
        conn.subs.virtualChain = on
          ? {
              includeIds: readBool(
                prop(body, 'include_accepted_transaction_ids'),
                'include_accepted_transaction_ids',
              ),
            }
          : undefined;
        break;
      case 'VirtualDaaScoreChanged':
        conn.subs.virtualDaaScore = on;
        break;
      case 'SinkBlueScoreChanged':
        conn.subs.sinkBlueScore = on;
        break;
      case 'PruningPointUtxoSetOverride':
      case 'NewBlockTemplate':
      case 'FinalityConflict':
      case 'FinalityConflictResolved':
        // Accepted like on kaspad; this network never raises these events.
        break;
      default:
        throw new RpcFieldError('params', `unknown scope ${variant}`);
    }
    return on ? { id: conn.listenerId } : {};
  }

  #frame(variant: Variant, body: unknown): string {
    return stringifyJson({ method: NOTIFICATION_METHODS[variant], params: { [variant]: body } }, NODE_JSON);
  }

  #publishVirtual(change: VirtualChange): void {
    const moved = change.addedChain.length > 0 || change.removedChain.length > 0;
    if (moved) {
      const base = {
        removedChainBlockHashes: change.removedChain.map((b) => b.hashHex),
        addedChainBlockHashes: change.addedChain.map((b) => b.hashHex),
      };
      const withIds = this.#frame('VirtualChainChanged', {
        ...base,
        acceptedTransactionIds: change.addedChain.map((b) => ({
          acceptingBlockHash: b.hashHex,
          acceptedTransactionIds: (b.acceptedIds ?? []).map((id) => Buffer.from(id).toString('hex')),
        })),
      });
      const withoutIds = this.#frame('VirtualChainChanged', { ...base, acceptedTransactionIds: [] });
      for (const c of this.#connections) {
        if (c.subs.virtualChain !== undefined)
          this.#deliver(c, c.subs.virtualChain.includeIds ? withIds : withoutIds);
      }
    }
    this.#publishUtxos(change.utxoDiff.added, change.utxoDiff.removed);
    if (moved) {
      const blue = this.#frame('SinkBlueScoreChanged', { sinkBlueScore: change.sinkBlueScore });
      this.#broadcast((c) => c.subs.sinkBlueScore, blue);
      const daa = this.#frame('VirtualDaaScoreChanged', { virtualDaaScore: change.virtualDaaScore });
      this.#broadcast((c) => c.subs.virtualDaaScore, daa);
    }
  }

  #publishUtxos(added: readonly Utxo[], removed: readonly Utxo[]): void {
    const watchers = [...this.#connections].filter((c) => c.subs.utxos !== undefined);
    if (watchers.length === 0 || (added.length === 0 && removed.length === 0)) return;
    const toRpc = (u: Utxo) =>
      utxosByAddressesEntryToRpc({
        ...u,
        address: scriptPublicKeyToAddress(u.entry.scriptPublicKey, ADDRESS_PREFIX)?.toString() ?? null,
      });
    for (const c of watchers) {
      const watched = c.subs.utxos!;
      const a = added.filter((u) => watched.has(spkKey(u.entry.scriptPublicKey)));
      const r = removed.filter((u) => watched.has(spkKey(u.entry.scriptPublicKey)));
      if (a.length === 0 && r.length === 0) continue;
      this.#deliver(c, this.#frame('UtxosChanged', { added: a.map(toRpc), removed: r.map(toRpc) }));
    }
  }

  #broadcast(wants: (c: Connection) => boolean, frame: string): void {
    for (const c of this.#connections) if (wants(c)) this.#deliver(c, frame);
  }

  #deliver(c: Connection, frame: string): void {
    if (this.#policy.withhold) {
      c.held.push(frame);
    } else if (this.#policy.delayMs > 0) {
      setTimeout(() => c.send(frame), this.#policy.delayMs).unref();
    } else {
      c.send(frame);
    }
  }
}

/** The `error.message` of a failed request (FACTS §6.2). */
function errorText(e: unknown): string {
  if (e instanceof DevnetError) return e.message;
  // A request body that does not decode gets no field detail, like serde behind workflow-rpc.
  if (e instanceof DecodeError) return 'request deserialization error';
  if (e instanceof RangeError || e instanceof TypeError) return 'request deserialization error';
  return `internal error: ${e instanceof Error ? e.message : String(e)}`;
}
