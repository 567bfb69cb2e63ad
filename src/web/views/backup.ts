/**
 * Importing a backup file (engine/backup.ts): the file and its password, on the restore
 * screen of a fresh device and in the settings. A refused file changes nothing, and says so.
 */
import { AppApiError, type IdentitySummary } from '../app-api.ts';
import { errorText, field, h } from '../dom.ts';
import type { ViewContext } from './view.ts';

/** Why an import was refused, in words that also say nothing was changed. */
export function importErrorWords(err: unknown): string {
  if (err instanceof AppApiError && err.code === 'WRONG_PASSWORD')
    return 'Wrong password for this backup. Nothing was changed.';
  if (err instanceof AppApiError && err.code === 'BAD_BACKUP') return `${err.message}. Nothing was changed.`;
  return errorText(err);
}

/** The import form; `onRestored` runs once the backup's identity is open. */
export function backupImportForm(
  ctx: ViewContext,
  onRestored: (id: IdentitySummary) => void,
): HTMLFormElement {
  const file = h('input', { type: 'file', accept: '.p2pcomm,application/octet-stream' });
  const pass = h('input', { type: 'password', autocomplete: 'current-password' });
  const fileF = field('Backup file', file);
  const passF = field('Password of the backup', pass, 'The password the identity had when it was saved.');
  const submit = h('button', { type: 'submit', class: 'btn' }, 'Import backup');
  const status = h('p', { class: 'hint', role: 'status' });
  const form = h(
    'form',
    { class: 'form', novalidate: true },
    fileF.row,
    passF.row,
    h('div', { class: 'row' }, submit),
    status,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    fileF.error.textContent = passF.error.textContent = status.textContent = '';
    const chosen = file.files?.[0];
    if (chosen === undefined) return void ((fileF.error.textContent = 'Choose a backup file'), file.focus());
    submit.disabled = true;
    void (async () => {
      try {
        const id = await ctx.api.importBackup(new Uint8Array(await chosen.arrayBuffer()), pass.value);
        pass.value = '';
        status.textContent = `Restored ${id.displayName}.`;
        onRestored(id);
      } catch (err) {
        const target = err instanceof AppApiError && err.code === 'WRONG_PASSWORD' ? passF : fileF;
        target.error.textContent = importErrorWords(err);
      } finally {
        submit.disabled = false;
      }
    })();
  });
  return form;
}
