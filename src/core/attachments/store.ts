/**
 * Attachments at rest, over the `KeyValueStore` contract (IndexedDB in the browser, SQLite in
 * Node; values sealed by the encrypted-at-rest wrapper, storage/encrypted.ts). Chunks are kept
 * as they travel, sealed under the attachment key, so a chunk is verified once on arrival and
 * a resumed transfer sends exactly the bytes it stored.
 *
 * Stores and keys (tuple-encoded, storage/keys.ts; record layout in docs/protocol.md
 * "Attachment record"):
 *   attachments.meta    ("a", id)          -> attachment record (manifest, state, chunk bitmap)
 *   attachments.chunks  (id, index)        -> sealed chunk
 * A chunk and the bitmap that counts it are written in one atomic batch, so after a crash or
 * reload the bitmap says exactly which verified chunks are held, and the transfer resumes
 * from there.
 */
import { blake3 } from '@noble/hashes/blake3.js';
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { bytesToHex, bytesToUtf8, equalBytes, utf8ToBytes } from '../../util/bytes.ts';
import { DecodeError, assertBytes, assertInteger } from '../../util/errors.ts';
import { decodeKey, encodeKey } from '../../storage/keys.ts';
import { StorageError } from '../../storage/errors.ts';
import type { BatchOp, KeyValueStore } from '../../storage/types.ts';
import { openChunk } from './cipher.ts';
import { RunningHashes } from './running-hash.ts';
import { AttachmentError } from './errors.ts';
import { MAX_CHUNK_BYTES, MAX_THUMBNAIL_BYTES, resolveLimits, type AttachmentLimits } from './limits.ts';
import {
  MAX_MANIFEST_BYTES,
  chunkLength,
  decodeManifest,
  encodeManifest,
  type AttachmentId,
  type Manifest,
} from './manifest.ts';
import { missingFrom, runsOf, type AttachmentStatus, type TransferState } from './status.ts';

/** Store names; declare them in the application's `StorageSchema`. */
export const ATTACHMENT_STORES = ['attachments.meta', 'attachments.chunks'] as const;
const META = 'attachments.meta';
const CHUNKS = 'attachments.chunks';
/** Attachment record format version. */
export const RECORD_VERSION = 1;
/** Chunks written per atomic batch when an outgoing attachment is stored. */
const WRITE_BATCH = 128;

/** Where an attachment stands on this device. */
export type AttachmentState = 'transferring' | 'complete' | 'cancelled' | 'failed';
const STATES: readonly AttachmentState[] = ['transferring', 'complete', 'cancelled', 'failed'];

/** One attachment as this device keeps it. */
export interface AttachmentRecord {
  readonly direction: 'in' | 'out';
  readonly contact: string;
  readonly manifest: Manifest;
  readonly state: AttachmentState;
  /** Unix ms when first stored. */
  readonly createdAt: number;
  /** Bit i set when chunk i is held and verified (LSB first). */
  readonly have: Uint8Array;
  /** Chunks held. */
  readonly received: number;
  /** Why a transfer failed, as the typed error's code. */
  readonly failure?: string;
}

/** Progress of one transfer, in chunks and bytes. */
export interface Progress {
  readonly id: AttachmentId;
  readonly state: AttachmentState;
  readonly received: number;
  readonly total: number;
  readonly bytes: number;
  readonly size: number;
}

/** The outcome of storing one received chunk. */
export interface ChunkOutcome extends Progress {
  /** True when the chunk was already held (ignored). */
  readonly duplicate: boolean;
}

function popcount(bitmap: Uint8Array): number {
  let n = 0;
  for (const b of bitmap) {
    let x = b;
    while (x) {
      n += x & 1;
      x >>= 1;
    }
  }
  return n;
}

function encodeRecord(r: AttachmentRecord): Uint8Array {
  const manifest = encodeManifest(r.manifest);
  const w = new ByteWriter(64 + manifest.length + r.have.length)
    .u8(RECORD_VERSION)
    .u8(r.direction === 'in' ? 1 : 0)
    .varBytes(utf8ToBytes(r.contact))
    .u8(STATES.indexOf(r.state))
    .u64(r.createdAt)
    .varBytes(manifest)
    .varBytes(r.have)
    .varBytes(utf8ToBytes(r.failure ?? ''));
  return w.finish();
}

function decodeRecord(bytes: Uint8Array, limits: AttachmentLimits): AttachmentRecord {
  try {
    const r = new ByteReader(bytes);
    const version = r.u8('record version');
    if (version !== RECORD_VERSION)
      throw new DecodeError('UNKNOWN_VERSION', `attachment record version ${version} is not supported`);
    const dir = r.u8('direction');
    if (dir > 1) throw new DecodeError('MALFORMED', 'direction');
    const contact = bytesToUtf8(r.varBytes(1024, 'contact'));
    const state = STATES[r.u8('state')];
    if (state === undefined) throw new DecodeError('MALFORMED', 'attachment state');
    const createdAt = Number(r.u64('createdAt'));
    // Our own limits may have shrunk since the record was written: a stored attachment stays
    // readable, so the record is checked against the format's bounds, not today's settings.
    const manifest = decodeManifest(r.varBytes(MAX_MANIFEST_BYTES, 'manifest'), {
      ...limits,
      maxBytes: 2 ** 32,
      maxChainBytes: 2 ** 32,
      maxChunkBytes: MAX_CHUNK_BYTES,
      maxLongTextBytes: 16 << 20,
      maxThumbnailBytes: MAX_THUMBNAIL_BYTES,
      maxVoiceMs: 86_400_000,
    });
    const have = r.varBytes(Math.ceil(manifest.chunkCount / 8), 'chunk bitmap');
    if (have.length !== Math.ceil(manifest.chunkCount / 8))
      throw new DecodeError('MALFORMED', 'chunk bitmap');
    const failure = bytesToUtf8(r.varBytes(64, 'failure'));
    r.end('attachment record');
    return {
      direction: dir === 1 ? 'in' : 'out',
      contact,
      manifest,
      state,
      createdAt,
      have,
      received: popcount(have),
      ...(failure ? { failure } : {}),
    };
  } catch (e) {
    throw new AttachmentError('BAD_MANIFEST', 'a stored attachment record is malformed', { cause: e });
  }
}

function progressOf(r: AttachmentRecord): Progress {
  const m = r.manifest;
  let bytes = 0;
  for (let i = 0; i < m.chunkCount; i++) if (r.have[i >> 3]! & (1 << (i & 7))) bytes += chunkLength(m, i);
  return { id: m.id, state: r.state, received: r.received, total: m.chunkCount, bytes, size: m.size };
}

function megabytes(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1e3))} KB`;
}

/** Typed access to the attachment stores; every change is atomic and serialised. */
export class AttachmentStore {
  private readonly limits: AttachmentLimits;
  private queue: Promise<unknown> = Promise.resolve();
  /** BLAKE3 of each incoming attachment so far, fed as its chunks arrive (running-hash.ts). */
  private readonly hashes = new RunningHashes();

  constructor(
    private readonly db: KeyValueStore,
    limits: Partial<AttachmentLimits> = {},
  ) {
    for (const s of ATTACHMENT_STORES) {
      if (!db.stores.includes(s))
        throw new TypeError(`"db" lacks store "${s}" (declare ATTACHMENT_STORES in its schema)`);
    }
    this.limits = resolveLimits(limits);
  }

  private run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.queue.then(task);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Writes `ops`, turning a full device into words a person can act on. */
  private async write(ops: readonly BatchOp[], m: Manifest): Promise<void> {
    try {
      await this.db.batch(ops);
    } catch (e) {
      if (e instanceof StorageError && e.code === 'QUOTA_EXCEEDED') {
        throw new AttachmentError(
          'STORAGE_FULL',
          `This device has no room left for ${m.name || 'the voice note'} (${megabytes(m.size)}). ` +
            'Free some space or remove old attachments; your conversation is kept.',
          { cause: e },
        );
      }
      throw e;
    }
  }

  private recordOp(r: AttachmentRecord): BatchOp {
    return { type: 'put', store: META, key: encodeKey('a', r.manifest.id), value: encodeRecord(r) };
  }

  /** The record of `id`, if any. */
  async record(id: AttachmentId): Promise<AttachmentRecord | undefined> {
    assertBytes('id', id, 16);
    const v = await this.db.get(META, encodeKey('a', id));
    return v ? decodeRecord(v, this.limits) : undefined;
  }

  private async need(id: AttachmentId): Promise<AttachmentRecord> {
    const r = await this.record(id);
    if (!r) throw new AttachmentError('UNKNOWN_ATTACHMENT', `no attachment ${bytesToHex(id)}`);
    return r;
  }

  /**
   * Stores an attachment this client sends (manifest and every sealed chunk). On STORAGE_FULL
   * nothing of it is kept.
   */
  addOutgoing(
    contact: string,
    manifest: Manifest,
    chunks: readonly Uint8Array[],
    now: number,
  ): Promise<Progress> {
    if (typeof contact !== 'string' || contact.length === 0)
      throw new TypeError('"contact" expected a string');
    if (chunks.length !== manifest.chunkCount)
      throw new RangeError(`"chunks" expected ${manifest.chunkCount} chunks, got ${chunks.length}`);
    assertInteger('now', now, 0, Number.MAX_SAFE_INTEGER);
    return this.run(async () => {
      const have = new Uint8Array(Math.ceil(manifest.chunkCount / 8));
      for (let i = 0; i < manifest.chunkCount; i++) have[i >> 3]! |= 1 << (i & 7);
      const record: AttachmentRecord = {
        direction: 'out',
        contact,
        manifest,
        state: 'transferring',
        createdAt: now,
        have,
        received: manifest.chunkCount,
      };
      try {
        for (let at = 0; at < chunks.length; at += WRITE_BATCH) {
          const ops: BatchOp[] = chunks.slice(at, at + WRITE_BATCH).map((c, j) => ({
            type: 'put',
            store: CHUNKS,
            key: encodeKey(manifest.id, at + j),
            value: c,
          }));
          // The record last: a record always has every chunk it claims.
          if (at + WRITE_BATCH >= chunks.length) ops.push(this.recordOp(record));
          await this.write(ops, manifest);
        }
      } catch (e) {
        await this.dropChunks(manifest).catch(() => undefined);
        throw e;
      }
      return progressOf(record);
    });
  }

  /**
   * Stores the manifest of an incoming attachment from `contact` (checked against this
   * client's limits by `decodeManifest` before). The same manifest twice is ignored; another
   * manifest under a known id, or from another contact, is BAD_MANIFEST; more unfinished
   * incoming attachments from one contact than the limit is TOO_MANY.
   */
  addIncoming(contact: string, manifest: Manifest, now: number): Promise<Progress> {
    if (typeof contact !== 'string' || contact.length === 0)
      throw new TypeError('"contact" expected a string');
    return this.run(async () => {
      const known = await this.record(manifest.id);
      if (known) {
        if (
          known.direction !== 'in' ||
          known.contact !== contact ||
          !equalBytes(encodeManifest(known.manifest), encodeManifest(manifest))
        ) {
          throw new AttachmentError('BAD_MANIFEST', 'another manifest under a known attachment id');
        }
        return progressOf(known);
      }
      const open = (await this.list(contact)).filter(
        (r) => r.direction === 'in' && r.state === 'transferring',
      );
      if (open.length >= this.limits.maxIncomingPerContact) {
        throw new AttachmentError(
          'TOO_MANY',
          `${open.length} attachments from this contact are still arriving`,
        );
      }
      const record: AttachmentRecord = {
        direction: 'in',
        contact,
        manifest,
        state: 'transferring',
        createdAt: now,
        have: new Uint8Array(Math.ceil(manifest.chunkCount / 8)),
        received: 0,
      };
      await this.write([this.recordOp(record)], manifest);
      return progressOf(record);
    });
  }

  /**
   * Verifies and stores sealed chunk `index` of incoming attachment `id` from `contact`.
   * Duplicates are ignored. AttachmentError UNKNOWN_ATTACHMENT (no manifest yet, or another
   * contact's), CANCELLED, BAD_CHUNK, TAMPERED (nothing stored), HASH_MISMATCH (the last
   * chunk is in and the whole does not have the manifest's hash: the transfer fails and
   * its chunks are dropped), STORAGE_FULL.
   */
  receiveChunk(contact: string, id: AttachmentId, index: number, sealed: Uint8Array): Promise<ChunkOutcome> {
    assertBytes('sealed', sealed);
    return this.run(async () => {
      const r = await this.need(id);
      if (r.direction !== 'in' || r.contact !== contact)
        throw new AttachmentError('UNKNOWN_ATTACHMENT', 'no such incoming attachment from this contact');
      if (r.state === 'cancelled') throw new AttachmentError('CANCELLED', 'the transfer was cancelled');
      if (r.state === 'failed') throw new AttachmentError('HASH_MISMATCH', 'the transfer already failed');
      const plaintext = openChunk(r.manifest, index, sealed);
      if (r.state === 'complete' || (r.have[index >> 3]! & (1 << (index & 7))) !== 0) {
        return { ...progressOf(r), duplicate: true };
      }
      const have = r.have.slice();
      have[index >> 3]! |= 1 << (index & 7);
      let next: AttachmentRecord = { ...r, have, received: r.received + 1 };
      const chunkOp: BatchOp = { type: 'put', store: CHUNKS, key: encodeKey(id, index), value: sealed };
      let hashed: boolean;
      try {
        hashed = await this.hashes.add(
          r.manifest,
          index,
          plaintext,
          (i) => (have[i >> 3]! & (1 << (i & 7))) !== 0,
          async (i) => {
            const c = await this.db.get(CHUNKS, encodeKey(id, i));
            if (!c) throw new AttachmentError('INCOMPLETE', `chunk ${i} is missing from the store`);
            return openChunk(r.manifest, i, c);
          },
        );
      } catch (e) {
        this.hashes.forget(r.manifest);
        throw e;
      }
      if (next.received < r.manifest.chunkCount) {
        try {
          await this.write([chunkOp, this.recordOp(next)], r.manifest);
        } catch (e) {
          // The hasher took a chunk the store may not hold: it starts again from the store.
          this.hashes.forget(r.manifest);
          throw e;
        }
        return { ...progressOf(next), duplicate: false };
      }
      // The last chunk: the whole must have the manifest's hash before anything is shown.
      if (!hashed || !equalBytes(this.hashes.digest(r.manifest), r.manifest.hash)) {
        this.hashes.forget(r.manifest);
        next = {
          ...r,
          state: 'failed',
          have: new Uint8Array(r.have.length),
          received: 0,
          failure: 'HASH_MISMATCH',
        };
        await this.write([this.recordOp(next)], r.manifest);
        await this.dropChunks(r.manifest);
        throw new AttachmentError('HASH_MISMATCH', 'the attachment does not match its BLAKE3 hash');
      }
      next = { ...next, state: 'complete' };
      await this.write([chunkOp, this.recordOp(next)], r.manifest);
      return { ...progressOf(next), duplicate: false };
    });
  }

  /** The sealed chunk `index` of `id` (for sending). */
  async chunk(id: AttachmentId, index: number): Promise<Uint8Array> {
    const r = await this.need(id);
    assertInteger('index', index, 0, r.manifest.chunkCount - 1);
    const c = await this.db.get(CHUNKS, encodeKey(id, index));
    if (!c) throw new AttachmentError('INCOMPLETE', `chunk ${index} is not held`, {});
    return c;
  }

  /** Progress of `id`. */
  async progress(id: AttachmentId): Promise<Progress> {
    return progressOf(await this.need(id));
  }

  /** Indexes of the chunks of `id` not yet held, ascending. */
  async missing(id: AttachmentId): Promise<number[]> {
    const r = await this.need(id);
    return missingFrom(runsOf(r.have, r.manifest.chunkCount), r.manifest.chunkCount);
  }

  /** What the recipient tells the sender about `id` (envelope type 18). */
  async status(id: AttachmentId): Promise<AttachmentStatus> {
    const r = await this.need(id);
    const state: TransferState =
      r.state === 'transferring' ? 'receiving' : r.state === 'failed' ? 'refused' : r.state;
    return { id, state, have: runsOf(r.have, r.manifest.chunkCount) };
  }

  /**
   * The plaintext of a complete attachment, verified again against its hash. AttachmentError
   * INCOMPLETE (with the missing chunks in the message), CANCELLED or HASH_MISMATCH.
   */
  async read(id: AttachmentId): Promise<Uint8Array> {
    const r = await this.need(id);
    if (r.state === 'cancelled') throw new AttachmentError('CANCELLED', 'the transfer was cancelled');
    if (r.state === 'failed') throw new AttachmentError('HASH_MISMATCH', 'the transfer failed verification');
    const m = r.manifest;
    if (r.received < m.chunkCount) {
      const missing = await this.missing(id);
      throw new AttachmentError(
        'INCOMPLETE',
        `${missing.length} of ${m.chunkCount} chunks missing (first ${missing[0]})`,
      );
    }
    const out = new Uint8Array(m.size);
    for (let i = 0; i < m.chunkCount; i++) {
      const c = await this.db.get(CHUNKS, encodeKey(id, i));
      if (!c) throw new AttachmentError('INCOMPLETE', `chunk ${i} is missing from the store`);
      out.set(openChunk(m, i, c), i * m.chunkSize);
    }
    if (!equalBytes(blake3(out), m.hash))
      throw new AttachmentError('HASH_MISMATCH', 'the stored attachment changed');
    return out;
  }

  /** Cancels a transfer on this side: its chunks are dropped, the record stays as cancelled. */
  cancel(id: AttachmentId): Promise<void> {
    return this.run(async () => {
      const r = await this.need(id);
      if (r.state === 'complete' && r.direction === 'in') return;
      this.hashes.forget(r.manifest);
      await this.write(
        [this.recordOp({ ...r, state: 'cancelled', have: new Uint8Array(r.have.length), received: 0 })],
        r.manifest,
      );
      await this.dropChunks(r.manifest);
    });
  }

  /** Marks an outgoing attachment complete (the recipient said so). */
  delivered(id: AttachmentId): Promise<void> {
    return this.run(async () => {
      const r = await this.need(id);
      if (r.direction === 'out' && r.state === 'transferring')
        await this.write([this.recordOp({ ...r, state: 'complete' })], r.manifest);
    });
  }

  /** Marks an outgoing attachment failed with `code` (e.g. UNDELIVERABLE: no receipt came). */
  fail(id: AttachmentId, code: string): Promise<void> {
    return this.run(async () => {
      const r = await this.need(id);
      if (r.direction === 'out' && r.state === 'transferring')
        await this.write([this.recordOp({ ...r, state: 'failed', failure: code })], r.manifest);
    });
  }

  /** Stores (or, with undefined, removes) the chain record of `id` (chain-path.ts). */
  async setChainRecord(id: AttachmentId, bytes: Uint8Array | undefined): Promise<void> {
    assertBytes('id', id, 16);
    if (bytes === undefined) await this.db.delete(META, encodeKey('c', id));
    else await this.db.put(META, encodeKey('c', id), bytes);
  }

  /** Every chain record, with its attachment id. */
  async chainRecords(): Promise<[AttachmentId, Uint8Array][]> {
    const out: [AttachmentId, Uint8Array][] = [];
    for (const [k, v] of await this.db.scan(META, { prefix: encodeKey('c') })) {
      const id = decodeKey(k)[1];
      if (id instanceof Uint8Array && id.length === 16) out.push([id as AttachmentId, v]);
    }
    return out;
  }

  /** Forgets `id` and its chunks. */
  delete(id: AttachmentId): Promise<void> {
    return this.run(async () => {
      const r = await this.record(id);
      if (!r) return;
      this.hashes.forget(r.manifest);
      await this.dropChunks(r.manifest);
      await this.db.delete(META, encodeKey('a', id));
      await this.db.delete(META, encodeKey('c', id));
    });
  }

  /** Every record, or those of `contact`. */
  async list(contact?: string): Promise<AttachmentRecord[]> {
    const all = (await this.db.scan(META, { prefix: encodeKey('a') })).map(([, v]) =>
      decodeRecord(v, this.limits),
    );
    return contact === undefined ? all : all.filter((r) => r.contact === contact);
  }

  private async dropChunks(m: Manifest): Promise<void> {
    for (let at = 0; at < m.chunkCount; at += WRITE_BATCH) {
      const ops: BatchOp[] = [];
      for (let i = at; i < Math.min(at + WRITE_BATCH, m.chunkCount); i++)
        ops.push({ type: 'delete', store: CHUNKS, key: encodeKey(m.id, i) });
      await this.db.batch(ops);
    }
  }
}
