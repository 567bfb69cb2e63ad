/**
 * The secure delivery balance in messages, never in coins (spec "No Blockchain Exposure"):
 * messages left at the current cost, value held for pending deliveries shown apart (NOTES §1),
 * "Add funds" with the receiving address and the top-up link-out on mainnet only (NOTES §7,
 * add-funds.ts), and the P2P-only switch.
 */
import type { AppEvent, DeliveryBalance } from '../app-api.ts';
import { errorText, h } from '../dom.ts';
import { countMessages, isLowBalance } from '../format.ts';
import { addFundsSection } from './add-funds.ts';
import type { View, ViewContext } from './view.ts';

/** What this browser allows for checking messages while the app is closed (NOTES §7). */
export function backgroundCheckWords(): string {
  const periodic =
    typeof ServiceWorkerRegistration !== 'undefined' && 'periodicSync' in ServiceWorkerRegistration.prototype;
  const base = 'Messages are checked while the app is open and each time you open it. ';
  return periodic
    ? `${base}Installed as an app, this browser may also let it check now and then in the background; do not count on it.`
    : `${base}This browser does not let web apps check in the background; ` +
        'what contacts send while you are away arrives when you next open the app.';
}

/** The balance screen. */
export function balanceView(ctx: ViewContext): View {
  const big = h('p', { class: 'big' }, '...');
  const sub = h('p', { class: 'hint' }, 'at the current delivery cost');
  const held = h('p', { class: 'held' });
  const banner = h('p', { class: 'banner warn', role: 'status', hidden: true });
  const funds = addFundsSection(ctx);
  const toggle = h('input', { type: 'checkbox', role: 'switch', id: 'p2p-only' });
  const toggleHint = h('p', { class: 'hint', id: 'p2p-only-hint' });
  toggle.setAttribute('aria-describedby', toggleHint.id);
  const error = h('p', { class: 'field-error', role: 'alert' });
  const el = h(
    'section',
    { class: 'page balance', 'aria-labelledby': 'bal-title' },
    h('h2', { id: 'bal-title', class: 'pane-title' }, 'Secure delivery'),
    h(
      'p',
      { class: 'lede' },
      'When a contact is offline, messages are delivered securely and proven sent. Each one uses a little of this balance.',
    ),
    banner,
    h('div', { class: 'card stat' }, big, sub, held),
    funds.el,
    h(
      'div',
      { class: 'card' },
      h('div', { class: 'check' }, toggle, h('label', { for: 'p2p-only' }, 'Direct only')),
      toggleHint,
    ),
    error,
    h('h3', {}, 'Checking for messages'),
    h('p', { class: 'hint' }, backgroundCheckWords()),
  );

  const render = (b: DeliveryBalance): void => {
    big.textContent = `${countMessages(b.messagesLeft)} left`;
    held.textContent =
      b.pendingMessages === 0
        ? 'Nothing held for pending deliveries.'
        : `Held for ${countMessages(b.pendingMessages)} not yet received; it comes back when they are.`;
    banner.hidden = !isLowBalance(b.messagesLeft, b.p2pOnly);
    banner.textContent =
      'Secure delivery running low. Messages still go directly when both of you are online.';
    toggle.checked = b.p2pOnly;
    toggleHint.textContent = b.p2pOnly
      ? 'On: messages to offline contacts wait until you are both online. Nothing is spent.'
      : 'Off: messages to offline contacts are delivered securely using this balance.';
  };

  toggle.addEventListener('change', () => {
    error.textContent = '';
    ctx.api.setP2pOnly(toggle.checked).then(render, (err: unknown) => {
      toggle.checked = !toggle.checked;
      error.textContent = errorText(err);
    });
  });
  ctx.api.balance().then(render, (err: unknown) => (error.textContent = errorText(err)));
  ctx.api.settings().then(
    (s) => funds.render(s.network),
    () => undefined,
  );

  return {
    el,
    title: 'Secure delivery',
    onEvent(event: AppEvent) {
      if (event.type === 'balance') render(event.balance);
      if (event.type === 'settings') funds.render(event.settings.network);
    },
  };
}
