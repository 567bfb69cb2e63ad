/**
 * p2pComm end to end in real Chromium: the built app (scripts/build-web.ts) served by the
 * real dev server with its CSP, running the real messenger core against a local network
 * started in this process. Two independent browser contexts are Alice and Bob, each with
 * its own IndexedDB. They create identities, exchange invite links, chat over a WebRTC link
 * brought up by offers and answers carried on chain, and when Bob is away Alice's messages
 * go by secure delivery and are there when he returns.
 *
 * The app is served beside the local faucet on one origin (src/web/engine/local-origin.ts,
 * over `serveWeb` with its CSP) and pointed at the local network with `?node=`
 * (src/web/engine/config.ts); each new identity asks that faucet for coins itself.
 * Steps run in order and share the two users. Every wait is on DOM state with a generous
 * bound (a broken build fails, a slow machine does not); nothing asserts a duration.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ContactCard } from '../../../src/core/contact/card.ts';
import {
  SLOW,
  UI,
  addByLink,
  openChat,
  received,
  send,
  shot,
  startRealApp,
  submitIdentityForm,
  unlock,
  verifiedIn,
  type RealApp,
  type User,
} from './real-app.ts';

describe('p2pComm end to end in Chromium on a local network', () => {
  let app: RealApp;
  let alice: User;
  let bob: User;
  /** The recovery key as shown on creation, and the key fingerprint on "My card". */
  const words = new Map<User, string[]>();
  const fingerprints = new Map<User, string>();

  before(async () => {
    app = await startRealApp();
  });

  after(async () => {
    await app?.close();
  });

  it('creates two identities, each with a 25-word recovery key and an invite link', async () => {
    alice = await app.newUser('Alice', 'alice-vault-password', { create: false });
    bob = await app.newUser('Bob', 'bob-vault-password', { create: false });
    for (const u of [alice, bob]) {
      const { page } = u;
      await submitIdentityForm(u);
      const key = (await page.locator('ol.words li').allTextContents()).map((w) =>
        w.replace(/^\s*\d+\.?\s*/, '').trim(),
      );
      assert.equal(key.length, 25);
      words.set(u, key);
      if (u === alice) await shot(page, '01-recovery-key');
      await page.getByLabel('I have saved my recovery key').check();
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'My card' }).waitFor({ timeout: UI });
      await page.locator('svg.qr path').waitFor({ timeout: UI });
      u.invite = await page.getByRole('textbox', { name: 'Invite link' }).inputValue();
      const fingerprint = (await page.locator('p.fp').first().textContent()) ?? '';
      assert.match(fingerprint, new RegExp(`^${u.name} . key [0-9a-f]{4}( [0-9a-f]{4}){3}$`));
      fingerprints.set(u, fingerprint);
      assert.match(u.invite, /#\/add\/[A-Za-z0-9_-]+$/);
      if (u === alice) await shot(page, '02-my-card');
      // The code in the link is the signed contact card, with an address on the local network.
      const card = ContactCard.fromLink(u.invite.slice(u.invite.indexOf('#/add/') + '#/add/'.length));
      assert.equal(card.displayName, u.name);
      assert.match(card.addresses[0]!.toString(), /^kaspasim:/);
    }
  });

  it('exchanges invite links and brings the direct link up ("Connected")', async () => {
    for (const [u, other] of [
      [bob, alice],
      [alice, bob],
    ] as const) {
      await addByLink(u, other, u === bob ? '03-add-contact' : undefined);
    }
    for (const u of [alice, bob]) {
      await u.page.locator('.conn.connected').waitFor({ timeout: SLOW });
      assert.equal(await u.page.locator('.conn').textContent(), 'Connected');
    }
    await send(alice, 'Hi Bob, this goes straight to you.');
    await received(bob, 'Hi Bob, this goes straight to you.');
    await send(bob, 'Hi Alice, got it.');
    await received(alice, 'Hi Alice, got it.');
    const first = alice.page.locator('li.msg.out', { hasText: 'Hi Bob, this goes straight to you.' });
    await first
      .locator('.ticks[aria-label="Delivered"], .ticks[aria-label="Read"]')
      .waitFor({ timeout: SLOW });
    assert.equal(await first.locator('.badge').count(), 0, 'a direct message carries no delivery badge');
    await shot(alice.page, '04-direct-chat');
  });

  const away = ['First while you are away', 'Second while you are away', 'Third while you are away'];

  it('delivers securely while Bob is away; he sees them in order with the verified badge', async () => {
    await bob.page.close();
    await alice.page.locator('.conn.offline').waitFor({ timeout: SLOW });
    assert.equal(
      await alice.page.locator('.conn').textContent(),
      'Waiting for Bob; messages will be delivered securely',
    );
    for (const text of away) await send(alice, text);
    // Published, not yet delivered: no "verified delivery" before Bob's signed receipt.
    for (const text of away) {
      await alice.page
        .locator('li.msg.out', { hasText: text })
        .locator('.badge', { hasText: 'sent securely' })
        .waitFor({ timeout: SLOW });
    }
    await shot(alice.page, '05-secure-sent');
    // Alice is the one offline now: the header says so rather than waiting for Bob, and goes
    // back to waiting for him once she is online again (issue 15 item 4).
    await alice.context.setOffline(true);
    await alice.page.locator('.conn', { hasText: /^You are offline$/ }).waitFor({ timeout: UI });
    await shot(alice.page, '05-you-are-offline');
    await alice.context.setOffline(false);
    await alice.page.locator('.conn', { hasText: 'Waiting for Bob' }).waitFor({ timeout: SLOW });

    const page = await app.openPage(bob);
    await unlock(bob);
    await openChat(bob, 'Alice');
    await verifiedIn(page, away);
    const incoming = await page.locator('li.msg.in .text').allTextContents();
    assert.deepEqual(
      incoming.filter((t) => away.includes(t)),
      away,
      'in the order written',
    );
    await shot(page, '06-bob-returns');
    for (const text of away) {
      const out = alice.page.locator('li.msg.out', { hasText: text });
      await out
        .locator('.ticks[aria-label="Delivered"], .ticks[aria-label="Read"]')
        .waitFor({ timeout: SLOW });
      await out.locator('.badge', { hasText: 'verified delivery' }).waitFor({ timeout: SLOW });
    }
    await shot(alice.page, '07-alice-delivered');
  });

  it('shows the delivery proof of a secure message', async () => {
    const { page } = alice;
    await page
      .locator('li.msg.out', { hasText: away[0]! })
      .getByRole('button', { name: 'View delivery proof' })
      .click();
    const dialog = page.getByRole('dialog', { name: 'Delivery proof' });
    await dialog.getByText('Transaction id').waitFor({ timeout: UI });
    assert.match((await dialog.locator('code.hex').first().textContent()) ?? '', /^[0-9a-f]{64}$/);
    await shot(page, '08-delivery-proof');
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  it('keeps the history across a reload', async () => {
    const { page } = bob;
    const before = await page.locator('li.msg .text').allTextContents();
    await page.reload();
    await unlock(bob);
    await openChat(bob, 'Alice');
    await page.locator('li.msg.in .text', { hasText: away[2]! }).waitFor({ timeout: UI });
    assert.deepEqual(await page.locator('li.msg .text').allTextContents(), before);
  });

  it('shows a message with HTML and script as text and runs nothing', async () => {
    const hostile = [
      '<img src=x onerror="globalThis.__pwned=1">',
      '<script>globalThis.__pwned=2</script>',
      '<svg onload="globalThis.__pwned=3">',
    ];
    for (const text of hostile) await send(alice, text);
    const { page } = bob;
    for (const text of hostile)
      await page.locator('li.msg.in .text').filter({ hasText: text }).waitFor({ timeout: SLOW });
    const texts = await page.locator('li.msg.in .text').allTextContents();
    for (const text of hostile) assert.ok(texts.includes(text), `shown as text: ${text}`);
    assert.equal(await page.locator('.msgs img, .msgs script, .msgs svg').count(), 0);
    for (const p of [alice.page, bob.page]) {
      assert.equal(await p.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined);
    }
    await shot(page, '09-hostile-text');
  });

  it('refuses a wrong password without harm, then unlocks with the right one', async () => {
    const { page } = bob;
    const before = await page.locator('li.msg .text').allTextContents();
    await page.getByRole('button', { name: 'Lock', exact: true }).click();
    await unlock(bob, 'not-bobs-password');
    await page.getByText('Wrong password. Nothing was changed.').waitFor({ timeout: UI });
    assert.equal(await page.locator('.chat-row, li.msg').count(), 0, 'nothing is shown while locked');
    await shot(page, '10-wrong-password');
    await page.getByLabel('Password').fill(bob.password);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await openChat(bob, 'Alice');
    await page.locator('li.msg.in .text', { hasText: away[2]! }).waitFor({ timeout: UI });
    // Same messages. Compared as sets: the open conversation appends messages in arrival
    // order, while a reopened one lists them by the writer's clock, and messages sent in a
    // quick burst may arrive in different chain transactions in another order.
    assert.deepEqual((await page.locator('li.msg .text').allTextContents()).sort(), [...before].sort());
  });

  it('shows the secure delivery balance in messages left, funded by the local faucet', async () => {
    const { page } = alice;
    await page.getByRole('link', { name: 'Delivery' }).first().click();
    await page.getByRole('heading', { name: 'Secure delivery' }).waitFor({ timeout: UI });
    // 100 KAS from the faucet pays for hundreds of messages at the local network's fees.
    await page.getByText(/^[1-9]\d{2,} messages left$/).waitFor({ timeout: SLOW });
    await shot(page, '12-balance');
  });

  it('restores Alice on another device from her recovery key, refusing a mistyped one', async () => {
    const device = await app.newUser('Alice', 'alice-new-device', { create: false });
    const { page } = device;
    await page.getByRole('link', { name: 'Restore from a recovery key' }).click();
    const aliceWords = words.get(alice) ?? [];
    const swapped = [...aliceWords];
    [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
    await page.getByRole('textbox', { name: 'Recovery key' }).fill(swapped.join(' '));
    await page.getByLabel('Your name').fill('Alice');
    await page.getByLabel('New password').fill('alice-new-device');
    await page.getByLabel('Repeat password').fill('alice-new-device');
    await page.getByRole('button', { name: 'Restore identity' }).click();
    await page.getByText('A word is mistyped or out of order').waitFor({ timeout: UI });
    await shot(page, '11-restore-refused');
    await page.getByRole('textbox', { name: 'Recovery key' }).fill(aliceWords.join(' '));
    await page.getByLabel('New password').fill('alice-new-device');
    await page.getByLabel('Repeat password').fill('alice-new-device');
    await page.getByRole('button', { name: 'Restore identity' }).click();
    await page
      .locator('.flash', { hasText: 'Contacts and conversations do not come back with a recovery key' })
      .waitFor({ timeout: UI });
    await page.getByRole('link', { name: 'My card' }).first().click({ timeout: UI });
    await page.getByRole('heading', { name: 'My card' }).waitFor({ timeout: UI });
    await page.locator('svg.qr path').waitFor({ timeout: UI });
    assert.equal(await page.locator('p.fp').first().textContent(), fingerprints.get(alice));
    const restored = await page.getByRole('textbox', { name: 'Invite link' }).inputValue();
    const code = (link: string): string => link.slice(link.indexOf('#/add/') + '#/add/'.length);
    assert.ok(ContactCard.fromLink(code(restored)).sameIdentity(ContactCard.fromLink(code(alice.invite))));
    assert.deepEqual(device.problems, []);
    await device.context.close();
  });

  it('reported no page errors, dialogs or unexpected console errors', () => {
    assert.deepEqual(alice.problems, []);
    assert.deepEqual(bob.problems, []);
  });
});
