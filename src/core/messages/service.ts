/**
 * Message actions over the delivery engine through a small port: the user's actions become
 * messages of their own (sent, stored and receipted like any chat message), and the
 * contact's are checked (`checkAction`) before anything they ask for is applied to storage.
 * A deletion for everyone removes the text of the target and of its edits from storage on
 * both sides; one that arrives before its target (chain deliveries come out of order) is
 * applied when the target arrives.
 *
 * Each conversation's records are read once into a `FoldIndex` (kept in `indexes`, which the
 * caller may hold across service instances and must tell of every stored message through
 * `note`, and of removed ones by deleting the conversation's entry): a new message then costs
 * the fold of the messages it touches, not a read and fold of the whole history.
 */
import type { Message, OutgoingMessage } from '../delivery/messages.ts';
import { checkAction, isShown, MessageActionError, type MessageAction } from './actions.ts';
import { FoldIndex, type FoldedMessage } from './fold.ts';

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

/** Indexes whose first read is under way (shared by every service given the same indexes). */
const filling = new WeakMap<FoldIndex<Message>, Promise<void>>();

/** Reply, react, edit, delete and forward, and the checks on what contacts send. */
export class MessageActionsService {
  readonly #port: MessagePort;
  readonly #indexes: Map<string, FoldIndex<Message>>;

  constructor(port: MessagePort, indexes: Map<string, FoldIndex<Message>> = new Map()) {
    this.#port = port;
    this.#indexes = indexes;
  }

  /** A conversation as shown (actions applied); its index is built again on the way. */
  async view(contact: string): Promise<FoldedMessage<Message>[]> {
    const records = await this.#port.records(contact);
    const index = new FoldIndex(records);
    this.#indexes.set(contact, index);
    // foldConversation's own loop, on the index just kept rather than a second one.
    return records.filter(isShown).map((r) => index.fold(r));
  }

  /** A stored message, new or changed: the conversation's index (when built) follows it. */
  note(m: Message): void {
    this.#indexes.get(m.contact)?.put(m);
  }

  /** The shown message `id` with its actions applied, or undefined. */
  async shown(id: string): Promise<FoldedMessage<Message> | undefined> {
    const m = await this.#port.find(id);
    if (m === undefined || !isShown(m)) return undefined;
    const index = await this.#index(m.contact);
    index.put(m);
    return index.fold(m);
  }

  /**
   * The shown messages among `ids` of `contact`, and every reply quoting one of them, as now
   * folded (what a new or changed record makes the conversation show again).
   */
  async around(contact: string, ids: ReadonlySet<string | undefined>): Promise<FoldedMessage<Message>[]> {
    const index = await this.#index(contact);
    const out = new Map<string, FoldedMessage<Message>>();
    for (const id of ids) {
      if (id === undefined) continue;
      const r = index.get(id);
      if (r !== undefined && isShown(r)) out.set(r.id, index.fold(r));
      for (const reply of index.repliesTo(id)) if (isShown(reply)) out.set(reply.id, index.fold(reply));
    }
    return [...out.values()];
  }

  /**
   * The conversation's index, read on first need. It is kept before the read ends, so that a
   * message noted meanwhile (a status change, a new record) lands in it; such a record is the
   * newer version, so the read's copy does not replace it.
   */
  async #index(contact: string): Promise<FoldIndex<Message>> {
    let index = this.#indexes.get(contact);
    if (index === undefined) {
      const fresh = new FoldIndex<Message>();
      this.#indexes.set(contact, fresh);
      const fill = this.#port.records(contact).then(
        (records) => {
          for (const r of records) if (fresh.get(r.id) === undefined) fresh.put(r);
          filling.delete(fresh);
        },
        (error: unknown) => {
          filling.delete(fresh);
          if (this.#indexes.get(contact) === fresh) this.#indexes.delete(contact);
          throw error;
        },
      );
      filling.set(fresh, fill);
      index = fresh;
    }
    await filling.get(index);
    return index;
  }

  #sent(m: OutgoingMessage): OutgoingMessage {
    this.note(m);
    return m;
  }

  /** Removes stored texts and keeps the index in step with what changed. */
  async #redact(contact: string, ids: readonly string[], how: 'deleted' | 'hidden'): Promise<void> {
    const changed = await this.#port.redact(contact, ids, how);
    for (const m of changed) this.note(m);
  }

  /** Ids whose texts go with `target` (textsOf over the index). */
  async #textsOf(contact: string, target: string): Promise<string[]> {
    const index = await this.#index(contact);
    return [
      target,
      ...index
        .actionsOn(target)
        .filter((r) => r.action?.kind === 'edit')
        .map((r) => r.id),
    ];
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
    return this.#sent(await this.#port.send(contact, text, { kind: 'reply', target }));
  }

  /** Sets (1..6) or takes back (0) the user's reaction to `target`. */
  async react(target: string, reaction: number): Promise<OutgoingMessage> {
    const t = await this.#target(target);
    checkAction('out', { kind: 'reaction', target, reaction }, Date.now(), t.record, t.deleted);
    return this.#sent(await this.#port.send(t.record.contact, '', { kind: 'reaction', target, reaction }));
  }

  /** Replaces the text of the user's own message `target`. */
  async edit(target: string, text: string, now: number = Date.now()): Promise<OutgoingMessage> {
    const t = await this.#target(target);
    checkAction('out', { kind: 'edit', target }, now, t.record, t.deleted);
    return this.#sent(await this.#port.send(t.record.contact, text, { kind: 'edit', target }));
  }

  /** Deletes the user's own message `target` for everyone; its texts leave storage at once. */
  async deleteForEveryone(target: string): Promise<void> {
    const t = await this.#target(target);
    checkAction('out', { kind: 'delete', target }, Date.now(), t.record, t.deleted);
    const contact = t.record.contact;
    this.note(await this.#port.send(contact, '', { kind: 'delete', target }));
    await this.#redact(contact, await this.#textsOf(contact, target), 'deleted');
  }

  /** Removes message `target` (either direction) from this device only. */
  async deleteForMe(target: string): Promise<string> {
    const t = await this.#target(target);
    const contact = t.record.contact;
    await this.#redact(contact, await this.#textsOf(contact, target), 'hidden');
    return contact;
  }

  /** Sends the current text of `target` to each of `to` as a forwarded message. */
  async forward(target: string, to: readonly string[]): Promise<OutgoingMessage[]> {
    const t = await this.#target(target);
    if (t.deleted) throw new MessageActionError('DELETED', `message ${target} was deleted`);
    const out: OutgoingMessage[] = [];
    for (const contact of to)
      out.push(this.#sent(await this.#port.send(contact, t.text, { kind: 'forwarded' })));
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
    const index = await this.#index(m.contact);
    index.put(m);
    if (a === undefined || a.kind === 'reply' || a.kind === 'forwarded') {
      const deletion = index
        .actionsOn(m.id)
        .find((r) => r.action?.kind === 'delete' && r.direction === m.direction);
      if (deletion !== undefined && m.redacted === undefined)
        await this.#redact(m.contact, await this.#textsOf(m.contact, m.id), 'deleted');
      return m.id;
    }
    const target = index.get(a.target);
    const deleted = index
      .actionsOn(a.target)
      .some((r) => r.action?.kind === 'delete' && r.direction === target?.direction);
    checkAction(m.direction, a, m.sentAt, target, deleted);
    if (a.kind === 'delete')
      await this.#redact(m.contact, await this.#textsOf(m.contact, a.target), 'deleted');
    return a.target;
  }
}
