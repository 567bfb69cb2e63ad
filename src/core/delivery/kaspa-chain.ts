/**
 * The production `ChainPort`: Kaspa through the wRPC client (FACTS §6), chain format 2
 * (docs/protocol.md "Chain transactions and addresses", docs/privacy.md).
 *
 * Addresses. `ChainAddresses` (./addresses) owns every address: the card address (funding
 * and first contacts), a fresh stealth address per message and direction, a fresh change
 * address per transaction. The watcher follows the card address, each contact's window of
 * next notification addresses, recent change and every address still holding a coin.
 *
 * Receiving. A coin paid to one of our addresses by a transaction we did not publish is
 * processed once: its payload is fetched without a transaction index (FACTS §6.6) and
 * handed to the engine, one coin at a time, in acceptance order; the engine says whose it
 * is. A coin on a notification address moves that contact's window on, and the new
 * addresses' snapshot is the next round of catch-up: start() returns when a round finds
 * nothing new. Processed coins are remembered, so a restart does not fetch them again.
 *
 * Publishing. Every publication pays each recipient a fresh coin of random value at its
 * next notification address, from one funding coin where one pays (chain-tx.ts
 * `buildPayment`), with fresh change and random output order. What a contact's coins
 * brought in is owed back and paid with the next publication to it, from any coin.
 * Receipt-only publications are built at once and submitted after a random delay.
 *
 * Watching. An address that holds nothing any more, or a notification address its window has
 * moved past, is dropped from the subscription once the transaction that emptied it is
 * deeper than the confirmation depth, and a change, decoy or refill address once its coins
 * are that deep (./watched.ts, docs/delivery.md "Watched addresses").
 *
 * Acceptance. An own transaction is reported accepted when its change appears in
 * UtxosChanged or when a coin it spent leaves the UTXO set, so a transaction with no
 * output back is seen too.
 */
import type { KaspaNode } from '../../kaspa/rpc/node.ts';
import type { AddressedUtxo } from '../../kaspa/rpc/convert.ts';
import {
  type Address,
  addressToScriptPublicKey,
  scriptPublicKeyToAddress,
  type NetworkPrefix,
} from '../../kaspa/address.ts';
import type { KaspaHdWallet } from '../../kaspa/hd.ts';
import { PayloadFetcher } from '../../kaspa/payload-fetch.ts';
import { UtxoWatcher, outpointKey } from '../../kaspa/utxo-watcher.ts';
import { transactionId } from '../../kaspa/txid.ts';
import type { BlockHash, Transaction, TxId, Utxo } from '../../kaspa/types.ts';
import type { BatchOp, KeyValueStore } from '../../storage/types.ts';
import { encodeKey } from '../../storage/keys.ts';
import { bytesToHex, bytesToUtf8, hexToBytes, utf8ToBytes } from '../../util/bytes.ts';
import { ChainAddresses, type PeerKeys } from './addresses/index.ts';
import {
  buildPayment,
  notificationValue,
  randomNotificationValue,
  typicalPublicationFee,
  DEFAULT_NOTIFICATION_STORAGE_BUDGET,
  type Candidate,
  type Payment,
} from './chain-tx.ts';
import { DeliveryError, RecipientError } from './errors.ts';
import { CONFIRMATION_DEPTH, OwnTransactions, type OwnTx } from './own-txs.ts';
import { DrainedAddresses, type Verdict } from './watched.ts';
import type { ChainHandler, ChainPort, ContactId, Funds, Publication, PublishOptions } from './ports.ts';

type Timeout = ReturnType<typeof setTimeout>;

/**
 * Payload fetches of one coin before it is reported as unrecoverable. Every fetch after the
 * first scans from the node's pruning point, the oldest block that still has bodies, so by
 * then "not found" means the node does not have the transaction at all.
 */
const MAX_FETCH_TRIES = 6;

/**
 * 100 DAA scores (10 s at 10 BPS): time for the sender of a coin an own transaction spends to
 * resubmit its own dropped transaction (it does so on the notification that shows the drop),
 * after which the inputs are taken as gone. Giving up early costs at most a second publication
 * of the same messages, which the recipient drops as duplicates.
 */
export const RESUBMIT_GRACE = 100n;

/** The store that remembers processed coins and the address book; declare it with DELIVERY_STORES. */
export const COINS_STORE = 'delivery.coins';

/**
 * Delay of a receipt-only publication: uniform in [5 s, 60 s] (docs/privacy.md "Timing").
 * Five seconds is above the time a response is usually looked for after a payment; the
 * upper end keeps the on-chain "delivered" within a minute.
 */
export function defaultReceiptDelayMs(random: () => number = secureRandom): number {
  return 5_000 + Math.floor(random() * 55_000);
}

/** Uniform in [0, 1) from the platform's cryptographic generator. */
export function secureRandom(): number {
  const b = new Uint32Array(2);
  crypto.getRandomValues(b);
  return (b[0]! * 2 ** 21 + (b[1]! >>> 11)) / 2 ** 53;
}

/** What the chain adapter needs of this client's identity (Identity has both). */
export interface ChainIdentity {
  /** The identity key in X25519 form. */
  readonly dhPublicKey: Uint8Array;
  /** X25519 agreement with a contact's identity key. */
  agree(peer: never): Uint8Array;
}

/** Everything the Kaspa adapter is built from. */
export interface KaspaChainOptions {
  /** A connected client (reconnects on its own; the watcher catches up after each gap). */
  readonly client: KaspaNode;
  /** This client's HD wallet (card address m/44'/111111'/0'/0/0, change on chain 1). */
  readonly wallet: KaspaHdWallet;
  /** The network's address prefix. */
  readonly prefix: NetworkPrefix;
  readonly identity: ChainIdentity;
  /** A contact's identity key (X25519) and card address, or undefined when it has no card address. */
  readonly peerOf: (contact: ContactId) => PeerKeys | undefined;
  /** The contacts whose windows are watched from the start (others once heard or written to). */
  readonly contacts?: () => readonly ContactId[];
  /** Holds processed-coin records and the address book (store COINS_STORE). */
  readonly db: KeyValueStore;
  /** Storage mass a publication may have. @default DEFAULT_NOTIFICATION_STORAGE_BUDGET */
  readonly storageBudget?: bigint;
  /** Delay before a receipt-only publication is submitted. @default defaultReceiptDelayMs */
  readonly receiptDelayMs?: () => number;
  /** Uniform in [0, 1): coin values and output order. @default secureRandom */
  readonly random?: () => number;
  /** Notification indices watched past the last seen, per contact. @default 8 */
  readonly window?: number;
  /**
   * This device among its person's devices (src/core/devices/branch.ts `chainDevice`): its own
   * change chain and notification sequences. @default the first device
   */
  readonly device?: { readonly key?: Uint8Array; readonly branch: number };
  /**
   * The change chains of the person's other devices: watched, so their publications (which
   * carry this device's copy, docs/devices.md §4) are found; their coins are theirs to spend.
   * After the person's list changes, `watchDevices` watches the new ones.
   */
  readonly siblings?: () => readonly number[];
  /** DAA scores an own transaction is kept for after acceptance. @default CONFIRMATION_DEPTH */
  readonly confirmationDepth?: bigint;
  /**
   * DAA scores an own transaction off the chain is tried again for while the node refuses it,
   * before what it carried is republished. @default RESUBMIT_GRACE
   */
  readonly resubmitGrace?: bigint;
}

interface Coin {
  utxo: Utxo;
  readonly address: string;
  /** "own" (funding, change) or the contact whose notification it was. */
  origin: string;
  /** Change of an own transaction not submitted yet (a deferred receipt): not spendable. */
  unsubmitted?: boolean;
}

type CoinRole = { readonly kind: 'held'; readonly contact: ContactId } | { readonly kind: 'funds' };

/** Kaspa chain path of one client. */
/** The outputs of `tx` that pay one of `addresses` (ours), with the address each pays. */
function ownOutputs(tx: Transaction, addresses: readonly Address[]): { index: number; address: string }[] {
  const scripts = new Map(
    addresses.map((a) => [bytesToHex(addressToScriptPublicKey(a).script), a.toString()]),
  );
  return tx.outputs.flatMap((out, index) => {
    const address = scripts.get(bytesToHex(out.scriptPublicKey.script));
    return address === undefined ? [] : [{ index, address }];
  });
}

export class KaspaChain implements ChainPort {
  private readonly watcher: UtxoWatcher;
  private readonly fetcher: PayloadFetcher;
  private book!: ChainAddresses;
  private handler: ChainHandler | undefined;
  /** Where this session's scans start (saved by the engine, or the sink of a fresh client). */
  private cursor: BlockHash | undefined;
  /** Accepting chain blocks seen, by DAA score, for cursors closer than `cursor`. */
  private readonly checkpoints: { daa: bigint; hash: BlockHash }[] = [];
  /** Our coins by outpoint key. */
  private readonly coins = new Map<string, Coin>();
  /** Coins spent by a transaction of ours not yet accepted: outpoint key → spender (tx id hex). */
  private readonly spending = new Map<string, string>();
  /** Our transactions not yet seen accepted (tx id hex). */
  private readonly mine = new Set<string>();
  /** Receipt-only transactions waiting for their time (their signed form is in `own`). */
  private readonly deferred = new Map<string, Timeout>();
  /** Own signed transactions until deep: resubmitted when a reorganisation drops them. */
  private readonly own: OwnTransactions;
  /** Our coins by the transaction that created them (tx id hex → outpoint keys). */
  private readonly coinsByTx = new Map<string, Set<string>>();
  /** How many of our coins each address holds. */
  private readonly coinsAt = new Map<string, number>();
  /** The highest DAA score seen on a coin: the adapter's view of the virtual DAA score. */
  private daa = 0n;
  /** Coins to process, and whether they are in acceptance order and the worker runs. */
  private readonly pending: AddressedUtxo[] = [];
  private sorted = true;
  private working = false;
  /** Undecided coins waiting for their next try, by outpoint key (still to process). */
  private readonly retrying = new Map<string, { readonly utxo: AddressedUtxo; readonly timer: Timeout }>();
  private offReconnect: (() => void) | undefined;
  /** Coins that left the UTXO set before they were processed (a reorganisation): skipped. */
  private readonly withdrawn = new Set<string>();
  /** Undecided coins and how often they were tried. */
  private readonly tries = new Map<string, number>();
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};
  /** Window moves and subscriptions, in order. */
  private watching: Promise<void> = Promise.resolve();
  /** Watched addresses with nothing on them, until they are dropped (./watched.ts). */
  private readonly drained: DrainedAddresses;
  /**
   * Internal-chain addresses (change, decoy, refill) holding a coin of ours, by the DAA score
   * of the coin: once it is `CONFIRMATION_DEPTH` deep only we can move it, so the address is no
   * longer watched (see `settledDue`).
   */
  private readonly settled: DrainedAddresses;
  /** Addresses let go whose removal is queued behind earlier window moves and subscriptions. */
  private readonly unwatching = new Set<string>();
  private locked = 0n;
  /** Value each contact's coins brought in and not yet paid back (their next coin repays it). */
  private readonly owed = new Map<ContactId, bigint>();
  /**
   * Value of our coins each contact holds and has not paid back: a coin of theirs repays it
   * first, and only the rest is owed back (docs/protocol.md "Chain transactions and
   * addresses", "Returns"). At most one of `owed` and `lent` is above zero per contact.
   */
  private readonly lent = new Map<ContactId, bigint>();
  private readonly costPerMessage: bigint;
  private readonly random: () => number;
  private offChange: (() => void) | undefined;
  private stopped = false;
  /**
   * No saved position at start: the node's pruning point then, where the scans for the coins
   * already held begin (undefined once catch-up is over, or with a saved position).
   */
  private heldFrom: BlockHash | undefined;

  constructor(private readonly opts: KaspaChainOptions) {
    if (!opts.db.stores.includes(COINS_STORE)) throw new TypeError(`"db" lacks store "${COINS_STORE}"`);
    this.watcher = new UtxoWatcher(opts.client);
    this.fetcher = new PayloadFetcher(opts.client);
    this.own = new OwnTransactions(opts.db, COINS_STORE);
    this.drained = new DrainedAddresses(opts.confirmationDepth ?? CONFIRMATION_DEPTH);
    this.settled = new DrainedAddresses(opts.confirmationDepth ?? CONFIRMATION_DEPTH);
    this.random = opts.random ?? secureRandom;
    // The mean coin of format 2 is 1.25 v; the relay fee of a typical publication (FACTS §4.8).
    const v = notificationValue(opts.storageBudget ?? DEFAULT_NOTIFICATION_STORAGE_BUDGET);
    this.costPerMessage = v + v / 4n + typicalPublicationFee();
  }

  /** The card address (funding, stealth base): the one address put in cards. */
  get cardAddress(): string {
    return this.book.card.toString();
  }

  /** Every address the adapter watches now (for the node-view harness and diagnostics). */
  watchedAddresses(): readonly string[] {
    return this.watcher.watched;
  }

  async start(handler: ChainHandler, cursor: Uint8Array | undefined): Promise<void> {
    this.handler = handler;
    this.cursor = cursor?.length === 32 ? (cursor as BlockHash) : undefined;
    this.book = await this.openBook();
    this.locked = await this.loadLocked();
    for (const [books, kind] of [
      [this.owed, 'owed'],
      [this.lent, 'lent'],
    ] as const)
      for (const [, value] of await this.opts.db.scan(COINS_STORE, { prefix: encodeKey(kind) })) {
        const [contact, amount] = JSON.parse(bytesToUtf8(value)) as [string, string];
        books.set(contact, BigInt(amount));
      }
    await this.restoreOwn();
    await this.fetcher.start();
    // A client with no saved position starts from the current sink. The coins it already
    // holds may still carry messages: its card can be out before it ever reached a node (a
    // profile made offline, a command-line process that exits before the node answers), and
    // a first message pays the card address. Their payloads lie before the sink, so they are
    // looked for from the pruning point, in one pass (`process`), and told apart by their
    // payloads as any coin is.
    if (this.cursor === undefined) {
      this.heldFrom = (await this.opts.client.getBlockDagInfo()).pruningPointHash;
      this.cursor = await this.opts.client.getSink();
    }
    handler.checkpoint(this.cursor);
    this.offChange = this.watcher.on('change', (c) => {
      for (const u of c.removed) this.onRemoved(u);
      for (const u of c.added) this.onAdded(u);
      this.kick();
    });
    this.chainSub = await this.opts.client.subscribeVirtualChainChanged(false, (n) =>
      this.onChainRemoved(n.removedChainBlockHashes),
    );
    this.offReconnect = this.opts.client.on('reconnect', () => {
      for (const k of [...this.retrying.keys()]) this.retryNow(k);
    });
    await this.watcher.addAddresses(this.book.watched(this.opts.contacts?.() ?? []));
    // Catch-up is complete when a round of coins is processed and moved no window on.
    for (;;) {
      await this.idle;
      const before = this.watching;
      await before;
      if (this.watching === before && !this.working && this.pending.length === 0) break;
    }
    this.heldFrom = undefined;
    // What a restart watches in case (recent change, remembered addresses) and finds empty
    // goes the way of any emptied address.
    for (const a of this.watcher.watched) if (!this.coinsAt.has(a)) this.drained.mark(a, this.daa);
  }

  /**
   * A fresh first-contact address for one invite (docs/protocol.md "Invite link", "Chain
   * transactions and addresses"): recorded before it is returned and watched at once when
   * the adapter runs. Usable before `start`.
   */
  async nextInviteAddress(): Promise<Address> {
    const book = await this.openBook();
    const address = await book.nextInvite();
    if (this.handler !== undefined && !this.stopped) {
      const watched = new Set(this.watcher.watched);
      void this.watch(book.invitesWatched().filter((a) => !watched.has(a)));
    }
    return address;
  }

  /**
   * `contact` was added from an invite naming `address` as its first-contact address: the
   * first publications to it pay there until it is heard from (remembered across restarts).
   * Usable before `start`.
   */
  async invitedBy(contact: ContactId, address: Address): Promise<void> {
    await (await this.openBook()).invitedBy(contact, address);
  }

  private bookOpening: Promise<ChainAddresses> | undefined;

  /** The address book, opened once (by `start` or an earlier `nextInviteAddress`). */
  private openBook(): Promise<ChainAddresses> {
    this.bookOpening ??= ChainAddresses.open({
      wallet: this.opts.wallet,
      prefix: this.opts.prefix,
      selfDh: this.opts.identity.dhPublicKey,
      agree: (peer) => (this.opts.identity.agree as (p: Uint8Array) => Uint8Array)(peer),
      peerOf: (c) => this.opts.peerOf(c),
      db: this.opts.db,
      store: COINS_STORE,
      ...(this.opts.window !== undefined ? { window: this.opts.window } : {}),
      ...(this.opts.device !== undefined ? { device: this.opts.device } : {}),
      ...(this.opts.siblings !== undefined ? { siblings: this.opts.siblings } : {}),
    });
    return this.bookOpening;
  }

  /**
   * A device list changed (our own person's, or a contact's): the change chains of new
   * siblings and the notification sequences of a contact's new devices are watched from now on.
   */
  async watchDevices(): Promise<void> {
    if (this.handler === undefined || this.stopped) return;
    const watched = new Set(this.watcher.watched);
    const add = this.book.watched(this.opts.contacts?.() ?? []).filter((a) => !watched.has(a));
    if (add.length > 0) await this.watch(add);
  }

  async publish(
    payload: Uint8Array,
    recipients: readonly ContactId[],
    options: PublishOptions = {},
  ): Promise<Publication> {
    if (this.stopped) throw new DeliveryError('CLOSED', 'the chain adapter is stopped');
    const budget = this.opts.storageBudget ?? DEFAULT_NOTIFICATION_STORAGE_BUDGET;
    const targets = recipients.map((contact) => {
      const peer = this.opts.peerOf(contact);
      // Checked per recipient before anything is built, so the engine can drop exactly the
      // one that cannot be paid and publish for the others.
      if (!peer)
        throw new RecipientError(contact, `contact ${contact} has no notification address on this network`);
      if (peer.base.prefix !== this.opts.prefix)
        throw new RecipientError(
          contact,
          `contact ${contact} listed an address on ${peer.base.prefix}, not on ${this.opts.prefix}`,
        );
      const next = this.book.nextNotify(contact)!;
      return { contact, next, owed: this.owed.get(contact) ?? 0n };
    });
    // Written to: its replies and returns come to our window for it.
    await this.watchContacts(recipients);
    const changeAddress = await this.book.nextChange(recipients[0]);
    // One small coin to ourselves beside each notification (docs/privacy.md "Coins"): with as
    // many decoys as recipients, half of the small outputs are someone else's, however many.
    const decoyAddresses: Address[] = [];
    for (let i = 0; i < recipients.length; i++)
      decoyAddresses.push(await this.book.nextChange(recipients[0]));
    // Each notification repays what its recipient's coins brought in, and its decoy is drawn
    // alike (docs/privacy.md "Run repayments"); `repay` false: values of the range only.
    const draw = (owed: bigint): bigint =>
      randomNotificationValue(this.random, budget, 2 * recipients.length, owed);
    const spec = (repay: boolean): Omit<Parameters<typeof buildPayment>[0], 'funding'> => ({
      payload,
      payments: targets.map((t) => ({ address: t.next.address, value: draw(repay ? t.owed : 0n) })),
      changeAddress,
      decoys: targets.map((t, i) => ({ address: decoyAddresses[i]!, value: draw(repay ? t.owed : 0n) })),
      random: this.random,
      storageBudget: budget,
    });
    const ownAddresses = [changeAddress, ...decoyAddresses];
    // Watched from now on: their coins are how its acceptance is seen. Not awaited, so a
    // publication waits for no subscription: a coin accepted before the subscription is in
    // the snapshot that follows it (UtxoWatcher.addAddresses).
    void this.watch(ownAddresses.map((a) => a.toString()));
    // The pool of the first recipient pays (docs/privacy.md "Funding"). A repayment the
    // wallet cannot afford leaves what is owed for the next publications, as before.
    const { built, refill } = await this.buildPooled(recipients[0]!, spec(true), true).catch(
      (error: unknown) => {
        if (
          !targets.some((t) => t.owed > 0n) ||
          !(error instanceof DeliveryError && error.code === 'INSUFFICIENT_FUNDS')
        )
          throw error;
        return this.buildPooled(recipients[0]!, spec(false), true);
      },
    );
    for (const s of built.spent) {
      const c = this.coins.get(outpointKey(s.utxo.outpoint));
      if (c?.unsubmitted) await this.submitDeferred(bytesToHex(s.utxo.outpoint.transactionId));
    }
    const txId = transactionId(built.tx);
    const txHex = bytesToHex(txId);
    const spent = built.spent.map((s) => outpointKey(s.utxo.outpoint));
    for (const k of spent) this.spending.set(k, txHex);
    this.mine.add(txHex);
    const outputs = ownOutputs(built.tx, ownAddresses);
    const delay = options.deferrable ? (this.opts.receiptDelayMs ?? defaultReceiptDelayMs)() : 0;
    const own: OwnTx = {
      txHex,
      tx: built.tx,
      inputs: spent,
      outputs,
      ...(delay > 0 ? { submitAt: Date.now() + delay } : {}),
    };
    // Stored before the node sees it: a reorganisation or a crash must not lose it.
    await this.store(own, spent, refill);
    this.placeOutputs(own);
    if (refill) await this.submitRefill(refill, own);
    if (delay > 0) {
      // The id is final now; the node sees the transaction later (docs/privacy.md "Timing").
      this.deferUntil(txHex, delay);
    } else {
      try {
        await this.opts.client.submitTransaction(built.tx);
      } catch (error) {
        this.release(txHex, spent);
        await this.own.forget(txHex).catch(() => undefined);
        throw new DeliveryError('PUBLISH_FAILED', 'the node refused or did not take the transaction', {
          cause: error,
        });
      }
      // A look in a few seconds, in case its acceptance is never notified (docs/delivery.md).
      this.resubmitLater(txHex, 4);
    }
    for (const t of targets) await t.next.commit();
    // What each coin carries first repays what the contact's coins brought in; the rest is
    // ours, lent to the contact until its coins come back (`step`).
    let newlyLocked = 0n;
    for (const t of targets) {
      const script = bytesToHex(addressToScriptPublicKey(t.next.address).script);
      let value = 0n;
      for (const o of built.tx.outputs) if (bytesToHex(o.scriptPublicKey.script) === script) value += o.value;
      const owed = this.owed.get(t.contact) ?? 0n;
      const repaid = owed < value ? owed : value;
      if (owed > 0n) await this.setOwed(t.contact, owed - repaid);
      if (value > repaid) await this.setLent(t.contact, (this.lent.get(t.contact) ?? 0n) + value - repaid);
      newlyLocked += value - repaid;
    }
    if (newlyLocked > 0n) await this.addLocked(newlyLocked);
    this.emitFunds();
    // The next publication's addresses and keys are derived while this one is in flight, so
    // the derivations do not delay the next message (docs/privacy.md "Latency per phase").
    const prepare = setTimeout(() => {
      if (!this.stopped) this.book.prepare(recipients, 1 + recipients.length);
    }, 0);
    if (typeof prepare === 'object' && 'unref' in prepare) prepare.unref();
    return { txId };
  }

  /**
   * Builds a publication paid from `pool` (docs/privacy.md "Funding"): its own coins first,
   * after one refill if they do not pay; only when even that fails, coins of other pools.
   * With `chained`, a later try may spend the change of a receipt still waiting for its time;
   * that receipt is then submitted first (the caller does so for each unsubmitted coin spent).
   * Every try but the last builds the full shape (notification, decoy, change): the shape
   * without change, a contact's coin straight back to it, is the last resort of a wallet that
   * holds nothing else, since it shows which output is someone else's (docs/privacy.md
   * "Funding").
   */
  private async buildPooled(
    pool: string,
    spec: Omit<Parameters<typeof buildPayment>[0], 'funding'>,
    chained: boolean,
  ): Promise<{ built: ReturnType<typeof buildPayment>; refill?: OwnTx }> {
    let refill: OwnTx | undefined;
    try {
      const built = await this.buildPooledOnce(pool, spec, chained, (t) => (refill = t));
      return refill ? { built, refill } : { built };
    } catch (error) {
      // Nothing pays even after the refill: it was neither stored nor submitted, so it goes.
      if (refill) this.release(refill.txHex, refill.inputs);
      throw error;
    }
  }

  private async buildPooledOnce(
    pool: string,
    spec: Omit<Parameters<typeof buildPayment>[0], 'funding'>,
    chained: boolean,
    held: (refill: OwnTx) => void,
  ): Promise<ReturnType<typeof buildPayment>> {
    const build = (
      useChained: boolean,
      inPool: boolean,
      withoutChange = false,
    ): ReturnType<typeof buildPayment> => {
      const funding: Candidate[] = [];
      for (const [, c] of this.spendable(useChained)) {
        const coinPool = c.origin === 'own' ? this.book.poolOf(c.address) : c.origin;
        if (inPool && coinPool !== pool) continue;
        // Origins are pools: coins of two pools are merged only when nothing else pays.
        const candidate = this.candidate(c, `pool:${coinPool}`);
        if (candidate) funding.push(candidate);
      }
      return buildPayment({ ...spec, funding, withoutChange });
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        return build(false, true);
      } catch (error) {
        if (!(error instanceof DeliveryError) || attempt > 0) break;
        const refill = await this.refill(pool);
        if (!refill) break;
        held(refill);
      }
    }
    try {
      return build(false, false);
    } catch (error) {
      if (!(error instanceof DeliveryError)) throw error;
    }
    // The change of a receipt still waiting for its time pays only if that receipt goes
    // first: it is submitted now (its delay ends with the client's next publication).
    if (chained && this.deferred.size > 0) {
      try {
        return build(true, false);
      } catch (error) {
        if (!(error instanceof DeliveryError)) throw error;
      }
    }
    return build(chained && this.deferred.size > 0, false, true);
  }

  // ---- publications to an address of no contact (short invites) ---------------------------

  /**
   * Publishes `payload` paying one coin of the one-recipient range to `address`, an address
   * of no contact (a short invite's locator address, src/core/contact/chain-invite-directory.ts),
   * in the shape of a publication to one contact: one decoy to a fresh address of ours, fresh
   * change, random output order (docs/protocol.md "Chain transactions and addresses"). It is
   * paid from the pool named `pool` (refilled from the main coins like a contact's pool), so
   * it spends no contact's coins and no contact's publication spends its change
   * (docs/privacy.md "Short invites"). The coin paid away is not ours any more: it is neither
   * spendable nor locked in `funds()`. DeliveryError INSUFFICIENT_FUNDS when nothing pays,
   * PUBLISH_FAILED when the node refuses it.
   */
  async publishToAddress(payload: Uint8Array, address: Address, pool: string): Promise<Publication> {
    if (this.stopped || this.handler === undefined)
      throw new DeliveryError('CLOSED', 'the chain adapter is not running');
    if (address.prefix !== this.opts.prefix)
      throw new TypeError(`"address" is on ${address.prefix}, not on ${this.opts.prefix}`);
    const budget = this.opts.storageBudget ?? DEFAULT_NOTIFICATION_STORAGE_BUDGET;
    const payments: Payment[] = [{ address, value: randomNotificationValue(this.random, budget, 2) }];
    const changeAddress = await this.book.nextChange(pool);
    const decoys: Payment[] = [
      { address: await this.book.nextChange(pool), value: randomNotificationValue(this.random, budget, 2) },
    ];
    const ownAddresses = [changeAddress, decoys[0]!.address];
    void this.watch(ownAddresses.map((a) => a.toString()));
    const { built, refill } = await this.buildPooled(
      pool,
      { payload, payments, changeAddress, decoys, random: this.random, storageBudget: budget },
      false,
    );
    const txId = transactionId(built.tx);
    const txHex = bytesToHex(txId);
    const spent = built.spent.map((s) => outpointKey(s.utxo.outpoint));
    for (const k of spent) this.spending.set(k, txHex);
    this.mine.add(txHex);
    const own: OwnTx = { txHex, tx: built.tx, inputs: spent, outputs: ownOutputs(built.tx, ownAddresses) };
    await this.store(own, spent, refill);
    this.placeOutputs(own);
    if (refill) await this.submitRefill(refill, own);
    try {
      await this.opts.client.submitTransaction(built.tx);
    } catch (error) {
      this.release(txHex, spent);
      await this.own.forget(txHex).catch(() => undefined);
      throw new DeliveryError('PUBLISH_FAILED', 'the node refused or did not take the transaction', {
        cause: error,
      });
    }
    this.resubmitLater(txHex, 4);
    this.emitFunds();
    return { txId };
  }

  /**
   * A fresh address of the pool `pool`, recorded and watched: a coin paid there from outside,
   * without payload (a short invite's coin taken back, chain-invite-directory.ts `reclaim`),
   * is counted as the pool's funds like its change. Recorded before it is returned, and
   * watched at once when the adapter runs (a start watches the recorded addresses).
   */
  async freshPoolAddress(pool: string): Promise<Address> {
    const address = await (await this.openBook()).nextChange(pool);
    if (this.handler !== undefined && !this.stopped) await this.watch([address.toString()]);
    return address;
  }

  async funds(): Promise<Funds> {
    return this.currentFunds();
  }

  /**
   * A sibling returned `contact`'s coins (docs/devices.md §8): what they brought in is no
   * longer owed by this device, so its next publication to the contact does not repay it again.
   */
  async returnedBySibling(contact: ContactId): Promise<void> {
    if ((this.owed.get(contact) ?? 0n) === 0n) return;
    await this.setOwed(contact, 0n);
    this.emitFunds();
  }

  /** A sibling spent `contact`'s coin of `amount` (a return made by a shape without change). */
  private async siblingReturned(contact: ContactId, amount: bigint): Promise<void> {
    const owed = this.owed.get(contact) ?? 0n;
    if (owed > 0n) await this.setOwed(contact, owed > amount ? owed - amount : 0n);
    this.handler?.returnedBySibling?.(contact);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    // Receipts waiting for their time go now: a stopped client would otherwise lose them.
    for (const txHex of [...this.deferred.keys()]) await this.submitDeferred(txHex);
    this.stopped = true;
    this.offChange?.();
    this.offReconnect?.();
    await this.chainSub?.unsubscribe().catch(() => undefined);
    for (const { timer } of this.retrying.values()) clearTimeout(timer);
    for (const timer of this.resubmitting.values()) clearTimeout(timer);
    await this.watcher.stop().catch(() => undefined);
    await this.fetcher.stop().catch(() => undefined);
  }

  // ---- coins ------------------------------------------------------------------------------

  /**
   * A coin on a sibling's change chain: the sibling spends it (it may be doing so now), so
   * this device neither spends it nor counts it, and two devices never spend one change coin.
   */
  private sibling(c: Coin): boolean {
    return this.book.originOf(c.address)?.kind === 'sibling';
  }

  /** Coins a publication may spend: not being spent, submitted (unless `chained`), not held for a stranger. */
  private spendable(chained: boolean): [string, Coin][] {
    const list = this.opts.contacts?.();
    const contacts = list === undefined ? undefined : new Set(list);
    return [...this.coins].filter(
      ([k, c]) =>
        !this.spending.has(k) &&
        !this.sibling(c) &&
        (chained || !c.unsubmitted) &&
        // A coin held for someone who is not a contact (a message request) stays unspent.
        (c.origin === 'own' || contacts === undefined || contacts.has(c.origin)),
    );
  }

  /**
   * Pays a new coin into `pool` from the main coins (or, failing that, from the largest coin
   * of another pool) by a payment without payload: [coin] → [15-33 % of it, at least 40
   * notification values where the coin allows, never more than a third, to a fresh address
   * of the pool; the rest to a fresh address of the source's pool] (docs/privacy.md
   * "Funding"). The pool's coin is the smaller output, at most half the rest, so an observer
   * following the largest output (a peel chain) follows the source, not the pool. Sources are
   * tried in that order until one can pay a pool coin of at least 20 notification values:
   * when none can, the caller pays from any coin, which is what joins pools. Returns false
   * then.
   */
  private async refill(pool: ContactId): Promise<OwnTx | undefined> {
    const budget = this.opts.storageBudget ?? DEFAULT_NOTIFICATION_STORAGE_BUDGET;
    const v = notificationValue(budget);
    const sources = this.spendable(false)
      .filter(([, c]) => c.origin === 'own' && this.book.poolOf(c.address) !== pool)
      .map(([k, c]) => ({ k, c, main: this.book.poolOf(c.address) === '' }))
      .sort((a, b) =>
        a.main !== b.main ? (a.main ? -1 : 1) : a.c.utxo.entry.amount > b.c.utxo.entry.amount ? -1 : 1,
      );
    for (const src of sources) {
      const funding = this.candidate(src.c, 'own');
      const amount = src.c.utxo.entry.amount;
      let value = (amount * BigInt(15 + Math.floor(this.random() * 19))) / 100n;
      if (value < 40n * v) value = 40n * v;
      // At most a third, so the rest is always at least twice the pool's coin. A coin too
      // small for the 40 values still refills with a third of itself: refusing it had the
      // publication paid from another pool's coin, joining the two pools.
      if (value > amount / 3n) value = amount / 3n;
      if (!funding || value < 20n * v) continue;
      const refill = await this.refillFrom(pool, src.k, src.c, funding, value);
      if (refill) return refill;
    }
    return undefined;
  }

  /**
   * Builds one refill of `pool`: `value` from coin `k` to the pool, the rest to the source's
   * pool. Its source is reserved and its outputs placed, so the publication can spend them,
   * but it is neither stored nor submitted here: `store` keeps it with that publication in one
   * write, and only then does the node see it. Submitted at once, a crash before the
   * publication was stored left the refill alone, and a receipt waiting for its time was
   * built again at the next start with a new delay (chain-faults.test.ts, "a receipt waiting
   * for its time survives a kill").
   */
  private async refillFrom(
    pool: ContactId,
    k: string,
    source: Coin,
    funding: Candidate,
    value: bigint,
  ): Promise<OwnTx | undefined> {
    const budget = this.opts.storageBudget ?? DEFAULT_NOTIFICATION_STORAGE_BUDGET;
    const poolAddress = await this.book.nextChange(pool);
    const rest = await this.book.nextChange(this.book.poolOf(source.address));
    let built;
    try {
      built = buildPayment({
        payload: new Uint8Array(0),
        payments: [{ address: poolAddress, value }],
        funding: [funding],
        changeAddress: rest,
        random: this.random,
        storageBudget: budget,
      });
    } catch {
      return undefined;
    }
    void this.watch([poolAddress.toString(), rest.toString()]);
    // An own transaction like a publication: kept until deep, resubmitted after a reorganisation.
    const txHex = bytesToHex(transactionId(built.tx));
    const own: OwnTx = {
      txHex,
      tx: built.tx,
      inputs: [k],
      outputs: ownOutputs(built.tx, [poolAddress, rest]),
    };
    this.spending.set(k, txHex);
    this.mine.add(txHex);
    this.placeOutputs(own);
    return own;
  }

  /**
   * Keeps `own` (and the refill whose coin it may spend) before the node sees either: one
   * atomic write, so a crash keeps both or neither (the engine still owes what neither
   * carried). On failure both are released.
   */
  private async store(own: OwnTx, spent: readonly string[], refill: OwnTx | undefined): Promise<void> {
    try {
      if (refill) await this.own.putAll([refill, own]);
      else await this.own.put(own);
    } catch (error) {
      this.release(own.txHex, spent);
      if (refill) this.release(refill.txHex, refill.inputs);
      throw error;
    }
  }

  /**
   * Hands a stored refill to the node, before the publication stored with it. Refused, both
   * are forgotten: the publication may spend the refill's coin.
   */
  private async submitRefill(refill: OwnTx, own: OwnTx): Promise<void> {
    try {
      await this.opts.client.submitTransaction(refill.tx);
    } catch (error) {
      this.release(own.txHex, own.inputs);
      this.release(refill.txHex, refill.inputs);
      await this.own.forget(own.txHex).catch(() => undefined);
      await this.own.forget(refill.txHex).catch(() => undefined);
      throw new DeliveryError('PUBLISH_FAILED', 'the node refused or did not take the refill', {
        cause: error,
      });
    }
    this.resubmitLater(refill.txHex, 4);
  }

  /**
   * Coin `c` as a funding candidate, or undefined when its address is not ours. Its key is
   * derived when the coin is signed, once: candidates are every spendable coin, and a
   * derivation (two BIP-32 child steps, a stealth tweak on top) per coin held per try of a
   * publication would make the work of each publication grow with the coins held.
   */
  private candidate(c: Coin, origin: string): Candidate | undefined {
    if (this.book.originOf(c.address) === undefined) return undefined;
    const book = this.book;
    let key: Uint8Array | undefined;
    return {
      utxo: c.utxo,
      origin,
      get privateKey(): Uint8Array {
        key ??= book.keyOf(c.address)!;
        return key;
      },
    };
  }

  /** Our coins created by transaction `txHex` (indexed: a release must not walk every coin). */
  private outputsOf(txHex: string): Coin[] {
    return [...(this.coinsByTx.get(txHex) ?? [])].map((k) => this.coins.get(k)!);
  }

  private setCoin(k: string, coin: Coin): void {
    const before = this.coins.get(k);
    this.coins.set(k, coin);
    if (before) {
      if (before.address === coin.address) return;
      this.uncount(before.address);
    } else {
      const txHex = bytesToHex(coin.utxo.outpoint.transactionId);
      const set = this.coinsByTx.get(txHex) ?? new Set<string>();
      set.add(k);
      this.coinsByTx.set(txHex, set);
    }
    this.coinsAt.set(coin.address, (this.coinsAt.get(coin.address) ?? 0) + 1);
  }

  private deleteCoin(k: string): void {
    const coin = this.coins.get(k);
    if (!coin) return;
    this.coins.delete(k);
    const txHex = bytesToHex(coin.utxo.outpoint.transactionId);
    const set = this.coinsByTx.get(txHex);
    set?.delete(k);
    if (set?.size === 0) this.coinsByTx.delete(txHex);
    this.uncount(coin.address);
  }

  private uncount(address: string): void {
    const n = (this.coinsAt.get(address) ?? 0) - 1;
    if (n > 0) this.coinsAt.set(address, n);
    else this.coinsAt.delete(address);
  }

  private release(txHex: string, spent: readonly string[]): void {
    for (const k of spent) this.spending.delete(k);
    this.mine.delete(txHex);
    for (const c of this.outputsOf(txHex)) this.deleteCoin(outpointKey(c.utxo.outpoint));
  }

  /**
   * Own transactions kept by an earlier run: their inputs stay reserved; a receipt that was
   * waiting for its time goes now, and one not seen accepted is handed to the node again (the
   * run may have ended before the node took it). Accepted ones wait for the snapshot, which
   * shows whether they are still on the chain.
   */
  private async restoreOwn(): Promise<void> {
    for (const t of await this.own.load()) {
      for (const k of t.inputs) this.spending.set(k, t.txHex);
      if (t.acceptedBlock !== undefined)
        this.noteAcceptedIn(t.txHex, hexToBytes(t.acceptedBlock) as BlockHash);
      if (t.acceptedDaa !== undefined) continue;
      this.mine.add(t.txHex);
      this.placeOutputs(t);
      if (t.submitAt !== undefined) {
        this.deferUntil(t.txHex, 0);
      } else {
        this.resubmitLater(t.txHex, 0);
      }
    }
  }

  /** Our outputs of `t` (change, decoy) are spendable at once: a mempool chain. */
  private placeOutputs(t: OwnTx): void {
    for (const { index, address } of t.outputs) {
      const out = t.tx.outputs[index]!;
      const utxo: Utxo = {
        outpoint: { transactionId: hexToBytes(t.txHex) as TxId, index },
        entry: {
          amount: out.value,
          scriptPublicKey: out.scriptPublicKey,
          blockDaaScore: 0n,
          isCoinbase: false,
        },
      };
      const k = outpointKey(utxo.outpoint);
      if (this.coins.has(k)) continue;
      this.setCoin(k, {
        utxo,
        address,
        origin: 'own',
        ...(t.submitAt !== undefined ? { unsubmitted: true } : {}),
      });
    }
  }

  private deferUntil(txHex: string, delay: number): void {
    const timer = setTimeout(() => void this.submitDeferred(txHex), delay);
    if (typeof timer === 'object' && 'unref' in timer) timer.unref();
    this.deferred.set(txHex, timer);
  }

  private async submitDeferred(txHex: string): Promise<void> {
    const timer = this.deferred.get(txHex);
    const t = this.own.get(txHex);
    if (timer === undefined || !t || this.stopped) return;
    clearTimeout(timer);
    this.deferred.delete(txHex);
    for (const c of this.outputsOf(txHex)) c.unsubmitted = false;
    await this.own.update(txHex, { submitted: true }).catch(() => undefined);
    try {
      await this.opts.client.submitTransaction(t.tx);
      this.resubmitLater(txHex, 4);
    } catch {
      // Kept and tried again (a dropped connection); given up on only as a dropped one is.
      this.resubmitLater(txHex, 0);
    }
    this.emitFunds();
  }

  // ---- own transactions after a reorganisation (docs/delivery.md "Reorganisations") ----

  /** Own transactions off the chain being resubmitted: tx id hex → timer of the next try. */
  private readonly resubmitting = new Map<string, Timeout>();
  /** When each of them was seen off the chain (this adapter's DAA score then). */
  private readonly leftAt = new Map<string, bigint>();
  /**
   * The chain block that accepted each kept transaction of ours (block hash → tx ids). A
   * transaction seen accepted only by the coin it spent, whose outputs never showed (none of
   * ours, or a reorganisation before their notification), leaves no trace in the UTXO set
   * when a reorganisation takes it and the coin it spent together: the removal of its
   * accepting chain block (VirtualChainChanged, FACTS §6.5) is then the only sign.
   */
  private readonly acceptedIn = new Map<string, Set<string>>();
  private chainSub: { unsubscribe(): Promise<void> } | undefined;

  /**
   * `t` was accepted and is not any more (one of its own outputs left the UTXO set unspent by
   * us, or a coin it spent came back): its inputs are ours again until it is back, so they
   * stay reserved, and the same signed transaction is handed to the node again.
   */
  private leftChain(t: OwnTx): void {
    if (this.stopped) return;
    this.mine.add(t.txHex);
    for (const k of t.inputs) this.spending.set(k, t.txHex);
    this.placeOutputs(t);
    if (t.acceptedDaa !== undefined)
      void this.own.update(t.txHex, { acceptedDaa: null }).catch(() => undefined);
    this.resubmitNow(t.txHex);
  }

  private resubmitNow(txHex: string): void {
    const timer = this.resubmitting.get(txHex);
    if (timer !== undefined) clearTimeout(timer);
    this.resubmitting.delete(txHex);
    void this.resubmit(txHex, 0);
  }

  private resubmitLater(txHex: string, attempt: number): void {
    if (this.stopped) return;
    const timer = setTimeout(
      () => {
        this.resubmitting.delete(txHex);
        void this.resubmit(txHex, attempt);
      },
      Math.min(250 * 2 ** attempt, 5_000),
    );
    if (typeof timer === 'object' && 'unref' in timer) timer.unref();
    this.resubmitting.set(txHex, timer);
  }

  /**
   * One try. Refused while its inputs are missing (the transaction that created them is off
   * the chain too, and its sender resubmits it) it is tried again, until the chain has moved
   * `resubmitGrace` past the moment it was first refused: then its inputs are taken as spent elsewhere
   * or gone, it is forgotten, and the engine republishes what it carried (`dropped`).
   */
  private async resubmit(txHex: string, attempt: number): Promise<void> {
    const t = this.own.get(txHex);
    if (!t || this.stopped || !this.mine.has(txHex)) return;
    try {
      await this.opts.client.submitTransaction(t.tx);
      // Taken: its acceptance is seen as for any publication; a second look in a while
      // catches a node that loses it again.
      this.resubmitLater(txHex, Math.max(attempt, 4));
      return;
    } catch {
      // Refused (already accepted, already in the mempool, or its inputs are missing) or not
      // reachable: the UTXO set tells which.
    }
    let now: bigint;
    try {
      // Accepted after all (its notification was missed): one of its outputs is in the UTXO
      // set, and it is taken in as the notification would have been.
      const addresses = [...new Set(t.outputs.map((o) => o.address))];
      const wanted = new Set(t.outputs.map((o) => `${txHex}:${o.index}`));
      const found = (await this.opts.client.getUtxosByAddresses(addresses)).find((u) =>
        wanted.has(outpointKey(u.outpoint)),
      );
      if (found && this.mine.has(txHex)) {
        this.onAdded(found);
        this.kick();
        return;
      }
      now = (await this.opts.client.getBlockDagInfo()).virtualDaaScore;
    } catch {
      // Unreachable node: nothing can be decided yet.
      this.resubmitLater(txHex, attempt + 1);
      return;
    }
    if (!this.mine.has(txHex)) return;
    const since = this.leftAt.get(txHex) ?? now;
    this.leftAt.set(txHex, since);
    if (now < since + (this.opts.resubmitGrace ?? RESUBMIT_GRACE)) {
      this.resubmitLater(txHex, attempt + 1);
      return;
    }
    this.leftAt.delete(txHex);
    this.release(txHex, t.inputs);
    await this.own.forget(txHex).catch(() => undefined);
    this.handler?.dropped(hexToBytes(txHex));
    this.emitFunds();
  }

  /** Seen accepted: kept until deep, then forgotten. */
  private ownAccepted(txHex: string, daa: bigint): void {
    this.leftAt.delete(txHex);
    const timer = this.resubmitting.get(txHex);
    if (timer !== undefined) clearTimeout(timer);
    this.resubmitting.delete(txHex);
    const t = this.own.get(txHex);
    if (!t) return;
    void this.own.update(txHex, { acceptedDaa: daa }).catch(() => undefined);
    // A coin of ours it spent that the node never showed (our own output spent from the
    // mempool, both accepted by one chain block: the block's UTXO diff holds neither), or one
    // held at an address no longer watched (`settled`), will never be notified as removed.
    // Forgotten here, and its address emptied, so neither the coin nor the watched address
    // stays for the rest of the session.
    for (const k of t.inputs) {
      const coin = this.coins.get(k);
      if (coin === undefined || this.spending.get(k) !== txHex) continue;
      // Seen on the node and still watched: its removal will be notified.
      if (coin.utxo.entry.blockDaaScore !== 0n && this.watcher.has(coin.address)) continue;
      this.forgetCoin(k, coin.address, txHex);
    }
  }

  /**
   * Forgets our coin `k` at `address`, in memory and in the store. An address left with no
   * coin is emptied, and watched until `spender`, what emptied it, is deep: a reorganisation
   * may bring the coin back (./watched.ts).
   */
  private forgetCoin(k: string, address: string | undefined, spender: string | undefined): void {
    this.deleteCoin(k);
    this.spending.delete(k);
    void this.opts.db.delete(COINS_STORE, encodeKey('coin', k)).catch(() => undefined);
    if (address === undefined || this.coinsAt.has(address)) return;
    void this.book.emptied(address).catch(() => undefined);
    this.drained.mark(address, this.daa, spender);
  }

  /** Notes the DAA score of a coin seen and forgets own transactions now deep. */
  private observeDaa(daa: bigint): void {
    if (daa <= this.daa) return;
    this.daa = daa;
    void this.own
      .prune(daa, this.opts.confirmationDepth ?? CONFIRMATION_DEPTH)
      .then((deep) => {
        for (const txHex of deep) this.handler?.settled?.(hexToBytes(txHex));
        this.unwatchDrained();
      })
      .catch(() => undefined);
  }

  /**
   * Drops the addresses marked at least the confirmation depth ago with nothing unfinished on
   * them: no coin, no coin waiting to be processed, no kept transaction that spent from it
   * (its record goes once it is that deep, own-txs.ts `prune`), and out of every window.
   */
  private unwatchDrained(): void {
    if (this.stopped) return;
    let busy: Set<string> | undefined;
    const windows = new Map<ContactId, Set<string>>();
    const gone = this.drained.due(this.daa, (address, spender): Verdict => {
      const origin = this.book.originOf(address);
      if (origin === undefined || origin.kind === 'card') return 'keep';
      if (origin.kind === 'notify') {
        let window = windows.get(origin.contact);
        if (!window) windows.set(origin.contact, (window = new Set(this.book.windowOf(origin.contact))));
        if (window.has(address)) return 'keep';
      }
      if (this.coinsAt.has(address)) return 'keep';
      const kept = spender === undefined ? undefined : this.own.get(spender);
      if (kept) return kept.acceptedDaa === undefined ? 'later' : { after: kept.acceptedDaa };
      if (busy === undefined) {
        busy = new Set();
        for (const u of [...this.pending, ...[...this.retrying.values()].map((r) => r.utxo)])
          busy.add(this.addressOf(u) ?? '');
      }
      return busy.has(address) ? 'later' : 'unwatch';
    });
    gone.push(...this.settledDue());
    if (gone.length === 0) return;
    for (const a of gone) this.unwatching.add(a);
    // One `unsubscribe` naming only these: the node removes exactly what an unsubscribe names
    // and keeps notifying the rest (kaspad 2.1.0 by experiment, test/oracle/utxo-unsubscribe.ts),
    // so a removal is not batched and nothing is read again. One that a coin reached meanwhile
    // is kept (`unwatching` loses it on arrival).
    this.watching = this.watching.then(async () => {
      const now = gone.filter((a) => this.unwatching.delete(a));
      if (!this.stopped && now.length > 0) await this.watcher.removeAddresses(now).catch(() => undefined);
    });
  }

  /**
   * Internal-chain addresses whose coins of ours are all deep and not being spent: the node
   * would tell us nothing more about them but our own spends, which those transactions'
   * outputs show (accepted, or off the chain again: `leftChain`). Dropping them keeps the
   * watched set from growing by the decoy and change each publication leaves held. The book
   * still lists them as holding, so a restart reads them again (and drops them again).
   */
  private settledDue(): string[] {
    const depth = this.opts.confirmationDepth ?? CONFIRMATION_DEPTH;
    let held: Map<string, Coin[]> | undefined;
    return this.settled.due(this.daa, (address): Verdict => {
      if (this.book.originOf(address)?.kind !== 'change' || !this.coinsAt.has(address)) return 'keep';
      if (held === undefined) {
        held = new Map();
        for (const [k, c] of this.coins) {
          if (this.spending.has(k)) continue;
          const list = held.get(c.address);
          if (list) list.push(c);
          else held.set(c.address, [c]);
        }
      }
      const coins = held.get(address) ?? [];
      // A coin being spent, or one the node has not shown yet: look again later.
      if (coins.length !== this.coinsAt.get(address) || coins.some((c) => c.utxo.entry.blockDaaScore === 0n))
        return 'later';
      let newest = 0n;
      for (const c of coins) if (c.utxo.entry.blockDaaScore > newest) newest = c.utxo.entry.blockDaaScore;
      return newest + depth <= this.daa ? 'unwatch' : { after: newest };
    });
  }

  private addressOf(u: AddressedUtxo): string | undefined {
    return u.address ?? scriptPublicKeyToAddress(u.entry.scriptPublicKey, this.opts.prefix)?.toString();
  }

  /** Watches the windows of `contacts` not yet watched. */
  private async watchContacts(contacts: readonly ContactId[]): Promise<void> {
    const watched = new Set(this.watcher.watched);
    const add = contacts.flatMap((c) => this.book.windowOf(c)).filter((a) => !watched.has(a));
    if (add.length > 0) await this.watch(add);
  }

  private watch(addresses: readonly string[]): Promise<void> {
    const next = this.watching.then(async () => {
      if (this.stopped || addresses.length === 0) return;
      await this.watcher.addAddresses(addresses).catch(() => undefined);
    });
    this.watching = next;
    return next;
  }

  private onRemoved(u: AddressedUtxo): void {
    const k = outpointKey(u.outpoint);
    const coin = this.coins.get(k);
    const spender = this.spending.get(k);
    // An output of a kept transaction of ours left unspent by us: that transaction is off the chain.
    const maker = bytesToHex(u.outpoint.transactionId);
    const left =
      spender === undefined && this.own.ownsOutput(maker, u.outpoint.index) ? this.own.get(maker) : undefined;
    const by = spender ?? this.own.spenderOf(k)?.txHex;
    // A contact's coin we held, spent by no transaction of ours: a sibling device returned it.
    if (coin !== undefined && coin.origin !== 'own' && by === undefined && !left)
      void this.siblingReturned(coin.origin, coin.utxo.entry.amount).catch(() => undefined);
    this.forgetCoin(k, coin?.address ?? this.addressOf(u), by);
    // Not processed yet: it is looked at again only if it comes back (then with its payload on
    // the chain again), never counted as a miss towards "pruned" while it is off the chain.
    const waiting = this.retrying.get(k);
    if (waiting) {
      clearTimeout(waiting.timer);
      this.retrying.delete(k);
    }
    this.tries.delete(k);
    if (!coin) this.withdrawn.add(k);
    // A coin we spent left the UTXO set: the spending transaction was accepted, whatever
    // its outputs (issue: a publication with no output back was never seen accepted).
    if (spender !== undefined && this.mine.has(spender)) {
      this.mine.delete(spender);
      void this.acceptedBySpend(spender);
    }
    if (left) this.leftChain(left);
  }

  private async acceptedBySpend(txHex: string): Promise<void> {
    this.ownAccepted(txHex, this.daa);
    this.reportAccepted(hexToBytes(txHex) as TxId, undefined);
  }

  private onAdded(u: AddressedUtxo): void {
    const k = outpointKey(u.outpoint);
    const address = this.addressOf(u);
    if (address === undefined || this.book.originOf(address) === undefined) return;
    const txHex = bytesToHex(u.outpoint.transactionId);
    const known = this.coins.get(k);
    this.withdrawn.delete(k);
    this.drained.unmark(address);
    this.unwatching.delete(address);
    this.observeDaa(u.entry.blockDaaScore);
    // A coin spent by a kept transaction of ours is back: that transaction left the chain.
    const spender = this.own.spenderOf(k);
    if (spender && !this.mine.has(spender.txHex)) this.leftChain(spender);
    else if (spender && this.resubmitting.has(spender.txHex)) this.resubmitNow(spender.txHex);
    if (this.mine.has(txHex) || known) {
      // Our own change: spendable already (a mempool chain), now with its real entry.
      this.setCoin(k, { utxo: u, address, origin: known?.origin ?? 'own' });
      if (this.book.originOf(address)?.kind === 'change') this.settled.mark(address, u.entry.blockDaaScore);
      if (this.mine.delete(txHex)) {
        this.ownAccepted(txHex, u.entry.blockDaaScore);
        void this.opts.db
          .put(COINS_STORE, encodeKey('coin', k), encodeRole({ kind: 'funds' }))
          .catch(() => undefined);
        this.reportAccepted(u.outpoint.transactionId, u.entry.blockDaaScore);
      }
      this.noteArrival(address);
      return;
    }
    this.noteArrival(address);
    this.enqueueCoin(u);
  }

  /** Remembers the address as holding a coin and moves its window on (the next catch-up round). */
  private noteArrival(address: string): void {
    const next = this.watching.then(async () => {
      const origin = this.book.originOf(address);
      const contact = origin?.kind === 'notify' ? origin.contact : undefined;
      const before = contact === undefined ? [] : this.book.windowOf(contact);
      const add = await this.book.arrived(address).catch(() => [] as string[]);
      if (add.length > 0 && !this.stopped) await this.watcher.addAddresses(add).catch(() => undefined);
      // Left below the window's lower edge with nothing on them (a gap given up on): dropped
      // as an emptied address is, so a coin that still comes within the depth is seen.
      if (contact !== undefined && add.length > 0) {
        const after = new Set(this.book.windowOf(contact));
        for (const a of before) if (a !== address && !after.has(a)) this.drained.mark(a, this.daa);
      }
    });
    this.watching = next;
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

  private reportAccepted(txId: TxId, daaScore: bigint | undefined, attempt = 0): void {
    // The accepting block's hash comes from the fetcher's cache, or from a virtual-chain scan
    // from a block before the acceptance; the cache may trail the UTXO notification a little.
    const start = this.cursorBefore(daaScore ?? 2n ** 63n);
    this.fetcher
      .fetch(txId, {
        ...(daaScore !== undefined && daaScore > 0n ? { acceptingDaaScore: daaScore } : {}),
        ...(start ? { cursor: start } : {}),
      })
      .then((r) => {
        const daa = r.status === 'found' ? (r.acceptingDaaScore ?? daaScore) : undefined;
        if (r.status === 'found' && r.acceptingBlockHash && daa !== undefined) {
          this.noteAcceptedIn(bytesToHex(txId), r.acceptingBlockHash);
          this.handler?.accepted(txId, { blockHash: r.acceptingBlockHash, daaScore: daa });
        } else if (attempt < 5 && !this.stopped) {
          const t = setTimeout(() => this.reportAccepted(txId, daaScore, attempt + 1), 300 * (attempt + 1));
          if (typeof t === 'object' && 'unref' in t) t.unref();
        }
      })
      .catch(() => undefined);
  }

  private noteAcceptedIn(txHex: string, block: BlockHash): void {
    if (!this.own.get(txHex)) return;
    const key = bytesToHex(block);
    // Stored too: after a restart, that block leaving the chain is still the sign.
    void this.own.update(txHex, { acceptedBlock: key }).catch(() => undefined);
    const set = this.acceptedIn.get(key) ?? new Set<string>();
    set.add(txHex);
    this.acceptedIn.set(key, set);
    // Kept transactions are forgotten 1,000 DAA scores deep; so is this, in insertion order.
    for (const [k, txs] of this.acceptedIn) {
      if (this.acceptedIn.size <= 4096 && [...txs].some((t) => this.own.get(t))) break;
      this.acceptedIn.delete(k);
    }
  }

  /** Chain blocks left the selected chain: kept transactions they accepted are off it too. */
  private onChainRemoved(removed: readonly BlockHash[]): void {
    for (const hash of removed) {
      const txs = this.acceptedIn.get(bytesToHex(hash));
      if (txs === undefined) continue;
      this.acceptedIn.delete(bytesToHex(hash));
      for (const txHex of txs) {
        const t = this.own.get(txHex);
        if (t && !this.mine.has(txHex)) this.leftChain(t);
      }
    }
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
        if (this.withdrawn.delete(k) || this.coins.has(k)) continue;
        try {
          await this.step(u, k);
        } catch {
          // The store failed (a full disk, a closing or killed process): nothing more is
          // recorded for this coin; it is looked at again after a pause, or at the next start.
          if (this.stopped) break;
          this.retryLater(u, k);
        }
      }
    } finally {
      this.working = false;
      this.markIdle();
      this.emitFunds();
    }
  }

  /** Claims one new foreign coin: known from an earlier run, or fetched and handed to the engine. */
  private async step(u: AddressedUtxo, k: string): Promise<void> {
    const known = await this.opts.db.get(COINS_STORE, encodeKey('coin', k));
    const address = this.addressOf(u) ?? '';
    if (known) {
      const role = decodeRole(known);
      this.setCoin(k, { utxo: u, address, origin: role.kind === 'held' ? role.contact : 'own' });
      return;
    }
    let role: CoinRole | undefined;
    try {
      role = await this.process(u, this.tries.get(k) ?? 0, this.heldFrom);
    } catch {
      role = undefined;
    }
    // Undecided (node unreachable, engine closing): nothing is recorded and the coin is
    // looked at again after a pause (never given up on: it may carry messages), or at the
    // next start's snapshot.
    if (role === undefined) {
      if (!this.stopped) this.retryLater(u, k);
      return;
    }
    this.tries.delete(k);
    // Removed while it was processed (a reorganisation took the transaction that made it):
    // nothing is recorded, or the adapter would hold, and later spend, a coin that does not
    // exist. Its messages are stored already; if it comes back it is processed again and the
    // engine drops them as duplicates.
    if (this.withdrawn.delete(k)) return;
    // Memory first, in this same turn: a removal or reorganisation notified while the store
    // write is pending then finds the coin and forgets it, and a publication meanwhile sees
    // the value locked and owed back with this coin counted, so neither is overwritten by a
    // value computed before it. The role and, for a contact's coin, what it changes in the
    // value locked and owed back go in one atomic write: one store transaction per coin.
    this.setCoin(k, { utxo: u, address, origin: role.kind === 'held' ? role.contact : 'own' });
    const ops: BatchOp[] = [
      { type: 'put', store: COINS_STORE, key: encodeKey('coin', k), value: encodeRole(role) },
    ];
    if (role.kind === 'held') {
      // The contact's coin first repays what we lent it; the rest is owed back, and our next
      // coin to it repays that (docs/privacy.md "Coins").
      const amount = u.entry.amount;
      const lent = this.lent.get(role.contact) ?? 0n;
      const repaid = lent < amount ? lent : amount;
      const rest = amount - repaid;
      // Value locked before per-contact records (a store from before them) is taken off as
      // it was then: by every coin that comes back, in full.
      let unattributed = this.locked;
      for (const l of this.lent.values()) unattributed -= l;
      const legacy = unattributed <= 0n ? 0n : unattributed < rest ? unattributed : rest;
      this.locked = this.locked > repaid + legacy ? this.locked - repaid - legacy : 0n;
      const owed = (this.owed.get(role.contact) ?? 0n) + rest;
      this.setBook(this.lent, role.contact, lent - repaid);
      this.setBook(this.owed, role.contact, owed);
      ops.push(
        lockedOp(this.locked),
        bookOp('owed', role.contact, owed),
        bookOp('lent', role.contact, lent - repaid),
      );
    }
    await this.opts.db.batch(ops);
    if (role.kind === 'held') await this.book.heard(role.contact);
  }

  /** Looks at coin `k` again after a pause growing with its tries. */
  private retryLater(u: AddressedUtxo, k: string): void {
    const tries = (this.tries.get(k) ?? 0) + 1;
    this.tries.set(k, tries);
    // Still to process: the cursor saved with later coins must stay before this one.
    const retry = setTimeout(() => this.retryNow(k), Math.min(250 * 2 ** tries, 30_000));
    if (typeof retry === 'object' && 'unref' in retry) retry.unref();
    this.retrying.set(k, { utxo: u, timer: retry });
  }

  /**
   * Fetches a coin's payload and lets the engine claim it; undefined when undecided.
   * `heldFrom`: the coin was already there when a client with no saved position started, and
   * this is the pruning point then. Such a coin is fetched once, from the accepting block of
   * the coin held before it (coins are taken in acceptance order), the first of them from the
   * pruning point: one pass over the chain serves them all. One the node has no body for
   * counts as funds: with no saved position nothing tells a message whose body is gone from
   * a coin that funded the wallet (a restored wallet's old coins), and the latter is by far
   * the likelier.
   */
  private async process(
    u: AddressedUtxo,
    tries: number,
    heldFrom?: BlockHash,
  ): Promise<CoinRole | undefined> {
    const txId = u.outpoint.transactionId;
    // The first try scans from the closest remembered block before the acceptance; a miss
    // there (a cursor saved past this coin, a node that lagged) widens the scan to the
    // pruning point, so a coin is given up on only when the node has no body for it.
    const start =
      tries === 0
        ? this.cursorBefore(u.entry.blockDaaScore, heldFrom)
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
    // The scan from the coin held before it covers everything after that coin's acceptance,
    // so a miss that read this coin's accepting chain block is a miss from the pruning point
    // too. A scan that ended at the chain's tip before that block decides nothing: the coin may
    // be accepted by the virtual only, its chain block still to come (FACTS §6.4).
    if (r.status === 'not-found' && heldFrom !== undefined && r.reachedAcceptance) return { kind: 'funds' };
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
    // Sorted, the first pending coin is the oldest: no walk over a catch-up's backlog per coin.
    for (const p of this.sorted ? this.pending.slice(0, 1) : this.pending)
      if (p.entry.blockDaaScore < oldest) oldest = p.entry.blockDaaScore;
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
   * virtual chain from there reaches the transaction (FACTS §6.6). `from` replaces the start
   * cursor as the earliest answer (the pruning point, for coins held at a fresh start).
   */
  private cursorBefore(daa: bigint, from = this.cursor): BlockHash | undefined {
    let best = from;
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

  private async setOwed(contact: ContactId, amount: bigint): Promise<void> {
    this.setBook(this.owed, contact, amount);
    await this.opts.db.batch([bookOp('owed', contact, amount)]);
  }

  private async setLent(contact: ContactId, amount: bigint): Promise<void> {
    this.setBook(this.lent, contact, amount);
    await this.opts.db.batch([bookOp('lent', contact, amount)]);
  }

  private setBook(books: Map<ContactId, bigint>, contact: ContactId, amount: bigint): void {
    if (amount <= 0n) books.delete(contact);
    else books.set(contact, amount);
  }

  private currentFunds(): Funds {
    // Coins are fungible in format 2; what is owed back to contacts is not spendable.
    let total = 0n;
    for (const [k, c] of this.coins)
      if (!this.spending.has(k) && !c.unsubmitted && !this.sibling(c)) total += c.utxo.entry.amount;
    let owed = 0n;
    for (const v of this.owed.values()) owed += v;
    const spendable = total > owed ? total - owed : 0n;
    return { spendable, locked: this.locked, costPerMessage: this.costPerMessage };
  }

  private emitFunds(): void {
    this.handler?.funds(this.currentFunds());
  }
}

/** The op that stores the value of our coins held by contacts. */
function lockedOp(locked: bigint): BatchOp {
  return { type: 'put', store: COINS_STORE, key: encodeKey('locked'), value: utf8ToBytes(locked.toString()) };
}

/**
 * The op that stores what is owed back to `contact` ("owed") or what it holds of ours
 * ("lent"); nothing: the record goes.
 */
function bookOp(kind: 'owed' | 'lent', contact: ContactId, amount: bigint): BatchOp {
  const key = encodeKey(kind, contact);
  return amount <= 0n
    ? { type: 'delete', store: COINS_STORE, key }
    : {
        type: 'put',
        store: COINS_STORE,
        key,
        value: utf8ToBytes(JSON.stringify([contact, amount.toString()])),
      };
}

function encodeRole(r: CoinRole): Uint8Array {
  return utf8ToBytes(r.kind === 'held' ? `held:${r.contact}` : 'funds');
}

function decodeRole(b: Uint8Array): CoinRole {
  const s = bytesToUtf8(b);
  return s.startsWith('held:') ? { kind: 'held', contact: s.slice(5) } : { kind: 'funds' };
}
