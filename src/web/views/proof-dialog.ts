/**
 * The delivery proof: the one view that may show chain terms (NOTES §7). It states what the
 * proof shows (the message was published) and, separately, whether a receipt arrived.
 */
import type { ChatMessage } from '../app-api.ts';
import { errorText, h } from '../dom.ts';
import { explorerTxUrl, formatFull, networkWords } from '../format.ts';
import type { ViewContext } from './view.ts';

/** Opens a modal dialog with the proof of message `m`; focus returns to `returnTo` on close. */
export async function openProofDialog(
  ctx: ViewContext,
  m: ChatMessage,
  returnTo: HTMLElement,
): Promise<void> {
  const body = h('div', { class: 'proof-body' }, h('p', {}, 'Loading proof...'));
  const close = h('button', { type: 'button', class: 'btn' }, 'Close');
  const dialog = h(
    'dialog',
    { class: 'proof', 'aria-labelledby': 'proof-title' },
    h('h2', { id: 'proof-title' }, 'Delivery proof'),
    body,
    h('div', { class: 'row end' }, close),
  );
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (returnTo.isConnected) returnTo.focus();
  });
  document.body.appendChild(dialog);
  dialog.showModal();
  close.focus();

  try {
    const proof = await ctx.api.deliveryProof(m.id);
    if (proof === null) {
      body.replaceChildren(
        h('p', {}, 'This message went over a direct encrypted link; there is no public record of it.'),
      );
      return;
    }
    const rows: [string, string | HTMLElement][] = [
      ['Network', networkWords(proof.network)],
      ['Transaction id', h('code', { class: 'hex' }, proof.txId)],
      [
        'Accepting block',
        proof.acceptingBlockHash === undefined
          ? 'not yet accepted'
          : h('code', { class: 'hex' }, proof.acceptingBlockHash),
      ],
      [
        'DAA score',
        proof.acceptingDaaScore === undefined ? '-' : proof.acceptingDaaScore.toLocaleString('en-US'),
      ],
      ['Confirmations', proof.confirmations.toLocaleString('en-US')],
      ['Written', formatFull(m.sentAt)],
      ['Recipient receipt', proof.receiptReceived ? 'received (signed by the recipient)' : 'not yet'],
    ];
    const dl = h('dl', { class: 'kv' });
    for (const [k, v] of rows) dl.append(h('dt', {}, k), h('dd', {}, v));
    const url = explorerTxUrl(proof.network, proof.txId);
    body.replaceChildren(
      h(
        'p',
        { class: 'hint' },
        'The encrypted message was published in this transaction. This proves it was sent; ' +
          'delivery is proven by the recipient\u2019s receipt.',
      ),
      dl,
      url === undefined
        ? h('p', { class: 'hint' }, 'No public explorer for a local network.')
        : h(
            'p',
            {},
            h(
              'a',
              { href: url, target: '_blank', rel: 'noopener noreferrer', class: 'btn' },
              'Open in explorer',
            ),
          ),
    );
  } catch (err) {
    body.replaceChildren(h('p', { class: 'field-error' }, errorText(err)));
  }
}
