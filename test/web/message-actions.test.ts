/**
 * Message actions (issue 15, "what people expect") in real Chromium against the fake engine:
 * copy, reply with a quote, reactions, edit, delete for everyone and for me, forward. The
 * rules behind them (who may edit what, and when) are the core's (core/messages), tested
 * there and end to end in test/web/e2e/message-actions.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { assertClean, startWebHarness, type WebHarness, type WebPage } from './web-harness.ts';

/** Calls a demo control of the page's FakeApi; resolves with its result or the error's code. */
async function demo(page: Page, method: string, ...args: unknown[]): Promise<unknown> {
  return page.evaluate(
    ([m, a]) => {
      const api = (globalThis as unknown as { p2pcommDemo: Record<string, (...x: unknown[]) => unknown> })
        .p2pcommDemo;
      try {
        return api[m as string]!(...(a as unknown[]));
      } catch (e) {
        return { refused: (e as { code?: string }).code };
      }
    },
    [method, args] as const,
  );
}

async function openChat(p: WebPage, name: string): Promise<Page> {
  const { page } = p;
  await page.evaluate(() => (location.hash = '#/chats'));
  await page.locator('a.chat-row', { hasText: name }).click();
  await page.locator('.conv-name', { hasText: name }).waitFor();
  return page;
}

async function sendText(page: Page, text: string): Promise<Locator> {
  await page.getByLabel('Message', { exact: true }).fill(text);
  await page.keyboard.press('Enter');
  const row = page.locator('li.msg.out', { hasText: text });
  await row.waitFor();
  return row;
}

const contactId = (page: Page): Promise<string> =>
  page.evaluate(() => decodeURIComponent(location.hash.split('/')[2] ?? ''));

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

  it('replies with a quote: the bar shows sender and first line, cancel drops it, the quote leads to the original', async () => {
    const p = await web.open('?demo=1');
    const page = await openChat(p, 'Grace Hopper');
    const original = page.locator('li.msg.in', { hasText: 'Did the relay test pass' });
    await original.getByRole('button', { name: 'Reply' }).click();
    const bar = page.getByRole('group', { name: 'Replying' });
    await bar.waitFor();
    assert.match(await bar.innerText(), /Replying to Grace Hopper/);
    assert.match(await bar.innerText(), /Did the relay test pass on your side\?/);
    await bar.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await bar.isHidden(), true);
    // Cancelled: the next message is no reply.
    const plain = await sendText(page, 'Not a reply');
    assert.equal(await plain.locator('.quote').count(), 0);

    await original.getByRole('button', { name: 'Reply' }).click();
    await web.screenshot(page, 'message-actions-reply-bar');
    const reply = await sendText(page, 'It did, twice.');
    assert.equal(await bar.isHidden(), true);
    const quote = reply.locator('button.quote');
    assert.match(await quote.innerText(), /Grace Hopper/);
    assert.match(await quote.innerText(), /Did the relay test pass on your side\?/);
    // The quote sits above the reply's own text.
    const order = await reply.evaluate((li) => [...li.children].map((c) => c.className));
    assert.ok(order.indexOf('quote') < order.indexOf('text'), order.join(','));
    await quote.click();
    const focused = await page.evaluate(() => document.activeElement?.textContent ?? '');
    assert.match(focused, /Did the relay test pass/);
    await web.screenshot(page, 'message-actions-reply');

    // The original gone from this device: the quote says so, and leads nowhere.
    const originalId = await original.getAttribute('data-id');
    await demo(page, 'deleteForMe', originalId);
    await original.waitFor({ state: 'detached' });
    await reply.locator('.quote.missing', { hasText: 'Original message not available' }).waitFor();
    assertClean(p);
  });

  it('reacts with one emoji per person, counts both sides, and takes it back', async () => {
    const p = await web.open('?demo=1');
    const page = await openChat(p, 'Grace Hopper');
    const msg = page.locator('li.msg.in', { hasText: 'Then ship it.' });
    await msg.getByRole('button', { name: 'React' }).click();
    await page.getByRole('button', { name: 'React \u{1F44D}' }).click();
    await msg.locator('.reaction.mine', { hasText: '\u{1F44D} 1' }).waitFor();
    // A second pick replaces the first: one reaction per person.
    await msg.getByRole('button', { name: 'React' }).click();
    await page.getByRole('button', { name: 'React \u{1F602}' }).click();
    await msg.locator('.reaction.mine', { hasText: '\u{1F602} 1' }).waitFor();
    assert.equal(await msg.locator('.reaction', { hasText: '\u{1F44D}' }).count(), 0);
    // The contact reacts the same: two people.
    const id = await msg.getAttribute('data-id');
    await demo(page, 'receiveAction', await contactId(page), { kind: 'reaction', target: id, reaction: 3 });
    await msg.locator('.reaction.mine', { hasText: '\u{1F602} 2' }).waitFor();
    await web.screenshot(page, 'message-actions-reactions');
    // Clicking one's own reaction takes it back; the contact's stays.
    await msg.locator('.reaction.mine').click();
    await msg.locator('.reaction:not(.mine)', { hasText: '\u{1F602} 1' }).waitFor();
    // Outside the set: refused, nothing changes.
    assert.deepEqual(
      await demo(page, 'receiveAction', await contactId(page), { kind: 'reaction', target: id, reaction: 9 }),
      { refused: 'BAD_REACTION' },
    );
    assert.equal(await msg.locator('.reaction').count(), 1);
    assertClean(p);
  });

  it('edits an own message ("edited"), and refuses a contact editing ours or an unknown one', async () => {
    const p = await web.open('?demo=1');
    const page = await openChat(p, 'Linus');
    const mine = await sendText(page, 'Meet at 10');
    await mine.getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('group', { name: 'Editing' }).waitFor();
    const input = page.getByLabel('Message', { exact: true });
    assert.equal(await input.inputValue(), 'Meet at 10');
    await input.fill('Meet at 11');
    await page.getByRole('button', { name: 'Save' }).click();
    const edited = page.locator('li.msg.out', { hasText: 'Meet at 11' });
    await edited.locator('.edited', { hasText: 'edited' }).waitFor();
    assert.equal(await page.locator('li.msg', { hasText: 'Meet at 10' }).count(), 0);
    await web.screenshot(page, 'message-actions-edited');
    // Only the writer edits: the contact's edit of our message, or of an unknown id, is refused.
    const id = await edited.getAttribute('data-id');
    const cid = await contactId(page);
    assert.deepEqual(await demo(page, 'receiveAction', cid, { kind: 'edit', target: id }, 'Meet never'), {
      refused: 'NOT_SENDER',
    });
    assert.deepEqual(await demo(page, 'receiveAction', cid, { kind: 'edit', target: 'nope' }, 'x'), {
      refused: 'UNKNOWN_TARGET',
    });
    assert.equal(await page.locator('li.msg', { hasText: 'Meet never' }).count(), 0);
    // A contact's message offers no edit.
    const theirs = page.locator('li.msg.in').first();
    if ((await theirs.count()) > 0)
      assert.equal(await theirs.getByRole('button', { name: 'Edit' }).count(), 0);
    assertClean(p);
  });

  it('deletes for everyone with the ledger told honestly, and for me on this device only', async () => {
    const p = await web.open('?demo=1');
    const page = await openChat(p, 'Linus');
    const mine = await sendText(page, 'Secret plan');
    const mineId = await mine.getAttribute('data-id');
    await mine.getByRole('button', { name: 'Delete' }).click();
    const panel = page.getByRole('group', { name: 'Delete message' });
    await panel.waitFor();
    const words = await panel.innerText();
    assert.match(words, /public ledger/);
    assert.match(words, /about 30 hours/);
    assert.match(words, /No one can read it without/);
    await web.screenshot(page, 'message-actions-delete');
    await panel.getByRole('button', { name: 'Delete for everyone' }).click();
    const gone = page.locator(`li.msg[data-id="${mineId}"]`);
    await gone.locator('.text.deleted', { hasText: 'This message was deleted' }).waitFor();
    assert.equal(await page.locator('li.msg', { hasText: 'Secret plan' }).count(), 0);
    assert.equal(await gone.getByRole('button', { name: 'Reply' }).count(), 0);
    // A contact's message: delete for me only.
    await openChat(p, 'Grace Hopper');
    const theirs = page.locator('li.msg.in', { hasText: 'Then ship it.' });
    await theirs.waitFor();
    const before = Number(await page.locator('ol.msgs').getAttribute('data-count'));
    await theirs.getByRole('button', { name: 'Delete' }).click();
    assert.equal(await panel.getByRole('button', { name: 'Delete for everyone' }).count(), 0);
    await panel.getByRole('button', { name: 'Delete for me' }).click();
    await page.waitForFunction(
      (n) => Number(document.querySelector('ol.msgs')?.getAttribute('data-count')) === n - 1,
      before,
    );
    assert.equal(await theirs.count(), 0);
    assertClean(p);
  });

  it('forwards to several conversations, each a new message marked "Forwarded"', async () => {
    const p = await web.open('?demo=1');
    const page = await openChat(p, 'Grace Hopper');
    const msg = page.locator('li.msg.in', { hasText: 'Then ship it.' });
    await msg.getByRole('button', { name: 'Forward' }).click();
    const panel = page.getByRole('group', { name: 'Forward to' });
    await panel.waitFor();
    await panel.getByRole('button', { name: 'Forward' }).click();
    await panel.locator('.field-error', { hasText: 'Pick at least one' }).waitFor();
    await panel.getByRole('checkbox', { name: 'Linus' }).check();
    await panel.getByRole('checkbox', { name: 'Radia Perlman' }).check();
    await web.screenshot(page, 'message-actions-forward');
    await panel.getByRole('button', { name: 'Forward' }).click();
    await panel.waitFor({ state: 'hidden' });
    for (const name of ['Linus', 'Radia Perlman']) {
      await openChat(p, name);
      const copy = page.locator('li.msg.out', { hasText: 'Then ship it.' });
      await copy.locator('.fwd', { hasText: 'Forwarded' }).waitFor();
    }
    assertClean(p);
  });
});
