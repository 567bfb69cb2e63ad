/**
 * Everyday conversation tools in real Chromium against the fake engine: pin, mute, archive
 * and rename a conversation (this device only), and search across conversations.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertClean, startWebHarness, type WebHarness } from './web-harness.ts';

describe('conversation tools in Chromium (fake engine)', () => {
  let web: WebHarness;
  before(async () => {
    web = await startWebHarness();
  });
  after(async () => {
    await web.close();
  });

  it('pins, mutes, archives and renames a conversation', async () => {
    const p = await web.open('?demo=1');
    const { page } = p;
    const names = (): Promise<string[]> =>
      page.locator('ul[aria-label="Conversations"]').locator('.chat-name').allTextContents();
    await page.locator('a.chat-row').first().waitFor();
    assert.equal((await names()).at(-1), 'Radia Perlman');

    // Pin: first in the list, marked.
    await page.locator('a.chat-row', { hasText: 'Radia Perlman' }).click();
    await page.getByRole('button', { name: 'pin', exact: true }).click();
    await page.locator('button[data-flag="pinned"][aria-pressed="true"]').waitFor();
    await page.waitForFunction(
      () =>
        document.querySelector('ul[aria-label="Conversations"] .chat-name')?.textContent === 'Radia Perlman',
    );
    await page.locator('a.chat-row', { hasText: 'Radia Perlman' }).locator('.mark.pinned').waitFor();

    // Mute: its unread count stays on the row but leaves the tab's.
    await page.locator('a.chat-row', { hasText: 'Grace Hopper' }).click();
    await page.getByRole('button', { name: 'mute', exact: true }).click();
    await page.locator('a.chat-row', { hasText: 'Grace Hopper' }).locator('.mark.muted').waitFor();
    await page.locator('a.chat-row', { hasText: 'Linus' }).click();
    await page.evaluate(() => {
      const api = (globalThis as unknown as { p2pcommDemo: { receive(id: string, t: string): void } })
        .p2pcommDemo;
      api.receive('c1', 'while muted');
      api.receive('c2', 'not muted');
    });
    await page.locator('a.chat-row', { hasText: 'Grace Hopper' }).locator('.unread.muted').waitFor();
    await page.waitForFunction(() => document.querySelector('.nav .unread')?.hasAttribute('hidden') === true);

    // Rename: the header and the list say the new name; the card name is kept beside it.
    await page.getByRole('button', { name: 'rename' }).click();
    await page.getByLabel('Name for this contact').fill('  Linus T.  ');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.locator('.conv-name', { hasText: 'Linus T.' }).waitFor();
    await page.locator('a.chat-row .chat-name', { hasText: 'Linus T.' }).waitFor();
    await page.getByRole('button', { name: 'rename' }).click();
    await page.getByText('the name on their card is "Linus"').waitFor();
    await web.screenshot(page, 'conversations-01-pinned-muted-renamed');
    await page.getByLabel('Name for this contact').fill('');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.locator('.conv-name', { hasText: /^Linus$/ }).waitFor();

    // Archive: out of the list, under "Archived", and back.
    await page.getByRole('button', { name: 'archive', exact: true }).click();
    const toggle = page.getByRole('button', { name: 'Archived (1)' });
    await toggle.waitFor();
    assert.deepEqual(await names(), ['Radia Perlman', 'Grace Hopper']);
    await toggle.click();
    await page.getByRole('list', { name: 'Archived conversations' }).getByText('Linus').waitFor();
    await web.screenshot(page, 'conversations-02-archived');
    await page.getByRole('button', { name: 'archive', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('.archived')?.hasAttribute('hidden') === true);
    assert.equal((await names()).length, 3);
    assertClean(p);
  });

  it('searches across conversations, opens a hit at its message, and treats the query as text', async () => {
    const p = await web.open('?demo=1&messages=1500&sw=0');
    const { page } = p;
    await page.locator('a.chat-row').first().waitFor();
    const box = page.getByRole('searchbox', { name: 'Search messages' });
    await box.fill('NUMBERS for');
    const results = page.getByRole('list', { name: 'Search results' });
    await page.getByText('1 message found').waitFor();
    await results.locator('a', { hasText: 'Linus' }).locator('mark', { hasText: 'numbers for' }).waitFor();
    assert.equal(
      await page.locator('ul[aria-label="Conversations"]').isVisible(),
      false,
      'in place of the list',
    );

    // A hit far back in a long conversation opens there, not at the newest message.
    await box.fill('Message 7 of the long');
    await page.getByText('1 message found').waitFor();
    await results.locator('a').first().click();
    const hit = page.locator('li.msg.hit', { hasText: 'Message 7 of the long history' });
    await hit.waitFor();
    const inView = await hit.evaluate((li) => {
      const r = li.getBoundingClientRect();
      const l = li.closest('.msgs')!.getBoundingClientRect();
      return r.top >= l.top && r.bottom <= l.bottom;
    });
    assert.ok(inView, 'the hit is on screen');
    await web.screenshot(page, 'conversations-03-search-hit');

    // Markup in a query is searched for as text; nothing matches, nothing runs.
    await box.fill('<img src=x onerror="globalThis.__pwned=1">');
    await page.getByText('Nothing found').waitFor();
    assert.equal(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined);
    await box.fill('');
    await page.locator('ul[aria-label="Conversations"] a.chat-row').first().waitFor();
    assertClean(p);
  });

  it('opens a conversation at its first unread message, marked', async () => {
    const p = await web.open('?demo=1&messages=1500&sw=0');
    const { page } = p;
    await page.locator('a.chat-row', { hasText: 'Linus' }).click();
    await page.locator('.conv-name', { hasText: 'Linus' }).waitFor();
    await page.evaluate(() => {
      const api = (globalThis as unknown as { p2pcommDemo: { receive(id: string, t: string): void } })
        .p2pcommDemo;
      for (let i = 0; i < 150; i++) api.receive('c1', `unread ${i}`);
    });
    await page
      .locator('a.chat-row', { hasText: 'Grace Hopper' })
      .locator('.unread', { hasText: '151' })
      .waitFor();
    await page.locator('a.chat-row', { hasText: 'Grace Hopper' }).click();
    // 151 unread: the seeded "Then ship it." and the 150 just received.
    const first = page.locator('li.msg.first-unread');
    await first.waitFor();
    assert.equal(await first.locator('.text').textContent(), 'Then ship it.');
    const inView = await first.evaluate((li) => {
      const r = li.getBoundingClientRect();
      const l = li.closest('.msgs')!.getBoundingClientRect();
      return r.top >= l.top && r.bottom <= l.bottom;
    });
    assert.ok(inView, 'the first unread is on screen');
    assert.equal(await page.locator('li.msg.first-unread').count(), 1);
    await web.screenshot(page, 'conversations-04-first-unread');
    assertClean(p);
  });
});
