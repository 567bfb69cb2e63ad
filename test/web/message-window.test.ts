/**
 * MessageWindow redraws in place (issue 15, lost clicks): a reset with a list keeps the row of
 * every message whose view did not change and redraws only the ones that did, keeping focus
 * and scroll position; an update of one message keeps its row element and its buttons.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBrowserHarness, type BrowserHarness } from '../harness/browser.ts';
import type { putKeepsRow, resetOneChanged } from './message-window-entry.ts';

interface Entry {
  resetOneChanged: typeof resetOneChanged;
  putKeepsRow: typeof putKeepsRow;
}

describe('MessageWindow in Chromium', () => {
  let harness: BrowserHarness;
  before(async () => {
    harness = await startBrowserHarness(new URL('./message-window-entry.ts', import.meta.url).pathname);
  });
  after(async () => {
    await harness.close();
  });

  it('a reset keeps the rows of unchanged messages and redraws only the changed one', async () => {
    const page = await harness.newPage();
    const r = await page.evaluate(() =>
      (globalThis as unknown as { testApi: Entry }).testApi.resetOneChanged(),
    );
    assert.deepEqual(r.rendered, ['m97'], 'only the changed message is rendered again');
    assert.ok(r.shown >= 60, `the newest are shown (${r.shown} rows)`);
    assert.equal(r.kept, r.shown, 'every row is the same element, the changed one updated in place');
    assert.equal(r.changedKept, true);
    assert.equal(r.changedText, 'Changededit');
    assert.equal(r.focusKept, true, 'focus stays on the focused row');
    assert.equal(r.scrollKept, true, 'the scroll position stays');
  });

  it('an update of one message keeps its row and its button', async () => {
    const page = await harness.newPage();
    const r = await page.evaluate(() => (globalThis as unknown as { testApi: Entry }).testApi.putKeepsRow());
    assert.deepEqual(r, { rowKept: true, buttonKept: true, text: 'msg read|Now read' });
  });
});
