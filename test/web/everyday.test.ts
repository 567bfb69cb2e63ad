/**
 * Everyday use (issue 15, found items 2-10) in real Chromium against the fake engine: honest
 * badges and headers, long text refused whole, right-to-left text, a known contact's invite,
 * what a recovery key restores, ticks told apart, the polish of first load, the recovery key,
 * restore and a phone-sized screen, and plain words on the settings screens.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { encodeRecoveryKey } from '../../src/core/identity/recovery-key.ts';
import { randomBytes } from '../../src/util/bytes.ts';
import { FakeApi } from '../../src/web/fake-api.ts';
import { inviteLink } from '../../src/web/format.ts';
import { assertClean, startWebHarness, type WebHarness } from './web-harness.ts';

const PHONE = { width: 390, height: 844 };

/** Calls a demo control of the page's FakeApi (`globalThis.p2pcommDemo`). */
async function demo(page: Page, method: string, ...args: unknown[]): Promise<unknown> {
  return page.evaluate(
    ([m, a]) => {
      const api = (globalThis as unknown as { p2pcommDemo: Record<string, (...x: unknown[]) => unknown> })
        .p2pcommDemo;
      return api[m as string]!(...(a as unknown[]));
    },
    [method, args] as const,
  );
}

/** The id of the open conversation, from the URL. */
async function openId(page: Page): Promise<string> {
  return page.evaluate(() => decodeURIComponent(location.hash.split('/')[2] ?? ''));
}

/** Adds the contact of `code` through the Add contact screen and waits for its chat. */
async function addByInvite(page: Page, url: string, code: string, name: string): Promise<void> {
  await page.evaluate(() => (location.hash = '#/add'));
  await page.getByRole('textbox', { name: 'Invite link' }).fill(inviteLink(url, code));
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('button', { name: 'Add contact' }).click();
  await page.locator('.conv-name', { hasText: name }).waitFor();
}

describe('everyday use in Chromium (fake engine)', () => {
  let web: WebHarness;
  before(async () => {
    web = await startWebHarness();
  });
  after(async () => {
    await web.close();
  });

  it('says "sent securely" until the receipt, then "verified delivery" (item 2)', async () => {
    const p = await web.open('?demo=1');
    const { page } = p;
    await page.locator('a.chat-row', { hasText: 'Linus' }).click();
    await page.getByLabel('Message', { exact: true }).fill('Are you back yet?');
    await page.keyboard.press('Enter');
    const msg = page.locator('li.msg.out', { hasText: 'Are you back yet?' });
    await msg.locator('.ticks[aria-label="Sent"]').waitFor();
    await msg.locator('.badge', { hasText: 'sent securely' }).waitFor();
    assert.equal(await msg.locator('.badge', { hasText: 'verified delivery' }).count(), 0);
    // The seeded message still waiting for its receipt says the same.
    const waiting = page.locator('li.msg.out', { hasText: 'And the numbers for review.' });
    assert.equal(await waiting.locator('.badge').textContent(), 'sent securely');
    await web.screenshot(page, 'everyday-01-sent-securely');
    await demo(page, 'setConnection', await openId(page), 'connected');
    await msg.locator('.ticks[aria-label="Delivered"], .ticks[aria-label="Read"]').waitFor();
    await msg.locator('.badge', { hasText: 'verified delivery' }).waitFor();
    assertClean(p);
  });

  it('counts near the limit and refuses a longer text whole, typed or pasted (item 3)', async () => {
    const p = await web.open('?demo=1');
    const { page } = p;
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.locator('a.chat-row', { hasText: 'Grace Hopper' }).click();
    const input = page.getByLabel('Message', { exact: true });
    const counter = page.locator('.counter');
    await input.fill('short');
    assert.equal(await counter.isVisible(), false, 'no counter far from the limit');
    const outgoing = await page.locator('li.msg.out').count();

    const long = 'long text '.repeat(1000);
    await input.fill('');
    await input.focus();
    await page.evaluate((t) => navigator.clipboard.writeText(t), long);
    await page.keyboard.press('Control+V');
    assert.equal((await input.inputValue()).length, 10_000, 'pasted whole, not cut');
    await counter.filter({ hasText: '10,000 / 4,000: too long by 6,000 characters' }).waitFor();
    assert.equal(await input.getAttribute('aria-invalid'), 'true');
    await page.keyboard.press('Enter');
    await page.getByText('Not sent: a message holds at most 4,000 characters.').waitFor();
    assert.equal((await input.inputValue()).length, 10_000, 'kept in the composer');
    await web.screenshot(page, 'everyday-02-too-long');

    await input.fill('');
    await input.focus();
    await page.keyboard.insertText('y'.repeat(5000));
    assert.equal((await input.inputValue()).length, 5000, 'typed whole, not cut');
    await counter.filter({ hasText: 'too long by 1,000' }).waitFor();
    await page.getByRole('button', { name: 'Send' }).click();
    assert.equal(await page.locator('li.msg.out').count(), outgoing, 'nothing sent');

    const exact = 'z'.repeat(4000);
    await input.fill(exact);
    await counter.filter({ hasText: /^4,000 \/ 4,000$/ }).waitFor();
    await page.keyboard.press('Enter');
    const sent = page.locator('li.msg.out .text').filter({ hasText: exact });
    await sent.waitFor();
    assert.equal((await sent.textContent())?.length, 4000, 'sent whole');
    assert.equal(await counter.isVisible(), false);
    assertClean(p);
  });

  it('says "Waiting for Linus", "You are offline" and "Connected", never "Establishing" (item 4)', async () => {
    const p = await web.open('?demo=1');
    const { page } = p;
    const conn = page.locator('.conv-head .conn');
    await page.locator('a.chat-row', { hasText: 'Linus' }).click();
    await conn.filter({ hasText: 'Waiting for Linus; messages will be delivered securely' }).waitFor();
    const linus = await openId(page);
    // A link being set up while the contact stays away is still waiting for them.
    await demo(page, 'setConnection', linus, 'connecting');
    await page.waitForFunction(() => document.querySelector('.conv-head .conn.connecting') !== null);
    assert.equal(await conn.textContent(), 'Waiting for Linus; messages will be delivered securely');
    await demo(page, 'setNetworkState', 'unreachable');
    await conn.filter({ hasText: /^You are offline$/ }).waitFor();
    await web.screenshot(page, 'everyday-03-you-are-offline');
    // A direct link needs no network: a connected contact stays connected.
    await page.locator('a.chat-row', { hasText: 'Grace Hopper' }).click();
    await conn.filter({ hasText: /^Connected$/ }).waitFor();
    await demo(page, 'setNetworkState', 'online');
    await page.locator('a.chat-row', { hasText: 'Linus' }).click();
    await conn.filter({ hasText: 'Waiting for Linus' }).waitFor();
    await demo(page, 'setConnection', linus, 'connected');
    await conn.filter({ hasText: /^Connected$/ }).waitFor();
    assert.doesNotMatch(await page.locator('body').innerText(), /Establishing/);
    assertClean(p);
  });

  it('renders right-to-left messages, names and previews right to left (item 5)', async () => {
    const arabic = new FakeApi({ seed: false });
    await arabic.createIdentity('سلمى', 'password123');
    const p = await web.open('?demo=1');
    const { page } = p;
    await page.locator('a.chat-row').first().waitFor();
    await addByInvite(page, web.url, await arabic.myInviteCode(), 'سلمى');
    const hebrew = 'שלום, מה שלומך היום?';
    await demo(page, 'receive', await openId(page), hebrew);
    const text = page.locator('li.msg.in .text', { hasText: hebrew });
    await text.waitFor();
    const direction = (sel: string): Promise<string> =>
      page
        .locator(sel)
        .first()
        .evaluate((el) => getComputedStyle(el).direction);
    assert.equal(await direction('li.msg.in .text'), 'rtl', 'message');
    assert.equal(await direction('.conv-name'), 'rtl', 'name in the header');
    const row = page.locator('a.chat-row', { hasText: 'سلمى' });
    await row.locator('.chat-preview bdi', { hasText: hebrew }).waitFor();
    assert.equal(await row.locator('.chat-name').evaluate((el) => getComputedStyle(el).direction), 'rtl');
    assert.equal(
      await row.locator('.chat-preview bdi').evaluate((el) => getComputedStyle(el).direction),
      'rtl',
      'preview',
    );
    // A left-to-right message beside them stays left to right.
    await page.getByLabel('Message', { exact: true }).fill('Hello in English');
    await page.keyboard.press('Enter');
    await page.locator('li.msg.out .text', { hasText: 'Hello in English' }).waitFor();
    assert.equal(
      await page
        .locator('li.msg.out .text', { hasText: 'Hello in English' })
        .evaluate((el) => getComputedStyle(el).direction),
      'ltr',
    );
    await web.screenshot(page, 'everyday-04-right-to-left');
    assertClean(p);
  });

  it('says that a pasted invite is of a contact already there, and opens the chat (item 6)', async () => {
    const other = new FakeApi({ seed: true, stepMs: 50 });
    const code = await other.myInviteCode();
    const p = await web.open('?demo=1');
    const { page } = p;
    await page.locator('a.chat-row').first().waitFor();
    await addByInvite(page, web.url, code, 'Ada');
    const id = await openId(page);
    await page.getByLabel('Message', { exact: true }).fill('first hello');
    await page.keyboard.press('Enter');
    await page.locator('li.msg.out', { hasText: 'first hello' }).waitFor();
    await page.getByRole('link', { name: 'Add contact' }).click();
    await page.getByRole('textbox', { name: 'Invite link' }).fill(inviteLink(web.url, code));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('.flash', { hasText: 'Ada is already a contact.' }).waitFor();
    await page.locator('li.msg.out', { hasText: 'first hello' }).waitFor();
    assert.equal(await openId(page), id, 'the same chat');
    assert.equal(await page.getByRole('heading', { name: 'Add Ada?' }).count(), 0);
    assert.equal(await page.locator('a.chat-row', { hasText: 'Ada' }).count(), 1, 'one contact');
    await web.screenshot(page, 'everyday-05-already-a-contact');
    // The note goes at the next navigation.
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.locator('.flash').waitFor({ state: 'hidden' });
    assertClean(p);
  });

  it('says before and after a restore from the recovery key that contacts and history stay behind, and asks the password twice (items 7, 9)', async () => {
    const words = encodeRecoveryKey(randomBytes(32));
    const p = await web.open('?demo=empty#/restore');
    const { page } = p;
    await page.getByRole('heading', { name: 'Restore your identity' }).waitFor();
    await page
      .getByText('A recovery key brings back your identity only. Contacts and conversations do not come back')
      .waitFor();
    await page.getByRole('textbox', { name: 'Recovery key' }).fill(words);
    await page.getByLabel('Your name').fill('Restored');
    await page.getByLabel('New password').fill('a new long password');
    await page.getByLabel('Repeat password').fill('a different password');
    await page.getByRole('button', { name: 'Restore identity' }).click();
    await page.getByText('The passwords differ').waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Restore your identity' }).count(), 1);
    await web.screenshot(page, 'everyday-06-restore');
    await page.getByLabel('Repeat password').fill('a new long password');
    await page.getByRole('button', { name: 'Restore identity' }).click();
    await page
      .locator('.flash', { hasText: 'Contacts and conversations do not come back with a recovery key' })
      .waitFor();
    await page.locator('.chats .empty').waitFor();
    await web.screenshot(page, 'everyday-07-restored');
    assertClean(p);
  });

  it('tells delivered and read ticks apart by shape and by name (item 8)', async () => {
    const p = await web.open('?demo=1');
    const { page } = p;
    await page.locator('a.chat-row', { hasText: 'Linus' }).click();
    const delivered = page.locator('.ticks[aria-label="Delivered"]').first();
    await delivered.waitFor();
    const deliveredText = await delivered.textContent();
    await page.locator('a.chat-row', { hasText: 'Grace Hopper' }).click();
    const read = page.locator('.ticks[aria-label="Read"]').first();
    await read.waitFor();
    const readText = await read.textContent();
    assert.notEqual(readText, deliveredText, 'not colour alone');
    assert.equal(await read.getAttribute('role'), 'img');
    assert.equal(
      (await page.getByRole('img', { name: 'Read' }).count()) > 0,
      true,
      'named for screen readers',
    );
    await web.screenshot(page, 'everyday-08-ticks');
    assertClean(p);
  });

  it('shows no focus ring on the first title, keeps the recovery key in full rows, styles the file button (item 9)', async () => {
    for (const viewport of [undefined, PHONE]) {
      const p = await web.open('?demo=empty', viewport);
      const { page } = p;
      const title = page.getByRole('heading', { name: 'Create your identity' });
      await title.waitFor();
      assert.equal(await page.evaluate(() => document.activeElement?.tagName), 'H1', 'focused for readers');
      assert.equal(await title.evaluate((el) => getComputedStyle(el).outlineStyle), 'none', 'no ring');
      await page.getByLabel('Your name').fill('Rows');
      await page.getByLabel('Password', { exact: true }).fill('a long enough password');
      await page.getByLabel('Repeat password').fill('a long enough password');
      await page.getByRole('button', { name: 'Create identity' }).click();
      await page.getByRole('heading', { name: 'Your recovery key' }).waitFor();
      const tops = await page
        .locator('ol.words li')
        .evaluateAll((lis) => lis.map((li) => Math.round(li.getBoundingClientRect().top)));
      assert.equal(tops.length, 25);
      const rows = new Map<number, number>();
      for (const t of tops) rows.set(t, (rows.get(t) ?? 0) + 1);
      const counts = [...rows.entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n);
      assert.ok(counts.at(-1)! >= 2, `last row of ${counts.join(',')} holds more than one word`);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= (viewport?.width ?? 1200), `no sideways scrolling (${width}px)`);
      await web.screenshot(page, `everyday-09-recovery-key${viewport === undefined ? '' : '-phone'}`);
      assertClean(p);
    }
    const p = await web.open('?demo=empty#/restore');
    const { page } = p;
    const file = page.getByLabel('Backup file');
    await file.waitFor();
    const look = await file.evaluate((el) => {
      const b = getComputedStyle(el, '::file-selector-button');
      return { bg: b.backgroundColor, font: b.fontFamily };
    });
    const btn = await page
      .getByRole('button', { name: 'Restore identity' })
      .evaluate((el) => getComputedStyle(el).fontFamily);
    assert.equal(look.font, btn, 'the app font, not the system one');
    assert.equal(look.bg, 'rgb(22, 32, 26)', 'the app button colour (--bg-3)');
    assertClean(p);
  });

  it('shows an empty state in a new chat (item 9)', async () => {
    const other = new FakeApi({ seed: false });
    await other.createIdentity('Newcomer', 'password123');
    const p = await web.open('?demo=1');
    const { page } = p;
    await page.locator('a.chat-row').first().waitFor();
    await addByInvite(page, web.url, await other.myInviteCode(), 'Newcomer');
    await page.locator('.conv-empty', { hasText: 'No messages yet.' }).waitFor();
    await web.screenshot(page, 'everyday-10-new-chat');
    await page.getByLabel('Message', { exact: true }).fill('hello there');
    await page.keyboard.press('Enter');
    await page.locator('li.msg.out', { hasText: 'hello there' }).waitFor();
    assert.equal(await page.locator('.conv-empty').isVisible(), false);
    await page.locator('a.chat-row', { hasText: 'Grace Hopper' }).click();
    await page.locator('li.msg').first().waitFor();
    assert.equal(await page.locator('.conv-empty').isVisible(), false, 'not in a chat with history');
    assertClean(p);
  });

  it('fits the top tabs on a 390 px screen (item 9)', async () => {
    const p = await web.open('?demo=1', PHONE);
    const { page } = p;
    await page.locator('a.chat-row').first().waitFor();
    // A three-digit unread count is the widest the Chats tab gets.
    await page.evaluate(() => {
      const api = (globalThis as unknown as { p2pcommDemo: FakeApi }).p2pcommDemo;
      for (let i = 0; i < 120; i++) api.receive('c1' as never, `unread ${i}`);
    });
    await page.locator('.nav .unread', { hasText: '121' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    const fit = await nav.evaluate((n) => {
      const box = n.getBoundingClientRect();
      const links = [...n.querySelectorAll('a')].map((a) => {
        const r = a.getBoundingClientRect();
        return { text: a.textContent, left: r.left, right: r.right, width: r.width, height: r.height };
      });
      return { scroll: n.scrollWidth, client: n.clientWidth, left: box.left, right: box.right, links };
    });
    assert.ok(fit.scroll <= fit.client, `tabs need ${fit.scroll}px of ${fit.client}px`);
    for (const l of fit.links) {
      assert.ok(l.left >= fit.left && l.right <= fit.right, `${l.text} fully on screen`);
      // 44 x 44 CSS px: the touch target of WCAG 2.5.5 and Apple's guidelines.
      assert.ok(l.width >= 44 && l.height >= 44, `${l.text} is a touch target (${l.width}x${l.height}px)`);
    }
    await web.screenshot(page, 'everyday-11-phone-tabs');
    assertClean(p);
  });

  it('puts plain words first in settings, and node and connection details under Advanced (item 10)', async () => {
    const p = await web.open('?demo=1#/settings');
    const { page } = p;
    await page.getByLabel('Node addresses').waitFor();
    const legends = await page.locator('form legend').allTextContents();
    assert.deepEqual(legends, ['Delivery', 'Network', 'Advanced']);
    const advanced = page.locator('fieldset.advanced');
    for (const label of ['Node addresses', 'Connection helpers (ICE servers)'])
      assert.equal(await advanced.getByLabel(label).count(), 1, `${label} under Advanced`);
    const plain = await page.locator('section.settings').evaluate((s) => {
      const adv = s.querySelector('fieldset.advanced');
      adv?.remove();
      const text = (s as HTMLElement).innerText;
      if (adv !== null && adv !== undefined) s.querySelector('form')?.append(adv);
      return text;
    });
    assert.doesNotMatch(plain, /\b(nodes?|ICE|stun|turn|P2P)\b|wss?:\/\//i, 'jargon outside Advanced');
    await web.screenshot(page, 'everyday-12-settings');
    await page.getByRole('link', { name: 'Delivery', exact: true }).click();
    await page.locator('.stat .big', { hasText: 'left' }).waitFor();
    assert.doesNotMatch(await page.locator('#main').innerText(), /P2P/);
    assertClean(p);
  });
});
