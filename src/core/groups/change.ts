/**
 * A signed group change: one step of a group's membership history (docs/groups.md §3,
 * docs/protocol.md "Group change").
 *
 *   change = u8 version=1 | groupId[32] | author[32] | varuint depth | u8 p (0..16) | p × parent[32]
 *            | u64 time (Unix ms) | u8 op | body | signature[64]
 *   op 1 create   nonce[16] | varbytes name (≤ 64 B) | u16 n (0..999) | n × member[32]
 *   op 2 add      u16 n (1..100) | n × member[32]
 *   op 3 remove   member[32]
 *   op 4 leave    (nothing)
 *   op 5 promote  member[32]
 *   op 6 demote   member[32]
 *   op 7 rename   varbytes name (≤ 64 B)
 *   signature = Ed25519(author, "p2pcomm/v1/group-change" ‖ every byte before it)
 *   id        = SHA-256("p2pcomm/v1/group-change-id" ‖ change)
 *   (integers little-endian, as `ByteWriter` writes them)
 *
 * The create change has an all-zero group id, no parent and depth 0; the group id is the id of
 * that change, so it names one history and cannot be claimed by a second creator. Every other
 * change names 1..16 parents (the heads its author saw) and depth = 1 + the largest parent depth,
 * which gives the deterministic order of `log.ts` without trusting anybody's clock.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { ByteReader, ByteWriter, readText, writeText } from '../../util/binary.ts';
import { DecodeError, assertInteger } from '../../util/errors.ts';
import { bytesToHex, concatBytes, equalBytes, randomBytes, utf8ToBytes } from '../../util/bytes.ts';
import { asEd25519PublicKey, verifyEd25519, type Ed25519PublicKey } from '../identity/keys.ts';
import type { Identity } from '../identity/identity.ts';
import { GroupError } from './errors.ts';
import { readVersion } from './version.ts';

/** Group change format version. */
export const GROUP_CHANGE_VERSION = 1;
/**
 * Most members of a group, creator included. What limits it is cost, not this format:
 * docs/groups.md §6 (sender key distributions, watched addresses, receipts).
 */
export const MAX_GROUP_MEMBERS = 1000;
/** Most members one add change names (a larger invitation is several changes). */
export const MAX_ADDED_PER_CHANGE = 100;
/** Most parents one change names; more concurrent heads stay heads until a later change. */
export const MAX_PARENTS = 16;
/** Longest group name in UTF-8 bytes. */
export const MAX_GROUP_NAME_BYTES = 64;
/** Largest change (a create naming 999 members); anything longer is refused before parsing. */
export const MAX_GROUP_CHANGE_BYTES =
  1 +
  32 +
  32 +
  8 +
  1 +
  MAX_PARENTS * 32 +
  8 +
  1 +
  16 +
  1 +
  MAX_GROUP_NAME_BYTES +
  2 +
  (MAX_GROUP_MEMBERS - 1) * 32 +
  64;

const SIGN_DOMAIN = utf8ToBytes('p2pcomm/v1/group-change');
const ID_DOMAIN = utf8ToBytes('p2pcomm/v1/group-change-id');
const NO_GROUP = new Uint8Array(32);

/** The id of a group: the id of its create change. */
export type GroupId = Uint8Array & { readonly __brand: 'GroupId' };
/** The id of one change (SHA-256 of its bytes under a domain label). */
export type ChangeId = Uint8Array & { readonly __brand: 'ChangeId' };

/** What a change does. Members are people, named by their Ed25519 identity key. */
export type GroupOp =
  | {
      readonly kind: 'create';
      readonly nonce: Uint8Array;
      readonly name: string;
      readonly members: readonly Ed25519PublicKey[];
    }
  | { readonly kind: 'add'; readonly members: readonly Ed25519PublicKey[] }
  | { readonly kind: 'remove'; readonly member: Ed25519PublicKey }
  | { readonly kind: 'leave' }
  | { readonly kind: 'promote'; readonly member: Ed25519PublicKey }
  | { readonly kind: 'demote'; readonly member: Ed25519PublicKey }
  | { readonly kind: 'rename'; readonly name: string };

const OP_CODES = { create: 1, add: 2, remove: 3, leave: 4, promote: 5, demote: 6, rename: 7 } as const;
const OP_KINDS = ['', 'create', 'add', 'remove', 'leave', 'promote', 'demote', 'rename'] as const;

/** An op a member can author on an existing group (everything but create). */
export type LaterOp = Exclude<GroupOp, { kind: 'create' }>;

function writeMembers(w: ByteWriter, members: readonly Ed25519PublicKey[], min: number, max: number): void {
  if (!Array.isArray(members) || members.length < min || members.length > max)
    throw new RangeError(`"members" expected ${min}..${max} keys, got ${members.length}`);
  const seen = new Set<string>();
  w.u16(members.length);
  for (const m of members) {
    asEd25519PublicKey(m, 'member');
    const hex = bytesToHex(m);
    if (seen.has(hex)) throw new RangeError('"members" names one key twice');
    seen.add(hex);
    w.bytes(m);
  }
}

function readMembers(r: ByteReader, min: number, max: number): Ed25519PublicKey[] {
  const n = r.u16('member count');
  if (n < min || n > max)
    throw new DecodeError('MALFORMED', `group change names ${n} members (${min}..${max})`);
  const out: Ed25519PublicKey[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const m = r.bytes(32, 'member') as Ed25519PublicKey;
    const hex = bytesToHex(m);
    if (seen.has(hex)) throw new DecodeError('MALFORMED', 'group change names one member twice');
    seen.add(hex);
    out.push(m);
  }
  return out;
}

function writeOp(w: ByteWriter, op: GroupOp): void {
  const code = OP_CODES[op.kind];
  if (code === undefined)
    throw new RangeError(`"op.kind" unknown: ${String((op as { kind: unknown }).kind)}`);
  w.u8(code);
  switch (op.kind) {
    case 'create':
      if (!(op.nonce instanceof Uint8Array) || op.nonce.length !== 16)
        throw new RangeError('"op.nonce" expected 16 bytes');
      w.bytes(op.nonce);
      writeText(w, 'op.name', op.name, MAX_GROUP_NAME_BYTES);
      writeMembers(w, op.members, 0, MAX_GROUP_MEMBERS - 1);
      return;
    case 'add':
      writeMembers(w, op.members, 1, MAX_ADDED_PER_CHANGE);
      return;
    case 'remove':
    case 'promote':
    case 'demote':
      w.bytes(asEd25519PublicKey(op.member, 'op.member'));
      return;
    case 'leave':
      return;
    case 'rename':
      writeText(w, 'op.name', op.name, MAX_GROUP_NAME_BYTES);
      return;
  }
}

function readOp(r: ByteReader): GroupOp {
  const code = r.u8('group op');
  const kind = OP_KINDS[code];
  if (kind === undefined || kind === '') throw new DecodeError('UNKNOWN_TYPE', `unknown group op ${code}`);
  switch (kind) {
    case 'create': {
      const nonce = r.bytes(16, 'group nonce');
      const name = readText(r, 'group name', MAX_GROUP_NAME_BYTES);
      return { kind, nonce, name, members: readMembers(r, 0, MAX_GROUP_MEMBERS - 1) };
    }
    case 'add':
      return { kind, members: readMembers(r, 1, MAX_ADDED_PER_CHANGE) };
    case 'remove':
    case 'promote':
    case 'demote':
      return { kind, member: r.bytes(32, 'member') as Ed25519PublicKey };
    case 'leave':
      return { kind };
    case 'rename':
      return { kind, name: readText(r, 'group name', MAX_GROUP_NAME_BYTES) };
  }
}

/** A decoded change whose signature has been checked against its author. */
export class GroupChange {
  private constructor(
    /** The group it belongs to (its own id for the create change). */
    readonly groupId: GroupId,
    readonly author: Ed25519PublicKey,
    /** 0 for the create change, else 1 + the largest depth among the parents. */
    readonly depth: number,
    readonly parents: readonly ChangeId[],
    /** When the author says it made the change (Unix ms): shown, never used to order. */
    readonly time: number,
    readonly op: GroupOp,
    readonly id: ChangeId,
    private readonly signed: Uint8Array,
  ) {}

  /** Signs the create change of a new group; its id is the group id. */
  static create(
    author: Identity,
    name: string,
    members: readonly Ed25519PublicKey[],
    now: number,
  ): GroupChange {
    const others = members.filter((m) => !equalBytes(m, author.publicKey));
    return GroupChange.sign(author, NO_GROUP as GroupId, 0, [], now, {
      kind: 'create',
      nonce: randomBytes(16),
      name,
      members: others,
    });
  }

  /** Signs a later change of `groupId` on top of `parents` (with their depth, for the order). */
  static next(
    author: Identity,
    groupId: GroupId,
    parents: readonly { id: ChangeId; depth: number }[],
    now: number,
    op: LaterOp,
  ): GroupChange {
    if (parents.length < 1 || parents.length > MAX_PARENTS)
      throw new RangeError(`"parents" expected 1..${MAX_PARENTS}, got ${parents.length}`);
    const depth = 1 + Math.max(...parents.map((p) => p.depth));
    return GroupChange.sign(
      author,
      groupId,
      depth,
      parents.map((p) => p.id),
      now,
      op,
    );
  }

  private static sign(
    author: Identity,
    groupId: GroupId,
    depth: number,
    parents: readonly ChangeId[],
    now: number,
    op: GroupOp,
  ): GroupChange {
    assertInteger('now', now, 0, Number.MAX_SAFE_INTEGER);
    const w = new ByteWriter(256)
      .u8(GROUP_CHANGE_VERSION)
      .bytes(groupId)
      .bytes(author.publicKey)
      .varUint(depth)
      .u8(parents.length);
    for (const p of parents) w.bytes(p);
    w.u64(now);
    writeOp(w, op);
    const body = w.finish();
    return GroupChange.decode(concatBytes(body, author.sign(concatBytes(SIGN_DOMAIN, body))));
  }

  /**
   * Decodes a change and checks its signature. DecodeError for bytes that are not a change
   * (TOO_LARGE before parsing, UNKNOWN_VERSION, UNKNOWN_TYPE for an unknown op, MALFORMED for a
   * create with a group id or parents, a later change without parents, a repeated parent or
   * member, TRUNCATED, TRAILING_BYTES); GroupError BAD_SIGNATURE when the author did not sign it.
   * Whether the author may make the change is the log's question (`log.ts`).
   */
  static decode(bytes: Uint8Array): GroupChange {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('"bytes" expected Uint8Array');
    if (bytes.length > MAX_GROUP_CHANGE_BYTES)
      throw new DecodeError(
        'TOO_LARGE',
        `group change of ${bytes.length} bytes exceeds ${MAX_GROUP_CHANGE_BYTES}`,
      );
    const r = new ByteReader(bytes);
    readVersion(r, 'group change', GROUP_CHANGE_VERSION);
    const groupId = r.bytes(32, 'group id') as GroupId;
    const author = r.bytes(32, 'change author') as Ed25519PublicKey;
    const depth = r.varUint('change depth');
    const p = r.u8('parent count');
    if (p > MAX_PARENTS)
      throw new DecodeError('MALFORMED', `group change names ${p} parents (at most ${MAX_PARENTS})`);
    const parents: ChangeId[] = [];
    for (let i = 0; i < p; i++) {
      const parent = r.bytes(32, 'parent') as ChangeId;
      if (parents.some((q) => equalBytes(q, parent)))
        throw new DecodeError('MALFORMED', 'group change names one parent twice');
      parents.push(parent);
    }
    const time = r.safeU64('change time');
    const op = readOp(r);
    const signedLength = r.offset;
    const signature = r.bytes(64, 'change signature');
    r.end('group change');
    const isCreate = op.kind === 'create';
    if (isCreate !== (p === 0) || isCreate !== equalBytes(groupId, NO_GROUP) || isCreate !== (depth === 0))
      throw new DecodeError(
        'MALFORMED',
        'a create change has no group id, no parent and depth 0; every other change has all three',
      );
    if (!verifyEd25519(signature, concatBytes(SIGN_DOMAIN, bytes.subarray(0, signedLength)), author))
      throw new GroupError('BAD_SIGNATURE', 'This group change is not signed by its author.');
    const id = changeIdOf(bytes);
    return new GroupChange(
      isCreate ? (id as Uint8Array as GroupId) : groupId,
      author,
      depth,
      parents,
      time,
      op,
      id,
      bytes.slice(),
    );
  }

  /** The signed bytes (what travels to members and is stored). */
  serialize(): Uint8Array {
    return this.signed.slice();
  }
}

/** The id of a change's bytes, without decoding them (a copy already held is skipped cheaply). */
export function changeIdOf(bytes: Uint8Array): ChangeId {
  return sha256(concatBytes(ID_DOMAIN, bytes)) as ChangeId;
}

/** Orders changes: by depth, then by id bytes. Parents always come before their children. */
export function compareChanges(a: GroupChange, b: GroupChange): number {
  if (a.depth !== b.depth) return a.depth - b.depth;
  for (let i = 0; i < 32; i++) {
    const d = (a.id[i] ?? 0) - (b.id[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
