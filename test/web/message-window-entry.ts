/** Browser entry for message-window.test.ts: a MessageWindow over plain rows, its redraws counted. */
import type { ChatMessage, ContactId, MessageId } from '../../src/web/app-api.ts';
import { MessageWindow } from '../../src/web/views/message-window.ts';

const contactId = 'c1' as ContactId;

function message(i: number, patch: Partial<ChatMessage> = {}): ChatMessage {
  return {
    id: `m${i}` as MessageId,
    contactId,
    outgoing: i % 2 === 0,
    text: `Message ${i}`,
    sentAt: Date.UTC(2026, 0, 1) + i * 60_000,
    status: 'delivered',
    ...patch,
  } as ChatMessage;
}

/** What the window kept and redrew across a reset with one message changed. */
export function resetOneChanged(): {
  readonly rendered: readonly string[];
  readonly kept: number;
  readonly shown: number;
  readonly changedKept: boolean;
  readonly changedText: string;
  readonly focusKept: boolean;
  readonly scrollKept: boolean;
} {
  const log = document.createElement('ol');
  log.style.cssText = 'height: 300px; overflow-y: auto; display: block';
  document.body.replaceChildren(log);
  const rendered: string[] = [];
  const w = new MessageWindow({
    log,
    render: (m) => {
      rendered.push(m.id);
      const li = document.createElement('li');
      li.dataset['id'] = m.id;
      li.tabIndex = -1;
      li.style.height = '40px';
      const b = document.createElement('button');
      b.setAttribute('aria-label', 'Edit');
      b.textContent = 'edit';
      li.append(m.text, b);
      return li;
    },
    activate: () => false,
  });
  const list = Array.from({ length: 100 }, (_, i) => message(i));
  w.reset(list);
  const before = new Map(list.map((m) => [m.id, w.row(m.id)]));
  const focused = w.row('m95' as MessageId)!;
  focused.focus();
  log.scrollTop = log.scrollTop - 100;
  const scroll = log.scrollTop;
  rendered.length = 0;
  // Fresh objects from the engine, equal but for one status and one edit.
  const next = list.map((_, i) => (i === 97 ? message(i, { text: 'Changed', edited: true }) : message(i)));
  w.reset(next);
  let kept = 0;
  let shown = 0;
  for (const m of next) {
    const row = w.row(m.id);
    if (row === undefined) continue;
    shown++;
    if (row === before.get(m.id)) kept++;
  }
  return {
    rendered,
    kept,
    shown,
    changedKept: w.row('m97' as MessageId) === before.get('m97' as MessageId),
    changedText: w.row('m97' as MessageId)?.textContent ?? '',
    focusKept: document.activeElement === focused,
    scrollKept: log.scrollTop === scroll,
  };
}

/** Whether `put` of a changed message keeps its row and the row's button. */
export function putKeepsRow(): {
  readonly rowKept: boolean;
  readonly buttonKept: boolean;
  readonly text: string;
} {
  const log = document.createElement('ol');
  document.body.replaceChildren(log);
  const w = new MessageWindow({
    log,
    render: (m) => {
      const li = document.createElement('li');
      li.className = `msg ${m.status}`;
      const b = document.createElement('button');
      b.setAttribute('aria-label', 'Edit');
      li.append(m.text, b);
      return li;
    },
    activate: () => false,
  });
  w.reset([message(1, { status: 'sent' })]);
  const row = w.row('m1' as MessageId)!;
  const button = row.querySelector('button');
  w.put(message(1, { status: 'read', text: 'Now read' }));
  const after = w.row('m1' as MessageId)!;
  return {
    rowKept: after === row,
    buttonKept: after.querySelector('button') === button,
    text: `${after.className}|${after.textContent}`,
  };
}
