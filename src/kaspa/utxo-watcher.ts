/**
 * Watches the UTXOs of a set of addresses and reports each coin exactly once as added and
 * at most once as removed, across reconnects. Live changes come from UtxosChanged; a
 * getUtxosByAddresses snapshot, taken after the subscription is acknowledged (FACTS §6.4),
 * seeds new addresses and, after every reconnect, is diffed against what is known so that
 * changes missed during the gap are reported too.
 *
 * What the node is told is only what changed: an addition is one `subscribe` naming the new
 * addresses, a removal one `unsubscribe` naming the removed ones (`resubscribe`). kaspad 2.1.0
 * removes exactly the addresses an unsubscribe names and keeps notifying the rest
 * (test/oracle/utxo-unsubscribe.ts, run against it by `npm run test:kaspad`; the local network
 * does the same), so nothing is re-read after a removal.
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

/** UTXO watcher over a KaspaNode: one client or a NodePool (node needs `--utxoindex`). */
export class UtxoWatcher {
  private readonly events = new Emitter<UtxoWatcherEvents>();
  private readonly addresses = new Set<string>();
  private readonly known = new Map<string, AddressedUtxo>();
  private readonly windows = new Set<SnapshotWindow>();
  private subscription: Subscription | undefined;
  private offReconnect: (() => void) | undefined;
  private chain: Promise<void> = Promise.resolve();

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

  /** Whether `address` is watched. */
  has(address: string): boolean {
    return this.addresses.has(address);
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
      const fresh = addresses.filter((a) => !this.addresses.has(a));
      if (fresh.length === 0) return;
      for (const a of fresh) this.addresses.add(a);
      try {
        await this.resubscribe(opts);
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
      await this.resubscribe(opts);
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
   * One client subscription covering the whole set. The new one is made before the old one
   * is dropped, so the client's reference counts send only the difference to the node.
   * While both exist a notification may arrive twice; the `known` map keeps every report
   * exactly-once regardless.
   */
  private async resubscribe(opts?: CallOptions): Promise<void> {
    const old = this.subscription;
    this.subscription =
      this.addresses.size === 0
        ? undefined
        : await this.client.subscribeUtxosChanged([...this.addresses], (n) => this.onNotification(n), opts);
    await old?.unsubscribe(opts);
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
