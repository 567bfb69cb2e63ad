/**
 * MessageActionsService's kept FoldIndex (core/messages/service.ts) while it is first read: a
 * message stored and noted during that read (a receipt's status change arriving with the
 * contact's reaction) is the newer version and must stay in the index, not be lost to the
 * older copy the read returns. An index kept from an earlier read of the whole conversation
 * (the chat list's, src/web/engine/real-api.ts) serves the first new messages after unlock
 * without any read of the history, folding as the whole conversation does.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Message, OutgoingMessage } from '../../../src/core/delivery/messages.ts';
import {
  FoldIndex,
  foldConversation,
  MessageActionsService,
  type MessageAction,
} from '../../../src/core/messages/index.ts';

const contact = 'p2p1contact';
const record = (id: number, patch: Partial<Message> = {}): Message =>
  ({
    id: id.toString(16).padStart(32, '0'),
    contact,
    direction: 'out',
    sentAt: 1_000 + id,
    text: `message ${id}`,
    status: 'sent',
    ...patch,
  }) as Message;
const statusOf = (m: Message | undefined): string | undefined =>
  m !== undefined && m.direction === 'out' ? m.status : undefined;

describe('MessageActionsService index', () => {
  it('keeps a message noted while the conversation is first read', async () => {
    const original = record(1) as OutgoingMessage;
    const reaction = record(2, {
      direction: 'in',
      text: '',
      action: { kind: 'reaction', target: original.id, reaction: 1 },
    });
    let release: (records: readonly Message[]) => void = () => undefined;
    const reading = new Promise<readonly Message[]>((r) => (release = r));
    const indexes = new Map<string, FoldIndex<Message>>();
    const service = new MessageActionsService(
      {
        isContact: () => true,
        find: () => Promise.resolve(undefined),
        records: () => reading,
        send: () => Promise.reject(new Error('not sent here')),
        redact: () => Promise.resolve([]),
      },
      indexes,
    );
    const folding = service.around(contact, new Set([original.id]));
    // Read by the contact while the history is being read: stored, then noted.
    service.note({ ...original, status: 'read' });
    release([original, reaction]);
    const [shown] = await folding;
    assert.equal(statusOf(shown?.record), 'read', 'the noted version, not the older one read');
    assert.deepEqual(shown?.reactions, [{ reaction: 1, count: 1, mine: false }]);
    const [again] = await service.around(contact, new Set([original.id]));
    assert.equal(statusOf(again?.record), 'read');
  });

  it('reads the conversation again after a failed read', async () => {
    let reads = 0;
    const service = new MessageActionsService({
      isContact: () => true,
      find: () => Promise.resolve(undefined),
      records: () => (++reads === 1 ? Promise.reject(new Error('disk')) : Promise.resolve([record(1)])),
      send: () => Promise.reject(new Error('not sent here')),
      redact: () => Promise.resolve([]),
    });
    await assert.rejects(service.around(contact, new Set([record(1).id])), /disk/);
    const shown = await service.around(contact, new Set([record(1).id]));
    assert.equal(shown.length, 1);
    assert.equal(reads, 2);
  });

  it('serves new messages from an index kept from an earlier read, folding as the whole conversation', async () => {
    const spec = fc.record({
      out: fc.boolean(),
      sentAt: fc.integer({ min: 0, max: 30 * 3600_000 }),
      kind: fc.constantFrom('plain', 'plain', 'reply', 'reaction', 'edit', 'delete'),
      target: fc.nat(40),
      reaction: fc.integer({ min: 0, max: 6 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(spec, { maxLength: 40 }), fc.nat(40), async (specs, split) => {
        const all = specs.map((x, i): Message => {
          const target = x.target.toString(16).padStart(32, '0');
          const action: MessageAction | undefined =
            x.kind === 'plain'
              ? undefined
              : x.kind === 'reaction'
                ? { kind: 'reaction', target, reaction: x.reaction }
                : { kind: x.kind as 'reply' | 'edit' | 'delete', target };
          return record(i, {
            direction: x.out ? 'out' : 'in',
            sentAt: x.sentAt,
            ...(action === undefined ? {} : { action }),
          } as Partial<Message>);
        });
        const history = all.slice(0, split);
        let reads = 0;
        const indexes = new Map<string, FoldIndex<Message>>([[contact, new FoldIndex(history)]]);
        const service = new MessageActionsService(
          {
            isContact: () => true,
            find: (id) => Promise.resolve(all.find((m) => m.id === id)),
            records: () => {
              reads++;
              return Promise.resolve(all);
            },
            send: () => Promise.reject(new Error('not sent here')),
            redact: () => Promise.resolve([]),
          },
          indexes,
        );
        // Each new record as the engine stores and announces it.
        for (const m of all.slice(split)) {
          service.note(m);
          await service.around(contact, new Set([m.id]));
        }
        const shown = await service.around(contact, new Set(all.map((m) => m.id)));
        const byId = new Map(shown.map((f) => [f.record.id, f]));
        assert.deepEqual(
          foldConversation(all).map((f) => byId.get(f.record.id)),
          foldConversation(all),
        );
        assert.equal(reads, 0, 'no read of the history');
      }),
      { numRuns: 300 },
    );
  });
});
