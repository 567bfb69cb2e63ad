/** Sharing one's contact (QR code + invite link) and adding a contact (paste or scan). */
import { AppApiError, type InvitePreview } from '../app-api.ts';
import { errorText, field, h } from '../dom.ts';
import { inviteCodeFrom, inviteLink } from '../format.ts';
import { qrSvg } from '../qr.ts';
import { qrScanner } from './qr-scanner.ts';
import type { View, ViewContext } from './view.ts';

/**
 * Age past which an invite is called old: its signed pre-key may be gone by then (rotated
 * after 7 days, wiped 14 days later, session/prekeys.ts), and so may its one-time key.
 */
export const OLD_INVITE_DAYS = 21;
const DAY_MS = 86_400_000;

/** The warning for an invite issued at `issuedAt` (Unix ms), or undefined while it is fresh. */
export function oldInviteWarning(p: InvitePreview, now = Date.now()): string | undefined {
  const days = Math.floor((now - p.issuedAt) / DAY_MS);
  if (days <= OLD_INVITE_DAYS) return undefined;
  return `This invite is ${days} days old; ask ${p.displayName} for a fresh one if the first message is not answered.`;
}

/**
 * "My card": the invite as a QR code and a link to copy or share. The short link (a QR code a
 * phone camera reads at arm's length, docs/protocol.md "Short invite") leads where its card is
 * published; the full link stays below it, and alone when the short one could not be published.
 */
export function shareView(ctx: ViewContext): View {
  const qrBox = h('div', { class: 'qr-box' }, h('p', {}, 'Preparing your card...'));
  const shortInput = h('input', { type: 'text', readonly: true, class: 'mono' });
  const shortF = field('Short link', shortInput, 'What the QR code holds.');
  const shortNote = h('p', { class: 'hint', role: 'status' });
  // Publishing the short link is a payment (docs/protocol.md "Short invite on chain"), so it
  // happens only when the person asks for it, never merely because the card was shown.
  const makeShort = h('button', { type: 'button', class: 'btn' }, 'Make a short QR code');
  const shortBox = h(
    'div',
    { class: 'card form', hidden: true },
    h(
      'p',
      { class: 'hint' },
      'A short code is easier for a phone camera. It puts your card on the network once, for a small fee.',
    ),
    h('div', { class: 'row' }, makeShort),
    shortF.row,
    shortNote,
  );
  shortF.row.hidden = true;
  const linkInput = h('input', { type: 'text', readonly: true, class: 'mono' });
  const linkF = field('Invite link', linkInput, 'Send it over any channel; it holds no secret.');
  const copy = h('button', { type: 'button', class: 'btn' }, 'Copy link');
  const share = h('button', { type: 'button', class: 'btn', hidden: !('share' in navigator) }, 'Share...');
  const fp = h('p', { class: 'fp' });
  const el = h(
    'section',
    { class: 'page share', 'aria-labelledby': 'share-title' },
    h('h2', { id: 'share-title', class: 'pane-title' }, 'My card'),
    h('p', { class: 'lede' }, 'Let a contact scan this code, or send them the link.'),
    qrBox,
    fp,
    shortBox,
    h('div', { class: 'card form' }, linkF.row, h('div', { class: 'row' }, copy, share)),
  );
  copy.addEventListener('click', () => {
    navigator.clipboard.writeText(linkInput.value).then(
      () => ctx.announce('Invite link copied'),
      () => {
        linkInput.select();
        ctx.announce('Select and copy the link');
      },
    );
  });
  share.addEventListener('click', () => {
    navigator.share({ title: 'p2pcomm invite', url: linkInput.value }).catch(() => undefined);
  });
  void (async () => {
    try {
      const code = await ctx.api.myInviteCode();
      const vault = ctx.api.vaultState();
      const link = inviteLink(ctx.appUrl, code);
      linkInput.value = link;
      qrBox.replaceChildren(qrSvg(link, 'QR code of your invite link'));
      if (vault.kind === 'unlocked')
        fp.textContent = `${vault.identity.displayName} \u00b7 key ${vault.identity.fingerprint}`;
      const myShortInvite = ctx.api.myShortInvite?.bind(ctx.api);
      if (myShortInvite !== undefined) {
        shortBox.hidden = false;
        makeShort.addEventListener('click', () => {
          makeShort.disabled = true;
          shortNote.textContent = 'Publishing the short link...';
          void myShortInvite().then(
            (shown) => {
              makeShort.hidden = true;
              const shortLink = inviteLink(ctx.appUrl, shown.code);
              if (shown.published) {
                shortInput.value = shortLink;
                shortF.row.hidden = false;
                shortNote.textContent = 'The QR code holds this short link; the full link below works too.';
                qrBox.replaceChildren(qrSvg(shortLink, 'QR code of your short invite link'));
              } else {
                shortNote.textContent = shown.problem ?? 'The short link is not available.';
              }
            },
            (err: unknown) => {
              makeShort.disabled = false;
              shortNote.textContent = errorText(err);
            },
          );
        });
      }
    } catch (err) {
      qrBox.replaceChildren(h('p', { class: 'field-error' }, errorText(err)));
    }
  })();
  return { el, title: 'My card' };
}

/** True for a short invite code (36 base64url characters after the prefix): it needs a look-up. */
function isShortCode(code: string): boolean {
  return /^(p2pcomm:)?[A-Za-z0-9_-]{36}$/i.test(code.trim());
}

/** "Add contact": paste a link or scan a QR code, check the preview, confirm. */
export function addContactView(ctx: ViewContext, initialCode?: string): View {
  const input = h('input', { type: 'text', autocomplete: 'off', spellcheck: false, class: 'mono' });
  const inputF = field('Invite link', input, 'Paste the link your contact sent you.');
  const check = h('button', { type: 'submit', class: 'btn primary' }, 'Continue');
  const scanBtn = h('button', { type: 'button', class: 'btn' }, 'Scan QR code');
  const form = h(
    'form',
    { class: 'card form', novalidate: true },
    inputF.row,
    h('div', { class: 'row' }, check, scanBtn),
  );
  const scanner = qrScanner({
    hint: 'Point the camera at the QR code.',
    noCamera: 'This browser cannot use the camera here; paste the link instead.',
    accept: (text) => inviteCodeFrom(text) !== undefined,
    onCode: async (text) => {
      input.value = text;
      await showPreview(text);
    },
    onError: (message) => {
      inputF.error.textContent = message;
    },
    onStopped: () => scanBtn.focus(),
  });
  const preview = h('div', { class: 'preview card', hidden: true, 'aria-live': 'polite' });
  const el = h(
    'section',
    { class: 'page add', 'aria-labelledby': 'add-title' },
    h('h2', { id: 'add-title', class: 'pane-title' }, 'Add contact'),
    form,
    scanner.el,
    preview,
  );

  const showPreview = async (raw: string): Promise<void> => {
    inputF.error.textContent = '';
    preview.hidden = true;
    const code = inviteCodeFrom(raw);
    if (code === undefined) {
      inputF.error.textContent = 'That is not an invite link';
      input.focus();
      return;
    }
    let p: InvitePreview;
    const looking = isShortCode(code);
    if (looking) inputF.error.textContent = 'Looking up the invite...';
    try {
      p = await ctx.api.previewInvite(code);
      if (looking) inputF.error.textContent = '';
    } catch (err) {
      inputF.error.textContent =
        err instanceof AppApiError && err.code === 'OWN_INVITE'
          ? 'That is your own invite link'
          : err instanceof AppApiError &&
              (err.code === 'WRONG_NETWORK' ||
                err.code === 'OLD_INVITE' ||
                err.code === 'SHORT_INVITE' ||
                err.code === 'SHORT_INVITE_NOT_FOUND')
            ? // This invite cannot be reached from here: say so, and what to do about it.
              err.message
            : 'That is not an invite link';
      input.focus();
      return;
    }
    if (p.contactId !== undefined) {
      // Not "Add Bob?" again: say that he is a contact already, and open his chat. Adding is
      // idempotent and keeps a newer card of his, should this invite be one.
      const known = p.contactId;
      await ctx.api.addContact(code).catch(() => undefined);
      ctx.flash(`${p.displayName} is already a contact.`);
      ctx.navigate(`#/chat/${encodeURIComponent(known)}`);
      return;
    }
    const add = h('button', { type: 'button', class: 'btn primary' }, 'Add contact');
    const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel');
    const old = oldInviteWarning(p);
    preview.replaceChildren(
      h('h3', {}, 'Add ', h('span', { class: 'name' }, p.displayName), '?'),
      // Said, not refused: the contact may still hold the keys it names.
      ...(old === undefined ? [] : [h('p', { class: 'banner warn', role: 'note' }, old)]),
      h('p', { class: 'hint' }, 'Their key, for reference:'),
      h('p', { class: 'fp' }, p.fingerprint),
      h(
        'p',
        { class: 'hint' },
        'To be sure it is them, compare your safety number with theirs on the contact page once added.',
      ),
      h('div', { class: 'row' }, add, cancel),
    );
    preview.hidden = false;
    add.focus();
    cancel.addEventListener('click', () => {
      preview.hidden = true;
      input.focus();
    });
    add.addEventListener('click', () => {
      add.disabled = true;
      ctx.api.addContact(code).then(
        (c) => ctx.navigate(`#/chat/${encodeURIComponent(c.id)}`),
        (err: unknown) => {
          add.disabled = false;
          inputF.error.textContent = errorText(err);
        },
      );
    });
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void showPreview(input.value);
  });
  scanBtn.addEventListener('click', () => void scanner.start());

  if (initialCode !== undefined) {
    input.value = initialCode;
    void showPreview(initialCode);
  }
  return { el, title: 'Add contact', dispose: scanner.stop };
}
