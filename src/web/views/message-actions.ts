/**
 * Message actions in the conversation (issue 15): reply with a quote, reactions, edit, delete
 * for everyone or for me, forward. The conversation view puts the pieces in its bubbles and
 * above its composer; everything the user picks goes through `AppApi` (MessageActions), and
 * the rows change when the engine's `message` events say so.
 */
import {
  DELETE_LEDGER_WORDS,
  EDIT_WINDOW_MS,
  REACTIONS,
  type ChatMessage,
  type ContactId,
  type MessageId,
} from '../app-api.ts';
import { errorText, h } from '../dom.ts';
import type { ViewContext } from './view.ts';

/** What a deleted message shows instead of its text, on both sides. */
export const DELETED_WORDS = 'This message was deleted';
/** What a quote shows when the original is not on this device. */
export const NOT_AVAILABLE_WORDS = 'Original message not available';

/** Whether the user may still edit `m` (their own, not deleted, within the window). */
export function canEdit(m: ChatMessage, now: number = Date.now()): boolean {
  return m.outgoing && m.deleted !== true && now - m.sentAt <= EDIT_WINDOW_MS;
}

/** The first line of a text, as quotes and the composer's bar show it. */
function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 120 ? `${line.slice(0, 120)}\u2026` : line;
}

/**
 * The parts of a bubble that actions add: a "Forwarded" line and the quote above the text,
 * the text (or the deleted words), the "edited" mark and the reactions under it.
 */
export function bubbleParts(
  m: ChatMessage,
  names: { readonly contact: string },
  on: { readonly quote: (id: MessageId) => void; readonly react: (m: ChatMessage, emoji: string) => void },
): {
  readonly above: Node[];
  readonly text: HTMLParagraphElement;
  readonly edited: Node | null;
  readonly below: Node | null;
} {
  const above: Node[] = [];
  if (m.forwarded === true) above.push(h('p', { class: 'fwd' }, 'Forwarded'));
  const q = m.replyTo;
  if (q !== undefined) {
    const who = q.held ? (q.outgoing ? 'You' : names.contact) : '';
    const words = !q.held ? NOT_AVAILABLE_WORDS : q.deleted ? DELETED_WORDS : firstLine(q.text);
    const b = h(
      'button',
      {
        type: 'button',
        class: `quote${q.held ? '' : ' missing'}`,
        'aria-label': q.held ? `Quoted message from ${who}: ${words}. Show it` : NOT_AVAILABLE_WORDS,
        disabled: !q.held,
      },
      q.held ? h('span', { class: 'quote-who', dir: 'auto' }, who) : null,
      h('span', { class: 'quote-text', dir: 'auto' }, words),
    );
    if (q.held) b.addEventListener('click', () => on.quote(q.id));
    above.push(b);
  }
  const text =
    m.deleted === true
      ? h('p', { class: 'text deleted' }, DELETED_WORDS)
      : h('p', { class: 'text', dir: 'auto' }, m.text);
  const edited = m.edited === true && m.deleted !== true ? h('span', { class: 'edited' }, 'edited') : null;
  let below: Node | null = null;
  if (m.reactions !== undefined && m.reactions.length > 0 && m.deleted !== true) {
    below = h(
      'ul',
      { class: 'reactions', 'aria-label': 'Reactions' },
      ...m.reactions.map((r) => {
        const b = h(
          'button',
          {
            type: 'button',
            class: `reaction${r.mine ? ' mine' : ''}`,
            'aria-pressed': String(r.mine),
            'aria-label': `${r.emoji} ${r.count}${r.mine ? ', yours: take it back' : ''}`,
          },
          `${r.emoji} ${r.count}`,
        );
        b.addEventListener('click', () => on.react(m, r.emoji));
        return h('li', {}, b);
      }),
    );
  }
  return { above, text, edited, below };
}

/** What the composer is doing besides writing a new message. */
export type ComposerMode =
  | { readonly kind: 'new' }
  | { readonly kind: 'reply'; readonly message: ChatMessage }
  | { readonly kind: 'edit'; readonly message: ChatMessage };

/**
 * The bar above the composer while replying (the quoted sender and first line) or editing,
 * with a cancel; and the panel for picking a reaction, confirming a delete or choosing where
 * to forward, one at a time.
 */
export class MessageActionsUi {
  readonly bar: HTMLDivElement;
  readonly panel: HTMLDivElement;
  #mode: ComposerMode = { kind: 'new' };
  readonly #label: HTMLSpanElement;
  readonly #quote: HTMLSpanElement;
  readonly #ctx: ViewContext;
  readonly #names: () => string;
  readonly #onMode: (mode: ComposerMode) => void;

  constructor(ctx: ViewContext, names: () => string, onMode: (mode: ComposerMode) => void) {
    this.#ctx = ctx;
    this.#names = names;
    this.#onMode = onMode;
    this.#label = h('span', { class: 'quote-who', dir: 'auto' });
    this.#quote = h('span', { class: 'quote-text', dir: 'auto' });
    const cancel = h('button', { type: 'button', class: 'link-btn', 'aria-label': 'Cancel' }, 'cancel');
    cancel.addEventListener('click', () => this.setMode({ kind: 'new' }));
    this.bar = h(
      'div',
      { class: 'quote-bar', role: 'group', 'aria-label': 'Replying', hidden: true },
      h('div', { class: 'quote-bar-body' }, this.#label, this.#quote),
      cancel,
    );
    this.panel = h('div', { class: 'action-panel', role: 'group', hidden: true });
    this.panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.closePanel();
    });
  }

  get mode(): ComposerMode {
    return this.#mode;
  }

  /** Enters reply or edit mode (or back to a new message), updating the bar. */
  setMode(mode: ComposerMode): void {
    this.#mode = mode;
    this.#renderBar();
    this.#onMode(mode);
  }

  #renderBar(): void {
    const mode = this.#mode;
    this.bar.hidden = mode.kind === 'new';
    if (mode.kind === 'reply') {
      const m = mode.message;
      this.bar.setAttribute('aria-label', 'Replying');
      this.#label.textContent = `Replying to ${m.outgoing ? 'yourself' : this.#names()}`;
      this.#quote.textContent = m.deleted === true ? DELETED_WORDS : firstLine(m.text);
    } else if (mode.kind === 'edit') {
      this.bar.setAttribute('aria-label', 'Editing');
      this.#label.textContent = 'Editing your message';
      this.#quote.textContent = firstLine(mode.message.text);
    }
  }

  /**
   * A message changed: the bar follows it (a deleted original ends an edit). The composer is
   * left alone, since a status change or a contact's reaction must not undo what is being
   * typed or move focus.
   */
  update(m: ChatMessage): void {
    const mode = this.#mode;
    if (mode.kind === 'new' || mode.message.id !== m.id) return;
    if (mode.kind === 'edit' && m.deleted === true) this.setMode({ kind: 'new' });
    else {
      this.#mode = { ...mode, message: m };
      this.#renderBar();
    }
  }

  closePanel(): void {
    this.panel.hidden = true;
    this.panel.replaceChildren();
  }

  #open(label: string, ...children: Node[]): void {
    this.panel.setAttribute('aria-label', label);
    const close = h('button', { type: 'button', class: 'btn' }, 'Cancel');
    close.addEventListener('click', () => this.closePanel());
    this.panel.replaceChildren(...children, close);
    this.panel.hidden = false;
    (this.panel.querySelector('button, input') as HTMLElement | null)?.focus();
  }

  /** Sets the user's reaction, or takes it back when it is the one they gave already. */
  toggleReaction(m: ChatMessage, emoji: string): void {
    const mine = m.reactions?.find((r) => r.mine)?.emoji;
    this.#ctx.api.react(m.id, mine === emoji ? null : emoji).then(
      () => this.closePanel(),
      (err: unknown) => this.#ctx.announce(errorText(err)),
    );
  }

  /** The reaction picker: the fixed set, the user's current one pressed. */
  pickReaction(m: ChatMessage): void {
    const mine = m.reactions?.find((r) => r.mine)?.emoji;
    const buttons = REACTIONS.map((emoji) => {
      const b = h(
        'button',
        {
          type: 'button',
          class: 'btn reaction-pick',
          'aria-pressed': String(mine === emoji),
          'aria-label': `React ${emoji}`,
        },
        emoji,
      );
      b.addEventListener('click', () => this.toggleReaction(m, emoji));
      return b;
    });
    this.#open('React', h('span', { class: 'hint' }, 'React:'), ...buttons);
  }

  /** Asks how to delete: for everyone (own messages), with the ledger caveat, or for me. */
  confirmDelete(m: ChatMessage): void {
    const forMe = h('button', { type: 'button', class: 'btn' }, 'Delete for me');
    forMe.addEventListener('click', () => {
      this.#ctx.api.deleteForMe(m.id).then(
        () => {
          this.closePanel();
          this.#ctx.announce('Deleted on this device');
        },
        (err: unknown) => this.#ctx.announce(errorText(err)),
      );
    });
    const parts: Node[] = [];
    if (m.outgoing && m.deleted !== true) {
      const all = h('button', { type: 'button', class: 'btn danger' }, 'Delete for everyone');
      all.addEventListener('click', () => {
        this.#ctx.api.deleteForEveryone(m.id).then(
          () => {
            this.closePanel();
            this.#ctx.announce('Deleted for everyone');
          },
          (err: unknown) => this.#ctx.announce(errorText(err)),
        );
      });
      parts.push(
        h(
          'p',
          { class: 'hint delete-note' },
          `Delete for everyone removes the text from both devices. ${DELETE_LEDGER_WORDS}`,
        ),
        all,
      );
    } else {
      parts.push(h('p', { class: 'hint delete-note' }, 'Delete for me removes it from this device only.'));
    }
    this.#open('Delete message', ...parts, forMe);
  }

  /** Lets the user tick conversations to forward the message to, then sends it to each. */
  async pickForward(m: ChatMessage): Promise<void> {
    const rows = await this.#ctx.api.conversations();
    const boxes = rows.map((r) =>
      h('input', { type: 'checkbox', value: r.contact.id, 'aria-label': r.contact.displayName }),
    );
    const list = h(
      'ul',
      { class: 'forward-list' },
      ...rows.map((r, i) =>
        h('li', {}, h('label', {}, boxes[i]!, ' ', h('span', { dir: 'auto' }, r.contact.displayName))),
      ),
    );
    const send = h('button', { type: 'button', class: 'btn primary' }, 'Forward');
    const error = h('p', { class: 'field-error', role: 'alert' });
    send.addEventListener('click', () => {
      const to = boxes.filter((b) => b.checked).map((b) => b.value as ContactId);
      if (to.length === 0) {
        error.textContent = 'Pick at least one conversation.';
        return;
      }
      this.#ctx.api.forward(m.id, to).then(
        (sent) => {
          this.closePanel();
          this.#ctx.announce(`Forwarded to ${sent.length} conversation${sent.length === 1 ? '' : 's'}`);
        },
        (err: unknown) => (error.textContent = errorText(err)),
      );
    });
    this.#open('Forward to', h('p', { class: 'hint' }, 'Forward to:'), list, error, send);
  }
}
