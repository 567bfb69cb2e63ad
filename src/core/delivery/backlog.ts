/**
 * The unfinished outgoing messages a start has not read yet (docs/delivery.md "Start-up"): a
 * published message waits hours for its receipt or its republication, so a start reads the
 * open entries (status and due time, store.ts `OpenEntry`) and leaves the records of those not
 * due where they are. The engine takes entries out of here, and reads their records, when one
 * comes due, when its receipt arrives, when a link to its contact opens, or when a rare path
 * needs every unfinished message; a message the engine saves meanwhile leaves for good.
 */
import type { ContactId } from './ports.ts';
import type { OpenEntry } from './store.ts';

/** Open entries not yet read, by id and by contact, with the earliest due time first. */
export class Backlog {
  private readonly byId = new Map<string, OpenEntry>();
  private readonly byContact = new Map<ContactId, Set<string>>();
  /** The entries with a due time, latest first, so the earliest is popped (may hold taken ones). */
  private readonly order: OpenEntry[] = [];

  /** Holds `entries` (each id once); call once, at start. */
  constructor(entries: readonly OpenEntry[]) {
    for (const e of entries) {
      this.byId.set(e.id, e);
      let group = this.byContact.get(e.contact);
      if (!group) this.byContact.set(e.contact, (group = new Set()));
      group.add(e.id);
      if (e.dueAt !== undefined) this.order.push(e);
    }
    this.order.sort((a, b) => b.dueAt! - a.dueAt!);
  }

  /** How many messages are still unread. */
  get size(): number {
    return this.byId.size;
  }

  /** Whether the message with this id is still unread. */
  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Takes the entry of `id`, if unread. */
  take(id: string): OpenEntry[] {
    const e = this.byId.get(id);
    if (!e) return [];
    this.byId.delete(id);
    const group = this.byContact.get(e.contact)!;
    group.delete(id);
    if (group.size === 0) this.byContact.delete(e.contact);
    return [e];
  }

  /** Takes the entries of these ids that are unread. */
  takeIds(ids: Iterable<string>): OpenEntry[] {
    const out: OpenEntry[] = [];
    for (const id of ids) out.push(...this.take(id));
    return out;
  }

  /** Takes every unread entry of `contact`. */
  takeContact(contact: ContactId): OpenEntry[] {
    return this.takeIds([...(this.byContact.get(contact) ?? [])]);
  }

  /** Takes every unread entry due at `now` (`dueAt <= now`). */
  takeDue(now: number): OpenEntry[] {
    const out: OpenEntry[] = [];
    for (let e = this.order.at(-1); e !== undefined && e.dueAt! <= now; e = this.order.at(-1)) {
      this.order.pop();
      out.push(...this.take(e.id));
    }
    return out;
  }

  /** Takes everything unread. */
  takeAll(): OpenEntry[] {
    return this.takeIds([...this.byId.keys()]);
  }

  /** The earliest due time of an unread entry, or Infinity. */
  nextDue(): number {
    for (let e = this.order.at(-1); e !== undefined; e = this.order.at(-1)) {
      if (this.byId.get(e.id) === e) return e.dueAt!;
      this.order.pop();
    }
    return Infinity;
  }
}
