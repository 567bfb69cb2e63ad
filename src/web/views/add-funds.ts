/**
 * "Add funds": the one place the app shows its receiving address, as text and QR code,
 * under plain words (the card holds it too, but only inside the invite). Beside it, the
 * network's top-up link-out (mainnet only, NOTES §7: external, no secrets, the address
 * not sent); on the local test network a new identity is funded by its faucet instead.
 */
import type { NetworkId } from '../app-api.ts';
import { errorText, field, h } from '../dom.ts';
import { NETWORKS } from '../engine/network.ts';
import { qrSvg } from '../qr.ts';
import type { ViewContext } from './view.ts';

/** The section and its `render`, called with the network of the settings (the top-up link is the network's). */
export function addFundsSection(ctx: ViewContext): {
  readonly el: HTMLElement;
  render(network: NetworkId): void;
} {
  const qrBox = h('div', { class: 'qr-box' });
  const input = h('input', { type: 'text', readonly: true, class: 'mono', spellcheck: false });
  const addressF = field(
    'Receiving address',
    input,
    'Send Kaspa to this address from any app or exchange that holds it. It only receives: nothing can be taken with it.',
  );
  const copy = h('button', { type: 'button', class: 'btn' }, 'Copy address');
  const topUp = h(
    'a',
    { class: 'btn primary', target: '_blank', rel: 'noopener noreferrer', hidden: true },
    'Buy Kaspa',
  );
  const note = h('p', { class: 'hint', role: 'status' });
  const el = h(
    'div',
    { class: 'card form add-funds', 'aria-labelledby': 'funds-title' },
    h('h3', { id: 'funds-title' }, 'Add funds'),
    h(
      'p',
      { class: 'hint' },
      'Secure delivery to offline contacts is paid from this balance. To add to it, send coins to your receiving address.',
    ),
    qrBox,
    addressF.row,
    h('div', { class: 'row' }, copy, topUp),
    note,
  );
  copy.addEventListener('click', () => {
    navigator.clipboard.writeText(input.value).then(
      () => ctx.announce('Address copied'),
      () => {
        input.select();
        ctx.announce('Select and copy the address');
      },
    );
  });
  ctx.api.fundingAddress().then(
    (address) => {
      input.value = address;
      qrBox.replaceChildren(qrSvg(address, 'QR code of your receiving address'));
    },
    (err: unknown) => (addressF.error.textContent = errorText(err)),
  );
  return {
    el,
    render(network) {
      const url = NETWORKS[network].topUpUrl;
      if (url !== undefined) {
        topUp.href = url;
        topUp.hidden = false;
        note.textContent =
          'Buy Kaspa opens a page in a new tab that explains how to get coins. Nothing about you is sent to it.';
      } else {
        topUp.hidden = true;
        topUp.removeAttribute('href');
        note.textContent =
          network === 'local'
            ? 'On the local test network a new identity gets test coins from its faucet.'
            : 'Test coins have no price: ask a test network faucet for some.';
      }
    },
  };
}
