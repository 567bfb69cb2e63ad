/**
 * The web app in real Chromium against the fake engine: onboarding, unlock, contacts,
 * messaging with ticks, hostile text, keyboard-only use, CSP, phone size, wording.
 * Every page must end with no CSP violation, console error, page error or dialog.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { FakeApi } from '../../src/web/fake-api.ts';
import { inviteLink } from '../../src/web/format.ts';
import { MAX_ROWS } from '../../src/web/views/message-window.ts';
import { assertClean, startWebHarness, type WebHarness } from './web-harness.ts';

const DEMO_PASSWORD = 'correct horse battery';
const PHONE = { width: 390, height: 844 };

/** Words the main screens must never show (spec "No Blockchain Exposure"). */
const JARGON = /\b(KAS|UTXO|transactions?|mnemonic|wallets?)\b/i;

/** Presses Tab (or Shift+Tab) until the focused element matches `selector`. */
async function tabTo(page: Page, selector: string, backwards = false, text = ''): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const here = await page.evaluate(
      ([s, t]) =>
        document.activeElement?.matches(s) === true && (document.activeElement.textContent ?? '').includes(t),
      [selector, text] as const,
    );
    if (here) return;
    await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab');
  }
  assert.fail(`keyboard focus never reached ${selector}`);
}

async function createIdentity(page: Page, name: string, password: string): Promise<void> {
  await page.getByLabel('Your name').fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Repeat password').fill(password);
  await page.getByRole('button', { name: 'Create identity' }).click();
  await page.getByRole('heading', { name: 'Your recovery key' }).waitFor();
}

async function finishRecovery(page: Page): Promise<void> {
  await page.getByLabel('I have saved my recovery key').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'My card' }).waitFor();
}

/** Records the status labels the newest outgoing message goes through. */
async function recordTicks(page: Page): Promise<void> {
  // A string body: functions compiled by the test runner may reference helpers the page lacks.
  await page.evaluate(`(() => {
    const seen = [];
    globalThis.__ticks = seen;
    const log = document.querySelector('.msgs');
    new MutationObserver(() => {
      const last = [...log.querySelectorAll('li.msg.out .ticks')].at(-1);
      const label = last && last.getAttribute('aria-label');
      if (label && seen.at(-1) !== label) seen.push(label);
    }).observe(log, { subtree: true, childList: true, attributes: true });
  })()`);
}

describe('web app in Chromium (fake engine)', () => {
  let web: WebHarness;
  before(async () => {
    web = await startWebHarness();
  });
  after(async () => {
    await web.close();
  });

  it('creates an identity and shows the recovery key as numbered words', async () => {
    const p = await web.open('?demo=empty');
    const { page } = p;
    await page.getByRole('heading', { name: 'Create your identity' }).waitFor();
    await web.screenshot(page, 'desktop-01-create-identity');
    await createIdentity(page, 'Alice', 'a long enough password');
    const words = await page.locator('ol.words li').allTextContents();
    assert.equal(words.length, 25);
    for (const w of words) assert.match(w, /^[a-z]{3,8}$/);
    await web.screenshot(page, 'desktop-02-recovery-key');
    assert.equal(await page.getByRole('button', { name: 'Continue' }).isDisabled(), true);
    await finishRecovery(page);
    await page.locator('svg.qr path').waitFor();
    const link = await page.getByRole('textbox', { name: 'Invite link' }).inputValue();
    assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/#\/add\/[A-Za-z0-9_-]+$/);
    await web.screenshot(page, 'desktop-03-my-card');
    assertClean(p);
  });

  it('refuses a wrong password, keeps everything, then unlocks with the right one', async () => {
    const p = await web.open('?demo=1');
    const { page } = p;
    await page.locator('a.chat-row').first().waitFor();
    const before = await page.locator('a.chat-row .chat-name').allTextContents();
    await page.getByRole('button', { name: 'Lock', exact: true }).click();
    await page.getByRole('heading', { name: /Welcome back/ }).waitFor();
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByText('Wrong password. Nothing was changed.').waitFor();
    await web.screenshot(page, 'desktop-04-unlock-wrong-password');
    assert.equal(await page.locator('.chat-row').count(), 0, 'nothing is shown while locked');
    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.locator('a.chat-row').first().waitFor();
    assert.deepEqual(await page.locator('a.chat-row .chat-name').allTextContents(), before);
    assertClean(p);
  });

  it('adds a contact from a pasted invite link and opens the conversation', async () => {
    const other = new FakeApi({ seed: true, stepMs: 50 });
    const code = await other.myInviteCode();
    const p = await web.open('?demo=empty');
    const { page } = p;
    await createIdentity(page, 'Bob', 'another long password');
    await finishRecovery(page);
    await page.getByRole('link', { name: 'Add contact' }).click();
    await page.getByRole('textbox', { name: 'Invite link' }).fill('not a link');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('That is not an invite link').waitFor();
    await page.getByRole('textbox', { name: 'Invite link' }).fill(inviteLink(web.url, code));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Add Ada?' }).waitFor();
    await web.screenshot(page, 'desktop-05-add-contact');
    await page.getByRole('button', { name: 'Add contact' }).click();
    await page.locator('.conv-name', { hasText: 'Ada' }).waitFor();
    await page.locator('.conn.connected').waitFor();
    assert.equal(await page.locator('.conn').textContent(), 'Connected');
    assertClean(p);
  });

  it('refuses a pasted invite of another network and says why', async () => {
    const other = new FakeApi({ seed: true, stepMs: 50 });
    await other.updateSettings({ network: 'testnet-10' });
    const code = await other.myInviteCode();
    const p = await web.open('?demo=1#/add');
    const { page } = p;
    await page.getByRole('textbox', { name: 'Invite link' }).fill(inviteLink(web.url, code));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText(/This invite is for another network/).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Add contact' }).count(), 0);
    assertClean(p);
  });

  it("shows a stranger's first messages under Message requests, unverified, with Accept, Block and Delete", async () => {
    const p = await web.open('?demo=1');
    const { page } = p;
    await page.locator('a.chat-row').first().waitFor();
    assert.equal(await page.locator('a.requests-entry').isVisible(), false, 'no entry while none wait');
    await page.evaluate(() => {
      const demo = (globalThis as { p2pcommDemo?: FakeApi }).p2pcommDemo!;
      demo.receiveFromStranger('Eve', 'hi, we met at the conference');
      demo.receiveFromStranger('Spammer', 'cheap watches');
      demo.receiveFromStranger('Zed', 'wrong number?');
    });
    await page.locator('a.requests-entry .unread', { hasText: '3' }).waitFor();
    assert.equal(await page.locator('a.chat-row', { hasText: 'Eve' }).count(), 0, 'not a conversation');
    await page.locator('a.requests-entry').click();
    await page.getByRole('heading', { name: 'Message requests' }).waitFor();
    await web.screenshot(page, 'desktop-12-message-requests');
    await page.locator('a.request-row', { hasText: 'Spammer' }).click();
    await page.getByText('(unverified)').first().waitFor();
    await page.getByRole('button', { name: 'Block' }).click();
    await page.locator('a.requests-entry .unread', { hasText: '2' }).waitFor();
    await page.locator('a.request-row', { hasText: 'Zed' }).click();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.locator('a.requests-entry .unread', { hasText: '1' }).waitFor();
    await page.locator('a.request-row', { hasText: 'Eve' }).click();
    await page.locator('li.msg', { hasText: 'hi, we met at the conference' }).waitFor();
    assert.match((await page.locator('.conv-name').textContent()) ?? '', /Eve \(unverified\)/);
    await web.screenshot(page, 'desktop-13-message-request');
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.locator('.conv-name', { hasText: 'Eve' }).waitFor();
    await page.locator('li.msg', { hasText: 'hi, we met at the conference' }).waitFor();
    await page.locator('a.chat-row', { hasText: 'Eve' }).waitFor();
    assert.equal(await page.locator('a.requests-entry').isVisible(), false);
    assertClean(p);
  });

  it('keeps an opened invite link through onboarding and offers it afterwards', async () => {
    const other = new FakeApi({ seed: true, stepMs: 50 });
    const p = await web.open(`?demo=empty#/add/${await other.myInviteCode()}`);
    const { page } = p;
    await createIdentity(page, 'Newcomer', 'a long enough password');
    await page.getByLabel('I have saved my recovery key').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Add Ada?' }).waitFor();
    assertClean(p);
  });

  it('sends messages and shows ticks progress: sending, sent, delivered, read', async () => {
    const p = await web.open('?demo=1');
    const { page } = p;
    await page.locator('a.chat-row', { hasText: 'Grace Hopper' }).click();
    await page.locator('.conn.connected').waitFor();
    await recordTicks(page);
    await page.getByLabel('Message', { exact: true }).fill('Ship the release notes?');
    await page.keyboard.press('Enter');
    await page
      .locator('li.msg.out', { hasText: 'Ship the release notes?' })
      .locator('.ticks[aria-label="Read"]')
      .waitFor();
    const seen = await page.evaluate(() => (globalThis as unknown as { __ticks: string[] }).__ticks);
    assert.deepEqual(seen, ['Sending', 'Sent', 'Delivered', 'Read']);
    await page.locator('li.msg.in', { hasText: 'Got it' }).waitFor();
    await web.screenshot(page, 'desktop-06-conversation');
    assertClean(p);
  });

  it('delivers to an offline contact securely, with badge and delivery proof', async () => {
    const p = await web.open('?demo=1');
    const { page } = p;
    await page.locator('a.chat-row', { hasText: 'Linus' }).click();
    assert.equal(
      await page.locator('.conn').textContent(),
      'Waiting for Linus; messages will be delivered securely',
    );
    await page.getByLabel('Message', { exact: true }).fill('Read this when you are back');
    await page.getByRole('button', { name: 'Send' }).click();
    const msg = page.locator('li.msg.out', { hasText: 'Read this when you are back' });
    await msg.locator('.ticks[aria-label="Sent"]').waitFor();
    await msg.locator('.badge', { hasText: 'sent securely' }).waitFor();
    await msg.click({ button: 'right' });
    const dialog = page.getByRole('dialog', { name: 'Delivery proof' });
    await dialog.getByText('Transaction id').waitFor();
    await dialog.locator('code.hex').first().waitFor();
    assert.match((await dialog.locator('code.hex').first().textContent()) ?? '', /^[0-9a-f]{64}$/);
    await web.screenshot(page, 'desktop-07-delivery-proof');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });

    // On testnet-10 the proof links to the public explorer.
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('Network').selectOption('testnet-10');
    await page.getByLabel('Node addresses').waitFor();
    await page
      .locator('#main')
      .getByText('ws://127.0.0.1:18210')
      .or(page.getByLabel('Node addresses'))
      .first()
      .waitFor();
    await page.locator('a.chat-row', { hasText: 'Linus' }).click();
    await page
      .locator('li.msg.out', { hasText: 'Read this when you are back' })
      .getByRole('button', { name: 'View delivery proof' })
      .click();
    const link = page.getByRole('dialog').getByRole('link', { name: 'Open in explorer' });
    assert.match(
      (await link.getAttribute('href')) ?? '',
      /^https:\/\/explorer-tn10\.kaspa\.org\/txs\/[0-9a-f]{64}$/,
    );
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
    assertClean(p);
  });

  it("verifies a contact's safety number, shows the mark, and warns when the key changes", async () => {
    const p = await web.open('?demo=1');
    const { page } = p;
    await page.locator('a.chat-row').first().click();
    await page.locator('.conv-name').waitFor();
    const name = (await page.locator('.conv-name').textContent()) ?? '';
    const id = await page.evaluate(() => decodeURIComponent(location.hash.split('/')[2] ?? ''));
    await page.getByRole('link', { name: 'verify safety number' }).click();
    await page.getByRole('heading', { name: 'Safety number' }).waitFor();
    await page.locator('svg.qr path').waitFor();
    const groups = await page.locator('ol.safety-groups li').allTextContents();
    assert.equal(groups.length, 12);
    for (const g of groups) assert.match(g, /^\d{5}$/);
    assert.equal(await page.locator('.verified-state').textContent(), 'Not verified');

    const field = page.getByRole('textbox', { name: 'Their safety number' });
    await field.fill('123');
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.getByText('That is not a safety number').waitFor();
    const wrong = groups.map((g) => g.replace(/^./, (d) => String((Number(d) + 1) % 10))).join(' ');
    await field.fill(wrong);
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.getByText('These numbers do not match').waitFor();
    assert.equal(await page.locator('.verified-state').textContent(), 'Not verified');

    // What the contact's own screen shows, as a scan would read it.
    const theirCode = await page.evaluate(
      (c) =>
        (
          globalThis as unknown as { p2pcommDemo: { contactSafetyCode(id: string): string } }
        ).p2pcommDemo.contactSafetyCode(c),
      id,
    );
    await field.fill(theirCode);
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.getByText(`Verified: your safety number with ${name} matches.`).waitFor();
    await page.locator('.verified-state.is-verified').waitFor();
    await web.screenshot(page, 'desktop-verify-contact');

    await page.getByRole('link', { name: 'Back to conversation' }).click();
    await page.locator('.verified-mark.is-verified').waitFor();
    assert.equal(await page.locator('.key-warning').isHidden(), true);

    await page.evaluate(
      (c) =>
        (
          globalThis as unknown as { p2pcommDemo: { changeContactKey(id: string): void } }
        ).p2pcommDemo.changeContactKey(c),
      id,
    );
    await page.locator('.key-warning', { hasText: 'safety number has changed' }).waitFor();
    await page.locator('.verified-mark.not-verified').waitFor();
    assertClean(p);
  });

  it('shows hostile messages and names as text and runs nothing', async () => {
    const hostile = [
      '<img src=x onerror="globalThis.__pwned=1;alert(1)">',
      '<script>globalThis.__pwned=2;alert(2)</script>',
      '<svg onload="globalThis.__pwned=3">',
    ];
    const p = await web.open('?demo=1');
    const { page } = p;
    // A contact whose card carries markup as its name.
    const evil = new FakeApi({ seed: false });
    await evil.createIdentity('<img src=x onerror="globalThis.__pwned=4">', 'password123');
    const code = await evil.myInviteCode();
    await page.evaluate((c) => (location.hash = `#/add/${c}`), code);
    await page.getByRole('button', { name: 'Add contact' }).click();
    await page.locator('.conv-name').waitFor();
    assert.equal(
      await page.locator('.conv-name').textContent(),
      '<img src=x onerror="globalThis.__pwned=4">',
    );
    for (const text of hostile) {
      await page.getByLabel('Message', { exact: true }).fill(text);
      await page.keyboard.press('Enter');
      await page.locator('li.msg.out .text').filter({ hasText: text }).waitFor();
    }
    // And the same arriving from the contact.
    await page.evaluate((texts) => {
      const demo = (globalThis as unknown as { p2pcommDemo: { receive(id: string, t: string): void } })
        .p2pcommDemo;
      const id = decodeURIComponent(location.hash.split('/')[2] ?? '');
      for (const t of texts) demo.receive(id, t);
    }, hostile);
    await page
      .locator('li.msg.in')
      .nth(hostile.length - 1)
      .waitFor();
    const texts = await page.locator('li.msg .text').allTextContents();
    for (const t of hostile)
      assert.equal(texts.filter((x) => x === t).length >= 2, true, `shown as text: ${t}`);
    assert.equal(await page.locator('.msgs img, .msgs script, .msgs svg, .chat-list img').count(), 0);
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned),
      undefined,
    );
    await web.screenshot(page, 'desktop-08-hostile-text');
    assertClean(p);
  });

  it('can be used by keyboard alone: create, confirm key, open a chat, send, open a proof', async () => {
    const p = await web.open('?demo=empty');
    const { page } = p;
    await page.getByRole('heading', { name: 'Create your identity' }).waitFor();
    await tabTo(page, 'input[autocomplete="nickname"]');
    await page.keyboard.type('Keys');
    await page.keyboard.press('Tab');
    await page.keyboard.type('keyboard only please');
    await page.keyboard.press('Tab');
    await page.keyboard.type('keyboard only please');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Your recovery key' }).waitFor();
    await tabTo(page, '#saved-check');
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'My card' }).waitFor();

    const d = await web.open('?demo=1');
    const dp = d.page;
    await dp.locator('a.chat-row').first().waitFor();
    await tabTo(dp, 'a.chat-row', false, 'Linus');
    await dp.keyboard.press('Enter');
    await dp.locator('.conv-name', { hasText: 'Linus' }).waitFor();
    assert.equal(await dp.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Message');
    await dp.keyboard.type('typed, not clicked');
    await dp.keyboard.press('Enter');
    await dp.locator('li.msg.out', { hasText: 'typed, not clicked' }).locator('.badge').waitFor();
    await tabTo(dp, 'ol.msgs', true);
    await dp.keyboard.press('ArrowUp');
    assert.equal(await dp.evaluate(() => document.activeElement?.classList.contains('msg')), true);
    await dp.keyboard.press('Enter');
    await dp.getByRole('dialog', { name: 'Delivery proof' }).getByText('Transaction id').waitFor();
    await dp.keyboard.press('Escape');
    await dp.getByRole('dialog').waitFor({ state: 'detached' });
    assert.equal(
      await dp.evaluate(() => document.activeElement?.classList.contains('msg')),
      true,
      'focus returns',
    );
    await tabTo(dp, 'a.nav-link[href="#/balance"]', true);
    await dp.keyboard.press('Enter');
    await dp.getByRole('heading', { name: 'Secure delivery' }).waitFor();
    await tabTo(dp, '#p2p-only');
    await dp.keyboard.press('Space');
    await dp.getByText(/^On: messages to offline contacts wait/).waitFor();
    assertClean(p);
    assertClean(d);
  });

  it('keeps chain jargon off the main screens', async () => {
    const p = await web.open('?demo=1');
    const { page } = p;
    await page.locator('a.chat-row').first().waitFor();
    for (const [hash, ready] of [
      ['#/chats', 'a.chat-row'],
      ['#/balance', '.stat .big:not(:text("..."))'],
      ['#/share', 'svg.qr'],
      ['#/add', 'input'],
      ['#/settings', 'select'],
    ] as const) {
      await page.evaluate((h) => (location.hash = h), hash);
      await page.locator(ready).first().waitFor();
      const text = await page.locator('body').innerText();
      assert.doesNotMatch(text, JARGON, `jargon on ${hash}`);
    }
    await page.locator('a.chat-row', { hasText: 'Linus' }).click();
    await page.locator('li.msg').first().waitFor();
    assert.doesNotMatch(await page.locator('body').innerText(), JARGON, 'jargon in a conversation');
    await web.screenshot(page, 'desktop-09-conversation-secure');
    await page.evaluate(() => (location.hash = '#/balance'));
    await page.locator('.stat .big', { hasText: 'left' }).waitFor();
    await web.screenshot(page, 'desktop-10-balance');
    await page.evaluate(() => (location.hash = '#/settings'));
    await page.locator('select').waitFor();
    await web.screenshot(page, 'desktop-11-settings');
    assertClean(p);
  });

  it('renders only a window of a 1,500-message conversation, reachable whole by keyboard and scrolling', async () => {
    const p = await web.open('?demo=1&messages=1500&sw=0#/chat/c1');
    const { page } = p;
    await page.locator('.msgs[data-count="1503"]').waitFor();
    const rendered = (): Promise<number> => page.locator('li.msg').count();
    const firstText = (): Promise<string> =>
      page.evaluate(() => document.querySelector('li.msg .text')?.textContent ?? '');
    assert.ok((await rendered()) <= MAX_ROWS, 'a window, not the whole conversation');
    assert.equal(await page.locator('li.msg .text').last().textContent(), 'Then ship it.');
    // Moving the window re-inserts rows: the log must not read them out as new.
    assert.equal(await page.getByRole('log', { name: 'Messages' }).getAttribute('aria-live'), 'off');

    // Scrolling to the top adds older messages above without moving what the reader sees.
    const before = await firstText();
    // Where the first row is once scrolled to the top, read before the scroll event is
    // dispatched (at the next frame) and the window grows.
    const top = await page.locator('.msgs').evaluate((log) => {
      log.scrollTop = 0;
      return log.querySelector('li.msg')?.getBoundingClientRect().top ?? NaN;
    });
    await page.waitForFunction((t) => document.querySelector('li.msg .text')?.textContent !== t, before);
    const kept = page.locator('li.msg', { has: page.getByText(before, { exact: true }) });
    assert.ok(Math.abs((await kept.evaluate((li) => li.getBoundingClientRect().top)) - top) < 2, 'anchored');
    assert.ok((await rendered()) <= MAX_ROWS);
    // The same by button, for those who do not scroll.
    const again = await firstText();
    await page.getByRole('button', { name: 'Show older messages' }).click();
    await page.waitForFunction((t) => document.querySelector('li.msg .text')?.textContent !== t, again);

    // Home reaches the very first message, End the newest, arrows step across page edges.
    await page.locator('.msgs').focus();
    await page.keyboard.press('Home');
    const focused = (): Promise<string> =>
      page.evaluate(() => document.activeElement?.querySelector('.text')?.textContent ?? '');
    assert.equal(await focused(), 'Message 1 of the long history');
    assert.equal(await page.getByRole('button', { name: 'Show older messages' }).count(), 0);
    for (let i = 0; i < MAX_ROWS + 5; i++) await page.keyboard.press('ArrowDown');
    assert.equal(await focused(), `Message ${MAX_ROWS + 6} of the long history`);
    assert.ok((await rendered()) <= MAX_ROWS);
    await page.keyboard.press('End');
    assert.equal(await focused(), 'Then ship it.');
    await page.keyboard.press('ArrowUp');
    assert.equal(await focused(), 'Yes. Direct link came up in under a second.');

    // A message sent from far back in the history brings the newest into view with it.
    await page.keyboard.press('Home');
    await page.getByLabel('Message', { exact: true }).fill('Written from the top');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('li.msg.out .text', { hasText: 'Written from the top' }).waitFor();
    assert.equal(await page.locator('.msgs[data-count="1504"]').count(), 1);
    assert.ok((await rendered()) <= MAX_ROWS);

    // New messages are said once through the status line: in full when on screen, and only
    // that one came while the reader is far back.
    const receive = (text: string): Promise<unknown> =>
      page.evaluate(
        (t) => (globalThis as unknown as { p2pcommDemo: FakeApi }).p2pcommDemo.receive('c1' as never, t),
        text,
      );
    await receive('On screen when it comes');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('div.sr-only[role="status"]')].some(
        (e) => e.textContent === 'Grace Hopper: On screen when it comes',
      ),
    );
    await page.locator('.msgs').focus();
    await page.keyboard.press('Home');
    await receive('Far below the reader');
    await page.waitForFunction(() =>
      [...document.querySelectorAll('div.sr-only[role="status"]')].some(
        (e) => e.textContent === 'New message from Grace Hopper',
      ),
    );
    assertClean(p);
  });

  it('fits a phone screen (390x844) without sideways scrolling', async () => {
    const p = await web.open('?demo=1', PHONE);
    const { page } = p;
    await page.locator('a.chat-row').first().waitFor();
    const noOverflow = async (where: string): Promise<void> => {
      const w = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(w <= PHONE.width, `${where}: content ${w}px wide`);
    };
    await noOverflow('chats');
    await web.screenshot(page, 'phone-01-chats');
    await page.locator('a.chat-row', { hasText: 'Grace Hopper' }).click();
    await page.locator('li.msg').first().waitFor();
    assert.equal(await page.locator('.sidebar').isVisible(), false, 'one column on a phone');
    await noOverflow('conversation');
    await web.screenshot(page, 'phone-02-conversation');
    await page.getByRole('link', { name: 'Back to chats' }).click();
    await page.getByRole('link', { name: 'Delivery', exact: true }).click();
    await page.locator('.stat .big', { hasText: 'left' }).waitFor();
    await noOverflow('balance');
    await web.screenshot(page, 'phone-03-balance');
    await page.getByRole('link', { name: 'My card' }).click();
    await page.locator('svg.qr').waitFor();
    await noOverflow('my card');
    await web.screenshot(page, 'phone-04-my-card');
    const fresh = await web.open('?demo=empty', PHONE);
    await fresh.page.getByRole('heading', { name: 'Create your identity' }).waitFor();
    await web.screenshot(fresh.page, 'phone-05-create-identity');
    assertClean(p);
    assertClean(fresh);
  });

  it('sends the CSP header and meta tag, and installs a service worker with an offline shell', async () => {
    const res = await fetch(web.url);
    const header = res.headers.get('content-security-policy') ?? '';
    assert.match(header, /script-src 'self'(;|$)/);
    assert.match(header, /require-trusted-types-for 'script'/);
    assert.doesNotMatch(header, /unsafe-inline|unsafe-eval/);
    const html = await res.text();
    assert.match(
      html,
      /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'/,
    );
    assert.doesNotMatch(html, /<script>|style="/);

    const p = await web.open('?demo=1');
    const { page } = p;
    await page.locator('a.chat-row').first().waitFor();
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    await page.context().setOffline(true);
    await page.reload();
    await page.locator('a.chat-row').first().waitFor();
    const manifest = await page.evaluate(
      async () => (await fetch('manifest.webmanifest')).json() as Promise<{ icons: unknown[] }>,
    );
    assert.equal(manifest.icons.length, 3);
    assertClean(p);
  });
});
