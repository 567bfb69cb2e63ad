/**
 * The real engine's side of `AppApi` message actions: the core's MessageActionsService wired
 * to a running DeliveryEngine and its store, conversations folded into the view model, and
 * the core's refusals turned into the app's error codes.
 */
import type { DeliveryEngine } from '../../core/delivery/engine.ts';
import type { Message } from '../../core/delivery/messages.ts';
import { DeliveryStore } from '../../core/delivery/store.ts';
import {
  MessageActionError,
  MessageActionsService,
  firstLine,
  foldConversation,
  type FoldIndex,
  type FoldedMessage,
} from '../../core/messages/index.ts';
import type { KeyValueStore } from '../../storage/types.ts';
import {
  AppApiError,
  REACTIONS,
  type AppApiErrorCode,
  type ChatMessage,
  type MessageId,
} from '../app-api.ts';

/**
 * The service over a running engine (`isContact` from the session's cards); `onStored` hears
 * of each record a redaction stored (the engine emits no event for those).
 */
export function actionsService(
  engine: DeliveryEngine,
  db: KeyValueStore,
  isContact: (contact: string) => boolean,
  indexes?: Map<string, FoldIndex<Message>>,
  onStored?: (m: Message) => void,
): MessageActionsService {
  const store = new DeliveryStore(db);
  return new MessageActionsService(
    {
      isContact,
      async find(id) {
        if (!/^[0-9a-f]{32}$/.test(id)) return undefined;
        return (await engine.message(id)) ?? (await store.byId('in', id));
      },
      records: (contact) => engine.messages(contact),
      send: (contact, text, action) => engine.send(contact, text, action),
      async redact(contact, ids, how) {
        const done = await engine.redact(contact, ids, how);
        for (const m of done) onStored?.(m);
        return done;
      },
    },
    indexes,
  );
}

/** One folded message as the conversation shows it. */
export function foldedView(f: FoldedMessage<Message>, view: (m: Message) => ChatMessage): ChatMessage {
  const q = f.quote;
  const reactions = f.reactions.map((r) => ({
    emoji: REACTIONS[r.reaction - 1]!,
    count: r.count,
    mine: r.mine,
  }));
  return {
    ...view(f.record),
    text: f.text,
    ...(q === undefined
      ? {}
      : {
          replyTo: q.held
            ? {
                id: q.id as MessageId,
                held: true,
                outgoing: q.outgoing,
                text: firstLine(q.text),
                deleted: q.deleted,
              }
            : { id: q.id as MessageId, held: false },
        }),
    ...(reactions.length === 0 ? {} : { reactions }),
    ...(f.edited ? { edited: true } : {}),
    ...(f.deleted ? { deleted: true } : {}),
    ...(f.forwarded ? { forwarded: true } : {}),
  };
}

/** A conversation's records as shown: actions applied, reactions and edits folded in. */
export function foldedViews(records: readonly Message[], view: (m: Message) => ChatMessage): ChatMessage[] {
  return foldConversation(records).map((f) => foldedView(f, view));
}

/** Whether a conversation holds any action record (its views must then be folded). */
export function hasActions(records: readonly Message[]): boolean {
  return records.some((r) => r.action !== undefined || r.redacted !== undefined);
}

const CODES: Record<MessageActionError['code'], AppApiErrorCode> = {
  STRANGER: 'UNKNOWN_CONTACT',
  UNKNOWN_TARGET: 'UNKNOWN_MESSAGE',
  NOT_SENDER: 'NOT_YOURS',
  EDIT_WINDOW: 'EDIT_WINDOW',
  DELETED: 'DELETED',
  NOT_A_MESSAGE: 'UNKNOWN_MESSAGE',
  BAD_REACTION: 'BAD_REACTION',
};

const WORDS: Record<AppApiErrorCode, string> = {
  UNKNOWN_CONTACT: 'No such contact',
  UNKNOWN_MESSAGE: 'No such message',
  NOT_YOURS: 'Only your own messages can be edited or deleted for everyone',
  EDIT_WINDOW: 'Messages can be edited for 24 hours after sending',
  DELETED: 'This message was deleted',
  BAD_REACTION: 'Not one of the reactions',
} as Record<AppApiErrorCode, string>;

/** Runs `f`, turning the core's refusal into the app's (AppApiError by code). */
export async function asAppError<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (!(e instanceof MessageActionError)) throw e;
    const code = CODES[e.code];
    throw new AppApiError(code, WORDS[code], { cause: e });
  }
}
