/**
 * The app shell: picks the screen from the vault state and the URL hash, lays out the
 * sidebar (conversation list) and main pane, and forwards engine events to the live screen.
 * Routes: #/chats, #/chat/<id>, #/contact/<id> (safety number), #/requests, #/request/<id>,
 * #/add[/<invite code>], #/share, #/balance, #/settings, #/restore. Hash routing keeps the app
 * a set of static files (spec "Zero Infrastructure").
 */
import type { AppApi, AppEvent, ContactId, MessageId, NetworkState, VaultState } from './app-api.ts';
import { h, replaceChildren } from './dom.ts';
import { isLowBalance, networkStateShort, networkStateWords } from './format.ts';
import { balanceView } from './views/balance.ts';
import { createChatList } from './views/chat-list.ts';
import { addContactView, shareView } from './views/contacts.ts';
import { conversationView } from './views/conversation.ts';
import {
  createIdentityView,
  elsewhereView,
  recoveryKeyView,
  restoreView,
  unlockView,
} from './views/onboarding.ts';
import { requestView, requestsView } from './views/requests.ts';
import { settingsView } from './views/settings.ts';
import { verifyView } from './views/verify.ts';
import type { View, ViewContext } from './views/view.ts';
import { mark } from '../util/marks.ts';

/** Options of `mountApp`. */
export interface MountOptions {
  readonly api: AppApi;
  /** Element the app owns entirely. */
  readonly root: HTMLElement;
  /** The app's own address (invite links point here). */
  readonly appUrl: string;
  /** A notice shown on every screen, e.g. that this build simulates delivery. */
  readonly notice?: string;
}

/** A mounted app. */
export interface MountedApp {
  dispose(): void;
}

type Route =
  | { readonly name: 'chats' }
  /** `message`: a message to bring into view (a search hit). */
  | { readonly name: 'chat'; readonly id: ContactId; readonly message?: MessageId }
  | { readonly name: 'contact'; readonly id: ContactId }
  | { readonly name: 'requests' }
  | { readonly name: 'request'; readonly id: ContactId }
  | { readonly name: 'add'; readonly code?: string }
  | { readonly name: 'share' | 'balance' | 'settings' | 'restore' };

/** Parses `location.hash`; anything unknown is the chat list. */
export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/');
  const [head, arg] = parts;
  switch (head) {
    case 'chat':
      if (arg === undefined || arg === '') return { name: 'chats' };
      return parts[2] === undefined || parts[2] === ''
        ? { name: 'chat', id: decodeURIComponent(arg) as ContactId }
        : {
            name: 'chat',
            id: decodeURIComponent(arg) as ContactId,
            message: decodeURIComponent(parts[2]) as MessageId,
          };
    case 'contact':
      return arg === undefined || arg === ''
        ? { name: 'chats' }
        : { name: 'contact', id: decodeURIComponent(arg) as ContactId };
    case 'requests':
      return { name: 'requests' };
    case 'request':
      return arg === undefined || arg === ''
        ? { name: 'requests' }
        : { name: 'request', id: decodeURIComponent(arg) as ContactId };
    case 'add':
      return arg === undefined || arg === ''
        ? { name: 'add' }
        : { name: 'add', code: parts.slice(1).join('/') };
    case 'share':
    case 'balance':
    case 'settings':
    case 'restore':
      return { name: head };
    default:
      return { name: 'chats' };
  }
}

/** Mounts the app into `root` and keeps it in step with the engine and the URL. */
export function mountApp(options: MountOptions): MountedApp {
  const { api, root } = options;
  const announcer = h('div', { class: 'sr-only', role: 'status', 'aria-live': 'polite' });
  const ctx: ViewContext = {
    api,
    appUrl: options.appUrl,
    navigate(hash) {
      if (location.hash === hash) render();
      else location.hash = hash;
    },
    announce(text) {
      announcer.textContent = '';
      // A fresh text node after clearing makes screen readers repeat identical messages.
      setTimeout(() => (announcer.textContent = text), 30);
    },
    flash(text) {
      flash = { text };
      shell?.setFlash(text);
      ctx.announce(text);
    },
  };
  /** The flash note, and the route it was first shown on (it goes at the next route). */
  let flash: { text: string; shownAt?: string } | undefined;

  let vault: VaultState = api.vaultState();
  let pendingWords: readonly string[] | undefined;
  /** Whether this window passed an invite link on to the open window (said on screen). */
  let invitePassed = false;
  let view: View | undefined;
  let shell: Shell | undefined;

  const notice =
    options.notice === undefined ? null : h('p', { class: 'notice', role: 'note' }, options.notice);

  const show = (next: View, container: HTMLElement, focusTarget?: HTMLElement | null): void => {
    view?.dispose?.();
    view = next;
    replaceChildren(container, next.el);
    document.title = `${next.title} \u00b7 p2pcomm`;
    const target = focusTarget ?? next.el.querySelector<HTMLElement>('h1, h2');
    if (target !== null && target !== undefined) {
      if (
        !target.hasAttribute('tabindex') &&
        !(target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement)
      ) {
        target.setAttribute('tabindex', '-1');
      }
      target.focus({ preventScroll: true });
    }
  };

  const afterRestore = (how: 'key' | 'backup'): void => {
    // Until several devices share one history, a recovery key brings back who you are and
    // nothing of what you had: said before (restoreView) and after, here.
    if (how === 'key')
      ctx.flash(
        'Your identity is restored. Contacts and conversations do not come back with a recovery key: ' +
          'add your contacts again, or import a backup file in Settings.',
      );
    ctx.navigate('#/chats');
  };

  const render = (): void => {
    const route = parseRoute(location.hash);
    if (flash !== undefined) {
      if (flash.shownAt === undefined) flash.shownAt = location.hash;
      else if (flash.shownAt !== location.hash) {
        flash = undefined;
        shell?.setFlash(undefined);
      }
    }
    if (vault.kind !== 'unlocked' || pendingWords !== undefined) {
      shell?.dispose();
      shell = undefined;
      const page = h('main', { class: 'solo', id: 'main' });
      replaceChildren(root, notice, page, announcer);
      if (pendingWords !== undefined) {
        show(
          recoveryKeyView(ctx, pendingWords, () => {
            pendingWords = undefined;
            // An invite link that brought the user here is honoured once the identity exists.
            ctx.navigate(route.name === 'add' && route.code !== undefined ? location.hash : '#/share');
          }),
          page,
        );
      } else if (route.name === 'restore') {
        show(restoreView(ctx, vault.kind !== 'empty', afterRestore), page);
      } else if (vault.kind === 'empty') {
        show(
          createIdentityView(ctx, (words) => {
            pendingWords = words;
            render();
          }),
          page,
        );
      } else if (vault.kind === 'locked') {
        show(unlockView(ctx, vault.displayName), page);
        page.querySelector('input')?.focus();
      } else if (vault.kind === 'elsewhere') {
        // An invite link must not start a second live window: the open one shows it.
        const invite = route.name === 'add' ? route.code : undefined;
        if (invite !== undefined) {
          api.passInvite(invite);
          invitePassed = true;
          history.replaceState(null, '', '#/chats');
        }
        show(elsewhereView(ctx, vault.displayName, invitePassed), page);
      }
      return;
    }
    if (shell === undefined) {
      shell = createShell(ctx, vault.identity.displayName, () => (flash = undefined));
      shell.setFlash(flash?.text);
      replaceChildren(root, notice, shell.el, announcer);
    }
    shell.setRoute(route);
    let next: View;
    switch (route.name) {
      case 'chat':
        next = conversationView(ctx, route.id, route.message);
        break;
      case 'contact':
        next = verifyView(ctx, route.id);
        break;
      case 'requests':
        next = requestsView(ctx);
        break;
      case 'request':
        next = requestView(ctx, route.id);
        break;
      case 'add':
        next = addContactView(ctx, route.code);
        break;
      case 'share':
        next = shareView(ctx);
        break;
      case 'balance':
        next = balanceView(ctx);
        break;
      case 'settings':
        next = settingsView(ctx);
        break;
      case 'restore':
        next = restoreView(ctx, true, afterRestore);
        break;
      case 'chats':
        next = {
          el: h(
            'div',
            { class: 'placeholder' },
            h('h2', { class: 'pane-title' }, 'Chats'),
            h('p', {}, 'Choose a conversation.'),
          ),
          title: 'Chats',
        };
        break;
    }
    const focus =
      route.name === 'chat'
        ? next.el.querySelector<HTMLElement>('textarea')
        : route.name === 'chats'
          ? shell.listFocus()
          : null;
    show(next, shell.main, focus);
  };

  const onEvent = (event: AppEvent): void => {
    if (event.type === 'vault') {
      const before = vault;
      vault = event.state;
      // Another identity (an imported backup) gets a fresh shell: its name, its contacts.
      const swapped =
        before.kind === 'unlocked' &&
        vault.kind === 'unlocked' &&
        before.identity.fingerprint !== vault.identity.fingerprint;
      if (swapped) {
        shell?.dispose();
        shell = undefined;
      }
      if (before.kind !== vault.kind || swapped) render();
      return;
    }
    if (event.type === 'invite') {
      ctx.navigate(`#/add/${event.code}`);
      return;
    }
    shell?.onEvent(event);
    view?.onEvent?.(event);
  };

  const unsubscribe = api.subscribe(onEvent);
  const onHash = (): void => render();
  window.addEventListener('hashchange', onHash);
  render();

  return {
    dispose() {
      unsubscribe();
      window.removeEventListener('hashchange', onHash);
      view?.dispose?.();
      shell?.dispose();
      root.replaceChildren();
    },
  };
}

interface Shell {
  readonly el: HTMLElement;
  readonly main: HTMLElement;
  setRoute(route: Route): void;
  /** Shows the flash note, or hides it with undefined. */
  setFlash(text: string | undefined): void;
  listFocus(): HTMLElement | null;
  onEvent(event: AppEvent): void;
  dispose(): void;
}

/** The unlocked layout: top bar, navigation, conversation list, main pane. */
function createShell(ctx: ViewContext, displayName: string, onDismissFlash: () => void): Shell {
  const list = createChatList((query) => ctx.api.search(query));
  const unreadCount = h('span', {});
  const unreadBadge = h(
    'span',
    { class: 'unread', hidden: true },
    unreadCount,
    h('span', { class: 'sr-only' }, ' unread'),
  );
  const lowPill = h('a', { href: '#/balance', class: 'pill warn', hidden: true }, 'Secure delivery low');
  // Said only when something is wrong: "Online" on every screen would be noise.
  const netPill = h('a', { href: '#/settings', class: 'pill net', role: 'status', hidden: true });
  const renderNetwork = (state: NetworkState): void => {
    netPill.hidden = state === 'online';
    netPill.textContent = state === 'online' ? '' : networkStateShort(state);
    netPill.title = networkStateWords(state);
  };
  renderNetwork(ctx.api.networkState());
  const lockBtn = h('button', { type: 'button', class: 'btn ghost' }, 'Lock');
  lockBtn.addEventListener('click', () => void ctx.api.lock());
  const links: [Route['name'], string, string][] = [
    ['chats', '#/chats', 'Chats'],
    ['add', '#/add', 'Add contact'],
    ['share', '#/share', 'My card'],
    ['balance', '#/balance', 'Delivery'],
    ['settings', '#/settings', 'Settings'],
  ];
  const navLinks = links.map(([name, href, label]) => {
    const a = h('a', { href, class: 'nav-link', 'data-route': name }, label);
    if (name === 'chats') a.appendChild(unreadBadge);
    return a;
  });
  const nav = h('nav', { class: 'nav', 'aria-label': 'Main' }, ...navLinks);
  const top = h(
    'header',
    { class: 'topbar' },
    h(
      'a',
      { href: '#/chats', class: 'brand small' },
      h('span', { class: 'prompt', 'aria-hidden': 'true' }, '>_'),
      h('span', { class: 'brand-name' }, 'p2pcomm'),
    ),
    h('span', { class: 'me', title: 'Your name', dir: 'auto' }, displayName),
    netPill,
    lowPill,
    lockBtn,
  );
  const main = h('main', { class: 'pane', id: 'main' });
  const side = h('aside', { class: 'sidebar' }, list.el);
  const skip = h('a', { href: '#main', class: 'skip' }, 'Skip to content');
  skip.addEventListener('click', (e) => {
    e.preventDefault();
    main.querySelector<HTMLElement>('textarea, h2, h1')?.focus();
  });
  const flashText = h('span', {});
  const dismiss = h('button', { type: 'button', class: 'link-btn' }, 'Dismiss');
  // Not a live region itself: `flash` announces it once through the app's status line.
  const flashEl = h('p', { class: 'flash', hidden: true }, flashText, ' ', dismiss);
  dismiss.addEventListener('click', () => {
    flashEl.hidden = true;
    onDismissFlash();
  });
  const el = h('div', { class: 'shell' }, skip, top, nav, flashEl, h('div', { class: 'body' }, side, main));
  let active: ContactId | undefined;
  let disposed = false;

  const refreshList = (): void => {
    ctx.api.conversations().then(
      (rows) => {
        if (disposed) return;
        list.update(rows, active);
        mark('chat-list');
        // Muted conversations keep their own count but add nothing to the tab's.
        const total = rows.reduce((n, r) => n + (r.flags?.muted === true ? 0 : r.unread), 0);
        unreadBadge.hidden = total === 0;
        unreadCount.textContent = String(total);
      },
      () => undefined,
    );
  };
  const refreshBalance = (): void => {
    ctx.api.balance().then(
      (b) => (lowPill.hidden = !isLowBalance(b.messagesLeft, b.p2pOnly)),
      () => undefined,
    );
  };
  const refreshRequests = (): void => {
    ctx.api.messageRequests().then(
      (rows) => {
        if (!disposed) list.updateRequests(rows.length);
      },
      () => undefined,
    );
  };
  refreshList();
  refreshRequests();
  refreshBalance();

  return {
    el,
    main,
    setRoute(route) {
      active = route.name === 'chat' || route.name === 'contact' ? route.id : undefined;
      el.dataset['route'] = route.name;
      for (const a of navLinks) {
        const on =
          a.dataset['route'] === route.name ||
          ((route.name === 'chat' ||
            route.name === 'contact' ||
            route.name === 'requests' ||
            route.name === 'request') &&
            a.dataset['route'] === 'chats');
        if (on) a.setAttribute('aria-current', 'page');
        else a.removeAttribute('aria-current');
      }
      // The rows change by `conversations` events; a navigation only moves the active mark, so
      // opening a chat costs nothing per contact (issue 15 scale rows, bench/web.bench.ts).
      list.setActive(active);
    },
    setFlash(text) {
      flashEl.hidden = text === undefined;
      flashText.textContent = text ?? '';
    },
    listFocus() {
      return list.el.querySelector<HTMLElement>('a.chat-row') ?? null;
    },
    onEvent(event) {
      if (event.type === 'conversations' || event.type === 'connection') refreshList();
      if (event.type === 'requests') refreshRequests();
      if (event.type === 'network') renderNetwork(event.state);
      if (event.type === 'balance')
        lowPill.hidden = !isLowBalance(event.balance.messagesLeft, event.balance.p2pOnly);
    },
    dispose() {
      disposed = true;
    },
  };
}
