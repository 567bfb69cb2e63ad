/**
 * A contact's page: name, the verified mark, any key warning, and the safety number to
 * compare with theirs (docs/protocol.md "Safety number"). Comparing is done by scanning the
 * QR code on their screen with the camera, by reading a picture of it, or by typing the 60
 * digits they read out; a match marks the contact verified.
 */
import { AppApiError, type AppEvent, type ContactId, type ContactSummary } from '../app-api.ts';
import { errorText, field, h } from '../dom.ts';
import { createQrDecoder, qrSvg } from '../qr.ts';
import { qrScanner } from './qr-scanner.ts';
import type { View, ViewContext } from './view.ts';

/** Words of a contact's key warning, shared with the conversation screen. */
export function keyWarningWords(contact: ContactSummary, otherName?: string): string | undefined {
  const w = contact.keyWarning;
  if (w === undefined) return undefined;
  if (w.kind === 'changed') {
    return `${contact.displayName}'s safety number has changed since you verified it. Compare it again before you trust this conversation.`;
  }
  const other = otherName ?? 'another contact';
  return `You already have a contact named ${other} with a different safety number. This may be someone else: compare safety numbers before you trust it.`;
}

/** Mounts the page of contact `id`. */
export function verifyView(ctx: ViewContext, id: ContactId): View {
  const title = h('h2', { id: 'verify-title', class: 'pane-title' }, 'Contact');
  const mark = h('p', { class: 'verified-state', role: 'status' });
  const warning = h('p', { class: 'key-warning', role: 'alert', hidden: true });
  const groups = h('ol', { class: 'safety-groups mono', 'aria-label': 'Safety number' });
  const qrBox = h('div', { class: 'qr-box' });
  const result = h('p', { class: 'verify-result', role: 'status' });
  const digits = h('input', {
    type: 'text',
    inputmode: 'numeric',
    autocomplete: 'off',
    spellcheck: false,
    class: 'mono',
  });
  const digitsF = field('Their safety number', digits, 'Type the 60 digits they read to you.');
  const check = h('button', { type: 'submit', class: 'btn primary' }, 'Compare');
  const scanBtn = h('button', { type: 'button', class: 'btn' }, 'Scan their code');
  const picture = h('input', {
    type: 'file',
    accept: 'image/*',
    class: 'file-input',
    'aria-label': 'Picture of their code',
  });
  const pictureBtn = h('button', { type: 'button', class: 'btn' }, 'Use a picture of their code');
  const unverify = h('button', { type: 'button', class: 'btn', hidden: true }, 'Remove verified mark');
  const form = h(
    'form',
    { class: 'card form', novalidate: true },
    digitsF.row,
    h('div', { class: 'row' }, check),
  );
  const scanner = qrScanner({
    hint: 'Point the camera at the code on their screen.',
    noCamera: 'This browser cannot use the camera here; type their numbers instead.',
    accept: (text) => text.toLowerCase().startsWith('p2pcomm-verify:'),
    onCode: (text) => compare(text),
    onError: (message) => {
      digitsF.error.textContent = message;
    },
    onStopped: () => scanBtn.focus(),
  });
  const lede = h('p', { class: 'lede' });
  const el = h(
    'section',
    { class: 'page verify', 'aria-labelledby': 'verify-title' },
    title,
    mark,
    warning,
    h('h3', {}, 'Safety number'),
    lede,
    groups,
    qrBox,
    h('div', { class: 'row' }, scanBtn, pictureBtn, picture),
    scanner.el,
    form,
    result,
    h(
      'div',
      { class: 'row' },
      unverify,
      h('a', { href: `#/chat/${encodeURIComponent(id)}`, class: 'btn' }, 'Back to conversation'),
    ),
  );

  let contact: ContactSummary | undefined;
  let disposed = false;

  const renderContact = async (): Promise<void> => {
    const c = await ctx.api.contact(id);
    if (disposed) return;
    contact = c;
    title.textContent = c.displayName;
    mark.textContent = c.verified ? '\u2713 Verified' : 'Not verified';
    mark.className = `verified-state ${c.verified ? 'is-verified' : 'not-verified'}`;
    unverify.hidden = !c.verified;
    let otherName: string | undefined;
    if (c.keyWarning?.kind === 'same-name') {
      otherName = (await ctx.api.contact(c.keyWarning.otherId).catch(() => undefined))?.displayName;
    }
    const words = keyWarningWords(c, otherName);
    warning.hidden = words === undefined;
    warning.textContent = words ?? '';
    lede.textContent = `Open ${c.displayName}'s page on their device. Scan the code on their screen, or read the numbers aloud: they must be the same on both.`;
  };

  const compare = async (input: string): Promise<void> => {
    digitsF.error.textContent = '';
    result.textContent = '';
    try {
      const outcome = await ctx.api.verifyContact(id, input);
      const name = contact?.displayName ?? 'this contact';
      result.textContent =
        outcome === 'match'
          ? `Verified: your safety number with ${name} matches.`
          : `These numbers do not match. Do not trust this conversation until you know why: ask ${name} in person.`;
      result.className = `verify-result ${outcome}`;
      if (outcome === 'match') digits.value = '';
      await renderContact();
    } catch (err) {
      digitsF.error.textContent =
        err instanceof AppApiError && err.code === 'BAD_SAFETY_CODE'
          ? 'That is not a safety number: 60 digits, or their code'
          : errorText(err);
    }
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void compare(digits.value);
  });
  unverify.addEventListener('click', () => {
    ctx.api.unverifyContact(id).then(
      () => renderContact(),
      (err: unknown) => ctx.announce(errorText(err)),
    );
  });
  pictureBtn.addEventListener('click', () => picture.click());
  picture.addEventListener('change', () => {
    const file = picture.files?.[0];
    if (file === undefined) return;
    void (async () => {
      try {
        const bitmap = await createImageBitmap(file);
        const decode = await createQrDecoder();
        const text = await decode(bitmap);
        bitmap.close();
        if (text === null) digitsF.error.textContent = 'No code found in that picture';
        else await compare(text);
      } catch (err) {
        digitsF.error.textContent = `Could not read that picture: ${errorText(err)}`;
      }
      picture.value = '';
    })();
  });
  scanBtn.addEventListener('click', () => void scanner.start());

  void (async () => {
    try {
      await renderContact();
      const n = await ctx.api.safetyNumber(id);
      if (disposed) return;
      groups.replaceChildren(...n.groups.map((g) => h('li', {}, g)));
      qrBox.replaceChildren(
        qrSvg(n.scanCode, `QR code of your safety number with ${contact?.displayName ?? 'this contact'}`),
      );
    } catch (err) {
      title.textContent = 'Contact';
      result.textContent = errorText(err);
    }
  })();

  return {
    el,
    title: 'Contact',
    onEvent(event: AppEvent) {
      if (event.type === 'conversations') void renderContact().catch(() => undefined);
    },
    dispose() {
      disposed = true;
      scanner.stop();
    },
  };
}
