/**
 * collectHits (src/web/search.ts) at bounded cost: the newest `limit` hits across
 * conversations are the ones the unbounded scan found (kept here as the oracle: every
 * conversation's newest `limit` hits, all turned into views, sorted, cut), and views are made
 * for the returned hits only. SearchIndex, told of changes as the real engine tells it (and
 * not told of some), answers what the full scan of the same records answers; and the real
 * engine's app layer (RealApi over SQLite) searches through it across new, deleted and
 * disappearing-conversation changes and after a lock and unlock.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { nodePlatform } from '../../src/api/node-platform.ts';
import { RealApi } from '../../src/web/engine/real-api.ts';
import fc from 'fast-check';
import type { ChatMessage, ContactId, ContactSummary, MessageId } from '../../src/web/app-api.ts';
import { isShown } from '../../src/core/messages/actions.ts';
import {
  collectHits,
  queryKey,
  searchKey,
  SearchIndex,
  type SearchHit,
  type SearchRecord,
  type SearchSource,
} from '../../src/web/search.ts';

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

/** A stored record of the model store. */
type Stored = SearchRecord & { direction: 'in' | 'out' };

const order = (a: Stored, b: Stored): number =>
  a.sentAt - b.sentAt ||
  (a.direction === b.direction ? (a.id < b.id ? -1 : 1) : a.direction === 'in' ? -1 : 1);

/** A store of conversations read as the engine reads them, a macrotask per read. */
class ModelStore implements SearchSource<Stored> {
  readonly convs = new Map<string, Stored[]>();
  reads = 0;
  snapshot(contact: string): Stored[] {
    return [...(this.convs.get(contact) ?? [])].sort(order);
  }
  async conversation(contact: string): Promise<readonly Stored[]> {
    this.reads++;
    const out = this.snapshot(contact);
    await new Promise((r) => setImmediate(r));
    return out;
  }
  async record(direction: 'in' | 'out', id: string): Promise<Stored | undefined> {
    await Promise.resolve();
    for (const ms of this.convs.values()) {
      const m = ms.find((x) => x.id === id && x.direction === direction);
      if (m !== undefined) return m;
    }
    return undefined;
  }
}

type Op =
  | { kind: 'add'; c: number; sentAt: number; text: string; out: boolean; act: number }
  | { kind: 'redact' | 'silent' | 'expire'; pick: number; how: 'deleted' | 'hidden' }
  | { kind: 'forget'; c: number }
  | { kind: 'offerLate'; c: number }
  | { kind: 'start' | 'idle' | 'tick' }
  | { kind: 'search'; query: string; limit: number };

const TEXTS = ['ab', 'b', 'ca', 'E', '', '\u00c9t\u00e9', '\ufb01le'];
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      c: fc.integer({ min: 0, max: 4 }),
      sentAt: fc.integer({ min: 0, max: 60 }),
      text: fc.constantFrom(...TEXTS),
      out: fc.boolean(),
      act: fc.integer({ min: 0, max: 5 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constantFrom('redact' as const, 'silent' as const, 'expire' as const),
      pick: fc.nat(),
      how: fc.constantFrom('deleted' as const, 'hidden' as const),
    }),
  },
  fc.record({ kind: fc.constant('forget' as const), c: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant('offerLate' as const), c: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constantFrom('start' as const, 'idle' as const, 'tick' as const) }),
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('search' as const),
      query: fc.constantFrom('a', 'b', 'e', 'z', 'FI', '\u00e9'),
      limit: fc.integer({ min: 1, max: 8 }),
    }),
  },
);

/** The full scan of the real engine's search: every conversation read, shown records matched. */
function fullScan(store: ModelStore, contacts: readonly string[], key: string, limit: number): string[] {
  const hits = collectHits(
    contacts.map((c) => ({
      contact: contactOf(Number(c.slice(1))),
      messages: store.snapshot(c).filter(isShown),
    })),
    key,
    limit,
    (m) => m.text,
    (m) => ({ id: `${m.direction}:${m.id}` }) as unknown as ChatMessage,
  );
  return hits.map((h) => `${h.contact.id}/${h.message.id}`);
}

describe('SearchIndex', () => {
  it('answers what the full scan answers, through changes told, missed and overtaken', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const store = new ModelStore();
        const index = new SearchIndex(store, {
          yieldNow: () => new Promise((r) => setImmediate(r)),
          sliceMs: 0,
        });
        let n = 0;
        const all = (): Stored[] => [...store.convs.values()].flat();
        let late: { c: string; stamp: number; records: Stored[] } | undefined;
        for (const o of ops) {
          const pending = late;
          late = undefined;
          switch (o.kind) {
            case 'add': {
              const c = `c${o.c}`;
              const ms = store.convs.get(c) ?? [];
              store.convs.set(c, ms);
              const target = ms[o.act % Math.max(1, ms.length)];
              // Now and then an action record (not shown, never a hit) or a reply (shown).
              const action =
                o.act === 1 && target !== undefined
                  ? { kind: 'reaction' as const, target: target.id, reaction: 1 }
                  : o.act === 2 && target !== undefined
                    ? { kind: 'edit' as const, target: target.id }
                    : o.act === 3 && target !== undefined
                      ? { kind: 'reply' as const, target: target.id }
                      : undefined;
              const m: Stored = {
                id: (n++).toString(16).padStart(32, '0'),
                contact: c,
                direction: o.out ? 'out' : 'in',
                sentAt: o.sentAt,
                text: o.text,
                ...(action === undefined ? {} : { action }),
              };
              ms.push(m);
              index.put(m);
              break;
            }
            case 'redact':
            case 'silent':
            case 'expire': {
              const list = all();
              const m = list[o.pick % Math.max(1, list.length)];
              if (m === undefined) break;
              const ms = store.convs.get(m.contact)!;
              const at = ms.indexOf(m);
              if (o.kind === 'expire') {
                ms.splice(at, 1);
                index.remove(m.contact, [m]);
                break;
              }
              const next: Stored = { ...m, text: '', redacted: o.how };
              ms[at] = next;
              // 'silent': a change the index is not told of (a hit must still not show it).
              if (o.kind === 'redact') index.put(next);
              break;
            }
            case 'forget':
              store.convs.delete(`c${o.c}`);
              index.forget(`c${o.c}`);
              break;
            case 'offerLate': {
              // A history read (the chat list's) offered one change later than it was taken.
              const c = `c${o.c}`;
              if (store.convs.has(c)) late = { c, stamp: index.stamp(c), records: store.snapshot(c) };
              break;
            }
            case 'start':
              index.start(store.convs.keys());
              break;
            case 'idle':
              await index.idle();
              break;
            case 'tick':
              await new Promise((r) => setImmediate(r));
              break;
            case 'search': {
              const key = queryKey(o.query);
              const contacts = [...store.convs.keys()];
              const got = await index.search(contacts, key, o.limit);
              assert.deepEqual(
                got.map((h) => `${h.contact.replace('c', 'c')}/${h.record.direction}:${h.record.id}`),
                fullScan(store, contacts, key, o.limit),
              );
              break;
            }
          }
          if (pending !== undefined && store.convs.has(pending.c))
            index.offer(pending.c, pending.records, pending.stamp);
        }
        await index.idle();
        const contacts = [...store.convs.keys()];
        for (const q of ['a', 'b', 'e', 'fi']) {
          const got = await index.search(contacts, q, 8);
          assert.deepEqual(
            got.map((h) => `${h.contact}/${h.record.direction}:${h.record.id}`),
            fullScan(store, contacts, q, 8),
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reads nothing from storage once built, and builds from the reads it is offered', async () => {
    const store = new ModelStore();
    for (let c = 0; c < 20; c++)
      store.convs.set(
        `c${c}`,
        Array.from({ length: 50 }, (_, i) => ({
          id: (c * 1000 + i).toString(16).padStart(32, '0'),
          contact: `c${c}`,
          direction: i % 2 === 0 ? ('out' as const) : ('in' as const),
          sentAt: i * 10 + c,
          text: `Message ${i} of ${c}`,
        })),
      );
    const index = new SearchIndex(store);
    const contacts = [...store.convs.keys()];
    // The chat list's reads, offered: no read of its own is needed to build.
    for (const c of contacts) {
      const stamp = index.stamp(c);
      index.offer(c, await store.conversation(c), stamp);
    }
    const offeredReads = store.reads;
    index.start(contacts);
    await index.idle();
    assert.equal(store.reads, offeredReads, 'nothing read again');
    assert.ok(contacts.every((c) => index.isBuilt(c)));
    const hits = await index.search(contacts, searchKey('MESSAGE 49'), 50);
    assert.equal(store.reads, offeredReads, 'the search read no conversation');
    assert.deepEqual(
      hits.map((h) => h.record.text),
      Array.from({ length: 20 }, (_, c) => `Message 49 of ${19 - c}`),
    );
    // A new message is found at once; one deleted is not.
    const m: Stored = {
      id: 'f'.repeat(32),
      contact: 'c3',
      direction: 'in',
      sentAt: 10_000,
      text: 'brand new',
    };
    store.convs.get('c3')!.push(m);
    index.put(m);
    assert.deepEqual(
      (await index.search(contacts, 'brand', 5)).map((h) => h.record.id),
      [m.id],
    );
    store.convs.get('c3')!.pop();
    index.remove('c3', [m]);
    assert.deepEqual(await index.search(contacts, 'brand', 5), []);
    assert.equal(store.reads, offeredReads);
    // A change the index was not told of: the hit read back no longer holds, so the
    // conversation is read again and the answer is the full scan's.
    const ms = store.convs.get('c19')!;
    ms[49] = { ...ms[49]!, text: '', redacted: 'deleted' };
    const again = await index.search(contacts, searchKey('MESSAGE 49'), 50);
    assert.deepEqual(
      again.map((h) => `${h.contact}/${h.record.direction}:${h.record.id}`),
      fullScan(store, contacts, searchKey('MESSAGE 49'), 50),
    );
    assert.equal(again.length, 19);
    assert.equal(store.reads, offeredReads + 1, 'only that conversation read again');
  });
});

describe('RealApi search (SQLite, no node reachable: the engine runs offline)', () => {
  it('finds what is stored, not what was deleted, before and after a lock', async () => {
    const root = await mkdtemp(join(tmpdir(), 'p2pcomm-search-api-'));
    const open = (name: string): Promise<RealApi> =>
      RealApi.open({
        database: join(root, name),
        platform: nodePlatform(),
        // A port nothing listens on: messages are stored and queued, never published.
        localNodeUrl: 'ws://127.0.0.1:9',
        scrypt: { logN: 10, r: 8, p: 1 },
        onError: () => undefined,
      });
    const alice = await open('alice');
    const bob = await open('bob');
    const carol = await open('carol');
    try {
      await alice.createIdentity('Alice', 'alice password');
      await bob.createIdentity('Bob', 'bob password');
      await carol.createIdentity('Carol', 'carol password');
      const bobId = (await alice.addContact(await bob.myInviteCode())).id;
      const carolId = (await alice.addContact(await carol.myInviteCode())).id;
      await alice.send(bobId, 'Lunch on Friday?');
      const toDelete = await alice.send(bobId, 'lunch is cancelled');
      await alice.send(carolId, 'Carol, LUNCH too?');
      const texts = async (q: string): Promise<string[]> =>
        (await alice.search(q)).map((h) => `${h.contact.displayName}: ${h.message.text}`);
      // Before the index is built (no chat list read yet): the full scan answers.
      assert.deepEqual(await texts('lunch'), [
        'Carol: Carol, LUNCH too?',
        'Bob: lunch is cancelled',
        'Bob: Lunch on Friday?',
      ]);
      await alice.conversations();
      await alice.deleteForMe(toDelete.id);
      assert.deepEqual(await texts('lunch'), ['Carol: Carol, LUNCH too?', 'Bob: Lunch on Friday?']);
      const later = await alice.send(bobId, 'lunch moved to noon');
      assert.deepEqual(await texts('noon'), ['Bob: lunch moved to noon']);
      // A deleted conversation keeps what is still on its way (the engine holds it until it
      // is delivered): it is still found, as the full scan finds it.
      await alice.deleteConversation(carolId);
      const all = ['Bob: lunch moved to noon', 'Carol: Carol, LUNCH too?', 'Bob: Lunch on Friday?'];
      assert.deepEqual(await texts('lunch'), all);
      await alice.lock();
      await alice.unlock('alice password');
      await alice.conversations();
      assert.deepEqual(await texts('LUNCH'), all);
      assert.equal((await alice.search('lunch', { limit: 1 }))[0]?.message.id, later.id);
    } finally {
      await alice.close();
      await bob.close();
      await carol.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
