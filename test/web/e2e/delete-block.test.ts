/**
 * Delete a conversation and block from the chat (issue 15 "What people expect"), in real
 * Chromium with the real engine on the local network, two browser profiles per case.
 *
 * Delete: the history goes from this device and stays gone after a reload, the contact stays
 * a contact (pasting their invite says so and opens an empty chat), and their next message
 * starts a fresh conversation; with "Also remove", the contact goes too.
 *
 * Block: from the chat header; the direct link closes and is not set up again, what the
 * blocked contact sends by secure delivery (the only path left to them) is neither shown nor
 * receipted, even after they reload and try to link again; unblock restores delivery of new
 * messages, and what came meanwhile stays dropped.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  SLOW,
  UI,
  batchesPublished,
  connect,
  openChat,
  received,
  send,
  shot,
  startRealApp,
  unlock,
  type RealApp,
  type User,
} from './real-app.ts';

/** The tick glyphs of the outgoing message holding `text` ("sent", "delivered", "read"...). */
function ticksOf(page: Page, text: string) {
  return page.locator('li.msg.out', { hasText: text }).locator('.ticks');
}

/** Waits until the outgoing message holding `text` carries the recipient's receipt. */
async function receipted(page: Page, text: string): Promise<void> {
  await page
    .locator('li.msg.out', { hasText: text })
    .locator('.ticks.delivered, .ticks.read')
    .waitFor({ timeout: SLOW });
}

/** Reloads `u`'s page and unlocks it; ends on the chat list. */
async function reloadAndUnlock(u: User): Promise<void> {
  await u.page.reload();
  await unlock(u);
  await u.page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: UI });
}

describe('delete a conversation and block from the chat, end to end in Chromium', () => {
  let app: RealApp;
  before(async () => {
    app = await startRealApp();
  });
  after(async () => {
    await app?.close();
  });

  it('delete: the history goes on this device and after a reload, the contact stays, and a new message starts afresh', async () => {
    const alice = await app.newUser('Alice', 'alice password 1');
    const bob = await app.newUser('Bob', 'bob password 1');
    await connect(alice, bob);
    await send(alice, 'old words from Alice');
    await received(bob, 'old words from Alice');
    await receipted(alice.page, 'old words from Alice');
    await send(bob, 'old words from Bob');
    await received(alice, 'old words from Bob');

    const tools = alice.page.getByRole('group', { name: 'Conversation' });
    await tools.getByRole('button', { name: 'delete' }).click();
    const confirm = alice.page.getByRole('form', { name: 'Delete conversation' });
    await confirm.getByText('Delete the conversation with Bob?').waitFor({ timeout: UI });
    await shot(alice.page, 'delete-conversation-confirm');
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await alice.page.waitForFunction(() => location.hash === '#/chats', undefined, { timeout: UI });
    await alice.page.getByText('No conversations yet.').waitFor({ timeout: UI });

    // Gone from storage, not only from the screen: a reload shows no conversation either.
    await reloadAndUnlock(alice);
    await alice.page.getByText('No conversations yet.').waitFor({ timeout: UI });
    assert.equal(await alice.page.locator('a.chat-row', { hasText: 'Bob' }).count(), 0);

    // Bob stays a contact: his invite says so and opens his chat, empty.
    await alice.page.getByRole('link', { name: 'Add contact' }).first().click();
    await alice.page.getByRole('textbox', { name: 'Invite link' }).fill(bob.invite);
    await alice.page.getByRole('button', { name: 'Continue' }).click();
    await alice.page.getByText('Bob is already a contact.').first().waitFor({ timeout: UI });
    await alice.page.locator('.conv-name', { hasText: 'Bob' }).waitFor({ timeout: UI });
    await alice.page.getByText('No messages yet.').waitFor({ timeout: UI });
    assert.equal(await alice.page.locator('li.msg').count(), 0, 'no old message in the chat');

    // Bob's next message starts a fresh conversation on Alice's side; his side keeps his copy.
    await openChat(bob, 'Alice');
    await send(bob, 'fresh start from Bob');
    await alice.page.getByRole('link', { name: 'Chats' }).first().click();
    await openChat(alice, 'Bob');
    await received(alice, 'fresh start from Bob');
    assert.equal(await alice.page.locator('li.msg').count(), 1, 'only the new message');
    await receipted(bob.page, 'fresh start from Bob');
    assert.equal(await bob.page.locator('li.msg', { hasText: 'old words from Alice' }).count(), 1);
    await shot(alice.page, 'delete-conversation-fresh');

    // With "Also remove", the contact goes too, and stays gone after a reload.
    await alice.page
      .getByRole('group', { name: 'Conversation' })
      .getByRole('button', { name: 'delete' })
      .click();
    await confirm.getByLabel('Also remove Bob from my contacts').check();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await alice.page.getByText('No conversations yet.').waitFor({ timeout: UI });
    await reloadAndUnlock(alice);
    await alice.page.getByText('No conversations yet.').waitFor({ timeout: UI });
    await alice.page.getByRole('link', { name: 'Add contact' }).first().click();
    await alice.page.getByRole('textbox', { name: 'Invite link' }).fill(bob.invite);
    await alice.page.getByRole('button', { name: 'Continue' }).click();
    await alice.page.getByRole('heading', { name: 'Add Bob?' }).waitFor({ timeout: UI });
    // Added again, they talk again.
    await alice.page.getByRole('button', { name: 'Add contact' }).click();
    await alice.page.locator('.conv-name', { hasText: 'Bob' }).waitFor({ timeout: UI });
    await send(alice, 'hello again, Bob');
    await bob.page.getByRole('link', { name: 'Chats' }).first().click();
    await openChat(bob, 'Alice');
    await received(bob, 'hello again, Bob');
    await send(bob, 'hello again, Alice');
    await received(alice, 'hello again, Alice');
    assert.equal(await alice.page.locator('li.msg').count(), 2, 'a new conversation of two messages');
    for (const u of [alice, bob]) assert.deepEqual(u.problems, [], `${u.name}'s pages reported no error`);
  });

  it('block from the chat: no link, nothing shown or receipted by either path; unblock restores new messages', async () => {
    const carol = await app.newUser('Carol', 'carol password 1');
    const dave = await app.newUser('Dave', 'dave password 1');
    await connect(carol, dave);
    await send(dave, 'before the block');
    await received(carol, 'before the block');

    // From the chat header.
    const tools = carol.page.getByRole('group', { name: 'Conversation' });
    await tools.getByRole('button', { name: 'block' }).click();
    await carol.page.getByText('You blocked Dave').waitFor({ timeout: UI });
    assert.equal(await carol.page.getByLabel('Message', { exact: true }).isVisible(), false, 'no composer');
    await shot(carol.page, 'block-from-chat');
    // The link closes on both sides.
    await carol.page.locator('.conn:not(.connected)').waitFor({ timeout: SLOW });
    await dave.page.locator('.conn:not(.connected)').waitFor({ timeout: SLOW });

    // Dave writes: without a link it goes by secure delivery, and is published.
    const watch = batchesPublished(app);
    await send(dave, 'blocked words one');
    await dave.page
      .locator('li.msg.out', { hasText: 'blocked words one' })
      .locator('.ticks.sent')
      .waitFor({ timeout: SLOW });
    // Dave reloads: his app tries to link again by itself (issue 15 item 1), and writes again.
    await reloadAndUnlock(dave);
    await openChat(dave, 'Carol');
    await send(dave, 'blocked words two');
    await dave.page
      .locator('li.msg.out', { hasText: 'blocked words two' })
      .locator('.ticks.sent')
      .waitFor({ timeout: SLOW });
    assert.ok(watch.entries.length >= 2, 'both messages went on chain');
    assert.equal(await dave.page.locator('.conn.connected').count(), 0, 'no link after his reload');
    assert.equal(await carol.page.locator('.conn.connected').count(), 0, 'no link on her side');

    // Unblock from the same header: the composer is back, and new messages arrive again.
    await tools.getByRole('button', { name: 'unblock' }).click();
    await carol.page.getByLabel('Message', { exact: true }).waitFor({ timeout: UI });
    await send(dave, 'after the unblock');
    await received(carol, 'after the unblock');
    await receipted(dave.page, 'after the unblock');
    watch.stop();

    // What Dave sent while blocked was never shown, receipted or linked, and stays dropped.
    for (const text of ['blocked words one', 'blocked words two']) {
      assert.equal(await carol.page.locator('li.msg', { hasText: text }).count(), 0, `"${text}" not shown`);
      assert.deepEqual(
        await ticksOf(dave.page, text).evaluate((e) => [...e.classList]),
        ['ticks', 'sent'],
        `"${text}" has no receipt`,
      );
    }
    assert.equal(
      await carol.page.locator('a.requests-entry:visible').count(),
      0,
      'no message request either',
    );
    await shot(carol.page, 'block-unblocked');
    for (const u of [carol, dave]) assert.deepEqual(u.problems, [], `${u.name}'s pages reported no error`);
  });
});
