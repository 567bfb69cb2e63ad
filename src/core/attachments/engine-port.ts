/**
 * Attachments through the delivery engine (issue 14): the engine's `AttachmentHook`
 * (delivery/ports.ts). The engine only demultiplexes; this module decides what an
 * attachment frame means, with the transfers of transfer.ts over the contact's direct link.
 *
 * The exchange on a link, all sealed except the chunks (direct-frame.ts says why):
 *   sender    manifest (type 16, in a ratchet frame)
 *   recipient status (type 18): the verified chunks it holds; an empty list for a new one
 *   sender    the chunks the status lacks, as direct chunk frames, with the link's
 *             backpressure (RFC 8831 §6.6)
 *   recipient a status every few chunks (the sender's progress) and a final "complete",
 *             which is the attachment's one receipt
 * Resume: whenever a link opens (after a drop, a reload or a restart of either side, since
 * both keep their records in the sealed store), the recipient sends the status of each
 * unfinished incoming attachment and the sender the manifest of each unfinished outgoing one,
 * so whichever side comes back, the sender learns what is missing and sends only that.
 *
 * A link's data channel is reliable and ordered (RFC 8831 §6.6), so chunks written on it do
 * not need resending while it lives: each attachment is served at most once per link, and the
 * statuses that trail a transfer on the same link do not start it again.
 *
 * Hostile input: a status moves only this client's own outgoing attachment to the contact it
 * was sent to; a chunk or manifest is checked by the store (verified before it counts); a
 * frame that does not decode is dropped. Nothing here throws into the engine.
 */
import type { AttachmentBody } from '../envelope/envelope.ts';
import type {
  AttachmentHistory,
  AttachmentHook,
  ContactId,
  DirectLink,
  SessionPort,
} from '../delivery/ports.ts';
import type { Route } from '../delivery/messages.ts';
import { DeliveryError } from '../delivery/errors.ts';
import { bytesToHex } from '../../util/bytes.ts';
import { prepareAttachment, type AttachmentInfo } from './cipher.ts';
import { decodeDirectChunk, encodeDirectChunk, isDirectChunk } from './direct-frame.ts';
import { AttachmentError } from './errors.ts';
import { ChainPath, type ChainPathOptions } from './chain-path.ts';
import { planChain, type ChainPlan, type ChainPrices } from './chain-plan.ts';
import { resolveLimits, type AttachmentLimits } from './limits.ts';
import { encodeManifest, type AttachmentId, type Manifest } from './manifest.ts';
import { decodeStatus, encodeStatus, type AttachmentStatus } from './status.ts';
import type { AttachmentRecord, AttachmentStore } from './store.ts';
import { OutgoingTransfer, TransferInbox, type InboxEvent, type TransferPort } from './transfer.ts';

/** What the UI hears (it re-reads the store for what it shows). */
export type AttachmentEvent =
  | InboxEvent
  /** Chunks of an outgoing attachment handed to the link, of its total. */
  | {
      readonly type: 'sent';
      readonly contact: ContactId;
      readonly id: AttachmentId;
      readonly sent: number;
      readonly total: number;
    }
  /** Something that arrived could not be read at all (no attachment to pin it on). */
  | { readonly type: 'error'; readonly contact: ContactId; readonly error: Error };

/** Options of `AttachmentService`. */
export interface AttachmentServiceOptions {
  readonly store: AttachmentStore;
  /** The same sessions the engine uses (sealing advances the contact's ratchet). */
  readonly sessions: SessionPort;
  readonly limits?: Partial<AttachmentLimits>;
  readonly listener?: (e: AttachmentEvent) => void;
  readonly clock?: () => number;
  /** Chunks queued on a link at once (transfer.ts). @default 32 */
  readonly window?: number;
  /** Recipient's status every this many chunks. @default 16 */
  readonly statusEvery?: number;
  /** The chain path's timings and bounds (chain-path.ts). */
  readonly chainPath?: ChainPathOptions;
  /**
   * Asks for a direct link to a contact (the engine's `connect`): "send now" tries it first,
   * since a link that opens carries the file at no cost. Without it "send now" goes on chain.
   */
  readonly connect?: (contact: ContactId) => Promise<void>;
  /** How long "send now" waits for the link it asked for. @default 5_000 */
  readonly linkWaitMs?: number;
}

/** How `send` treats a contact without an open link. */
export interface SendChoice {
  /**
   * True: publish on chain now (paid, `planChain` says how much); false: wait until a link
   * opens (the default, free). A waiting attachment can be sent now later (`sendNow`).
   */
  readonly now?: boolean;
}

/** One client's attachments: what the app calls, and the hook the engine calls. */
export class AttachmentService implements AttachmentHook {
  private readonly links = new Map<ContactId, DirectLink>();
  /** Outgoing attachments being sent, by id hex, with the link they are served on. */
  private readonly running = new Map<string, { link: DirectLink; abort: AbortController }>();
  /** The link each outgoing attachment was last served on (once per link, module doc). */
  private readonly served = new Map<string, DirectLink>();
  private readonly inbox: TransferInbox;
  private readonly limits: AttachmentLimits;
  private work: Promise<void> = Promise.resolve();
  /** "Send now" calls waiting for a link they asked for, by contact. */
  private readonly linkWaiters = new Map<ContactId, (() => void)[]>();
  /** The engine's message store, where each attachment is a message (`bind`). */
  private history: AttachmentHistory | undefined;
  /** The chain path (the engine's `AttachmentHook.chain`). */
  readonly chain: ChainPath;

  constructor(private readonly opts: AttachmentServiceOptions) {
    this.limits = resolveLimits(opts.limits);
    this.inbox = new TransferInbox(opts.store, {
      limits: this.limits,
      ...(opts.statusEvery === undefined ? {} : { statusEvery: opts.statusEvery }),
      listener: (e) => this.emit(e),
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
    this.chain = new ChainPath(opts.store, {
      ...opts.chainPath,
      // Chain progress as chunks handed on, like the direct path's (the manifest is slot 0).
      published: (contact, id, published, total) => {
        this.emit({ type: 'sent', contact, id, sent: Math.max(0, published - 1), total: total - 1 });
        opts.chainPath?.published?.(contact, id, published, total);
      },
      manifestPublished: (contact, id, txId) => {
        this.later(contact, async () => this.history?.progress(bytesToHex(id), 'published', txId));
        opts.chainPath?.manifestPublished?.(contact, id, txId);
      },
      failed: (contact, id, reason) => {
        this.emit({
          type: 'error',
          contact,
          error: new AttachmentError('INCOMPLETE', `attachment ${bytesToHex(id)} is ${reason}`),
        });
        opts.chainPath?.failed?.(contact, id, reason);
      },
    });
  }

  /** The limits in force (shown before sending). */
  get settings(): AttachmentLimits {
    return this.limits;
  }

  /**
   * Encrypts and stores `bytes` as an attachment to `contact`, and offers it at once when a
   * link is open (else when one opens). AttachmentError EMPTY, TOO_LARGE, BAD_MANIFEST or
   * STORAGE_FULL before anything is sent.
   */
  async send(
    contact: ContactId,
    bytes: Uint8Array,
    info: AttachmentInfo,
    choice: SendChoice = {},
  ): Promise<Manifest> {
    if (typeof contact !== 'string' || contact.length === 0)
      throw new TypeError('"contact" expected a string');
    if (choice.now && bytes.length > this.limits.maxChainBytes) throw this.tooLargeForChain(bytes.length);
    const { manifest, chunks } = prepareAttachment(bytes, info, this.limits);
    await this.opts.store.addOutgoing(contact, manifest, chunks, this.now());
    await this.history?.add(contact, bytesToHex(manifest.id), 'out');
    if (choice.now) await this.chain.choose(manifest.id);
    if (this.links.has(contact)) this.later(contact, () => this.offer(contact, manifest));
    return manifest;
  }

  /**
   * Sends waiting attachment `id` now: first by asking for a direct link (`connect`), and if
   * none opens within `linkWaitMs`, on chain (paid: show `chainPlan` first). Resolves with the
   * path it takes; once the link is up the transfer starts by itself (`linked`).
   * AttachmentError UNKNOWN_ATTACHMENT, or TOO_LARGE over `maxChainBytes` (before any wait).
   */
  async sendNow(id: AttachmentId): Promise<Route> {
    const r = await this.opts.store.record(id);
    if (!r || r.direction !== 'out')
      throw new AttachmentError('UNKNOWN_ATTACHMENT', `no outgoing attachment ${bytesToHex(id)}`);
    if (r.manifest.size > this.limits.maxChainBytes) throw this.tooLargeForChain(r.manifest.size);
    if (await this.linkSoon(r.contact)) return 'direct';
    await this.chain.choose(id);
    return 'chain';
  }

  /** Whether a link to `contact` is open, or opens within `linkWaitMs` of asking for one. */
  private async linkSoon(contact: ContactId): Promise<boolean> {
    if (this.links.has(contact)) return true;
    const connect = this.opts.connect;
    if (!connect) return false;
    const waitMs = this.opts.linkWaitMs ?? 5_000;
    const opened = new Promise<void>((resolve) => {
      const list = this.linkWaiters.get(contact) ?? [];
      list.push(resolve);
      this.linkWaiters.set(contact, list);
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)));
    await connect(contact).catch(() => undefined);
    await Promise.race([opened, timedOut]);
    clearTimeout(timer);
    return this.links.has(contact);
  }

  /** What sending outgoing attachment `id` on chain costs at `prices` (chain-plan.ts). */
  async chainPlan(id: AttachmentId, prices: ChainPrices): Promise<ChainPlan> {
    const r = await this.opts.store.record(id);
    if (!r) throw new AttachmentError('UNKNOWN_ATTACHMENT', `no attachment ${bytesToHex(id)}`);
    return planChain(r.manifest, encodeManifest(r.manifest).length, prices);
  }

  /**
   * Cancels attachment `id` on this side (either direction) and tells the contact when a
   * link is open. AttachmentError UNKNOWN_ATTACHMENT for an id this client does not hold.
   */
  async cancel(id: AttachmentId): Promise<void> {
    const r = await this.opts.store.record(id);
    if (!r) throw new AttachmentError('UNKNOWN_ATTACHMENT', `no attachment ${bytesToHex(id)}`);
    this.running.get(bytesToHex(id))?.abort.abort();
    await this.chain.forget(bytesToHex(id));
    await this.opts.store.cancel(id);
    await this.port(r.contact)
      .send({ type: 'attachment-status', status: encodeStatus({ id, state: 'cancelled', have: [] }) })
      .catch(() => undefined);
  }

  /** The verified bytes of a complete attachment (store.ts `read`). */
  read(id: AttachmentId): Promise<Uint8Array> {
    return this.opts.store.read(id);
  }

  /** The records of `contact`'s attachments, oldest first. */
  async list(contact: ContactId): Promise<AttachmentRecord[]> {
    return (await this.opts.store.list(contact)).sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Resolves once everything that arrived so far is processed. */
  idle(): Promise<void> {
    return this.work;
  }

  // ---- AttachmentHook ----------------------------------------------------------------------

  bind(history: AttachmentHistory): void {
    this.history = history;
  }

  claim(contact: ContactId, bytes: Uint8Array): boolean {
    if (!isDirectChunk(bytes)) return false;
    let chunk;
    try {
      chunk = decodeDirectChunk(bytes);
    } catch (e) {
      this.emit({ type: 'error', contact, error: e as Error });
      return true;
    }
    const port = this.port(contact);
    this.later(contact, () => this.inbox.receive(contact, { type: 'attachment-chunk', ...chunk }, port));
    return true;
  }

  frames(contact: ContactId, bodies: readonly AttachmentBody[], route: Route): Promise<void> {
    const port = this.port(contact);
    for (const body of bodies) {
      this.later(contact, async () => {
        if (body.type === 'attachment-status') return this.onStatus(contact, decodeStatus(body.status));
        if (route === 'chain') return this.fromChain(contact, body, port);
        await this.inbox.receive(contact, body, port);
        if (body.type !== 'attachment-manifest') return;
        // The answer to a manifest: what is held of it, from which the sender starts.
        const id = body.manifest.subarray(1, 17) as AttachmentId;
        const r = await this.opts.store.record(id);
        if (r?.direction !== 'in' || r.contact !== contact) return;
        await this.history?.add(contact, bytesToHex(id), 'in', route);
        await port.send({
          type: 'attachment-status',
          status: encodeStatus(await this.opts.store.status(id)),
        });
      });
    }
    return Promise.resolve();
  }

  linked(contact: ContactId, link: DirectLink | undefined): void {
    if (!link) {
      const closed = this.links.get(contact);
      this.links.delete(contact);
      // A transfer on the closed link stops; the next link resumes it from the status.
      for (const [, t] of this.running) if (t.link === closed) t.abort.abort();
      // What waited on chain while the link was up goes out there now.
      this.chain.wakeDue(contact);
      return;
    }
    this.links.set(contact, link);
    for (const resolve of this.linkWaiters.get(contact) ?? []) resolve();
    this.linkWaiters.delete(contact);
    const port = this.port(contact);
    this.later(contact, async () => {
      await this.inbox.resume(contact, port);
      for (const r of await this.list(contact)) {
        if (r.direction === 'out' && r.state === 'transferring') await this.offer(contact, r.manifest);
      }
    });
  }

  // ---- internals ---------------------------------------------------------------------------

  private async offer(contact: ContactId, m: Manifest): Promise<void> {
    await this.port(contact).send({ type: 'attachment-manifest', manifest: encodeManifest(m) });
    await this.history?.progress(bytesToHex(m.id), 'sent');
  }

  /**
   * An attachment body that came by chain: chunks read before their manifest wait for it
   * (chain order is not publication order), and the sender is owed a status on chain.
   */
  private async fromChain(contact: ContactId, body: AttachmentBody, port: TransferPort): Promise<void> {
    if (body.type === 'attachment-status') return;
    const id = (
      body.type === 'attachment-manifest' ? body.manifest.subarray(1, 17) : body.attachmentId
    ) as AttachmentId;
    if (body.type === 'attachment-chunk' && !(await this.opts.store.record(id))) {
      this.chain.keepEarly(contact, body);
      return;
    }
    await this.inbox.receive(contact, body, port, true);
    if (body.type === 'attachment-manifest')
      for (const early of this.chain.takeEarly(contact, id))
        await this.inbox.receive(contact, early, port, true);
    const r = await this.opts.store.record(id);
    if (r?.direction !== 'in' || r.contact !== contact) return;
    if (body.type === 'attachment-manifest') await this.history?.add(contact, bytesToHex(id), 'in', 'chain');
    this.chain.owe(contact, id, r.state !== 'transferring');
  }

  private async onStatus(contact: ContactId, status: AttachmentStatus): Promise<void> {
    const r = await this.opts.store.record(status.id);
    // Only the contact an attachment is shared with may move it.
    if (!r || r.contact !== contact) return;
    const key = bytesToHex(status.id);
    if (r.direction === 'in') {
      if (status.state === 'cancelled' && r.state === 'transferring') await this.opts.store.cancel(status.id);
      return;
    }
    await this.chain.status(contact, status);
    // Heard once the store says it: a listener re-reads the record for what it shows.
    if (status.state === 'complete') {
      await this.opts.store.delivered(status.id);
      this.emit({ type: 'status', contact, status });
      await this.history?.progress(key, 'delivered');
      return;
    }
    if (status.state !== 'receiving') {
      this.running.get(key)?.abort.abort();
      if (r.state === 'transferring') await this.opts.store.cancel(status.id);
      this.emit({ type: 'status', contact, status });
      return;
    }
    this.emit({ type: 'status', contact, status });
    const link = this.links.get(contact);
    if (r.state !== 'transferring' || !link || this.served.get(key) === link) return;
    this.served.set(key, link);
    const abort = new AbortController();
    this.running.set(key, { link, abort });
    const transfer = new OutgoingTransfer(this.opts.store, this.port(contact), status.id);
    void transfer
      .run(status.have, {
        signal: abort.signal,
        ...(this.opts.window === undefined ? {} : { window: this.opts.window }),
        onSent: (sent, total) => this.emit({ type: 'sent', contact, id: status.id, sent, total }),
      })
      .catch((e: unknown) => {
        // A cancel or a closed link ends this run; the next link's status resumes it.
        if (e instanceof AttachmentError && e.code === 'CANCELLED') return;
        if (e instanceof DeliveryError) return;
        this.emit({ type: 'error', contact, error: e as Error });
      })
      .finally(() => {
        if (this.running.get(key)?.abort === abort) this.running.delete(key);
      });
  }

  /** A port bound to `contact`'s current link: it refuses once that link is gone. */
  private port(contact: ContactId): TransferPort {
    const link = this.links.get(contact);
    return {
      send: async (body) => {
        if (!link || this.links.get(contact) !== link)
          throw new DeliveryError('CLOSED', 'no direct link to this contact');
        const messages =
          body.type === 'attachment-chunk'
            ? [encodeDirectChunk({ ...body, attachmentId: body.attachmentId as AttachmentId })]
            : await this.opts.sessions.seal(contact, [{ type: 'attachment', body }]);
        try {
          for (const bytes of messages) await link.send(bytes);
        } catch (e) {
          throw new DeliveryError('CLOSED', 'the link closed during the send', { cause: e });
        }
      },
    };
  }

  /** Runs `task` after what arrived before it, reporting instead of throwing. */
  private later(contact: ContactId, task: () => Promise<unknown>): void {
    this.work = this.work.then(async () => {
      try {
        await task();
      } catch (e) {
        if (e instanceof DeliveryError) return; // the link closed: resumed on the next one
        this.emit({ type: 'error', contact, error: e as Error });
      }
    });
  }

  private tooLargeForChain(size: number): AttachmentError {
    return new AttachmentError(
      'TOO_LARGE',
      `${size} bytes exceed the limit of ${this.limits.maxChainBytes} bytes for sending while your contact is offline`,
    );
  }

  private now(): number {
    return this.opts.clock?.() ?? Date.now();
  }

  private emit(e: AttachmentEvent): void {
    try {
      this.opts.listener?.(e);
    } catch {
      // A failing listener must not stop a transfer.
    }
  }
}
