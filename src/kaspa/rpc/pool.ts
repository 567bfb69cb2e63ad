/**
 * A pool of Kaspa wRPC nodes used as one (`KaspaNode`), so that no single node operator sees
 * everything a client watches (docs/privacy.md "What a node operator learns") and one node
 * going away does not stop the client.
 *
 * - One `KaspaRpcClient` per node URL; each keeps its own reconnect loop. A node is used only
 *   after `getServerInfo` says it serves the expected network, has the UTXO index and is
 *   synced (FACTS §6.3). A wrong network or missing index refuses that node for the pool's
 *   lifetime (typed `NodePoolError` naming it); an unsynced node is rechecked with backoff.
 * - Addresses are spread by rendezvous hashing (highest random weight) keyed by a per-profile
 *   secret: each address goes to the usable node with the highest BLAKE2b-keyed score of
 *   (node URL, address). The same key and node list give the same assignment after a restart,
 *   so a node keeps seeing the same share instead of the whole set over time; when a node
 *   fails only its share moves, and moves back when it returns.
 * - Subscriptions follow the assignment. When a node drops, its share is subscribed on the
 *   next node first and the pool emits `reconnect`, so UtxoWatcher and the chain adapter take
 *   a fresh snapshot (FACTS §6.4 "subscribe, then query") and find coins that arrived
 *   meanwhile. Notifications from all nodes are merged and de-duplicated per subscriber.
 * - A transaction goes to the node that already watches the address of its first input when
 *   that is known (it learns nothing new about which addresses this client holds), else to a
 *   node chosen by the keyed hash of its id: never by where its recipients are watched.
 * - Optional decoys: each watched address is subscribed and queried inside a fixed set of
 *   `setSize` addresses; the others are recent real outputs seen on chain (see
 *   `addDecoyCandidates`), which, unlike random keys, are paid and spent like real ones.
 * With one URL and no decoys the pool sends the same requests as one client would.
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { P2pCommError, assertBytes, assertInteger } from '../../util/errors.ts';
import { bytesToHex, utf8ToBytes } from '../../util/bytes.ts';
import { scriptPublicKeyToAddress, NETWORK_PREFIXES, type NetworkPrefix } from '../address.ts';
import { transactionId } from '../txid.ts';
import type { BlockHash, Outpoint, Transaction, TxId } from '../types.ts';
import type { AddressedUtxo, MempoolEntry } from './convert.ts';
import {
  KaspaRpcClient,
  checkAddresses,
  checkSubscribedAddresses,
  type CallOptions,
  type ChainPosition,
  type KaspaRpcClientEvents,
  type KaspaRpcClientOptions,
  type MempoolQueryOptions,
  type ReconnectGap,
  type ReconnectOptions,
  type Subscription,
} from './client.ts';
import { Emitter } from './emitter.ts';
import { RpcError } from './errors.ts';
import type {
  Block,
  BlockDagInfo,
  FeeEstimate,
  MempoolEntriesByAddress,
  ServerInfo,
  UtxosChanged,
  VirtualChainChanged,
  VirtualChainV2,
} from './responses.ts';
import type { RpcDataVerbosityLevel } from './wire.ts';

/**
 * - WRONG_NETWORK: the node serves another network than `network`; refused for good.
 * - NO_UTXO_INDEX: the node runs without `--utxoindex`, so it cannot watch addresses; refused.
 * - NOT_SYNCED: the node says it is not synced; not used until a recheck says it is.
 * - UNHEALTHY: the node did not answer `getServerInfo`; rechecked with backoff.
 */
export type NodePoolErrorCode = 'WRONG_NETWORK' | 'NO_UTXO_INDEX' | 'NOT_SYNCED' | 'UNHEALTHY';

/** Why the pool does not use a node; `url` names it. */
export class NodePoolError extends P2pCommError<NodePoolErrorCode> {
  constructor(
    code: NodePoolErrorCode,
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, `${url}: ${message}`, options);
  }
}

/**
 * `connecting`: not yet answered; `up`: in use; `syncing`: answered but not synced (rechecked);
 * `down`: connection lost or unhealthy (its client reconnects); `refused`: never used again.
 */
export type NodeState = 'connecting' | 'up' | 'syncing' | 'down' | 'refused';

/** One node as the pool sees it (for the app's status line). */
export interface NodeStatus {
  readonly url: string;
  readonly state: NodeState;
  /** Why it is not up, when known. */
  readonly error?: Error;
}

/** Decoy sets (docs/privacy.md "What a node operator learns"). */
export interface DecoyOptions {
  /** Addresses per set, the real one included; 1 disables decoys. */
  readonly setSize: number;
  /** Candidate addresses kept from recent chain outputs. @default 4096 */
  readonly maxCandidates?: number;
}

/** Construction options of a NodePool. */
export interface NodePoolOptions {
  /** One URL per node (distinct operators, ideally); at least one. */
  readonly urls: readonly string[];
  /**
   * Secret of the address-to-node assignment (16..64 bytes); keep it per profile so the
   * assignment survives restarts. @default 32 random bytes (a new assignment per pool)
   */
  readonly assignmentKey?: Uint8Array;
  /** `networkId` every node must report in getServerInfo (e.g. `mainnet`, `testnet-10`, `simnet`); unchecked when absent. */
  readonly network?: string;
  /** Use only nodes that report `isSynced`. @default true */
  readonly requireSynced?: boolean;
  readonly decoys?: DecoyOptions;
  /** Options of each node's client (timeouts, reconnect policy, WebSocket factory, timers). */
  readonly client?: Omit<KaspaRpcClientOptions, 'urls'>;
  /** After the first node is up, how long `connect()` waits for the others to answer. @default 3_000 */
  readonly settleMs?: number;
  /** Recheck delays of an unsynced or unhealthy node. @default { initialDelayMs: 1_000, maxDelayMs: 60_000 } */
  readonly recheck?: ReconnectOptions;
}

/** Pool events: the client's, plus `nodes` whenever a node changes state. */
export interface NodePoolEvents extends KaspaRpcClientEvents {
  nodes: readonly NodeStatus[];
}

interface Member {
  readonly url: string;
  readonly client: KaspaRpcClient;
  state: NodeState;
  error: Error | undefined;
  attempt: number;
  timer: unknown;
  /** Out for good: refused, or its client gave up connecting (reconnects disabled). */
  final: boolean;
  /** When it stopped being usable, and the chain position then (for the `reconnect` gap). */
  downSince: { at: number; before: ChainPosition } | undefined;
}

interface UtxoSub {
  readonly addresses: ReadonlySet<string>;
  readonly listener: (n: UtxosChanged) => void;
  readonly parts: Map<Member, { readonly addresses: ReadonlySet<string>; readonly sub: Subscription }>;
  /** Last change reported per outpoint, so the same change from two nodes is reported once. */
  readonly seen: Map<string, 'added' | 'removed'>;
  active: boolean;
}

interface ChainSub {
  readonly kind: 'block' | 'chain';
  readonly includeAcceptedTransactionIds: boolean;
  readonly listener: (value: never) => void;
  member: Member | undefined;
  sub: Subscription | undefined;
  active: boolean;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const CHECK_TIMEOUT_MS = 10_000;
/** Per-subscriber de-duplication memory; far above the changes of one reconnect gap. */
const MAX_SEEN = 50_000;
/** Outpoint-to-address memory for routing submissions. */
const MAX_OUTPOINTS = 50_000;
/** Remembered node orders (one per address or transaction id asked about). */
const MAX_RANKS = 50_000;
const RETRYABLE = new Set(['CONNECTION_CLOSED', 'NOT_CONNECTED', 'FRAME_TOO_LARGE']);

/** Several nodes used as one; see the module comment. */
export class NodePool {
  private readonly members: readonly Member[];
  private readonly key: Uint8Array;
  private readonly network: string | undefined;
  private readonly requireSynced: boolean;
  private readonly setSize: number;
  private readonly maxCandidates: number;
  private readonly recheckPolicy: Required<ReconnectOptions>;
  private readonly requestTimeoutMs: number;
  private readonly settleMs: number;
  private readonly events = new Emitter<NodePoolEvents>();
  private readonly utxoSubs = new Set<UtxoSub>();
  private readonly chainSubs = new Set<ChainSub>();
  private readonly outpointAddress = new Map<string, string>();
  private readonly ranks = new Map<string, readonly Member[]>();
  private readonly candidates = new Map<string, true>();
  private readonly decoySets = new Map<string, readonly string[]>();
  private readonly waiters = new Set<() => void>();
  private started = false;
  private closed = false;
  private everUp = false;
  private placing: Promise<void> = Promise.resolve();

  constructor(options: NodePoolOptions) {
    if (!Array.isArray(options.urls) || options.urls.length === 0)
      throw new RangeError('"urls" expected at least one node URL');
    const urls = [...new Set(options.urls)];
    if (options.assignmentKey !== undefined) {
      assertBytes('assignmentKey', options.assignmentKey);
      if (options.assignmentKey.length < 16 || options.assignmentKey.length > 64)
        throw new RangeError(
          `"assignmentKey" expected 16..64 bytes, got length=${options.assignmentKey.length}`,
        );
    }
    this.key = options.assignmentKey ?? crypto.getRandomValues(new Uint8Array(32));
    this.network = options.network;
    this.requireSynced = options.requireSynced ?? true;
    this.setSize = options.decoys?.setSize ?? 1;
    this.maxCandidates = options.decoys?.maxCandidates ?? 4096;
    assertInteger('decoys.setSize', this.setSize, 1, 64);
    assertInteger('decoys.maxCandidates', this.maxCandidates, 0, 1_000_000);
    this.recheckPolicy = {
      initialDelayMs: options.recheck?.initialDelayMs ?? 1_000,
      maxDelayMs: options.recheck?.maxDelayMs ?? 60_000,
    };
    this.requestTimeoutMs = options.client?.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.settleMs = options.settleMs ?? 3_000;
    assertInteger('settleMs', this.settleMs, 0, 2 ** 31 - 1);
    this.members = urls.map((url) => this.member(url, options.client ?? {}));
  }

  private member(url: string, clientOptions: Omit<KaspaRpcClientOptions, 'urls'>): Member {
    const m: Member = {
      url,
      client: new KaspaRpcClient({ ...clientOptions, urls: url }),
      state: 'connecting',
      error: undefined,
      attempt: 0,
      final: false,
      timer: undefined,
      downSince: undefined,
    };
    m.client.on('close', () =>
      this.onDown(m, new RpcError('CONNECTION_CLOSED', `connection to ${url} lost`)),
    );
    m.client.on('reconnect', (gap) => void this.check(m, gap));
    m.client.on('error', (e) => {
      // One node out of several failing to connect is not "the network is unreachable".
      if (e instanceof RpcError && e.code === 'CONNECT_FAILED') {
        m.error = e;
        if (this.usable().length === 0) this.emit('error', e);
        return;
      }
      this.emit('error', e);
    });
    return m;
  }

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof NodePoolEvents>(event: K, listener: (value: NodePoolEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** True while at least one node is in use. */
  get isConnected(): boolean {
    return !this.closed && this.usable().length > 0;
  }

  /** Last virtual DAA score and sink seen by the node that serves chain queries. */
  get position(): ChainPosition {
    return (this.assign('chain') ?? this.members[0]!).client.position;
  }

  /** Every node and its state, in the order of `urls`. */
  get nodes(): readonly NodeStatus[] {
    return this.members.map((m) => ({
      url: m.url,
      state: m.state,
      ...(m.error === undefined || m.state === 'up' ? {} : { error: m.error }),
    }));
  }

  /** The node a given address is watched and queried at now (undefined while none is up). */
  nodeOf(address: string): string | undefined {
    return this.assign(address)?.url;
  }

  /** Starts every node's connection; resolves once one node is in use. */
  async connect(opts: CallOptions = {}): Promise<void> {
    if (this.closed) throw new RpcError('NOT_CONNECTED', 'pool is closed');
    if (!this.started) {
      this.started = true;
      for (const m of this.members) void this.start(m);
    }
    // Refused nodes do not end the wait early: a caller that retries connect() at once (as the
    // app does, however long the nodes stay away) would otherwise spin.
    await this.waitUsable(opts, false);
    await this.settle(opts);
  }

  /**
   * Gives the other nodes up to `settleMs` to answer too: work placed while only the first
   * node is up would show it every address until the others arrive.
   */
  private settle(opts: CallOptions): Promise<void> {
    const pendingNodes = (): boolean => this.members.some((m) => m.state === 'connecting');
    if (!pendingNodes() || this.settleMs === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.waiters.delete(wake);
        globalThis.clearTimeout(timer);
        opts.signal?.removeEventListener('abort', done);
        resolve();
      };
      const wake = (): void => {
        if (this.closed || !pendingNodes()) done();
      };
      const timer = globalThis.setTimeout(done, this.settleMs);
      opts.signal?.addEventListener('abort', done, { once: true });
      this.waiters.add(wake);
    });
  }

  /** Closes every node connection for good. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const m of this.members) {
      if (m.timer !== undefined) globalThis.clearTimeout(m.timer as ReturnType<typeof setTimeout>);
      m.client.close();
    }
    for (const w of [...this.waiters]) w();
  }

  /**
   * Offers addresses seen in recent chain outputs as decoys. Blocks passing through
   * `subscribeBlockAdded` feed it too. Bounded by `decoys.maxCandidates` (oldest dropped).
   */
  addDecoyCandidates(addresses: readonly string[]): void {
    if (!Array.isArray(addresses)) throw new TypeError('"addresses" expected an array of address strings');
    if (this.setSize === 1) return;
    for (const a of addresses) {
      if (typeof a !== 'string' || a.length > 128) continue;
      this.candidates.delete(a);
      this.candidates.set(a, true);
    }
    while (this.candidates.size > this.maxCandidates) {
      const oldest = this.candidates.keys().next().value;
      if (oldest === undefined) break;
      this.candidates.delete(oldest);
    }
  }

  // -------------------------------------------------------------------------------------
  // Node health
  // -------------------------------------------------------------------------------------

  private async start(m: Member): Promise<void> {
    try {
      await m.client.connect();
    } catch (e) {
      // Only without reconnects, or once closed: this node is out for good.
      if (this.closed) return;
      m.state = 'down';
      m.final = true;
      m.error = e instanceof Error ? e : new Error(String(e));
      this.emitNodes();
      this.wakeWaiters();
      return;
    }
    await this.check(m);
  }

  /** Asks the node what it serves; `gap` is the client's own reconnect report, if any. */
  private async check(m: Member, gap?: ReconnectGap): Promise<void> {
    if (this.closed || m.state === 'refused') return;
    let info: ServerInfo;
    try {
      info = await m.client.getServerInfo({ timeoutMs: Math.min(CHECK_TIMEOUT_MS, this.requestTimeoutMs) });
    } catch (e) {
      if (this.closed) return;
      // A lost connection comes back through the client's own reconnect; anything else is rechecked.
      if (!m.client.isConnected) return;
      this.setDown(m, new NodePoolError('UNHEALTHY', m.url, 'getServerInfo failed', { cause: e }));
      this.scheduleRecheck(m);
      return;
    }
    if (this.network !== undefined && info.networkId !== this.network) {
      this.refuse(
        m,
        new NodePoolError('WRONG_NETWORK', m.url, `serves ${info.networkId}, not ${this.network}`),
      );
      return;
    }
    if (!info.hasUtxoIndex) {
      this.refuse(m, new NodePoolError('NO_UTXO_INDEX', m.url, 'runs without --utxoindex'));
      return;
    }
    if (this.requireSynced && !info.isSynced) {
      this.setDown(m, new NodePoolError('NOT_SYNCED', m.url, 'is not synced'), 'syncing');
      this.scheduleRecheck(m);
      return;
    }
    this.onUp(m, gap);
  }

  private refuse(m: Member, error: NodePoolError): void {
    m.final = true;
    this.setDown(m, error, 'refused');
    m.client.close();
    this.emit('error', error);
  }

  private setDown(m: Member, error: Error, state: NodeState = 'down'): void {
    const wasUp = m.state === 'up';
    m.state = state;
    m.error = error;
    if (wasUp) this.afterLoss(m);
    this.emitNodes();
    this.wakeWaiters();
  }

  private scheduleRecheck(m: Member): void {
    if (this.closed || m.timer !== undefined) return;
    const { initialDelayMs, maxDelayMs } = this.recheckPolicy;
    const base = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(m.attempt++, 30));
    m.timer = globalThis.setTimeout(
      () => {
        m.timer = undefined;
        if (m.client.isConnected) void this.check(m);
      },
      base / 2 + (base / 2) * Math.random(),
    );
  }

  /**
   * A node that lets a call time out while its connection stays open has stopped answering:
   * with other nodes to go to, it is set aside until a recheck answers. The call itself fails
   * (its time is spent). A lone node stays in use, as a lone client would.
   */
  private onTimeout(m: Member, e: unknown): void {
    if (!(e instanceof RpcError) || e.code !== 'TIMEOUT' || this.members.length === 1 || m.state !== 'up')
      return;
    this.setDown(m, new NodePoolError('UNHEALTHY', m.url, 'stopped answering', { cause: e }));
    this.scheduleRecheck(m);
  }

  private onDown(m: Member, error: Error): void {
    if (this.closed || m.state === 'refused') return;
    this.setDown(m, error);
  }

  /** A node that was up is not any more: move its share elsewhere, then let callers catch up. */
  private afterLoss(m: Member): void {
    m.downSince = { at: Date.now(), before: m.client.position };
    if (this.usable().length === 0) {
      this.emit('close', { url: m.url });
      return;
    }
    const lost = m;
    void this.replace().then((moved) => {
      const to = moved ?? this.usable()[0];
      if (to === undefined || this.closed) return;
      this.emit('reconnect', {
        url: to.url,
        disconnectedAt: lost.downSince?.at ?? Date.now(),
        reconnectedAt: Date.now(),
        before: lost.downSince?.before ?? {},
        after: to.client.position,
      });
    });
  }

  private onUp(m: Member, gap: ReconnectGap | undefined): void {
    if (this.closed) return;
    const hadNone = this.usable().length === 0;
    m.state = 'up';
    m.error = undefined;
    m.attempt = 0;
    const since = m.downSince;
    m.downSince = undefined;
    this.emitNodes();
    if (hadNone) this.emit('open', { url: m.url });
    const first = !this.everUp;
    this.everUp = true;
    this.wakeWaiters();
    void this.replace().then(() => {
      if (first || this.closed || m.state !== 'up') return;
      // Back after a gap: callers re-read what they watch (FACTS §6.4).
      if (hadNone || gap !== undefined)
        this.emit('reconnect', {
          url: m.url,
          disconnectedAt: gap?.disconnectedAt ?? since?.at ?? Date.now(),
          reconnectedAt: gap?.reconnectedAt ?? Date.now(),
          before: gap?.before ?? since?.before ?? {},
          after: gap?.after ?? m.client.position,
        });
    });
  }

  private reasons(): string {
    return this.members.map((m) => m.error?.message ?? `${m.url}: ${m.state}`).join('; ');
  }

  private usable(): Member[] {
    return this.members.filter((m) => m.state === 'up');
  }

  private emitNodes(): void {
    this.emit('nodes', this.nodes);
  }

  private emit<K extends keyof NodePoolEvents>(event: K, value: NodePoolEvents[K]): void {
    try {
      this.events.emit(event, value);
    } catch (e) {
      if (event !== 'error') this.emit('error', e);
    }
  }

  private wakeWaiters(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves once a node is up; bounded by the call's timeout and signal. */
  private waitUsable(opts: CallOptions = {}, refusedEndsWait = true): Promise<void> {
    if (this.closed) return Promise.reject(new RpcError('NOT_CONNECTED', 'pool is closed'));
    if (this.usable().length > 0) return Promise.resolve();
    if (!this.started) return Promise.reject(new RpcError('NOT_CONNECTED', 'pool is not connected'));
    const timeoutMs = opts.timeoutMs ?? this.requestTimeoutMs;
    return new Promise<void>((resolve, reject) => {
      const done = (error?: Error): void => {
        this.waiters.delete(wake);
        globalThis.clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const wake = (): void => {
        if (this.closed) done(new RpcError('CONNECTION_CLOSED', 'pool closed'));
        else if (this.usable().length > 0) done();
        else if (
          this.members.every((m) => m.final) &&
          (refusedEndsWait || this.members.every((m) => m.state !== 'refused'))
        )
          done(new RpcError('CONNECT_FAILED', `no node usable (${this.reasons()})`));
      };
      const onAbort = (): void => done(new RpcError('ABORTED', 'aborted while waiting for a node'));
      const timer = globalThis.setTimeout(
        () =>
          done(
            new RpcError('TIMEOUT', `no node usable within ${timeoutMs} ms (${this.reasons()})`, {
              cause: this.members.find((m) => m.error !== undefined)?.error,
            }),
          ),
        timeoutMs,
      );
      if (opts.signal?.aborted === true) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(wake);
      wake();
    });
  }

  // -------------------------------------------------------------------------------------
  // Assignment
  // -------------------------------------------------------------------------------------

  /**
   * Members by descending keyed score for `id` (rendezvous hashing). The order depends only on
   * the key and the node list, both fixed for the pool's lifetime, so it is computed once per
   * id: every chain call, every address of every placement and query asks again.
   */
  private rank(id: string): readonly Member[] {
    if (this.members.length === 1) return this.members;
    let order = this.ranks.get(id);
    if (order === undefined) {
      const scored = this.members.map((m) => ({
        m,
        s: bytesToHex(blake2b(utf8ToBytes(`${m.url}\n${id}`), { key: this.key, dkLen: 16 })),
      }));
      scored.sort((a, b) => (a.s < b.s ? 1 : a.s > b.s ? -1 : 0));
      order = scored.map((x) => x.m);
      this.ranks.set(id, order);
      if (this.ranks.size > MAX_RANKS) this.ranks.delete(this.ranks.keys().next().value!);
    }
    return order;
  }

  private assign(id: string, skip?: ReadonlySet<Member>): Member | undefined {
    return this.rank(id).find((m) => m.state === 'up' && !(skip?.has(m) ?? false));
  }

  /** The address and its fixed decoys (the real one first). */
  private setOf(address: string): string[] {
    if (this.setSize === 1) return [address];
    let decoys = this.decoySets.get(address);
    if (decoys === undefined || decoys.length < this.setSize - 1) {
      const own = new Set<string>();
      for (const s of this.utxoSubs) for (const a of s.addresses) own.add(a);
      const prefix = address.slice(0, address.indexOf(':') + 1);
      const have = decoys ?? [];
      const pick = [...this.candidates.keys()]
        .filter((c) => c.startsWith(prefix) && c !== address && !own.has(c) && !have.includes(c))
        .map((c) => ({
          c,
          s: bytesToHex(blake2b(utf8ToBytes(`decoy\n${address}\n${c}`), { key: this.key, dkLen: 16 })),
        }))
        .sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : 0))
        .slice(0, this.setSize - 1 - have.length)
        .map((x) => x.c);
      // A set only ever grows until complete, then never changes: a set redrawn between
      // queries would give the real address away as the one present every time.
      decoys = [...have, ...pick];
      this.decoySets.set(address, decoys);
    }
    return [address, ...decoys];
  }

  /** Groups addresses (with their decoys) by the node they go to now. */
  private group(addresses: Iterable<string>, skip?: ReadonlySet<Member>): Map<Member, Set<string>> {
    const groups = new Map<Member, Set<string>>();
    for (const a of addresses) {
      const m = this.assign(a, skip);
      if (m === undefined) continue;
      let g = groups.get(m);
      if (g === undefined) groups.set(m, (g = new Set()));
      for (const x of this.setOf(a)) g.add(x);
    }
    return groups;
  }

  // -------------------------------------------------------------------------------------
  // Placement of subscriptions
  // -------------------------------------------------------------------------------------

  /** Brings every subscription in line with the current assignment; returns a node that took over a share. */
  private replace(): Promise<Member | undefined> {
    const run = this.placing.then(async () => {
      let moved: Member | undefined;
      for (const s of [...this.utxoSubs])
        moved = (await this.placeUtxoSub(s).catch((e: unknown) => this.fail(e))) ?? moved;
      for (const s of [...this.chainSubs]) await this.placeChainSub(s).catch((e: unknown) => this.fail(e));
      return moved;
    });
    this.placing = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private fail(e: unknown): undefined {
    this.emit('error', e);
    return undefined;
  }

  private async placeUtxoSub(s: UtxoSub, opts?: CallOptions): Promise<Member | undefined> {
    let moved: Member | undefined;
    for (let round = 0; round <= this.members.length && s.active; round++) {
      const want = this.group(s.addresses);
      const replaced: Subscription[] = [];
      let failed = false;
      // Make before break: every new part is acknowledged before any old one is dropped, so
      // an address moving between nodes is watched somewhere at every moment.
      for (const [m, addresses] of want) {
        const part = s.parts.get(m);
        if (part !== undefined && sameSet(part.addresses, addresses)) continue;
        let sub: Subscription;
        try {
          sub = await m.client.subscribeUtxosChanged([...addresses], (n) => this.onUtxos(s, n), opts);
        } catch (e) {
          if (!(e instanceof RpcError) || !RETRYABLE.has(e.code)) throw e;
          this.onDown(m, e);
          failed = true;
          break;
        }
        s.parts.set(m, { addresses, sub });
        if (part !== undefined) replaced.push(part.sub);
        if (part === undefined || [...addresses].some((a) => !part.addresses.has(a))) moved = m;
        if (!s.active) break;
      }
      for (const [m, part] of [...s.parts]) {
        if (want.has(m) && s.active) continue;
        s.parts.delete(m);
        replaced.push(part.sub);
      }
      // A node that is down has nothing to be told; its client forgets the scope locally.
      for (const old of replaced) await old.unsubscribe().catch(() => undefined);
      if (!failed || !s.active) return moved;
    }
    return moved;
  }

  private async placeChainSub(s: ChainSub, opts?: CallOptions): Promise<void> {
    for (let round = 0; round <= this.members.length && s.active; round++) {
      const m = this.assign('chain');
      if (m === undefined || m === s.member) return;
      let sub: Subscription;
      try {
        sub =
          s.kind === 'block'
            ? await m.client.subscribeBlockAdded((b) => this.onBlock(s, b), opts)
            : await m.client.subscribeVirtualChainChanged(
                s.includeAcceptedTransactionIds,
                (n) => (s.active ? (s.listener as (n: VirtualChainChanged) => void)(n) : undefined),
                opts,
              );
      } catch (e) {
        if (!(e instanceof RpcError) || !RETRYABLE.has(e.code)) throw e;
        this.onDown(m, e);
        continue;
      }
      const old = s.sub;
      s.member = m;
      s.sub = sub;
      if (!s.active) await sub.unsubscribe().catch(() => undefined);
      await old?.unsubscribe().catch(() => undefined);
      return;
    }
  }

  private onUtxos(s: UtxoSub, n: UtxosChanged): void {
    if (!s.active) return;
    const pick = (list: readonly AddressedUtxo[], kind: 'added' | 'removed'): AddressedUtxo[] => {
      const out: AddressedUtxo[] = [];
      for (const u of list) {
        if (u.address === null || !s.addresses.has(u.address)) continue;
        const k = keyOf(u.outpoint);
        if (s.seen.get(k) === kind) continue;
        s.seen.delete(k);
        s.seen.set(k, kind);
        if (s.seen.size > MAX_SEEN) s.seen.delete(s.seen.keys().next().value!);
        this.remember(u);
        out.push(u);
      }
      return out;
    };
    const added = pick(n.added, 'added');
    const removed = pick(n.removed, 'removed');
    if (added.length + removed.length === 0) return;
    try {
      s.listener({ added, removed });
    } catch (e) {
      this.emit('error', e);
    }
  }

  private onBlock(s: ChainSub, b: Block): void {
    if (!s.active) return;
    if (this.setSize > 1) {
      const found: string[] = [];
      const prefixes = this.prefixes();
      for (const vt of b.transactions)
        for (const o of vt.transaction.outputs)
          for (const prefix of prefixes) {
            const a = scriptPublicKeyToAddress(o.scriptPublicKey, prefix);
            if (a !== undefined) found.push(a.toString());
          }
      this.addDecoyCandidates(found);
    }
    (s.listener as (b: Block) => void)(b);
  }

  /** Prefixes of the pool's network, else of the addresses watched (decoys must be on the same network). */
  private prefixes(): NetworkPrefix[] {
    const own = prefixOfNetwork(this.network);
    if (own !== undefined) return [own];
    const seen = new Set<string>();
    for (const s of this.utxoSubs)
      for (const a of s.addresses) {
        seen.add(a.slice(0, a.indexOf(':')));
        break;
      }
    return NETWORK_PREFIXES.filter((p) => seen.has(p));
  }

  private remember(u: AddressedUtxo): void {
    if (u.address === null) return;
    const k = keyOf(u.outpoint);
    this.outpointAddress.delete(k);
    this.outpointAddress.set(k, u.address);
    if (this.outpointAddress.size > MAX_OUTPOINTS)
      this.outpointAddress.delete(this.outpointAddress.keys().next().value!);
  }

  // -------------------------------------------------------------------------------------
  // Calls
  // -------------------------------------------------------------------------------------

  /** Runs `fn` on the first usable node of `order`, moving to the next on a lost connection. */
  private async run<T>(
    order: () => Member | undefined,
    fn: (client: KaspaRpcClient) => Promise<T>,
    opts: CallOptions = {},
  ): Promise<T> {
    let last: unknown;
    for (let attempt = 0; attempt <= this.members.length; attempt++) {
      await this.waitUsable(opts);
      const m = order();
      if (m === undefined) continue;
      try {
        return await fn(m.client);
      } catch (e) {
        this.onTimeout(m, e);
        if (!(e instanceof RpcError) || !RETRYABLE.has(e.code) || this.closed) throw e;
        last = e;
        this.onDown(m, e);
      }
    }
    throw last;
  }

  /** Splits an address query over the nodes; answers about addresses a node was not asked are dropped. */
  private async spread<T>(
    addresses: readonly string[],
    call: (client: KaspaRpcClient, addresses: string[]) => Promise<T[]>,
    addressOf: (t: T) => string | null,
    opts: CallOptions = {},
  ): Promise<T[]> {
    checkAddresses(addresses);
    const asked = new Set(addresses);
    await this.waitUsable(opts);
    const results: T[] = [];
    let pending = [...asked];
    let last: unknown;
    const failed = new Set<Member>();
    for (let attempt = 0; pending.length > 0 && attempt <= this.members.length; attempt++) {
      if (attempt > 0) await this.waitUsable(opts);
      const groups = this.group(pending, failed);
      const retry: string[] = [];
      await Promise.all(
        [...groups].map(async ([m, set]) => {
          try {
            const got = await call(m.client, [...set]);
            for (const t of got) {
              const a = addressOf(t);
              // Only what this node was asked: it must not speak for another node's share.
              if (a !== null && asked.has(a) && set.has(a)) results.push(t);
            }
          } catch (e) {
            this.onTimeout(m, e);
            if (!(e instanceof RpcError) || !RETRYABLE.has(e.code) || this.closed) throw e;
            last = e;
            failed.add(m);
            this.onDown(m, e);
            for (const a of set) if (asked.has(a)) retry.push(a);
          }
        }),
      );
      pending = retry;
      if (pending.length > 0 && this.usable().length === 0) failed.clear();
    }
    if (pending.length > 0) throw last ?? new RpcError('NOT_CONNECTED', 'no node usable');
    return results;
  }

  /** Runs `fn` on the node that serves chain queries (one for all of them, by the keyed hash of "chain"). */
  private onChain<T>(fn: (client: KaspaRpcClient) => Promise<T>, opts?: CallOptions): Promise<T> {
    return this.run(() => this.assign('chain'), fn, opts);
  }

  /** `ping` on the node that serves chain queries. */
  ping(opts?: CallOptions): Promise<void> {
    return this.onChain((c) => c.ping(opts), opts);
  }

  getServerInfo(opts?: CallOptions): Promise<ServerInfo> {
    return this.onChain((c) => c.getServerInfo(opts), opts);
  }

  getBlockDagInfo(opts?: CallOptions): Promise<BlockDagInfo> {
    return this.onChain((c) => c.getBlockDagInfo(opts), opts);
  }

  getSink(opts?: CallOptions): Promise<BlockHash> {
    return this.onChain((c) => c.getSink(opts), opts);
  }

  getFeeEstimate(opts?: CallOptions): Promise<FeeEstimate> {
    return this.onChain((c) => c.getFeeEstimate(opts), opts);
  }

  getBlock(
    hash: BlockHash,
    opts: CallOptions & { readonly includeTransactions?: boolean } = {},
  ): Promise<Block> {
    return this.onChain((c) => c.getBlock(hash, opts), opts);
  }

  getVirtualChainFromBlockV2(
    startHash: BlockHash,
    opts: CallOptions & {
      readonly dataVerbosityLevel?: RpcDataVerbosityLevel;
      readonly minConfirmationCount?: bigint;
    } = {},
  ): Promise<VirtualChainV2> {
    return this.onChain((c) => c.getVirtualChainFromBlockV2(startHash, opts), opts);
  }

  /** Asked of the node the transaction id hashes to, so interest in ids is spread too. */
  getMempoolEntry(txId: TxId, opts: MempoolQueryOptions = {}): Promise<MempoolEntry> {
    const id = bytesToHex(txId);
    return this.run(
      () => this.assign(`tx\n${id}`),
      (c) => c.getMempoolEntry(txId, opts),
      opts,
    );
  }

  /** Each address asked of its own node (inside its decoy set). */
  async getUtxosByAddresses(addresses: readonly string[], opts?: CallOptions): Promise<AddressedUtxo[]> {
    const all = await this.spread(
      addresses,
      (c, a) => c.getUtxosByAddresses(a, opts),
      (u) => u.address,
      opts,
    );
    const out = new Map<string, AddressedUtxo>();
    for (const u of all) {
      const k = keyOf(u.outpoint);
      if (!out.has(k)) {
        out.set(k, u);
        this.remember(u);
      }
    }
    return [...out.values()];
  }

  getBalancesByAddresses(
    addresses: readonly string[],
    opts?: CallOptions,
  ): Promise<{ readonly address: string; readonly balance: bigint | undefined }[]> {
    return this.spread(
      addresses,
      (c, a) => c.getBalancesByAddresses(a, opts),
      (b) => b.address,
      opts,
    );
  }

  getMempoolEntriesByAddresses(
    addresses: readonly string[],
    opts: MempoolQueryOptions = {},
  ): Promise<MempoolEntriesByAddress[]> {
    return this.spread(
      addresses,
      (c, a) => c.getMempoolEntriesByAddresses(a, opts),
      (e) => e.address,
      opts,
    );
  }

  /**
   * Sent to the node that already watches the first input's address when the pool saw that
   * coin, else to the node the id hashes to: the route never depends on the recipients.
   */
  submitTransaction(
    tx: Transaction,
    opts: CallOptions & { readonly allowOrphan?: boolean } = {},
  ): Promise<TxId> {
    const id = bytesToHex(transactionId(tx));
    const first = tx.inputs[0];
    const owner = first === undefined ? undefined : this.outpointAddress.get(keyOf(first.previousOutpoint));
    const tried = new Set<Member>();
    return this.run(
      () => {
        const m =
          (owner === undefined ? undefined : this.assign(owner, tried)) ?? this.assign(`tx\n${id}`, tried);
        if (m !== undefined) tried.add(m);
        return m ?? this.assign(`tx\n${id}`);
      },
      (c) => c.submitTransaction(tx, opts),
      opts,
    );
  }

  // -------------------------------------------------------------------------------------
  // Subscriptions
  // -------------------------------------------------------------------------------------

  /** UTXO changes of `addresses`, each watched at its own node; resolves once every part is acknowledged. */
  async subscribeUtxosChanged(
    addresses: readonly string[],
    listener: (n: UtxosChanged) => void,
    opts?: CallOptions,
  ): Promise<Subscription> {
    checkSubscribedAddresses(addresses);
    await this.waitUsable(opts);
    const s: UtxoSub = {
      addresses: new Set(addresses),
      listener,
      parts: new Map(),
      seen: new Map(),
      active: true,
    };
    this.utxoSubs.add(s);
    const drop = async (o?: CallOptions): Promise<void> => {
      if (!s.active) return;
      s.active = false;
      this.utxoSubs.delete(s);
      const parts = [...s.parts.values()];
      s.parts.clear();
      for (const p of parts) await p.sub.unsubscribe(o);
    };
    try {
      await this.serial(() => this.placeUtxoSub(s, opts));
    } catch (e) {
      await drop().catch(() => undefined);
      throw e;
    }
    return { unsubscribe: drop };
  }

  subscribeBlockAdded(listener: (block: Block) => void, opts?: CallOptions): Promise<Subscription> {
    return this.chainSub({ kind: 'block', includeAcceptedTransactionIds: false, listener }, opts);
  }

  subscribeVirtualChainChanged(
    includeAcceptedTransactionIds: boolean,
    listener: (n: VirtualChainChanged) => void,
    opts?: CallOptions,
  ): Promise<Subscription> {
    return this.chainSub({ kind: 'chain', includeAcceptedTransactionIds, listener }, opts);
  }

  private async chainSub(
    init: Pick<ChainSub, 'kind' | 'includeAcceptedTransactionIds' | 'listener'>,
    opts?: CallOptions,
  ): Promise<Subscription> {
    await this.waitUsable(opts);
    const s: ChainSub = { ...init, member: undefined, sub: undefined, active: true };
    this.chainSubs.add(s);
    const drop = async (o?: CallOptions): Promise<void> => {
      if (!s.active) return;
      s.active = false;
      this.chainSubs.delete(s);
      await s.sub?.unsubscribe(o);
    };
    try {
      await this.serial(() => this.placeChainSub(s, opts));
    } catch (e) {
      await drop().catch(() => undefined);
      throw e;
    }
    return { unsubscribe: drop };
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.placing.then(task);
    this.placing = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

/**
 * The assignment key of a profile, derived one way from one of its secrets under its own
 * BLAKE2b key (domain separation), so the same profile spreads its addresses the same way
 * after every restart without storing anything.
 */
export function nodeAssignmentKey(secret: Uint8Array): Uint8Array {
  assertBytes('secret', secret);
  if (secret.length < 16)
    throw new RangeError(`"secret" expected at least 16 bytes, got length=${secret.length}`);
  return blake2b(secret, { key: utf8ToBytes('p2pComm node assignment v1'), dkLen: 32 });
}

/** Address prefix of a getServerInfo `networkId` (FACTS §2.1). */
function prefixOfNetwork(network: string | undefined): NetworkPrefix | undefined {
  if (network === undefined) return undefined;
  if (network === 'mainnet') return 'kaspa';
  if (network.startsWith('testnet')) return 'kaspatest';
  if (network === 'simnet') return 'kaspasim';
  if (network === 'devnet') return 'kaspadev';
  return undefined;
}

function keyOf(o: Outpoint): string {
  return `${bytesToHex(o.transactionId)}:${o.index}`;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
