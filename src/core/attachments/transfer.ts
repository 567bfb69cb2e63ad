/**
 * Moving attachment chunks over a direct link (issue 14 "Direct path"), behind one small
 * port so the delivery engine or any other carrier supplies the sealing and the link.
 *
 * Sender: `OutgoingTransfer` sends the chunks the recipient lacks, keeping up to `window`
 * sends queued on the link so that its data channel never idles between chunks (the link
 * applies backpressure itself: `PeerLink.send` waits while the channel's buffered amount is
 * above its high-water mark, RFC 8831 §6.6). A cancelled signal or a link that fails stops
 * it; it resumes from the recipient's status (envelope type 18), which lists the verified
 * chunks the recipient holds, after a dropped link or a reload on either side.
 *
 * Recipient: `TransferInbox` verifies and stores each chunk (store.ts) and reports its status
 * every `statusEvery` chunks and at the end, which drives the sender's progress bar.
 */
import type { AttachmentBody } from '../envelope/envelope.ts';
import { bytesToHex } from '../../util/bytes.ts';
import { assertInteger } from '../../util/errors.ts';
import { AttachmentError } from './errors.ts';
import { decodeManifest, type AttachmentId, type Manifest } from './manifest.ts';
import { decodeStatus, encodeStatus, missingFrom, type AttachmentStatus, type ChunkRun } from './status.ts';
import type { AttachmentStore, Progress } from './store.ts';
import type { AttachmentLimits } from './limits.ts';
import { resolveLimits } from './limits.ts';

/** The envelope bodies of attachments (envelope.ts types 16-18). */
export type { AttachmentBody };

/** Where transfers write: one contact's session over its direct link. */
export interface TransferPort {
  /**
   * Seals `body` in an envelope for the contact and queues it on the link. Resolves once it
   * is handed to the link (after its backpressure), rejects when the link is gone.
   */
  send(body: AttachmentBody): Promise<void>;
}

/** Options of `OutgoingTransfer.run`. */
export interface SendOptions {
  /** Chunks queued on the link at once. @default 32 */
  readonly window?: number;
  /** Stops the transfer (cancel); chunks already queued still go. */
  readonly signal?: AbortSignal;
  /** Called after each chunk is queued, with how many of the total are queued. */
  readonly onSent?: (sent: number, total: number) => void;
}

/** Sends the chunks of one outgoing attachment the recipient does not hold. */
export class OutgoingTransfer {
  constructor(
    private readonly store: AttachmentStore,
    private readonly port: TransferPort,
    readonly id: AttachmentId,
  ) {}

  /**
   * Sends every chunk not in `have` (the recipient's runs; empty for a new transfer), in
   * index order. Resolves with how many were sent; AttachmentError CANCELLED when `signal`
   * aborts; the port's error when the link fails (then resume with the next status).
   */
  async run(have: readonly ChunkRun[] = [], options: SendOptions = {}): Promise<number> {
    const window = options.window ?? 32;
    assertInteger('window', window, 1, 4096);
    const record = await this.store.record(this.id);
    if (!record || record.direction !== 'out')
      throw new AttachmentError('UNKNOWN_ATTACHMENT', `no outgoing attachment ${bytesToHex(this.id)}`);
    if (record.state === 'cancelled') throw new AttachmentError('CANCELLED', 'the transfer was cancelled');
    const total = record.manifest.chunkCount;
    const todo = missingFrom(have, total);
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    let sent = total - todo.length;
    for (const index of todo) {
      if (options.signal?.aborted) throw new AttachmentError('CANCELLED', 'the transfer was cancelled');
      if (failure !== undefined) break;
      const sealed = await this.store.chunk(this.id, index);
      const p = this.port.send({ type: 'attachment-chunk', attachmentId: this.id, index, sealed }).then(
        () => {
          sent += 1;
          options.onSent?.(sent, total);
        },
        (e: unknown) => {
          failure ??= e;
        },
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      // Enough queued: wait for the oldest to enter the channel before adding more, so memory
      // stays bounded by `window` chunks whatever the file size.
      if (inFlight.size >= window) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    return todo.length;
  }
}

/** What a recipient's inbox reports to its owner (the UI re-reads the store). */
export type InboxEvent =
  | { readonly type: 'progress'; readonly contact: string; readonly progress: Progress }
  | {
      readonly type: 'refused';
      readonly contact: string;
      readonly id: AttachmentId;
      readonly error: AttachmentError;
    }
  | { readonly type: 'status'; readonly contact: string; readonly status: AttachmentStatus };

/** Options of `TransferInbox`. */
export interface InboxOptions {
  readonly limits?: Partial<AttachmentLimits>;
  /** Send a status after this many new chunks (and always at the end). @default 16 */
  readonly statusEvery?: number;
  readonly listener?: (e: InboxEvent) => void;
  readonly clock?: () => number;
}

/**
 * One client's handling of attachment envelopes from contacts: manifests, chunks (verified,
 * stored, acknowledged by status) and the statuses that answer its own transfers. A refused
 * manifest or chunk is reported and answered with a "refused" status; it affects nothing else.
 */
export class TransferInbox {
  private readonly limits: AttachmentLimits;
  private readonly statusEvery: number;
  private readonly sinceStatus = new Map<string, number>();

  constructor(
    private readonly store: AttachmentStore,
    private readonly options: InboxOptions = {},
  ) {
    this.limits = resolveLimits(options.limits);
    this.statusEvery = options.statusEvery ?? 16;
    assertInteger('statusEvery', this.statusEvery, 1, 1 << 20);
  }

  /** Handles one attachment body from `contact`, answering through `port`. */
  async receive(contact: string, body: AttachmentBody, port: TransferPort, onChain = false): Promise<void> {
    if (body.type === 'attachment-status') {
      const status = decodeStatus(body.status);
      if (status.state === 'complete') await this.store.delivered(status.id).catch(() => undefined);
      this.emit({ type: 'status', contact, status });
      return;
    }
    let id: AttachmentId | undefined;
    try {
      if (body.type === 'attachment-manifest') {
        const m: Manifest = decodeManifest(body.manifest, this.limits, onChain);
        id = m.id;
        const progress = await this.store.addIncoming(contact, m, this.options.clock?.() ?? Date.now());
        this.emit({ type: 'progress', contact, progress });
        return;
      }
      id = body.attachmentId as AttachmentId;
      const outcome = await this.store.receiveChunk(contact, id, body.index, body.sealed);
      if (outcome.duplicate) return;
      this.emit({ type: 'progress', contact, progress: outcome });
      const key = bytesToHex(id);
      const n = (this.sinceStatus.get(key) ?? 0) + 1;
      const done = outcome.received === outcome.total;
      if (done || n >= this.statusEvery) {
        this.sinceStatus.delete(key);
        await port.send({ type: 'attachment-status', status: encodeStatus(await this.store.status(id)) });
      } else this.sinceStatus.set(key, n);
    } catch (e) {
      if (!(e instanceof AttachmentError) || id === undefined) throw e;
      this.emit({ type: 'refused', contact, id, error: e });
      // UNKNOWN_ATTACHMENT: chunks before their manifest (another path) wait for it; no refusal.
      if (e.code === 'UNKNOWN_ATTACHMENT' || e.code === 'STORAGE_FULL') return;
      await port
        .send({ type: 'attachment-status', status: encodeStatus({ id, state: 'refused', have: [] }) })
        .catch(() => undefined);
    }
  }

  /**
   * Statuses of every unfinished incoming attachment from `contact`: sent when a link comes
   * back (or after a reload), so each sender resumes from the first missing chunk.
   */
  async resume(contact: string, port: TransferPort): Promise<number> {
    const open = (await this.store.list(contact)).filter(
      (r) => r.direction === 'in' && r.state === 'transferring',
    );
    for (const r of open) {
      await port.send({
        type: 'attachment-status',
        status: encodeStatus(await this.store.status(r.manifest.id)),
      });
    }
    return open.length;
  }

  private emit(e: InboxEvent): void {
    try {
      this.options.listener?.(e);
    } catch {
      // A failing listener must not stop a transfer.
    }
  }
}
