/**
 * FoldIndex (core/messages/fold.ts): one message folded from the index gives what the whole
 * conversation's fold gave before the index (the linear fold kept here as the oracle), for
 * any records in any order of arrival, a record replaced by a later version included.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  FoldIndex,
  checkAction,
  foldConversation,
  isShown,
  MessageActionError,
  type ActionRecord,
  type FoldedMessage,
  type MessageAction,
  type Quote,
} from '../../../src/core/messages/index.ts';

const later = (a: ActionRecord, b: ActionRecord): boolean =>
  a.sentAt > b.sentAt || (a.sentAt === b.sentAt && a.id > b.id);

/** The linear fold the index replaced (one pass to index, one to apply), as the oracle. */
function oracle<R extends ActionRecord>(records: readonly R[]): FoldedMessage<R>[] {
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

const hex = (n: number): string => n.toString(16).padStart(32, '0');

/** A conversation of up to 40 records: messages, replies and actions naming earlier or unknown ids. */
const conversation = fc
  .array(
    fc.record({
      direction: fc.constantFrom<'in' | 'out'>('in', 'out'),
      sentAt: fc.integer({ min: 0, max: 30 * 3600_000 }),
      kind: fc.constantFrom('plain', 'plain', 'reply', 'forwarded', 'reaction', 'edit', 'delete'),
      target: fc.nat(45),
      reaction: fc.integer({ min: 0, max: 7 }),
      redacted: fc.constantFrom<'deleted' | 'hidden' | undefined>(
        undefined,
        undefined,
        undefined,
        'deleted',
        'hidden',
      ),
      text: fc.constantFrom('a', 'b', 'c'),
    }),
    { maxLength: 40 },
  )
  .map((specs) =>
    specs.map((x, i): ActionRecord => {
      const target = hex(x.target);
      const action: MessageAction | undefined =
        x.kind === 'plain'
          ? undefined
          : x.kind === 'forwarded'
            ? { kind: 'forwarded' }
            : x.kind === 'reaction'
              ? { kind: 'reaction', target, reaction: x.reaction }
              : { kind: x.kind as 'reply' | 'edit' | 'delete', target };
      return {
        direction: x.direction,
        id: hex(i),
        sentAt: x.sentAt,
        text: x.text,
        ...(action === undefined ? {} : { action }),
        ...(x.redacted === undefined ? {} : { redacted: x.redacted }),
      };
    }),
  );

describe('FoldIndex', () => {
  it('folds a whole conversation as the linear fold did', () => {
    fc.assert(
      fc.property(conversation, (records) => {
        assert.deepEqual(foldConversation(records), oracle(records));
      }),
      { numRuns: 500 },
    );
  });

  it('folds each message alike whatever order the records arrived in, and with versions replaced', () => {
    fc.assert(
      fc.property(conversation, fc.integer(), (records, seed) => {
        const order = fc.sample(fc.shuffledSubarray(records, { minLength: records.length }), {
          seed,
          numRuns: 1,
        })[0]!;
        const index = new FoldIndex<ActionRecord>();
        // An earlier version of each record first (unredacted), then the stored one.
        for (const r of order) {
          const { redacted: _, ...earlier } = r;
          index.put({ ...earlier, text: 'earlier' });
        }
        for (const r of order) index.put(r);
        const expected = oracle(records);
        const got = records.filter(isShown).map((r) => index.fold(r));
        assert.deepEqual(got, expected);
        for (const r of records)
          if (r.action?.kind === 'reply')
            assert.ok(index.repliesTo(r.action.target).includes(r), 'a reply is found by what it quotes');
      }),
      { numRuns: 300 },
    );
  });
});
