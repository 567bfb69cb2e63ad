/**
 * The membership state of a group and the rules of one change (docs/groups.md §3). Pure: a
 * state in, a new state out or a typed refusal; the state passed in is never changed.
 */
import { bytesToHex } from '../../util/bytes.ts';
import type { Ed25519PublicKey } from '../identity/keys.ts';
import { MAX_GROUP_MEMBERS, type GroupChange, type GroupId } from './change.ts';
import { GroupError } from './errors.ts';

/** One member: a person (identity key), with the admin flag. */
export interface GroupMember {
  readonly key: Ed25519PublicKey;
  readonly admin: boolean;
}

/** What every device of every member computes from the same set of changes. */
export interface GroupState {
  readonly groupId: GroupId;
  readonly name: string;
  /** By hex identity key, in the order members were added. */
  readonly members: ReadonlyMap<string, GroupMember>;
  /** Hex identity keys of people removed or gone, so their later changes say REMOVED_MEMBER. */
  readonly gone: ReadonlySet<string>;
}

function without(set: ReadonlySet<string>, hex: string): Set<string> {
  const next = new Set(set);
  next.delete(hex);
  return next;
}

function adminCount(members: ReadonlyMap<string, GroupMember>): number {
  let n = 0;
  for (const m of members.values()) if (m.admin) n++;
  return n;
}

/** The state a create change makes: its author the one admin, the named people members. */
export function genesisState(change: GroupChange): GroupState {
  if (change.op.kind !== 'create') throw new RangeError('"change" is not a create change');
  const members = new Map<string, GroupMember>([
    [bytesToHex(change.author), { key: change.author, admin: true }],
  ]);
  for (const key of change.op.members) members.set(bytesToHex(key), { key, admin: false });
  return { groupId: change.groupId, name: change.op.name, members, gone: new Set() };
}

/**
 * The state after `change`, or GroupError: NOT_MEMBER / REMOVED_MEMBER for an author who is not
 * a member; NOT_ADMIN for a non-admin's add, remove, promote, demote or rename; NOT_MEMBER for a
 * remove, promote or demote of a non-member; NO_CHANGE for an add of a member, a promotion of an
 * admin, a demotion of a non-admin, a remove naming its author (that is a leave); LAST_ADMIN for
 * a leave or self-demotion of the last admin while others stay; MEMBER_LIMIT past
 * `MAX_GROUP_MEMBERS`; WRONG_GROUP for a change of another group.
 */
export function applyChange(state: GroupState, change: GroupChange): GroupState {
  const { op } = change;
  if (op.kind === 'create') throw new GroupError('WRONG_GROUP', 'A group has one create change.');
  if (bytesToHex(change.groupId) !== bytesToHex(state.groupId))
    throw new GroupError('WRONG_GROUP', 'This change belongs to another group.');
  const authorHex = bytesToHex(change.author);
  const author = state.members.get(authorHex);
  if (author === undefined)
    throw state.gone.has(authorHex)
      ? new GroupError('REMOVED_MEMBER', 'The author of this change is no longer a member.')
      : new GroupError('NOT_MEMBER', 'The author of this change is not a member.');
  if (op.kind === 'leave') {
    if (author.admin && adminCount(state.members) === 1 && state.members.size > 1)
      throw new GroupError('LAST_ADMIN', 'The last admin must make someone else admin before leaving.');
    const members = new Map(state.members);
    members.delete(authorHex);
    return { ...state, members, gone: new Set(state.gone).add(authorHex) };
  }
  if (!author.admin) throw new GroupError('NOT_ADMIN', 'Only an admin can change the members or the name.');
  switch (op.kind) {
    case 'rename':
      return { ...state, name: op.name };
    case 'add': {
      if (state.members.size + op.members.length > MAX_GROUP_MEMBERS)
        throw new GroupError('MEMBER_LIMIT', `A group has at most ${MAX_GROUP_MEMBERS} members.`);
      const members = new Map(state.members);
      let gone = new Set(state.gone);
      for (const key of op.members) {
        const hex = bytesToHex(key);
        if (members.has(hex)) throw new GroupError('NO_CHANGE', 'This person is a member already.');
        members.set(hex, { key, admin: false });
        gone = without(gone, hex);
      }
      return { ...state, members, gone };
    }
    case 'remove':
    case 'promote':
    case 'demote': {
      const hex = bytesToHex(op.member);
      const target = state.members.get(hex);
      if (target === undefined) throw new GroupError('NOT_MEMBER', 'The person named is not a member.');
      const members = new Map(state.members);
      if (op.kind === 'remove') {
        if (hex === authorHex)
          throw new GroupError('NO_CHANGE', 'A member leaves the group rather than removing itself.');
        members.delete(hex);
        return { ...state, members, gone: new Set(state.gone).add(hex) };
      }
      if (target.admin === (op.kind === 'promote'))
        throw new GroupError(
          'NO_CHANGE',
          op.kind === 'promote' ? 'This member is an admin already.' : 'This member is not an admin.',
        );
      if (op.kind === 'demote' && adminCount(state.members) === 1)
        throw new GroupError('LAST_ADMIN', 'A group keeps at least one admin.');
      members.set(hex, { key: target.key, admin: op.kind === 'promote' });
      return { ...state, members };
    }
  }
}
