/**
 * What the user set on one conversation, on this device only: pinned, muted, archived, and a
 * name of their own for the contact (docs/protocol.md "Conversation flags record"). Nothing of
 * it is sent: a contact never learns they were renamed, muted or archived. Shared by the real
 * and the fake AppApi so both keep the same rules.
 *
 * Stored sealed, one record per conversation, in the state store under the tuple key
 * `("conv", contact id)` (opaque on disk, like the verification record):
 *
 *     u8 version=1 | u8 flags | [varbytes(utf8 name) if flags & 8]
 *
 * flag 1 pinned, 2 muted, 4 archived, 8 renamed; other bits are refused.
 */
import { encodeKey } from '../storage/keys.ts';
import type { KeyValueStore } from '../storage/types.ts';
import { ByteReader, ByteWriter } from '../util/binary.ts';
import { bytesToUtf8, utf8ToBytes } from '../util/bytes.ts';
import { DecodeError } from '../util/errors.ts';
import { AppApiError, type ContactId, type ConversationFlags } from './app-api.ts';
import { loadContactRecords } from './contact-records.ts';

const VERSION = 1;
const F_PINNED = 1;
const F_MUTED = 2;
const F_ARCHIVED = 4;
const F_RENAMED = 8;
const KNOWN = F_PINNED | F_MUTED | F_ARCHIVED | F_RENAMED;
/** A name of one's own, as a card's name: 1 to 64 characters (UTF-8, at most 4 bytes each). */
export const MAX_NICKNAME_LENGTH = 64;
const MAX_NICKNAME_BYTES = MAX_NICKNAME_LENGTH * 4;

/** No flag set: what a conversation without a record has. */
export const NO_FLAGS: ConversationFlags = { pinned: false, muted: false, archived: false };

/** The state-store key of a conversation's record. */
export function flagsKey(id: ContactId): Uint8Array {
  return encodeKey('conv', id);
}

/** Whether `f` is the same as no record at all (the record is then deleted). */
export function isDefaultFlags(f: ConversationFlags): boolean {
  return !f.pinned && !f.muted && !f.archived && f.nickname === undefined;
}

/** The record in its stored form. */
export function encodeFlags(f: ConversationFlags): Uint8Array {
  const flags =
    (f.pinned ? F_PINNED : 0) |
    (f.muted ? F_MUTED : 0) |
    (f.archived ? F_ARCHIVED : 0) |
    (f.nickname !== undefined ? F_RENAMED : 0);
  const w = new ByteWriter(16).u8(VERSION).u8(flags);
  if (f.nickname !== undefined) w.varBytes(utf8ToBytes(f.nickname));
  return w.finish();
}

/** Parses a stored record; malformed bytes throw DecodeError. */
export function decodeFlags(bytes: Uint8Array): ConversationFlags {
  const r = new ByteReader(bytes);
  const version = r.u8('conversation flags version');
  if (version !== VERSION) throw new DecodeError('UNKNOWN_VERSION', `conversation flags version ${version}`);
  const flags = r.u8('conversation flags');
  if ((flags & ~KNOWN) !== 0) throw new DecodeError('MALFORMED', `unknown conversation flags ${flags}`);
  const nickname = flags & F_RENAMED ? bytesToUtf8(r.varBytes(MAX_NICKNAME_BYTES, 'nickname')) : undefined;
  r.end('conversation flags');
  const out = {
    pinned: (flags & F_PINNED) !== 0,
    muted: (flags & F_MUTED) !== 0,
    archived: (flags & F_ARCHIVED) !== 0,
  };
  return nickname === undefined ? out : { ...out, nickname };
}

/** Every conversation's record, read once when the profile opens (`loadContactRecords`). */
export function loadFlags(
  db: KeyValueStore,
  store: string,
  onSkipped: (error: DecodeError) => void,
): Promise<Map<ContactId, ConversationFlags>> {
  return loadContactRecords(db, store, 'conv', decodeFlags, onSkipped);
}

/**
 * Applies a change the user asked for. A nickname is trimmed; an empty one (or null) goes
 * back to the name on the contact's card. Rejects BAD_NAME for one over 64 characters.
 */
export function patchFlags(
  current: ConversationFlags,
  patch: Partial<Omit<ConversationFlags, 'nickname'>> & { readonly nickname?: string | null },
): ConversationFlags {
  const next = { ...current };
  for (const k of ['pinned', 'muted', 'archived'] as const) {
    const v = patch[k];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw new TypeError(`"${k}" expected a boolean`);
    next[k] = v;
  }
  if (patch.nickname === undefined) return next;
  const name = patch.nickname === null ? '' : patch.nickname;
  if (typeof name !== 'string') throw new TypeError('"nickname" expected a string or null');
  const trimmed = name.trim();
  if ([...trimmed].length > MAX_NICKNAME_LENGTH)
    throw new AppApiError('BAD_NAME', `A name holds at most ${MAX_NICKNAME_LENGTH} characters`);
  const { nickname: _old, ...rest } = next;
  return trimmed === '' ? rest : { ...rest, nickname: trimmed };
}

/**
 * Conversation order: pinned first, then newest activity first (ties by id, so the order is
 * stable). Archived rows are kept and sorted too; the list shows them apart.
 */
export function conversationRank(
  a: {
    readonly flags?: ConversationFlags;
    readonly last?: { readonly at: number };
    readonly contact: { readonly id: string };
  },
  b: {
    readonly flags?: ConversationFlags;
    readonly last?: { readonly at: number };
    readonly contact: { readonly id: string };
  },
): number {
  const pin = Number(b.flags?.pinned === true) - Number(a.flags?.pinned === true);
  if (pin !== 0) return pin;
  const at = (b.last?.at ?? 0) - (a.last?.at ?? 0);
  return at !== 0 ? at : a.contact.id < b.contact.id ? -1 : a.contact.id > b.contact.id ? 1 : 0;
}

/**
 * The "deleted" mark of a conversation (docs/protocol.md "Conversation deleted record"): its
 * messages were deleted on this device, and its row stays out of the list until a new message
 * comes. Under the tuple key `("cleared", contact id)` in the state store, sealed:
 *
 *     u8 version=1 | u64 deletedAt (Unix ms, little-endian as every u64 here, util/binary.ts)
 */
const CLEARED_VERSION = 1;
const CLEARED_BYTES = 9;

/** The state-store key of a conversation's deleted mark. */
export function clearedKey(id: ContactId): Uint8Array {
  return encodeKey('cleared', id);
}

/** The deleted mark in its stored form. */
export function encodeCleared(at: number): Uint8Array {
  if (!Number.isSafeInteger(at) || at < 0) throw new RangeError(`"at" expected a time in ms, got ${at}`);
  return new ByteWriter(CLEARED_BYTES).u8(CLEARED_VERSION).u64(BigInt(at)).finish();
}

/** Parses a deleted mark (its time); malformed bytes throw DecodeError. */
export function decodeCleared(bytes: Uint8Array): number {
  const r = new ByteReader(bytes);
  const version = r.u8('conversation deleted version');
  if (version !== CLEARED_VERSION)
    throw new DecodeError('UNKNOWN_VERSION', `conversation deleted record version ${version}`);
  const at = r.u64('deletedAt');
  r.end('conversation deleted record');
  if (at > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError('MALFORMED', 'deletedAt out of range');
  return Number(at);
}

/** Every conversation's deleted mark, read once when the profile opens (`loadContactRecords`). */
export function loadCleared(
  db: KeyValueStore,
  store: string,
  onSkipped: (error: DecodeError) => void,
): Promise<Map<ContactId, number>> {
  return loadContactRecords(db, store, 'cleared', decodeCleared, onSkipped);
}
