/**
 * Attachments in real Chromium against the fake engine (issue 14 item 3): a picked image
 * shows progress, then a thumbnail that opens full size; another file shows name, size and
 * type with a Save button; an empty file is refused in words and nothing else changes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertClean, startWebHarness, type WebHarness } from '../web-harness.ts';

/** A 1x1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

describe('attachments in Chromium (fake engine)', () => {
  let web: WebHarness;
  before(async () => {
    web = await startWebHarness();
  });
  after(async () => {
    await web.close();
  });

  it('sends an image and a file from the attach button; refuses an empty file', async () => {
    const p = await web.open('?demo=1');
    const { page } = p;
    await page.locator('a.chat-row', { hasText: 'Grace Hopper' }).click();
    const attach = page.locator('button.attach');
    await attach.waitFor();
    assert.equal(await attach.getAttribute('aria-label'), 'Attach a file, up to 100.0 MB');
    const picker = page.locator('input.attach-input');

    await picker.setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: PNG });
    const image = page.locator('li.attachment.out', { hasText: 'dot.png' });
    await image.locator('img.attach-thumb').waitFor();
    assert.ok(
      await image.locator('img.attach-thumb').evaluate((img) => (img as HTMLImageElement).naturalWidth === 1),
      'the thumbnail shows the verified image',
    );
    assert.equal(await image.locator('a.attach-open').getAttribute('target'), '_blank');

    await picker.setInputFiles({
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.alloc(40_000, 0x61),
    });
    const file = page.locator('li.attachment.out', { hasText: 'notes.txt' });
    await file.getByRole('button', { name: 'Save' }).waitFor();
    assert.match(
      (await file.locator('.attach-name').textContent()) ?? '',
      /notes\.txt · 39 KB · text\/plain/,
    );

    const messagesBefore = await page.locator('li.msg').count();
    await picker.setInputFiles({ name: 'empty.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) });
    await page.locator('.attach-error', { hasText: 'empty.txt was not sent' }).waitFor();
    assert.equal(await page.locator('li.attachment').count(), 2, 'nothing shown for the refused file');
    assert.equal(await page.locator('li.msg').count(), messagesBefore, 'the conversation is unchanged');
    await web.screenshot(page, 'attachments-sent');
    assertClean(p);
  });

  it('to an offline contact a file waits by default; its cost is shown before "Send now" sends it the paid way', async () => {
    const p = await web.open('?demo=1');
    const { page } = p;
    await page.locator('a.chat-row', { hasText: 'Linus' }).click();
    const picker = page.locator('input.attach-input');
    await picker.waitFor({ state: 'attached' });

    await picker.setInputFiles({
      name: 'later.txt',
      mimeType: 'text/plain',
      buffer: Buffer.alloc(30_000, 0x62),
    });
    const later = page.locator('li.attachment.out', { hasText: 'later.txt' });
    await later.locator('.attach-wait', { hasText: 'Waiting until your contact is online.' }).waitFor();
    await later.getByRole('button', { name: 'Wait until online' }).click();
    await later.getByRole('button', { name: 'Send now' }).waitFor({ state: 'detached' });
    assert.equal(await later.locator('.attach-wait').count(), 1, 'still waiting, nothing paid');

    await picker.setInputFiles({
      name: 'now.txt',
      mimeType: 'text/plain',
      buffer: Buffer.alloc(30_000, 0x63),
    });
    const now = page.locator('li.attachment.out', { hasText: 'now.txt' });
    const cost = now.locator('.attach-cost', { hasText: /uses about \d+ of your secure messages/ });
    await cost.waitFor();
    assert.match(
      (await cost.textContent()) ?? '',
      /^Sending this while your contact is offline uses about \d+ of your secure messages \(\d+ left\)\.$/,
    );
    await web.screenshot(page, 'attachments-offline-choice');
    await now.getByRole('button', { name: 'Send now', disabled: false }).click();
    await now.getByRole('button', { name: 'Save' }).waitFor();
    assert.equal(
      await later.getByRole('button', { name: 'Save' }).count(),
      0,
      'the waiting file still waits',
    );
    assertClean(p);
  });
});
