/**
 * A conversation as people see it: stored records (plain messages and actions, in the order
 * the engine lists them) folded into the messages shown, each with its reactions, latest
 * allowed edit, deletion and quote. Pure and bounded: one pass to index, one to apply, linear
 * in the records. An action that is not allowed (`checkAction`) changes nothing; one whose
 * target has not arrived yet (chain deliveries come out of order) applies once it does.
 */
import { checkAction, isShown, MessageActionError, type ActionRecord } from './actions.ts';

/** The quote above a reply: the original when held, else only that it is not. */
export type Quote =
  | {
      readonly id: string;
      readonly held: true;
      readonly outgoing: boolean;
      readonly text: string;
      readonly deleted: boolean;
    }
  | { readonly id: string; readonly held: false };

/** Reactions to one message, one per person (the latest they sent). */
export interface ReactionCount {
  /** Wire value 1..6 (`REACTIONS[reaction - 1]`). */
  readonly reaction: number;
  readonly count: number;
  /** Whether one of them is this device's user. */
  readonly mine: boolean;
}

/** One message as shown. */
export interface FoldedMessage<R extends ActionRecord> {
  readonly record: R;
  /** The latest allowed edit's text, '' once deleted. */
  readonly text: string;
  readonly edited: boolean;
  readonly deleted: boolean;
  readonly forwarded: boolean;
  readonly quote?: Quote;
  readonly reactions: readonly ReactionCount[];
}

const later = (a: ActionRecord, b: ActionRecord): boolean =>
  a.sentAt > b.sentAt || (a.sentAt === b.sentAt && a.id > b.id);

/** Folds a conversation's records (any order) into the messages shown, in the records' order. */
export function foldConversation<R extends ActionRecord>(records: readonly R[]): FoldedMessage<R>[] {
  const index = new FoldIndex(records);
  const out: FoldedMessage<R>[] = [];
  for (const r of records) if (isShown(r)) out.push(index.fold(r));
  return out;
}

/**
 * A conversation's records indexed by id and by the message each action names, so that one
 * message can be folded from its own actions alone (and the quote of a reply from its
 * original's): a new record costs an update of the index and a fold of the few messages it
 * touches, not a pass over the whole history. `foldConversation` is this index folded for
 * every shown record, so both give the same answer by construction.
 */
export class FoldIndex<R extends ActionRecord> {
  readonly #byId = new Map<string, R>();
  /** Action records (reaction, edit, delete) by the id of the message they act on. */
  readonly #actions = new Map<string, Map<string, R>>();
  /** Replies by the id of the message they quote. */
  readonly #replies = new Map<string, Set<string>>();

  constructor(records: readonly R[] = []) {
    for (const r of records) this.put(r);
  }

  /** Adds a record, or replaces the one with its id (a status change, a redaction). */
  put(r: R): void {
    const old = this.#byId.get(r.id);
    if (old !== undefined) this.#unlink(old);
    this.#byId.set(r.id, r);
    const a = r.action;
    if (a === undefined || a.kind === 'forwarded') return;
    if (a.kind === 'reply') {
      let set = this.#replies.get(a.target);
      if (set === undefined) this.#replies.set(a.target, (set = new Set()));
      set.add(r.id);
    } else {
      let map = this.#actions.get(a.target);
      if (map === undefined) this.#actions.set(a.target, (map = new Map()));
      map.set(r.id, r);
    }
  }

  /** A record by id. */
  get(id: string): R | undefined {
    return this.#byId.get(id);
  }

  /** The action records (reactions, edits, deletions) naming message `id`. */
  actionsOn(id: string): R[] {
    return [...(this.#actions.get(id)?.values() ?? [])];
  }

  /** The replies quoting message `id` (their quotes show it). */
  repliesTo(id: string): R[] {
    const out: R[] = [];
    for (const rid of this.#replies.get(id) ?? []) {
      const r = this.#byId.get(rid);
      if (r !== undefined) out.push(r);
    }
    return out;
  }

  /** Whether message `id` was deleted for everyone by an allowed deletion. */
  deleted(id: string): boolean {
    for (const r of this.#actions.get(id)?.values() ?? [])
      if (r.action?.kind === 'delete' && this.#allowed(r)) return true;
    return false;
  }

  /** Record `r` (a shown one) as people see it: its actions applied. */
  fold(r: R): FoldedMessage<R> {
    const deleted = this.deleted(r.id) || r.redacted === 'deleted';
    const edit = deleted ? undefined : this.#latestEdit(r.id);
    const counts = new Map<number, { count: number; mine: boolean }>();
    if (!deleted) {
      // Per person ('in' is the contact, 'out' this user): the latest allowed reaction.
      const latest: { in?: R; out?: R } = {};
      for (const x of this.#actions.get(r.id)?.values() ?? []) {
        if (x.action?.kind !== 'reaction' || !this.#allowed(x)) continue;
        const prev = latest[x.direction];
        if (prev === undefined || later(x, prev)) latest[x.direction] = x;
      }
      for (const x of [latest.in, latest.out]) {
        if (x?.action?.kind !== 'reaction' || x.action.reaction === 0) continue;
        const c = counts.get(x.action.reaction) ?? { count: 0, mine: false };
        counts.set(x.action.reaction, { count: c.count + 1, mine: c.mine || x.direction === 'out' });
      }
    }
    let quote: Quote | undefined;
    if (r.action?.kind === 'reply') {
      const t = this.#byId.get(r.action.target);
      if (t === undefined || !isShown(t)) quote = { id: r.action.target, held: false };
      else {
        const tDeleted = this.deleted(t.id) || t.redacted === 'deleted';
        const tEdit = tDeleted ? undefined : this.#latestEdit(t.id);
        quote = {
          id: t.id,
          held: true,
          outgoing: t.direction === 'out',
          text: tDeleted ? '' : (tEdit?.text ?? t.text),
          deleted: tDeleted,
        };
      }
    }
    return {
      record: r,
      text: deleted ? '' : (edit?.text ?? r.text),
      edited: edit !== undefined,
      deleted,
      forwarded: r.action?.kind === 'forwarded',
      ...(quote === undefined ? {} : { quote }),
      reactions: [...counts].sort((a, b) => a[0] - b[0]).map(([reaction, c]) => ({ reaction, ...c })),
    };
  }

  #latestEdit(id: string): R | undefined {
    let edit: R | undefined;
    for (const x of this.#actions.get(id)?.values() ?? [])
      if (x.action?.kind === 'edit' && this.#allowed(x) && (edit === undefined || later(x, edit))) edit = x;
    return edit;
  }

  #allowed(r: R): boolean {
    const a = r.action!;
    if (a.kind === 'forwarded') return true;
    try {
      checkAction(r.direction, a, r.sentAt, this.#byId.get(a.target));
      return true;
    } catch (e) {
      if (e instanceof MessageActionError) return false;
      throw e;
    }
  }

  #unlink(r: R): void {
    const a = r.action;
    if (a === undefined || a.kind === 'forwarded') return;
    if (a.kind === 'reply') this.#replies.get(a.target)?.delete(r.id);
    else this.#actions.get(a.target)?.delete(r.id);
  }
}

/**
 * The ids whose stored text must go when `target` is deleted for everyone: the target and
 * every edit of it (each held a version of its text).
 */
export function textsOf(records: readonly ActionRecord[], target: string): string[] {
  const ids = [target];
  for (const r of records) if (r.action?.kind === 'edit' && r.action.target === target) ids.push(r.id);
  return ids;
}

/** The first line of a text, as a quote shows it (at most 200 characters). */
export function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}\u2026` : line;
}
