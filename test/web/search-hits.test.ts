/**
 * collectHits (src/web/search.ts) at bounded cost: the newest `limit` hits across
 * conversations are the ones the unbounded scan found (kept here as the oracle: every
 * conversation's newest `limit` hits, all turned into views, sorted, cut), and views are made
 * for the returned hits only.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ChatMessage, ContactId, ContactSummary, MessageId } from '../../src/web/app-api.ts';
import { collectHits, searchKey, type SearchHit } from '../../src/web/search.ts';

interface Rec {
  readonly id: string;
  readonly sentAt: number;
  readonly text: string;
}

const contactOf = (i: number): ContactSummary => ({ id: `c${i}` as ContactId }) as ContactSummary;
const viewOf = (m: Rec): ChatMessage =>
  ({ id: m.id as MessageId, sentAt: m.sentAt, text: m.text }) as unknown as ChatMessage;

function oracle(convs: readonly Rec[][], key: string, limit: number): SearchHit[] {
  const newer = (a: SearchHit, b: SearchHit): number =>
    b.message.sentAt - a.message.sentAt || (a.message.id < b.message.id ? -1 : 1);
  const hits: SearchHit[] = [];
  convs.forEach((messages, c) => {
    // Each conversation's newest `limit` by the same order as the final sort, so two hits of
    // one millisecond are cut the same way (by id) here and in the bounded list.
    const own = messages
      .filter((m) => searchKey(m.text).includes(key))
      .map((m) => ({ contact: contactOf(c), message: viewOf(m) }));
    hits.push(...own.sort(newer).slice(0, limit));
  });
  return hits.sort(newer).slice(0, limit);
}

/** Conversations in their order (sentAt ascending), texts from a small alphabet. */
const conversations = fc.array(
  fc
    .array(
      fc.record({
        sentAt: fc.integer({ min: 0, max: 200 }),
        text: fc.constantFrom('ab', 'b', 'ca', 'E', ''),
      }),
      {
        maxLength: 30,
      },
    )
    .map((ms) => ms.sort((a, b) => a.sentAt - b.sentAt)),
  { maxLength: 8 },
);

describe('collectHits', () => {
  it('returns the newest hits across conversations, as the unbounded scan did', () => {
    fc.assert(
      fc.property(
        conversations,
        fc.constantFrom('a', 'b', 'e', 'z'),
        fc.integer({ min: 1, max: 12 }),
        (raw, key, limit) => {
          let n = 0;
          const convs = raw.map((ms) => ms.map((m) => ({ ...m, id: (n++).toString(16).padStart(8, '0') })));
          const got = collectHits(
            convs.map((messages, c) => ({ contact: () => contactOf(c), messages })),
            key,
            limit,
            (m) => m.text,
            viewOf,
          );
          assert.deepEqual(got, oracle(convs, key, limit));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('finds a hit behind a same-millisecond message of a larger id', () => {
    // conversationOrder (engine/view.ts) puts a received message before a sent one of the same
    // millisecond whatever their ids, so within one millisecond a conversation is not in id
    // order: here ids are a scramble of the positions, unique but in no order.
    fc.assert(
      fc.property(
        conversations,
        fc.constantFrom('a', 'b', 'e', 'z'),
        fc.integer({ min: 1, max: 12 }),
        (raw, key, limit) => {
          let n = 0;
          const scrambled = (): string => (Math.imul(n++, 0x9e3779b1) >>> 0).toString(16).padStart(8, '0');
          const convs = raw.map((ms) => ms.map((m) => ({ ...m, id: scrambled() })));
          const got = collectHits(
            convs.map((messages, c) => ({ contact: () => contactOf(c), messages })),
            key,
            limit,
            (m) => m.text,
            viewOf,
          );
          assert.deepEqual(got, oracle(convs, key, limit));
        },
      ),
      { numRuns: 500 },
    );
    const hits = collectHits(
      [
        { contact: contactOf(0), messages: [{ id: 'b', sentAt: 5, text: 'e' }] },
        {
          contact: contactOf(1),
          messages: [
            { id: 'a', sentAt: 5, text: 'e' },
            { id: 'c', sentAt: 5, text: 'e' },
          ],
        },
      ],
      'e',
      1,
      (m) => m.text,
      viewOf,
    );
    assert.deepEqual(
      hits.map((h) => h.message.id),
      ['a'],
    );
  });

  it('makes views and contact summaries for the returned hits only', () => {
    const convs = Array.from({ length: 100 }, (_, c) =>
      Array.from({ length: 1000 }, (_, i) => ({
        id: `${c}-${i}`,
        sentAt: i * 100 + c,
        text: 'every message has e',
      })),
    );
    let views = 0;
    let contacts = 0;
    const hits = collectHits(
      convs.map((messages, c) => ({ contact: () => (contacts++, contactOf(c)), messages })),
      'e',
      50,
      (m) => m.text,
      (m) => (views++, viewOf(m)),
    );
    assert.equal(hits.length, 50);
    assert.equal(hits[0]!.message.sentAt, 999 * 100 + 99, 'the newest first');
    assert.equal(views, 50);
    assert.equal(contacts, 50);
  });
});
