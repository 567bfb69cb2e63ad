/**
 * The delivery engine: one client's outgoing queue and inbox, and the choice of path for
 * every message (docs/delivery.md). A direct WebRTC link carries envelopes when one is open;
 * otherwise they are batched into a Kaspa transaction whose notification coin the recipient
 * returns as an on-chain receipt. WebRTC offers and answers ride the chain path, so a link
 * comes up with no server. Nothing is dropped silently: a message is queued, sent,
 * published, delivered, read or failed, and every change is persisted before it is shown.
 *
 * Concurrency: every state change runs on one serial queue (`run`), so the in-memory maps,
 * the store and the events never disagree; I/O towards the chain and links runs outside it
 * and re-enters it with its result.
 */
import { bytesToHex, equalBytes, hexToBytes, randomBytes, utf8ToBytes } from '../../util/bytes.ts';
import { DecodeError } from '../../util/errors.ts';
import type { BatchOp, KeyValueStore } from '../../storage/types.ts';
import { systemClock, type Clock, type Timer } from './clock.ts';
import { ActiveMessages } from './active.ts';
import { Backlog } from './backlog.ts';
import { DeliveryError, RecipientError } from './errors.ts';
import {
  MAX_RECEIPT_IDS,
  MESSAGE_ID_BYTES,
  MAX_TEXT_BYTES,
  frameCost,
  type DeliveryFrame,
  type FrameAction,
} from './frames.ts';
import type { MessageAction } from '../messages/actions.ts';
import {
  DISAPPEARING_SECONDS,
  isDisappearingSeconds,
  type DisappearingSeconds,
} from '../disappearing/timer.ts';
import type { IncomingMessage, Message, OutgoingMessage, Route } from './messages.ts';
import type { AttachmentBody } from '../envelope/envelope.ts';
import { attachmentHistory } from './attachment-history.ts';
import type {
  AttachmentHistory,
  AttachmentHook,
  ChainAcceptance,
  ChainPort,
  ContactDirectory,
  ContactId,
  DirectLink,
  Funds,
  IncomingTransaction,
  OpenedEntry,
  PeerPort,
  RequestPort,
  SessionPort,
} from './ports.ts';
import { DeliveryStore, type OpenEntry, type PublicationRecord } from './store.ts';
import { mark } from '../../util/marks.ts';

/** How a contact can be reached right now (the words the conversation header uses). */
export type ConnectionState = 'connected' | 'connecting' | 'offline';

/** The funds picture in user terms (NOTES §1, §2). */
export interface FundsView extends Funds {
  /** Chain messages `spendable` still pays for at `costPerMessage`. */
  readonly messagesLeft: number;
  /** True while queued messages wait because the wallet cannot pay (they are kept). */
  readonly insufficient: boolean;
}

/** What the UI renders; listeners re-read what they show (events carry no authority). */
export type DeliveryEvent =
  | { readonly type: 'message'; readonly message: Message }
  | { readonly type: 'connection'; readonly contact: ContactId; readonly state: ConnectionState }
  | { readonly type: 'funds'; readonly funds: FundsView }
  /** A notification coin arrived whose payload the node no longer keeps (NOTES §3). */
  | { readonly type: 'pruned'; readonly txId: string }
  /** `contact` started or stopped typing (heard over a direct link only). */
  | { readonly type: 'typing'; readonly contact: ContactId; readonly active: boolean }
  /**
   * A sibling device of ours returned `contact`'s coins and sent the delivered receipts this
   * device held back for `receipts` messages: recorded as done, not published here
   * (docs/devices.md §8).
   */
  | { readonly type: 'returned-by-sibling'; readonly contact: ContactId; readonly receipts: number }
  /** A background operation failed; the engine keeps going (and retries where it can). */
  | { readonly type: 'error'; readonly error: Error };

/** Tunables, each with its default. */
export interface DeliverySettings {
  /** Wait this long to batch chain messages (docs/delivery.md). @default 1_500 */
  readonly batchWindowMs: number;
  /** Batch window of the cheaper mode. @default 30_000 */
  readonly cheapBatchWindowMs: number;
  /** Use the cheaper (longer) batch window. @default false */
  readonly cheap: boolean;
  /** Messages wait for a direct link instead of going on chain. @default false */
  readonly p2pOnly: boolean;
  /** Send read receipts. @default true */
  readonly readReceipts: boolean;
  /** A direct send without receipt after this long also goes on chain. @default 10_000 */
  readonly directAckTimeoutMs: number;
  /** Failed publication attempts before a message is marked failed. @default 6 */
  readonly maxAttempts: number;
  /** First retry delay; doubles per attempt (exponential backoff). @default 2_000 */
  readonly backoffBaseMs: number;
  /** Republish a message without receipt after this long (below the ~30 h window, NOTES §3). @default 20 h */
  readonly republishAfterMs: number;
  /** Chain publications of one message before it is reported undeliverable. @default 4 */
  readonly maxPublications: number;
  /** Largest chain payload of one transaction, bytes (NOTES §2). @default 16_384 */
  readonly maxPayloadBytes: number;
  /**
   * Most recipients per chain transaction. @default 1: a transaction paying two contacts
   * tells the chain that one sender writes to both (docs/privacy.md "One contact per
   * transaction"); several messages to one contact still share one.
   */
  readonly maxRecipientsPerTx: number;
  /** Offers older than this are ignored (the offerer has given up). @default 120_000 */
  readonly signalMaxAgeMs: number;
  /** An attempt without answer is abandoned after this long. @default 90_000 */
  readonly connectTimeoutMs: number;
  /**
   * On start and on `reconnect()`, contacts whose direct link was up within this long are
   * offered a link at once, without waiting for a message (0 turns it off). @default 1_800_000
   */
  readonly reconnectWithinMs: number;
  /** At most this many of them (the most recently seen first), bounding the cost. @default 8 */
  readonly maxReconnects: number;
  /**
   * Incoming chat frames accepted per contact per minute (flood control), counted in the
   * minute they were published: chain time for chain arrivals, so a backlog read at catch-up
   * is judged by when it was written, not by how fast it is read. @default 600
   */
  readonly maxIncomingPerMinute: number;
}

/** The defaults of every setting. */
export const DEFAULT_DELIVERY_SETTINGS: DeliverySettings = {
  batchWindowMs: 1_500,
  cheapBatchWindowMs: 30_000,
  cheap: false,
  p2pOnly: false,
  readReceipts: true,
  directAckTimeoutMs: 10_000,
  maxAttempts: 6,
  backoffBaseMs: 2_000,
  republishAfterMs: 20 * 3600_000,
  maxPublications: 4,
  maxPayloadBytes: 16_384,
  maxRecipientsPerTx: 1,
  signalMaxAgeMs: 120_000,
  connectTimeoutMs: 90_000,
  reconnectWithinMs: 30 * 60_000,
  maxReconnects: 8,
  maxIncomingPerMinute: 600,
};

/** Everything an engine is built from (STYLE §9: injectable clock and transports). */
export interface DeliveryOptions {
  readonly db: KeyValueStore;
  readonly sessions: SessionPort;
  readonly contacts: ContactDirectory;
  readonly chain: ChainPort;
  /** Direct links; without it every message goes on chain. */
  readonly peers?: PeerPort;
  /**
   * Message requests: where frames from strangers (not in `contacts`) go. Without it they
   * are dropped. Either way nothing goes back to a stranger (docs/delivery.md).
   */
  readonly requests?: RequestPort;
  /** Attachments: where attachment frames go (without it they are ignored). */
  readonly attachments?: AttachmentHook;
  /**
   * Several devices per person: how long this device holds back a publication of delivered
   * receipts alone, so that the sibling that returns first is seen and the return is made once
   * (src/core/devices/returns.ts `returnWaitMs`, docs/devices.md §8). @default none
   */
  readonly receiptWaitMs?: () => number;
  readonly clock?: Clock;
  readonly settings?: Partial<DeliverySettings>;
  /** Subscribed before start, so it also sees what catch-up produces. */
  readonly listener?: (e: DeliveryEvent) => void;
  /**
   * Whether `open` resolves before the chain adapter has started (e.g. while no node has
   * answered yet). Messages are then queued durably at once and go out when it has; until
   * then nothing is published and `funds` waits. @default false: `open` includes catch-up
   */
  readonly chainInBackground?: boolean;
}

interface LinkState {
  linkId: Uint8Array;
  /** Set once the data channel is open. */
  link?: DirectLink;
  /** Messages already written on this link (each goes once per link). */
  sent: Set<string>;
  /** Our own attempt (we sent the offer) or theirs. */
  ours: boolean;
  /** Made again after an attempt that came to nothing: if it fails too, none follows. */
  retry: boolean;
  /** Frames came from the contact while it was under way: they are there, so it is made again. */
  heard?: boolean;
  timer: Timer | undefined;
}

/** Our latest offer to a contact, kept after its attempt ends (docs/delivery.md "Links"). */
interface OfferState {
  readonly linkId: Uint8Array;
  /** When the offer was written (its `sentAt`), once the description is ready. */
  sentAt?: number;
  /** The answer applied to it: a different one later means another process of theirs answered. */
  answer?: string;
  readonly retry: boolean;
}

interface ContactState {
  link: LinkState | undefined;
  /** Frames that ride the next bundle to this contact by whatever path. */
  receipts: { delivered: Set<string>; read: Set<string> };
  signals: DeliveryFrame[];
  offered?: OfferState;
  /**
   * Delivered receipts for messages that came by chain: they go on chain even when a link is
   * up, because that publication returns the sender's notification coin (docs/delivery.md).
   */
  chainReceipts: Set<string>;
  /** Until when `chainReceipts` alone wait for a sibling's return (`receiptWaitMs`). */
  receiptsHeldUntil?: number;
  /**
   * Flood control: chat frames seen in the current minute, one window per clock. Direct
   * arrivals count in wall-clock minutes; chain arrivals in minutes of DAA score (FLOOD_DAA_MINUTE),
   * which the sender cannot fake and a catch-up does not compress.
   */
  window: { direct: FloodWindow; chain: FloodWindow };
  lastState: ConnectionState;
}

/** One flood-control window: which minute, and how many chat frames came in it. */
interface FloodWindow {
  minute: bigint;
  count: number;
}

/**
 * Recent publications whose contents are kept (memory and store) for acceptance updates and
 * drops: one a second for more than an hour, where a drop comes within CONFIRMATION_DEPTH
 * (100 s at 10 BPS) of acceptance.
 */
const MAX_PROOFS = 4_096;

/** DAA score per minute at 10 blocks per second, the rate of every network since KIP-14 (FACTS §0). */
const FLOOD_DAA_MINUTE = 600n;

/** What one contact gets in one chain transaction. */
interface ChainEntry {
  readonly contact: ContactId;
  readonly frames: readonly DeliveryFrame[];
  /** Chat message ids among the frames. */
  readonly ids: readonly string[];
  readonly size: number;
  /** Attachment frames taken from the attachment hook's chain path (told where they went). */
  readonly attachments?: readonly AttachmentBody[];
}

/** One client's delivery engine. Create with `DeliveryEngine.open`. */
export class DeliveryEngine {
  private readonly store: DeliveryStore;
  private readonly clock: Clock;
  private settings: DeliverySettings;
  private readonly listeners = new Set<(e: DeliveryEvent) => void>();
  /** Outgoing messages not yet delivered, by id and by contact. */
  private readonly active = new ActiveMessages();
  /** Unfinished messages whose records the start left unread until needed (backlog.ts). */
  private backlog = new Backlog([]);
  private readonly contactState = new Map<ContactId, ContactState>();
  private queue: Promise<unknown> = Promise.resolve();
  private flushTimer: Timer | undefined;
  private flushAt = Infinity;
  private flushing = false;
  private flushAgain = false;
  private dueTimer: Timer | undefined;
  /** Refreshes the link-seen records of open links (a page can end without `close`). */
  private seenTimer: Timer | undefined;
  private dueAt = Infinity;
  private insufficientRetry: Timer | undefined;
  /**
   * Recent publications by tx id hex: the message ids they carried (for acceptance updates)
   * and the receipts, by contact and kind (owed again if the publication is dropped).
   */
  private readonly proofs = new Map<string, PublicationRecord>();
  private lastFunds: Funds | undefined;
  private insufficient = false;
  private closed = false;
  /** Set once the chain adapter has started (and caught up); nothing is published before. */
  private chainReady = false;
  private chainStarted: Promise<void> = Promise.resolve();
  /** Contacts the attachment hook has chain frames for (ports.ts AttachmentChainHook). */
  private readonly attachmentsDue = new Set<ContactId>();

  private constructor(private readonly opts: DeliveryOptions) {
    this.store = new DeliveryStore(opts.db);
    this.clock = opts.clock ?? systemClock;
    this.settings = { ...DEFAULT_DELIVERY_SETTINGS, ...opts.settings };
    if (opts.listener) this.listeners.add(opts.listener);
    opts.attachments?.bind?.(this.attachmentHistory());
  }

  /** Attachments as messages of their conversation, on the engine's queue (attachment-history.ts). */
  private attachmentHistory(): AttachmentHistory {
    return attachmentHistory({
      store: this.store,
      clock: this.clock,
      run: (fn) => this.run(fn),
      checkOpen: () => this.checkOpen(),
      emit: (e) => this.emit(e),
    });
  }

  /**
   * Loads the queues, starts the chain watcher (catching up from the saved cursor) and the
   * peer listener, and resumes every unfinished message.
   */
  static async open(opts: DeliveryOptions): Promise<DeliveryEngine> {
    const engine = new DeliveryEngine(opts);
    await engine.start();
    return engine;
  }

  private async start(): Promise<void> {
    const now = this.clock.now();
    // Only the records of what is due now are read; the rest wait in the backlog, known by
    // their open entries (status and due time), until they come due or are needed.
    const read: OpenEntry[] = [];
    const later: OpenEntry[] = [];
    for (const e of await this.store.openEntries()) {
      const waits =
        e.status === 'failed' || (e.status === 'published' && e.dueAt !== undefined && e.dueAt > now);
      (waits ? later : read).push(e);
    }
    this.backlog = new Backlog(later);
    for (const m of await this.store.outgoingAt(read.map((e) => e.key))) {
      // A direct send without receipt could not survive the restart (the link is gone):
      // it goes on chain at once; published messages keep their republication deadline.
      const resumed: OutgoingMessage =
        m.status === 'sent'
          ? { ...m, dueAt: now }
          : m.status === 'queued'
            ? { ...m, dueAt: m.dueAt ?? now }
            : m;
      this.active.set(resumed);
    }
    for (const [contact, ids] of await this.store.owedReceipts()) {
      for (const id of ids) this.state(contact).chainReceipts.add(id);
    }
    // What recent publications carried, kept across restarts: a reorganisation may still
    // drop one of them (docs/delivery.md "Reorganisations").
    const { records, refused } = await this.store.publications();
    for (const e of refused) this.report(e);
    for (const [txHex, r] of records) this.proofs.set(txHex, r);
    this.opts.peers?.listen({
      opened: (c, id, link) => this.enqueue(() => this.onLinkOpened(c, id, link)),
      message: (c, id, bytes) => this.enqueue(() => this.onLinkMessage(c, id, bytes)),
      closed: (c, id) => this.enqueue(() => this.onLinkClosed(c, id)),
    });
    // The offers of a reconnection are made now, while the chain adapter catches up, so that
    // their ICE gathering is done by the time they can be published (flush waits for the
    // chain); a contact's link comes back as early after unlock as the chain allows.
    await this.reconnectRecent();
    const cursor = await this.store.cursor();
    this.chainStarted = this.opts.chain
      .start(
        {
          incoming: (tx) => this.run(() => this.onIncoming(tx)),
          returnedBySibling: (contact) => {
            this.enqueue(() => this.siblingReturned(contact, undefined));
          },
          accepted: (txId, acc) => this.enqueue(() => this.onAccepted(txId, acc)),
          dropped: (txId) => this.enqueue(() => this.onDropped(txId)),
          settled: (txId) => this.enqueue(() => this.forgetProof(bytesToHex(txId))),
          funds: (f) => this.enqueue(() => this.onFunds(f)),
          checkpoint: (c) => this.enqueue(() => this.store.write([this.store.cursorOp(c)])),
        },
        cursor,
      )
      .then(() =>
        this.run(async () => {
          this.chainReady = true;
          mark('chain-ready');
          await this.opts.attachments?.chain?.start((c) => this.wakeAttachments(c), this.clock);
          const contacts = new Set<ContactId>(this.active.contacts());
          for (const [c, st] of this.contactState) if (st.chainReceipts.size > 0) contacts.add(c);
          for (const c of contacts) this.dispatch(c);
          // Offers made before the chain was up wait in `signals` for this flush.
          await this.reconnectRecent();
          if ([...this.contactState.values()].some((st) => st.signals.length > 0)) this.scheduleFlush(0);
          this.scheduleDue();
        }),
      );
    if (!this.opts.chainInBackground) await this.chainStarted;
    else
      this.chainStarted.catch((error: unknown) => {
        if (!this.closed) this.report(error);
      });
  }

  // ---- public API -------------------------------------------------------------------------

  /** Subscribes to events; returns the unsubscribe function. */
  subscribe(listener: (e: DeliveryEvent) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('"listener" expected a function');
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Queues a text message to `contact`; resolves once it is durably stored (status queued).
   * Progress comes as `message` events.
   */
  send(contact: ContactId, text: string, action?: MessageAction): Promise<OutgoingMessage> {
    if (typeof contact !== 'string') throw new TypeError('"contact" expected a string');
    if (typeof text !== 'string') throw new TypeError('"text" expected a string');
    // A reaction or a deletion says everything in its action.
    if (text.length === 0 && action?.kind !== 'reaction' && action?.kind !== 'delete')
      throw new RangeError('"text" is empty');
    if (utf8ToBytes(text).length > MAX_TEXT_BYTES)
      throw new RangeError(`"text" exceeds ${MAX_TEXT_BYTES} UTF-8 bytes`);
    return this.queueMessage(contact, text, action === undefined ? {} : { action });
  }

  /**
   * Queues a change of the conversation's disappearing timer (envelope type 15): a message
   * with no text, delivered, receipted and republished like any other, so the contact's
   * device is told by the link or the chain. Its (sentAt, id) names the setting
   * (core/disappearing/timer.ts). Resolves once it is durably stored.
   */
  setTimer(contact: ContactId, seconds: DisappearingSeconds): Promise<OutgoingMessage> {
    if (typeof contact !== 'string') throw new TypeError('"contact" expected a string');
    if (!isDisappearingSeconds(seconds))
      throw new RangeError(
        `"seconds" expected one of ${DISAPPEARING_SECONDS.join(', ')}, got ${String(seconds)}`,
      );
    return this.queueMessage(contact, '', { timer: seconds });
  }

  private queueMessage(
    contact: ContactId,
    text: string,
    extra: { readonly action?: MessageAction; readonly timer?: DisappearingSeconds },
  ): Promise<OutgoingMessage> {
    return this.run(async () => {
      this.checkOpen();
      if (!this.opts.contacts.has(contact))
        throw new DeliveryError('UNKNOWN_CONTACT', `unknown contact ${contact}`);
      const last = await this.store.lastOutgoing(contact);
      const seq = (last?.direction === 'out' ? last.seq : 0) + 1;
      // Strictly increasing per conversation, so the recipient orders by (sentAt, id) exactly
      // as written even when the clock stands still or steps back.
      const sentAt = Math.max(this.clock.now(), (last?.sentAt ?? 0) + 1);
      const m: OutgoingMessage = {
        direction: 'out',
        id: bytesToHex(randomBytes(MESSAGE_ID_BYTES)),
        contact,
        seq,
        sentAt,
        text,
        ...extra,
        status: 'queued',
        publications: 0,
        attempts: 0,
        dueAt: this.clock.now(),
      };
      await this.store.write(this.store.putOps(m));
      this.active.set(m);
      this.emit({ type: 'message', message: m });
      this.dispatch(contact);
      return m;
    });
  }

  /** Requeues a failed message (fresh retry budget). Rejects UNKNOWN_MESSAGE or NOT_RETRYABLE. */
  retry(id: string): Promise<OutgoingMessage> {
    if (typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id))
      throw new TypeError('"id" expected 32 hex characters');
    return this.run(async () => {
      this.checkOpen();
      const m = this.active.get(id) ?? (await this.store.byId('out', id));
      if (!m || m.direction !== 'out') throw new DeliveryError('UNKNOWN_MESSAGE', `unknown message ${id}`);
      // An attachment is resent by the attachment service, never as a text.
      if (m.attachment === true) throw new DeliveryError('NOT_RETRYABLE', `message ${id} is an attachment`);
      if (m.status !== 'failed') throw new DeliveryError('NOT_RETRYABLE', `message ${id} is ${m.status}`);
      const { failure: _f, ...rest } = m;
      const next: OutgoingMessage = {
        ...rest,
        status: 'queued',
        attempts: 0,
        publications: 0,
        dueAt: this.clock.now(),
      };
      await this.save(next);
      this.dispatch(m.contact);
      return next;
    });
  }

  /** Marks every incoming message of `contact` read (and sends read receipts when enabled). */
  markRead(contact: ContactId): Promise<void> {
    return this.run(async () => {
      this.checkOpen();
      const unread = (await this.store.conversation(contact, 'in')).filter(
        (m): m is IncomingMessage => m.direction === 'in' && !m.read,
      );
      if (unread.length === 0) return;
      const updated = unread.map((m) => ({ ...m, read: true }));
      await this.store.write(updated.flatMap((m) => this.store.putOps(m)));
      for (const m of updated) this.emit({ type: 'message', message: m });
      if (this.settings.readReceipts) {
        const st = this.state(contact);
        for (const m of updated) st.receipts.read.add(m.id);
        // Read receipts never cause a chain publication of their own: they ride the next
        // bundle to this contact by whichever path (they are a courtesy, not a guarantee).
        this.sendDirect(contact);
      }
    });
  }

  /**
   * Takes in what the message request of `contact` kept, once the user accepted it (or added
   * the sender's invite) and its sender is in the directory: the messages are stored and shown
   * like fresh chain arrivals, so their delivery receipts go out, with the return of the coins
   * the sender paid, and a still-fresh WebRTC offer of theirs is answered. Resolves
   * with how many messages were taken (0 when no request was waiting). Rejects UNKNOWN_CONTACT.
   */
  acceptRequest(contact: ContactId): Promise<number> {
    if (typeof contact !== 'string') throw new TypeError('"contact" expected a string');
    return this.run(async () => {
      this.checkOpen();
      if (!this.opts.contacts.has(contact))
        throw new DeliveryError('UNKNOWN_CONTACT', `unknown contact ${contact}`);
      const taken = this.opts.requests?.release(contact);
      if (taken === undefined) return 0;
      // The request is forgotten in the same atomic write that stores its messages.
      const ops: BatchOp[] = [...taken.ops];
      const frames: DeliveryFrame[] = taken.chats.map((m) => ({
        type: 'chat',
        id: hexToBytes(m.id),
        sentAt: m.sentAt,
        text: m.text,
      }));
      // A kept offer is answered like a fresh one (a stale one is ignored by its age).
      await this.processFrames(contact, [...frames, ...taken.signals], 'chain', ops);
      await this.store.write(ops);
      this.opts.requests?.released(contact);
      this.dispatch(contact);
      return frames.length;
    });
  }

  /** A conversation, oldest first (by the writer's clock; ties: incoming first, then id). */
  async messages(contact: ContactId): Promise<Message[]> {
    this.checkOpen();
    const [inc, out] = await Promise.all([
      this.store.conversation(contact, 'in'),
      this.store.conversation(contact, 'out'),
    ]);
    const fresh = out.map((m) => this.active.get(m.id) ?? m);
    return [...inc, ...fresh].sort(
      (a, b) =>
        a.sentAt - b.sentAt ||
        (a.direction === b.direction ? (a.id < b.id ? -1 : 1) : a.direction === 'in' ? -1 : 1),
    );
  }

  /** One outgoing message, with its chain proof when published. */
  async message(id: string): Promise<OutgoingMessage | undefined> {
    this.checkOpen();
    const m = this.active.get(id) ?? (await this.store.byId('out', id));
    return m?.direction === 'out' ? m : undefined;
  }

  /**
   * Removes the text of stored messages of `contact` (core/messages: a deletion for everyone,
   * or for this device with `hidden`): each record keeps its id, so a late republication is
   * still recognised as a duplicate, and loses its text. Ids not held are skipped. Resolves
   * with the records as now stored.
   */
  redact(contact: ContactId, ids: readonly string[], how: 'deleted' | 'hidden'): Promise<Message[]> {
    return this.run(async () => {
      this.checkOpen();
      const done: Message[] = [];
      for (const id of ids) {
        const m =
          this.active.get(id) ?? (await this.store.byId('out', id)) ?? (await this.store.byId('in', id));
        if (m === undefined || m.contact !== contact) continue;
        const next: Message = { ...m, text: '', redacted: m.redacted === 'hidden' ? 'hidden' : how };
        if (next.direction === 'out' && this.active.get(id) !== undefined) this.active.set(next);
        done.push(next);
      }
      await this.store.write(done.flatMap((m) => this.store.putOps(m)));
      return done;
    });
  }

  /** How `contact` can be reached right now. */
  connection(contact: ContactId): ConnectionState {
    const link = this.contactState.get(contact)?.link;
    return link?.link ? 'connected' : link ? 'connecting' : 'offline';
  }

  /** The funds picture at the current fee estimate. */
  async funds(): Promise<FundsView> {
    this.checkOpen();
    await this.chainStarted;
    this.lastFunds = await this.opts.chain.funds();
    return this.fundsView(this.lastFunds);
  }

  /** Changes settings at run time (batching mode, P2P-only, read receipts, …). */
  configure(patch: Partial<DeliverySettings>): Promise<void> {
    return this.run(async () => {
      this.settings = { ...this.settings, ...patch };
      for (const c of this.opts.contacts.list()) this.dispatch(c);
    });
  }

  /**
   * Asks for a direct link to `contact` now (an offer goes on chain). Normally not needed:
   * the engine asks whenever it has something to send and no link.
   */
  connect(contact: ContactId): Promise<void> {
    return this.run(async () => {
      this.checkOpen();
      if (!this.opts.contacts.has(contact))
        throw new DeliveryError('UNKNOWN_CONTACT', `unknown contact ${contact}`);
      this.startAttempt(contact);
      this.scheduleFlush(this.settings.batchWindowMs);
    });
  }

  /**
   * Tells `contact` that the user is typing (or stopped), over the direct link only: without
   * an open link nothing is sent, since a chain publication would cost a transaction and show
   * on a public ledger when someone types. Resolves false when nothing was sent.
   */
  typing(contact: ContactId, active: boolean): Promise<boolean> {
    if (typeof contact !== 'string') throw new TypeError('"contact" expected a string');
    if (typeof active !== 'boolean') throw new TypeError('"active" expected a boolean');
    return this.run(async () => {
      this.checkOpen();
      if (!this.opts.contacts.has(contact))
        throw new DeliveryError('UNKNOWN_CONTACT', `unknown contact ${contact}`);
      const link = this.state(contact).link?.link;
      if (!link) return false;
      const sealed = await this.opts.sessions.seal(contact, [{ type: 'typing', active }]);
      try {
        for (const bytes of sealed) await link.send(bytes);
      } catch {
        // The link broke: its closure is reported by the transport; typing is not retried.
        return false;
      }
      return true;
    });
  }

  /**
   * Offers a link to every contact seen on a direct link within `reconnectWithinMs` that has
   * none now (after a network change; the engine does the same once its chain path is up).
   */
  reconnect(): Promise<void> {
    return this.run(async () => {
      this.checkOpen();
      if (this.chainReady) await this.reconnectRecent();
    });
  }

  /** Stops timers, links and the chain watcher. Queued messages stay stored. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.flushTimer?.cancel();
    this.dueTimer?.cancel();
    this.insufficientRetry?.cancel();
    this.seenTimer?.cancel();
    const linked = [...this.contactState].filter(([, st]) => st.link?.link).map(([c]) => c);
    await this.store
      .write(linked.map((c) => this.store.seenOp(c, this.clock.now())))
      .catch((e: unknown) => this.report(e));
    for (const st of this.contactState.values()) {
      st.link?.timer?.cancel();
      st.link?.link?.close();
    }
    await this.queue.catch(() => undefined);
    await this.opts.peers?.stop();
    await this.opts.chain.stop();
  }

  // ---- serial queue and events ------------------------------------------------------------

  private run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Runs `fn` on the queue; its failure is reported as an event, not thrown. */
  private enqueue(fn: () => Promise<void> | void): void {
    this.run(async () => {
      if (!this.closed) await fn();
    }).catch((error: unknown) => this.report(error));
  }

  private report(error: unknown): void {
    if (this.superseded(error)) return;
    this.emit({ type: 'error', error: error instanceof Error ? error : new Error(String(error)) });
  }

  /**
   * True, and the engine stops, when another instance of this profile took over the session
   * state (SessionStateStore, SUPERSEDED): nothing sealed here may go out, and no retry can
   * help. Reported once, as an error event the app can act on (e.g. by locking).
   */
  private superseded(error: unknown): boolean {
    if (!(error instanceof DeliveryError && error.code === 'SUPERSEDED')) return false;
    if (!this.closed) {
      this.emit({ type: 'error', error });
      // Not awaited: this may run inside a queued task, and close() waits for the queue.
      void this.close();
    }
    return true;
  }

  private emit(e: DeliveryEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A faulty listener must not break delivery for the others.
      }
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new DeliveryError('CLOSED', 'the delivery engine is closed');
  }

  private state(contact: ContactId): ContactState {
    let st = this.contactState.get(contact);
    if (!st) {
      st = {
        receipts: { delivered: new Set(), read: new Set() },
        signals: [],
        chainReceipts: new Set(),
        link: undefined,
        window: { direct: { minute: -1n, count: 0 }, chain: { minute: -1n, count: 0 } },
        lastState: 'offline',
      };
      this.contactState.set(contact, st);
    }
    return st;
  }

  private async save(m: OutgoingMessage): Promise<void> {
    await this.store.write(this.store.putOps(m));
    // What was saved supersedes an entry the start left unread.
    this.backlog.take(m.id);
    if (m.status === 'delivered' || m.status === 'read') this.active.delete(m.id);
    else this.active.set(m);
    this.emit({ type: 'message', message: m });
  }

  /** Reads the records of backlog entries taken out (backlog.ts) into the unfinished messages. */
  private async hydrate(entries: readonly OpenEntry[]): Promise<void> {
    if (entries.length === 0) return;
    for (const m of await this.store.outgoingAt(entries.map((e) => e.key))) {
      if (this.active.get(m.id) === undefined) this.active.set(m);
    }
  }

  private fundsView(f: Funds): FundsView {
    const messagesLeft = f.costPerMessage > 0n ? Number(f.spendable / f.costPerMessage) : 0;
    return { ...f, messagesLeft, insufficient: this.insufficient };
  }

  private connectionChanged(contact: ContactId): void {
    const st = this.state(contact);
    const now = this.connection(contact);
    if (now !== st.lastState) {
      st.lastState = now;
      this.emit({ type: 'connection', contact, state: now });
    }
  }

  // ---- choosing a path -------------------------------------------------------------------

  /** Sends what is due to `contact` directly if a link is open, else schedules the chain. */
  private dispatch(contact: ContactId): void {
    const st = this.state(contact);
    if (this.sendDirect(contact)) {
      if (st.chainReceipts.size > 0) this.scheduleFlush(this.settings.batchWindowMs);
      return;
    }
    if (this.active.hasDue(contact, this.clock.now())) {
      // Whatever the chain carries, a link is asked for too: the offer rides the same batch.
      this.startAttempt(contact);
      const cheap = this.settings.cheap && !this.settings.p2pOnly;
      this.scheduleFlush(cheap ? this.settings.cheapBatchWindowMs : this.settings.batchWindowMs);
    } else if (st.signals.length > 0 || st.chainReceipts.size > 0 || st.receipts.delivered.size > 0) {
      this.scheduleFlush(this.settings.batchWindowMs);
    }
    this.scheduleDue();
  }

  /** Writes everything due to `contact` on its open link; false when no link is open. */
  private sendDirect(contact: ContactId): boolean {
    const st = this.state(contact);
    const ls = st.link;
    if (!ls?.link) return false;
    // Everything undelivered goes over the link once, published messages too: the receipt
    // comes sooner than by chain, and the recipient shows each message once whatever the path.
    const chats = [...this.active.ofContact(contact)]
      .filter((m) => m.status !== 'failed' && !ls.sent.has(m.id))
      .sort((a, b) => a.seq - b.seq);
    const frames: DeliveryFrame[] = [...this.takeReceipts(st), ...chats.map(chatFrame)];
    if (frames.length === 0) return true;
    for (const m of chats) ls.sent.add(m.id);
    void this.transmitDirect(
      contact,
      ls,
      frames,
      chats.map((m) => m.id),
    );
    return true;
  }

  private async transmitDirect(
    contact: ContactId,
    ls: LinkState,
    frames: DeliveryFrame[],
    ids: readonly string[],
  ): Promise<void> {
    try {
      const messages = await this.opts.sessions.seal(contact, frames);
      for (const bytes of messages) {
        if (!ls.link) throw new DeliveryError('CLOSED', 'the link closed before the send');
        await ls.link.send(bytes);
      }
    } catch (error) {
      if (this.superseded(error)) return;
      // The link broke under us: its closure requeues these on chain.
      this.enqueue(() => this.onLinkClosed(contact, ls.linkId));
      return;
    }
    this.enqueue(async () => {
      const ackBy = this.clock.now() + this.settings.directAckTimeoutMs;
      for (const id of ids) {
        const m = this.active.get(id);
        if (!m || m.status === 'delivered' || m.status === 'read' || m.status === 'failed') continue;
        if (m.status === 'published') continue; // keeps its proof and republication deadline
        await this.save({ ...m, status: 'sent', route: 'direct', dueAt: ackBy });
      }
      this.scheduleDue();
    });
  }

  /** Pending receipts of `contact` as frames (taken: they are requeued if their send fails). */
  private takeReceipts(st: ContactState): DeliveryFrame[] {
    const frames: DeliveryFrame[] = [];
    const take = (set: Set<string>, kind: 'delivered' | 'read'): void => {
      while (set.size > 0) {
        const ids = [...set].slice(0, MAX_RECEIPT_IDS);
        for (const id of ids) set.delete(id);
        frames.push({ type: 'receipt', kind, ids: ids.map((h) => hexToBytes(h)) });
      }
    };
    take(st.receipts.delivered, 'delivered');
    take(st.receipts.read, 'read');
    return frames;
  }

  // ---- timers ----------------------------------------------------------------------------

  private scheduleFlush(delayMs: number): void {
    if (this.closed) return;
    const at = this.clock.now() + delayMs;
    if (at >= this.flushAt) return;
    this.flushTimer?.cancel();
    this.flushAt = at;
    this.flushTimer = this.clock.after(delayMs, () => {
      this.flushAt = Infinity;
      this.flushTimer = undefined;
      this.enqueue(() => this.flush());
    });
  }

  /**
   * Arms one timer for the earliest message due after `now` (republication, backoff, ack
   * timeout). `onDue` passes the instant it judged by: a timer may fire a millisecond early
   * by the wall clock, and a message due in that millisecond must get a new timer, not fall
   * between the two readings of the clock.
   */
  private scheduleDue(now = this.clock.now()): void {
    if (this.closed) return;
    const next = Math.min(this.active.nextDue(now), this.backlog.nextDue());
    if (next === Infinity || next >= this.dueAt) return;
    this.dueTimer?.cancel();
    this.dueAt = next;
    this.dueTimer = this.clock.after(next - now, () => {
      this.dueAt = Infinity;
      this.dueTimer = undefined;
      this.enqueue(() => this.onDue());
    });
  }

  private async onDue(): Promise<void> {
    const now = this.clock.now();
    await this.hydrate(this.backlog.takeDue(now));
    const contacts = new Set<ContactId>();
    for (const m of this.active.due(now)) {
      contacts.add(m.contact);
      const ls = this.state(m.contact).link;
      // A direct send whose receipt is overdue on a link that still looks open: the link is
      // dead in a way its heartbeat has not noticed yet, so the chain takes over.
      if (m.status === 'sent' && ls?.link && ls.sent.has(m.id)) this.onLinkClosed(m.contact, ls.linkId);
    }
    for (const c of contacts) this.dispatch(c);
    this.scheduleDue(now);
  }

  // ---- chain path ------------------------------------------------------------------------

  /**
   * Collects everything due on chain into transactions within the limits and publishes them
   * off the serial queue (a node round trip must not hold up receiving).
   */
  private async flush(): Promise<void> {
    // Before the chain adapter runs there is no link either (links are signalled on chain):
    // everything waits, stored, and is dispatched again once it runs.
    if (!this.chainReady) return;
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    const now = this.clock.now();
    const byContact = new Map<ContactId, OutgoingMessage[]>();
    for (const m of this.active.due(now)) {
      if (this.state(m.contact).link?.link) continue;
      if (await this.expire(m)) continue;
      if (this.settings.p2pOnly || this.insufficient) continue;
      const list = byContact.get(m.contact) ?? [];
      list.push(m);
      byContact.set(m.contact, list);
    }
    const contacts = new Set<ContactId>(byContact.keys());
    const carry = !this.settings.p2pOnly && !this.insufficient;
    if (carry) for (const c of this.attachmentsDue) if (!this.state(c).link?.link) contacts.add(c);
    for (const [c, st] of this.contactState) {
      // Receipts alone wait while a sibling may be returning them (`receiptWaitMs`).
      const held = st.receiptsHeldUntil !== undefined && st.receiptsHeldUntil > now;
      if (held && !contacts.has(c) && st.signals.length === 0) {
        this.scheduleFlush(st.receiptsHeldUntil! - now);
        continue;
      }
      if (
        st.signals.length > 0 ||
        st.chainReceipts.size > 0 ||
        (st.receipts.delivered.size > 0 && !st.link?.link)
      ) {
        contacts.add(c);
      }
    }
    const entries: ChainEntry[] = [];
    for (const contact of contacts) {
      const st = this.state(contact);
      const linked = st.link?.link !== undefined;
      if (linked) this.sendDirect(contact);
      const receipts = new Set<string>([...st.chainReceipts, ...(linked ? [] : st.receipts.delivered)]);
      st.chainReceipts.clear();
      delete st.receiptsHeldUntil;
      if (!linked) st.receipts.delivered.clear();
      const frames: DeliveryFrame[] = [...st.signals];
      st.signals = [];
      for (let ids = [...receipts]; ids.length > 0; ids = ids.slice(MAX_RECEIPT_IDS)) {
        frames.push({
          type: 'receipt',
          kind: 'delivered',
          ids: ids.slice(0, MAX_RECEIPT_IDS).map((h) => hexToBytes(h)),
        });
      }
      const chats = (byContact.get(contact) ?? []).sort((a, b) => a.seq - b.seq);
      if (!linked && chats.length > 0 && st.receipts.read.size > 0) frames.push(...this.takeReceipts(st));
      // Each entry stays within half the payload budget so that two contacts always fit in
      // one transaction; what does not fit goes in the next flush.
      const ids: string[] = [];
      let size = frames.reduce((n, f) => n + frameCost(f), 0);
      for (const m of chats) {
        const f = chatFrame(m);
        const add = frameCost(f);
        if (ids.length > 0 && size + add > this.settings.maxPayloadBytes / 2) break;
        frames.push(f);
        ids.push(m.id);
        size += add;
      }
      if (frames.length > 0) entries.push({ contact, frames, ids, size });
      if (carry && !linked && this.attachmentsDue.delete(contact)) {
        for (const bodies of (await this.opts.attachments?.chain?.take(
          contact,
          this.settings.maxPayloadBytes,
        )) ?? []) {
          const carried = bodies.map((body): DeliveryFrame => ({ type: 'attachment', body }));
          const bytes = carried.reduce((n, f) => n + frameCost(f), 0);
          entries.push({ contact, frames: carried, ids: [], size: bytes, attachments: bodies });
        }
      }
    }
    if (entries.length === 0) return;
    const groups: ChainEntry[][] = [];
    for (const e of entries) {
      // Signaling without a message (a reconnection's offer, an answer) goes alone: shared with
      // another contact's frames, one transaction would tie the two contacts (docs/privacy.md).
      if (e.ids.length === 0 && e.frames.some((f) => f.type === 'signal')) {
        groups.push([e]);
        continue;
      }
      const g = groups.at(-1);
      if (g?.length === 1 && g[0]!.ids.length === 0 && g[0]!.frames.some((f) => f.type === 'signal')) {
        groups.push([e]);
        continue;
      }
      const bytes = g?.reduce((n, x) => n + x.size, 0) ?? 0;
      if (g && g.length < this.settings.maxRecipientsPerTx && bytes + e.size <= this.settings.maxPayloadBytes)
        g.push(e);
      else groups.push([e]);
    }
    this.flushing = true;
    void this.publishAll(groups);
  }

  private async publishAll(groups: ChainEntry[][]): Promise<void> {
    for (let group of groups) {
      for (;;) {
        let result: { txId: Uint8Array } | { error: unknown };
        try {
          const payload = await this.opts.sessions.sealBatch(
            group.map((e) => ({ contact: e.contact, frames: e.frames })),
          );
          result = await this.opts.chain.publish(
            payload,
            group.map((e) => e.contact),
            {
              deferrable: group.every(
                (e) => e.ids.length === 0 && e.frames.every((f) => f.type === 'receipt'),
              ),
            },
          );
        } catch (error) {
          if (this.superseded(error)) return;
          result = { error };
        }
        // One recipient that cannot be paid fails alone; the others are sealed again
        // without it and published (their first seal named it, so it cannot be reused).
        const bad = 'error' in result && result.error instanceof RecipientError ? result.error : undefined;
        const dropped = bad ? group.filter((e) => e.contact === bad.contact) : [];
        if (bad && dropped.length > 0) {
          await this.run(() => this.unreachable(dropped, bad)).catch((error: unknown) => this.report(error));
          group = group.filter((e) => e.contact !== bad.contact);
          if (group.length > 0) continue;
          break;
        }
        const settled = result;
        const current = group;
        if ('txId' in settled && current.some((e) => e.frames.some((f) => f.type === 'signal')))
          mark('signal-published');
        await this.run(() =>
          'txId' in settled
            ? this.published(current, settled.txId)
            : this.publishFailed(current, settled.error),
        ).catch((error: unknown) => this.report(error));
        break;
      }
    }
    this.enqueue(() => {
      this.flushing = false;
      if (this.flushAgain || this.hasDue()) {
        this.flushAgain = false;
        this.scheduleFlush(0);
      }
      this.scheduleDue();
    });
  }

  private hasDue(): boolean {
    if (!this.chainReady || this.insufficient || this.settings.p2pOnly) return false;
    for (const contact of this.active.dueContacts(this.clock.now())) {
      if (!this.state(contact).link?.link) return true;
    }
    for (const contact of this.attachmentsDue) if (!this.state(contact).link?.link) return true;
    return false;
  }

  /** The attachment hook has chain frames for `contact`: they ride the next flush. */
  private wakeAttachments(contact: ContactId): void {
    this.enqueue(() => {
      this.attachmentsDue.add(contact);
      this.scheduleFlush(this.settings.batchWindowMs);
    });
  }

  /**
   * Tells the attachment hook where the attachment frames of `group` went. A failure of the
   * hook is reported, not thrown: the engine's own record of the publication (its messages
   * published, its receipts settled or owed again) must not be lost with it, or the messages
   * would be published a second time.
   */
  private async settleAttachments(group: readonly ChainEntry[], txId: string | undefined): Promise<void> {
    const hook = this.opts.attachments?.chain;
    if (!hook) return;
    for (const e of group) {
      if (!e.attachments) continue;
      try {
        await hook.settled(e.contact, e.attachments, txId);
      } catch (error) {
        this.report(error);
      }
    }
  }

  private async published(group: readonly ChainEntry[], txId: Uint8Array): Promise<void> {
    if (this.insufficient) {
      this.insufficient = false;
      if (this.lastFunds) this.emit({ type: 'funds', funds: this.fundsView(this.lastFunds) });
    }
    const now = this.clock.now();
    const proof = { txId: bytesToHex(txId), publishedAt: now };
    const ids = group.flatMap((e) => e.ids);
    await this.settleAttachments(group, proof.txId);
    const settled = group.flatMap((e) =>
      e.frames.flatMap((f) =>
        f.type === 'receipt' && f.kind === 'delivered'
          ? f.ids.map((id) => this.store.receiptOp(e.contact, bytesToHex(id), true))
          : [],
      ),
    );
    // Read receipts too: a publication that leaves the chain for good must not take the
    // sender's "read" with it (they ride again with the messages it carried).
    const receipts = new Map<ContactId, { delivered: string[]; read: string[] }>();
    for (const e of group)
      for (const f of e.frames)
        if (f.type === 'receipt') {
          const r = receipts.get(e.contact) ?? { delivered: [], read: [] };
          r[f.kind].push(...f.ids.map((id) => bytesToHex(id)));
          receipts.set(e.contact, r);
        }
    const record: PublicationRecord = { at: now, ids, receipts };
    this.proofs.set(proof.txId, record);
    // Stored with the receipts marked published: a restart before a drop must still owe them
    // again. The adapter says when a publication is deep (`settled`); past 4,096 recent ones
    // the oldest go anyway, which bounds the store whatever the adapter.
    const ops = [...settled, this.store.publicationOp(proof.txId, record)];
    while (this.proofs.size > MAX_PROOFS) {
      const oldest = this.proofs.keys().next().value!;
      this.proofs.delete(oldest);
      ops.push(this.store.forgetPublicationOp(oldest));
    }
    await this.store.write(ops);
    for (const id of ids) {
      const m = this.active.get(id);
      if (!m || m.status === 'delivered' || m.status === 'read' || m.status === 'failed') continue;
      const { failure: _f, ...rest } = m;
      await this.save({
        ...rest,
        status: 'published',
        route: 'chain',
        proof,
        publications: m.publications + 1,
        attempts: 0,
        // After the last allowed publication one more period is left for a receipt; then
        // `expire` reports the message undeliverable.
        dueAt: now + this.settings.republishAfterMs,
      });
    }
  }

  private async publishFailed(group: readonly ChainEntry[], error: unknown): Promise<void> {
    await this.settleAttachments(group, undefined);
    // Control frames are requeued so a receipt or an offer is not lost with the transaction.
    for (const e of group) {
      const st = this.state(e.contact);
      for (const f of e.frames) {
        if (f.type === 'signal') {
          if (st.link && equalBytes(st.link.linkId, f.linkId)) st.signals.push(f);
        } else if (f.type === 'receipt') {
          for (const id of f.ids)
            (f.kind === 'delivered' ? st.chainReceipts : st.receipts.read).add(bytesToHex(id));
        }
      }
    }
    const now = this.clock.now();
    if (error instanceof DeliveryError && error.code === 'INSUFFICIENT_FUNDS') {
      // Messages stay queued, unchanged; publication resumes when funds arrive (onFunds) or
      // at the next retry.
      if (!this.insufficient) {
        this.insufficient = true;
        const funds = await this.opts.chain.funds().catch(() => this.lastFunds);
        if (funds) this.lastFunds = funds;
        this.emit({
          type: 'funds',
          funds: this.fundsView(funds ?? { spendable: 0n, locked: 0n, costPerMessage: 0n }),
        });
      }
      const retryAt = now + this.settings.backoffBaseMs * 8;
      for (const id of group.flatMap((e) => e.ids)) {
        const m = this.active.get(id);
        if (m) this.active.set({ ...m, dueAt: retryAt });
      }
      this.insufficientRetry?.cancel();
      this.insufficientRetry = this.clock.after(retryAt - now, () =>
        this.enqueue(() => {
          this.insufficient = false;
          this.scheduleFlush(0);
        }),
      );
      return;
    }
    this.report(error);
    for (const id of group.flatMap((e) => e.ids)) {
      const m = this.active.get(id);
      if (!m) continue;
      const attempts = m.attempts + 1;
      if (attempts >= this.settings.maxAttempts) {
        const { dueAt: _d, ...rest } = m;
        await this.save({ ...rest, status: 'failed', attempts, failure: 'publish' });
      } else {
        await this.save({ ...m, attempts, dueAt: now + this.settings.backoffBaseMs * 2 ** (attempts - 1) });
      }
    }
    for (const e of group) if (e.ids.length === 0) this.scheduleFlush(this.settings.backoffBaseMs);
  }

  /**
   * Entries whose recipient cannot be paid (RecipientError): their messages fail at once
   * (retrying cannot help until the card changes) and the receipts owed are settled (they
   * could never be published, and must not come back after a restart); the error is reported.
   */
  private async unreachable(entries: readonly ChainEntry[], error: RecipientError): Promise<void> {
    this.report(error);
    await this.settleAttachments(entries, undefined);
    const ops = entries.flatMap((e) =>
      e.frames.flatMap((f) =>
        f.type === 'receipt' && f.kind === 'delivered'
          ? f.ids.map((id) => this.store.receiptOp(e.contact, bytesToHex(id), true))
          : [],
      ),
    );
    await this.store.write(ops);
    for (const id of entries.flatMap((e) => e.ids)) {
      const m = this.active.get(id);
      if (!m || m.status === 'delivered' || m.status === 'read' || m.status === 'failed') continue;
      const { dueAt: _d, ...rest } = m;
      await this.save({ ...rest, status: 'failed', failure: 'unreachable' });
    }
  }

  private async onFunds(f: Funds): Promise<void> {
    this.lastFunds = f;
    if (this.insufficient && f.spendable >= f.costPerMessage) {
      this.insufficient = false;
      this.insufficientRetry?.cancel();
      const now = this.clock.now();
      for (const m of this.active.values()) {
        if (m.status === 'queued' || (m.status === 'sent' && m.dueAt !== undefined && m.dueAt > now)) {
          this.active.set({ ...m, dueAt: now });
        }
      }
      this.scheduleFlush(0);
    }
    this.emit({ type: 'funds', funds: this.fundsView(f) });
  }

  private async onAccepted(txId: Uint8Array, acc: ChainAcceptance): Promise<void> {
    const hex = bytesToHex(txId);
    for (const id of this.proofs.get(hex)?.ids ?? []) {
      const m = this.active.get(id) ?? (await this.store.byId('out', id));
      if (m?.direction !== 'out' || m.proof?.txId !== hex) continue;
      await this.save({
        ...m,
        proof: { ...m.proof, acceptingBlockHash: bytesToHex(acc.blockHash), acceptingDaaScore: acc.daaScore },
      });
    }
  }

  /**
   * A publication left the chain for good (the adapter could not hand it to the node again):
   * its messages are due now, as at their republication deadline, and the receipts it carried
   * are owed again. Rare, so the unfinished messages are looked through when the recent
   * publications' index does not have it.
   */
  private async onDropped(txId: Uint8Array): Promise<void> {
    const hex = bytesToHex(txId);
    const now = this.clock.now();
    const recorded = this.proofs.get(hex)?.ids;
    await this.hydrate(recorded ? this.backlog.takeIds(recorded) : this.backlog.takeAll());
    const ids = recorded ?? [...this.active.values()].filter((m) => m.proof?.txId === hex).map((m) => m.id);
    for (const id of ids) {
      const m = this.active.get(id);
      if (m?.status !== 'published' || m.proof?.txId !== hex) continue;
      await this.save({ ...m, dueAt: now });
    }
    // Owed again in the store too, as when they were first queued: a restart before the
    // republication must not lose them (their publication had marked them settled).
    const owed: BatchOp[] = [];
    for (const [contact, r] of this.proofs.get(hex)?.receipts ?? []) {
      const st = this.state(contact);
      for (const id of r.delivered) {
        st.chainReceipts.add(id);
        owed.push(this.store.receiptOp(contact, id));
      }
      for (const id of r.read) st.receipts.read.add(id);
    }
    await this.store.write([...owed, this.store.forgetPublicationOp(hex)]);
    this.proofs.delete(hex);
    await this.opts.attachments?.chain?.dropped(hex);
    this.scheduleFlush(0);
  }

  /** A publication is deep (ChainHandler.settled): what it carried is not needed any more. */
  private async forgetProof(txHex: string): Promise<void> {
    if (!this.proofs.delete(txHex)) return;
    await this.store.write([this.store.forgetPublicationOp(txHex)]);
  }

  /** A message published `maxPublications` times whose last deadline passed is undeliverable. */
  private async expire(m: OutgoingMessage): Promise<boolean> {
    if (m.status !== 'published' || m.publications < this.settings.maxPublications) return false;
    const { dueAt: _d, ...rest } = m;
    await this.save({ ...rest, status: 'failed', failure: 'undeliverable' });
    return true;
  }

  // ---- receiving -------------------------------------------------------------------------

  private async onIncoming(tx: IncomingTransaction): Promise<readonly ContactId[]> {
    // Closing: the chain adapter must not record this coin as processed.
    this.checkOpen();
    if (tx.payload === null) {
      this.emit({ type: 'pruned', txId: bytesToHex(tx.txId) });
      if (tx.cursor) await this.store.write([this.store.cursorOp(tx.cursor)]);
      return [];
    }
    let entries: OpenedEntry[];
    try {
      entries = await this.opts.sessions.openBatch(tx.payload);
    } catch (error) {
      // Thrown on, so the chain adapter does not record the coin as processed.
      if (this.superseded(error)) throw error;
      // A payload that is not ours or is malformed costs this one attempt and nothing more.
      if (!(error instanceof DecodeError) && !(error instanceof DeliveryError)) this.report(error);
      entries = [];
    }
    const senders: ContactId[] = [];
    const ops: BatchOp[] = tx.cursor ? [this.store.cursorOp(tx.cursor)] : [];
    for (const { contact, frames, stranger, sent } of entries) {
      if (frames.length === 0) continue;
      if (sent) {
        if (this.opts.contacts.has(contact)) await this.takeSentCopies(contact, frames);
        continue;
      }
      if (!this.opts.contacts.has(contact)) {
        // A stranger: nothing of theirs is answered. A kept request holds their coin (it
        // goes back only if the user accepts); anything else leaves it to the wallet.
        if (stranger === undefined || this.opts.requests === undefined) continue;
        const daaScore = tx.daaScore ?? tx.acceptance?.daaScore;
        const held = await this.opts.requests.incoming({
          contact,
          card: stranger,
          frames,
          ...(daaScore === undefined ? {} : { daaScore }),
        });
        if (held) senders.push(contact);
        continue;
      }
      senders.push(contact);
      await this.processFrames(contact, frames, 'chain', ops, tx.daaScore ?? tx.acceptance?.daaScore);
    }
    await this.store.write(ops);
    // Only now the ratchet steps (SessionPort.commit): a crash before this opens the coin again.
    await this.opts.sessions.commit?.();
    await this.resendSetAside();
    for (const c of senders) if (this.opts.contacts.has(c)) this.dispatch(c);
    return senders;
  }

  /**
   * Chats one of our own devices sent to `contact` (docs/devices.md §4): shown as sent by us,
   * once by id. They are published already and this device does not republish them (no
   * deadline); the contact's receipts, which reach every device of ours, move them on.
   */
  private async takeSentCopies(contact: ContactId, frames: readonly DeliveryFrame[]): Promise<void> {
    const receipted = frames.flatMap((f) =>
      f.type === 'receipt' && f.kind === 'delivered' ? f.ids.map((id) => bytesToHex(id)) : [],
    );
    if (receipted.length > 0) await this.siblingReturned(contact, receipted);
    for (const f of frames) {
      if (f.type !== 'chat') continue;
      const id = bytesToHex(f.id);
      if (this.active.get(id) !== undefined || (await this.store.byId('out', id)) !== undefined) continue;
      const last = await this.store.lastOutgoing(contact);
      const m: OutgoingMessage = {
        direction: 'out',
        id,
        contact,
        seq: (last?.direction === 'out' ? last.seq : 0) + 1,
        sentAt: f.sentAt,
        text: f.text,
        ...(f.action === undefined ? {} : { action: recordAction(f.action) }),
        ...(f.timer === undefined ? {} : { timer: f.timer }),
        status: 'published',
        route: 'chain',
        publications: 0,
        attempts: 0,
      };
      await this.store.write(this.store.putOps(m));
      this.active.set(m);
      this.emit({ type: 'message', message: m });
    }
  }

  /**
   * A sibling device returned `contact`'s coins with the delivered receipts for `ids` (its
   * publication carried copies), or, with `ids` undefined, spent a coin of the contact's this
   * device held (a return without any output of ours): the receipts this device holds back for
   * the contact went with it. Recorded as done and not published here (docs/devices.md §8).
   */
  private async siblingReturned(contact: ContactId, ids: readonly string[] | undefined): Promise<void> {
    const st = this.state(contact);
    if (ids === undefined && st.receiptsHeldUntil === undefined) return;
    const done: BatchOp[] = [];
    for (const id of ids ?? [...st.chainReceipts]) {
      if (!st.chainReceipts.delete(id) && !st.receipts.delivered.has(id)) continue;
      st.receipts.delivered.delete(id);
      done.push(this.store.receiptOp(contact, id, true));
    }
    if (st.chainReceipts.size === 0) delete st.receiptsHeldUntil;
    if (done.length === 0) return;
    await this.store.write(done);
    if (ids !== undefined) await this.opts.chain.returnedBySibling?.(contact);
    this.emit({ type: 'returned-by-sibling', contact, receipts: done.length });
  }

  /** Starts the wait of a contact's first pending chain receipt (`receiptWaitMs`). */
  private holdReceipts(st: ContactState): void {
    const wait = this.opts.receiptWaitMs?.() ?? 0;
    if (wait > 0) st.receiptsHeldUntil = this.clock.now() + wait;
  }

  /**
   * Sends again, on the session that replaced it, what went out on an unanswered session start
   * of ours that gave way to the contact's (SessionPort `takeSetAside`): the contact may have
   * refused that start (a one-time pre-key already used), and a republication of the same
   * frames would be refused again. The recipient shows each message once by its id.
   */
  private async resendSetAside(): Promise<void> {
    const now = this.clock.now();
    for (const contact of this.opts.sessions.takeSetAside?.() ?? []) {
      const ls = this.state(contact).link;
      await this.hydrate(this.backlog.takeContact(contact));
      for (const m of [...this.active.ofContact(contact)]) {
        if (m.status !== 'published' && m.status !== 'sent') continue;
        ls?.sent.delete(m.id);
        if (m.status === 'published') await this.save({ ...m, dueAt: now });
      }
      this.dispatch(contact);
    }
  }

  private async onLinkMessage(contact: ContactId, linkId: Uint8Array, bytes: Uint8Array): Promise<void> {
    const st = this.state(contact);
    if (!st.link || !equalBytes(st.link.linkId, linkId)) return;
    if (this.opts.attachments?.claim(contact, bytes)) return;
    const frames = await this.opts.sessions.open(contact, bytes);
    const ops: BatchOp[] = [];
    if (frames.length > 0) await this.processFrames(contact, frames, 'direct', ops);
    await this.store.write(ops);
    await this.opts.sessions.commit?.();
    if (frames.length === 0) return;
    await this.resendSetAside();
    this.sendDirect(contact);
  }

  /**
   * Applies frames from `contact`. New chat messages are written through `ops` (committed
   * by the caller with the chain cursor); duplicates are dropped but receipted again, since
   * the sender evidently missed our receipt.
   */
  private async processFrames(
    contact: ContactId,
    frames: readonly DeliveryFrame[],
    route: Route,
    ops: BatchOp[],
    daaScore?: bigint,
  ): Promise<void> {
    const st = this.state(contact);
    const now = this.clock.now();
    // A chain arrival of unknown chain time counts as now.
    const window = daaScore === undefined ? st.window.direct : st.window.chain;
    const minute = daaScore === undefined ? BigInt(Math.floor(now / 60_000)) : daaScore / FLOOD_DAA_MINUTE;
    const added: IncomingMessage[] = [];
    const attachments: AttachmentBody[] = [];
    if (st.link) st.link.heard = true;
    // Which chats are already stored, looked up together before the loop: reads issued at once
    // share one round trip on IndexedDB, where a catch-up's one read per message in turn was
    // a transaction each.
    const chatIds = frames.flatMap((f) => (f.type === 'chat' ? [bytesToHex(f.id)] : []));
    const stored = await Promise.all(chatIds.map((id) => this.store.hasIncoming(id)));
    const seen = new Set(chatIds.filter((_, i) => stored[i]));
    for (const f of frames) {
      if (f.type === 'chat') {
        // Sent while the contact was blocked: neither stored nor receipted, on either route,
        // even when it is processed after the unblock (issue 15 "block from the chat").
        if (this.opts.requests?.sentWhileBlocked?.(contact, f.sentAt) === true) continue;
        const id = bytesToHex(f.id);
        const duplicate = seen.has(id);
        if (!duplicate) {
          if (window.minute !== minute) {
            window.minute = minute;
            window.count = 0;
          }
          // Flood control: past the per-minute budget, frames are not stored and not
          // receipted, so an honest sender republishes them later.
          if (window.count >= this.settings.maxIncomingPerMinute) continue;
          window.count++;
          const m: IncomingMessage = {
            direction: 'in',
            id,
            contact,
            sentAt: f.sentAt,
            text: f.text,
            ...(f.action === undefined ? {} : { action: recordAction(f.action) }),
            ...(f.timer === undefined ? {} : { timer: f.timer }),
            receivedAt: now,
            route,
            read: false,
          };
          ops.push(...this.store.putOps(m));
          added.push(m);
          seen.add(id);
        }
        st.receipts.delivered.add(id);
        if (route === 'chain' && !st.chainReceipts.has(id)) {
          if (st.chainReceipts.size === 0) this.holdReceipts(st);
          st.chainReceipts.add(id);
          ops.push(this.store.receiptOp(contact, id));
        }
      } else if (f.type === 'receipt') {
        for (const raw of f.ids) await this.onReceipt(contact, bytesToHex(raw), f.kind);
      } else if (f.type === 'typing') {
        // Only over a direct link: typing on chain is refused (it was never sent that way).
        if (route === 'direct') this.emit({ type: 'typing', contact, active: f.active });
      } else if (f.type === 'attachment') {
        // The chat rule above for manifests, chunks and statuses: sent while the contact was
        // blocked, none reaches the attachment service (nothing shown, stored or answered),
        // also when processed after the unblock. A frame without a time is not let through.
        const blocked = this.opts.requests?.sentWhileBlocked;
        if (
          blocked !== undefined &&
          (f.sentAt === undefined || blocked.call(this.opts.requests, contact, f.sentAt))
        )
          continue;
        attachments.push(f.body);
      } else {
        await this.onSignal(contact, f);
      }
    }
    // Shown only once stored: the caller commits `ops` before the events reach listeners.
    if (added.length > 0) {
      await this.store.write(ops.splice(0));
      for (const m of added) this.emit({ type: 'message', message: m });
    }
    if (attachments.length > 0) await this.opts.attachments?.frames(contact, attachments, route);
  }

  private async onReceipt(contact: ContactId, id: string, kind: 'delivered' | 'read'): Promise<void> {
    await this.hydrate(this.backlog.take(id));
    let m = this.active.get(id);
    if (!m && kind === 'read') {
      const stored = await this.store.byId('out', id);
      if (stored?.direction === 'out') m = stored;
    }
    if (!m || m.contact !== contact) return;
    if (kind === 'delivered' && (m.status === 'delivered' || m.status === 'read')) return;
    if (kind === 'read' && m.status === 'read') return;
    const { dueAt: _d, failure: _f, ...rest } = m;
    await this.save({ ...rest, status: kind });
  }

  // ---- direct links and signaling --------------------------------------------------------

  /**
   * Reconnection without a message (docs/delivery.md "Links"). A link closed with a reload,
   * a lock or a network change cannot be resumed: browsers keep no ICE or DTLS state across
   * a page, and between two browsers there is no server to find the other again, so a fresh
   * offer goes on chain. Each goes at once and alone in its transaction (see `flush`), so a
   * reconnection never puts two contacts in one publication (docs/privacy.md).
   */
  private async reconnectRecent(): Promise<void> {
    const within = this.settings.reconnectWithinMs;
    if (!this.opts.peers || within <= 0 || this.settings.maxReconnects <= 0) return;
    const { seen, refused } = await this.store.seenLinks();
    for (const e of refused) this.report(e);
    const now = this.clock.now();
    const recent = [...seen]
      .filter(([c, at]) => now - at <= within && this.opts.contacts.has(c) && !this.state(c).link)
      .sort((a, b) => b[1] - a[1])
      .slice(0, this.settings.maxReconnects);
    for (const [contact] of recent) this.startAttempt(contact, 0);
  }

  /** Starts a connection attempt to `contact` unless one is open or under way. */
  private startAttempt(contact: ContactId, flushAfterMs = this.settings.batchWindowMs, retry = false): void {
    const peers = this.opts.peers;
    const st = this.state(contact);
    if (!peers || st.link) return;
    const linkId = randomBytes(MESSAGE_ID_BYTES);
    const ls: LinkState = { linkId, ours: true, retry, sent: new Set(), timer: undefined };
    const offered: OfferState = { linkId, retry };
    st.link = ls;
    st.offered = offered;
    ls.timer = this.clock.after(this.settings.connectTimeoutMs, () =>
      this.enqueue(() => this.abandonAttempt(contact, linkId)),
    );
    this.connectionChanged(contact);
    peers.offer(contact, linkId).then(
      (description) =>
        this.enqueue(() => {
          if (st.link !== ls) return;
          offered.sentAt = this.clock.now();
          mark('offer-made');
          st.signals.push({ type: 'signal', kind: 'offer', linkId, sentAt: offered.sentAt, description });
          this.scheduleFlush(flushAfterMs);
        }),
      (error: unknown) => {
        this.report(error);
        this.enqueue(() => this.abandonAttempt(contact, linkId));
      },
    );
  }

  /**
   * Ends an attempt that timed out or failed. Its peer may have dropped the signal it needed
   * (an offer read as stale, an answer to an offer already answered, a process that exited),
   * and nothing else would ask again before the next message. If they were heard from while it
   * was under way, one fresh offer follows after the backoff delay, unless this attempt was
   * itself that one (docs/delivery.md "Links"); a contact that is away costs no extra offer.
   */
  private abandonAttempt(contact: ContactId, linkId: Uint8Array): void {
    const st = this.state(contact);
    const ls = st.link;
    if (!ls || !equalBytes(ls.linkId, linkId) || ls.link) return;
    this.dropAttempt(contact);
    this.connectionChanged(contact);
    if (ls.retry || !ls.heard) return;
    this.clock.after(this.settings.backoffBaseMs, () =>
      this.enqueue(() => {
        if (this.opts.contacts.has(contact)) this.startAttempt(contact, 0, true);
      }),
    );
  }

  /** Forgets the attempt or link in hand, closing it; no event (the caller decides). */
  private dropAttempt(contact: ContactId): void {
    const st = this.state(contact);
    const ls = st.link;
    if (!ls) return;
    ls.timer?.cancel();
    st.link = undefined;
    if (ls.link) ls.link.close();
    else this.opts.peers?.abandon(contact, ls.linkId);
  }

  /**
   * True when our own attempt yields to their offer in glare. The side with the smaller id
   * keeps its own, but only while that offer is one the other side still takes. Once it is
   * older than `signalMaxAgeMs` they ignore it as stale; once they have answered it, an offer
   * of theirs means the process that answered is gone (an engine answering makes no offer).
   * Keeping ours then would leave both sides waiting.
   */
  private yieldsTo(contact: ContactId): boolean {
    if (this.opts.contacts.self > contact) return true;
    const offered = this.state(contact).offered;
    if (offered?.answer !== undefined) return true;
    return offered?.sentAt !== undefined && this.clock.now() - offered.sentAt > this.settings.signalMaxAgeMs;
  }

  private async onSignal(contact: ContactId, f: DeliveryFrame & { type: 'signal' }): Promise<void> {
    const peers = this.opts.peers;
    if (!peers) return;
    const st = this.state(contact);
    const fresh = this.clock.now() - f.sentAt <= this.settings.signalMaxAgeMs;
    if (f.kind === 'answer') {
      mark('answer-received');
      const offered = st.offered;
      if (!offered || !equalBytes(offered.linkId, f.linkId)) return;
      const ls = st.link;
      if (offered.answer === undefined) {
        if (!ls?.ours || ls.link || !equalBytes(ls.linkId, f.linkId)) return;
        offered.answer = f.description;
        peers.complete(contact, f.linkId, f.description).catch((error: unknown) => {
          this.report(error);
          this.enqueue(() => this.abandonAttempt(contact, ls.linkId));
        });
        return;
      }
      // A second, different answer to the same offer: the process that wrote the first is gone
      // (a one-shot send, then a chat) and the one that wrote this waits for a link that cannot
      // come from that offer. A fresh offer does it, once per offer made from traffic.
      if (offered.answer === f.description || offered.retry || !fresh) return;
      this.dropAttempt(contact);
      this.startAttempt(contact, 0, true);
      this.connectionChanged(contact);
      return;
    }
    // An offer. Stale ones (caught up after a long absence) are ignored: their sender gave up.
    if (!fresh) return;
    if (st.link?.link) {
      // They lost the link we still think is open (their side restarted): take the new one.
      this.dropAttempt(contact);
    } else if (st.link?.ours) {
      // Both offered at once (glare): one keeps its own attempt (`yieldsTo`).
      if (!this.yieldsTo(contact)) return;
      this.dropAttempt(contact);
      st.signals = st.signals.filter((s) => !(s.type === 'signal' && s.kind === 'offer'));
    } else if (st.link && equalBytes(st.link.linkId, f.linkId)) {
      return; // the same offer twice (chain duplicate)
    } else if (st.link) {
      this.dropAttempt(contact);
    }
    const ls: LinkState = { linkId: f.linkId, ours: false, retry: false, sent: new Set(), timer: undefined };
    st.link = ls;
    ls.timer = this.clock.after(this.settings.connectTimeoutMs, () =>
      this.enqueue(() => this.abandonAttempt(contact, f.linkId)),
    );
    this.connectionChanged(contact);
    peers.answer(contact, f.linkId, f.description).then(
      (description) =>
        this.enqueue(() => {
          if (st.link !== ls) return;
          st.signals.push({
            type: 'signal',
            kind: 'answer',
            linkId: f.linkId,
            sentAt: this.clock.now(),
            description,
          });
          // The answer goes at once: the offerer is online and waiting.
          this.scheduleFlush(0);
        }),
      (error: unknown) => {
        this.report(error);
        this.enqueue(() => this.abandonAttempt(contact, f.linkId));
      },
    );
  }

  private async onLinkOpened(contact: ContactId, linkId: Uint8Array, link: DirectLink): Promise<void> {
    // Everything undelivered goes over the link (sendDirect), so the contact's backlog is read.
    await this.hydrate(this.backlog.takeContact(contact));
    const st = this.state(contact);
    if (!st.link || !equalBytes(st.link.linkId, linkId)) {
      link.close();
      return;
    }
    st.link.timer?.cancel();
    st.link.link = link;
    mark('link-open');
    // Signals for this contact are moot now that the link is up.
    st.signals = [];
    this.connectionChanged(contact);
    this.opts.attachments?.linked(contact, link);
    this.sendDirect(contact);
    this.rememberSeen(contact);
  }

  /** Records that a link to `contact` is (or was until now) up, for `reconnectRecent`. */
  private rememberSeen(contact: ContactId): void {
    // On the serial queue, after the change in hand, as every other write of the engine.
    this.enqueue(() => this.store.write([this.store.seenOp(contact, this.clock.now())]));
    this.scheduleSeenRefresh();
  }

  /** While links are open, their records are rewritten twice per window, so they stay recent. */
  private scheduleSeenRefresh(): void {
    const within = this.settings.reconnectWithinMs;
    if (this.seenTimer || within <= 0 || this.closed) return;
    this.seenTimer = this.clock.after(Math.max(1_000, Math.floor(within / 2)), () =>
      this.enqueue(async () => {
        this.seenTimer = undefined;
        const linked = [...this.contactState].filter(([, st]) => st.link?.link).map(([c]) => c);
        if (linked.length === 0) return;
        await this.store.write(linked.map((c) => this.store.seenOp(c, this.clock.now())));
        this.scheduleSeenRefresh();
      }),
    );
  }

  private onLinkClosed(contact: ContactId, linkId: Uint8Array): void {
    const st = this.state(contact);
    if (!st.link || !equalBytes(st.link.linkId, linkId)) return;
    if (st.link.link === undefined) {
      // An attempt whose transport gave up before it was up (ICE failed, the connect deadline
      // passed) ends as one that timed out, with the same single offer after the backoff.
      this.abandonAttempt(contact, linkId);
      this.dispatch(contact);
      return;
    }
    st.link.timer?.cancel();
    const wasUp = st.link.link !== undefined;
    st.link.link?.close();
    st.link = undefined;
    if (wasUp) {
      this.rememberSeen(contact);
      this.opts.attachments?.linked(contact, undefined);
    }
    this.connectionChanged(contact);
    // Direct sends without receipt go on chain now; the next send re-establishes the link.
    const now = this.clock.now();
    for (const m of this.active.ofContact(contact)) {
      if (m.status === 'sent') this.active.set({ ...m, dueAt: now });
    }
    this.dispatch(contact);
  }
}

function chatFrame(m: OutgoingMessage): DeliveryFrame {
  const f = { type: 'chat', id: hexToBytes(m.id), sentAt: m.sentAt, text: m.text } as const;
  if (m.timer !== undefined) return { ...f, timer: m.timer };
  return m.action === undefined ? f : { ...f, action: frameAction(m.action) };
}

function frameAction(a: MessageAction): FrameAction {
  return a.kind === 'forwarded' ? a : { ...a, target: hexToBytes(a.target) };
}

function recordAction(a: FrameAction): MessageAction {
  return a.kind === 'forwarded' ? a : { ...a, target: bytesToHex(a.target) };
}
