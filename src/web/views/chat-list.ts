/**
 * The conversation list: names, last message, unread counts, connection dots, and above them
 * the "Message requests" entry with its count while any wait. Pinned conversations come first
 * (the engine's order) and are marked, muted ones are marked, and archived ones are listed
 * apart under "Archived", folded until opened.
 *
 * The list is windowed: every conversation is known, only the rows in view plus a margin are
 * in the DOM, in fixed-height slots (a row is one line of name and one of preview), with the
 * rest of the list's height kept as padding so the scroll bar tells the truth. A profile with
 * a thousand contacts then costs the DOM and the layout of a screenful (issue 15 scale rows,
 * bench/web.bench.ts). Arrows, Page Up/Down, Home and End move between rows of the whole list,
 * rendering them as needed, and each row carries its position (`aria-posinset` of
 * `aria-setsize`), so nothing is reachable only by scrolling.
 */
import type { ChatMessage, ContactId, ContactSummary, ConversationSummary } from '../app-api.ts';
import { h, replaceChildren } from '../dom.ts';
import { connectionWords, formatWhen } from '../format.ts';

/** Rows rendered beyond the visible ones, above and below, so fast scrolling stays filled. */
export const MARGIN_ROWS = 12;
/** Rows rendered before the list has a size to measure (hidden, or not yet in the page). */
const INITIAL_ROWS = 40;
/** Rows a Page Up or Page Down moves by when the viewport is not measurable. */
const PAGE_ROWS = 10;

/** A live list element; call `update` with fresh rows and the open conversation. */
export interface ChatList {
  readonly el: HTMLElement;
  update(rows: readonly ConversationSummary[], active?: ContactId): void;
  /** Marks the open conversation's row (and no other) without rebuilding the list. */
  setActive(active?: ContactId): void;
  /** Shows the "Message requests" entry with `count`, or hides it at 0. */
  updateRequests(count: number): void;
}

/** What the list's search box asks (AppApi.search). */
export type SearchFn = (
  query: string,
) => Promise<readonly { readonly contact: ContactSummary; readonly message: ChatMessage }[]>;

/** Creates the conversation list (rendered into the sidebar, or the main pane on phones). */
export function createChatList(search: SearchFn): ChatList {
  const list = h('ul', { class: 'chat-list windowed', 'aria-label': 'Conversations' });
  const rowsWindow = new RowWindow(list);
  const requestCount = h('span', {});
  const requests = h(
    'a',
    { href: '#/requests', class: 'requests-entry', hidden: true },
    h('span', { class: 'chat-main' }, h('span', { class: 'chat-name' }, 'Message requests')),
    h(
      'span',
      { class: 'chat-side' },
      h('span', { class: 'unread' }, requestCount, h('span', { class: 'sr-only' }, ' waiting')),
    ),
  );
  const empty = h(
    'div',
    { class: 'empty' },
    h('p', {}, 'No conversations yet.'),
    h(
      'p',
      {},
      h('a', { href: '#/add', class: 'btn' }, 'Add a contact'),
      ' ',
      h('a', { href: '#/share', class: 'btn' }, 'Share my card'),
    ),
  );
  const archivedList = h('ul', { class: 'chat-list', 'aria-label': 'Archived conversations' });
  const archivedCount = h('span', {});
  const archivedToggle = h(
    'button',
    { type: 'button', class: 'link-btn archived-toggle', 'aria-expanded': 'false' },
    'Archived (',
    archivedCount,
    ')',
  );
  const archived = h('div', { class: 'archived', hidden: true }, archivedToggle, archivedList);
  archivedList.hidden = true;
  archivedToggle.addEventListener('click', () => {
    archivedList.hidden = !archivedList.hidden;
    archivedToggle.setAttribute('aria-expanded', String(!archivedList.hidden));
  });
  // Search across conversations: results take the list's place while the box holds text.
  const box = h('input', {
    type: 'search',
    class: 'search-box',
    placeholder: 'Search messages',
    'aria-label': 'Search messages',
    autocomplete: 'off',
    dir: 'auto',
  });
  const found = h('p', { class: 'hint search-state', role: 'status' });
  const results = h('ul', { class: 'chat-list search-results', 'aria-label': 'Search results' });
  const resultsBox = h('div', { class: 'search', hidden: true }, found, results);
  const browse = h('div', {}, requests, list, empty, archived);
  /** Drops answers to older queries that arrive after newer ones. */
  let generation = 0;
  const runSearch = (): void => {
    const query = box.value;
    const mine = ++generation;
    const on = query.trim() !== '';
    resultsBox.hidden = !on;
    browse.hidden = on;
    if (!on) return;
    search(query).then(
      (hits) => {
        if (mine !== generation) return;
        found.textContent =
          hits.length === 0
            ? 'Nothing found'
            : `${hits.length === 1 ? '1 message' : `${hits.length} messages`} found`;
        replaceChildren(results, ...hits.map((hit) => hitItem(hit, query)));
      },
      (err: unknown) => {
        if (mine !== generation) return;
        found.textContent = err instanceof Error ? err.message : 'Search failed';
        results.replaceChildren();
      },
    );
  };
  box.addEventListener('input', runSearch);
  const el = h(
    'nav',
    { class: 'chats', 'aria-label': 'Conversations' },
    h('h2', { class: 'pane-title' }, 'Chats'),
    h('div', { class: 'search-row' }, box),
    resultsBox,
    browse,
  );

  return {
    el,
    updateRequests(count) {
      requests.hidden = count === 0;
      requestCount.textContent = String(count);
    },
    setActive(active) {
      rowsWindow.active = active;
      for (const a of el.querySelectorAll<HTMLAnchorElement>('a.chat-row:not(.hit)')) {
        const on = a.dataset['id'] === active;
        a.classList.toggle('active', on);
        if (on) a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
      }
    },
    update(all, active) {
      const rows = all.filter((r) => r.flags?.archived !== true);
      const stored = all.filter((r) => r.flags?.archived === true);
      empty.hidden = all.length > 0;
      archived.hidden = stored.length === 0;
      archivedCount.textContent = String(stored.length);
      replaceChildren(archivedList, ...stored.map((row) => rowItem(row, active)));
      rowsWindow.set(rows, active);
    },
  };
}

/**
 * The rendered slice of the conversation list: rows `start` to `end` of `rows`, with the
 * height of the others as the list's padding. Rows have one fixed height, measured from the
 * first ones rendered (the tallest of them) and then imposed on all, so slot i always sits at
 * i x height and no row needs measuring to place another.
 */
class RowWindow {
  readonly #list: HTMLUListElement;
  #rows: readonly ConversationSummary[] = [];
  active: ContactId | undefined;
  #rowHeight = 0;
  #start = 0;
  #end = 0;
  #scroller: HTMLElement | undefined;
  #frame = 0;

  constructor(list: HTMLUListElement) {
    this.#list = list;
    list.addEventListener('keydown', (e) => this.#onKey(e));
  }

  /** Replaces the rows (fresh data) and renders the slice in view. */
  set(rows: readonly ConversationSummary[], active: ContactId | undefined): void {
    this.#rows = rows;
    this.active = active;
    this.#list.dataset['count'] = String(rows.length);
    this.#render(this.#range());
  }

  /** The scroll container the list sits in, found once the list is in the page. */
  #findScroller(): HTMLElement | undefined {
    if (this.#scroller !== undefined || !this.#list.isConnected) return this.#scroller;
    for (let p = this.#list.parentElement; p !== null; p = p.parentElement) {
      const y = getComputedStyle(p).overflowY;
      if (y === 'auto' || y === 'scroll') {
        this.#scroller = p;
        break;
      }
    }
    const sc = this.#scroller ?? (document.scrollingElement as HTMLElement | null) ?? undefined;
    this.#scroller = sc;
    if (sc === undefined) return undefined;
    const onMove = (): void => {
      if (this.#frame !== 0) return;
      this.#frame = requestAnimationFrame(() => {
        this.#frame = 0;
        const [start, end] = this.#range();
        if (start !== this.#start || end !== this.#end) this.#render([start, end]);
      });
    };
    (sc === document.scrollingElement ? window : sc).addEventListener('scroll', onMove, { passive: true });
    // A taller or shorter window shows more or fewer rows; the observer goes with the element.
    new ResizeObserver(onMove).observe(sc);
    return sc;
  }

  /** Where row 0's slot starts, in the scroller's content coordinates. */
  #listTop(sc: HTMLElement): number {
    const base = sc === document.scrollingElement ? 0 : sc.getBoundingClientRect().top;
    return this.#list.getBoundingClientRect().top - base + sc.scrollTop;
  }

  /** The rows in view plus the margin, or the first ones while nothing can be measured. */
  #range(): [number, number] {
    const n = this.#rows.length;
    const sc = this.#findScroller();
    if (sc === undefined || this.#rowHeight === 0 || sc.clientHeight === 0)
      return [0, Math.min(n, Math.max(INITIAL_ROWS, this.#end - this.#start))];
    const top = sc.scrollTop - this.#listTop(sc);
    const first = Math.floor(top / this.#rowHeight);
    const last = Math.ceil((top + sc.clientHeight) / this.#rowHeight);
    const start = Math.max(0, Math.min(n, first - MARGIN_ROWS));
    return [start, Math.max(start, Math.min(n, last + MARGIN_ROWS))];
  }

  #render([start, end]: [number, number]): void {
    const list = this.#list;
    const focused = document.activeElement;
    const focusedId =
      focused instanceof HTMLAnchorElement && list.contains(focused) ? focused.dataset['id'] : undefined;
    const n = this.#rows.length;
    const items: HTMLLIElement[] = [];
    for (let i = start; i < end; i++) {
      const li = rowItem(this.#rows[i]!, this.active);
      li.setAttribute('aria-setsize', String(n));
      li.setAttribute('aria-posinset', String(i + 1));
      li.dataset['index'] = String(i);
      items.push(li);
    }
    list.replaceChildren(...items);
    this.#start = start;
    this.#end = end;
    if (this.#rowHeight === 0 && items.length > 0 && list.isConnected) {
      const tallest = Math.max(...items.map((li) => li.getBoundingClientRect().height));
      if (tallest > 0) {
        this.#rowHeight = Math.ceil(tallest);
        list.style.setProperty('--chat-row-height', `${this.#rowHeight}px`);
      }
    }
    // CSSOM, not a style attribute: the CSP allows the one and refuses the other.
    list.style.paddingTop = `${start * this.#rowHeight}px`;
    list.style.paddingBottom = `${(n - end) * this.#rowHeight}px`;
    if (focusedId !== undefined)
      list.querySelector<HTMLAnchorElement>(`a.chat-row[data-id="${CSS.escape(focusedId)}"]`)?.focus();
    // Measured just now: the first slice may have been a guess.
    if (this.#rowHeight > 0 && (start !== 0 || end !== n)) {
      const [s2, e2] = this.#range();
      if (s2 < start || e2 > end) this.#render([Math.min(s2, start), Math.max(e2, end)]);
    }
  }

  /** Brings row `i` into view (rendering it) and focuses it. */
  #focusRow(i: number): void {
    const n = this.#rows.length;
    if (n === 0) return;
    const index = Math.max(0, Math.min(n - 1, i));
    const sc = this.#findScroller();
    if (sc !== undefined && this.#rowHeight > 0) {
      const top = this.#listTop(sc) + index * this.#rowHeight;
      if (top < sc.scrollTop) sc.scrollTop = top;
      else if (top + this.#rowHeight > sc.scrollTop + sc.clientHeight)
        sc.scrollTop = top + this.#rowHeight - sc.clientHeight;
    }
    let [start, end] = this.#range();
    if (index < start || index >= end) {
      start = Math.max(0, index - MARGIN_ROWS);
      end = Math.min(n, index + MARGIN_ROWS + 1);
    }
    this.#render([start, end]);
    this.#list.querySelector<HTMLAnchorElement>(`li[data-index="${index}"] a.chat-row`)?.focus();
  }

  #onKey(e: KeyboardEvent): void {
    const li = e.target instanceof Element ? e.target.closest('li[data-index]') : null;
    if (!(li instanceof HTMLLIElement) || e.altKey || e.ctrlKey || e.metaKey) return;
    const current = Number(li.dataset['index']);
    const sc = this.#scroller;
    const page =
      sc !== undefined && this.#rowHeight > 0
        ? Math.max(1, Math.floor(sc.clientHeight / this.#rowHeight) - 1)
        : PAGE_ROWS;
    const moves: Record<string, number> = {
      ArrowDown: current + 1,
      ArrowUp: current - 1,
      PageDown: current + page,
      PageUp: current - page,
      Home: 0,
      End: this.#rows.length - 1,
    };
    const next = moves[e.key];
    if (next === undefined) return;
    e.preventDefault();
    this.#focusRow(next);
  }
}

/** One search hit: who, the text around the match (marked), when; it opens the message. */
function hitItem(
  hit: { readonly contact: ContactSummary; readonly message: ChatMessage },
  query: string,
): HTMLLIElement {
  const { contact, message } = hit;
  const text = message.text;
  const at = text.toLowerCase().indexOf(query.trim().toLowerCase());
  const snippet =
    at < 0
      ? [text.length > 80 ? `${text.slice(0, 80)}...` : text]
      : [
          at > 30 ? `...${text.slice(at - 30, at)}` : text.slice(0, at),
          h('mark', {}, text.slice(at, at + query.trim().length)),
          text.slice(at + query.trim().length, at + query.trim().length + 50),
        ];
  const link = h(
    'a',
    {
      href: `#/chat/${encodeURIComponent(contact.id)}/${encodeURIComponent(message.id)}`,
      class: 'chat-row hit',
    },
    h('span', { class: 'dot none', 'aria-hidden': 'true' }),
    h(
      'span',
      { class: 'chat-main' },
      h('span', { class: 'chat-name', dir: 'auto' }, contact.displayName),
      h(
        'span',
        { class: 'chat-preview' },
        message.outgoing ? 'You: ' : null,
        h('bdi', { dir: 'auto' }, ...snippet),
      ),
    ),
    h(
      'span',
      { class: 'chat-side' },
      h('time', { datetime: new Date(message.sentAt).toISOString() }, formatWhen(message.sentAt)),
    ),
  );
  return h('li', {}, link);
}

/** One conversation row. */
function rowItem(row: ConversationSummary, active: ContactId | undefined): HTMLLIElement {
  const c = row.contact;
  const text = row.last === undefined ? 'No messages yet' : row.last.text;
  const muted = row.flags?.muted === true;
  const unread =
    row.unread > 0
      ? h(
          'span',
          { class: `unread${muted ? ' muted' : ''}` },
          String(row.unread),
          h('span', { class: 'sr-only' }, ' unread'),
        )
      : null;
  const marks = [
    row.flags?.pinned === true ? h('span', { class: 'mark pinned', title: 'Pinned' }, 'pinned') : null,
    muted ? h('span', { class: 'mark muted', title: 'Muted' }, 'muted') : null,
    c.blocked === true ? h('span', { class: 'mark blocked', title: 'Blocked' }, 'blocked') : null,
  ];
  const link = h(
    'a',
    {
      href: `#/chat/${encodeURIComponent(c.id)}`,
      'data-id': c.id,
      class: `chat-row${c.id === active ? ' active' : ''}`,
      'aria-current': c.id === active ? 'page' : undefined,
    },
    h('span', {
      class: `dot ${c.connection}`,
      title: connectionWords(c.connection),
      'aria-hidden': 'true',
    }),
    h(
      'span',
      { class: 'chat-main' },
      h(
        'span',
        { class: 'chat-title' },
        // dir="auto": a right-to-left name or text reads as such (the contact's own words).
        h('span', { class: 'chat-name', dir: 'auto' }, c.displayName),
        ...marks,
      ),
      h('span', { class: 'sr-only' }, `, ${connectionWords(c.connection)}, `),
      h(
        'span',
        { class: 'chat-preview' },
        row.last?.outgoing === true ? 'You: ' : null,
        h('bdi', { dir: 'auto' }, text.length > 80 ? `${text.slice(0, 80)}...` : text),
      ),
    ),
    h(
      'span',
      { class: 'chat-side' },
      row.last === undefined
        ? null
        : h('time', { datetime: new Date(row.last.at).toISOString() }, formatWhen(row.last.at)),
      unread,
    ),
  );
  return h('li', {}, link);
}
