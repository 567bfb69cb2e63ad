/**
 * A new message in a conversation that holds message actions, as the real engine's app layer
 * shows it (src/web/engine/real-api.ts: the action check, then the messages it touches folded
 * and shown again), with 100,000 stored messages in SQLite: before, each new message read the
 * whole history twice and folded all of it (received, then the whole view filtered); now the
 * conversation is indexed once (core/messages FoldIndex) and a new message folds only what it
 * touches. Both paths run here on the same store, in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContactId } from '../src/core/delivery/ports.ts';
import type { IncomingMessage, Message, OutgoingMessage } from '../src/core/delivery/messages.ts';
import { DELIVERY_STORES, DeliveryStore } from '../src/core/delivery/store.ts';
import {
  FoldIndex,
  MessageActionsService,
  foldConversation,
  type MessagePort,
} from '../src/core/messages/index.ts';
import { openSqliteStore } from '../src/storage/sqlite.ts';
import { fmtMs, percentile, type Bench } from './table.ts';

const MESSAGES = 100_000;
const BEFORE_RUNS = 5;
const AFTER_RUNS = 50;
const bob = 'bob' as ContactId;
const hex = (n: number): string => n.toString(16).padStart(32, '0');

function record(i: number): Message {
  const base = { id: hex(i), contact: bob, sentAt: 1_700_000_000_000 + i * 1000, text: `Message ${i}` };
  // Every 50th a reaction to the one before, every 500th an edit of our own message before it.
  const action =
    i % 500 === 0
      ? { kind: 'edit' as const, target: hex(i - 2) }
      : i % 50 === 0
        ? { kind: 'reaction' as const, target: hex(i - 1), reaction: 1 }
        : undefined;
  if (i % 2 === 0) {
    const out: OutgoingMessage = {
      ...base,
      direction: 'out',
      seq: i + 1,
      status: 'delivered',
      publications: 0,
      attempts: 0,
      ...(action === undefined ? {} : { action }),
    };
    return out;
  }
  const inc: IncomingMessage = {
    ...base,
    direction: 'in',
    receivedAt: base.sentAt,
    route: 'direct',
    read: true,
    ...(action === undefined || action.kind === 'edit' ? {} : { action }),
  };
  return inc;
}

const bench: Bench = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'p2pcomm-actions-bench-'));
  const db = await openSqliteStore(join(dir, 'profile.db'), { version: 1, stores: [...DELIVERY_STORES] });
  try {
    const store = new DeliveryStore(db);
    for (let i = 1; i <= MESSAGES; i += 5000) {
      const ops = [];
      for (let j = i; j < i + 5000 && j <= MESSAGES; j++) ops.push(...store.putOps(record(j)));
      await store.write(ops);
    }
    // As DeliveryEngine.messages: both directions read and merged in the conversation's order.
    const records = async (): Promise<Message[]> => {
      const [inc, out] = await Promise.all([store.conversation(bob, 'in'), store.conversation(bob, 'out')]);
      return [...inc, ...out].sort((a, b) => a.sentAt - b.sentAt || (a.id < b.id ? -1 : 1));
    };
    const port: MessagePort = {
      isContact: (c) => c === bob,
      find: async (id) => (await store.byId('in', id)) ?? store.byId('out', id),
      records,
      send: () => Promise.reject(new Error('not sent in this bench')),
      redact: () => Promise.resolve([]),
    };
    let next = MESSAGES + 1;
    const arrive = async (): Promise<IncomingMessage> => {
      const m = record(next % 2 === 0 ? ++next : next) as IncomingMessage;
      next++;
      await store.write(store.putOps(m));
      return m;
    };

    // Before: received() read the records, then the whole view was folded and filtered.
    const before: number[] = [];
    for (let i = 0; i < BEFORE_RUNS; i++) {
      const m = await arrive();
      const t0 = performance.now();
      (await records()).find((r) => r.id === m.id);
      const shown = foldConversation(await records()).filter((f) => f.record.id === m.id);
      if (shown.length !== 1) throw new Error('the new message is not shown');
      before.push(performance.now() - t0);
    }

    // Now: the index is built on first use, then each new message is noted and folded alone.
    const service = new MessageActionsService(port);
    const t0 = performance.now();
    await service.around(bob, new Set());
    const build = performance.now() - t0;
    const after: number[] = [];
    for (let i = 0; i < AFTER_RUNS; i++) {
      const m = await arrive();
      const t1 = performance.now();
      service.note(m);
      const affected = await service.received(m);
      const shown = await service.around(bob, new Set([affected, m.id]));
      if (shown.length !== 1) throw new Error('the new message is not shown');
      after.push(performance.now() - t1);
    }
    // The first new message after unlock. Before: the service's index is read and built by
    // that message. Now: the chat list's read at unlock (which folds the preview from a
    // FoldIndex of the whole conversation anyway) keeps its index, and the message uses it.
    const first = async (seeded: boolean): Promise<{ first: number; list: number }> => {
      const t0 = performance.now();
      const all = await records();
      const fold = new FoldIndex(all);
      fold.fold(all[all.length - 1]!);
      const list = performance.now() - t0;
      const indexes = new Map<string, FoldIndex<Message>>(seeded ? [[bob, fold]] : []);
      const fresh = new MessageActionsService(port, indexes);
      const m = await arrive();
      const t1 = performance.now();
      fresh.note(m);
      const affected = await fresh.received(m);
      const shown = await fresh.around(bob, new Set([affected, m.id]));
      if (shown.length !== 1) throw new Error('the new message is not shown');
      return { first: performance.now() - t1, list };
    };
    const firstBefore: number[] = [];
    const firstAfter: number[] = [];
    const lists: number[] = [];
    for (let i = 0; i < 3; i++) {
      firstBefore.push((await first(false)).first);
      const r = await first(true);
      firstAfter.push(r.first);
      lists.push(r.list);
    }
    const pair = (s: number[]): string => `p50 ${fmtMs(percentile(s, 50))} / p90 ${fmtMs(percentile(s, 90))}`;
    return {
      title: `Message actions at scale (SQLite, ${MESSAGES.toLocaleString('en-US')} messages with reactions and edits in one conversation)`,
      rows: [
        {
          name: `a new message checked and shown, indexed (${AFTER_RUNS} runs)`,
          value: pair(after),
          reference: `before the index, whole history read twice and folded: ${pair(before)} (${BEFORE_RUNS} runs)`,
          note: `${(percentile(before, 50) / percentile(after, 50)).toFixed(0)}x faster`,
        },
        {
          name: 'the first new message after unlock (3 runs)',
          value: `p50 ${fmtMs(percentile(firstAfter, 50))}`,
          reference: `before (the index read and built by that message): p50 ${fmtMs(percentile(firstBefore, 50))}; a later one: p50 ${fmtMs(percentile(after, 50))}`,
          note: `the index kept from the chat list's read at unlock (p50 ${fmtMs(percentile(lists, 50))}, paid before as now)`,
        },
        {
          name: 'the index built, once per conversation after unlock',
          value: fmtMs(build),
          reference: `one new message before the index: ${fmtMs(percentile(before, 50))}`,
        },
      ],
    };
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

export default bench;
