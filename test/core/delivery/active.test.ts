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
});
