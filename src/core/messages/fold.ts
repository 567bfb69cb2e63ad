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
  const byId = new Map<string, R>();
  for (const r of records) byId.set(r.id, r);
  const deletedIds = new Set<string>();
  const edits = new Map<string, R>();
  // Per target, per person ('in' is the contact, 'out' this user): the latest reaction.
  const reactions = new Map<string, { in?: R; out?: R }>();
  const allowed = (r: R): boolean => {
    const a = r.action!;
    if (a.kind === 'forwarded') return true;
    try {
      checkAction(r.direction, a, r.sentAt, byId.get(a.target));
      return true;
    } catch (e) {
      if (e instanceof MessageActionError) return false;
      throw e;
    }
  };
  for (const r of records) {
    const a = r.action;
    if (a?.kind === 'delete' && allowed(r)) deletedIds.add(a.target);
  }
  for (const r of records) {
    const a = r.action;
    if (a === undefined || deletedIds.has(r.id)) continue;
    if (a.kind === 'edit' && !deletedIds.has(a.target) && allowed(r)) {
      const prev = edits.get(a.target);
      if (prev === undefined || later(r, prev)) edits.set(a.target, r);
    } else if (a.kind === 'reaction' && !deletedIds.has(a.target) && allowed(r)) {
      const slot = reactions.get(a.target) ?? {};
      const prev = slot[r.direction];
      if (prev === undefined || later(r, prev)) slot[r.direction] = r;
      reactions.set(a.target, slot);
    }
  }
  const out: FoldedMessage<R>[] = [];
  for (const r of records) {
    if (!isShown(r)) continue;
    const deleted = deletedIds.has(r.id) || r.redacted === 'deleted';
    const edit = deleted ? undefined : edits.get(r.id);
    const counts = new Map<number, { count: number; mine: boolean }>();
    const slot = deleted ? undefined : reactions.get(r.id);
    for (const x of [slot?.in, slot?.out]) {
      if (x?.action?.kind !== 'reaction' || x.action.reaction === 0) continue;
      const c = counts.get(x.action.reaction) ?? { count: 0, mine: false };
      counts.set(x.action.reaction, { count: c.count + 1, mine: c.mine || x.direction === 'out' });
    }
    let quote: Quote | undefined;
    if (r.action?.kind === 'reply') {
      const t = byId.get(r.action.target);
      if (t === undefined || !isShown(t)) quote = { id: r.action.target, held: false };
      else {
        const tDeleted = deletedIds.has(t.id) || t.redacted === 'deleted';
        const tEdit = tDeleted ? undefined : edits.get(t.id);
        quote = {
          id: t.id,
          held: true,
          outgoing: t.direction === 'out',
          text: tDeleted ? '' : (tEdit?.text ?? t.text),
          deleted: tDeleted,
        };
      }
    }
    out.push({
      record: r,
      text: deleted ? '' : (edit?.text ?? r.text),
      edited: edit !== undefined,
      deleted,
      forwarded: r.action?.kind === 'forwarded',
      ...(quote === undefined ? {} : { quote }),
      reactions: [...counts].sort((a, b) => a[0] - b[0]).map(([reaction, c]) => ({ reaction, ...c })),
    });
  }
  return out;
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
