/**
 * The outgoing messages not yet delivered or read, by id, by contact and by the time they
 * are next due (publication, retry after backoff, ack timeout, republication). Sending to
 * one contact looks at that contact's messages, and the engine's timers and flushes look at
 * what is due, never at every message in flight: a backlog of thousands of published
 * messages waiting for receipts costs nothing until one of them is due again.
 *
 * The due index is a binary min-heap keyed by `dueAt` with lazy deletion (an entry is live
 * while its message object is still the current one for its id), plus the set of messages
 * already found due. `advance(now)` moves heap entries that have come due into that set, so
 * every query costs O(k log n) for the k messages that came due, not O(n).
 */
import type { OutgoingMessage } from './messages.ts';
import type { ContactId } from './ports.ts';

interface HeapEntry {
  readonly at: number;
  readonly m: OutgoingMessage;
}

/** Whether `m` waits for a time at all (failed messages wait for the user, not a timer). */
function schedulable(m: OutgoingMessage): m is OutgoingMessage & { dueAt: number } {
  return m.status !== 'failed' && m.dueAt !== undefined;
}

/** Unfinished outgoing messages, indexed by id, grouped by contact, ordered by due time. */
export class ActiveMessages {
  private readonly byId = new Map<string, OutgoingMessage>();
  private readonly byContact = new Map<ContactId, Map<string, OutgoingMessage>>();
  /** Not yet due as of `advancedTo`, earliest first (may hold stale entries). */
  private heap: HeapEntry[] = [];
  /** Due at or before `advancedTo`, by contact. */
  private readonly dueNow = new Map<ContactId, Map<string, OutgoingMessage>>();
  private dueCount = 0;
  private advancedTo = -Infinity;

  /** The message with this id, if it is unfinished. */
  get(id: string): OutgoingMessage | undefined {
    return this.byId.get(id);
  }

  /** Records (or replaces) `m` under its id. */
  set(m: OutgoingMessage): void {
    const previous = this.byId.get(m.id);
    if (previous === m) return;
    if (previous) {
      // Replaced in place (not deleted and re-added), so a caller iterating `values()` while
      // it updates each message visits every message once.
      if (previous.contact !== m.contact) this.delete(m.id);
      else this.unmarkDue(previous);
    }
    this.byId.set(m.id, m);
    let group = this.byContact.get(m.contact);
    if (!group) {
      group = new Map();
      this.byContact.set(m.contact, group);
    }
    group.set(m.id, m);
    if (!schedulable(m)) return;
    if (m.dueAt <= this.advancedTo) this.markDue(m);
    else this.push({ at: m.dueAt, m });
    this.compact();
  }

  /** Forgets the message with this id. */
  delete(id: string): void {
    const m = this.byId.get(id);
    if (!m) return;
    this.byId.delete(id);
    const group = this.byContact.get(m.contact);
    group?.delete(id);
    if (group?.size === 0) this.byContact.delete(m.contact);
    this.unmarkDue(m);
    // Its heap entry, if any, is now stale and skipped when reached.
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

  /** How many unfinished messages there are. */
  get size(): number {
    return this.byId.size;
  }

  /** The messages due at `now` (not failed, `dueAt <= now`); a snapshot, safe to change under. */
  due(now: number): OutgoingMessage[] {
    this.advance(now);
    const out: OutgoingMessage[] = [];
    for (const group of this.dueNow.values()) for (const m of group.values()) out.push(m);
    return out;
  }

  /** The contacts with a message due at `now`. */
  dueContacts(now: number): ContactId[] {
    this.advance(now);
    return [...this.dueNow.keys()];
  }

  /** Whether a message to `contact` is due at `now`. */
  hasDue(contact: ContactId, now: number): boolean {
    this.advance(now);
    return this.dueNow.has(contact);
  }

  /** How many messages are due at `now`. */
  dueSize(now: number): number {
    this.advance(now);
    return this.dueCount;
  }

  /** The earliest `dueAt` after `now`, or Infinity when nothing waits for a time. */
  nextDue(now: number): number {
    this.advance(now);
    for (;;) {
      const top = this.heap[0];
      if (top === undefined) return Infinity;
      if (this.live(top)) return top.at;
      this.pop();
    }
  }

  /** Moves everything due by `now` from the heap into the due set. */
  private advance(now: number): void {
    if (now < this.advancedTo) {
      // The clock stepped back: what is no longer due goes back to waiting.
      for (const group of [...this.dueNow.values()]) {
        for (const m of [...group.values()]) {
          if (schedulable(m) && m.dueAt > now) {
            this.unmarkDue(m);
            this.push({ at: m.dueAt, m });
          }
        }
      }
    }
    this.advancedTo = now;
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.at > now) break;
      this.pop();
      if (this.live(top)) this.markDue(top.m);
    }
  }

  /**
   * Stale entries are dropped as they surface; the heap is rebuilt when they dominate, so it
   * stays within a constant factor of the messages that wait (amortised O(1) per change).
   */
  private compact(): void {
    if (this.heap.length <= 64 || this.heap.length <= 2 * (this.byId.size - this.dueCount)) return;
    const entries = this.heap.filter((e) => this.live(e));
    this.heap = [];
    for (const e of entries) this.push(e);
  }

  private live(e: HeapEntry): boolean {
    return this.byId.get(e.m.id) === e.m;
  }

  private markDue(m: OutgoingMessage): void {
    let group = this.dueNow.get(m.contact);
    if (!group) {
      group = new Map();
      this.dueNow.set(m.contact, group);
    }
    if (!group.has(m.id)) this.dueCount++;
    group.set(m.id, m);
  }

  private unmarkDue(m: OutgoingMessage): void {
    const group = this.dueNow.get(m.contact);
    if (!group?.delete(m.id)) return;
    this.dueCount--;
    if (group.size === 0) this.dueNow.delete(m.contact);
  }

  private push(e: HeapEntry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.at <= e.at) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = e;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && h[r]!.at < h[l]!.at ? r : l;
      if (h[c]!.at >= last.at) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
  }
}
