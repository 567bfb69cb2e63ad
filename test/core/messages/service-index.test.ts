/**
 * MessageActionsService's kept FoldIndex (core/messages/service.ts) while it is first read: a
 * message stored and noted during that read (a receipt's status change arriving with the
 * contact's reaction) is the newer version and must stay in the index, not be lost to the
 * older copy the read returns.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message, OutgoingMessage } from '../../../src/core/delivery/messages.ts';
import { MessageActionsService, type FoldIndex } from '../../../src/core/messages/index.ts';

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
});
