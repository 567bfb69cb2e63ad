/**
 * Attachments as messages of their conversation (ports.ts `AttachmentHistory`, docs/protocol.md
 * "Message record" version 4). The attachment service tells the engine that a file message
 * exists and how far it got; the engine stores it like a text, on its own queue like every write
 * of the message store. Such a message is never among the engine's active messages: the engine
 * does not send it, retry it or republish it (the attachment service does, by its own records);
 * only a read receipt naming it moves it on from "delivered".
 */
import type { Clock } from './clock.ts';
import type { DeliveryEvent } from './engine.ts';
import type { Message, OutgoingMessage } from './messages.ts';
import type { AttachmentHistory } from './ports.ts';
import type { DeliveryStore } from './store.ts';

/** What the writer needs of the engine. */
export interface AttachmentHistoryDeps {
  readonly store: DeliveryStore;
  readonly clock: Clock;
  /** Runs `fn` on the engine's serial queue. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Throws when the engine is closed. */
  checkOpen(): void;
  emit(e: DeliveryEvent): void;
}

export function attachmentHistory(deps: AttachmentHistoryDeps): AttachmentHistory {
  const rank: Record<OutgoingMessage['status'], number> = {
    failed: -1,
    queued: 0,
    sent: 1,
    published: 2,
    delivered: 3,
    read: 4,
  };
  const checkId = (id: string): void => {
    if (typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id))
      throw new TypeError('"id" expected 32 hex characters');
  };
  return {
    add: (contact, id, direction, route) => {
      checkId(id);
      return deps.run(async () => {
        deps.checkOpen();
        if (await deps.store.byId(direction, id)) return;
        const now = deps.clock.now();
        let m: Message;
        if (direction === 'in') {
          // The manifest carries no time of its own: the conversation places it on arrival.
          m = {
            direction: 'in',
            id,
            contact,
            sentAt: now,
            text: '',
            attachment: true,
            receivedAt: now,
            route: route ?? 'direct',
            read: false,
          };
        } else {
          const last = await deps.store.lastOutgoing(contact);
          m = {
            direction: 'out',
            id,
            contact,
            seq: (last?.direction === 'out' ? last.seq : 0) + 1,
            sentAt: Math.max(now, (last?.sentAt ?? 0) + 1),
            text: '',
            attachment: true,
            status: 'queued',
            publications: 0,
            attempts: 0,
          };
        }
        await deps.store.write(deps.store.putOps(m));
        deps.emit({ type: 'message', message: m });
      });
    },
    progress: (id, status, txId) => {
      checkId(id);
      return deps.run(async () => {
        deps.checkOpen();
        const m = await deps.store.byId('out', id);
        if (m?.direction !== 'out' || m.attachment !== true || rank[status] <= rank[m.status]) return;
        const next: OutgoingMessage =
          status === 'published' && txId !== undefined
            ? {
                ...m,
                status,
                route: 'chain',
                proof: { txId, publishedAt: deps.clock.now() },
                publications: m.publications + 1,
              }
            : { ...m, status, ...(status === 'sent' ? { route: 'direct' as const } : {}) };
        await deps.store.write(deps.store.putOps(next));
        deps.emit({ type: 'message', message: next });
      });
    },
  };
}
