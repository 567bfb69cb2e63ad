/**
 * Kaspa wRPC JSON client (FACTS §6): requests `{"id","method","params"}` with small
 * incrementing ids, results under `params`, node errors as typed RpcError. Works in browsers
 * and Node through an injectable WebSocket factory, reconnects with exponential backoff and
 * jitter across a list of node URLs, resubscribes every active subscription after a
 * reconnect and reports the gap so callers can catch up.
 *
 * Ordering: kaspad handles the requests of one connection sequentially (FACTS §6.2), and a
 * `subscribe*` call resolves only once the node acknowledged it, so "subscribe, then query"
 * (FACTS §6.4) misses nothing. After a reconnect, subscriptions are restored before any
 * queued call is sent.
 */
import { assertInteger } from '../../util/errors.ts';
import type { BlockHash, Transaction, TxId } from '../types.ts';
import {
  type AddressedUtxo,
  type MempoolEntry,
  blockHashFromRpc,
  hashToRpc,
  mempoolEntryFromRpc,
  transactionToRpc,
  txIdFromRpc,
  u64ToRpc,
  utxosByAddressesEntryFromRpc,
} from './convert.ts';
import { Emitter } from './emitter.ts';
import { RpcError, serverError } from './errors.ts';
import {
  arrayOf,
  prop,
  readArray,
  readBool,
  readObject,
  readOptional,
  readString,
  readU64,
} from './fields.ts';
import { parseJson, stringifyJson } from './json.ts';
import {
  type Block,
  type BlockDagInfo,
  type FeeEstimate,
  type MempoolEntriesByAddress,
  type NodeInfo,
  type ServerInfo,
  type SubmitBlockReport,
  type UtxosChanged,
  type VirtualChainChanged,
  type VirtualChainV2,
  blockDagInfoFromRpc,
  blockFromRpc,
  feeEstimateFromRpc,
  mempoolEntriesByAddressFromRpc,
  nodeInfoFromRpc,
  serverInfoFromRpc,
  submitBlockReportFromRpc,
  utxosChangedFromRpc,
  virtualChainChangedFromRpc,
  virtualChainV2FromRpc,
} from './responses.ts';
import {
  type Timers,
  type WebSocketFactory,
  type WebSocketLike,
  DEFAULT_MAX_FRAME_BYTES,
  WS_MESSAGE_TOO_BIG,
  platformWebSocketFactory,
  systemTimers,
} from './socket.ts';

/** Re-exported beside the option it is the default of. */
export { DEFAULT_MAX_FRAME_BYTES };
import type { RpcDataVerbosityLevel, RpcRawBlock } from './wire.ts';

/** Per-call options (STYLE §11). */
export interface CallOptions {
  readonly signal?: AbortSignal;
  /** Milliseconds before the call fails with TIMEOUT, including time spent waiting for a reconnect. @default the client's `requestTimeoutMs` (30_000) */
  readonly timeoutMs?: number;
}

/**
 * Which pools a mempool query reads (FACTS §6.5); `filterTransactionPool: true` (leave out the
 * transaction pool) requires `includeOrphanPool: true`, else the node answers SERVER_ERROR.
 */
export interface MempoolQueryOptions extends CallOptions {
  /** @default false */
  readonly includeOrphanPool?: boolean;
  /** @default false */
  readonly filterTransactionPool?: boolean;
}

/** Reconnect policy: delay = min(maxDelayMs, initialDelayMs × 2^attempt), then jittered to [½, 1]×. */
export interface ReconnectOptions {
  /** @default 250 */
  readonly initialDelayMs?: number;
  /** @default 30_000 */
  readonly maxDelayMs?: number;
}

/** Construction options; every timeout and delay is in milliseconds. */
export interface KaspaRpcClientOptions {
  /** One or more `ws://host:port` node URLs; on failure the next one is tried, round robin. */
  readonly urls: string | readonly string[];
  /** @default platform WebSocket, else the `ws` package */
  readonly webSocketFactory?: WebSocketFactory;
  /** @default systemTimers */
  readonly timers?: Timers;
  /** Default per-call timeout. @default 30_000 */
  readonly requestTimeoutMs?: number;
  /** Time allowed for one WebSocket to open. @default 10_000 */
  readonly connectTimeoutMs?: number;
  /** `false` disables reconnecting: a lost connection then leaves the client disconnected. @default {} */
  readonly reconnect?: ReconnectOptions | false;
  /** Interval of liveness pings on an idle-looking connection; 0 disables. A ping that times out drops the connection. @default 30_000 */
  readonly heartbeatMs?: number;
  /**
   * Largest frame read from a node, in bytes (UTF-16 units for text frames, which wRPC JSON
   * frames are: ASCII keys and hex). A larger one fails the calls in flight with
   * FRAME_TOO_LARGE and replaces the connection, unparsed. @default DEFAULT_MAX_FRAME_BYTES (64 MiB)
   */
  readonly maxFrameBytes?: number;
}

/** What a caller needs to catch up after a reconnect. */
export interface ReconnectGap {
  readonly url: string;
  /** Milliseconds since the epoch. */
  readonly disconnectedAt: number;
  readonly reconnectedAt: number;
  /** Last virtual DAA score and sink seen before the connection dropped (absent if never seen). */
  readonly before: ChainPosition;
  /** The node's position right after reconnecting (absent if getBlockDagInfo failed). */
  readonly after: ChainPosition;
}

/** A point on the DAG as last observed. */
export interface ChainPosition {
  readonly virtualDaaScore?: bigint;
  readonly sink?: BlockHash;
}

/** Client events. `error` reports background problems (bad frames, failed resubscription, listener exceptions). */
export interface KaspaRpcClientEvents {
  open: { readonly url: string };
  close: { readonly url: string; readonly code?: number; readonly reason?: string };
  reconnect: ReconnectGap;
  error: unknown;
}

/** Handle of an active subscription. */
export interface Subscription {
  /** Stops delivery; tells the node once no other local subscriber needs the scope. */
  unsubscribe(opts?: CallOptions): Promise<void>;
}

type Variant =
  'UtxosChanged' | 'BlockAdded' | 'VirtualChainChanged' | 'VirtualDaaScoreChanged' | 'SinkBlueScoreChanged';

interface Sub {
  readonly variant: Variant;
  readonly listener: (value: never) => void;
  readonly addresses?: ReadonlySet<string>;
  readonly includeAcceptedTransactionIds?: boolean;
}

interface Pending {
  readonly method: string;
  resolve(params: unknown): void;
  reject(error: RpcError): void;
}

interface Waiter {
  readonly internal: boolean;
  send(): void;
  reject(error: RpcError): void;
}

type State = 'idle' | 'connecting' | 'handshaking' | 'open' | 'closed';

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_HEARTBEAT_MS = 30_000;
const MAX_ABANDONED_IDS = 1024;
const SIMPLE_VARIANTS = ['BlockAdded', 'VirtualDaaScoreChanged', 'SinkBlueScoreChanged'] as const;

/** Kaspa wRPC JSON client. Create, `connect()`, call, `close()`. */
export class KaspaRpcClient {
  private readonly urls: readonly string[];
  private readonly factory: WebSocketFactory;
  private readonly timers: Timers;
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly reconnectPolicy: Required<ReconnectOptions> | false;
  private readonly heartbeatMs: number;
  private readonly maxFrameBytes: number;
  private readonly events = new Emitter<KaspaRpcClientEvents>();

  private state: State = 'idle';
  private socket: WebSocketLike | undefined;
  private socketUrl = '';
  private urlIndex = 0;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly abandoned = new Set<number>();
  private readonly waiting = new Set<Waiter>();
  private readonly subs = new Set<Sub>();
  /** What the node currently has subscribed on this connection. */
  private node = {
    utxoAddresses: new Set<string>(),
    simple: new Set<Variant>(),
    vcc: undefined as boolean | undefined,
  };
  private syncChain: Promise<void> = Promise.resolve();
  private lastSeen: { virtualDaaScore?: bigint; sink?: BlockHash } = {};
  private gapStart: { at: number; before: ChainPosition } | undefined;
  private wake: (() => void) | undefined;
  private onSocketGone: (() => void) | undefined;
  private heartbeat: unknown;
  /** Size of the frame the client itself refused on the current socket, if it did. */
  private oversize: number | undefined;

  constructor(options: KaspaRpcClientOptions) {
    const urls = typeof options.urls === 'string' ? [options.urls] : [...options.urls];
    if (urls.length === 0) throw new RangeError('"urls" expected at least one node URL');
    for (const u of urls) {
      if (typeof u !== 'string' || !/^wss?:\/\//.test(u))
        throw new TypeError(`"urls" expected ws:// or wss:// URLs, got ${String(u)}`);
    }
    this.urls = urls;
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    assertInteger('maxFrameBytes', this.maxFrameBytes, 1, 2 ** 32);
    this.factory = options.webSocketFactory ?? platformWebSocketFactory(this.maxFrameBytes);
    this.timers = options.timers ?? systemTimers;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    assertInteger('requestTimeoutMs', this.requestTimeoutMs, 1, 2 ** 31 - 1);
    assertInteger('connectTimeoutMs', this.connectTimeoutMs, 1, 2 ** 31 - 1);
    assertInteger('heartbeatMs', this.heartbeatMs, 0, 2 ** 31 - 1);
    this.reconnectPolicy =
      options.reconnect === false
        ? false
        : {
            initialDelayMs: options.reconnect?.initialDelayMs ?? 250,
            maxDelayMs: options.reconnect?.maxDelayMs ?? 30_000,
          };
  }

  /** Subscribes to a client event; returns the function that removes the listener. */
  on<K extends keyof KaspaRpcClientEvents>(
    event: K,
    listener: (value: KaspaRpcClientEvents[K]) => void,
  ): () => void {
    return this.events.on(event, listener);
  }

  /** True once `close()` was called (read through a getter so narrowing never outlives an await). */
  private get closed(): boolean {
    return this.state === 'closed';
  }

  /** True while calls are sent straight away. */
  get isConnected(): boolean {
    return this.state === 'open';
  }

  /** URL of the current connection, or undefined. */
  get url(): string | undefined {
    return this.state === 'open' || this.state === 'handshaking' ? this.socketUrl : undefined;
  }

  /** Last virtual DAA score and sink this client observed. */
  get position(): ChainPosition {
    return { ...this.lastSeen };
  }

  /**
   * Connects (trying every URL in turn, with backoff) and resolves once subscriptions are
   * in place. Without reconnects, rejects CONNECT_FAILED after one failed round of URLs.
   */
  async connect(opts: CallOptions = {}): Promise<void> {
    if (this.state === 'closed') throw new RpcError('NOT_CONNECTED', 'client is closed');
    if (this.state === 'open') return;
    if (this.state === 'idle') {
      this.state = 'connecting';
      this.runLoop().catch((e: unknown) => this.report(e));
    }
    await this.waitForOpen(opts);
  }

  /** Closes for good: pending and queued calls fail with CONNECTION_CLOSED. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stopHeartbeat();
    this.wake?.();
    const socket = this.socket;
    this.socket = undefined;
    if (socket !== undefined) {
      detach(socket);
      try {
        socket.close(1000, 'client closed');
      } catch {
        // Already closing; nothing to release.
      }
    }
    this.failInFlight(new RpcError('CONNECTION_CLOSED', 'client closed'));
    this.onSocketGone?.();
  }

  // -------------------------------------------------------------------------------------
  // Methods (FACTS §6.3, §6.5)
  // -------------------------------------------------------------------------------------

  /** `ping`. */
  async ping(opts?: CallOptions): Promise<void> {
    await this.call('ping', {}, () => undefined, opts);
  }

  /** `getServerInfo`. */
  async getServerInfo(opts?: CallOptions): Promise<ServerInfo> {
    const info = await this.call('getServerInfo', {}, (p) => serverInfoFromRpc(p), opts);
    this.lastSeen.virtualDaaScore = info.virtualDaaScore;
    return info;
  }

  /** `getInfo`. */
  async getInfo(opts?: CallOptions): Promise<NodeInfo> {
    return this.call('getInfo', {}, (p) => nodeInfoFromRpc(p), opts);
  }

  /** `getBlockDagInfo`; also records the virtual DAA score and sink. */
  async getBlockDagInfo(opts?: CallOptions): Promise<BlockDagInfo> {
    const info = await this.call('getBlockDagInfo', {}, (p) => blockDagInfoFromRpc(p), opts);
    this.lastSeen = { virtualDaaScore: info.virtualDaaScore, sink: info.sink };
    return info;
  }

  /** `getSink`: the virtual's selected parent, a chain block to start getVirtualChainFromBlock* from. */
  async getSink(opts?: CallOptions): Promise<BlockHash> {
    const sink = await this.callField('getSink', {}, 'sink', blockHashFromRpc, opts);
    this.lastSeen.sink = sink;
    return sink;
  }

  /** `getUtxosByAddresses` (node needs `--utxoindex`). */
  async getUtxosByAddresses(addresses: readonly string[], opts?: CallOptions): Promise<AddressedUtxo[]> {
    checkAddresses(addresses);
    return this.callField(
      'getUtxosByAddresses',
      { addresses: [...addresses] },
      'entries',
      arrayOf(utxosByAddressesEntryFromRpc),
      opts,
    );
  }

  /** `getBalanceByAddress`, in sompi. */
  async getBalanceByAddress(address: string, opts?: CallOptions): Promise<bigint> {
    checkAddresses([address]);
    return this.callField('getBalanceByAddress', { address }, 'balance', readU64, opts);
  }

  /** `getBalancesByAddresses`; `balance` is undefined where the node reports none. */
  async getBalancesByAddresses(
    addresses: readonly string[],
    opts?: CallOptions,
  ): Promise<{ readonly address: string; readonly balance: bigint | undefined }[]> {
    checkAddresses(addresses);
    return this.callField(
      'getBalancesByAddresses',
      { addresses: [...addresses] },
      'entries',
      arrayOf((x, path) => {
        const o = readObject(x, path);
        return {
          address: readString(prop(o, 'address'), `${path}.address`),
          balance: readOptional(prop(o, 'balance'), `${path}.balance`, readU64),
        };
      }),
      opts,
    );
  }

  /**
   * `submitTransaction`; resolves with the id the node computed. A refusal rejects with
   * REJECTED_TRANSACTION carrying the node's txid and reason.
   */
  async submitTransaction(
    tx: Transaction,
    opts: CallOptions & { readonly allowOrphan?: boolean } = {},
  ): Promise<TxId> {
    const transaction = transactionToRpc(tx);
    return this.callField(
      'submitTransaction',
      { transaction, allowOrphan: opts.allowOrphan ?? false },
      'transactionId',
      txIdFromRpc,
      opts,
    );
  }

  /** `getMempoolEntry`. Not found is SERVER_ERROR ("Transaction <id> not found"). */
  async getMempoolEntry(txId: TxId, opts: MempoolQueryOptions = {}): Promise<MempoolEntry> {
    return this.callField(
      'getMempoolEntry',
      {
        transactionId: hashToRpc(txId),
        ...mempoolPools(opts),
      },
      'mempoolEntry',
      mempoolEntryFromRpc,
      opts,
    );
  }

  /** `getMempoolEntries`. */
  async getMempoolEntries(opts: MempoolQueryOptions = {}): Promise<MempoolEntry[]> {
    return this.callField(
      'getMempoolEntries',
      {
        ...mempoolPools(opts),
      },
      'mempoolEntries',
      arrayOf(mempoolEntryFromRpc),
      opts,
    );
  }

  /** `getMempoolEntriesByAddresses`: pending spends (`sending`) and receipts (`receiving`) per address. */
  async getMempoolEntriesByAddresses(
    addresses: readonly string[],
    opts: MempoolQueryOptions = {},
  ): Promise<MempoolEntriesByAddress[]> {
    checkAddresses(addresses);
    return this.callField(
      'getMempoolEntriesByAddresses',
      {
        addresses: [...addresses],
        ...mempoolPools(opts),
      },
      'entries',
      arrayOf(mempoolEntriesByAddressFromRpc),
      opts,
    );
  }

  /** `getFeeEstimate`, feerates in sompi/gram (FACTS §4.6). */
  async getFeeEstimate(opts?: CallOptions): Promise<FeeEstimate> {
    return this.callField('getFeeEstimate', {}, 'estimate', feeEstimateFromRpc, opts);
  }

  /** `getBlock`; only the block's own transactions, none for pruned or header-only blocks. */
  async getBlock(
    hash: BlockHash,
    opts: CallOptions & { readonly includeTransactions?: boolean } = {},
  ): Promise<Block> {
    return this.callField(
      'getBlock',
      { hash: hashToRpc(hash), includeTransactions: opts.includeTransactions ?? true },
      'block',
      blockFromRpc,
      opts,
    );
  }

  /** `getBlocks` from `lowHash` (null: from the pruning point). */
  async getBlocks(
    lowHash: BlockHash | null,
    opts: CallOptions & { readonly includeBlocks?: boolean; readonly includeTransactions?: boolean } = {},
  ): Promise<{ readonly blockHashes: BlockHash[]; readonly blocks: Block[] }> {
    return this.call(
      'getBlocks',
      {
        lowHash: lowHash === null ? null : hashToRpc(lowHash),
        includeBlocks: opts.includeBlocks ?? true,
        includeTransactions: opts.includeTransactions ?? false,
      },
      (p) => {
        const o = readObject(p, 'getBlocks');
        return {
          blockHashes: readArray(prop(o, 'blockHashes'), 'getBlocks.blockHashes', blockHashFromRpc),
          blocks: readArray(prop(o, 'blocks') ?? [], 'getBlocks.blocks', blockFromRpc),
        };
      },
      opts,
    );
  }

  /** `getVirtualChainFromBlock` (accepted transaction ids only). */
  async getVirtualChainFromBlock(
    startHash: BlockHash,
    opts: CallOptions & {
      readonly includeAcceptedTransactionIds?: boolean;
      readonly minConfirmationCount?: bigint;
    } = {},
  ): Promise<VirtualChainChanged> {
    return this.call(
      'getVirtualChainFromBlock',
      {
        startHash: hashToRpc(startHash),
        includeAcceptedTransactionIds: opts.includeAcceptedTransactionIds ?? true,
        minConfirmationCount:
          opts.minConfirmationCount === undefined
            ? null
            : u64ToRpc('minConfirmationCount', opts.minConfirmationCount),
      },
      (p) => virtualChainChangedFromRpc(p, 'getVirtualChainFromBlock'),
      opts,
    );
  }

  /**
   * `getVirtualChainFromBlockV2`: at most 2,480 chain blocks per call (FACTS §6.5). What each
   * accepted transaction carries depends on `dataVerbosityLevel`. @default "Full" (the node's default)
   */
  async getVirtualChainFromBlockV2(
    startHash: BlockHash,
    opts: CallOptions & {
      readonly dataVerbosityLevel?: RpcDataVerbosityLevel;
      readonly minConfirmationCount?: bigint;
    } = {},
  ): Promise<VirtualChainV2> {
    const level = opts.dataVerbosityLevel ?? 'Full';
    if (!['None', 'Low', 'High', 'Full'].includes(level))
      throw new RangeError(`"dataVerbosityLevel" unknown: ${String(level)}`);
    return this.call(
      'getVirtualChainFromBlockV2',
      {
        startHash: hashToRpc(startHash),
        dataVerbosityLevel: level,
        minConfirmationCount:
          opts.minConfirmationCount === undefined
            ? null
            : u64ToRpc('minConfirmationCount', opts.minConfirmationCount),
      },
      (p) => virtualChainV2FromRpc(p),
      opts,
    );
  }

  /** `getUtxoReturnAddress`: the first input's address of a transaction accepted at that DAA score (FACTS §6.6). */
  async getUtxoReturnAddress(
    txId: TxId,
    acceptingBlockDaaScore: bigint,
    opts?: CallOptions,
  ): Promise<string> {
    return this.callField(
      'getUtxoReturnAddress',
      {
        txid: hashToRpc(txId),
        acceptingBlockDaaScore: u64ToRpc('acceptingBlockDaaScore', acceptingBlockDaaScore),
      },
      'returnAddress',
      readString,
      opts,
    );
  }

  /**
   * `getBlockTemplate`. The block is returned as the node's JSON, checked for shape only,
   * because it must be echoed back to submitBlock with every field intact (FACTS §6.5).
   */
  async getBlockTemplate(
    payAddress: string,
    opts: CallOptions & { readonly extraData?: Uint8Array } = {},
  ): Promise<{ readonly block: RpcRawBlock; readonly isSynced: boolean }> {
    checkAddresses([payAddress]);
    return this.call(
      'getBlockTemplate',
      { payAddress, extraData: [...(opts.extraData ?? [])] },
      (p) => {
        const o = readObject(p, 'getBlockTemplate');
        const block = readObject(prop(o, 'block'), 'getBlockTemplate.block');
        readObject(prop(block, 'header'), 'getBlockTemplate.block.header');
        readArray(prop(block, 'transactions'), 'getBlockTemplate.block.transactions', readObject);
        return {
          block: block as unknown as RpcRawBlock,
          isSynced: readBool(prop(o, 'isSynced'), 'getBlockTemplate.isSynced'),
        };
      },
      opts,
    );
  }

  /** `submitBlock`: success, or a reject with the node's reason (`blockInvalid`, `isInIBD`, `routeIsFull`). */
  async submitBlock(
    block: RpcRawBlock,
    opts: CallOptions & { readonly allowNonDaaBlocks?: boolean } = {},
  ): Promise<SubmitBlockReport> {
    return this.callField(
      'submitBlock',
      { block, allowNonDaaBlocks: opts.allowNonDaaBlocks ?? false },
      'report',
      submitBlockReportFromRpc,
      opts,
    );
  }

  // -------------------------------------------------------------------------------------
  // Subscriptions (FACTS §6.4)
  // -------------------------------------------------------------------------------------

  /**
   * UTXO changes of `addresses` (node needs `--utxoindex`). The listener sees only entries of
   * its own addresses. Resolves once the node acknowledged, so a following
   * getUtxosByAddresses misses nothing. An empty list ("all addresses") is refused.
   */
  async subscribeUtxosChanged(
    addresses: readonly string[],
    listener: (n: UtxosChanged) => void,
    opts?: CallOptions,
  ): Promise<Subscription> {
    checkSubscribedAddresses(addresses);
    return this.addSub({ variant: 'UtxosChanged', listener, addresses: new Set(addresses) }, opts);
  }

  /** Every block added to the DAG, with all its transactions (payloads included). */
  async subscribeBlockAdded(listener: (block: Block) => void, opts?: CallOptions): Promise<Subscription> {
    return this.addSub({ variant: 'BlockAdded', listener }, opts);
  }

  /** Selected-chain changes, with accepted transaction ids when asked. */
  async subscribeVirtualChainChanged(
    includeAcceptedTransactionIds: boolean,
    listener: (n: VirtualChainChanged) => void,
    opts?: CallOptions,
  ): Promise<Subscription> {
    return this.addSub({ variant: 'VirtualChainChanged', listener, includeAcceptedTransactionIds }, opts);
  }

  /** The virtual DAA score, as it advances. */
  async subscribeVirtualDaaScoreChanged(
    listener: (virtualDaaScore: bigint) => void,
    opts?: CallOptions,
  ): Promise<Subscription> {
    return this.addSub({ variant: 'VirtualDaaScoreChanged', listener }, opts);
  }

  /** The sink's blue score, as it advances. */
  async subscribeSinkBlueScoreChanged(
    listener: (sinkBlueScore: bigint) => void,
    opts?: CallOptions,
  ): Promise<Subscription> {
    return this.addSub({ variant: 'SinkBlueScoreChanged', listener }, opts);
  }

  private async addSub(sub: Sub, opts?: CallOptions): Promise<Subscription> {
    if (this.state === 'closed') throw new RpcError('NOT_CONNECTED', 'client is closed');
    this.subs.add(sub);
    try {
      await this.sync(opts);
    } catch (e) {
      this.subs.delete(sub);
      this.sync().catch((err: unknown) => this.report(err));
      throw e;
    }
    let active = true;
    return {
      unsubscribe: async (o?: CallOptions): Promise<void> => {
        if (!active) return;
        active = false;
        this.subs.delete(sub);
        await this.sync(o);
      },
    };
  }

  /** Brings the node's subscriptions in line with `subs`; serialised, sent only while open. */
  private sync(opts?: CallOptions): Promise<void> {
    const run = this.syncChain.then(() =>
      this.state === 'open' ? this.applySubscriptions(false, opts) : undefined,
    );
    this.syncChain = run.catch(() => undefined);
    return run;
  }

  private async applySubscriptions(internal: boolean, opts?: CallOptions): Promise<void> {
    const send = (method: 'subscribe' | 'unsubscribe', scope: unknown): Promise<unknown> =>
      this.request(method, scope, opts ?? {}, internal);
    for (;;) {
      const wantAddresses = new Set<string>();
      const wantSimple = new Set<Variant>();
      let wantVcc: boolean | undefined;
      for (const s of this.subs) {
        if (s.variant === 'UtxosChanged') for (const a of s.addresses ?? []) wantAddresses.add(a);
        else if (s.variant === 'VirtualChainChanged')
          wantVcc = (wantVcc ?? false) || (s.includeAcceptedTransactionIds ?? false);
        else wantSimple.add(s.variant);
      }
      const node = this.node;
      const add = [...wantAddresses].filter((a) => !node.utxoAddresses.has(a));
      const remove = [...node.utxoAddresses].filter((a) => !wantAddresses.has(a));
      if (add.length > 0) {
        await send('subscribe', { UtxosChanged: { addresses: add } });
        for (const a of add) node.utxoAddresses.add(a);
        continue;
      }
      if (remove.length > 0) {
        await send('unsubscribe', { UtxosChanged: { addresses: remove } });
        // A node may end the connection's whole UtxosChanged subscription on any unsubscribe
        // (the local network does; FACTS §6.4 gives the same params for both): the addresses
        // still wanted are subscribed again in the next round, a no-op on a node that removed
        // only `remove`. Notifications between the two are lost there; UtxoWatcher re-reads.
        node.utxoAddresses.clear();
        continue;
      }
      const simpleOn = SIMPLE_VARIANTS.find((v) => wantSimple.has(v) && !node.simple.has(v));
      if (simpleOn !== undefined) {
        await send('subscribe', { [simpleOn]: {} });
        node.simple.add(simpleOn);
        continue;
      }
      const simpleOff = SIMPLE_VARIANTS.find((v) => !wantSimple.has(v) && node.simple.has(v));
      if (simpleOff !== undefined) {
        await send('unsubscribe', { [simpleOff]: {} });
        node.simple.delete(simpleOff);
        continue;
      }
      // Only ever widen include_accepted_transaction_ids; narrowing would cost a round trip for nothing.
      if (wantVcc !== undefined && (node.vcc === undefined || (wantVcc && !node.vcc))) {
        await send('subscribe', { VirtualChainChanged: { include_accepted_transaction_ids: wantVcc } });
        node.vcc = wantVcc;
        continue;
      }
      if (wantVcc === undefined && node.vcc !== undefined) {
        await send('unsubscribe', { VirtualChainChanged: { include_accepted_transaction_ids: node.vcc } });
        node.vcc = undefined;
        continue;
      }
      return;
    }
  }

  // -------------------------------------------------------------------------------------
  // Requests
  // -------------------------------------------------------------------------------------

  private async call<T>(
    method: string,
    params: unknown,
    decode: (params: unknown) => T,
    opts: CallOptions = {},
  ): Promise<T> {
    const raw = await this.request(method, params, opts, false);
    try {
      return decode(raw);
    } catch (e) {
      throw new RpcError('MALFORMED_RESPONSE', `${method}: ${e instanceof Error ? e.message : String(e)}`, {
        method,
        cause: e,
      });
    }
  }

  /** `call` for answers that are one field: `key` of the `method` answer, read by `decode` as `method.key`. */
  private callField<T>(
    method: string,
    params: unknown,
    key: string,
    decode: (value: unknown, path: string) => T,
    opts?: CallOptions,
  ): Promise<T> {
    return this.call(
      method,
      params,
      (p) => decode(prop(readObject(p, method), key), `${method}.${key}`),
      opts,
    );
  }

  private request(method: string, params: unknown, opts: CallOptions, internal: boolean): Promise<unknown> {
    const timeoutMs = opts.timeoutMs ?? this.requestTimeoutMs;
    assertInteger('timeoutMs', timeoutMs, 1, 2 ** 31 - 1);
    const { signal } = opts;
    const paramsText = stringifyJson(params);
    const methodText = JSON.stringify(method);
    return new Promise<unknown>((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(new RpcError('ABORTED', `${method}: aborted`, { method, cause: signal.reason }));
        return;
      }
      if (this.state === 'idle' || this.state === 'closed') {
        reject(new RpcError('NOT_CONNECTED', `${method}: not connected`, { method }));
        return;
      }
      let id: number | undefined;
      let settled = false;
      const finish = (): void => {
        settled = true;
        this.timers.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiting.delete(waiter);
        if (id !== undefined) this.pending.delete(id);
      };
      const fail = (e: RpcError): void => {
        if (settled) return;
        if (id !== undefined && this.pending.has(id)) this.abandon(id);
        finish();
        reject(e);
      };
      const onAbort = (): void =>
        fail(new RpcError('ABORTED', `${method}: aborted`, { method, cause: signal?.reason }));
      const timer = this.timers.setTimeout(
        () => fail(new RpcError('TIMEOUT', `${method}: no answer within ${timeoutMs} ms`, { method })),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      const waiter: Waiter = {
        internal,
        reject: fail,
        send: () => {
          if (settled) return;
          const socket = this.socket;
          if (socket === undefined) {
            fail(new RpcError('CONNECTION_CLOSED', `${method}: connection lost`, { method }));
            return;
          }
          this.waiting.delete(waiter);
          const n = this.nextId++;
          id = n;
          this.pending.set(n, {
            method,
            resolve: (v) => {
              if (settled) return;
              finish();
              resolve(v);
            },
            reject: fail,
          });
          try {
            socket.send(`{"id":${n},"method":${methodText},"params":${paramsText}}`);
          } catch (e) {
            fail(new RpcError('CONNECTION_CLOSED', `${method}: send failed`, { method, cause: e }));
          }
        },
      };
      if (this.state === 'open' || (internal && this.state === 'handshaking')) waiter.send();
      else this.waiting.add(waiter);
    });
  }

  private abandon(id: number): void {
    this.abandoned.add(id);
    // Bounded: a node that never answers abandoned ids must not grow this set forever.
    if (this.abandoned.size > MAX_ABANDONED_IDS) {
      const oldest = this.abandoned.values().next().value;
      if (oldest !== undefined) this.abandoned.delete(oldest);
    }
  }

  private waitForOpen(opts: CallOptions): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? this.requestTimeoutMs;
    assertInteger('timeoutMs', timeoutMs, 1, 2 ** 31 - 1);
    return new Promise<void>((resolve, reject) => {
      const { signal } = opts;
      if (signal?.aborted === true) {
        reject(new RpcError('ABORTED', 'connect: aborted', { cause: signal.reason }));
        return;
      }
      const finish = (): void => {
        this.timers.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiting.delete(waiter);
      };
      const waiter: Waiter = {
        internal: false,
        send: () => {
          finish();
          resolve();
        },
        reject: (e) => {
          finish();
          reject(e);
        },
      };
      const onAbort = (): void =>
        waiter.reject(new RpcError('ABORTED', 'connect: aborted', { cause: signal?.reason }));
      const timer = this.timers.setTimeout(
        () => waiter.reject(new RpcError('TIMEOUT', `connect: not connected within ${timeoutMs} ms`)),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.add(waiter);
    });
  }

  private failInFlight(error: RpcError, includeWaiting = true): void {
    for (const p of [...this.pending.values()]) p.reject(error);
    this.pending.clear();
    this.abandoned.clear();
    if (includeWaiting) for (const w of [...this.waiting]) w.reject(error);
  }

  // -------------------------------------------------------------------------------------
  // Connection lifecycle
  // -------------------------------------------------------------------------------------

  private async runLoop(): Promise<void> {
    let attempt = 0;
    let failuresThisRound = 0;
    while (!this.closed) {
      const url = this.urls[this.urlIndex % this.urls.length]!;
      let socket: WebSocketLike;
      try {
        socket = await this.open(url);
      } catch (e) {
        if (this.closed) return;
        this.report(new RpcError('CONNECT_FAILED', `cannot connect to ${url}`, { cause: e }));
        this.urlIndex++;
        failuresThisRound++;
        if (this.reconnectPolicy === false && failuresThisRound >= this.urls.length) {
          this.state = 'idle';
          for (const w of [...this.waiting])
            w.reject(
              new RpcError('CONNECT_FAILED', `no node reachable (${this.urls.join(', ')})`, { cause: e }),
            );
          return;
        }
        await this.sleep(this.backoff(attempt++));
        continue;
      }
      if (this.closed) {
        detach(socket);
        socket.close(1000, 'client closed');
        return;
      }
      attempt = 0;
      failuresThisRound = 0;
      const gone = new Promise<void>((resolve) => (this.onSocketGone = resolve));
      this.attach(socket, url);
      await this.handshake(socket, url);
      await gone;
      if (this.closed) return;
      if (this.reconnectPolicy === false) {
        this.state = 'idle';
        for (const w of [...this.waiting])
          w.reject(new RpcError('CONNECTION_CLOSED', 'connection lost and reconnecting is disabled'));
        return;
      }
      // Fail over: the next attempt goes to the next URL.
      this.urlIndex++;
      await this.sleep(this.backoff(attempt++));
    }
  }

  /** Exponential backoff with "equal jitter": half fixed, half random, so clients spread out. */
  private backoff(attempt: number): number {
    if (this.reconnectPolicy === false) return 0;
    const { initialDelayMs, maxDelayMs } = this.reconnectPolicy;
    const base = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt, 30));
    return base / 2 + (base / 2) * this.timers.random();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.timers.clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
      const t = this.timers.setTimeout(done, ms);
      this.wake = done;
    });
  }

  private async open(url: string): Promise<WebSocketLike> {
    const socket = await this.factory(url);
    return new Promise<WebSocketLike>((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        detach(socket);
        try {
          socket.close();
        } catch {
          // The socket may not even have started; dropping it is enough.
        }
        reject(new RpcError('CONNECT_FAILED', `${url}: not open within ${this.connectTimeoutMs} ms`));
      }, this.connectTimeoutMs);
      socket.onopen = () => {
        this.timers.clearTimeout(timer);
        resolve(socket);
      };
      socket.onerror = () => undefined;
      socket.onclose = (ev) => {
        this.timers.clearTimeout(timer);
        detach(socket);
        reject(new RpcError('CONNECT_FAILED', `${url}: closed before opening (code ${ev.code ?? 'none'})`));
      };
    });
  }

  private attach(socket: WebSocketLike, url: string): void {
    this.socket = socket;
    this.socketUrl = url;
    this.state = 'handshaking';
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (ev) => this.onFrame(socket, ev.data);
    // A close event always follows an error. `ws` refusing a frame over its maxPayload says so
    // only here (its close event then reads 1006), so that error is carried over as 1009.
    let tooBig = false;
    socket.onerror = (ev) => {
      tooBig ||= isMessageTooBig(ev);
    };
    socket.onclose = (ev) =>
      this.onSocketClosed(
        socket,
        tooBig ? WS_MESSAGE_TOO_BIG : ev.code,
        tooBig ? 'frame too large' : ev.reason,
      );
    this.events.emit('open', { url });
  }

  /** Restores subscriptions and reads the chain position before releasing queued calls. */
  private async handshake(socket: WebSocketLike, url: string): Promise<void> {
    try {
      await this.applySubscriptions(true);
    } catch (e) {
      if (this.socket !== socket) return;
      this.report(e);
    }
    let after: ChainPosition = {};
    try {
      const info = blockDagInfoFromRpc(await this.request('getBlockDagInfo', {}, {}, true));
      after = { virtualDaaScore: info.virtualDaaScore, sink: info.sink };
      this.lastSeen = { ...after };
    } catch (e) {
      if (this.socket !== socket) return;
      this.report(e);
    }
    if (this.socket !== socket || this.state !== 'handshaking') return;
    this.state = 'open';
    this.startHeartbeat(socket);
    const gap = this.gapStart;
    this.gapStart = undefined;
    if (gap !== undefined) {
      this.emit('reconnect', {
        url,
        disconnectedAt: gap.at,
        reconnectedAt: this.timers.now(),
        before: gap.before,
        after,
      });
    }
    for (const w of [...this.waiting]) w.send();
    // Subscriptions added while handshaking.
    this.sync().catch((e: unknown) => this.report(e));
  }

  private onSocketClosed(socket: WebSocketLike, code?: number, reason?: string): void {
    if (this.socket !== socket) return;
    detach(socket);
    this.socket = undefined;
    this.stopHeartbeat();
    this.node = { utxoAddresses: new Set(), simple: new Set(), vcc: undefined };
    if (this.gapStart === undefined) this.gapStart = { at: this.timers.now(), before: { ...this.lastSeen } };
    if (this.state !== 'closed') this.state = 'connecting';
    // Calls in flight fail; calls still queued wait for the reconnect (bounded by their timeouts).
    // 1009 is `ws` refusing a frame over maxPayload before it reached us (RFC 6455 §7.4.1).
    if (code === WS_MESSAGE_TOO_BIG) {
      const size = this.oversize;
      const error = this.frameTooLarge(
        size === undefined ? `a frame over ${this.maxFrameBytes} bytes` : `a frame of ${size} bytes`,
      );
      this.report(error);
      this.failInFlight(error, false);
    } else {
      this.failInFlight(new RpcError('CONNECTION_CLOSED', `connection to ${this.socketUrl} lost`), false);
    }
    this.oversize = undefined;
    this.emit('close', {
      url: this.socketUrl,
      ...(code === undefined ? {} : { code }),
      ...(reason === undefined ? {} : { reason }),
    });
    const gone = this.onSocketGone;
    this.onSocketGone = undefined;
    gone?.();
  }

  private startHeartbeat(socket: WebSocketLike): void {
    if (this.heartbeatMs === 0) return;
    const beat = (): void => {
      this.heartbeat = undefined;
      if (this.socket !== socket) return;
      this.request('ping', {}, { timeoutMs: this.heartbeatMs }, true).then(
        () => {
          if (this.socket === socket) this.heartbeat = this.timers.setTimeout(beat, this.heartbeatMs);
        },
        (e: unknown) => {
          // A node that stopped answering looks exactly like a half-open TCP connection: drop it.
          if (this.socket !== socket || !(e instanceof RpcError) || e.code !== 'TIMEOUT') return;
          try {
            socket.close(4000, 'heartbeat timeout');
          } catch {
            // Closing a dead socket may throw; we drop it either way.
          }
          this.onSocketClosed(socket, 4000, 'heartbeat timeout');
        },
      );
    };
    this.heartbeat = this.timers.setTimeout(beat, this.heartbeatMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== undefined) this.timers.clearTimeout(this.heartbeat);
    this.heartbeat = undefined;
  }

  // -------------------------------------------------------------------------------------
  // Incoming frames
  // -------------------------------------------------------------------------------------

  private frameTooLarge(what: string): RpcError {
    return new RpcError(
      'FRAME_TOO_LARGE',
      `${this.socketUrl} sent ${what}, over the client's limit of ${this.maxFrameBytes} (maxFrameBytes)`,
    );
  }

  /** Refuses an oversized frame unparsed: the calls in flight fail, the connection is replaced. */
  private dropOversized(socket: WebSocketLike, size: number): void {
    this.oversize = size;
    try {
      socket.close(WS_MESSAGE_TOO_BIG, 'frame too large');
    } catch {
      // Closing may throw on a socket already going; it is dropped either way.
    }
    this.onSocketClosed(socket, WS_MESSAGE_TOO_BIG, 'frame too large');
  }

  private onFrame(socket: WebSocketLike, data: unknown): void {
    const size = typeof data === 'string' ? data.length : data instanceof ArrayBuffer ? data.byteLength : 0;
    if (size > this.maxFrameBytes) {
      this.dropOversized(socket, size);
      return;
    }
    let text: string;
    if (typeof data === 'string') text = data;
    else if (data instanceof ArrayBuffer) text = new TextDecoder().decode(data);
    else {
      this.report(new RpcError('MALFORMED_RESPONSE', 'non-text frame'));
      return;
    }
    let frame: Readonly<Record<string, unknown>>;
    try {
      frame = readObject(parseJson(text), 'frame');
    } catch (e) {
      this.report(
        new RpcError('MALFORMED_RESPONSE', `unparseable frame: ${e instanceof Error ? e.message : ''}`, {
          cause: e,
        }),
      );
      return;
    }
    const id = prop(frame, 'id');
    if (id === undefined || id === null) {
      this.onNotification(frame);
      return;
    }
    const pending = typeof id === 'number' ? this.pending.get(id) : undefined;
    if (pending === undefined) {
      if (typeof id === 'number' && this.abandoned.delete(id)) return;
      this.report(new RpcError('MALFORMED_RESPONSE', `response for unknown id ${String(id)}`));
      return;
    }
    const error = prop(frame, 'error');
    if (error !== undefined && error !== null) {
      const message =
        typeof error === 'object' ? prop(error as Record<string, unknown>, 'message') : undefined;
      pending.reject(
        typeof message === 'string'
          ? serverError(pending.method, message)
          : new RpcError('MALFORMED_RESPONSE', `${pending.method}: error frame without a message`, {
              method: pending.method,
            }),
      );
      return;
    }
    if (!Object.hasOwn(frame, 'params')) {
      pending.reject(
        new RpcError('MALFORMED_RESPONSE', `${pending.method}: response without params`, {
          method: pending.method,
        }),
      );
      return;
    }
    pending.resolve(frame['params']);
  }

  private onNotification(frame: Readonly<Record<string, unknown>>): void {
    const params = prop(frame, 'params');
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      this.report(new RpcError('MALFORMED_RESPONSE', 'notification without params'));
      return;
    }
    // Externally tagged enum: one key naming the variant (FACTS §6.2).
    const keys = Object.keys(params);
    const variant = keys[0];
    if (keys.length !== 1 || variant === undefined) {
      this.report(new RpcError('MALFORMED_RESPONSE', 'notification params must hold exactly one variant'));
      return;
    }
    const body = (params as Record<string, unknown>)[variant];
    const listeners = [...this.subs].filter((s) => s.variant === variant);
    try {
      switch (variant) {
        case 'UtxosChanged': {
          const n = utxosChangedFromRpc(body);
          for (const s of listeners) {
            const mine = (u: AddressedUtxo): boolean =>
              u.address !== null && (s.addresses?.has(u.address) ?? false);
            const added = n.added.filter(mine);
            const removed = n.removed.filter(mine);
            if (added.length + removed.length > 0) this.deliver(s, { added, removed });
          }
          return;
        }
        case 'BlockAdded': {
          const block = blockFromRpc(prop(readObject(body, 'BlockAdded'), 'block'), 'BlockAdded.block');
          for (const s of listeners) this.deliver(s, block);
          return;
        }
        case 'VirtualChainChanged': {
          const n = virtualChainChangedFromRpc(body);
          const sink = n.addedChainBlockHashes.at(-1);
          if (sink !== undefined) this.lastSeen.sink = sink;
          for (const s of listeners) this.deliver(s, n);
          return;
        }
        case 'VirtualDaaScoreChanged': {
          const score = readU64(
            prop(readObject(body, variant), 'virtualDaaScore'),
            `${variant}.virtualDaaScore`,
          );
          this.lastSeen.virtualDaaScore = score;
          for (const s of listeners) this.deliver(s, score);
          return;
        }
        case 'SinkBlueScoreChanged': {
          const score = readU64(prop(readObject(body, variant), 'sinkBlueScore'), `${variant}.sinkBlueScore`);
          for (const s of listeners) this.deliver(s, score);
          return;
        }
        default:
          // Variants this client never subscribes to (e.g. NewBlockTemplate): ignored for forward compatibility.
          return;
      }
    } catch (e) {
      this.report(
        new RpcError(
          'MALFORMED_RESPONSE',
          `${variant} notification: ${e instanceof Error ? e.message : String(e)}`,
          { cause: e },
        ),
      );
    }
  }

  private deliver(sub: Sub, value: unknown): void {
    try {
      (sub.listener as (v: unknown) => void)(value);
    } catch (e) {
      this.report(e);
    }
  }

  private emit<K extends keyof KaspaRpcClientEvents>(event: K, value: KaspaRpcClientEvents[K]): void {
    for (const e of this.events.emit(event, value)) if (event !== 'error') this.report(e);
  }

  /** Background problems go to `error` listeners; never thrown, never an unhandled rejection. */
  private report(error: unknown): void {
    this.events.emit('error', error);
  }
}

/** The pool flags of a mempool query as the node expects them: always present. */
function mempoolPools(opts: MempoolQueryOptions): {
  includeOrphanPool: boolean;
  filterTransactionPool: boolean;
} {
  return {
    includeOrphanPool: opts.includeOrphanPool ?? false,
    filterTransactionPool: opts.filterTransactionPool ?? false,
  };
}

/** Address arguments as the node takes them: "prefix:payload" strings (FACTS §2.1). */
export function checkAddresses(addresses: readonly string[]): void {
  if (!Array.isArray(addresses)) throw new TypeError('"addresses" expected an array of address strings');
  for (const a of addresses) {
    if (typeof a !== 'string' || !a.includes(':'))
      throw new TypeError(`"addresses" expected "prefix:payload" strings, got ${String(a)}`);
  }
}

/**
 * The addresses of a UtxosChanged subscription: an empty list would subscribe to every
 * address (FACTS §6.4), so it is refused.
 */
export function checkSubscribedAddresses(addresses: readonly string[]): void {
  checkAddresses(addresses);
  if (addresses.length === 0)
    throw new RangeError('"addresses" must not be empty (it would mean every address)');
}

/** Whether a WebSocket error event is `ws` refusing a message over its maxPayload. */
function isMessageTooBig(ev: unknown): boolean {
  const error = typeof ev === 'object' && ev !== null ? (ev as { error?: unknown }).error : undefined;
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { code?: unknown }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
  );
}

function detach(socket: WebSocketLike): void {
  socket.onopen = null;
  socket.onmessage = null;
  socket.onclose = null;
  socket.onerror = () => undefined;
}
