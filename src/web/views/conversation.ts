/**
 * One conversation: connection state in words, messages with time, ticks and the "verified
 * delivery" badge, the composer, and the delivery proof on long press, context menu or
 * keyboard (Enter / context-menu key on a focused message).
 */
import {
  AppApiError,
  MAX_MESSAGE_LENGTH,
  type AppEvent,
  type ChatMessage,
  type ContactId,
  type ContactSummary,
  type ConversationFlags,
  type ConversationFlagsPatch,
  type MessageId,
} from '../app-api.ts';
import { MAX_NICKNAME_LENGTH, NO_FLAGS } from '../conversation-flags.ts';
import {
  DISAPPEARING_SECONDS,
  disappearingWords,
  isDisappearingSeconds,
} from '../../core/disappearing/timer.ts';
import { errorText, h, uid } from '../dom.ts';
import {
  formatClock,
  formatFull,
  headerWords,
  lengthWords,
  secureBadgeWords,
  statusTicks,
  statusWords,
  waitingWords,
} from '../format.ts';
import { bubbleParts, canEdit, MessageActionsUi, type ComposerMode } from './message-actions.ts';
import { MessageWindow } from './message-window.ts';
import { attachmentsPart } from './attachments.ts';
import { voiceRecorder } from './voice-recorder.ts';
import { openProofDialog } from './proof-dialog.ts';
import { keyWarningWords } from './verify.ts';
import type { View, ViewContext } from './view.ts';
import { mark as timelineMark } from '../../util/marks.ts';

/** How long a press must last to count as a long press (common mobile convention). */
const LONG_PRESS_MS = 500;
/** While typing, "typing" is repeated at most this often; the contact shows it a while longer. */
const TYPING_REPEAT_MS = 3_000;
/** Typing is said to have stopped after this long without a keystroke. */
const TYPING_IDLE_MS = 5_000;
/** A contact's "typing" shows this long unless renewed (their repeat plus slack for delay). */
const TYPING_SHOWN_MS = 6_000;

/**
 * Mounts the conversation with contact `id`, opened at `target` (a search hit) when given,
 * else at the first unread message when some are, else at the newest.
 */
export function conversationView(ctx: ViewContext, id: ContactId, target?: MessageId): View {
  // Names and texts are the contacts' own: dir="auto" lets right-to-left ones read as such.
  const name = h('h2', { class: 'conv-name', dir: 'auto' }, '');
  const fingerprint = h('p', { class: 'conv-fp' });
  // The verified mark links to the contact's page, where the safety number is compared.
  const mark = h('a', { href: `#/contact/${encodeURIComponent(id)}`, class: 'verified-mark' });
  const conn = h('p', { class: 'conn', role: 'status' });
  // This device's own choices for the conversation (never sent): toggle buttons and rename.
  const toggles = (['pinned', 'muted', 'archived'] as const).map((flag) => {
    const b = h(
      'button',
      { type: 'button', class: 'link-btn', 'aria-pressed': 'false', 'data-flag': flag },
      { pinned: 'pin', muted: 'mute', archived: 'archive' }[flag],
    );
    b.addEventListener('click', () => setFlags({ [flag]: b.getAttribute('aria-pressed') !== 'true' }));
    return b;
  });
  const renameBtn = h('button', { type: 'button', class: 'link-btn' }, 'rename');
  // Disappearing messages: chosen here, shown under the name while on (core/disappearing).
  const timerSelect = h(
    'select',
    { class: 'timer-select', 'aria-label': 'Disappearing messages' },
    ...DISAPPEARING_SECONDS.map((s) =>
      h(
        'option',
        { value: String(s) },
        s === 0 ? 'disappearing: off' : `disappearing: ${disappearingWords(s)}`,
      ),
    ),
  );
  const timerLine = h('p', { class: 'conv-timer', hidden: true });
  const renderTimer = (seconds: number): void => {
    timerSelect.value = String(seconds);
    timerLine.hidden = seconds === 0;
    timerLine.textContent =
      isDisappearingSeconds(seconds) && seconds !== 0
        ? `Disappearing messages: ${disappearingWords(seconds)}`
        : '';
  };
  timerSelect.addEventListener('change', () => {
    ctx.api.setDisappearing(id, Number(timerSelect.value)).then(
      (t) => renderTimer(t.seconds),
      (err: unknown) => ctx.announce(errorText(err)),
    );
  });
  const loadTimer = (): void => {
    ctx.api.disappearing(id).then(
      (t) => renderTimer(t.seconds),
      () => undefined,
    );
  };
  // Block and delete (issue 15): block is a toggle; delete asks first, in the page.
  const blockBtn = h('button', { type: 'button', class: 'link-btn', 'aria-pressed': 'false' }, 'block');
  const deleteBtn = h('button', { type: 'button', class: 'link-btn danger' }, 'delete');
  const tools = h(
    'div',
    { class: 'conv-tools', role: 'group', 'aria-label': 'Conversation' },
    ...toggles,
    renameBtn,
    blockBtn,
    deleteBtn,
    timerSelect,
  );
  const blockedNote = h('p', { class: 'blocked-note', role: 'status', hidden: true });
  const deleteAlso = h('input', { type: 'checkbox', id: uid('del-contact') });
  const deleteTitle = h('p', { class: 'confirm-title' });
  const deleteError = h('p', { class: 'field-error', role: 'alert' });
  const deleteCancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
  const deleteAlsoLabel = h('label', { for: deleteAlso.id }, 'Also remove them from my contacts');
  const deleteForm = h(
    'form',
    { class: 'confirm-delete card', hidden: true, novalidate: true, 'aria-label': 'Delete conversation' },
    deleteTitle,
    h(
      'p',
      { class: 'hint' },
      'The messages go from this device only. Copies they received stay on theirs, and an encrypted copy of what went by secure delivery stays on the public ledger until it is pruned. Messages still on their way stay until delivered.',
    ),
    h('div', { class: 'check' }, deleteAlso, deleteAlsoLabel),
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn danger' }, 'Delete'), deleteCancel),
    deleteError,
  );
  const renameInput = h('input', {
    type: 'text',
    autocomplete: 'off',
    dir: 'auto',
    maxlength: MAX_NICKNAME_LENGTH,
    'aria-label': 'Name for this contact',
  });
  const renameHint = h('p', { class: 'hint' });
  const renameError = h('p', { class: 'field-error', role: 'alert' });
  const renameCancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
  const renameForm = h(
    'form',
    { class: 'rename', hidden: true, novalidate: true },
    renameInput,
    h('button', { type: 'submit', class: 'btn primary' }, 'Save name'),
    renameCancel,
    renameHint,
    renameError,
  );
  const header = h(
    'header',
    { class: 'conv-head' },
    h('a', { href: '#/chats', class: 'back', 'aria-label': 'Back to chats' }, '<'),
    h('div', { class: 'conv-title' }, name, fingerprint, mark, timerLine),
    h('div', { class: 'conv-side' }, conn, tools),
  );
  const keyWarning = h('p', { class: 'key-warning', role: 'alert', hidden: true });
  // Not a live region itself: the rendered window re-inserts rows as it moves and rows are
  // replaced as ticks change, which a live log would read out again. New incoming messages
  // are announced once, through the app's status line.
  const log = h('ol', {
    class: 'msgs',
    role: 'log',
    'aria-live': 'off',
    'aria-label': 'Messages',
    tabindex: 0,
  });
  // No maxlength: it would cut a pasted text silently. A text over the limit stays whole in
  // the composer, counted and refused until shortened.
  const input = h('textarea', {
    class: 'composer-input',
    rows: 1,
    dir: 'auto',
    placeholder: 'Write a message',
    'aria-label': 'Message',
    autocomplete: 'off',
  });
  const sendError = h('p', { class: 'field-error', role: 'alert' });
  const counter = h('p', { class: 'counter hint', id: uid('count'), 'aria-live': 'polite', hidden: true });
  input.setAttribute('aria-describedby', counter.id);
  const emptyNote = h(
    'div',
    { class: 'conv-empty', hidden: true },
    h('p', {}, 'No messages yet.'),
    h(
      'p',
      { class: 'hint' },
      'Say hello: messages are end-to-end encrypted, and reach them even while they are offline.',
    ),
  );
  const waitNote = h('p', { class: 'wait-note hint', role: 'status', hidden: true });
  const typingNote = h('p', { class: 'typing-note hint', 'aria-live': 'polite', hidden: true });
  const sendBtn = h('button', { type: 'submit', class: 'btn primary' }, 'Send');
  // Reply and edit put a bar above the composer; reactions, delete and forward a panel.
  const actionsUi = new MessageActionsUi(
    ctx,
    () => contact?.displayName ?? 'Contact',
    (mode: ComposerMode) => {
      sendBtn.textContent = mode.kind === 'edit' ? 'Save' : 'Send';
      if (mode.kind === 'edit') input.value = mode.message.text;
      else if (mode.kind === 'new' && editing) input.value = '';
      editing = mode.kind === 'edit';
      renderCounter();
      if (mode.kind !== 'new') input.focus();
    },
  );
  let editing = false;
  const composer = h('form', { class: 'composer' }, input, sendBtn);
  const el = h(
    'section',
    { class: 'conv', 'aria-label': 'Conversation' },
    header,
    renameForm,
    deleteForm,
    blockedNote,
    keyWarning,
    emptyNote,
    log,
    typingNote,
    waitNote,
    counter,
    sendError,
    actionsUi.panel,
    actionsUi.bar,
    composer,
  );
  // Attachments (issue 14): the attach button in the composer, their rows above it.
  // An attachment is a message: its bubble is drawn again (in place) when the attachment moves.
  const attachments = attachmentsPart(ctx, id, el, (messageId) => {
    const m = history.get(messageId as MessageId);
    if (m !== undefined) history.put(m);
  });
  composer.insertBefore(attachments.button, input);
  el.insertBefore(attachments.list, composer);
  // Voice notes: the microphone button beside it, the recording panel above the composer.
  const voice = voiceRecorder(ctx, id, attachments.update);
  composer.insertBefore(voice.button, input);
  el.insertBefore(voice.panel, composer);

  let contact: ContactSummary | undefined;
  let flags: ConversationFlags = NO_FLAGS;
  let p2pOnly = false;
  let disposed = false;
  let loaded = false;

  /** This device reaches neither the network nor (then) the contact: the header says so. */
  const youOffline = (): boolean => ctx.api.networkState() === 'unreachable' || !navigator.onLine;

  const renderHeader = (): void => {
    if (contact === undefined) return;
    name.textContent = contact.displayName;
    fingerprint.textContent = `key ${contact.fingerprint}`;
    mark.textContent = contact.verified ? '\u2713 verified' : 'verify safety number';
    mark.className = `verified-mark ${contact.verified ? 'is-verified' : 'not-verified'}`;
    const c = contact;
    if (c.keyWarning?.kind === 'same-name') {
      void ctx.api.contact(c.keyWarning.otherId).then(
        (other) => showWarning(keyWarningWords(c, other.displayName)),
        () => showWarning(keyWarningWords(c)),
      );
    } else {
      showWarning(keyWarningWords(c));
    }
    conn.textContent = headerWords(contact.connection, contact.displayName, {
      youOffline: youOffline(),
      p2pOnly,
    });
    conn.className = `conn ${contact.connection}`;
    for (const b of toggles)
      b.setAttribute('aria-pressed', String(flags[b.dataset['flag'] as 'pinned'] === true));
    const blocked = contact.blocked === true;
    blockBtn.textContent = blocked ? 'unblock' : 'block';
    blockBtn.setAttribute('aria-pressed', String(blocked));
    blockedNote.hidden = !blocked;
    blockedNote.textContent = blocked
      ? `You blocked ${contact.displayName}: nothing they send is shown or answered, and they are not told. Unblock here or in Settings.`
      : '';
    composer.hidden = blocked;
    deleteTitle.textContent = `Delete the conversation with ${contact.displayName}?`;
    deleteAlsoLabel.textContent = `Also remove ${contact.displayName} from my contacts`;
    renameHint.textContent =
      contact.cardName === undefined
        ? 'Only on this device; they are not told.'
        : `Only on this device; the name on their card is "${contact.cardName}". Empty goes back to it.`;
    renderWaiting();
  };

  const setFlags = (patch: ConversationFlagsPatch): void => {
    ctx.api.setConversationFlags(id, patch).then(
      (f) => {
        flags = f;
        renderHeader();
      },
      (err: unknown) => ctx.announce(errorText(err)),
    );
  };
  /** Unread incoming messages when the conversation was opened (before it marks them read). */
  let unreadAtOpen = 0;
  /** Reads this conversation's flags and unread count (they come with the conversation list). */
  const loadFlags = async (): Promise<void> => {
    const row = await ctx.api.conversation(id);
    flags = row.flags ?? NO_FLAGS;
    unreadAtOpen = row.unread;
  };
  let firstUnread: MessageId | undefined;
  renameBtn.addEventListener('click', () => {
    renameForm.hidden = false;
    renameError.textContent = '';
    renameInput.value = contact?.cardName === undefined ? '' : (contact?.displayName ?? '');
    renameInput.placeholder = contact?.cardName ?? contact?.displayName ?? '';
    renameInput.focus();
  });
  renameCancel.addEventListener('click', () => {
    renameForm.hidden = true;
    renameBtn.focus();
  });
  renameForm.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.api.setConversationFlags(id, { nickname: renameInput.value }).then(
      async (f) => {
        flags = f;
        contact = await ctx.api.contact(id);
        renameForm.hidden = true;
        renderHeader();
        renameBtn.focus();
      },
      (err: unknown) => (renameError.textContent = errorText(err)),
    );
  });

  blockBtn.addEventListener('click', () => {
    const c = contact;
    if (c === undefined) return;
    const on = c.blocked !== true;
    (on ? ctx.api.blockContact(id) : ctx.api.unblockContact(id)).then(
      async () => {
        contact = await ctx.api.contact(id);
        renderHeader();
        ctx.announce(on ? `${c.displayName} is blocked` : `${c.displayName} is unblocked`);
      },
      (err: unknown) => ctx.announce(errorText(err)),
    );
  });
  deleteBtn.addEventListener('click', () => {
    deleteForm.hidden = false;
    deleteError.textContent = '';
    deleteAlso.checked = false;
    deleteCancel.focus();
  });
  deleteCancel.addEventListener('click', () => {
    deleteForm.hidden = true;
    deleteBtn.focus();
  });
  deleteForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = contact?.displayName ?? 'the contact';
    const alsoContact = deleteAlso.checked;
    ctx.api.deleteConversation(id, { contact: alsoContact }).then(
      () => {
        ctx.announce(alsoContact ? `${name} and the conversation are deleted` : 'Conversation deleted');
        ctx.navigate('#/chats');
      },
      (err: unknown) => (deleteError.textContent = errorText(err)),
    );
  });

  const showWarning = (words: string | undefined): void => {
    keyWarning.hidden = words === undefined;
    keyWarning.textContent = words ?? '';
  };

  /** Says why messages stay "sending" when direct only mode holds them back. */
  const renderWaiting = (): void => {
    let waiting = 0;
    if (p2pOnly && contact !== undefined && contact.connection !== 'connected')
      for (const m of history.all()) if (m.outgoing && m.status === 'sending') waiting++;
    const words = contact === undefined ? undefined : waitingWords(waiting, contact.displayName);
    waitNote.hidden = words === undefined;
    waitNote.textContent = words ?? '';
  };

  const renderMessage = (m: ChatMessage): HTMLLIElement => {
    // A change of the disappearing timer: a line of the conversation, not a bubble.
    if (m.timerChange !== undefined)
      return h(
        'li',
        { class: 'msg system', tabindex: -1, 'data-id': m.id },
        h('p', { class: 'text', dir: 'auto' }, m.text),
      );
    const actions: HTMLButtonElement[] = [];
    const extras: HTMLButtonElement[] = [];
    const isAttachment = m.attachment === true;
    // Copy puts the text alone on the clipboard: never the name, time or status around it.
    // Every action reads the message as it is now: a row is updated in place (morph.ts), so
    // its buttons, listeners and all, outlive the view they were drawn from.
    const copy = h('button', { type: 'button', class: 'link-btn', 'aria-label': 'Copy text' }, 'copy');
    copy.addEventListener('click', () => {
      navigator.clipboard.writeText((history.get(m.id) ?? m).text).then(
        () => ctx.announce('Copied'),
        () => ctx.announce('Could not copy: the browser refused the clipboard'),
      );
    });
    // An attachment has no text to copy, quote, edit or forward.
    if (m.deleted !== true && !isAttachment) actions.push(copy);
    const act = (label: string, words: string, run: () => void): void => {
      const b = h('button', { type: 'button', class: 'link-btn', 'aria-label': label }, words);
      b.addEventListener('click', run);
      actions.push(b);
    };
    if (m.deleted !== true && !isAttachment) {
      act('Reply', 'reply', () => actionsUi.setMode({ kind: 'reply', message: history.get(m.id) ?? m }));
      act('React', 'react', () => actionsUi.pickReaction(history.get(m.id) ?? m));
      if (canEdit(m))
        act('Edit', 'edit', () => actionsUi.setMode({ kind: 'edit', message: history.get(m.id) ?? m }));
      act('Forward', 'forward', () => void actionsUi.pickForward(history.get(m.id) ?? m));
    }
    if (!isAttachment) act('Delete', 'delete', () => actionsUi.confirmDelete(history.get(m.id) ?? m));
    if (m.hasProof) {
      const b = h(
        'button',
        { type: 'button', class: 'link-btn', 'aria-label': 'View delivery proof' },
        'proof',
      );
      b.addEventListener('click', () => showProof(m.id));
      extras.push(b);
    }
    if (m.status === 'failed') {
      const b = h('button', { type: 'button', class: 'link-btn' }, 'retry');
      b.addEventListener(
        'click',
        () => void ctx.api.retry(m.id).catch((err: unknown) => ctx.announce(errorText(err))),
      );
      extras.unshift(b);
    }
    const parts = bubbleParts(
      m,
      { contact: contact?.displayName ?? 'Contact' },
      {
        quote: (qid) => {
          // The original is brought into view and focused, wherever it is in the history.
          const row = history.reveal(qid);
          row?.classList.add('quoted');
          row?.focus({ preventScroll: true });
        },
        react: (x, emoji) => actionsUi.toggleReaction(history.get(x.id) ?? x, emoji),
      },
    );
    const info = [
      parts.edited,
      m.hasProof ? h('span', { class: 'badge' }, secureBadgeWords(m)) : null,
      h(
        'time',
        { datetime: new Date(m.sentAt).toISOString(), title: formatFull(m.sentAt) },
        formatClock(m.sentAt),
      ),
      m.outgoing
        ? h(
            'span',
            { class: `ticks ${m.status}`, role: 'img', 'aria-label': statusWords(m.status) },
            statusTicks(m.status),
          )
        : null,
    ];
    // The buttons sit at the row's fixed edge (the right for own messages, which are aligned
    // right), with the ones that come and go (proof, retry) on the far side, and what changes
    // with the status (ticks, badge) away from them: a status change between the press and
    // the release of a click does not move the button under the pointer.
    const meta = m.outgoing
      ? h('div', { class: 'meta' }, ...info, ...extras, ...actions)
      : h('div', { class: 'meta' }, ...actions, ...extras, ...info);
    const li = h(
      'li',
      {
        class: `msg ${m.outgoing ? 'out' : 'in'}${m.route === 'secure' ? ' secure' : ''}${m.id === firstUnread ? ' first-unread' : ''}${m.id === target ? ' hit' : ''}`,
        tabindex: -1,
        'data-id': m.id,
      },
      m.id === firstUnread ? h('span', { class: 'sr-only' }, 'First unread message. ') : null,
      // Who wrote it, for screen readers; the text itself is read as content, never as a label.
      h('span', { class: 'sr-only' }, `${m.outgoing ? 'You' : (contact?.displayName ?? 'Contact')}: `),
      ...parts.above,
      isAttachment ? attachments.content(m.id) : parts.text,
      meta,
      // Reactions under the buttons, so the first one to arrive does not push them down.
      parts.below,
    );
    return li;
  };

  const nearBottom = (): boolean => log.scrollHeight - log.scrollTop - log.clientHeight < 80;

  /** Opens the proof of a message that has one; false when it has none. */
  const showProof = (messageId: MessageId): boolean => {
    const m = history.get(messageId);
    if (m === undefined || !m.hasProof) return false;
    void openProofDialog(ctx, m, history.row(messageId) ?? log);
    return true;
  };
  // Keyboard (arrows, Home/End, Enter) lives with the rendered window, which knows what is
  // beyond the rows in the DOM.
  const history = new MessageWindow({ log, render: (m) => renderMessage(m), activate: showProof });

  // Long press (touch), context menu (mouse / keyboard menu key) and Enter all open the proof.
  let pressTimer: ReturnType<typeof setTimeout> | undefined;
  const msgIdOf = (target: EventTarget | null): MessageId | undefined => {
    const li = target instanceof Element ? target.closest('li.msg') : null;
    return (li?.getAttribute('data-id') ?? undefined) as MessageId | undefined;
  };
  log.addEventListener('contextmenu', (e) => {
    const mid = msgIdOf(e.target);
    if (mid === undefined || !showProof(mid)) return;
    e.preventDefault();
  });
  log.addEventListener('pointerdown', (e) => {
    if (e.pointerType !== 'touch') return;
    const mid = msgIdOf(e.target);
    if (mid === undefined) return;
    pressTimer = setTimeout(() => void showProof(mid), LONG_PRESS_MS);
  });
  for (const type of ['pointerup', 'pointercancel', 'pointermove'] as const) {
    log.addEventListener(type, () => clearTimeout(pressTimer));
  }
  const renderEmpty = (): void => {
    emptyNote.hidden = !loaded || history.all().length > 0;
  };
  /** Counts near the limit and marks a draft over it; true when the draft may be sent. */
  const renderCounter = (): boolean => {
    const words = lengthWords(input.value.length, MAX_MESSAGE_LENGTH);
    counter.hidden = words === undefined;
    counter.textContent = words?.text ?? '';
    counter.classList.toggle('over', words?.over === true);
    if (words?.over === true) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
    return words?.over !== true;
  };
  // Typing indicators go over the direct link only (the engine sends nothing without one):
  // repeated while keys are pressed, "stopped" after a pause, on send and on leaving.
  let typingSentAt = 0;
  let typingActive = false;
  let typingIdle: ReturnType<typeof setTimeout> | undefined;
  let typingShown: ReturnType<typeof setTimeout> | undefined;
  const tellTyping = (active: boolean): void => {
    clearTimeout(typingIdle);
    if (!active && !typingActive) return;
    if (active && contact?.connection !== 'connected') return;
    const now = Date.now();
    if (active && typingActive && now - typingSentAt < TYPING_REPEAT_MS) {
      typingIdle = setTimeout(() => tellTyping(false), TYPING_IDLE_MS);
      return;
    }
    typingActive = active;
    typingSentAt = now;
    ctx.api.typing(id, active).catch(() => undefined);
    if (active) typingIdle = setTimeout(() => tellTyping(false), TYPING_IDLE_MS);
  };
  const showTyping = (active: boolean): void => {
    clearTimeout(typingShown);
    typingNote.hidden = !active;
    typingNote.textContent = active ? `${contact?.displayName ?? 'Contact'} is typing\u2026` : '';
    if (active) typingShown = setTimeout(() => showTyping(false), TYPING_SHOWN_MS);
  };
  input.addEventListener('input', () => {
    if (renderCounter()) sendError.textContent = '';
    tellTyping(input.value.trim() !== '');
  });
  const submit = (): void => {
    const text = input.value;
    if (text.trim() === '') return;
    if (!renderCounter()) {
      // Refused here, whole: the engine would refuse it too (MESSAGE_TOO_LONG).
      sendError.textContent = `Not sent: a message holds at most ${MAX_MESSAGE_LENGTH.toLocaleString('en-US')} characters.`;
      return;
    }
    sendError.textContent = '';
    const mode = actionsUi.mode;
    input.value = '';
    renderCounter();
    tellTyping(false);
    if (mode.kind === 'edit') {
      ctx.api.edit(mode.message.id, text).then(
        (m) => {
          history.put(m);
          actionsUi.setMode({ kind: 'new' });
        },
        (err: unknown) => {
          input.value = text;
          renderCounter();
          sendError.textContent = errorText(err);
        },
      );
      return;
    }
    if (mode.kind === 'reply') actionsUi.setMode({ kind: 'new' });
    (mode.kind === 'reply' ? ctx.api.reply(id, text, mode.message.id) : ctx.api.send(id, text)).then(
      (m) => {
        // Writing brings the newest into view, wherever the reader was in the history.
        if (!history.showsNewest) history.showNewest();
        history.put(m);
        renderWaiting();
        renderEmpty();
        log.scrollTop = log.scrollHeight;
      },
      (err: unknown) => {
        input.value = text;
        if (mode.kind === 'reply') actionsUi.setMode(mode);
        renderCounter();
        sendError.textContent = err instanceof AppApiError ? err.message : errorText(err);
      },
    );
  };
  composer.addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && actionsUi.mode.kind !== 'new') {
      e.preventDefault();
      actionsUi.setMode({ kind: 'new' });
      return;
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  });

  const markReadIfVisible = (): void => {
    if (document.visibilityState === 'visible') void ctx.api.markRead(id).catch(() => undefined);
  };

  const load = async (): Promise<void> => {
    try {
      // The balance (for the P2P-only words) needs the network; the history does not.
      ctx.api.balance().then(
        (b) => {
          p2pOnly = b.p2pOnly;
          renderHeader();
        },
        () => undefined,
      );
      const [c, list] = await Promise.all([ctx.api.contact(id), ctx.api.messages(id), loadFlags()]);
      if (disposed) return;
      contact = c;
      renderHeader();
      document.title = `${c.displayName} \u00b7 p2pcomm`;
      // Events may have added messages already; the load is the full picture in order.
      const early = history.all().filter((m) => !list.some((x) => x.id === m.id));
      history.reset(list);
      for (const m of early) history.put(m);
      loaded = true;
      timelineMark('chat-shown');
      renderEmpty();
      log.scrollTop = log.scrollHeight;
      if (unreadAtOpen > 0) {
        const incoming = history.all().filter((m) => !m.outgoing);
        firstUnread = incoming[Math.max(0, incoming.length - unreadAtOpen)]?.id;
      }
      const jump = target ?? firstUnread;
      if (jump !== undefined && history.get(jump) !== undefined) {
        // Re-rendered with its mark, then brought into view.
        history.put(history.get(jump)!);
        history.reveal(jump);
      }
      markReadIfVisible();
    } catch (err) {
      if (disposed) return;
      name.textContent = 'Conversation not found';
      conn.textContent = errorText(err);
      composer.hidden = true;
    }
  };
  void load();
  loadTimer();
  const onVisible = (): void => markReadIfVisible();
  document.addEventListener('visibilitychange', onVisible);
  const onReach = (): void => renderHeader();
  window.addEventListener('online', onReach);
  window.addEventListener('offline', onReach);

  return {
    el,
    get title() {
      return contact?.displayName ?? 'Conversation';
    },
    onEvent(event: AppEvent) {
      if (event.type === 'message' && event.message.contactId === id) {
        const m = event.message;
        const stick = history.showsNewest && nearBottom();
        const { added, shown } = history.put(m);
        actionsUi.update(m);
        if (added && shown && (stick || m.outgoing)) log.scrollTop = log.scrollHeight;
        if (added && !m.outgoing) {
          showTyping(false);
          markReadIfVisible();
          const from = contact?.displayName ?? 'Contact';
          // Far back in the history the message is not on screen: say only that it came.
          ctx.announce(shown ? `${from}: ${m.text}` : `New message from ${from}`);
        }
        renderWaiting();
        renderEmpty();
      } else if (event.type === 'messages-removed' && event.contactId === id) {
        // Expired (or deleted): the history is read again, and the header's timer with it.
        loadTimer();
        ctx.api.messages(id).then(
          (list) => {
            if (disposed) return;
            history.reset(list);
            renderEmpty();
          },
          () => undefined,
        );
      } else if (event.type === 'message-removed' && event.contactId === id) {
        history.remove(event.id);
        const mode = actionsUi.mode;
        if (mode.kind !== 'new' && mode.message.id === event.id) actionsUi.setMode({ kind: 'new' });
        renderEmpty();
      } else if (event.type === 'typing' && event.contactId === id) {
        showTyping(event.active);
      } else if (event.type === 'network') {
        renderHeader();
      } else if (event.type === 'connection' && event.contactId === id && contact !== undefined) {
        contact = { ...contact, connection: event.state };
        if (event.state !== 'connected') showTyping(false);
        renderHeader();
      } else if (event.type === 'balance') {
        p2pOnly = event.balance.p2pOnly;
        renderHeader();
      } else if (event.type === 'conversations' && contact !== undefined) {
        // The verified mark or a key warning may have changed.
        Promise.all([ctx.api.contact(id), loadFlags()]).then(
          ([c]) => {
            if (disposed) return;
            contact = c;
            renderHeader();
          },
          () => undefined,
        );
      }
    },
    dispose() {
      disposed = true;
      attachments.dispose();
      voice.dispose();
      clearTimeout(pressTimer);
      tellTyping(false);
      clearTimeout(typingShown);
      document.removeEventListener('visibilitychange', onVisible);
      window.removeEventListener('online', onReach);
      window.removeEventListener('offline', onReach);
    },
  };
}
