/**
 * Message requests: first messages from people who hold the user's card but are not contacts.
 * Nothing goes back to them (no receipts, no direct link) until the user accepts, so the list
 * says so, shows the sender's own name as unverified, and offers Accept, Block and Delete.
 */
import type { AppEvent, ContactId, MessageRequestSummary } from '../app-api.ts';
import { errorText, h, replaceChildren } from '../dom.ts';
import { formatWhen } from '../format.ts';
import type { View, ViewContext } from './view.ts';

const HINT =
  'They hold your card and wrote first. Until you accept, they get no sign that you saw their ' +
  'messages, and no direct connection to you.';

/** The list of waiting requests. */
export function requestsView(ctx: ViewContext): View {
  const list = h('ul', { class: 'chat-list requests', 'aria-label': 'Message requests' });
  const empty = h('p', { class: 'empty' }, 'No message requests.');
  const el = h(
    'section',
    { class: 'page', 'aria-labelledby': 'requests-title' },
    h('h2', { id: 'requests-title', class: 'pane-title' }, 'Message requests'),
    h('p', { class: 'hint' }, HINT),
    list,
    empty,
  );
  let disposed = false;
  const refresh = (): void => {
    ctx.api.messageRequests().then(
      (rows) => {
        if (disposed) return;
        empty.hidden = rows.length > 0;
        replaceChildren(
          list,
          ...rows.map((r) => {
            const last = r.messages.at(-1);
            const preview = last === undefined ? '' : last.text;
            return h(
              'li',
              {},
              h(
                'a',
                { href: `#/request/${encodeURIComponent(r.id)}`, class: 'request-row' },
                h(
                  'span',
                  { class: 'chat-main' },
                  h(
                    'span',
                    { class: 'chat-name' },
                    r.displayName,
                    ' ',
                    h('span', { class: 'unverified' }, '(unverified)'),
                  ),
                  h(
                    'span',
                    { class: 'chat-preview' },
                    preview.length > 80 ? `${preview.slice(0, 80)}...` : preview,
                  ),
                ),
                h(
                  'span',
                  { class: 'chat-side' },
                  last === undefined
                    ? null
                    : h('time', { datetime: new Date(last.sentAt).toISOString() }, formatWhen(last.sentAt)),
                  h(
                    'span',
                    { class: 'unread' },
                    String(r.messages.length),
                    h('span', { class: 'sr-only' }, ' messages'),
                  ),
                ),
              ),
            );
          }),
        );
      },
      () => undefined,
    );
  };
  refresh();
  return {
    el,
    title: 'Message requests',
    onEvent(event: AppEvent) {
      if (event.type === 'requests') refresh();
    },
    dispose() {
      disposed = true;
    },
  };
}

/** One request: who (unverified), what they wrote, and Accept / Block / Delete. */
export function requestView(ctx: ViewContext, id: ContactId): View {
  const name = h('h2', { class: 'conv-name' }, '');
  const fp = h('p', { class: 'conv-fp' });
  const log = h('ol', { class: 'msgs', 'aria-label': 'Messages' });
  const error = h('p', { class: 'field-error', role: 'alert' });
  const accept = h('button', { type: 'button', class: 'btn primary' }, 'Accept');
  const block = h('button', { type: 'button', class: 'btn' }, 'Block');
  const remove = h('button', { type: 'button', class: 'btn' }, 'Delete');
  const buttons = [accept, block, remove];
  const el = h(
    'section',
    { class: 'conv request', 'aria-label': 'Message request' },
    h(
      'header',
      { class: 'conv-head' },
      h('a', { href: '#/requests', class: 'back', 'aria-label': 'Back to message requests' }, '<'),
      h('div', { class: 'conv-title' }, name, fp),
    ),
    log,
    h(
      'div',
      { class: 'request-actions' },
      h('p', { class: 'hint' }, HINT),
      h('div', { class: 'row' }, ...buttons),
      error,
    ),
  );
  let disposed = false;
  const render = (r: MessageRequestSummary | undefined): void => {
    if (r === undefined) {
      name.textContent = 'Message request';
      fp.textContent = '';
      replaceChildren(log, h('li', { class: 'empty' }, 'This request is gone.'));
      for (const b of buttons) b.disabled = true;
      return;
    }
    replaceChildren(name, r.displayName, ' ', h('span', { class: 'unverified' }, '(unverified)'));
    fp.textContent = `key ${r.fingerprint}`;
    replaceChildren(
      log,
      ...r.messages.map((m) =>
        h(
          'li',
          { class: 'msg in' },
          h('p', { class: 'text' }, m.text),
          h(
            'div',
            { class: 'meta' },
            h('time', { datetime: new Date(m.sentAt).toISOString() }, formatWhen(m.sentAt)),
          ),
        ),
      ),
    );
  };
  const refresh = (): void => {
    ctx.api.messageRequests().then(
      (rows) => {
        if (!disposed) render(rows.find((r) => r.id === id));
      },
      () => undefined,
    );
  };
  const act = (button: HTMLButtonElement, run: () => Promise<string>): void => {
    button.addEventListener('click', () => {
      for (const b of buttons) b.disabled = true;
      error.textContent = '';
      run().then(
        (next) => ctx.navigate(next),
        (err: unknown) => {
          for (const b of buttons) b.disabled = false;
          error.textContent = errorText(err);
        },
      );
    });
  };
  act(accept, async () => {
    const c = await ctx.api.acceptRequest(id);
    ctx.announce(`${c.displayName} is now a contact`);
    return `#/chat/${encodeURIComponent(c.id)}`;
  });
  act(block, async () => {
    await ctx.api.blockRequest(id);
    ctx.announce('Blocked');
    return '#/requests';
  });
  act(remove, async () => {
    await ctx.api.deleteRequest(id);
    ctx.announce('Request deleted');
    return '#/requests';
  });
  refresh();
  return {
    el,
    title: 'Message request',
    onEvent(event: AppEvent) {
      if (event.type === 'requests') refresh();
    },
    dispose() {
      disposed = true;
    },
  };
}
