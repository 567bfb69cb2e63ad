/**
 * The causal set of a group's signed changes and the one member list every device derives from
 * it (docs/groups.md §3).
 *
 * Convergence: a device admits a change only when it holds the change's parents, and judges it
 * against the state of the change's causal past alone (its ancestors, replayed), which is the
 * same set on every device; so every device admits the same changes. The current state is a
 * replay of all admitted changes in one total order (`compareChanges`: depth, then id), in which
 * a change that a concurrent one made moot (an admin removed before its add, a member added
 * twice) is skipped, the same way everywhere. Two devices holding the same changes therefore
 * show the same member list, whatever order the changes arrived in (the property test in
 * test/core/groups/log.test.ts).
 */
import { bytesToHex } from '../../util/bytes.ts';
import type { Identity } from '../identity/identity.ts';
import type { Ed25519PublicKey } from '../identity/keys.ts';
import {
  GroupChange,
  MAX_PARENTS,
  changeIdOf,
  compareChanges,
  type GroupId,
  type LaterOp,
} from './change.ts';
import { GroupError } from './errors.ts';
import { applyChange, genesisState, type GroupState } from './state.ts';

/** Most changes kept while their parents are missing (the rest are refused until a resync). */
export const MAX_WAITING_CHANGES = 256;

/** One change of the history, in the total order, and whether it took effect. */
export interface HistoryEntry {
  readonly change: GroupChange;
  /** Why the replay skipped it (a concurrent change made it moot); absent when it applied. */
  readonly skipped?: GroupError['code'];
}

/** What one `receive` did. */
export interface Received {
  /** Changes admitted now: the one given and any waiting ones it completed. */
  readonly admitted: readonly GroupChange[];
  /** Waiting changes found invalid once their parents arrived, with the reason. */
  readonly refused: readonly { change: GroupChange; error: GroupError }[];
  /** Changes still waiting for parents. */
  readonly waiting: number;
}

function replay(
  genesis: GroupChange,
  changes: Iterable<GroupChange>,
): { state: GroupState; history: HistoryEntry[] } {
  const ordered = [...changes].sort(compareChanges);
  let state = genesisState(genesis);
  const history: HistoryEntry[] = [];
  for (const change of ordered) {
    if (change === genesis) {
      history.push({ change });
      continue;
    }
    try {
      state = applyChange(state, change);
      history.push({ change });
    } catch (e) {
      if (!(e instanceof GroupError)) throw e;
      history.push({ change, skipped: e.code });
    }
  }
  return { state, history };
}

/** A group's changes as one device holds them. */
export class GroupLog {
  private readonly changes = new Map<string, GroupChange>();
  private readonly waiting = new Map<string, GroupChange>();
  private cached: { state: GroupState; history: HistoryEntry[] } | undefined;

  private constructor(private readonly genesis: GroupChange) {
    this.changes.set(bytesToHex(genesis.id), genesis);
  }

  /** A new group made by `creator`, with `members` (identity keys) and `name`. */
  static create(
    creator: Identity,
    name: string,
    members: readonly Ed25519PublicKey[],
    now: number,
  ): GroupLog {
    return new GroupLog(GroupChange.create(creator, name, members, now));
  }

  /** The log of a group known by its create change (what a new member receives first). */
  static fromGenesis(bytes: Uint8Array): GroupLog {
    const genesis = GroupChange.decode(bytes);
    if (genesis.op.kind !== 'create')
      throw new GroupError('WRONG_GROUP', 'A group starts with its create change.');
    return new GroupLog(genesis);
  }

  get groupId(): GroupId {
    return this.genesis.groupId;
  }

  /** The member list, admins and name after every admitted change. */
  get state(): GroupState {
    return this.view().state;
  }

  /** Every admitted change in the total order, with those the replay skipped marked. */
  get history(): readonly HistoryEntry[] {
    return this.view().history;
  }

  /** Admitted changes that no admitted change names as a parent. */
  heads(): GroupChange[] {
    const named = new Set<string>();
    for (const c of this.changes.values()) for (const p of c.parents) named.add(bytesToHex(p));
    return [...this.changes.values()].filter((c) => !named.has(bytesToHex(c.id))).sort(compareChanges);
  }

  /** Every admitted change's bytes in the total order (what a new member or a resync is sent). */
  export(): Uint8Array[] {
    return this.history.map((h) => h.change.serialize());
  }

  /**
   * Signs `op` by `author` on the current heads, admits it and returns the change. GroupError
   * when the change would not apply to the current state (NOT_ADMIN, NOT_MEMBER, ...): a device
   * never sends a change it already knows to be refused or moot.
   */
  author(author: Identity, op: LaterOp, now: number): GroupChange {
    const parents = this.heads().slice(-MAX_PARENTS);
    const change = GroupChange.next(author, this.groupId, parents, now, op);
    applyChange(this.state, change);
    this.admit(change);
    return change;
  }

  /**
   * Takes a change received from a member. A change already held changes nothing; one whose
   * parents are missing waits (at most `MAX_WAITING_CHANGES`, then TOO_MANY_WAITING). Refused
   * with DecodeError or GroupError: BAD_SIGNATURE, WRONG_GROUP, BAD_DEPTH, and the rules of
   * `applyChange` judged in the change's causal past (NOT_ADMIN, REMOVED_MEMBER, NOT_MEMBER, ...).
   */
  receive(bytes: Uint8Array): Received {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('"bytes" expected Uint8Array');
    const known = bytesToHex(changeIdOf(bytes));
    if (this.changes.has(known) || this.waiting.has(known))
      return { admitted: [], refused: [], waiting: this.waiting.size };
    const change = GroupChange.decode(bytes);
    const hex = bytesToHex(change.id);
    if (change.op.kind === 'create' || bytesToHex(change.groupId) !== bytesToHex(this.groupId)) {
      throw new GroupError('WRONG_GROUP', 'This change belongs to another group.');
    }
    if (!this.hasParents(change)) {
      if (this.waiting.size >= MAX_WAITING_CHANGES)
        throw new GroupError(
          'TOO_MANY_WAITING',
          `More than ${MAX_WAITING_CHANGES} group changes wait for their parents.`,
        );
      this.waiting.set(hex, change);
      return { admitted: [], refused: [], waiting: this.waiting.size };
    }
    this.admit(change);
    const admitted = [change];
    const refused: { change: GroupChange; error: GroupError }[] = [];
    for (let progress = true; progress;) {
      progress = false;
      for (const [id, next] of this.waiting) {
        if (!this.hasParents(next)) continue;
        this.waiting.delete(id);
        progress = true;
        try {
          this.admit(next);
          admitted.push(next);
        } catch (e) {
          if (!(e instanceof GroupError)) throw e;
          refused.push({ change: next, error: e });
        }
      }
    }
    return { admitted, refused, waiting: this.waiting.size };
  }

  private hasParents(change: GroupChange): boolean {
    return change.parents.every((p) => this.changes.has(bytesToHex(p)));
  }

  private admit(change: GroupChange): void {
    const parents = change.parents.map((p) => this.changes.get(bytesToHex(p)) as GroupChange);
    if (change.depth !== 1 + Math.max(...parents.map((p) => p.depth)))
      throw new GroupError('BAD_DEPTH', 'This change does not follow from its parents.');
    applyChange(replay(this.genesis, this.ancestors(parents)).state, change);
    this.changes.set(bytesToHex(change.id), change);
    this.cached = undefined;
  }

  private ancestors(from: readonly GroupChange[]): Set<GroupChange> {
    const seen = new Set<GroupChange>();
    const stack = [...from];
    for (let c = stack.pop(); c !== undefined; c = stack.pop()) {
      if (seen.has(c)) continue;
      seen.add(c);
      for (const p of c.parents) stack.push(this.changes.get(bytesToHex(p)) as GroupChange);
    }
    return seen;
  }

  private view(): { state: GroupState; history: HistoryEntry[] } {
    this.cached ??= replay(this.genesis, this.changes.values());
    return this.cached;
  }
}
