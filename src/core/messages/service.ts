/**
 * Message actions over the delivery engine through a small port: the user's actions become
 * messages of their own (sent, stored and receipted like any chat message), and the
 * contact's are checked (`checkAction`) before anything they ask for is applied to storage.
 * A deletion for everyone removes the text of the target and of its edits from storage on
 * both sides; one that arrives before its target (chain deliveries come out of order) is
 * applied when the target arrives.
 */
import type { Message, OutgoingMessage } from '../delivery/messages.ts';
import { checkAction, isShown, MessageActionError, type MessageAction } from './actions.ts';
import { foldConversation, textsOf, type FoldedMessage } from './fold.ts';

/** What the service needs of the engine and its store. */
export interface MessagePort {
  /** Whether `contact` is a contact (not a stranger or a deleted one). */
  isContact(contact: string): boolean;
  /** A stored message by id, either direction. */
  find(id: string): Promise<Message | undefined>;
  /** A conversation's records, in the engine's order. */
  records(contact: string): Promise<readonly Message[]>;
  /** Queues a message (DeliveryEngine.send). */
  send(contact: string, text: string, action?: MessageAction): Promise<OutgoingMessage>;
  /** Removes stored texts (DeliveryEngine.redact). */
  redact(contact: string, ids: readonly string[], how: 'deleted' | 'hidden'): Promise<readonly Message[]>;
}

/** Reply, react, edit, delete and forward, and the checks on what contacts send. */
export class MessageActionsService {
  readonly #port: MessagePort;

  constructor(port: MessagePort) {
    this.#port = port;
  }

  /** A conversation as shown (actions applied). */
  async view(contact: string): Promise<FoldedMessage<Message>[]> {
    return foldConversation(await this.#port.records(contact));
  }

  /** The shown message `id` with its actions applied, or undefined. */
  async shown(id: string): Promise<FoldedMessage<Message> | undefined> {
    const m = await this.#port.find(id);
    if (m === undefined || !isShown(m)) return undefined;
    return (await this.view(m.contact)).find((f) => f.record.id === id);
  }

  async #target(id: string): Promise<FoldedMessage<Message>> {
    const f = await this.shown(id);
    if (f === undefined) throw new MessageActionError('UNKNOWN_TARGET', `no message ${id}`);
    return f;
  }

  /** Sends `text` to `contact` as a reply to its message `target`. */
  async reply(contact: string, text: string, target: string): Promise<OutgoingMessage> {
    const t = await this.#target(target);
    if (t.record.contact !== contact)
      throw new MessageActionError('UNKNOWN_TARGET', `no message ${target} in this conversation`);
    return this.#port.send(contact, text, { kind: 'reply', target });
  }

  /** Sets (1..6) or takes back (0) the user's reaction to `target`. */
  async react(target: string, reaction: number): Promise<OutgoingMessage> {
    const t = await this.#target(target);
    checkAction('out', { kind: 'reaction', target, reaction }, Date.now(), t.record, t.deleted);
    return this.#port.send(t.record.contact, '', { kind: 'reaction', target, reaction });
  }

  /** Replaces the text of the user's own message `target`. */
  async edit(target: string, text: string, now: number = Date.now()): Promise<OutgoingMessage> {
    const t = await this.#target(target);
    checkAction('out', { kind: 'edit', target }, now, t.record, t.deleted);
    return this.#port.send(t.record.contact, text, { kind: 'edit', target });
  }

  /** Deletes the user's own message `target` for everyone; its texts leave storage at once. */
  async deleteForEveryone(target: string): Promise<void> {
    const t = await this.#target(target);
    checkAction('out', { kind: 'delete', target }, Date.now(), t.record, t.deleted);
    const contact = t.record.contact;
    await this.#port.send(contact, '', { kind: 'delete', target });
    await this.#port.redact(contact, textsOf(await this.#port.records(contact), target), 'deleted');
  }

  /** Removes message `target` (either direction) from this device only. */
  async deleteForMe(target: string): Promise<string> {
    const t = await this.#target(target);
    const contact = t.record.contact;
    await this.#port.redact(contact, textsOf(await this.#port.records(contact), target), 'hidden');
    return contact;
  }

  /** Sends the current text of `target` to each of `to` as a forwarded message. */
  async forward(target: string, to: readonly string[]): Promise<OutgoingMessage[]> {
    const t = await this.#target(target);
    if (t.deleted) throw new MessageActionError('DELETED', `message ${target} was deleted`);
    const out: OutgoingMessage[] = [];
    for (const contact of to) out.push(await this.#port.send(contact, t.text, { kind: 'forwarded' }));
    return out;
  }

  /**
   * Takes in a message the engine stored: a contact's action is checked (MessageActionError
   * when refused; nothing is changed then) and a deletion applied to storage; a message that
   * a stored deletion already named loses its text. Resolves with the id of the shown message
   * whose view changed (the target of an action, else the message itself).
   */
  async received(m: Message): Promise<string | undefined> {
    if (!this.#port.isContact(m.contact))
      throw new MessageActionError('STRANGER', `${m.contact} is not a contact`);
    const a = m.action;
    const records = await this.#port.records(m.contact);
    if (a === undefined || a.kind === 'reply' || a.kind === 'forwarded') {
      const deletion = records.find(
        (r) => r.action?.kind === 'delete' && r.action.target === m.id && r.direction === m.direction,
      );
      if (deletion !== undefined && m.redacted === undefined)
        await this.#port.redact(m.contact, textsOf(records, m.id), 'deleted');
      return m.id;
    }
    const target = records.find((r) => r.id === a.target);
    const deleted = records.some(
      (r) => r.action?.kind === 'delete' && r.action.target === a.target && r.direction === target?.direction,
    );
    checkAction(m.direction, a, m.sentAt, target, deleted);
    if (a.kind === 'delete') await this.#port.redact(m.contact, textsOf(records, a.target), 'deleted');
    return a.target;
  }
}
