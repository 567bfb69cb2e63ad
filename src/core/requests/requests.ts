/**
 * Message requests, as Signal has them: a first message from someone who holds this user's
 * card but is not a contact waits here, and nothing goes back to its sender (no delivery or
 * read receipt, no return of the notification coin, no WebRTC answer, so no network address
 * and no sign of presence) until the user accepts. Block drops whatever that identity sends
 * later; Delete forgets the request, and a later first message makes a new one.
 *
 * Bounded work and storage (docs/delivery.md "Message requests"): at most
 * `MAX_PENDING_REQUESTS` requests (a new one pushes out the oldest), each keeping at most
 * `MAX_MESSAGES_PER_REQUEST` messages and `MAX_REQUEST_TEXT_BYTES` bytes of text (oldest
 * dropped first), and at most `MAX_BLOCKED` blocked identities (the oldest block is
 * forgotten first). Every arrival costs its sender a transaction and a notification coin.
 *
 * Delete and Block trim everything kept for the stranger: the request record, its kept offer,
 * and, through `forget`, the session its first message started (card, ratchet, tags and the
 * replay mark of its ephemeral key, session-manager.ts). A blocked or refused stranger who
 * writes again is trimmed again after that one decryption; a request pushed out by a newer one
 * goes the same way. Only a block keeps one record: the blocked identity and its block periods.
 *
 * The rule of a block (issue 15 "block from the chat"): a chat whose sender time falls inside a
 * recorded block period, ends included, is dropped unanswered and unreceipted whenever it is
 * processed, so an unblock that comes before this client has processed an on-chain message
 * (still on its way, or held back by a busy client) does not bring it back. The sender time is
 * the one clock a message carries to every route: the chain acceptance is known only for the
 * chain route and only as a DAA score, which this layer cannot place against the user's clock.
 * It is authenticated by the session, so only the blocked contact can misstate it. A message
 * sent before the block that arrives late is still shown.
 *
 * Stored in REQUESTS_STORE of the client's (encrypted) database; format in docs/protocol.md
 * "Message request record".
 */
import { ContactCard } from '../contact/card.ts';
import type { BatchOp, KeyValueStore } from '../../storage/types.ts';
import { decodeKey, encodeKey } from '../../storage/keys.ts';
import { bytesToHex, bytesToUtf8, hexToBytes, utf8ToBytes } from '../../util/bytes.ts';
import { P2pCommError } from '../../util/errors.ts';
import type { DeliveryFrame } from '../delivery/frames.ts';
import type { ContactId, KeptChat, RequestPort, StrangerArrival } from '../delivery/ports.ts';

/** The store that holds requests and blocks; declare it in the database schema. */
export const REQUESTS_STORE = 'requests';

/** Most requests waiting at once; a new one beyond pushes out the oldest. */
export const MAX_PENDING_REQUESTS = 50;
/** Most messages one request keeps (the oldest go first). */
export const MAX_MESSAGES_PER_REQUEST = 20;
/**
 * Most UTF-8 bytes of text one request keeps: twice the longest message (frames.ts
 * MAX_TEXT_BYTES), so the newest message always fits.
 */
export const MAX_REQUEST_TEXT_BYTES = 32_768;
/** Most block records remembered, blocked or unblocked (the oldest change is forgotten first). */
export const MAX_BLOCKED = 10_000;
/**
 * Most block periods one record keeps; past it the two oldest merge into one, so what was
 * sent while blocked stays dropped (at the price of also dropping what arrives, very late,
 * from between those two blocks).
 */
export const MAX_BLOCK_PERIODS = 16;

const RECORD_VERSION = 1;
/** Version of the block record value (docs/protocol.md "Message request record"). */
const BLOCK_RECORD_VERSION = 2;

/** One period a contact was blocked, Unix ms; `to` is absent while the block lasts. */
export interface BlockPeriod {
  readonly from: number;
  readonly to?: number;
}

/**
 * - UNKNOWN_REQUEST: no request from that sender is waiting.
 * - CORRUPT_RECORD: a stored request is malformed.
 */
export class RequestError extends P2pCommError<'UNKNOWN_REQUEST' | 'CORRUPT_RECORD'> {}

/** A message kept by a request, as the request view shows it. */
export interface RequestMessage extends KeptChat {
  /** Unix ms when this client first stored it. */
  readonly receivedAt: number;
}

/** A waiting request. */
export interface MessageRequest {
  readonly contact: ContactId;
  /** The card the sender introduced themselves with (its name is theirs to choose: unverified). */
  readonly card: ContactCard;
  /** Unix ms of the first message. */
  readonly firstSeenAt: number;
  /** Kept messages, oldest first. */
  readonly messages: readonly RequestMessage[];
}

/** Everything the requests are built from. */
export interface MessageRequestsOptions {
  /** Holds REQUESTS_STORE (give it encrypted storage: texts and cards are private). */
  readonly db: KeyValueStore;
  /**
   * Refuses a sender's card this client cannot answer (e.g. `requireAddressOn`, card of
   * another network): throws, and the arrival is dropped and reported through `onRefused`.
   */
  readonly checkCard?: (card: ContactCard) => void;
  /** Told when an arrival is dropped because its card was refused. */
  readonly onRefused?: (contact: ContactId, error: Error) => void;
  /**
   * Drops what the sessions keep of a stranger (EnvelopeSessions.forget): after Delete and
   * Block, for a request pushed out, and when a blocked or refused stranger writes again.
   */
  readonly forget?: (contact: ContactId) => Promise<void>;
  /** Told after every change of the list (a request added, grown, accepted, blocked, deleted). */
  readonly onChange?: () => void;
  /** @default Date.now */
  readonly now?: () => number;
}

interface Stored {
  card: ContactCard;
  firstSeenAt: number;
  messages: RequestMessage[];
}

function requestKey(contact: ContactId): Uint8Array {
  return encodeKey('r', contact);
}

function blockKey(contact: ContactId): Uint8Array {
  return encodeKey('b', contact);
}

function encodeBlock(periods: readonly BlockPeriod[]): Uint8Array {
  return utf8ToBytes(
    JSON.stringify({ v: BLOCK_RECORD_VERSION, periods: periods.map((p) => [p.from, p.to ?? null]) }),
  );
}

const isTime = (t: unknown): t is number => typeof t === 'number' && Number.isSafeInteger(t) && t >= 0;

function decodeBlock(bytes: Uint8Array): BlockPeriod[] {
  const text = bytesToUtf8(bytes);
  // Version 1: the Unix ms of the block as decimal text, a block that still lasts.
  if (/^[0-9]{1,16}$/.test(text)) {
    const from = Number(text);
    if (isTime(from)) return [{ from }];
  }
  let o: { v?: unknown; periods?: unknown };
  try {
    o = JSON.parse(text) as typeof o;
  } catch (error) {
    throw new RequestError('CORRUPT_RECORD', 'block record is malformed', { cause: error });
  }
  if (typeof o !== 'object' || o === null)
    throw new RequestError('CORRUPT_RECORD', 'block record is malformed');
  if (o.v !== BLOCK_RECORD_VERSION)
    throw new RequestError('CORRUPT_RECORD', `block record version ${String(o.v)}`);
  if (!Array.isArray(o.periods) || o.periods.length === 0)
    throw new RequestError('CORRUPT_RECORD', 'block record lacks its periods');
  return o.periods.map((p: unknown, i, all): BlockPeriod => {
    const last = i === all.length - 1;
    if (
      !Array.isArray(p) ||
      p.length !== 2 ||
      !isTime(p[0]) ||
      !(isTime(p[1]) ? p[1] >= p[0] : p[1] === null && last)
    )
      throw new RequestError('CORRUPT_RECORD', 'block record holds a malformed period');
    return p[1] === null ? { from: p[0] } : { from: p[0], to: p[1] };
  });
}

function lasts(periods: readonly BlockPeriod[]): boolean {
  return periods.at(-1)?.to === undefined;
}

function textBytes(messages: readonly RequestMessage[]): number {
  return messages.reduce((n, m) => n + utf8ToBytes(m.text).length, 0);
}

function encodeRequest(r: Stored): Uint8Array {
  return utf8ToBytes(
    JSON.stringify({
      v: RECORD_VERSION,
      card: bytesToHex(r.card.serialize()),
      firstSeenAt: r.firstSeenAt,
      messages: r.messages.map((m) => [m.id, m.sentAt, m.receivedAt, m.text]),
    }),
  );
}

function decodeRequest(bytes: Uint8Array): Stored {
  try {
    const o = JSON.parse(bytesToUtf8(bytes)) as {
      v?: unknown;
      card?: unknown;
      firstSeenAt?: unknown;
      messages?: unknown;
    };
    if (o.v !== RECORD_VERSION)
      throw new RequestError('CORRUPT_RECORD', `request record version ${String(o.v)}`);
    if (typeof o.card !== 'string' || typeof o.firstSeenAt !== 'number' || !Array.isArray(o.messages))
      throw new RequestError('CORRUPT_RECORD', 'request record lacks a field');
    const messages = o.messages.map((m: unknown): RequestMessage => {
      if (
        !Array.isArray(m) ||
        typeof m[0] !== 'string' ||
        !/^[0-9a-f]{32}$/.test(m[0]) ||
        typeof m[1] !== 'number' ||
        typeof m[2] !== 'number' ||
        typeof m[3] !== 'string'
      )
        throw new RequestError('CORRUPT_RECORD', 'request record holds a malformed message');
      return { id: m[0], sentAt: m[1], receivedAt: m[2], text: m[3] };
    });
    return { card: ContactCard.deserialize(hexToBytes(o.card)), firstSeenAt: o.firstSeenAt, messages };
  } catch (error) {
    if (error instanceof RequestError) throw error;
    throw new RequestError('CORRUPT_RECORD', 'request record is malformed', { cause: error });
  }
}

/** The message requests of one client. Create with `MessageRequests.open`. */
export class MessageRequests implements RequestPort {
  /** Waiting requests in arrival order of their first message (oldest first). */
  readonly #requests = new Map<ContactId, Stored>();
  /**
   * The latest WebRTC offer of each stranger, in memory only (an offer is stale within
   * minutes): answered if the user accepts, or adds the sender's invite, while it is fresh.
   * At most MAX_PENDING_REQUESTS senders, the oldest forgotten first.
   */
  readonly #offers = new Map<ContactId, DeliveryFrame>();
  /**
   * Block records, the oldest change first: each identity's block periods, oldest first
   * (the last one open while the block lasts).
   */
  readonly #blocks = new Map<ContactId, readonly BlockPeriod[]>();
  readonly #opts: MessageRequestsOptions;
  readonly #now: () => number;
  #writing: Promise<void> = Promise.resolve();

  private constructor(opts: MessageRequestsOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  /** Loads the stored requests and blocks. */
  static async open(opts: MessageRequestsOptions): Promise<MessageRequests> {
    if (!opts.db.stores.includes(REQUESTS_STORE))
      throw new TypeError(`"db" lacks store "${REQUESTS_STORE}" (declare it in its schema)`);
    const r = new MessageRequests(opts);
    const requests: [ContactId, Stored][] = [];
    const blocks: [ContactId, BlockPeriod[]][] = [];
    for (const [key, value] of await opts.db.scan(REQUESTS_STORE)) {
      const [kind, contact] = decodeKey(key);
      if (typeof contact !== 'string') continue;
      if (kind === 'r') requests.push([contact, decodeRequest(value)]);
      else if (kind === 'b') blocks.push([contact, decodeBlock(value)]);
    }
    requests.sort((a, b) => a[1].firstSeenAt - b[1].firstSeenAt);
    const changed = (p: readonly BlockPeriod[]) => p.at(-1)!.to ?? p.at(-1)!.from;
    blocks.sort((a, b) => changed(a[1]) - changed(b[1]));
    for (const [c, s] of requests) r.#requests.set(c, s);
    for (const [c, periods] of blocks) r.#blocks.set(c, periods);
    return r;
  }

  /** Waiting requests, newest activity first. */
  list(): MessageRequest[] {
    return [...this.#requests]
      .map(([contact, s]) => this.#view(contact, s))
      .sort((a, b) => (b.messages.at(-1)?.receivedAt ?? 0) - (a.messages.at(-1)?.receivedAt ?? 0));
  }

  /** One waiting request, or undefined. */
  get(contact: ContactId): MessageRequest | undefined {
    if (typeof contact !== 'string') throw new TypeError('"contact" expected a string');
    const s = this.#requests.get(contact);
    return s === undefined ? undefined : this.#view(contact, s);
  }

  /** Whether `contact` is blocked. */
  isBlocked(contact: ContactId): boolean {
    const periods = this.#blocks.get(contact);
    return periods !== undefined && lasts(periods);
  }

  /** Whether a message `contact` sent at `sentAt` (Unix ms) was sent while blocked (see above). */
  sentWhileBlocked(contact: ContactId, sentAt: number): boolean {
    const periods = this.#blocks.get(contact);
    return periods?.some((p) => sentAt >= p.from && (p.to === undefined || sentAt <= p.to)) === true;
  }

  /** The block periods of `contact`, oldest first ([] if never blocked or forgotten). */
  blockPeriods(contact: ContactId): readonly BlockPeriod[] {
    return this.#blocks.get(contact) ?? [];
  }

  /** Blocks the sender of a request (or any identity): what it sends later is dropped. */
  block(contact: ContactId): Promise<void> {
    if (typeof contact !== 'string') throw new TypeError('"contact" expected a string');
    return this.#serial(async () => {
      const before = this.#blocks.get(contact) ?? [];
      // Blocking again while blocked keeps the period's start: a later start would let
      // through what was sent in between.
      let periods = lasts(before) && before.length > 0 ? before : [...before, { from: this.#now() }];
      while (periods.length > MAX_BLOCK_PERIODS) {
        const [a, b, ...rest] = periods;
        periods = [b!.to === undefined ? { from: a!.from } : { from: a!.from, to: b!.to }, ...rest];
      }
      const ops: BatchOp[] = [
        { type: 'delete', store: REQUESTS_STORE, key: requestKey(contact) },
        { type: 'put', store: REQUESTS_STORE, key: blockKey(contact), value: encodeBlock(periods) },
      ];
      this.#blocks.delete(contact);
      while (this.#blocks.size >= MAX_BLOCKED) {
        const oldest = this.#blocks.keys().next().value!;
        this.#blocks.delete(oldest);
        ops.push({ type: 'delete', store: REQUESTS_STORE, key: blockKey(oldest) });
      }
      await this.#opts.db.batch(ops);
      this.#requests.delete(contact);
      this.#offers.delete(contact);
      this.#blocks.set(contact, periods);
      this.#changed();
      await this.#opts.forget?.(contact);
    });
  }

  /** Every blocked identity, oldest block first. */
  blockedList(): readonly ContactId[] {
    return [...this.#blocks]
      .filter(([, p]) => lasts(p))
      .sort((a, b) => a[1].at(-1)!.from - b[1].at(-1)!.from)
      .map(([c]) => c);
  }

  /**
   * Undoes `block`; what the identity sent while blocked is gone and stays gone: the record
   * stays with its period closed, so a message of that period processed later is dropped.
   */
  unblock(contact: ContactId): Promise<void> {
    if (typeof contact !== 'string') throw new TypeError('"contact" expected a string');
    return this.#serial(async () => {
      const before = this.#blocks.get(contact);
      if (before === undefined || !lasts(before)) return;
      const open = before.at(-1)!;
      const periods = [...before.slice(0, -1), { from: open.from, to: Math.max(open.from, this.#now()) }];
      await this.#opts.db.put(REQUESTS_STORE, blockKey(contact), encodeBlock(periods));
      this.#blocks.delete(contact);
      this.#blocks.set(contact, periods);
      this.#changed();
    });
  }

  /** Forgets a request; a later first message from the same sender makes a new one. */
  delete(contact: ContactId): Promise<void> {
    if (typeof contact !== 'string') throw new TypeError('"contact" expected a string');
    return this.#serial(async () => {
      if (!this.#requests.has(contact)) throw new RequestError('UNKNOWN_REQUEST', 'no such request');
      await this.#opts.db.delete(REQUESTS_STORE, requestKey(contact));
      this.#requests.delete(contact);
      this.#offers.delete(contact);
      this.#changed();
      await this.#opts.forget?.(contact);
    });
  }

  // ---- RequestPort (the delivery engine) ---------------------------------------------------

  incoming(arrival: StrangerArrival): Promise<boolean> {
    return this.#serial(async () => {
      const { contact, card } = arrival;
      // A blocked identity costs this one lookup after the decryption that named it.
      if (this.isBlocked(contact)) {
        await this.#opts.forget?.(contact);
        return false;
      }
      try {
        this.#opts.checkCard?.(card);
      } catch (error) {
        this.#opts.onRefused?.(contact, error instanceof Error ? error : new Error(String(error)));
        await this.#opts.forget?.(contact);
        return false;
      }
      // A stranger's reaction, edit or deletion has nothing of ours to act on: not kept
      // (core/messages refuses it as STRANGER); a reply or a forward is kept as its text. A
      // stranger's disappearing timer is refused too: only a contact agrees on one.
      const chats = arrival.frames.flatMap((f) =>
        f.type === 'chat' &&
        !this.sentWhileBlocked(contact, f.sentAt) &&
        f.timer === undefined &&
        (f.action === undefined || f.action.kind === 'reply' || f.action.kind === 'forwarded')
          ? [f]
          : [],
      );
      const offer = arrival.frames.findLast((f) => f.type === 'signal' && f.kind === 'offer');
      if (offer !== undefined) {
        this.#offers.delete(contact);
        if (this.#offers.size >= MAX_PENDING_REQUESTS) this.#offers.delete(this.#offers.keys().next().value!);
        this.#offers.set(contact, offer);
      }
      const known = this.#requests.get(contact);
      // Signals and receipts from a stranger are never answered and alone make no request;
      // the coin of an offer stays held (it goes back if the user adds the sender).
      if (chats.length === 0) return known !== undefined || offer !== undefined;
      const now = this.#now();
      const next: Stored = known
        ? { ...known, messages: [...known.messages] }
        : { card, firstSeenAt: now, messages: [] };
      if (card.supersedes(next.card)) next.card = card;
      for (const f of chats) {
        const id = bytesToHex(f.id);
        if (next.messages.some((m) => m.id === id)) continue;
        next.messages.push({ id, sentAt: f.sentAt, text: f.text, receivedAt: now });
      }
      next.messages.sort((a, b) => a.sentAt - b.sentAt || (a.id < b.id ? -1 : 1));
      while (
        next.messages.length > MAX_MESSAGES_PER_REQUEST ||
        (next.messages.length > 1 && textBytes(next.messages) > MAX_REQUEST_TEXT_BYTES)
      )
        next.messages.shift();
      const ops: BatchOp[] = [
        { type: 'put', store: REQUESTS_STORE, key: requestKey(contact), value: encodeRequest(next) },
      ];
      const evicted: ContactId[] = [];
      if (!known) {
        for (const c of this.#requests.keys()) {
          if (this.#requests.size - evicted.length < MAX_PENDING_REQUESTS) break;
          evicted.push(c);
          ops.push({ type: 'delete', store: REQUESTS_STORE, key: requestKey(c) });
        }
      }
      await this.#opts.db.batch(ops);
      for (const c of evicted) {
        this.#requests.delete(c);
        this.#offers.delete(c);
      }
      this.#requests.set(contact, next);
      this.#changed();
      for (const c of evicted) await this.#opts.forget?.(c);
      return true;
    });
  }

  release(
    contact: ContactId,
  ): { chats: readonly KeptChat[]; signals: readonly DeliveryFrame[]; ops: readonly BatchOp[] } | undefined {
    const s = this.#requests.get(contact);
    const offer = this.#offers.get(contact);
    if (s === undefined && offer === undefined) return undefined;
    return {
      chats: s?.messages.map(({ id, sentAt, text }) => ({ id, sentAt, text })) ?? [],
      signals: offer === undefined ? [] : [offer],
      ops: s === undefined ? [] : [{ type: 'delete', store: REQUESTS_STORE, key: requestKey(contact) }],
    };
  }

  released(contact: ContactId): void {
    this.#offers.delete(contact);
    if (this.#requests.delete(contact)) this.#changed();
  }

  // ---- helpers ---------------------------------------------------------------------------

  #view(contact: ContactId, s: Stored): MessageRequest {
    return { contact, card: s.card, firstSeenAt: s.firstSeenAt, messages: [...s.messages] };
  }

  #changed(): void {
    try {
      this.#opts.onChange?.();
    } catch {
      // A faulty listener must not undo a change already stored.
    }
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    // Changes are read-modify-write of one record: one at a time, in call order.
    const next = this.#writing.then(fn, fn);
    this.#writing = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }
}
