/**
 * The production `ChainPort`: Kaspa through the wRPC client (FACTS §6). One wallet address
 * receives notifications, funds publications and takes change.
 *
 * Receiving. A notification is a coin paid to our address, and it stays unspent until we
 * return it, so the UTXO set of our address is a complete list of what is still to process:
 * the watcher's snapshot after (re)connecting is the catch-up, live UtxosChanged the rest
 * (FACTS §6.4). For each new coin from a transaction we did not publish, the payload is
 * fetched without a transaction index (FACTS §6.6, from the remembered chain block) and
 * handed to the engine, one coin at a time, in acceptance order; the engine says whose coin
 * it is, and it is held to be returned to that contact (docs/delivery.md). Coins nobody
 * claims are funds. Processed coins are remembered, so a restart does not fetch them again.
 *
 * Publishing. `buildPublication` (chain-tx.ts) spends the recipients' coins in hand and
 * funding coins; change from our own unconfirmed transactions is spent at once (the mempool
 * accepts chains of transactions), so a burst of batches does not wait for blocks.
 */
import type { Address } from '../../kaspa/address.ts';
import type { KaspaNode } from '../../kaspa/rpc/node.ts';
import type { AddressedUtxo } from '../../kaspa/rpc/convert.ts';
import { PayloadFetcher } from '../../kaspa/payload-fetch.ts';
import { UtxoWatcher, outpointKey } from '../../kaspa/utxo-watcher.ts';
import { transactionId } from '../../kaspa/txid.ts';
import type { BlockHash, TxId, Utxo } from '../../kaspa/types.ts';
import type { KeyValueStore } from '../../storage/types.ts';
import { encodeKey } from '../../storage/keys.ts';
import { bytesToHex, bytesToUtf8, utf8ToBytes } from '../../util/bytes.ts';
import {
  buildPublication,
  notificationValue,
  typicalPublicationFee,
  DEFAULT_NOTIFICATION_STORAGE_BUDGET,
  type Spendable,
} from './chain-tx.ts';
import { DeliveryError, RecipientError } from './errors.ts';
import type { ChainHandler, ChainPort, ContactId, Funds, Publication } from './ports.ts';

type Timeout = ReturnType<typeof setTimeout>;

/**
 * Payload fetches of one coin before it is reported as unrecoverable. Every fetch after the
 * first scans from the node's pruning point, the oldest block that still has bodies, so by
 * then "not found" means the node does not have the transaction at all.
 */
const MAX_FETCH_TRIES = 6;

/** The store that remembers processed coins; declare it with DELIVERY_STORES. */
export const COINS_STORE = 'delivery.coins';

/** Everything the Kaspa adapter is built from. */
export interface KaspaChainOptions {
  /** A connected client (reconnects on its own; the watcher catches up after each gap). */
  readonly client: KaspaNode;
  /** This client's wallet address (notifications, funding, change). */
  readonly address: Address;
  /** Its 32-byte private key. */
  readonly privateKey: Uint8Array;
  /** A contact's notification address (from its card), or undefined when it has none. */
  readonly addressOf: (contact: ContactId) => Address | undefined;
  /** Holds processed-coin records (store COINS_STORE). */
  readonly db: KeyValueStore;
  /** Storage mass of a first-contact transaction (coin and change). @default DEFAULT_NOTIFICATION_STORAGE_BUDGET */
  readonly storageBudget?: bigint;
}

type CoinRole = { readonly kind: 'held'; readonly contact: ContactId } | { readonly kind: 'funds' };

/** Kaspa chain path of one client. */
export class KaspaChain implements ChainPort {
  private readonly watcher: UtxoWatcher;
  private readonly fetcher: PayloadFetcher;
  private readonly addr: string;
  private handler: ChainHandler | undefined;
  /** Where this session's scans start (saved by the engine, or the sink of a fresh client). */
  private cursor: BlockHash | undefined;
  /** Accepting chain blocks seen, by DAA score, for cursors closer than `cursor`. */
  private readonly checkpoints: { daa: bigint; hash: BlockHash }[] = [];
  /** Our coins by outpoint key, with what they are for. */
  private readonly coins = new Map<string, { utxo: Utxo; role: CoinRole }>();
  /** Spent by a transaction of ours not yet accepted. */
  private readonly spending = new Set<string>();
  /** Our publications not yet accepted (tx id hex). */
  private readonly mine = new Set<string>();
  /** Coins to process, and whether they are in acceptance order and the worker runs. */
  private readonly pending: AddressedUtxo[] = [];
  private sorted = true;
  private working = false;
  /** Undecided coins waiting for their next try, by outpoint key (still to process). */
  private readonly retrying = new Map<string, { readonly utxo: AddressedUtxo; readonly timer: Timeout }>();
  private offReconnect: (() => void) | undefined;
  /** Undecided coins and how often they were tried. */
  private readonly tries = new Map<string, number>();
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};
  private locked = 0n;
  /**
   * One message to a contact with no coin in hand: the coin it locks and the relay fee of a
   * typical single-message publication (FACTS §4.8). Fixed for the adapter's life, so measured once.
   */
  private readonly costPerMessage: bigint;
  private offChange: (() => void) | undefined;
  private stopped = false;
  private fresh = false;

  constructor(private readonly opts: KaspaChainOptions) {
    if (!opts.db.stores.includes(COINS_STORE)) throw new TypeError(`"db" lacks store "${COINS_STORE}"`);
    this.watcher = new UtxoWatcher(opts.client);
    this.fetcher = new PayloadFetcher(opts.client);
    this.addr = opts.address.toString();
    this.costPerMessage =
      notificationValue(opts.storageBudget ?? DEFAULT_NOTIFICATION_STORAGE_BUDGET) + typicalPublicationFee();
  }

  async start(handler: ChainHandler, cursor: Uint8Array | undefined): Promise<void> {
    this.handler = handler;
    this.cursor = cursor?.length === 32 ? (cursor as BlockHash) : undefined;
    this.locked = await this.loadLocked();
    await this.fetcher.start();
    // A fresh client starts from the current sink, and the coins it already holds are funds:
    // nobody could address a message to it before it first published its card.
    this.fresh = this.cursor === undefined;
    this.cursor ??= await this.opts.client.getSink();
    handler.checkpoint(this.cursor);
    this.offChange = this.watcher.on('change', (c) => {
      for (const u of c.removed) this.onRemoved(u);
      for (const u of c.added) this.onAdded(u);
      this.kick();
    });
    // A coin left undecided because the node was unreachable is tried again as soon as the
    // node is back, not after its backoff: the time to delivery after an outage is bounded by
    // the reconnect, not by the longest pause a coin reached (up to 30 s).
    this.offReconnect = this.opts.client.on('reconnect', () => {
      for (const k of [...this.retrying.keys()]) this.retryNow(k);
    });
    await this.watcher.addAddresses([this.addr]);
    // Catch-up is complete when the coins of the first snapshot are processed.
    await this.idle;
    this.fresh = false;
  }

  async publish(payload: Uint8Array, recipients: readonly ContactId[]): Promise<Publication> {
    if (this.stopped) throw new DeliveryError('CLOSED', 'the chain adapter is stopped');
    const key = this.opts.privateKey;
    const notify = recipients.map((contact) => {
      const address = this.opts.addressOf(contact);
      // Checked per recipient before anything is built, so the engine can drop exactly the
      // one that cannot be paid and publish for the others.
      if (!address)
        throw new RecipientError(contact, `contact ${contact} has no notification address on this network`);
      if (address.prefix !== this.opts.address.prefix)
        throw new RecipientError(
          contact,
          `contact ${contact} listed an address on ${address.prefix}, not on ${this.opts.address.prefix}`,
        );
      const held = this.heldFrom(contact);
      return held ? { address, held: { utxo: held, privateKey: key } } : { address };
    });
    const funding: Spendable[] = [];
    for (const [k, c] of this.coins) {
      if (c.role.kind === 'funds' && !this.spending.has(k)) funding.push({ utxo: c.utxo, privateKey: key });
    }
    const built = buildPublication({
      payload,
      recipients: notify,
      funding,
      changeAddress: this.opts.address,
    });
    const txId = transactionId(built.tx);
    for (const s of built.spent) this.spending.add(outpointKey(s.utxo.outpoint));
    this.mine.add(bytesToHex(txId));
    try {
      await this.opts.client.submitTransaction(built.tx);
    } catch (error) {
      for (const s of built.spent) this.spending.delete(outpointKey(s.utxo.outpoint));
      this.mine.delete(bytesToHex(txId));
      throw new DeliveryError('PUBLISH_FAILED', 'the node refused or did not take the transaction', {
        cause: error,
      });
    }
    // Our change is spendable at once (a mempool chain); the watcher confirms it later.
    if (built.changeIndex !== undefined) {
      const change = built.tx.outputs[built.changeIndex]!;
      const utxo: Utxo = {
        outpoint: { transactionId: txId, index: built.changeIndex },
        entry: {
          amount: change.value,
          scriptPublicKey: change.scriptPublicKey,
          blockDaaScore: 0n,
          isCoinbase: false,
        },
      };
      this.coins.set(outpointKey(utxo.outpoint), { utxo, role: { kind: 'funds' } });
    }
    if (built.locked > 0n) await this.addLocked(built.locked);
    this.emitFunds();
    return { txId };
  }

  async funds(): Promise<Funds> {
    return this.currentFunds();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.offChange?.();
    this.offReconnect?.();
    for (const { timer } of this.retrying.values()) clearTimeout(timer);
    await this.watcher.stop().catch(() => undefined);
    await this.fetcher.stop().catch(() => undefined);
  }

  // ---- coins ------------------------------------------------------------------------------

  private heldFrom(contact: ContactId): Utxo | undefined {
    for (const [k, c] of this.coins) {
      if (c.role.kind === 'held' && c.role.contact === contact && !this.spending.has(k)) return c.utxo;
    }
    return undefined;
  }

  private onRemoved(u: AddressedUtxo): void {
    const k = outpointKey(u.outpoint);
    this.coins.delete(k);
    this.spending.delete(k);
    void this.opts.db.delete(COINS_STORE, encodeKey('coin', k)).catch(() => undefined);
  }

  private onAdded(u: AddressedUtxo): void {
    const k = outpointKey(u.outpoint);
    const txHex = bytesToHex(u.outpoint.transactionId);
    if (this.mine.has(txHex)) {
      this.mine.delete(txHex);
      this.coins.set(k, { utxo: u, role: { kind: 'funds' } });
      // Remembered like a processed coin: after a restart our own change is not mistaken for
      // a foreign coin whose payload must be fetched.
      void this.opts.db
        .put(COINS_STORE, encodeKey('coin', k), encodeRole({ kind: 'funds' }))
        .catch(() => undefined);
      this.reportAccepted(u.outpoint.transactionId, u.entry.blockDaaScore);
      return;
    }
    if (this.coins.has(k)) {
      // Our own unconfirmed change, now accepted: keep its role, take the real entry.
      this.coins.set(k, { utxo: u, role: this.coins.get(k)!.role });
      return;
    }
    this.enqueueCoin(u);
  }

  private enqueueCoin(u: AddressedUtxo): void {
    this.pending.push(u);
    this.sorted = false;
  }

  /** Puts a coin waiting for its retry back in line at once. */
  private retryNow(k: string): void {
    const waiting = this.retrying.get(k);
    if (!waiting || this.stopped) return;
    clearTimeout(waiting.timer);
    this.retrying.delete(k);
    this.enqueueCoin(waiting.utxo);
    this.kick();
  }

  private reportAccepted(txId: TxId, daaScore: bigint, attempt = 0): void {
    // The accepting block's hash comes from the fetcher's cache, or from a virtual-chain scan
    // from a block before the acceptance; the cache may trail the UTXO notification a little.
    const start = this.cursorBefore(daaScore);
    this.fetcher
      .fetch(txId, { acceptingDaaScore: daaScore, ...(start ? { cursor: start } : {}) })
      .then((r) => {
        if (r.status === 'found' && r.acceptingBlockHash) {
          this.handler?.accepted(txId, { blockHash: r.acceptingBlockHash, daaScore });
        } else if (attempt < 5 && !this.stopped) {
          const t = setTimeout(() => this.reportAccepted(txId, daaScore, attempt + 1), 300 * (attempt + 1));
          if (typeof t === 'object' && 'unref' in t) t.unref();
        }
      })
      .catch(() => undefined);
  }

  private kick(): void {
    if (this.working || this.pending.length === 0) return;
    this.working = true;
    this.idle = new Promise((resolve) => (this.markIdle = resolve));
    void this.work();
  }

  /** Processes new foreign coins one at a time, oldest acceptance first. */
  private async work(): Promise<void> {
    try {
      while (this.pending.length > 0 && !this.stopped) {
        // Sorted again only when coins were added: a catch-up of thousands of coins must not
        // sort the whole list once per coin.
        if (!this.sorted) {
          this.pending.sort((a, b) => (a.entry.blockDaaScore < b.entry.blockDaaScore ? -1 : 1));
          this.sorted = true;
        }
        const u = this.pending.shift()!;
        const k = outpointKey(u.outpoint);
        if (this.coins.has(k)) continue;
        const known = await this.opts.db.get(COINS_STORE, encodeKey('coin', k));
        if (known) {
          this.coins.set(k, { utxo: u, role: decodeRole(known) });
          continue;
        }
        let role: CoinRole | undefined;
        try {
          role = this.fresh ? { kind: 'funds' } : await this.process(u, this.tries.get(k) ?? 0);
        } catch {
          role = undefined;
        }
        // Undecided (node unreachable, engine closing): nothing is recorded and the coin is
        // looked at again after a pause (never given up on: it may carry messages), or at the
        // next start's snapshot.
        if (role === undefined) {
          if (this.stopped) break;
          const tries = (this.tries.get(k) ?? 0) + 1;
          this.tries.set(k, tries);
          // Still to process: the cursor saved with later coins must stay before this one.
          const retry = setTimeout(() => this.retryNow(k), Math.min(250 * 2 ** tries, 30_000));
          if (typeof retry === 'object' && 'unref' in retry) retry.unref();
          this.retrying.set(k, { utxo: u, timer: retry });
          continue;
        }
        this.tries.delete(k);
        this.coins.set(k, { utxo: u, role });
        await this.opts.db.put(COINS_STORE, encodeKey('coin', k), encodeRole(role));
        if (role.kind === 'held') await this.addLocked(-u.entry.amount);
      }
    } finally {
      this.working = false;
      this.markIdle();
      this.emitFunds();
    }
  }

  /** Fetches a coin's payload and lets the engine claim it; undefined when undecided. */
  private async process(u: AddressedUtxo, tries: number): Promise<CoinRole | undefined> {
    const txId = u.outpoint.transactionId;
    // The first try scans from the closest remembered block before the acceptance; a miss
    // there (a cursor saved past this coin, a node that lagged) widens the scan to the
    // pruning point, so a coin is given up on only when the node has no body for it.
    const start =
      tries === 0
        ? this.cursorBefore(u.entry.blockDaaScore)
        : (await this.opts.client.getBlockDagInfo()).pruningPointHash;
    const r = await this.fetcher.fetch(txId, {
      ...(start ? { cursor: start } : {}),
      acceptingDaaScore: u.entry.blockDaaScore,
    });
    if (r.status === 'found' && r.acceptingBlockHash) {
      this.checkpoints.push({ daa: u.entry.blockDaaScore, hash: r.acceptingBlockHash });
      this.checkpoints.sort((a, b) => (a.daa < b.daa ? -1 : a.daa > b.daa ? 1 : 0));
      if (this.checkpoints.length > 1024) this.checkpoints.splice(1, this.checkpoints.length - 1024);
    }
    // Not found by any route yet (the node may lag its own notification): look again later;
    // after MAX_FETCH_TRIES it is reported like a pruned one, never dropped silently.
    if (r.status === 'not-found' && tries < MAX_FETCH_TRIES) return undefined;
    if (r.status === 'found' && r.payload.length === 0) return { kind: 'funds' };
    const payload = r.status === 'found' ? r.payload : null;
    const acceptance =
      r.status === 'found' && r.acceptingBlockHash
        ? { blockHash: r.acceptingBlockHash, daaScore: u.entry.blockDaaScore }
        : undefined;
    // The cursor saved with what this coin produces must come before every coin still to
    // process, so a restart's payload fetches find them all.
    let oldest = u.entry.blockDaaScore;
    for (const p of this.pending) if (p.entry.blockDaaScore < oldest) oldest = p.entry.blockDaaScore;
    for (const { utxo: p } of this.retrying.values())
      if (p.entry.blockDaaScore < oldest) oldest = p.entry.blockDaaScore;
    const cursor = this.cursorBefore(oldest);
    const senders = await this.handler!.incoming({
      txId,
      payload,
      daaScore: u.entry.blockDaaScore,
      ...(acceptance ? { acceptance } : {}),
      ...(cursor ? { cursor } : {}),
    });
    const from = senders[0];
    return from === undefined ? { kind: 'funds' } : { kind: 'held', contact: from };
  }

  // ---- funds ------------------------------------------------------------------------------

  /**
   * The latest known chain block accepted before DAA score `daa` (chain blocks' DAA scores
   * grow along the selected chain), or the start cursor: a payload fetch scanning the
   * virtual chain from there reaches the transaction (FACTS §6.6).
   */
  private cursorBefore(daa: bigint): BlockHash | undefined {
    let best = this.cursor;
    for (const c of this.checkpoints) {
      if (c.daa >= daa) break;
      best = c.hash;
    }
    return best;
  }

  private async loadLocked(): Promise<bigint> {
    const v = await this.opts.db.get(COINS_STORE, encodeKey('locked'));
    return v ? BigInt(bytesToUtf8(v)) : 0n;
  }

  /** Value of our coins held by contacts (NOTES §1: shown apart from the spendable balance). */
  private async addLocked(delta: bigint): Promise<void> {
    this.locked += delta;
    if (this.locked < 0n) this.locked = 0n;
    await this.opts.db.put(COINS_STORE, encodeKey('locked'), utf8ToBytes(this.locked.toString()));
  }

  private currentFunds(): Funds {
    let spendable = 0n;
    for (const [k, c] of this.coins)
      if (c.role.kind === 'funds' && !this.spending.has(k)) spendable += c.utxo.entry.amount;
    return { spendable, locked: this.locked, costPerMessage: this.costPerMessage };
  }

  private emitFunds(): void {
    this.handler?.funds(this.currentFunds());
  }
}

function encodeRole(r: CoinRole): Uint8Array {
  return utf8ToBytes(r.kind === 'held' ? `held:${r.contact}` : 'funds');
}

function decodeRole(b: Uint8Array): CoinRole {
  const s = bytesToUtf8(b);
  return s.startsWith('held:') ? { kind: 'held', contact: s.slice(5) } : { kind: 'funds' };
}
