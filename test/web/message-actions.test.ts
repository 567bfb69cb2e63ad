/**
 * Message actions (issue 15, "what people expect") in real Chromium against the fake engine:
 * copy puts the message text, and only it, on the clipboard.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertClean, startWebHarness, type WebHarness } from './web-harness.ts';

describe('message actions in Chromium (fake engine)', () => {
  let web: WebHarness;
  before(async () => {
    web = await startWebHarness();
  });
  after(async () => {
    await web.close();
  });

  it('copies a message text, right-to-left and all, without name, time or status', async () => {
    const p = await web.open('?demo=1');
    const { page } = p;
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.locator('a.chat-row', { hasText: 'Grace Hopper' }).click();
    const text = 'Copy me: \u05e9\u05dc\u05d5\u05dd <b>not bold</b>';
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.keyboard.press('Enter');
    const msg = page.locator('li.msg.out', { hasText: 'Copy me:' });
    await msg.getByRole('button', { name: 'Copy text' }).click();
    await page.locator('[role="status"]', { hasText: 'Copied' }).waitFor({ state: 'attached' });
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), text);
    await web.screenshot(page, 'message-actions-copy');
    assertClean(p);
  });
});
