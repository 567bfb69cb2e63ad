/**
 * The conversation list: names, last message, unread counts, connection dots, and above them
 * the "Message requests" entry with its count while any wait. Pinned conversations come first
 * (the engine's order) and are marked, muted ones are marked, and archived ones are listed
 * apart under "Archived", folded until opened.
 */
import type { ChatMessage, ContactId, ContactSummary, ConversationSummary } from '../app-api.ts';
import { h, replaceChildren } from '../dom.ts';
import { connectionWords, formatWhen } from '../format.ts';

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
  const list = h('ul', { class: 'chat-list', 'aria-label': 'Conversations' });
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
      replaceChildren(list, ...rows.map((row) => rowItem(row, active)));
    },
  };
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
