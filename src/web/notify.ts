/**
 * Tells the user of new messages while the app is open but not in view: a browser
 * notification (when permitted) and the unread count in the tab title. By default the
 * notification names the sender only, because notifications show on lock screens and to
 * anyone near the screen; the text (its first `NOTIFICATION_TEXT_LENGTH` characters) shows
 * only when the user turned on "Show message text in notifications" in Settings. A muted
 * conversation gives neither a notification nor a count in the title, whatever that setting.
 */
import type { AppApi, MessageId } from './app-api.ts';

/** How much of a message a notification shows when the user opted in. */
export const NOTIFICATION_TEXT_LENGTH = 100;

/** The body of a notification for `text`: its first characters, whole code points. */
export function notificationBody(text: string): string {
  const chars = [...text.replace(/\s+/g, ' ').trim()];
  return chars.length > NOTIFICATION_TEXT_LENGTH
    ? `${chars.slice(0, NOTIFICATION_TEXT_LENGTH).join('')}\u2026`
    : chars.join('');
}

/** Starts notifying; returns a function that stops it. */
export function startNotifications(api: AppApi): () => void {
  const seen = new Set<MessageId>();
  /** Unread messages of conversations not muted, as last counted; 0 while locked. */
  let total = 0;
  /** Puts "(N) " before the title the current screen set, or takes it away. */
  const applyTitle = (): void => {
    const base = document.title.replace(/^\(\d+\) /, '');
    const next = total > 0 ? `(${total}) ${base}` : base;
    if (document.title !== next) document.title = next;
  };
  const recount = (): void => {
    api.conversations().then(
      (rows) => {
        total = rows.reduce((n, r) => n + (r.flags?.muted === true ? 0 : r.unread), 0);
        applyTitle();
      },
      () => {
        // Locked (or not created yet): the lock screen tells nothing of the messages.
        total = 0;
        applyTitle();
      },
    );
  };
  // Every screen sets a title of its own (app.ts, the conversation view): the count is put
  // back in front of it, so that it shows on every screen and not only after a new message.
  const observer = new MutationObserver(applyTitle);
  observer.observe(document.head, { subtree: true, childList: true, characterData: true });
  recount();
  const unsubscribe = api.subscribe((event) => {
    if (event.type === 'conversations' || event.type === 'vault') {
      recount();
      return;
    }
    if (event.type !== 'message' || event.message.outgoing || seen.has(event.message.id)) return;
    seen.add(event.message.id);
    if (document.visibilityState === 'visible') return;
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    const { contactId, text } = event.message;
    Promise.all([api.conversation(contactId), api.settings()]).then(
      ([row, settings]) => {
        // A muted conversation tells nothing until opened.
        if (row.flags?.muted === true) return;
        const n = new Notification(`New message from ${row.contact.displayName}`, {
          tag: contactId,
          silent: false,
          ...(settings.notificationText && { body: notificationBody(text), dir: 'auto' as const }),
        });
        n.addEventListener('click', () => {
          window.focus();
          location.hash = `#/chat/${encodeURIComponent(contactId)}`;
          n.close();
        });
      },
      () => undefined,
    );
  });
  return () => {
    unsubscribe();
    observer.disconnect();
  };
}
