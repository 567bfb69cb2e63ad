/**
 * Attachments on the chain path (issue 14 "Chain path when the contact is offline"): the
 * delivery engine's `AttachmentChainHook` (delivery/ports.ts). The engine batches, pays for
 * and publishes the frames this module hands it, and tells it which transaction took them
 * (or that one left the chain); this module decides what is due.
 *
 * Sender, for each attachment the user chose to send now (the default waits for a link):
 * the manifest and every chunk ride ratchet frames (envelope types 16 and 17) in chain
 * payloads within the engine's `maxPayloadBytes` (NOTES §2), one chunk per transaction at
 * the default sizes (chain-plan.ts). Each piece is published once, then again only when
 *  - the recipient's status (type 18) still lacks it `resendAfterMs` after its publication
 *    (lost, refused as tampered, or read before its manifest and dropped),
 *  - its transaction left the chain in a reorganisation (`dropped`), or
 *  - `republishAfterMs` passed without the recipient's "complete", below the ~30 h a node
 *    keeps payloads (NOTES §3), at most `maxPublications` times; then the attachment fails
 *    as undeliverable, and says so.
 * What was published is stored (docs/protocol.md "Attachment chain record") after each
 * publication, so a restart resumes with what was not, without paying twice for the rest.
 *
 * Recipient: every chain arrival carrying attachment frames owes the sender a status, which
 * rides the engine's next flush to that contact (several arrivals in one batch window share
 * one) and returns a notification coin, as a receipt does for a message (NOTES §1). Chunks
 * read before their manifest (chain order is not publication order) wait in a bounded
 * buffer for it.
 */
import type { AttachmentBody } from '../envelope/envelope.ts';
import type { Clock, Timer } from '../delivery/clock.ts';
import type { AttachmentChainHook, ContactId } from '../delivery/ports.ts';
import { DEFAULT_DELIVERY_SETTINGS } from '../delivery/engine.ts';
import { frameCost } from '../delivery/frames.ts';
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { bytesToHex, hexToBytes } from '../../util/bytes.ts';
import { DecodeError, assertInteger } from '../../util/errors.ts';
import { AttachmentError } from './errors.ts';
import { encodeManifest, type AttachmentId } from './manifest.ts';
import { encodeStatus, type AttachmentStatus } from './status.ts';
import type { AttachmentRecord, AttachmentStore } from './store.ts';

/** Chain record format version (docs/protocol.md "Attachment chain record"). */
export const CHAIN_RECORD_VERSION = 1;

/** What the sender keeps of one attachment sent the chain way; slot 0 is the manifest, slot i + 1 chunk i. */
export interface ChainRecord {
  /** Unix ms of each slot's latest publication; 0 when not published. */
  readonly publishedAt: readonly number[];
  /** Publications of each slot. */
  readonly publications: readonly number[];
  /** Slots the recipient's latest status says it holds. */
  readonly held: readonly boolean[];
}

/** Chain record bytes: u8 version | varuint slots | slots × (u64 publishedAt | u8 publications | u8 held). */
export function encodeChainRecord(r: ChainRecord): Uint8Array {
  const n = r.publishedAt.length;
  if (r.publications.length !== n || r.held.length !== n)
    throw new RangeError('"publishedAt", "publications" and "held" expected the same length');
  const w = new ByteWriter(8 + 10 * n).u8(CHAIN_RECORD_VERSION).varUint(n);
  for (let i = 0; i < n; i++) {
    assertInteger('publishedAt', r.publishedAt[i]!, 0, Number.MAX_SAFE_INTEGER);
    w.u64(r.publishedAt[i]!)
      .u8(Math.min(255, r.publications[i]!))
      .u8(r.held[i] ? 1 : 0);
  }
  return w.finish();
}

/** Decodes a chain record of an attachment of `chunkCount` chunks; DecodeError when it is not one. */
export function decodeChainRecord(bytes: Uint8Array, chunkCount: number): ChainRecord {
  const r = new ByteReader(bytes);
  const version = r.u8('chain record version');
  if (version !== CHAIN_RECORD_VERSION)
    throw new DecodeError('UNKNOWN_VERSION', `attachment chain record version ${version} is not supported`);
  const n = r.varUint('slots');
  if (n !== chunkCount + 1) throw new DecodeError('MALFORMED', `${n} slots for ${chunkCount} chunks`);
  const publishedAt: number[] = [];
  const publications: number[] = [];
  const held: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const at = r.u64('published at');
    if (at > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError('MALFORMED', 'published at');
    publishedAt.push(Number(at));
    publications.push(r.u8('publications'));
    const h = r.u8('held');
    if (h > 1) throw new DecodeError('MALFORMED', 'held');
    held.push(h === 1);
  }
  r.end('attachment chain record');
  return { publishedAt, publications, held };
}

/** Options of `ChainPath`, each with its default. */
export interface ChainPathOptions {
  /**
   * A piece the recipient's status lacks is published again this long after its last
   * publication (it may still be on its way before that). @default 60_000
   */
  readonly resendAfterMs?: number;
  /** Republication without "complete" (the engine's). @default 20 h (delivery engine) */
  readonly republishAfterMs?: number;
  /** Publications of one piece before the attachment fails as undeliverable. @default 4 */
  readonly maxPublications?: number;
  /** Bytes of chunks kept while their manifest has not been read. @default 2 MiB */
  readonly maxEarlyBytes?: number;
  /**
   * The recipient's status waits this long after the latest chain arrival of an unfinished
   * attachment (a final "complete" goes at once), so that one status answers a run of
   * arrivals, a catch-up included, instead of one partial status per transaction. @default 5_000
   */
  readonly statusDelayMs?: number;
  /** Pieces of outgoing `id` published at least once so far, of `total` (its progress). */
  readonly published?: (contact: ContactId, id: AttachmentId, published: number, total: number) => void;
  /** The manifest of outgoing `id` went out in transaction `txId` (hex): the message's proof. */
  readonly manifestPublished?: (contact: ContactId, id: AttachmentId, txId: string) => void;
  /** Reports what the user should hear about (an attachment that failed). */
  readonly failed?: (contact: ContactId, id: AttachmentId, reason: 'undeliverable') => void;
}

/** The chain record of an attachment of `chunkCount` chunks none of whose slots went yet. */
function unpublished(chunkCount: number): ChainRecord {
  const n = chunkCount + 1;
  return {
    publishedAt: new Array<number>(n).fill(0),
    publications: new Array<number>(n).fill(0),
    held: new Array<boolean>(n).fill(false),
  };
}

interface Outgoing {
  readonly contact: ContactId;
  readonly id: AttachmentId;
  readonly createdAt: number;
  record: ChainRecord;
  /** Slots taken by the engine and not yet settled. */
  readonly inflight: Set<number>;
  /** Slots the recipient lacks, due again at the given time. */
  readonly resendAt: Map<number, number>;
}

/** Most transactions one `take` hands the engine (bounded work per flush). */
const MAX_LISTS_PER_TAKE = 32;

/** The chain side of one client's attachments. */
export class ChainPath implements AttachmentChainHook {
  private readonly outgoing = new Map<string, Outgoing>();
  /**
   * Recent transactions that carried attachment frames to `contact`: which slots of which
   * outgoing attachment, and the statuses (owed again if the transaction leaves the chain).
   */
  private readonly txs = new Map<
    string,
    { contact: ContactId; pieces: { key: string; slots: number[] }[]; statuses: AttachmentId[] }
  >();
  /** Statuses owed on chain, by contact and attachment id hex: when each is due. */
  private readonly statusesOwed = new Map<ContactId, Map<string, number>>();
  private readonly early = new Map<string, { contact: ContactId; body: AttachmentBody }[]>();
  private earlyBytes = 0;
  private wake: ((contact: ContactId) => void) | undefined;
  private clock: Clock | undefined;
  private timer: Timer | undefined;
  private timerAt = Infinity;
  private readonly resendAfterMs: number;
  private readonly republishAfterMs: number;
  private readonly maxPublications: number;
  private readonly maxEarlyBytes: number;
  private readonly statusDelayMs: number;

  constructor(
    private readonly store: AttachmentStore,
    private readonly opts: ChainPathOptions = {},
  ) {
    this.resendAfterMs = opts.resendAfterMs ?? 60_000;
    this.republishAfterMs = opts.republishAfterMs ?? DEFAULT_DELIVERY_SETTINGS.republishAfterMs;
    this.maxPublications = opts.maxPublications ?? DEFAULT_DELIVERY_SETTINGS.maxPublications;
    this.maxEarlyBytes = opts.maxEarlyBytes ?? 2 << 20;
    this.statusDelayMs = opts.statusDelayMs ?? 5_000;
    assertInteger('statusDelayMs', this.statusDelayMs, 0, 2 ** 31);
    assertInteger('resendAfterMs', this.resendAfterMs, 0, 2 ** 40);
    assertInteger('republishAfterMs', this.republishAfterMs, 1, 2 ** 40);
    assertInteger('maxPublications', this.maxPublications, 1, 255);
    assertInteger('maxEarlyBytes', this.maxEarlyBytes, 0, 1 << 30);
  }

  // ---- sender ------------------------------------------------------------------------------

  /** Starts following outgoing attachment `id` (`key` in hex, stored as `r`) on the chain path. */
  private track(key: string, id: AttachmentId, r: AttachmentRecord, record: ChainRecord): void {
    // `resendAt` is not stored: after a restart it comes back from the stored `held`. A status
    // was read once the manifest is held; a published slot it lacks is due `resendAfterMs`
    // after its publication, as `status` would have set it (at worst one more publication of
    // a piece already resent after that status).
    const resendAt = new Map<number, number>();
    if (record.held[0])
      for (let slot = 1; slot < record.held.length; slot++)
        if (!record.held[slot] && record.publishedAt[slot]! > 0)
          resendAt.set(slot, record.publishedAt[slot]! + this.resendAfterMs);
    this.outgoing.set(key, {
      contact: r.contact,
      id,
      createdAt: r.createdAt,
      record,
      inflight: new Set(),
      resendAt,
    });
  }

  /** Sends outgoing attachment `id` the chain way from now on (stored; idempotent). */
  async choose(id: AttachmentId): Promise<void> {
    const key = bytesToHex(id);
    if (this.outgoing.has(key)) return;
    const r = await this.store.record(id);
    if (!r || r.direction !== 'out')
      throw new AttachmentError('UNKNOWN_ATTACHMENT', `no outgoing attachment ${key}`);
    if (r.state !== 'transferring') return;
    const record = unpublished(r.manifest.chunkCount);
    await this.store.setChainRecord(id, encodeChainRecord(record));
    this.track(key, id, r, record);
    this.wake?.(r.contact);
  }

  /** Whether `id` goes the chain way. */
  chosen(id: AttachmentId): boolean {
    return this.outgoing.has(bytesToHex(id));
  }

  /** Pieces of `id` published at least once, of all (progress of a chain send). */
  published(id: AttachmentId): { published: number; total: number } | undefined {
    const o = this.outgoing.get(bytesToHex(id));
    if (!o) return undefined;
    return {
      published: o.record.publishedAt.filter((at) => at > 0).length,
      total: o.record.publishedAt.length,
    };
  }

  /** The recipient's status of outgoing `id` (any route): what it holds decides what is due. */
  async status(contact: ContactId, status: AttachmentStatus): Promise<void> {
    const key = bytesToHex(status.id);
    const o = this.outgoing.get(key);
    if (!o || o.contact !== contact) return;
    if (status.state !== 'receiving') {
      await this.forget(key);
      return;
    }
    const held = o.record.held.map(() => false);
    held[0] = true; // a status answers the manifest
    for (const run of status.have)
      for (let i = run.start; i < Math.min(run.start + run.count, held.length - 1); i++) held[i + 1] = true;
    o.record = { ...o.record, held };
    const now = this.now();
    for (let slot = 1; slot < held.length; slot++) {
      if (held[slot]) o.resendAt.delete(slot);
      else if (o.record.publishedAt[slot]! > 0 && !o.resendAt.has(slot))
        o.resendAt.set(slot, Math.max(now, o.record.publishedAt[slot]! + this.resendAfterMs));
    }
    await this.save(o);
    this.arm();
    this.wakeDue(contact);
  }

  /** Forgets the chain side of `id` (delivered, cancelled or refused). */
  async forget(key: string): Promise<void> {
    const o = this.outgoing.get(key);
    if (!o) return;
    this.outgoing.delete(key);
    await this.store.setChainRecord(o.id, undefined);
  }

  // ---- recipient ---------------------------------------------------------------------------

  /**
   * A chain arrival touched incoming attachment `id` from `contact`: a status is owed, at once
   * when `final` (complete or refused), else once arrivals pause (`statusDelayMs`).
   */
  owe(contact: ContactId, id: AttachmentId, final: boolean): void {
    const owed = this.statusesOwed.get(contact) ?? new Map<string, number>();
    const delay = final ? 0 : this.statusDelayMs;
    owed.set(bytesToHex(id), this.now() + delay);
    this.statusesOwed.set(contact, owed);
    if (delay === 0 || !this.clock) this.wake?.(contact);
    else this.clock.after(delay, () => this.wake?.(contact));
  }

  /**
   * Keeps a chunk read before its manifest; false when it does not fit (it is dropped, and the
   * sender's resend brings it after the status). A full buffer makes room by dropping the
   * attachments waiting longest: chunks whose manifest never comes (a contact's junk, a sender
   * that gave up) must not keep every later early chunk out.
   */
  keepEarly(contact: ContactId, body: AttachmentBody & { type: 'attachment-chunk' }): boolean {
    const bytes = body.sealed.length;
    const key = bytesToHex(body.attachmentId);
    const list = this.early.get(key) ?? [];
    if (list.some((e) => e.contact === contact && e.body.type === body.type && e.body.index === body.index))
      return true;
    for (const [oldest, waiting] of this.early) {
      if (this.earlyBytes + bytes <= this.maxEarlyBytes) break;
      if (oldest === key) continue;
      this.early.delete(oldest);
      for (const e of waiting)
        if (e.body.type === 'attachment-chunk') this.earlyBytes -= e.body.sealed.length;
    }
    if (this.earlyBytes + bytes > this.maxEarlyBytes) return false;
    list.push({ contact, body });
    this.early.set(key, list);
    this.earlyBytes += bytes;
    return true;
  }

  /** The chunks of `id` from `contact` kept before its manifest, taken. */
  takeEarly(contact: ContactId, id: AttachmentId): AttachmentBody[] {
    const key = bytesToHex(id);
    const list = this.early.get(key) ?? [];
    this.early.delete(key);
    const out: AttachmentBody[] = [];
    for (const e of list) {
      if (e.body.type === 'attachment-chunk') this.earlyBytes -= e.body.sealed.length;
      if (e.contact === contact) out.push(e.body);
    }
    return out;
  }

  // ---- AttachmentChainHook -----------------------------------------------------------------

  async start(wake: (contact: ContactId) => void, clock: Clock): Promise<void> {
    this.wake = wake;
    this.clock = clock;
    for (const [id, bytes] of await this.store.chainRecords()) {
      const key = bytesToHex(id);
      const r = await this.store.record(id);
      if (!r || r.direction !== 'out' || r.state !== 'transferring') {
        await this.store.setChainRecord(id, undefined);
        continue;
      }
      let record: ChainRecord;
      try {
        record = decodeChainRecord(bytes, r.manifest.chunkCount);
      } catch {
        // An unreadable record costs a republication of everything, never the attachment.
        record = unpublished(r.manifest.chunkCount);
      }
      this.track(key, id, r, record);
    }
    this.arm();
    this.wakeDue();
    // Statuses owed by what the catch-up read before the engine's chain path ran.
    for (const [contact, owed] of this.statusesOwed) {
      const last = Math.max(...owed.values());
      const delay = Math.max(0, last - this.now());
      if (delay === 0) wake(contact);
      else clock.after(delay, () => wake(contact));
    }
  }

  /** Asks the engine for a flush towards every contact with pieces due now. */
  wakeDue(contact?: ContactId): void {
    const now = this.now();
    for (const o of this.outgoing.values())
      if ((contact === undefined || o.contact === contact) && this.dueSlots(o, now).length > 0)
        this.wake?.(o.contact);
  }

  async take(contact: ContactId, budget: number): Promise<readonly (readonly AttachmentBody[])[]> {
    const bodies: { body: AttachmentBody; key?: string; slot?: number }[] = [];
    const now = this.now();
    const owed = this.statusesOwed.get(contact);
    for (const [hex, dueAt] of owed ?? []) {
      if (dueAt > now) continue;
      owed!.delete(hex);
      const id = hexToBytes(hex) as AttachmentId;
      const r = await this.store.record(id);
      if (r?.direction === 'in' && r.contact === contact)
        bodies.push({
          body: { type: 'attachment-status', status: encodeStatus(await this.store.status(id)) },
        });
    }
    if (owed?.size === 0) this.statusesOwed.delete(contact);
    const mine = [...this.outgoing.entries()]
      .filter(([, o]) => o.contact === contact)
      .sort(([, a], [, b]) => a.createdAt - b.createdAt);
    for (const [key, o] of mine) {
      if (await this.expire(key, o, now)) continue;
      const due = this.dueSlots(o, now);
      if (due.length === 0) continue;
      const r = await this.store.record(o.id);
      if (!r) continue;
      for (const slot of due) {
        if (bodies.length >= MAX_LISTS_PER_TAKE * 2) break;
        const body: AttachmentBody =
          slot === 0
            ? { type: 'attachment-manifest', manifest: encodeManifest(r.manifest) }
            : {
                type: 'attachment-chunk',
                attachmentId: o.id,
                index: slot - 1,
                sealed: await this.store.chunk(o.id, slot - 1),
              };
        o.inflight.add(slot);
        o.resendAt.delete(slot);
        bodies.push({ body, key, slot });
      }
    }
    // Greedy packing in order: the manifest and statuses share a transaction with what fits.
    const lists: AttachmentBody[][] = [];
    let size = Infinity;
    for (const { body, key, slot } of bodies) {
      const cost = frameCost({ type: 'attachment', body });
      if (lists.length >= MAX_LISTS_PER_TAKE && size + cost > budget) {
        // Over the per-flush bound: back to due, taken at the next flush.
        if (key !== undefined && slot !== undefined) this.outgoing.get(key)?.inflight.delete(slot);
        continue;
      }
      if (size + cost > budget) {
        lists.push([]);
        size = 0;
      }
      lists.at(-1)!.push(body);
      size += cost;
    }
    if (lists.length >= MAX_LISTS_PER_TAKE) this.wake?.(contact);
    return lists;
  }

  async settled(
    contact: ContactId,
    bodies: readonly AttachmentBody[],
    txId: string | undefined,
  ): Promise<void> {
    const now = this.now();
    const touched = new Map<string, number[]>();
    const statuses: AttachmentId[] = [];
    for (const b of bodies) {
      if (b.type === 'attachment-status') {
        // A status that did not go out is owed again; one that did, if its transaction is dropped.
        const id = b.status.subarray(1, 17) as AttachmentId;
        if (txId === undefined) this.owe(contact, id, true);
        else statuses.push(id);
        continue;
      }
      const id = b.type === 'attachment-manifest' ? b.manifest.subarray(1, 17) : b.attachmentId;
      const key = bytesToHex(id);
      const slots = touched.get(key) ?? [];
      slots.push(b.type === 'attachment-manifest' ? 0 : b.index + 1);
      touched.set(key, slots);
    }
    for (const [key, slots] of touched) {
      const o = this.outgoing.get(key);
      if (!o) continue;
      for (const s of slots) o.inflight.delete(s);
      if (txId === undefined) continue;
      const publishedAt = o.record.publishedAt.slice();
      const publications = o.record.publications.slice();
      for (const s of slots) {
        publishedAt[s] = now;
        publications[s] = publications[s]! + 1;
      }
      o.record = { ...o.record, publishedAt, publications };
      await this.save(o);
      const done = publishedAt.filter((at) => at > 0).length;
      try {
        if (slots.includes(0)) this.opts.manifestPublished?.(o.contact, o.id, txId);
        this.opts.published?.(o.contact, o.id, done, publishedAt.length);
      } catch {
        // A failing listener must not stop the publication.
      }
    }
    if (txId !== undefined) {
      const pieces = [...touched].map(([key, slots]) => ({ key, slots }));
      this.txs.set(txId, { contact, pieces, statuses });
      if (this.txs.size > 4096) this.txs.delete(this.txs.keys().next().value!);
    } else if (touched.size > 0) {
      // The engine reports the failure itself; the pieces are due again after a pause.
      this.clock?.after(DEFAULT_DELIVERY_SETTINGS.backoffBaseMs, () => this.wake?.(contact));
    }
    this.arm();
  }

  async dropped(txId: string): Promise<void> {
    const tx = this.txs.get(txId);
    if (!tx) return;
    this.txs.delete(txId);
    // As the engine owes a dropped transaction's receipts again (delivery/engine.ts onDropped).
    for (const id of tx.statuses) this.owe(tx.contact, id, true);
    for (const { key, slots } of tx.pieces) {
      const o = this.outgoing.get(key);
      if (!o) continue;
      const publishedAt = o.record.publishedAt.slice();
      for (const s of slots) publishedAt[s] = 0;
      o.record = { ...o.record, publishedAt };
      await this.save(o);
      this.wake?.(o.contact);
    }
  }

  // ---- internals ---------------------------------------------------------------------------

  /** Slots of `o` due at `now`, manifest first. */
  private dueSlots(o: Outgoing, now: number): number[] {
    const out: number[] = [];
    const { publishedAt, held } = o.record;
    for (let slot = 0; slot < publishedAt.length; slot++) {
      if (held[slot] || o.inflight.has(slot)) continue;
      const at = publishedAt[slot]!;
      const resend = o.resendAt.get(slot);
      if (at === 0 || now >= at + this.republishAfterMs || (resend !== undefined && now >= resend))
        out.push(slot);
    }
    return out;
  }

  /** Fails `o` once a piece it still lacks was published `maxPublications` times and its last deadline passed. */
  private async expire(key: string, o: Outgoing, now: number): Promise<boolean> {
    const spent = o.record.publishedAt.some(
      (at, slot) =>
        !o.record.held[slot] &&
        o.record.publications[slot]! >= this.maxPublications &&
        now >= at + this.republishAfterMs,
    );
    if (!spent) return false;
    await this.forget(key);
    await this.store.fail(o.id, 'UNDELIVERABLE');
    this.opts.failed?.(o.contact, o.id, 'undeliverable');
    return true;
  }

  /** One timer at the next instant a piece falls due; it wakes the engine for its contact. */
  private arm(): void {
    if (!this.clock) return;
    // Only instants still ahead: what is due now rides the flush already asked for (or the
    // next one, once a link that holds it back closes).
    const now = this.now();
    let next = Infinity;
    const consider = (t: number): void => {
      if (t > now) next = Math.min(next, t);
    };
    for (const o of this.outgoing.values()) {
      for (let slot = 0; slot < o.record.publishedAt.length; slot++) {
        if (o.record.held[slot] || o.inflight.has(slot)) continue;
        const at = o.record.publishedAt[slot]!;
        if (at > 0) consider(at + this.republishAfterMs);
        const resend = o.resendAt.get(slot);
        if (resend !== undefined) consider(resend);
      }
    }
    if (next === Infinity || next >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = next;
    this.timer = this.clock.after(next - now, () => {
      this.timerAt = Infinity;
      this.timer = undefined;
      this.wakeDue();
      this.arm();
    });
  }

  private async save(o: Outgoing): Promise<void> {
    if (this.outgoing.get(bytesToHex(o.id)) !== o) return;
    await this.store.setChainRecord(o.id, encodeChainRecord(o.record));
  }

  private now(): number {
    return this.clock?.now() ?? Date.now();
  }
}
