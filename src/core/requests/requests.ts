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
 * goes the same way. Only a block keeps one record: the blocked identity and when.
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
/** Most blocked identities remembered (the oldest block is forgotten first). */
export const MAX_BLOCKED = 10_000;

const RECORD_VERSION = 1;

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
  /** Blocked identities, oldest block first, with when they were blocked. */
  readonly #blocked = new Map<ContactId, number>();
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
    const blocked: [ContactId, number][] = [];
    for (const [key, value] of await opts.db.scan(REQUESTS_STORE)) {
      const [kind, contact] = decodeKey(key);
      if (typeof contact !== 'string') continue;
      if (kind === 'r') requests.push([contact, decodeRequest(value)]);
      else if (kind === 'b') blocked.push([contact, Number(bytesToUtf8(value))]);
    }
    requests.sort((a, b) => a[1].firstSeenAt - b[1].firstSeenAt);
    blocked.sort((a, b) => a[1] - b[1]);
    for (const [c, s] of requests) r.#requests.set(c, s);
    for (const [c, at] of blocked) r.#blocked.set(c, at);
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
    return this.#blocked.has(contact);
  }

  /** Blocks the sender of a request (or any identity): what it sends later is dropped. */
  block(contact: ContactId): Promise<void> {
    if (typeof contact !== 'string') throw new TypeError('"contact" expected a string');
    return this.#serial(async () => {
      const ops: BatchOp[] = [
        { type: 'delete', store: REQUESTS_STORE, key: requestKey(contact) },
        {
          type: 'put',
          store: REQUESTS_STORE,
          key: blockKey(contact),
          value: utf8ToBytes(String(this.#now())),
        },
      ];
      this.#blocked.delete(contact);
      while (this.#blocked.size >= MAX_BLOCKED) {
        const oldest = this.#blocked.keys().next().value!;
        this.#blocked.delete(oldest);
        ops.push({ type: 'delete', store: REQUESTS_STORE, key: blockKey(oldest) });
      }
      await this.#opts.db.batch(ops);
      this.#requests.delete(contact);
      this.#offers.delete(contact);
      this.#blocked.set(contact, this.#now());
      this.#changed();
      await this.#opts.forget?.(contact);
    });
  }

  /** Every blocked identity, oldest block first. */
  blockedList(): readonly ContactId[] {
    return [...this.#blocked.keys()];
  }

  /** Undoes `block`; what the identity sent while blocked is gone and stays gone. */
  unblock(contact: ContactId): Promise<void> {
    if (typeof contact !== 'string') throw new TypeError('"contact" expected a string');
    return this.#serial(async () => {
      if (!this.#blocked.has(contact)) return;
      await this.#opts.db.delete(REQUESTS_STORE, blockKey(contact));
      this.#blocked.delete(contact);
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
      if (this.#blocked.has(contact)) {
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
