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
});
