/**
 * The outgoing messages not yet delivered or read, by id and by contact: sending to one
 * contact (a link opening, a message due) looks at that contact's messages, not at every
 * message in flight.
 */
import type { OutgoingMessage } from './messages.ts';
import type { ContactId } from './ports.ts';

/** Unfinished outgoing messages, indexed by id and grouped by contact. */
export class ActiveMessages {
  private readonly byId = new Map<string, OutgoingMessage>();
  private readonly byContact = new Map<ContactId, Map<string, OutgoingMessage>>();

  /** The message with this id, if it is unfinished. */
  get(id: string): OutgoingMessage | undefined {
    return this.byId.get(id);
  }

  /** Records (or replaces) `m` under its id. */
  set(m: OutgoingMessage): void {
    const previous = this.byId.get(m.id);
    if (previous && previous.contact !== m.contact) this.delete(m.id);
    this.byId.set(m.id, m);
    let group = this.byContact.get(m.contact);
    if (!group) {
      group = new Map();
      this.byContact.set(m.contact, group);
    }
    group.set(m.id, m);
  }

  /** Forgets the message with this id. */
  delete(id: string): void {
    const m = this.byId.get(id);
    if (!m) return;
    this.byId.delete(id);
    const group = this.byContact.get(m.contact);
    group?.delete(id);
    if (group?.size === 0) this.byContact.delete(m.contact);
  }

  /** Every unfinished message. */
  values(): IterableIterator<OutgoingMessage> {
    return this.byId.values();
  }

  /** The unfinished messages to `contact`. */
  ofContact(contact: ContactId): IterableIterator<OutgoingMessage> {
    return (this.byContact.get(contact) ?? new Map<string, OutgoingMessage>()).values();
  }

  /** The contacts with unfinished messages. */
  contacts(): IterableIterator<ContactId> {
    return this.byContact.keys();
  }
}
