/**
 * Watches the UTXOs of a set of addresses and reports each coin exactly once as added and
 * at most once as removed, across reconnects. Live changes come from UtxosChanged; a
 * getUtxosByAddresses snapshot, taken after the subscription is acknowledged (FACTS §6.4),
 * seeds new addresses and, after every reconnect, is diffed against what is known so that
 * changes missed during the gap are reported too.
 *
 * Each `addAddresses` call is one client subscription naming only its new addresses, and each
 * `removeAddresses` one `unsubscribe` naming only the removed ones: the work of a change grows
 * with the change, not with everything watched. kaspad 2.1.0 removes exactly the addresses an
 * unsubscribe names and keeps notifying the rest (test/oracle/utxo-unsubscribe.ts, run against
 * it by `npm run test:kaspad`; the local network does the same), so nothing is re-read after a
 * removal. The client re-subscribes every subscription after a reconnect, so the node is then
 * told exactly the watched set.
 */
import { bytesToHex } from '../util/bytes.ts';
import type { AddressedUtxo } from './rpc/convert.ts';
import type { CallOptions, Subscription } from './rpc/client.ts';
import type { KaspaNode } from './rpc/node.ts';
import { Emitter } from './rpc/emitter.ts';
import type { UtxosChanged } from './rpc/responses.ts';
import type { Outpoint } from './types.ts';

/** A batch of changes; each UTXO appears in `added` once and in `removed` at most once. */
export interface UtxoChange {
  readonly added: readonly AddressedUtxo[];
  readonly removed: readonly AddressedUtxo[];
  /** `notification`: live UtxosChanged; `snapshot`: initial load or catch-up after a reconnect. */
  readonly source: 'notification' | 'snapshot';
}

/** Watcher events; `error` reports failed catch-up snapshots (retried on the next reconnect). */
export interface UtxoWatcherEvents {
  change: UtxoChange;
  error: unknown;
}

/** Stable map key of an outpoint: `<txid hex>:<index>`. */
export function outpointKey(o: Outpoint): string {
  return `${bytesToHex(o.transactionId)}:${o.index}`;
}

/** Notifications seen while a snapshot was in flight; they win over the (older) snapshot. */
interface SnapshotWindow {
  readonly added: Set<string>;
  readonly removed: Set<string>;
}

/** One client subscription and the addresses it names. */
interface Group {
  readonly addresses: ReadonlySet<string>;
  readonly sub: Subscription;
}

/** UTXO watcher over a KaspaNode: one client or a NodePool (node needs `--utxoindex`). */
export class UtxoWatcher {
  private readonly events = new Emitter<UtxoWatcherEvents>();
  private readonly addresses = new Set<string>();
  private readonly known = new Map<string, AddressedUtxo>();
  private readonly windows = new Set<SnapshotWindow>();
  /** The subscriptions, and which one names each watched address. */
  private readonly groupOf = new Map<string, Group>();
  private offReconnect: (() => void) | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** The shares of the notification being handed out (see `collect`). */
  private inbox: { added: AddressedUtxo[]; removed: AddressedUtxo[] } | undefined;

  constructor(private readonly client: KaspaNode) {}

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof UtxoWatcherEvents>(
    event: K,
    listener: (value: UtxoWatcherEvents[K]) => void,
  ): () => void {
    return this.events.on(event, listener);
  }

  /** Addresses being watched. */
  get watched(): readonly string[] {
    return [...this.addresses];
  }

  /** How many addresses are watched. */
  get size(): number {
    return this.addresses.size;
  }

  /** Every UTXO currently known for the watched addresses. */
  utxos(): AddressedUtxo[] {
    return [...this.known.values()];
  }

  /**
   * Starts watching `addresses` (others stay watched): subscribes, then loads their current
   * UTXOs, reporting the new ones as `added` with source `snapshot`. Call it once the client
   * is connected. If the snapshot fails the addresses stay watched and the call rejects;
   * `catchUp()` retries (it also runs by itself after every reconnect).
   */
  addAddresses(addresses: readonly string[], opts?: CallOptions): Promise<void> {
    if (!Array.isArray(addresses)) throw new TypeError('"addresses" expected an array of address strings');
    return this.serial(async () => {
      const fresh = [...new Set(addresses.filter((a) => !this.addresses.has(a)))];
      if (fresh.length === 0) return;
      for (const a of fresh) this.addresses.add(a);
      try {
        this.group(fresh, await this.subscribe(fresh, opts));
      } catch (e) {
        for (const a of fresh) this.addresses.delete(a);
        throw e;
      }
      this.offReconnect ??= this.client.on('reconnect', () => {
        this.catchUp().catch((e: unknown) => this.events.emit('error', e));
      });
      await this.snapshot(fresh, opts);
    });
  }

  /** Stops watching `addresses`; their UTXOs are forgotten without `removed` events (they were not spent). */
  removeAddresses(addresses: readonly string[], opts?: CallOptions): Promise<void> {
    if (!Array.isArray(addresses)) throw new TypeError('"addresses" expected an array of address strings');
    return this.serial(async () => {
      const gone = new Set(addresses.filter((a) => this.addresses.has(a)));
      if (gone.size === 0) return;
      for (const a of gone) this.addresses.delete(a);
      for (const [k, u] of this.known) if (u.address !== null && gone.has(u.address)) this.known.delete(k);
      const touched = new Set([...gone].map((a) => this.groupOf.get(a)!));
      for (const a of gone) this.groupOf.delete(a);
      for (const g of touched) {
        // What the subscription named besides the removed addresses, subscribed again before
        // the old one goes: the client's reference counts then send the node only the
        // `unsubscribe` of the removed ones, and the rest is watched at every moment.
        const rest = [...g.addresses].filter((a) => !gone.has(a));
        if (rest.length > 0) this.group(rest, await this.subscribe(rest, opts));
        await g.sub.unsubscribe(opts);
      }
    });
  }

  /** Stops watching everything. */
  stop(opts?: CallOptions): Promise<void> {
    return this.removeAddresses([...this.addresses], opts).finally(() => {
      this.offReconnect?.();
      this.offReconnect = undefined;
    });
  }

  /** Re-reads every watched address and reports what changed meanwhile. Runs after each reconnect. */
  catchUp(opts?: CallOptions): Promise<void> {
    return this.serial(() => this.snapshot([...this.addresses], opts));
  }

  private serial(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(task);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * A subscription of `addresses`. While an address is named by two subscriptions (during a
   * removal) a notification may arrive twice; the `known` map keeps every report exactly-once.
   */
  private subscribe(addresses: readonly string[], opts?: CallOptions): Promise<Subscription> {
    return this.client.subscribeUtxosChanged(addresses, (n) => this.collect(n), opts);
  }

  /**
   * The client hands each subscription its share of a notification, one after the other in
   * the same task; the shares are put together again so that one notification is one `change`
   * (a spend and its change output on addresses of different subscriptions stay one report).
   */
  private collect(n: UtxosChanged): void {
    if (this.inbox === undefined) {
      const inbox = { added: [...n.added], removed: [...n.removed] };
      this.inbox = inbox;
      queueMicrotask(() => {
        this.inbox = undefined;
        this.onNotification(inbox);
      });
      return;
    }
    this.inbox.added.push(...n.added);
    this.inbox.removed.push(...n.removed);
  }

  private group(addresses: readonly string[], sub: Subscription): void {
    const g: Group = { addresses: new Set(addresses), sub };
    for (const a of addresses) this.groupOf.set(a, g);
  }

  private onNotification(n: UtxosChanged): void {
    const added: AddressedUtxo[] = [];
    const removed: AddressedUtxo[] = [];
    for (const u of n.added) {
      if (u.address === null || !this.addresses.has(u.address)) continue;
      const k = outpointKey(u.outpoint);
      for (const w of this.windows) w.added.add(k);
      if (this.known.has(k)) continue;
      this.known.set(k, u);
      added.push(u);
    }
    for (const u of n.removed) {
      if (u.address === null || !this.addresses.has(u.address)) continue;
      const k = outpointKey(u.outpoint);
      for (const w of this.windows) w.removed.add(k);
      const had = this.known.get(k);
      if (had === undefined) continue;
      this.known.delete(k);
      removed.push(had);
    }
    if (added.length + removed.length > 0)
      this.events.emit('change', { added, removed, source: 'notification' });
  }

  private async snapshot(addresses: readonly string[], opts?: CallOptions): Promise<void> {
    if (addresses.length === 0) return;
    const window: SnapshotWindow = { added: new Set(), removed: new Set() };
    this.windows.add(window);
    let entries: AddressedUtxo[];
    try {
      entries = await this.client.getUtxosByAddresses(addresses, opts);
    } finally {
      this.windows.delete(window);
    }
    const scope = new Set(addresses);
    const current = new Map<string, AddressedUtxo>();
    for (const u of entries) {
      if (u.address === null || !this.addresses.has(u.address)) continue;
      const k = outpointKey(u.outpoint);
      // Spent while the snapshot was in flight: the notification is newer than the snapshot.
      if (!window.removed.has(k)) current.set(k, u);
    }
    const added: AddressedUtxo[] = [];
    const removed: AddressedUtxo[] = [];
    for (const [k, u] of current) {
      if (this.known.has(k)) continue;
      this.known.set(k, u);
      added.push(u);
    }
    for (const [k, u] of this.known) {
      // Added by a notification during the window but after the node built the snapshot: keep it.
      if (u.address === null || !scope.has(u.address) || current.has(k) || window.added.has(k)) continue;
      this.known.delete(k);
      removed.push(u);
    }
    if (added.length + removed.length > 0) this.events.emit('change', { added, removed, source: 'snapshot' });
  }
}
