/**
 * Persistence of the delivery engine over the `KeyValueStore` contract, so the same engine
 * runs on IndexedDB in the browser and SQLite in Node (encrypted at rest by the wrapper).
 *
 * Stores and keys (tuple-encoded, `storage/keys.ts`):
 *   delivery.messages  (contact, "o", seq)      -> outgoing record  (in writing order)
 *                      (contact, "i", sentAt, id) -> incoming record (in the sender's order)
 *   delivery.index     ("i"|"o", id)            -> messages key      (exactly-once, receipts)
 *   delivery.meta      ("cursor")               -> chain cursor
 *                      ("rcpt", contact, id)    -> (empty) delivered receipt owed on chain
 *                      ("open", id)             -> open entry of an outgoing message not yet
 *                                                  delivered or read (the queues on start): its
 *                                                  status, when it is next due, its messages key
 *                      ("open-index")           -> (empty) the "open" entries are complete
 *                      ("seen", contact)        -> link-seen record: when a direct link to the
 *                                                  contact was last up (reconnection on start)
 *                      ("pub", tx id)           -> publication record: the messages and receipts
 *                                                  a recent chain publication carried (owed again
 *                                                  if a reorganisation drops it, after a restart too)
 * Every change that must be all-or-nothing (a message and its index entry, an incoming
 * message and the chain cursor past it) goes in one atomic batch.
 */
import type { BatchOp, KeyValueStore } from '../../storage/types.ts';
import { decodeKey, encodeKey } from '../../storage/keys.ts';
import { bytesToHex, hexToBytes } from '../../util/bytes.ts';
import { ByteReader, ByteWriter, readText, writeText } from '../../util/binary.ts';
import { DeliveryError } from './errors.ts';
import {
  decodeMessage,
  encodeMessage,
  type Message,
  type OutgoingMessage,
  type OutgoingStatus,
} from './messages.ts';
import type { ContactId } from './ports.ts';

/** Store names the engine needs; declare them in the application's `StorageSchema`. */
export const DELIVERY_STORES = [
  'delivery.messages',
  'delivery.index',
  'delivery.meta',
  'delivery.coins',
] as const;

const MESSAGES = 'delivery.messages';
const INDEX = 'delivery.index';
const META = 'delivery.meta';
const CURSOR_KEY = encodeKey('cursor');
/** Version byte of the link-seen record (docs/protocol.md "Link-seen record"). */
const SEEN_VERSION = 1;
const SEEN_BYTES = 9;

/** Version byte of the publication record (docs/protocol.md "Publication record"). */
export const PUBLICATION_VERSION = 1;
/** Ids one publication record may list per kind: a 16 KB payload carries far fewer. */
const MAX_PUBLICATION_IDS = 4_096;
/** Contacts one publication record may list (the engine's recipients per transaction are fewer). */
const MAX_PUBLICATION_CONTACTS = 256;
/** Bytes of a message id (128 bits, docs/protocol.md "Envelope"), with room for longer ones. */
const MAX_ID_BYTES = 64;

/** What one chain publication carried: its chat messages and, by contact, its receipts. */
export interface PublicationRecord {
  /** When it was published (ms since the epoch): the oldest go first past the engine's bound. */
  readonly at: number;
  /** Chat message ids (lowercase hex). */
  readonly ids: readonly string[];
  readonly receipts: ReadonlyMap<
    ContactId,
    { readonly delivered: readonly string[]; readonly read: readonly string[] }
  >;
}

/**
 * First byte of an open entry of version 2 (docs/protocol.md "Open entry"). A version 1 entry
 * is the bare messages key, which starts with a tuple tag below 0x80 (storage/keys.ts).
 */
export const OPEN_ENTRY_V2 = 0x82;
const OPEN_STATUSES: readonly OutgoingStatus[] = ['queued', 'sent', 'published', 'failed'];

/**
 * An unfinished outgoing message as the start reads it: enough to know when it is due,
 * without its record. `status` and `dueAt` are absent for a version 1 entry, whose record
 * must then be read at start.
 */
export interface OpenEntry {
  /** Message id, lowercase hex. */
  readonly id: string;
  readonly contact: ContactId;
  /** Its key in `delivery.messages`. */
  readonly key: Uint8Array;
  readonly status?: OutgoingStatus;
  readonly dueAt?: number;
}

function openValue(m: OutgoingMessage, key: Uint8Array): Uint8Array {
  const status = OPEN_STATUSES.indexOf(m.status);
  if (status < 0) throw new RangeError(`message ${m.id} is ${m.status}, not unfinished`);
  return new ByteWriter(11 + key.length)
    .u8(OPEN_ENTRY_V2)
    .u8(status)
    .u64(m.dueAt === undefined ? 0 : m.dueAt + 1)
    .bytes(key)
    .finish();
}

/** Parses an open entry of either version; CORRUPT_RECORD for anything else. */
function parseOpen(id: Uint8Array, value: Uint8Array): OpenEntry {
  const corrupt = (why: string): DeliveryError =>
    new DeliveryError('CORRUPT_RECORD', `open entry of ${bytesToHex(id)}: ${why}`);
  let key = value;
  let schedule: { status: OutgoingStatus; dueAt?: number } | undefined;
  if (value[0] === OPEN_ENTRY_V2) {
    const r = new ByteReader(value.subarray(1));
    const status = OPEN_STATUSES[r.u8('status')];
    if (status === undefined) throw corrupt('unknown status');
    const due = r.safeU64('dueAt');
    key = r.rest();
    schedule = due === 0 ? { status } : { status, dueAt: due - 1 };
  } else if (value[0] === undefined || value[0] >= 0x80) {
    throw corrupt(`version byte ${value[0] ?? 'none'} (expected a messages key or ${OPEN_ENTRY_V2})`);
  }
  const [contact, dir] = decodeKey(key);
  if (typeof contact !== 'string' || dir !== 'o') throw corrupt('not an outgoing message key');
  return { id: bytesToHex(id), contact, key, ...schedule };
}

/** Marks a database whose "open" entries cover every unfinished message (see `unfinishedOutgoing`). */
const OPEN_INDEX_KEY = encodeKey('open-index');

/** Whether a message is at a final state: incoming, or outgoing and delivered or read. */
export function isFinished(m: Message): boolean {
  // An attachment message is never the engine's to send: the attachment service moves it.
  return m.direction === 'in' || m.attachment === true || m.status === 'delivered' || m.status === 'read';
}

type Dir = 'i' | 'o';

function dirOf(m: Message): Dir {
  return m.direction === 'in' ? 'i' : 'o';
}

function messageKey(m: Message): Uint8Array {
  return m.direction === 'out'
    ? encodeKey(m.contact, 'o', m.seq)
    : encodeKey(m.contact, 'i', m.sentAt, hexToBytes(m.id));
}

/** Typed access to the delivery stores; writes are collected into atomic batches. */
export class DeliveryStore {
  constructor(private readonly db: KeyValueStore) {
    for (const s of DELIVERY_STORES) {
      if (!db.stores.includes(s))
        throw new TypeError(`"db" lacks store "${s}" (declare DELIVERY_STORES in its schema)`);
    }
  }

  /** The ops that store `m` (record, id index, and its place among the unfinished). */
  putOps(m: Message): BatchOp[] {
    const key = messageKey(m);
    const id = hexToBytes(m.id);
    const ops: BatchOp[] = [
      { type: 'put', store: MESSAGES, key, value: encodeMessage(m) },
      { type: 'put', store: INDEX, key: encodeKey(dirOf(m), id), value: key },
    ];
    if (m.direction === 'out') {
      const open = encodeKey('open', id);
      ops.push(
        isFinished(m)
          ? { type: 'delete', store: META, key: open }
          : { type: 'put', store: META, key: open, value: openValue(m, key) },
      );
    }
    return ops;
  }

  /**
   * The ops that delete finished messages (a conversation deleted, or messages past their
   * disappearing timer). An incoming message's id entry stays as a tombstone: its sender may
   * deliver it again (a copy republished before our receipt reached them), and `hasIncoming`
   * must then drop it instead of showing it anew (exactly once, docs/delivery.md). Refuses an
   * outgoing message still on its way: the engine holds it and would write it back.
   */
  deleteOps(messages: readonly Message[]): BatchOp[] {
    return messages.flatMap((m): BatchOp[] => {
      if (!isFinished(m)) throw new RangeError(`message ${m.id} is still on its way`);
      const record: BatchOp = { type: 'delete', store: MESSAGES, key: messageKey(m) };
      if (m.direction === 'in') return [record];
      return [record, { type: 'delete', store: INDEX, key: encodeKey('o', hexToBytes(m.id)) }];
    });
  }

  /** The op that records the chain cursor. */
  cursorOp(cursor: Uint8Array): BatchOp {
    return { type: 'put', store: META, key: CURSOR_KEY, value: cursor };
  }

  /**
   * The op that records (or, with `done`, clears) a delivered receipt owed on chain for a
   * message that came by chain: stored with the message, so a crash cannot lose it.
   */
  receiptOp(contact: ContactId, id: string, done = false): BatchOp {
    const key = encodeKey('rcpt', contact, hexToBytes(id));
    return done
      ? { type: 'delete', store: META, key }
      : { type: 'put', store: META, key, value: new Uint8Array(0) };
  }

  /** The op that records that a direct link to `contact` was up at `at` (ms since the epoch). */
  seenOp(contact: ContactId, at: number): BatchOp {
    if (!Number.isSafeInteger(at) || at < 0) throw new RangeError(`"at" expected a time in ms, got ${at}`);
    const value = new Uint8Array(SEEN_BYTES);
    value[0] = SEEN_VERSION;
    new DataView(value.buffer).setBigUint64(1, BigInt(at));
    return { type: 'put', store: META, key: encodeKey('seen', contact), value };
  }

  /**
   * When each contact's direct link was last up. A record of another version or length is
   * refused (CORRUPT_RECORD): the caller drops that one hint and keeps the others.
   */
  async seenLinks(): Promise<{ seen: Map<ContactId, number>; refused: DeliveryError[] }> {
    const seen = new Map<ContactId, number>();
    const refused: DeliveryError[] = [];
    for (const [key, value] of await this.db.scan(META, { prefix: encodeKey('seen') })) {
      const [, contact] = decodeKey(key);
      if (typeof contact !== 'string') {
        refused.push(new DeliveryError('CORRUPT_RECORD', 'malformed link-seen key'));
        continue;
      }
      if (value.length !== SEEN_BYTES || value[0] !== SEEN_VERSION) {
        refused.push(
          new DeliveryError(
            'CORRUPT_RECORD',
            `link-seen record of ${contact}: version ${value[0] ?? 'none'}, ${value.length} bytes (expected version ${SEEN_VERSION}, ${SEEN_BYTES} bytes)`,
          ),
        );
        continue;
      }
      const at = new DataView(value.buffer, value.byteOffset, value.byteLength).getBigUint64(1);
      if (at > BigInt(Number.MAX_SAFE_INTEGER)) {
        refused.push(
          new DeliveryError('CORRUPT_RECORD', `link-seen record of ${contact}: time out of range`),
        );
        continue;
      }
      seen.set(contact, Number(at));
    }
    return { seen, refused };
  }

  /**
   * The op that records what the publication `txHex` carried. Written in the batch that marks
   * its delivery receipts published, so that no crash leaves them neither owed nor recorded.
   */
  publicationOp(txHex: string, record: PublicationRecord): BatchOp {
    const w = new ByteWriter();
    w.u8(PUBLICATION_VERSION).u64(record.at);
    const ids = (list: readonly string[]): void => {
      w.varUint(list.length);
      for (const id of list) w.varBytes(hexToBytes(id));
    };
    ids(record.ids);
    w.varUint(record.receipts.size);
    for (const [contact, r] of record.receipts) {
      writeText(w, 'contact', contact, 128);
      ids(r.delivered);
      ids(r.read);
    }
    return { type: 'put', store: META, key: encodeKey('pub', hexToBytes(txHex)), value: w.finish() };
  }

  /** The op that forgets the publication record of `txHex`. */
  forgetPublicationOp(txHex: string): BatchOp {
    return { type: 'delete', store: META, key: encodeKey('pub', hexToBytes(txHex)) };
  }

  /**
   * Every publication record, by tx id (lowercase hex), oldest first. A record of another
   * version or malformed is refused (CORRUPT_RECORD) and left out; the others are kept.
   */
  async publications(): Promise<{ records: Map<string, PublicationRecord>; refused: DeliveryError[] }> {
    const found: [string, PublicationRecord][] = [];
    const refused: DeliveryError[] = [];
    for (const [key, value] of await this.db.scan(META, { prefix: encodeKey('pub') })) {
      const [, txId] = decodeKey(key);
      if (!(txId instanceof Uint8Array) || txId.length !== 32) {
        refused.push(new DeliveryError('CORRUPT_RECORD', 'malformed publication key'));
        continue;
      }
      try {
        found.push([bytesToHex(txId), decodePublication(value)]);
      } catch (error) {
        refused.push(
          error instanceof DeliveryError
            ? error
            : new DeliveryError('CORRUPT_RECORD', `publication record of ${bytesToHex(txId)} is malformed`, {
                cause: error,
              }),
        );
      }
    }
    found.sort((a, b) => a[1].at - b[1].at);
    return { records: new Map(found), refused };
  }

  /** Every receipt owed on chain, by contact. */
  async owedReceipts(): Promise<Map<ContactId, string[]>> {
    const out = new Map<ContactId, string[]>();
    for (const [key] of await this.db.scan(META, { prefix: encodeKey('rcpt') })) {
      const [, contact, id] = decodeKey(key);
      if (typeof contact !== 'string' || !(id instanceof Uint8Array)) {
        throw new DeliveryError('CORRUPT_RECORD', 'malformed owed-receipt key');
      }
      out.set(contact, [...(out.get(contact) ?? []), bytesToHex(id)]);
    }
    return out;
  }

  /** Applies ops atomically. */
  async write(ops: readonly BatchOp[]): Promise<void> {
    if (ops.length > 0) await this.db.batch(ops);
  }

  /** The newest outgoing message towards `contact`, if any. */
  async lastOutgoing(contact: ContactId): Promise<Message | undefined> {
    const [entry] = await this.db.scan(MESSAGES, {
      prefix: encodeKey(contact, 'o'),
      reverse: true,
      limit: 1,
    });
    return entry ? decodeMessage(entry[1]) : undefined;
  }

  /** The chain cursor, if one was saved. */
  cursor(): Promise<Uint8Array | undefined> {
    return this.db.get(META, CURSOR_KEY);
  }

  /** A message by direction and id. */
  async byId(direction: 'in' | 'out', id: string): Promise<Message | undefined> {
    const key = await this.db.get(INDEX, encodeKey(direction === 'in' ? 'i' : 'o', hexToBytes(id)));
    if (!key) return undefined;
    const v = await this.db.get(MESSAGES, key);
    return v ? decodeMessage(v) : undefined;
  }

  /** Whether an incoming message id was already stored (exactly once, docs/delivery.md). */
  async hasIncoming(id: string): Promise<boolean> {
    return (await this.db.get(INDEX, encodeKey('i', hexToBytes(id)))) !== undefined;
  }

  /**
   * Messages of one conversation in one direction: outgoing by sequence number, incoming in
   * the sender's order (sentAt, then id). Incoming keys are sorted here, not by the store:
   * under opaque keys (storage/opaque.ts) only a trailing counter keeps its order.
   */
  async conversation(contact: ContactId, direction: 'in' | 'out'): Promise<Message[]> {
    const entries = await this.db.scan(MESSAGES, {
      prefix: encodeKey(contact, direction === 'in' ? 'i' : 'o'),
    });
    const messages = entries.map(([, v]) => decodeMessage(v));
    if (direction === 'in') {
      messages.sort((a, b) => a.sentAt - b.sentAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    }
    return messages;
  }

  /**
   * Every outgoing message not yet at a final state (for the engine's queues on start), read
   * through the "open" entries so that start-up costs what is in flight, not the whole
   * history. A database written before those entries existed is scanned once and indexed.
   */
  async unfinishedOutgoing(): Promise<Message[]> {
    // openEntries indexes an old database first; the records are then read through the entries.
    return this.outgoingAt((await this.openEntries()).map((e) => e.key));
  }

  /**
   * The open entries: every unfinished outgoing message with its status and due time, read
   * without its record, so that a start costs what is due rather than the whole backlog
   * (docs/delivery.md "Start-up"). A database written before those entries existed is
   * scanned once and indexed; those entries carry their schedule too.
   */
  async openEntries(): Promise<OpenEntry[]> {
    if ((await this.db.get(META, OPEN_INDEX_KEY)) === undefined) {
      return (await this.indexUnfinished()).map((m) => {
        const o = m as OutgoingMessage;
        return {
          id: o.id,
          contact: o.contact,
          key: messageKey(o),
          status: o.status,
          ...(o.dueAt !== undefined ? { dueAt: o.dueAt } : {}),
        };
      });
    }
    return (await this.db.scan(META, { prefix: encodeKey('open') })).map(([k, value]) => {
      const [, id] = decodeKey(k);
      if (!(id instanceof Uint8Array)) throw new DeliveryError('CORRUPT_RECORD', 'malformed open entry key');
      return parseOpen(id, value);
    });
  }

  /** The unfinished outgoing records under these messages keys (read together), in order. */
  async outgoingAt(keys: readonly Uint8Array[]): Promise<OutgoingMessage[]> {
    // The reads are independent: issued together, they cost one round trip on IndexedDB.
    const values = await Promise.all(keys.map((key) => this.db.get(MESSAGES, key)));
    return values.flatMap((v) => {
      if (!v) throw new DeliveryError('CORRUPT_RECORD', 'an unfinished message is missing');
      const m = decodeMessage(v);
      return m.direction === 'out' && !isFinished(m) ? [m] : [];
    });
  }

  private async indexUnfinished(): Promise<Message[]> {
    const out: Message[] = [];
    const ops: BatchOp[] = [{ type: 'put', store: META, key: OPEN_INDEX_KEY, value: new Uint8Array(0) }];
    for (const [key, value] of await this.db.scan(MESSAGES)) {
      if (decodeKey(key)[1] !== 'o') continue;
      const m = decodeMessage(value);
      if (isFinished(m)) continue;
      out.push(m);
      ops.push({
        type: 'put',
        store: META,
        key: encodeKey('open', hexToBytes(m.id)),
        value: openValue(m as OutgoingMessage, key),
      });
    }
    await this.write(ops);
    return out;
  }
}

/** Parses a publication record (docs/protocol.md "Publication record"); throws on anything else. */
function decodePublication(value: Uint8Array): PublicationRecord {
  const r = new ByteReader(value);
  const version = r.u8('version');
  if (version !== PUBLICATION_VERSION)
    throw new DeliveryError(
      'CORRUPT_RECORD',
      `publication record: version ${version} is not ${PUBLICATION_VERSION}`,
    );
  const at = r.safeU64('publishedAt');
  const ids = (what: string): string[] => {
    const n = r.varUint(`${what} count`);
    if (n > MAX_PUBLICATION_IDS) throw new RangeError(`${what}: ${n} ids, at most ${MAX_PUBLICATION_IDS}`);
    return Array.from({ length: n }, () => bytesToHex(r.varBytes(MAX_ID_BYTES, what)));
  };
  const chats = ids('ids');
  const contacts = r.varUint('contact count');
  if (contacts > MAX_PUBLICATION_CONTACTS)
    throw new RangeError(`${contacts} contacts, at most ${MAX_PUBLICATION_CONTACTS}`);
  const receipts = new Map<ContactId, { delivered: string[]; read: string[] }>();
  for (let i = 0; i < contacts; i++) {
    const contact = readText(r, 'contact', 128);
    receipts.set(contact, { delivered: ids('delivered'), read: ids('read') });
  }
  r.end('publication record');
  return { at, ids: chats, receipts };
}
