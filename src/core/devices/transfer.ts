/**
 * Linking a new device: the existing device (`LinkServer`) hands the new one (`LinkReceiver`)
 * the identity, contacts, settings and the chosen window of history over the sealed
 * device-to-device channel (docs/devices.md §5, docs/protocol.md "Device link transfer").
 *
 *   N → E  JOIN    u8 0x10 | deviceKey[32] | u8 kind | varbytes name (≤ 64) | u8 history (0 none,
 *                  1 last 30 days, 2 all) | u8 resume (0/1) | [transferId[16] | u32 next] | sig[64]
 *                  sig = Ed25519(device key, "p2pcomm/v1/device-link/join" ‖ th ‖ bytes before it)
 *   E → N  START   u8 0x20 | transferId[16] | u32 total records | u64 total bytes | u32 from
 *   E → N  RECORDS u8 0x21 | u32 first | u16 count | count × (u8 kind | varbytes data)
 *   N → E  ACK     u8 0x30 | u32 next                    (one per RECORDS: progress, resume point)
 *   E → N  END     u8 0x22 | digest[32] | varbytes device list (with the new device, counter + 1)
 *   N → E  COMMIT  u8 0x31 | digest[32]
 *   digest = BLAKE3 over every record's (u8 kind | varbytes data), in order
 *   record kinds: 1 identity seed (first, exactly once), 2 contact, 3 setting, 4 message
 *
 * Nothing changes on either side before the end: the receiver stages records and hands them to
 * its caller only when the digest matches, the seed is the code's identity and the device list
 * verifies and names this device; the server marks the code used and returns the new list only
 * when COMMIT arrives. A channel that breaks midway leaves the receiver's staged records and the
 * server's snapshot in memory: the next connection (same code, same device) resumes at the
 * last acknowledged record, or restarts from 0 under a new transfer id when the server no longer
 * has the snapshot; the receiver then drops what it staged.
 */
import { blake3 } from '@noble/hashes/blake3.js';
import { ByteReader, ByteWriter, readText, writeText } from '../../util/binary.ts';
import { DecodeError } from '../../util/errors.ts';
import { bytesToHex, concatBytes, equalBytes, randomBytes, utf8ToBytes } from '../../util/bytes.ts';
import { Identity, SEED_BYTES } from '../identity/identity.ts';
import { verifyEd25519, type Ed25519PublicKey } from '../identity/keys.ts';
import { Inbox, type DeviceChannel, type InboxLimits } from './channel.ts';
import {
  DEVICE_KINDS,
  DeviceList,
  MAX_DEVICE_LIST_BYTES,
  MAX_DEVICE_NAME_BYTES,
  MAX_DEVICES,
  type DeviceEntry,
  type DeviceKey,
  type DeviceKind,
} from './device-list.ts';
import { DeviceError } from './errors.ts';
import { handshakeAsExisting, handshakeAsNew, readHello, refuse, type SealedChannel } from './handshake.ts';
import { checkLinkCode, type LinkCode, type LinkOffers } from './link-code.ts';

const JOIN = 0x10;
const START = 0x20;
const RECORDS = 0x21;
const END = 0x22;
const ACK = 0x30;
const COMMIT = 0x31;
const JOIN_DOMAIN = utf8ToBytes('p2pcomm/v1/device-link/join');

/** Largest record (a contact, a setting, one stored message). */
export const MAX_LINK_RECORD_BYTES = 128 * 1024;
/** RECORDS frames are filled up to about this many bytes. */
export const LINK_FRAME_TARGET_BYTES = 48 * 1024;
/** Largest sealed frame accepted (one record of the largest size, with its header and tag). */
export const MAX_LINK_FRAME_BYTES = LINK_FRAME_TARGET_BYTES + MAX_LINK_RECORD_BYTES + 64;
/** RECORDS frames the server sends before it waits for an ACK. */
export const LINK_WINDOW = 8;
/** A month, the "last 30 days" history window. */
export const HISTORY_30_DAYS_MS = 30 * 24 * 3_600_000;

/** How much history the new device asks for (issue 12: none, 30 days, all). */
export type HistoryWindow = 'none' | '30d' | 'all';
const WINDOWS: readonly HistoryWindow[] = ['none', '30d', 'all'];

/** What one record is. */
export type LinkRecordKind = 'identity' | 'contact' | 'setting' | 'message';
const RECORD_KINDS: readonly LinkRecordKind[] = ['identity', 'contact', 'setting', 'message'];

/** A record as it travels: its kind and opaque bytes (the stores' own record formats). */
export interface LinkRecord {
  readonly kind: LinkRecordKind;
  readonly data: Uint8Array;
}

/** A stored message offered for the transfer, with the time that decides its window. */
export interface HistoryItem {
  readonly at: number;
  readonly data: Uint8Array;
}

/** What the existing device gives (read once per transfer, when it starts). */
export interface LinkSource {
  /** The identity (its seed is the first record). */
  readonly identity: Identity;
  /** Our newest verified device list; the new device is added to it. */
  deviceList(): DeviceList;
  contacts(): readonly Uint8Array[];
  settings(): readonly Uint8Array[];
  /** Messages at or after `sinceMs` (undefined: all), oldest first. */
  history(sinceMs: number | undefined): readonly HistoryItem[];
}

/** Progress of a transfer: records and bytes moved of the total. */
export interface LinkProgress {
  readonly records: number;
  readonly totalRecords: number;
  readonly bytes: number;
  readonly totalBytes: number;
}

/** Shared settings of both sides. */
export interface LinkOptions {
  /** Clock (Unix ms). @default Date.now */
  readonly now?: () => number;
  /** Longest wait for the other device's next frame. @default 30_000 */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: LinkProgress) => void;
}

function limitsOf(o: LinkOptions): InboxLimits {
  return { maxFrameBytes: MAX_LINK_FRAME_BYTES, maxQueued: 4_096, timeoutMs: o.timeoutMs ?? 30_000 };
}

function recordBytes(rec: LinkRecord): Uint8Array {
  return new ByteWriter(rec.data.length + 8)
    .u8(RECORD_KINDS.indexOf(rec.kind) + 1)
    .varBytes(rec.data)
    .finish();
}

function digestOf(records: readonly LinkRecord[]): Uint8Array {
  const h = blake3.create();
  for (const r of records) h.update(recordBytes(r));
  return h.digest();
}

function frameType(bytes: Uint8Array): number {
  if (bytes.length === 0) throw new DeviceError('PROTOCOL', 'an empty link frame');
  return bytes[0]!;
}

/** The sealed channel once the handshake is done (refusals are then sealed too). */
interface Session {
  sealed?: SealedChannel;
}

/** Runs `step`, turning decoder failures into PROTOCOL and refusing on the channel on any error. */
async function guarded<T>(
  channel: DeviceChannel,
  inbox: Inbox,
  step: (session: Session) => Promise<T>,
): Promise<T> {
  const session: Session = {};
  try {
    return await step(session);
  } catch (e) {
    const err =
      e instanceof DeviceError
        ? e
        : e instanceof DecodeError
          ? new DeviceError('PROTOCOL', `The other device sent a malformed frame: ${e.message}`, { cause: e })
          : e;
    if (!(err instanceof DeviceError) || err.code === 'CHANNEL_CLOSED') channel.close();
    else if (session.sealed !== undefined) await session.sealed.refuse(err);
    else await refuse(channel, err);
    throw err;
  } finally {
    session.sealed?.wipe();
    inbox.dispose();
  }
}

interface Snapshot {
  readonly transferId: Uint8Array;
  readonly device: DeviceKey;
  readonly records: readonly LinkRecord[];
  readonly totalBytes: number;
  readonly digest: Uint8Array;
  readonly list: DeviceList;
}

/** What a finished link gives the existing device: the list it must now store and announce. */
export interface LinkServed {
  readonly device: DeviceEntry;
  readonly deviceList: DeviceList;
  readonly records: number;
}

/** The existing device's side: answers link connections for the codes of `offers`. */
export class LinkServer {
  readonly #snapshots = new Map<string, Snapshot>();

  constructor(
    private readonly offers: LinkOffers,
    private readonly source: LinkSource,
    private readonly options: LinkOptions = {},
  ) {}

  /**
   * Serves one connection to its end. Resolves when the new device committed; rejects with a
   * DeviceError (told to the other device too) on a refused code, a failed proof or a broken
   * protocol, or CHANNEL_CLOSED when the connection ends (the transfer can resume on a new one).
   */
  async serve(channel: DeviceChannel): Promise<LinkServed> {
    const now = this.options.now ?? Date.now;
    const inbox = new Inbox(channel, limitsOf(this.options), this.options.signal);
    return await guarded(channel, inbox, async (session) => {
      const hello = readHello(await inbox.next());
      if (!equalBytes(hello.identityKey, this.source.identity.publicKey))
        throw new DeviceError('WRONG_IDENTITY', 'This link code belongs to another person.');
      const code = this.offers.lookup(hello.offerId, now());
      const sealed = await handshakeAsExisting(channel, inbox, code, hello);
      session.sealed = sealed;
      const join = readJoin(await sealed.receive(), sealed.transcript);
      this.offers.bind(hello.offerId, join.device.key, now());
      const key = bytesToHex(hello.offerId);
      let snap = this.#snapshots.get(key);
      let from = 0;
      if (
        snap !== undefined &&
        join.resume !== undefined &&
        equalBytes(snap.transferId, join.resume.transferId) &&
        equalBytes(snap.device, join.device.key) &&
        join.resume.next <= snap.records.length
      )
        from = join.resume.next;
      else {
        snap = this.snapshot(join.device, join.history, now());
        this.#snapshots.set(key, snap);
      }
      await this.stream(sealed, snap, from);
      this.offers.complete(hello.offerId);
      this.#snapshots.delete(key);
      channel.close();
      const device = snap.list.devices.find((d) => equalBytes(d.key, join.device.key))!;
      return { device, deviceList: snap.list, records: snap.records.length };
    });
  }

  private snapshot(device: DeviceEntry, history: HistoryWindow, now: number): Snapshot {
    const records: LinkRecord[] = [{ kind: 'identity', data: this.source.identity.exportSeed() }];
    for (const c of this.source.contacts()) records.push({ kind: 'contact', data: c });
    for (const s of this.source.settings()) records.push({ kind: 'setting', data: s });
    if (history !== 'none')
      for (const m of this.source.history(history === 'all' ? undefined : now - HISTORY_30_DAYS_MS))
        records.push({ kind: 'message', data: m.data });
    for (const r of records)
      if (r.data.length > MAX_LINK_RECORD_BYTES)
        throw new RangeError(`a ${r.kind} record of ${r.data.length} bytes exceeds ${MAX_LINK_RECORD_BYTES}`);
    const current = this.source.deviceList();
    if (current.devices.length >= MAX_DEVICES)
      throw new DeviceError(
        'DEVICE_LIMIT',
        `This person has ${MAX_DEVICES} devices already; remove one first.`,
      );
    if (current.has(device.key))
      throw new DeviceError('PROTOCOL', 'the new device named a key that is listed already');
    const list = current.add(this.source.identity, { ...device, addedAt: now }, now);
    return {
      transferId: randomBytes(16),
      device: device.key,
      records,
      totalBytes: records.reduce((n, r) => n + r.data.length, 0),
      digest: digestOf(records),
      list,
    };
  }

  /**
   * START, the RECORDS frames with at most `LINK_WINDOW` unacknowledged (flow control, and the
   * resume point moves with each ACK), END, then the remaining ACKs and the COMMIT.
   */
  private async stream(sealed: SealedChannel, snap: Snapshot, from: number): Promise<void> {
    const total = snap.records.length;
    await sealed.send(
      new ByteWriter(40).u8(START).bytes(snap.transferId).u32(total).u64(snap.totalBytes).u32(from).finish(),
    );
    const sentUpTo: { next: number; bytes: number }[] = [];
    let bytes = snap.records.slice(0, from).reduce((n, r) => n + r.data.length, 0);
    const readAck = async (): Promise<void> => {
      const r = new ByteReader(await sealed.receive());
      if (r.u8('frame') !== ACK) throw new DeviceError('PROTOCOL', 'expected ACK');
      const next = r.u32('acknowledged');
      r.end('ACK');
      const sent = sentUpTo.shift();
      if (sent === undefined || next !== sent.next)
        throw new DeviceError('PROTOCOL', 'an ACK for records never sent');
      this.options.onProgress?.({
        records: next,
        totalRecords: total,
        bytes: sent.bytes,
        totalBytes: snap.totalBytes,
      });
    };
    let i = from;
    while (i < total) {
      const w = new ByteWriter(LINK_FRAME_TARGET_BYTES + 1024).u8(RECORDS).u32(i);
      const parts: Uint8Array[] = [];
      let size = 0;
      while (i < total && parts.length < 0xffff && (parts.length === 0 || size < LINK_FRAME_TARGET_BYTES)) {
        const b = recordBytes(snap.records[i]!);
        parts.push(b);
        size += b.length;
        bytes += snap.records[i]!.data.length;
        i++;
      }
      w.u16(parts.length);
      for (const p of parts) w.bytes(p);
      await sealed.send(w.finish());
      sentUpTo.push({ next: i, bytes });
      while (sentUpTo.length > LINK_WINDOW) await readAck();
    }
    await sealed.send(
      new ByteWriter(MAX_DEVICE_LIST_BYTES + 48)
        .u8(END)
        .bytes(snap.digest)
        .varBytes(snap.list.serialize())
        .finish(),
    );
    while (sentUpTo.length > 0) await readAck();
    const commit = new ByteReader(await sealed.receive());
    if (commit.u8('frame') !== COMMIT) throw new DeviceError('PROTOCOL', 'expected COMMIT');
    const digest = commit.bytes(32, 'digest');
    commit.end('COMMIT');
    if (!equalBytes(digest, snap.digest))
      throw new DeviceError('PROTOCOL', 'the new device committed other records');
  }
}

interface Join {
  readonly device: DeviceEntry;
  readonly history: HistoryWindow;
  readonly resume: { readonly transferId: Uint8Array; readonly next: number } | undefined;
}

function readJoin(bytes: Uint8Array, transcript: Uint8Array): Join {
  const r = new ByteReader(bytes);
  if (r.u8('frame') !== JOIN) throw new DeviceError('PROTOCOL', 'expected JOIN');
  const key = r.bytes(32, 'device key') as DeviceKey;
  const kindIndex = r.u8('device kind');
  const kind = DEVICE_KINDS[kindIndex];
  if (kind === undefined) throw new DecodeError('MALFORMED', `unknown device kind ${kindIndex}`);
  const name = readText(r, 'device name', MAX_DEVICE_NAME_BYTES);
  const history = WINDOWS[r.u8('history window')];
  if (history === undefined) throw new DecodeError('MALFORMED', 'unknown history window');
  const resumeFlag = r.u8('resume flag');
  if (resumeFlag > 1) throw new DecodeError('MALFORMED', 'resume flag above 1');
  const resume =
    resumeFlag === 1 ? { transferId: r.bytes(16, 'transfer id'), next: r.u32('next record') } : undefined;
  const signed = r.offset;
  const sig = r.bytes(64, 'join signature');
  r.end('JOIN');
  if (!verifyEd25519(sig, concatBytes(JOIN_DOMAIN, transcript, bytes.subarray(0, signed)), key))
    throw new DeviceError('LINK_AUTH_FAILED', 'The new device does not hold the device key it named.');
  return { device: { key, kind, name, addedAt: 0 }, history, resume };
}

/** What a finished link gives the new device: everything to store, checked. */
export interface LinkReceived {
  readonly identity: Identity;
  readonly deviceList: DeviceList;
  readonly contacts: readonly Uint8Array[];
  readonly settings: readonly Uint8Array[];
  readonly history: readonly Uint8Array[];
}

/** Records a new device has received of one transfer, kept across reconnections. */
interface Staged {
  readonly transferId: Uint8Array;
  readonly total: number;
  readonly totalBytes: number;
  readonly records: LinkRecord[];
  bytes: number;
}

/** Settings of the new device's side. */
export interface LinkReceiverOptions extends LinkOptions {
  /** The new device's own device identity (a fresh random seed: `Identity.generate()`). */
  readonly device: Identity;
  readonly name: string;
  readonly kind: DeviceKind;
  /** @default '30d' */
  readonly history?: HistoryWindow;
  /** Most records accepted. @default 1_000_000 */
  readonly maxRecords?: number;
  /** Most record bytes accepted. @default 512 MiB */
  readonly maxBytes?: number;
}

/**
 * The new device's side of one link code. `run` may be called again with a new channel after a
 * CHANNEL_CLOSED: it resumes where the last connection stopped.
 */
export class LinkReceiver {
  #staged: Staged | undefined;

  constructor(
    private readonly code: LinkCode,
    private readonly options: LinkReceiverOptions,
  ) {
    if (!DEVICE_KINDS.includes(options.kind)) throw new RangeError(`"kind" unknown: ${String(options.kind)}`);
  }

  /** Records staged so far (for a progress bar across reconnections). */
  get staged(): number {
    return this.#staged?.records.length ?? 0;
  }

  /**
   * One connection: handshake, JOIN, receive, check, COMMIT. Resolves with what to store; the
   * caller stores it, then the device is linked. DeviceError otherwise (LINK_EXPIRED before any
   * network step; the other device's refusal; LINK_AUTH_FAILED; WRONG_IDENTITY when the seed or
   * list is not the code's identity; PROTOCOL; CHANNEL_CLOSED, after which `run` may be called
   * again).
   */
  async run(channel: DeviceChannel): Promise<LinkReceived> {
    const o = this.options;
    const now = o.now ?? Date.now;
    checkLinkCode(this.code, now());
    const inbox = new Inbox(channel, limitsOf(o), o.signal);
    return await guarded(channel, inbox, async (session) => {
      const sealed = await handshakeAsNew(channel, inbox, this.code);
      session.sealed = sealed;
      await sealed.send(this.join(sealed.transcript));
      const start = new ByteReader(await sealed.receive());
      if (start.u8('frame') !== START) throw new DeviceError('PROTOCOL', 'expected START');
      const transferId = start.bytes(16, 'transfer id');
      const total = start.u32('total records');
      const totalBytes = start.safeU64('total bytes');
      const from = start.u32('first record');
      start.end('START');
      if (total > (o.maxRecords ?? 1_000_000) || totalBytes > (o.maxBytes ?? 512 * 1024 * 1024))
        throw new DeviceError(
          'PROTOCOL',
          `a transfer of ${total} records and ${totalBytes} bytes is above this device's limits`,
        );
      const s = this.#staged;
      if (
        s === undefined ||
        !equalBytes(s.transferId, transferId) ||
        s.total !== total ||
        s.totalBytes !== totalBytes
      ) {
        if (from !== 0)
          throw new DeviceError('PROTOCOL', 'the other device resumed a transfer this device never began');
        this.#staged = { transferId, total, totalBytes, records: [], bytes: 0 };
      } else if (from !== s.records.length)
        throw new DeviceError('PROTOCOL', 'the other device resumed at another record');
      const st = this.#staged!;
      o.onProgress?.({ records: st.records.length, totalRecords: total, bytes: st.bytes, totalBytes });
      while (true) {
        const frame = await sealed.receive();
        if (frameType(frame) === END) return await this.finish(sealed, frame);
        this.take(frame, st);
        await sealed.send(new ByteWriter(5).u8(ACK).u32(st.records.length).finish());
        o.onProgress?.({ records: st.records.length, totalRecords: total, bytes: st.bytes, totalBytes });
      }
    });
  }

  private join(transcript: Uint8Array): Uint8Array {
    const o = this.options;
    const w = new ByteWriter(160).u8(JOIN).bytes(o.device.publicKey).u8(DEVICE_KINDS.indexOf(o.kind));
    writeText(w, 'name', o.name, MAX_DEVICE_NAME_BYTES);
    w.u8(WINDOWS.indexOf(o.history ?? '30d'));
    const s = this.#staged;
    if (s === undefined) w.u8(0);
    else w.u8(1).bytes(s.transferId).u32(s.records.length);
    const body = w.finish();
    return concatBytes(body, o.device.sign(concatBytes(JOIN_DOMAIN, transcript, body)));
  }

  private take(frame: Uint8Array, st: Staged): void {
    const r = new ByteReader(frame);
    if (r.u8('frame') !== RECORDS) throw new DeviceError('PROTOCOL', 'expected RECORDS or END');
    const first = r.u32('first record');
    const count = r.u16('record count');
    if (first !== st.records.length || count === 0 || first + count > st.total)
      throw new DeviceError(
        'PROTOCOL',
        `records ${first}..${first + count} do not follow ${st.records.length} of ${st.total}`,
      );
    for (let i = 0; i < count; i++) {
      const kindIndex = r.u8('record kind');
      const kind = RECORD_KINDS[kindIndex - 1];
      if (kind === undefined) throw new DecodeError('MALFORMED', `unknown record kind ${kindIndex}`);
      const data = r.varBytes(MAX_LINK_RECORD_BYTES, 'record');
      if ((kind === 'identity') !== (first + i === 0))
        throw new DeviceError('PROTOCOL', 'the identity must be the first record, and only the first');
      st.bytes += data.length;
      if (st.bytes > st.totalBytes) throw new DeviceError('PROTOCOL', 'more record bytes than announced');
      st.records.push({ kind, data });
    }
    r.end('RECORDS');
  }

  private async finish(sealed: SealedChannel, frame: Uint8Array): Promise<LinkReceived> {
    const st = this.#staged!;
    const r = new ByteReader(frame);
    r.u8('frame');
    const digest = r.bytes(32, 'digest');
    const listBytes = r.varBytes(MAX_DEVICE_LIST_BYTES, 'device list');
    r.end('END');
    if (st.records.length !== st.total || st.bytes !== st.totalBytes)
      throw new DeviceError(
        'PROTOCOL',
        `the transfer ended after ${st.records.length} of ${st.total} records`,
      );
    if (!equalBytes(digest, digestOf(st.records)))
      throw new DeviceError('PROTOCOL', 'the records do not match their digest');
    const seed = st.records[0]!.data;
    if (seed.length !== SEED_BYTES) throw new DeviceError('PROTOCOL', 'the identity record is not a seed');
    const identity = Identity.fromSeed(seed);
    if (!equalBytes(identity.publicKey, this.code.identityKey))
      throw new DeviceError(
        'WRONG_IDENTITY',
        'The other device sent another identity than its link code named.',
      );
    const deviceList = DeviceList.verify(listBytes, this.code.identityKey as Ed25519PublicKey);
    if (!deviceList.has(this.options.device.publicKey))
      throw new DeviceError('PROTOCOL', 'the device list sent does not name this device');
    await sealed.send(concatBytes(Uint8Array.of(COMMIT), digest));
    const of = (kind: LinkRecordKind): Uint8Array[] =>
      st.records.filter((x) => x.kind === kind).map((x) => x.data);
    this.#staged = undefined;
    return { identity, deviceList, contacts: of('contact'), settings: of('setting'), history: of('message') };
  }
}
