/**
 * Backup export and import with the real core in real Chromium: Alice exports a backup after
 * chatting with Bob; a fresh browser profile refuses a corrupted copy and a wrong password
 * without keeping anything, then imports the file and shows the same contact and history,
 * also after a reload and an unlock with the password. A message request from a stranger
 * (Mallory) waits when the file is made: the restored profile shows it too (backup version 3).
 * The restored profile then writes to Bob, which starts a new session with one of the one-time
 * keys Bob handed over in session traffic (backup version 4 carries them), and Bob answers.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  SLOW,
  UI,
  addByLink,
  connect,
  openChat,
  openSettings,
  received,
  send,
  shot,
  startRealApp,
  unlock,
  type RealApp,
  type User,
} from './real-app.ts';

describe('backup export and import with the real core in Chromium', () => {
  let app: RealApp;
  let alice: User;
  let bob: User;
  let device: User;
  let backup: Uint8Array;
  let shown: string[];
  let fingerprint: string;
  let mallory: User;
  const fromMallory = 'Mallory here, waiting in your requests';

  before(async () => {
    app = await startRealApp();
    [alice, bob] = await Promise.all([
      app.newUser('Alice', 'alice-vault-password'),
      app.newUser('Bob', 'bob-vault-password'),
    ]);
    // Read while the new identity's screen still shows it.
    fingerprint = (await alice.page.locator('p.fp').first().textContent()) ?? '';
    await connect(alice, bob);
    await send(alice, 'Kept in the backup: from Alice');
    await received(bob, 'from Alice');
    await send(bob, 'Kept in the backup: from Bob');
    await received(alice, 'from Bob');
    // A stranger writes with Alice's current invite (Bob's claimed its one-time key).
    await alice.page.getByRole('link', { name: 'My card' }).first().click();
    await alice.page.locator('svg.qr path').waitFor({ timeout: UI });
    const fresh = await alice.page.getByRole('textbox', { name: 'Invite link' }).inputValue();
    assert.notEqual(fresh, alice.invite, 'a new one-time key once the first was used');
    mallory = await app.newUser('Mallory', 'mallory-vault-password');
    await addByLink(mallory, { ...alice, invite: fresh });
    await send(mallory, fromMallory);
    await alice.page.locator('a.requests-entry .unread', { hasText: '1' }).waitFor({ timeout: SLOW });
  });

  /** The texts of `u`'s waiting message requests, as the requests page shows them. */
  async function requestTexts(u: User): Promise<string[]> {
    await u.page.locator('a.requests-entry').click({ timeout: SLOW });
    await u.page.locator('a.request-row', { hasText: 'Mallory' }).click({ timeout: UI });
    await u.page.locator('li.msg.in').first().waitFor({ timeout: UI });
    return u.page.locator('li.msg.in .text').allTextContents();
  }

  after(async () => {
    await app?.close();
  });

  /** Chooses `file` and `password` in the import form of the open screen and submits. */
  async function importFile(page: Page, file: Uint8Array, password: string): Promise<void> {
    await page.getByLabel('Backup file').setInputFiles({
      name: 'alice.p2pcomm',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(file),
    });
    await page.getByLabel('Password of the backup').fill(password);
    await page.getByRole('button', { name: 'Import backup' }).click();
  }

  it('exports an encrypted backup file from the settings', async () => {
    const { page } = alice;
    await openChat(alice, 'Bob');
    shown = await page.locator('li.msg .text').allTextContents();
    assert.equal(shown.length, 2);
    await openSettings(alice);
    const download = page.waitForEvent('download', { timeout: UI });
    await page.getByRole('button', { name: 'Export backup' }).click();
    const file = await download;
    assert.match(file.suggestedFilename(), /^p2pcomm-\d{4}-\d{2}-\d{2}\.p2pcomm$/);
    backup = new Uint8Array(await readFile(await file.path()));
    await page.getByText('Backup saved. It is encrypted with your password.').waitFor({ timeout: UI });
    // Sealed: no message text or name of a contact in clear.
    const text = Buffer.from(backup).toString('latin1');
    assert.ok(!text.includes('Kept in the backup') && !text.includes('Bob'));
    // One device per identity in this test: the original goes away before the import.
    await page.close();
  });

  it('refuses a corrupted file and a wrong password, and keeps nothing', async () => {
    device = await app.newUser('Alice', 'alice-vault-password', { create: false });
    const { page } = device;
    await page.getByRole('link', { name: 'Restore from a recovery key or a backup' }).click();
    await page.getByRole('heading', { name: 'From a backup file' }).waitFor({ timeout: UI });

    const corrupted = backup.slice();
    corrupted[corrupted.length - 20]! ^= 0x01;
    await importFile(page, corrupted, device.password);
    await page.getByText('The backup file is damaged. Nothing was changed.').waitFor({ timeout: UI });
    await shot(page, '30-backup-damaged');

    await importFile(page, backup, 'not-alices-password');
    await page.getByText('Wrong password for this backup. Nothing was changed.').waitFor({ timeout: UI });
    await shot(page, '31-backup-wrong-password');

    // A fresh start of the app on this profile: still nobody here.
    await page.evaluate(() => globalThis.history.replaceState(null, '', location.pathname + location.search));
    await page.reload();
    await page.getByRole('heading', { name: 'Create your identity' }).waitFor({ timeout: UI });
  });

  it('refused in the settings of an existing profile, it leaves that profile as it was', async () => {
    const { page } = bob;
    await openChat(bob, 'Alice');
    const before = await page.locator('li.msg .text').allTextContents();
    await openSettings(bob);
    await importFile(page, backup, 'not-alices-password');
    await page.getByText('Wrong password for this backup. Nothing was changed.').waitFor({ timeout: UI });
    assert.equal(await page.locator('.topbar .me').textContent(), 'Bob');
    await openChat(bob, 'Alice');
    await page.locator('li.msg .text', { hasText: before.at(-1)! }).waitFor({ timeout: UI });
    assert.deepEqual(await page.locator('li.msg .text').allTextContents(), before);
  });

  it('imports the file into a fresh profile: same identity, contact and history, also after a reload', async () => {
    const { page } = device;
    await page.getByRole('link', { name: 'Restore from a recovery key or a backup' }).click();
    await importFile(page, backup, device.password);
    await openChat(device, 'Bob');
    await page.locator('li.msg .text', { hasText: shown.at(-1)! }).waitFor({ timeout: UI });
    assert.deepEqual(await page.locator('li.msg .text').allTextContents(), shown);
    await shot(page, '32-backup-imported');

    await page.reload();
    await unlock(device);
    await openChat(device, 'Bob');
    await page.locator('li.msg .text', { hasText: shown.at(-1)! }).waitFor({ timeout: UI });
    assert.deepEqual(await page.locator('li.msg .text').allTextContents(), shown);
    await page.getByRole('link', { name: 'My card' }).first().click();
    await page.locator('p.fp').first().waitFor({ timeout: UI });
    assert.equal(await page.locator('p.fp').first().textContent(), fingerprint);
  });

  it("restores the waiting message request with the stranger's message", async () => {
    assert.deepEqual(await requestTexts(device), [fromMallory]);
    await shot(device.page, '33-backup-request-restored');
  });

  it('the restored profile writes to Bob with a new session (one of his one-time keys, from the file), and Bob answers', async () => {
    await openChat(device, 'Bob');
    await send(device, 'Written after the restore');
    await openChat(bob, 'Alice');
    await received(bob, 'Written after the restore');
    await send(bob, 'Answered after the restore');
    await received(device, 'Answered after the restore');
  });

  it('reported no page errors, dialogs or console errors', () => {
    assert.deepEqual(alice.problems, []);
    assert.deepEqual(bob.problems, []);
    assert.deepEqual(device.problems, []);
    assert.deepEqual(mallory.problems, []);
  });
});
