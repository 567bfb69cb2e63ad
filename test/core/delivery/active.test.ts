import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ActiveMessages } from '../../../src/core/delivery/active.ts';
import type { OutgoingMessage } from '../../../src/core/delivery/messages.ts';

const message = (id: string, contact: string, seq: number): OutgoingMessage => ({
  direction: 'out',
  id,
  contact,
  seq,
  sentAt: 1_760_000_000_000 + seq,
  text: `m${seq}`,
  status: 'queued',
  publications: 0,
  attempts: 0,
});

describe('delivery: the unfinished messages by id and by contact', () => {
  it('agrees with a plain map under any sequence of sets and deletes', () => {
    const op = fc.record({
      del: fc.boolean(),
      id: fc.constantFrom('a', 'b', 'c', 'd'),
      contact: fc.constantFrom('alice', 'bob', 'carol'),
      seq: fc.nat(100),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const active = new ActiveMessages();
        const model = new Map<string, OutgoingMessage>();
        for (const o of ops) {
          if (o.del) {
            active.delete(o.id);
            model.delete(o.id);
          } else {
            const m = message(o.id, o.contact, o.seq);
            active.set(m);
            model.set(o.id, m);
          }
        }
        assert.deepEqual(
          [...active.values()].sort((x, y) => x.id.localeCompare(y.id)),
          [...model.values()].sort((x, y) => x.id.localeCompare(y.id)),
        );
        const contacts = new Set([...model.values()].map((m) => m.contact));
        assert.deepEqual(new Set(active.contacts()), contacts);
        for (const c of ['alice', 'bob', 'carol']) {
          assert.deepEqual(
            [...active.ofContact(c)].map((m) => m.id).sort(),
            [...model.values()]
              .filter((m) => m.contact === c)
              .map((m) => m.id)
              .sort(),
          );
        }
        for (const id of ['a', 'b', 'c', 'd']) assert.equal(active.get(id), model.get(id));
      }),
    );
  });

  it('answers what is due and when the next message is due like a scan of every message', () => {
    const op = fc.record({
      kind: fc.constantFrom('set', 'set', 'set', 'delete', 'advance'),
      id: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
      contact: fc.constantFrom('alice', 'bob', 'carol'),
      status: fc.constantFrom('queued', 'published', 'sent', 'failed'),
      dueAt: fc.option(fc.nat(200), { nil: undefined }),
      // Mostly forward, sometimes a step back (a clock may be set back).
      step: fc.integer({ min: -20, max: 60 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const active = new ActiveMessages();
        const model = new Map<string, OutgoingMessage>();
        let now = 0;
        for (const o of ops) {
          if (o.kind === 'delete') {
            active.delete(o.id);
            model.delete(o.id);
          } else if (o.kind === 'advance') {
            now = Math.max(0, now + o.step);
          } else {
            const { dueAt: _d, ...base } = message(o.id, o.contact, 1);
            const m: OutgoingMessage = {
              ...base,
              status: o.status as OutgoingMessage['status'],
              ...(o.dueAt === undefined ? {} : { dueAt: o.dueAt }),
            };
            active.set(m);
            model.set(o.id, m);
          }
          const waiting = [...model.values()].filter((m) => m.status !== 'failed' && m.dueAt !== undefined);
          const due = waiting.filter((m) => m.dueAt! <= now);
          const later = waiting.filter((m) => m.dueAt! > now).map((m) => m.dueAt!);
          assert.deepEqual(
            active
              .due(now)
              .map((m) => m.id)
              .sort(),
            due.map((m) => m.id).sort(),
          );
          assert.equal(active.dueSize(now), due.length);
          assert.deepEqual(new Set(active.dueContacts(now)), new Set(due.map((m) => m.contact)));
          for (const c of ['alice', 'bob', 'carol'])
            assert.equal(
              active.hasDue(c, now),
              due.some((m) => m.contact === c),
            );
          assert.equal(active.nextDue(now), later.length === 0 ? Infinity : Math.min(...later));
        }
      }),
    );
  });

  it('keeps its due index within a constant factor of the waiting messages', () => {
    const active = new ActiveMessages();
    // One message rescheduled many times leaves stale heap entries behind; they are dropped.
    for (let i = 0; i < 10_000; i++) active.set({ ...message('a', 'alice', 1), dueAt: 1_000 + i });
    assert.ok((active as unknown as { heap: unknown[] }).heap.length <= 130);
    assert.equal(active.nextDue(0), 10_999);
  });

  it('visits each message once when every message is updated during iteration', () => {
    const active = new ActiveMessages();
    for (let i = 0; i < 5; i++) active.set(message(`m${i}`, 'alice', i));
    let visits = 0;
    for (const m of active.values()) {
      visits++;
      active.set({ ...m, dueAt: 7 });
      assert.ok(visits <= 5, 'a replaced message was visited again');
    }
    assert.equal(visits, 5);
    assert.equal(active.dueSize(7), 5);
  });
});
