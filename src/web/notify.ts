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
  const unsubscribe = api.subscribe((event) => {
    if (event.type === 'conversations') {
      api.conversations().then(
        (rows) => {
          const total = rows.reduce((n, r) => n + (r.flags?.muted === true ? 0 : r.unread), 0);
          const base = document.title.replace(/^\(\d+\) /, '');
          document.title = total > 0 ? `(${total}) ${base}` : base;
        },
        () => undefined,
      );
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
  return unsubscribe;
}
