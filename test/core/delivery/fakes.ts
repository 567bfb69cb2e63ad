/**
 * In-memory stand-ins for the engine's ports: a shared ledger (the chain), a switchboard
 * (direct links) and transparent sessions, each with the faults the tests inject. They model
 * the behaviour the engine relies on (ordering, catch-up from a cursor, pruning, coin
 * return, funds), not Kaspa itself; the Kaspa and WebRTC adapters have their own tests.
 */
import { bytesToHex, bytesToUtf8, hexToBytes, randomBytes, utf8ToBytes } from '../../../src/util/bytes.ts';
import type {
  ChatFrame,
  DeliveryFrame,
  ReceiptFrame,
  SignalFrame,
} from '../../../src/core/delivery/frames.ts';
import { DeliveryError } from '../../../src/core/delivery/errors.ts';
import type {
  ChainHandler,
  ChainPort,
  ContactDirectory,
  DirectLink,
  Funds,
  PeerHandler,
  PeerPort,
  Publication,
  SessionPort,
} from '../../../src/core/delivery/ports.ts';
import { DELIVERY_STORES } from '../../../src/core/delivery/store.ts';
import { REQUESTS_STORE } from '../../../src/core/requests/requests.ts';
import { MemoryDatabase, openMemoryStore } from '../../../src/storage/memory.ts';
import type { KeyValueStore } from '../../../src/storage/types.ts';

/** Opens a delivery database (reopening the same `MemoryDatabase` is a process restart). */
export function openDb(data: MemoryDatabase): Promise<KeyValueStore> {
  return openMemoryStore({ version: 1, stores: [...DELIVERY_STORES, REQUESTS_STORE] }, data);
}

export { MemoryDatabase };

type WireFrame = Record<string, unknown>;

function toWire(f: DeliveryFrame): WireFrame {
  if (f.type === 'chat') return { ...f, id: bytesToHex(f.id) };
  if (f.type === 'receipt') return { ...f, ids: f.ids.map((id) => bytesToHex(id)) };
  if (f.type === 'typing') return { ...f };
  // Attachment frames need real sessions (test/core/attachments/engine.test.ts).
  if (f.type === 'attachment') throw new TypeError('the fake sessions do not carry attachments');
  return { ...f, linkId: bytesToHex(f.linkId) };
}

function fromWire(w: WireFrame): DeliveryFrame {
  if (w['type'] === 'chat') return { ...(w as unknown as ChatFrame), id: hexToBytes(w['id'] as string) };
  if (w['type'] === 'receipt') {
    return { ...(w as unknown as ReceiptFrame), ids: (w['ids'] as string[]).map((h) => hexToBytes(h)) };
  }
  if (w['type'] === 'typing') return { type: 'typing', active: w['active'] === true };
  return { ...(w as unknown as SignalFrame), linkId: hexToBytes(w['linkId'] as string) };
}

/** Sessions that only frame (sender, recipient, frames) as JSON: the engine's logic is under test. */
export class FakeSessions implements SessionPort {
  constructor(private readonly self: string) {}

  async seal(_contact: string, frames: readonly DeliveryFrame[]): Promise<Uint8Array[]> {
    return frames.map((f) => utf8ToBytes(JSON.stringify({ from: this.self, frame: toWire(f) })));
  }

  async open(contact: string, message: Uint8Array): Promise<DeliveryFrame[]> {
    const m = JSON.parse(bytesToUtf8(message)) as { from: string; frame: WireFrame };
    return m.from === contact ? [fromWire(m.frame)] : [];
  }

  async sealBatch(
    entries: readonly { contact: string; frames: readonly DeliveryFrame[] }[],
  ): Promise<Uint8Array> {
    const body = entries.map((e) => ({ to: e.contact, from: this.self, frames: e.frames.map(toWire) }));
    return utf8ToBytes(JSON.stringify(body));
  }

  async openBatch(payload: Uint8Array): Promise<{ contact: string; frames: DeliveryFrame[] }[]> {
    const body = JSON.parse(bytesToUtf8(payload)) as { to: string; from: string; frames: WireFrame[] }[];
    return body
      .filter((e) => e.to === this.self)
      .map((e) => ({ contact: e.from, frames: e.frames.map(fromWire) }));
  }
}

/** Everyone knows everyone in `names` but themselves. */
export function directory(self: string, names: readonly string[]): ContactDirectory {
  const others = names.filter((n) => n !== self);
  return { self, has: (c) => others.includes(c), list: () => others };
}

interface LedgerTx {
  readonly index: number;
  readonly txId: Uint8Array;
  readonly from: string;
  readonly recipients: readonly string[];
  payload: Uint8Array | null;
  /** Left the chain for good (a reorganisation, then a refused resubmission): never delivered. */
  dropped?: boolean;
}

/**
 * The chain: an ordered list of transactions delivered to each recipient that watches, with
 * catch-up from a cursor (the index), pruning of old payloads and per-client funds.
 */
export class FakeLedger {
  readonly txs: LedgerTx[] = [];
  readonly balances = new Map<string, bigint>();
  readonly watchers = new Map<string, FakeChain>();
  /** Fee of one transaction; a notification coin of `coinValue` per recipient not held. */
  fee = 1_000n;
  coinValue = 20_000n;
  /** Payloads of transactions more than this many positions back are pruned. */
  pruneDepth = Infinity;
  /** The next `failPublishes` publications throw PUBLISH_FAILED. */
  failPublishes = 0;
  /** Deliver every transaction twice (and the second one late). */
  duplicate = false;
  /** DAA score between consecutive transactions (chain time; 600 is a minute at 10 BPS). */
  daaPerTx = 1n;
  /** Hold live deliveries back and release them in reverse order with `releaseHeld`. */
  holdLive = false;
  private held: (() => void)[] = [];

  /** The chain time of `tx`. */
  daaOf(tx: LedgerTx): bigint {
    return BigInt(tx.index + 1) * this.daaPerTx;
  }

  chain(name: string): FakeChain {
    return new FakeChain(this, name);
  }

  fund(name: string, amount: bigint): void {
    this.balances.set(name, (this.balances.get(name) ?? 0n) + amount);
    this.watchers.get(name)?.notifyFunds();
  }

  /** Publications by `name` (to count costs and batches). */
  sentBy(name: string): LedgerTx[] {
    return this.txs.filter((t) => t.from === name);
  }

  /** Takes `tx` off the chain for good and tells its publisher (ChainHandler.dropped). */
  drop(tx: LedgerTx): void {
    tx.dropped = true;
    this.watchers.get(tx.from)?.droppedTx(tx);
  }

  releaseHeld(): void {
    const held = this.held.reverse();
    this.held = [];
    for (const f of held) f();
  }

  publish(from: string, payload: Uint8Array, recipients: readonly string[]): Publication {
    if (this.failPublishes > 0) {
      this.failPublishes--;
      throw new DeliveryError('PUBLISH_FAILED', 'node unreachable (injected)');
    }
    const cost = this.fee + this.coinValue * BigInt(recipients.length);
    const balance = this.balances.get(from) ?? 0n;
    if (balance < cost) throw new DeliveryError('INSUFFICIENT_FUNDS', `need ${cost}, have ${balance}`);
    this.balances.set(from, balance - cost);
    const tx: LedgerTx = { index: this.txs.length, txId: randomBytes(32), from, recipients, payload };
    this.txs.push(tx);
    for (const t of this.txs) if (tx.index - t.index > this.pruneDepth) t.payload = null;
    for (const r of recipients) {
      // The coin moves to the recipient, who returns it (with a receipt) later.
      this.balances.set(r, (this.balances.get(r) ?? 0n) + this.coinValue);
      const w = this.watchers.get(r);
      if (!w) continue;
      const deliver = (): void => w.deliver(tx);
      if (this.holdLive) this.held.push(deliver);
      else setTimeout(deliver, 0);
      if (this.duplicate) setTimeout(deliver, 5);
    }
    const publisher = this.watchers.get(from);
    setTimeout(() => publisher?.acceptedTx(tx), 0);
    publisher?.notifyFunds();
    return { txId: tx.txId };
  }
}

/** One client's view of the ledger. */
export class FakeChain implements ChainPort {
  private handler: ChainHandler | undefined;
  private serial: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ledger: FakeLedger,
    private readonly name: string,
  ) {}

  async start(handler: ChainHandler, cursor: Uint8Array | undefined): Promise<void> {
    this.handler = handler;
    const from = cursor ? Number(new DataView(cursor.buffer, cursor.byteOffset).getUint32(0)) : 0;
    this.ledger.watchers.set(this.name, this);
    for (const tx of this.ledger.txs.slice(from)) if (tx.recipients.includes(this.name)) this.deliver(tx);
    await this.serial;
  }

  deliver(tx: LedgerTx): void {
    const cursor = new Uint8Array(4);
    new DataView(cursor.buffer).setUint32(0, tx.index + 1);
    const h = this.handler;
    if (!h || this.ledger.watchers.get(this.name) !== this || tx.dropped) return;
    this.serial = this.serial.then(() =>
      h
        .incoming({ txId: tx.txId, payload: tx.payload, daaScore: this.ledger.daaOf(tx), cursor })
        .catch(() => undefined),
    );
  }

  acceptedTx(tx: LedgerTx): void {
    if (this.ledger.watchers.get(this.name) !== this) return;
    this.handler?.accepted(tx.txId, { blockHash: tx.txId, daaScore: this.ledger.daaOf(tx) });
  }

  droppedTx(tx: LedgerTx): void {
    if (this.ledger.watchers.get(this.name) !== this) return;
    this.handler?.dropped(tx.txId);
  }

  notifyFunds(): void {
    if (this.ledger.watchers.get(this.name) !== this) return;
    const f = this.current();
    setTimeout(() => this.handler?.funds(f), 0);
  }

  async publish(payload: Uint8Array, recipients: readonly string[]): Promise<Publication> {
    if (this.ledger.watchers.get(this.name) !== this) throw new DeliveryError('CLOSED', 'chain stopped');
    return this.ledger.publish(this.name, payload, recipients);
  }

  private current(): Funds {
    return {
      spendable: this.ledger.balances.get(this.name) ?? 0n,
      locked: 0n,
      costPerMessage: this.ledger.fee + this.ledger.coinValue,
    };
  }

  async funds(): Promise<Funds> {
    return this.current();
  }

  async stop(): Promise<void> {
    if (this.ledger.watchers.get(this.name) === this) this.ledger.watchers.delete(this.name);
    await this.serial;
  }
}

interface FakeLinkEnd {
  readonly owner: string;
  readonly peer: string;
  readonly linkId: Uint8Array;
  open: boolean;
  other?: FakeLinkEnd;
}

/** Direct links between clients that are "online" (registered). */
export class FakeSwitchboard {
  readonly handlers = new Map<string, PeerHandler>();
  private readonly pending = new Map<string, { from: string; linkId: Uint8Array }>();
  private readonly links: FakeLinkEnd[] = [];
  /** Refuse every connection (peers behind a NAT without TURN). */
  refuse = false;

  peers(name: string): FakePeers {
    return new FakePeers(this, name);
  }

  offer(from: string, linkId: Uint8Array): string {
    const token = bytesToHex(randomBytes(16));
    this.pending.set(token, { from, linkId });
    return token;
  }

  answer(to: string, linkId: Uint8Array, offer: string): string {
    if (!this.pending.get(offer)) throw new Error('unknown offer');
    this.pending.set(offer + ':answered', { from: to, linkId });
    return offer;
  }

  complete(from: string, linkId: Uint8Array, answer: string): void {
    const key = answer;
    const o = this.pending.get(key);
    const a = this.pending.get(key + ':answered');
    if (!o || !a) return;
    const ha = this.handlers.get(o.from);
    const hb = this.handlers.get(a.from);
    if (this.refuse) {
      // ICE finds no pair: both attempts fail, as the transport reports it.
      setTimeout(() => {
        ha?.closed(a.from, linkId);
        hb?.closed(o.from, linkId);
      }, 0);
      return;
    }
    if (!ha || !hb || o.from !== from) return;
    const ea: FakeLinkEnd = { owner: o.from, peer: a.from, linkId, open: true };
    const eb: FakeLinkEnd = { owner: a.from, peer: o.from, linkId, open: true };
    ea.other = eb;
    eb.other = ea;
    this.links.push(ea, eb);
    setTimeout(() => {
      ha.opened(a.from, linkId, this.direct(ea));
      hb.opened(o.from, linkId, this.direct(eb));
    }, 0);
  }

  private direct(end: FakeLinkEnd): DirectLink {
    return {
      send: async (bytes) => {
        if (!end.open) throw new Error('closed');
        const other = end.other!;
        const h = this.handlers.get(other.owner);
        setTimeout(() => {
          if (other.open) h?.message(other.peer, other.linkId, bytes);
        }, 0);
      },
      close: () => this.cut(end),
    };
  }

  private cut(end: FakeLinkEnd): void {
    for (const e of [end, end.other!]) {
      if (!e.open) continue;
      e.open = false;
      const h = this.handlers.get(e.owner);
      setTimeout(() => h?.closed(e.peer, e.linkId), 0);
    }
  }

  /** Drops every open link of `name` (network failure). */
  drop(name: string): void {
    for (const e of this.links) if (e.owner === name && e.open) this.cut(e);
  }

  openLinks(name: string): number {
    return this.links.filter((e) => e.owner === name && e.open).length;
  }
}

export class FakePeers implements PeerPort {
  constructor(
    private readonly board: FakeSwitchboard,
    private readonly name: string,
  ) {}

  listen(handler: PeerHandler): void {
    this.board.handlers.set(this.name, handler);
  }

  async offer(_contact: string, linkId: Uint8Array): Promise<string> {
    return this.board.offer(this.name, linkId);
  }

  async answer(_contact: string, linkId: Uint8Array, offer: string): Promise<string> {
    return this.board.answer(this.name, linkId, offer);
  }

  async complete(_contact: string, linkId: Uint8Array, answer: string): Promise<void> {
    this.board.complete(this.name, linkId, answer);
  }

  abandon(): void {}

  async stop(): Promise<void> {
    this.board.drop(this.name);
    this.board.handlers.delete(this.name);
  }
}
