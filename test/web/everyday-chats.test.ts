/**
 * Everyday use (issue 15, what people expect) in real Chromium against the fake engine: the
 * conversation list windowed at scale, deleting a conversation and blocking from the chat,
 * notification text by opt-in, and disappearing messages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { assertClean, startWebHarness, type WebHarness } from './web-harness.ts';

/** Calls a method of the page's FakeApi (`globalThis.p2pcommDemo`). */
async function demo(page: Page, method: string, ...args: unknown[]): Promise<unknown> {
  return page.evaluate(
    ([m, a]) => {
      const api = (globalThis as unknown as { p2pcommDemo: Record<string, (...x: unknown[]) => unknown> })
        .p2pcommDemo;
      return (api[m as string] as (...x: unknown[]) => unknown).apply(api, a as unknown[]);
    },
    [method, args] as const,
  );
}

const LIST = 'ul[aria-label="Conversations"]';

/** The name on the focused row of the conversation list. */
async function focusedName(page: Page): Promise<string | null | undefined> {
  return page.evaluate(() => document.activeElement?.querySelector('.chat-name')?.textContent);
}

describe('everyday chats in Chromium (fake engine)', () => {
  let web: WebHarness;
  before(async () => {
    web = await startWebHarness();
  });
  after(async () => {
    await web.close();
  });

  it('renders a window of a 1,003-row conversation list; keys, scrolling, search and opening still reach every row', async () => {
    const p = await web.open('?demo=1&sw=0');
    const { page } = p;
    await page.locator('a.chat-row').first().waitFor();
    await demo(page, 'seedScale', 1000, 2);
    await page.waitForFunction(
      (sel) => document.querySelector<HTMLElement>(sel)?.dataset['count'] === '1003',
      LIST,
    );
    const rendered = await page.locator(`${LIST} a.chat-row`).count();
    assert.ok(rendered > 0 && rendered < 100, `${rendered} rows in the DOM for 1,003 conversations`);
    const names = (
      (await demo(page, 'conversations')) as {
        contact: { displayName: string };
        flags?: { archived: boolean };
      }[]
    )
      .filter((r) => r.flags?.archived !== true)
      .map((r) => r.contact.displayName);
    assert.equal(names.length, 1003);
    // Each row says where it sits in the whole list.
    const firstRow = page.locator(`${LIST} > li`).first();
    assert.equal(await firstRow.getAttribute('aria-setsize'), '1003');
    assert.equal(await firstRow.getAttribute('aria-posinset'), '1');

    // Keyboard: End, Up, Page Down, Home over the whole list.
    await page.locator(`${LIST} a.chat-row`).first().focus();
    await page.keyboard.press('End');
    assert.equal(await focusedName(page), names[1002]);
    await page.keyboard.press('ArrowUp');
    assert.equal(await focusedName(page), names[1001]);
    assert.ok((await page.locator(`${LIST} a.chat-row`).count()) < 100, 'still a window at the end');
    await page.keyboard.press('Home');
    assert.equal(await focusedName(page), names[0]);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('PageDown');
    const afterPage = await focusedName(page);
    assert.ok(names.indexOf(afterPage ?? '') > 2, `Page Down moved on (to ${afterPage})`);

    // Scrolling the sidebar to the middle renders the rows there.
    await page.evaluate(() => {
      const sc = document.querySelector('.sidebar')!;
      sc.scrollTop = sc.scrollHeight / 2;
    });
    const middle = page.locator(`${LIST} a.chat-row`, { hasText: names[500]! });
    await middle.waitFor();
    await web.screenshot(page, 'everyday-chats-01-window');
    await middle.click();
    await page.locator('.conv-name', { hasText: names[500]! }).waitFor();
    assert.equal(
      await page
        .locator(`${LIST} a.chat-row.active`)
        .textContent()
        .then((t) => t?.includes(names[500]!)),
      true,
    );

    // Search reaches a conversation far from the rendered rows.
    await page.getByLabel('Search messages').fill('Note 2 for contact 7');
    await page.locator('.search-results a.chat-row', { hasText: 'Contact 7' }).first().waitFor();
    assertClean(p);
  });

  it('names the sender only, shows the first 100 characters once opted in, and nothing for a muted chat', async () => {
    const p = await web.open('?demo=1&sw=0');
    const { page } = p;
    await page.context().grantPermissions(['notifications']);
    // The browser's own Notification, recorded as it is constructed; the page can be "hidden".
    // (A string: the page runs it as written, without the test's compiled helpers.)
    await page.addInitScript(`
      const shown = [];
      globalThis.__shown = shown;
      const Real = Notification;
      class Recorded extends Real {
        constructor(title, options) {
          super(title, options);
          shown.push({ title, body: options?.body ?? null });
        }
        static get permission() { return Real.permission; }
      }
      globalThis.Notification = Recorded;
      let hidden = false;
      globalThis.__setHidden = (v) => (hidden = v);
      Object.defineProperty(Document.prototype, 'visibilityState', {
        configurable: true,
        get: () => (hidden ? 'hidden' : 'visible'),
      });
    `);
    await page.reload();
    await page.locator('a.chat-row').first().waitFor();
    const shown = (): Promise<{ title: string; body: string | null }[]> =>
      page.evaluate(
        () => (globalThis as unknown as { __shown: { title: string; body: string | null }[] }).__shown,
      );
    const waitShown = (n: number): Promise<unknown> =>
      page.waitForFunction((k) => (globalThis as unknown as { __shown: unknown[] }).__shown.length === k, n);
    const long = `${'A secret plan, '.repeat(10)}the end`;
    // The unread count leads the tab title, "(N) ", from the first screen on and on every
    // screen, and grows with each message.
    const unread = async (): Promise<number> =>
      ((await demo(page, 'conversations')) as { unread: number }[]).reduce((n, r) => n + r.unread, 0);
    const titled = (n: number): Promise<unknown> =>
      page.waitForFunction((k) => document.title.startsWith(`(${k}) `), n);
    const before = await unread();
    assert.ok(before > 0, 'the demo starts with unread messages');
    await titled(before);
    await page.evaluate(() => (location.hash = '#/settings'));
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    await titled(before);
    assert.match(await page.title(), /^\(\d+\) Settings/);
    await page.evaluate(() => (location.hash = '#/chats'));
    await page.evaluate(() => (globalThis as unknown as { __setHidden(v: boolean): void }).__setHidden(true));
    await demo(page, 'receive', 'c2', long);
    await waitShown(1);
    await titled(before + 1);
    assert.deepEqual(
      (await shown())[0],
      { title: 'New message from Linus', body: null },
      'sender only by default',
    );

    await page.evaluate(() =>
      (globalThis as unknown as { __setHidden(v: boolean): void }).__setHidden(false),
    );
    await page.evaluate(() => (location.hash = '#/settings'));
    const toggle = page.getByRole('switch', { name: 'Show message text in notifications' });
    assert.equal(await toggle.isChecked(), false, 'off by default');
    await toggle.check();
    await page.getByText('Message text shown').waitFor();
    await web.screenshot(page, 'everyday-chats-02-notification-text');
    await page.evaluate(() => (location.hash = '#/chats'));
    await page.evaluate(() => (globalThis as unknown as { __setHidden(v: boolean): void }).__setHidden(true));
    await demo(page, 'receive', 'c2', long);
    await waitShown(2);
    assert.deepEqual((await shown())[1], {
      title: 'New message from Linus',
      body: `${[...long].slice(0, 100).join('')}\u2026`,
    });

    // Muted: nothing, whatever the switch; the next unmuted message still notifies.
    await demo(page, 'setConversationFlags', 'c2', { muted: true });
    await demo(page, 'receive', 'c2', 'muted words');
    await demo(page, 'receive', 'c1', 'short one');
    await waitShown(3);
    assert.deepEqual(
      (await shown()).map((n) => n.title),
      ['New message from Linus', 'New message from Linus', 'New message from Grace Hopper'],
    );
    assert.equal((await shown())[2]!.body, 'short one');
    assertClean(p);
  });

  it('deletes a conversation after asking (the contact stays unless chosen), and blocks from the chat with undo in Settings', async () => {
    const p = await web.open('?demo=1&sw=0');
    const { page } = p;
    const row = (name: string) => page.locator(`${LIST} a.chat-row`, { hasText: name });
    await row('Linus').click();
    await page.locator('li.msg', { hasText: 'And the numbers for review.' }).waitFor();
    const tools = page.getByRole('group', { name: 'Conversation' });
    // Asked first, in the page (no browser dialog); Cancel keeps everything.
    await tools.getByRole('button', { name: 'delete' }).click();
    const confirm = page.getByRole('form', { name: 'Delete conversation' });
    await confirm.getByText('Delete the conversation with Linus?').waitFor();
    await web.screenshot(page, 'everyday-chats-03-delete-confirm');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await confirm.isVisible(), false);
    assert.equal(await page.locator('li.msg').count(), 2, 'nothing deleted on Cancel');
    await tools.getByRole('button', { name: 'delete' }).click();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.waitForFunction(() => location.hash === '#/chats');
    // The message still on its way stays (the engine holds it until delivered); the rest goes.
    await row('Linus').click();
    await page.locator('li.msg', { hasText: 'And the numbers for review.' }).waitFor();
    assert.equal(await page.locator('li.msg').count(), 1, 'the delivered message is gone');

    // Everything delivered: the row goes; the contact stays, and a new message brings it back.
    await row('Grace Hopper').click();
    await page.locator('li.msg', { hasText: 'Then ship it.' }).waitFor();
    await tools.getByRole('button', { name: 'delete' }).click();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.waitForFunction(() => location.hash === '#/chats');
    await page.waitForFunction((sel) => !document.querySelector(sel)?.textContent?.includes('Grace'), LIST);
    assert.equal(
      ((await demo(page, 'contact', 'c1')) as { displayName: string }).displayName,
      'Grace Hopper',
    );
    await demo(page, 'receive', 'c1', 'back again');
    await row('Grace Hopper').click();
    await page.locator('li.msg', { hasText: 'back again' }).waitFor();
    assert.equal(await page.locator('li.msg').count(), 1, 'the old messages are gone');

    // Deleting with the contact: the contact goes too.
    await row('Radia Perlman').click();
    await page.locator('.conv-name', { hasText: 'Radia Perlman' }).waitFor();
    await tools.getByRole('button', { name: 'delete' }).click();
    await confirm.getByLabel('Also remove Radia Perlman from my contacts').check();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.waitForFunction(() => location.hash === '#/chats');
    await page.waitForFunction((sel) => !document.querySelector(sel)?.textContent?.includes('Radia'), LIST);
    const gone = await page.evaluate(() =>
      (globalThis as unknown as { p2pcommDemo: { contact(id: string): Promise<unknown> } }).p2pcommDemo
        .contact('c3')
        .then(
          () => 'kept',
          (e: { code?: string }) => e.code,
        ),
    );
    assert.equal(gone, 'UNKNOWN_CONTACT');

    // Block from the chat: nothing of theirs shows, the composer goes, the list marks it.
    await row('Linus').click();
    await page.locator('li.msg', { hasText: 'And the numbers for review.' }).waitFor();
    await tools.getByRole('button', { name: 'block' }).click();
    await page.getByText('You blocked Linus').waitFor();
    assert.equal(await page.getByLabel('Message', { exact: true }).isVisible(), false, 'no composer');
    await row('Linus').locator('.mark.blocked').waitFor();
    await demo(page, 'receive', 'c2', 'hidden words');
    await web.screenshot(page, 'everyday-chats-04-blocked');
    assert.equal(await page.locator('li.msg', { hasText: 'hidden words' }).count(), 0);
    // Undone in Settings.
    await page.evaluate(() => (location.hash = '#/settings'));
    const blocked = page.getByRole('list', { name: 'Blocked contacts' });
    await blocked.getByText('Linus').waitFor();
    await page.getByRole('button', { name: 'Unblock Linus' }).click();
    await page.getByText('Nobody is blocked.').waitFor();
    await row('Linus').click();
    await page.getByLabel('Message', { exact: true }).waitFor();
    await demo(page, 'receive', 'c2', 'visible again');
    await page.locator('li.msg', { hasText: 'visible again' }).waitFor();
    assert.equal(
      await page.locator('li.msg', { hasText: 'hidden words' }).count(),
      0,
      'what came while blocked is gone',
    );
    assert.equal(await row('Linus').locator('.mark.blocked').count(), 0);
    assertClean(p);
  });

  it('sets disappearing messages from the header, shows who changed it, keeps the newest setting, and deletes what expired', async () => {
    const p = await web.open('?demo=1&sw=0');
    const { page } = p;
    await page.locator(`${LIST} a.chat-row`, { hasText: 'Grace Hopper' }).click();
    await page.locator('li.msg', { hasText: 'Then ship it.' }).waitFor();
    const select = page.getByLabel('Disappearing messages');
    assert.equal(await select.inputValue(), '0', 'off by default');
    assert.equal(await page.locator('.conv-timer').isVisible(), false);
    await select.selectOption({ label: 'disappearing: 5 minutes' });
    await page.locator('.conv-timer', { hasText: 'Disappearing messages: 5 minutes' }).waitFor();
    await page.locator('li.msg.system', { hasText: 'You set disappearing messages to 5 minutes' }).waitFor();
    await page.getByLabel('Message', { exact: true }).fill('this one goes');
    await page.keyboard.press('Enter');
    // Delivered first: a message still on its way stays until it is.
    await page
      .locator('li.msg', { has: page.locator('.text', { hasText: /^this one goes$/ }) })
      .locator('.ticks[aria-label="Read"]')
      .waitFor();
    // The demo contact's reply to it comes under the same timer; it is in before the clock moves.
    await page.locator('li.msg.in .text', { hasText: 'Got it: "this one goes"' }).waitFor();
    await web.screenshot(page, 'everyday-chats-05-disappearing');

    // Six minutes on: the check deletes it; what was written before the setting stays.
    await demo(page, 'advanceClock', 6 * 60_000);
    await demo(page, 'checkForMessages');
    await page.waitForFunction(
      () => ![...document.querySelectorAll('li.msg .text')].some((t) => t.textContent === 'this one goes'),
    );
    assert.equal(await page.locator('li.msg', { hasText: 'Then ship it.' }).count(), 1);
    const stored = (await demo(page, 'messages', 'c1')) as { text: string }[];
    assert.ok(!stored.some((m) => m.text.includes('this one goes')), 'gone from the store, the reply too');

    // The contact changes it: both sides show the line, and the header follows.
    await demo(page, 'contactSetsDisappearing', 'c1', 3600);
    await page
      .locator('li.msg.system', { hasText: 'Grace Hopper set disappearing messages to 1 hour' })
      .waitFor();
    await page.locator('.conv-timer', { hasText: '1 hour' }).waitFor();
    // An older setting that arrives later is shown, but the newest one stays the timer.
    const now = (await page.evaluate(() => Date.now())) + 6 * 60_000;
    await demo(page, 'contactSetsDisappearing', 'c1', 86_400, now - 60 * 60_000);
    await page.locator('li.msg.system', { hasText: 'set disappearing messages to 1 day' }).waitFor();
    assert.equal(await select.inputValue(), '3600');
    assert.deepEqual(
      ((await demo(page, 'disappearing', 'c1')) as { seconds: number; setBy: string }).seconds,
      3600,
    );

    // Enforced on opening too, without a check: two hours on, the chat opens without it.
    await page.getByLabel('Message', { exact: true }).fill('second to go');
    await page.keyboard.press('Enter');
    await page
      .locator('li.msg', { has: page.locator('.text', { hasText: /^second to go$/ }) })
      .locator('.ticks[aria-label="Read"]')
      .waitFor();
    await demo(page, 'advanceClock', 2 * 60 * 60_000);
    await page.evaluate(() => (location.hash = '#/chats'));
    await page.locator(`${LIST} a.chat-row`, { hasText: 'Grace Hopper' }).click();
    await page.locator('li.msg', { hasText: 'Then ship it.' }).waitFor();
    assert.equal(
      await page.locator('li.msg', { has: page.locator('.text', { hasText: /^second to go$/ }) }).count(),
      0,
    );
    // Off again: a later message stays.
    await select.selectOption({ label: 'disappearing: off' });
    await page.locator('li.msg.system', { hasText: 'You set disappearing messages to off' }).waitFor();
    assert.equal(await page.locator('.conv-timer').isVisible(), false);
    assertClean(p);
  });
});
