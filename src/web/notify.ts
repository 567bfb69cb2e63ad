/**
 * Tells the user of new messages while the app is open but not in view: a browser
 * notification (when permitted) and the unread count in the tab title. The notification
 * names the sender only, never the text, because notifications show on lock screens; a muted
 * conversation gives neither a notification nor a count in the title.
 */
import type { AppApi, MessageId } from './app-api.ts';

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
    const contactId = event.message.contactId;
    api.conversations().then(
      (rows) => {
        const row = rows.find((r) => r.contact.id === contactId);
        // A muted conversation tells nothing until opened.
        if (row === undefined || row.flags?.muted === true) return;
        const n = new Notification(`New message from ${row.contact.displayName}`, {
          tag: contactId,
          silent: false,
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
