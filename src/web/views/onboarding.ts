/**
 * First-run and locked screens: create an identity, show its recovery key once, unlock,
 * restore from a recovery key. Words follow NOTES §5: "recovery key", never the jargon.
 */
import { AppApiError, MIN_PASSWORD_LENGTH } from '../app-api.ts';
import { downloadFile, errorText, field, h } from '../dom.ts';
import { backupImportForm } from './backup.ts';
import type { View, ViewContext } from './view.ts';

function passwordInput(autocomplete: 'new-password' | 'current-password'): HTMLInputElement {
  return h('input', { type: 'password', autocomplete, required: true, minlength: MIN_PASSWORD_LENGTH });
}

/** Disables a form's controls while `work` runs, so a double submit cannot happen. */
async function busy(form: HTMLFormElement, work: () => Promise<void>): Promise<void> {
  const controls = [...form.elements] as HTMLInputElement[];
  for (const c of controls) c.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    await work();
  } finally {
    for (const c of controls) c.disabled = false;
    form.removeAttribute('aria-busy');
  }
}

function brand(): HTMLElement {
  return h(
    'div',
    { class: 'brand' },
    h('span', { class: 'prompt', 'aria-hidden': 'true' }, '>_'),
    h('span', { class: 'brand-name' }, 'p2pcomm'),
  );
}

/** Create an identity (name + password); `onCreated` receives the recovery words. */
export function createIdentityView(ctx: ViewContext, onCreated: (words: readonly string[]) => void): View {
  const name = h('input', { type: 'text', autocomplete: 'nickname', required: true, maxlength: 64 });
  const pass = passwordInput('new-password');
  const again = passwordInput('new-password');
  const nameF = field('Your name', name, 'Shown to the people you add.');
  const passF = field(
    'Password',
    pass,
    `At least ${MIN_PASSWORD_LENGTH} characters. It unlocks this device only.`,
  );
  const againF = field('Repeat password', again);
  const form = h(
    'form',
    { class: 'card form', novalidate: true },
    nameF.row,
    passF.row,
    againF.row,
    h('button', { type: 'submit', class: 'btn primary' }, 'Create identity'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    for (const f of [nameF, passF, againF]) f.error.textContent = '';
    if (name.value.trim() === '') return void ((nameF.error.textContent = 'Enter a name'), name.focus());
    if (pass.value.length < MIN_PASSWORD_LENGTH) {
      passF.error.textContent = `Use at least ${MIN_PASSWORD_LENGTH} characters`;
      return void pass.focus();
    }
    if (pass.value !== again.value)
      return void ((againF.error.textContent = 'The passwords differ'), again.focus());
    void busy(form, async () => {
      try {
        const created = await ctx.api.createIdentity(name.value, pass.value);
        pass.value = again.value = '';
        onCreated(created.recoveryWords);
      } catch (err) {
        const target = err instanceof AppApiError && err.code === 'BAD_NAME' ? nameF : passF;
        target.error.textContent = errorText(err);
      }
    });
  });
  const el = h(
    'section',
    { class: 'onboarding', 'aria-labelledby': 'onb-title' },
    brand(),
    h('h1', { id: 'onb-title' }, 'Create your identity'),
    h(
      'p',
      { class: 'lede' },
      'End-to-end encrypted messages, delivered even when the other side is offline.',
    ),
    form,
    h('p', { class: 'alt' }, h('a', { href: '#/restore' }, 'Restore from a recovery key or a backup')),
  );
  return { el, title: 'Create identity' };
}

/** Shows the recovery words once, numbered, with copy/save and a confirmation. */
export function recoveryKeyView(ctx: ViewContext, words: readonly string[], onDone: () => void): View {
  const list = h('ol', { class: 'words', 'aria-label': 'Recovery key words, in order' });
  for (const w of words) list.appendChild(h('li', {}, w));
  const confirm = h('input', { type: 'checkbox', id: 'saved-check' });
  const cont = h('button', { type: 'button', class: 'btn primary', disabled: true }, 'Continue');
  confirm.addEventListener('change', () => (cont.disabled = !confirm.checked));
  cont.addEventListener('click', onDone);
  const copy = h('button', { type: 'button', class: 'btn' }, 'Copy');
  copy.addEventListener('click', () => {
    navigator.clipboard.writeText(words.join(' ')).then(
      () => ctx.announce('Recovery key copied'),
      () => ctx.announce('Copy is blocked here: write the words down'),
    );
  });
  const save = h('button', { type: 'button', class: 'btn' }, 'Save as file');
  save.addEventListener('click', () => {
    const text = `p2pcomm recovery key\n\n${words.map((w, i) => `${i + 1}. ${w}`).join('\n')}\n`;
    downloadFile('p2pcomm-recovery-key.txt', new Blob([text], { type: 'text/plain' }));
  });
  const el = h(
    'section',
    { class: 'onboarding', 'aria-labelledby': 'rk-title' },
    brand(),
    h('h1', { id: 'rk-title' }, 'Your recovery key'),
    h(
      'p',
      { class: 'lede' },
      'These words restore your identity on a new device. Write them down and keep them private: ' +
        'anyone with them can read your messages. They are shown only now.',
    ),
    h('div', { class: 'card' }, list, h('div', { class: 'row' }, copy, save)),
    h('div', { class: 'check' }, confirm, h('label', { for: 'saved-check' }, 'I have saved my recovery key')),
    cont,
  );
  return { el, title: 'Recovery key' };
}

/** Unlock with the password; a wrong one changes nothing and says so. */
export function unlockView(ctx: ViewContext, displayName: string): View {
  const pass = passwordInput('current-password');
  const passF = field('Password', pass);
  const form = h(
    'form',
    { class: 'card form', novalidate: true },
    passF.row,
    h('button', { type: 'submit', class: 'btn primary' }, 'Unlock'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    passF.error.textContent = '';
    void busy(form, async () => {
      try {
        await ctx.api.unlock(pass.value);
      } catch (err) {
        passF.error.textContent =
          err instanceof AppApiError && err.code === 'WRONG_PASSWORD'
            ? 'Wrong password. Nothing was changed.'
            : errorText(err);
        pass.select();
      }
    });
    pass.focus();
  });
  const el = h(
    'section',
    { class: 'onboarding', 'aria-labelledby': 'unlock-title' },
    brand(),
    h('h1', { id: 'unlock-title' }, 'Welcome back, ', h('bdi', { class: 'name', dir: 'auto' }, displayName)),
    h('p', { class: 'lede' }, 'Your messages are locked on this device.'),
    form,
    h('p', { class: 'alt' }, h('a', { href: '#/restore' }, 'Restore from a recovery key or a backup')),
  );
  return { el, title: 'Unlock' };
}

/**
 * The profile is open in another window of this browser: one window at a time may hold it
 * unlocked, or both would send under the same message keys. "Use here" asks that window to
 * lock itself (it stores its work first) and then shows the unlock screen here.
 */
export function elsewhereView(ctx: ViewContext, displayName: string, invitePassed: boolean): View {
  const use = h('button', { type: 'submit', class: 'btn primary' }, 'Use here');
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'card form', novalidate: true }, use, error);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    error.textContent = '';
    void busy(form, async () => {
      try {
        await ctx.api.useHere();
      } catch (err) {
        error.textContent = errorText(err);
      }
    });
  });
  const el = h(
    'section',
    { class: 'onboarding', 'aria-labelledby': 'elsewhere-title' },
    brand(),
    h('h1', { id: 'elsewhere-title' }, 'p2pComm is open in another window'),
    h(
      'p',
      { class: 'lede' },
      h('span', { class: 'name' }, displayName),
      ' is using p2pComm in another window or tab. It can be open in one place at a time.',
    ),
    invitePassed
      ? h('p', { class: 'notice', role: 'status' }, 'The invite was passed to your open p2pComm window.')
      : null,
    form,
  );
  return { el, title: 'Open in another window' };
}

/**
 * Restore an identity from its recovery words, under a new password (asked twice, as on
 * creation), or from a backup file; `onRestored` says which brought it back.
 */
export function restoreView(
  ctx: ViewContext,
  hasIdentity: boolean,
  onRestored: (how: 'key' | 'backup') => void,
): View {
  const words = h('textarea', {
    rows: 4,
    autocomplete: 'off',
    autocapitalize: 'none',
    spellcheck: false,
    required: true,
  });
  const name = h('input', { type: 'text', autocomplete: 'nickname', required: true, maxlength: 64 });
  const pass = passwordInput('new-password');
  const again = passwordInput('new-password');
  const wordsF = field('Recovery key', words, 'The words, in order, separated by spaces.');
  const nameF = field('Your name', name);
  const passF = field('New password', pass, `At least ${MIN_PASSWORD_LENGTH} characters.`);
  const againF = field('Repeat password', again);
  const form = h(
    'form',
    { class: 'card form', novalidate: true },
    h(
      'p',
      { class: 'hint key-only' },
      'A recovery key brings back your identity only. Contacts and conversations do not come back ' +
        'with it: you add your contacts again. A backup file brings them back.',
    ),
    wordsF.row,
    nameF.row,
    passF.row,
    againF.row,
    h('button', { type: 'submit', class: 'btn primary' }, 'Restore identity'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    for (const f of [wordsF, nameF, passF, againF]) f.error.textContent = '';
    if (pass.value !== again.value)
      return void ((againF.error.textContent = 'The passwords differ'), again.focus());
    void busy(form, async () => {
      try {
        await ctx.api.restore(words.value, name.value, pass.value);
        words.value = pass.value = again.value = '';
        onRestored('key');
      } catch (err) {
        const code = err instanceof AppApiError ? err.code : undefined;
        const target = code === 'BAD_NAME' ? nameF : code === 'WEAK_PASSWORD' ? passF : wordsF;
        target.error.textContent = errorText(err);
      }
    });
  });
  const el = h(
    'section',
    { class: 'onboarding', 'aria-labelledby': 'restore-title' },
    brand(),
    h('h1', { id: 'restore-title' }, 'Restore your identity'),
    hasIdentity
      ? h('p', { class: 'banner warn', role: 'note' }, 'This replaces the identity stored on this device.')
      : null,
    h('h2', {}, 'From a recovery key'),
    form,
    h('h2', {}, 'From a backup file'),
    h(
      'div',
      { class: 'card' },
      h('p', { class: 'hint' }, 'A backup also brings back your contacts and conversations.'),
      backupImportForm(ctx, () => onRestored('backup')),
    ),
    h('p', { class: 'alt' }, h('a', { href: '#/' }, 'Back')),
  );
  return { el, title: 'Restore' };
}
