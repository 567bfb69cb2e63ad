/**
 * The rendered window of a conversation: every message is known, only a slice of them is
 * in the DOM (at most `MAX_ROWS`), growing by pages as the reader scrolls or moves by
 * keyboard towards either end and dropping rows far from view, so a conversation of any
 * length costs the DOM and the layout of a few screenfuls. Messages wrap to any height, so
 * rows cannot be fixed-size slots; instead, when the slice changes, the message under the
 * reader's eye is kept where it was (scroll anchoring done here, since content changes above
 * the viewport).
 *
 * Redraws are incremental: a row whose message did not change is kept as it is, and one that
 * did is updated in place (`morph`), so a press on a row's button is not lost to a status
 * change arriving before the release, and focus stays where it was.
 *
 * Keyboard and screen readers: the log stays one `role="log"` list in which arrows move
 * between messages (roving focus), Home and End go to the first and newest message of the
 * whole conversation, loading them as needed, and a "Show older messages" button heads the
 * slice whenever older ones exist, so nothing is reachable only by scrolling.
 */
import type { ChatMessage, MessageId } from '../app-api.ts';
import { h } from '../dom.ts';
import { formatDay } from '../format.ts';
import { morph, placeChildren, sameData } from './morph.ts';

/** Most message rows in the DOM at once. */
export const MAX_ROWS = 120;
/** Rows added per step towards either end. */
const PAGE_ROWS = 40;
/** Rows shown on opening (the newest). */
const INITIAL_ROWS = 60;
/** Distance from an end of the scroll range at which the next page is added, in CSS px. */
const EDGE_PX = 240;

/** What a window needs from the conversation. */
export interface MessageWindowOptions {
  /** The list element the rows go in (`role="log"`). */
  readonly log: HTMLOListElement;
  /** Makes the row of a message (called again when it changes). */
  readonly render: (m: ChatMessage) => HTMLLIElement;
  /** Enter or the context-menu key on a focused message; true when it did something. */
  readonly activate: (id: MessageId) => boolean;
}

/** One conversation's messages, in display order, with the slice that is rendered. */
export class MessageWindow {
  readonly #log: HTMLOListElement;
  readonly #render: (m: ChatMessage) => HTMLLIElement;
  readonly #activate: (id: MessageId) => boolean;
  #list: ChatMessage[] = [];
  readonly #byId = new Map<MessageId, ChatMessage>();
  /** Rendered rows, in display order. */
  readonly #rows = new Map<MessageId, HTMLLIElement>();
  /** The view each rendered row was drawn from. */
  readonly #drawn = new Map<MessageId, ChatMessage>();
  /** Day separators, by the message they head. */
  readonly #days = new Map<MessageId, HTMLLIElement>();
  #start = 0;
  #end = 0;
  readonly #more: HTMLLIElement;

  constructor(options: MessageWindowOptions) {
    this.#log = options.log;
    this.#render = options.render;
    this.#activate = options.activate;
    const older = h('button', { type: 'button', class: 'link-btn' }, 'Show older messages');
    older.addEventListener('click', () => this.#grow('up'));
    this.#more = h('li', { class: 'more' }, older);
    this.#log.addEventListener('scroll', () => this.#onScroll(), { passive: true });
    this.#log.addEventListener('keydown', (e) => this.#onKey(e));
  }

  /** How many messages the conversation holds (rendered or not). */
  get size(): number {
    return this.#list.length;
  }

  /** A message by id. */
  get(id: MessageId): ChatMessage | undefined {
    return this.#byId.get(id);
  }

  /** Every message, in display order. */
  all(): readonly ChatMessage[] {
    return this.#list;
  }

  /** The row of a message, when it is rendered. */
  row(id: MessageId): HTMLLIElement | undefined {
    return this.#rows.get(id);
  }

  /** Whether the newest message is in the rendered slice. */
  get showsNewest(): boolean {
    return this.#end === this.#list.length;
  }

  /**
   * Replaces every message (in the engine's order). The first time, the newest are shown;
   * after that the reader stays where they were (at the newest, or at the first row still
   * there), rows of unchanged messages are kept as they are and only the changed ones are
   * redrawn.
   */
  reset(list: readonly ChatMessage[]): void {
    const first = this.#rows.size === 0;
    const atNewest = this.showsNewest;
    const log = this.#log;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 2;
    const size = Math.max(INITIAL_ROWS, this.#end - this.#start);
    const shownIds = [...this.#rows.keys()];
    this.#list = [];
    this.#byId.clear();
    for (const m of list) {
      if (this.#byId.has(m.id)) continue;
      this.#list.push(m);
      this.#byId.set(m.id, m);
    }
    if (first) {
      this.showNewest();
      return;
    }
    const n = this.#list.length;
    if (atNewest) {
      this.#show(Math.max(0, n - Math.min(size, MAX_ROWS)), n, atBottom ? 'bottom' : 'keep');
      return;
    }
    const still = shownIds.find((id) => this.#byId.has(id));
    const start =
      still === undefined ? Math.max(0, n - INITIAL_ROWS) : this.#list.indexOf(this.#byId.get(still)!);
    this.#show(start, Math.min(n, start + Math.min(size, MAX_ROWS)), 'keep');
  }

  /**
   * Brings message `id` into the slice and into view, centred (a search hit, the first unread);
   * its row, or undefined for an unknown id.
   */
  reveal(id: MessageId): HTMLLIElement | undefined {
    const index = this.#list.findIndex((m) => m.id === id);
    if (index < 0) return undefined;
    if (index < this.#start || index >= this.#end) {
      const start = Math.max(0, index - PAGE_ROWS / 2);
      this.#show(start, Math.min(this.#list.length, start + INITIAL_ROWS), 'keep');
    }
    const row = this.#rows.get(id);
    row?.scrollIntoView({ block: 'center' });
    return row;
  }

  /** Moves the slice to the newest messages, scrolled to the bottom. */
  showNewest(): void {
    const end = this.#list.length;
    this.#show(Math.max(0, end - INITIAL_ROWS), end, 'bottom');
  }

  /**
   * Adds or updates a message. Shown once, in the sender's order: a known id is updated in
   * place, a message older than the newest is inserted before the first later one (events
   * can race the first load; chain deliveries can arrive out of order). A new message is
   * rendered when it falls inside the slice or right after it while the newest are shown.
   */
  put(m: ChatMessage): { readonly added: boolean; readonly shown: boolean } {
    const known = this.#byId.get(m.id);
    if (known !== undefined) {
      this.#list[this.#list.indexOf(known)] = m;
      this.#byId.set(m.id, m);
      const old = this.#rows.get(m.id);
      if (old !== undefined) {
        // Updated in place: the row, its focus and its buttons stay the same elements.
        morph(old, this.#render(m));
        this.#drawn.set(m.id, m);
      }
      return { added: false, shown: old !== undefined };
    }
    const atNewest = this.showsNewest;
    const last = this.#list.at(-1);
    const at =
      last === undefined || m.sentAt >= last.sentAt
        ? this.#list.length
        : this.#list.findIndex((x) => x.sentAt > m.sentAt);
    this.#list.splice(at, 0, m);
    this.#byId.set(m.id, m);
    this.#log.dataset['count'] = String(this.#list.length);
    if (at < this.#start) {
      this.#start++;
      this.#end++;
      return { added: true, shown: false };
    }
    if (at > this.#end || (at === this.#end && !atNewest)) return { added: true, shown: false };
    if (at === this.#end && this.#end - this.#start < MAX_ROWS) {
      // The common case, a new message at the bottom: one row more, nothing re-rendered.
      this.#end++;
      const prev = this.#list[at - 1];
      if (prev === undefined || formatDay(prev.sentAt) !== formatDay(m.sentAt))
        this.#log.appendChild(this.#day(m));
      const li = this.#render(m);
      this.#rows.set(m.id, li);
      this.#drawn.set(m.id, m);
      this.#log.appendChild(li);
      return { added: true, shown: true };
    }
    const end = this.#end + 1;
    this.#show(Math.max(this.#start, end - MAX_ROWS), end, 'keep');
    return { added: true, shown: true };
  }

  /** Takes a message out (deleted on this device); its row goes, the slice stays in place. */
  remove(id: MessageId): boolean {
    const known = this.#byId.get(id);
    if (known === undefined) return false;
    const at = this.#list.indexOf(known);
    this.#list.splice(at, 1);
    this.#byId.delete(id);
    if (at < this.#start) {
      this.#start--;
      this.#end--;
    } else if (at < this.#end) {
      this.#end--;
      // Re-rendered so day separators stay right around the gap.
      this.#show(this.#start, this.#end, 'keep');
    }
    this.#log.dataset['count'] = String(this.#list.length);
    return true;
  }

  /** Renders `[start, end)` of the list, keeping the reader's place as `anchor` says. */
  #show(start: number, end: number, anchor: 'keep' | 'bottom'): void {
    const log = this.#log;
    const top = log.getBoundingClientRect().top;
    let anchorId: MessageId | undefined;
    let anchorAt = 0;
    if (anchor === 'keep') {
      for (const [id, li] of this.#rows) {
        const r = li.getBoundingClientRect();
        if (r.bottom > top) {
          anchorId = id;
          anchorAt = r.top - top;
          break;
        }
      }
    }
    const active = document.activeElement;
    const focused =
      active instanceof HTMLLIElement && log.contains(active)
        ? (active.dataset['id'] as MessageId | undefined)
        : undefined;
    this.#start = start;
    this.#end = end;
    const before = new Map(this.#rows);
    const days = new Map(this.#days);
    this.#rows.clear();
    this.#days.clear();
    const children: HTMLLIElement[] = start > 0 ? [this.#more] : [];
    for (let i = start; i < end; i++) {
      const m = this.#list[i]!;
      const prev = this.#list[i - 1];
      if (prev === undefined || formatDay(prev.sentAt) !== formatDay(m.sentAt)) {
        const day = days.get(m.id);
        children.push(
          day?.textContent === formatDay(m.sentAt) ? keepDay(this.#days, m.id, day) : this.#day(m),
        );
      }
      const old = before.get(m.id);
      const drawn = this.#drawn.get(m.id);
      let li: HTMLLIElement;
      if (old !== undefined && drawn !== undefined && sameData(drawn, m)) li = old;
      else if (old !== undefined) {
        morph(old, this.#render(m));
        li = old;
      } else li = this.#render(m);
      this.#rows.set(m.id, li);
      this.#drawn.set(m.id, m);
      children.push(li);
    }
    for (const id of before.keys()) if (!this.#rows.has(id)) this.#drawn.delete(id);
    placeChildren(log, children);
    log.dataset['count'] = String(this.#list.length);
    const kept = anchorId === undefined ? undefined : this.#rows.get(anchorId);
    if (anchor === 'bottom') log.scrollTop = log.scrollHeight;
    else if (kept !== undefined) log.scrollTop += kept.getBoundingClientRect().top - top - anchorAt;
    if (focused !== undefined) this.#rows.get(focused)?.focus({ preventScroll: true });
  }

  #grow(direction: 'up' | 'down'): void {
    if (direction === 'up') {
      if (this.#start === 0) return;
      const start = Math.max(0, this.#start - PAGE_ROWS);
      this.#show(start, Math.min(this.#end, start + MAX_ROWS), 'keep');
    } else {
      if (this.showsNewest) return;
      const end = Math.min(this.#list.length, this.#end + PAGE_ROWS);
      this.#show(Math.max(this.#start, end - MAX_ROWS), end, 'keep');
    }
  }

  #onScroll(): void {
    const log = this.#log;
    if (log.scrollTop < EDGE_PX) this.#grow('up');
    else if (log.scrollHeight - log.scrollTop - log.clientHeight < EDGE_PX) this.#grow('down');
  }

  /** Focuses message `index` of the whole list, bringing it into the slice first. */
  #focusAt(index: number): void {
    if (index < this.#start) {
      const start = Math.max(0, index - PAGE_ROWS);
      this.#show(start, Math.min(Math.max(this.#end, start + 1), start + MAX_ROWS), 'keep');
    } else if (index >= this.#end) {
      const end = Math.min(this.#list.length, index + PAGE_ROWS);
      this.#show(Math.max(this.#start, end - MAX_ROWS), end, 'keep');
    }
    const m = this.#list[index];
    if (m !== undefined) this.#rows.get(m.id)?.focus();
  }

  #onKey(e: KeyboardEvent): void {
    const count = this.#list.length;
    if (count === 0) return;
    const active = document.activeElement;
    const id = active instanceof HTMLLIElement ? (active.dataset['id'] as MessageId | undefined) : undefined;
    const known = id === undefined ? undefined : this.#byId.get(id);
    const current = known === undefined ? -1 : this.#list.indexOf(known);
    let next = -1;
    if (e.key === 'ArrowUp') next = current === -1 ? count - 1 : Math.max(0, current - 1);
    else if (e.key === 'ArrowDown') next = current === -1 ? count - 1 : Math.min(count - 1, current + 1);
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = count - 1;
    else if (e.key === 'Enter' || e.key === 'ContextMenu' || (e.key === 'F10' && e.shiftKey)) {
      if (id !== undefined && this.#activate(id)) e.preventDefault();
      return;
    }
    if (next >= 0) {
      e.preventDefault();
      this.#focusAt(next);
    }
  }

  /** A new separator heading message `m`'s day. */
  #day(m: ChatMessage): HTMLLIElement {
    const li = h('li', { class: 'day', role: 'separator' }, h('span', {}, formatDay(m.sentAt)));
    this.#days.set(m.id, li);
    return li;
  }
}

function keepDay(days: Map<MessageId, HTMLLIElement>, id: MessageId, li: HTMLLIElement): HTMLLIElement {
  days.set(id, li);
  return li;
}
