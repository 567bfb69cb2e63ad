/**
 * Message actions in real Chromium on the local network (issue 15), two browser profiles with
 * the real engine: a reply with its quote, a reaction, an edit, a deletion for everyone and a
 * forward each reach the other side, over the direct link and, while the contact is away,
 * by secure delivery (the chain path).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SLOW, UI, connect, openChat, received, send, shot, startRealApp, type RealApp } from './real-app.ts';

describe('message actions end to end in Chromium', () => {
  let app: RealApp;
  before(async () => {
    app = await startRealApp();
  });
  after(async () => {
    await app?.close();
  });

  it('reply, reaction, edit, delete for everyone and forward reach the other side, direct and by secure delivery', async () => {
    const alice = await app.newUser('Alice', 'alice password 1');
    const bob = await app.newUser('Bob', 'bob password 1');
    await connect(alice, bob);

    await send(alice, 'Lunch at noon?\nAt the usual place.');
    await received(bob, 'Lunch at noon?');
    // Bob replies with a quote of it.
    const original = bob.page.locator('li.msg.in', { hasText: 'Lunch at noon?' });
    await original.getByRole('button', { name: 'Reply' }).click();
    await bob.page.getByRole('group', { name: 'Replying' }).waitFor({ timeout: UI });
    await send(bob, 'Yes, see you there');
    await received(alice, 'Yes, see you there');
    const reply = alice.page.locator('li.msg.in', { hasText: 'Yes, see you there' });
    const quote = reply.locator('button.quote');
    await quote.waitFor({ timeout: UI });
    assert.match(await quote.innerText(), /You/);
    assert.match(await quote.innerText(), /Lunch at noon\?/);
    assert.doesNotMatch(await quote.innerText(), /usual place/, 'the first line only');
    await shot(alice.page, 'message-actions-reply');

    // Alice reacts to the reply; Bob sees it under his message.
    await reply.getByRole('button', { name: 'React' }).click();
    await alice.page.getByRole('button', { name: 'React \u{1F44D}' }).click();
    const bobsReply = bob.page.locator('li.msg.out', { hasText: 'Yes, see you there' });
    await bobsReply.locator('.reaction', { hasText: '\u{1F44D} 1' }).waitFor({ timeout: SLOW });

    // Alice edits her message: Bob's copy is replaced, marked "edited".
    const mine = alice.page.locator('li.msg.out', { hasText: 'Lunch at noon?' });
    await mine.getByRole('button', { name: 'Edit' }).click();
    await alice.page.getByLabel('Message', { exact: true }).fill('Lunch at one?');
    await alice.page.getByRole('button', { name: 'Save' }).click();
    const edited = bob.page.locator('li.msg.in', { hasText: 'Lunch at one?' });
    await edited.locator('.edited').waitFor({ timeout: SLOW });
    assert.equal(await bob.page.locator('li.msg.in .text', { hasText: 'Lunch at noon?' }).count(), 0);
    // Bob's quote follows the edit.
    await bobsReply.locator('button.quote', { hasText: 'Lunch at one?' }).waitFor({ timeout: UI });
    await shot(bob.page, 'message-actions-edited');

    // Bob goes away: what Alice does now travels by secure delivery.
    await bob.page.close();
    await alice.page.locator('.conn:not(.connected)').waitFor({ timeout: SLOW });
    await alice.page
      .locator('li.msg.out', { hasText: 'Lunch at one?' })
      .getByRole('button', { name: 'Delete' })
      .click();
    await alice.page.getByRole('button', { name: 'Delete for everyone' }).click();
    await alice.page.locator('li.msg.out .text.deleted').waitFor({ timeout: UI });
    await alice.page
      .locator('li.msg.in', { hasText: 'Yes, see you there' })
      .getByRole('button', { name: 'Forward' })
      .click();
    await alice.page.getByRole('checkbox', { name: 'Bob' }).check();
    await alice.page
      .getByRole('group', { name: 'Forward to' })
      .getByRole('button', { name: 'Forward' })
      .click();
    await alice.page.locator('li.msg.out .fwd').waitFor({ timeout: UI });

    bob.page = await app.openPage(bob);
    await bob.page.getByRole('heading', { name: /Welcome back/ }).waitFor({ timeout: UI });
    await bob.page.getByLabel('Password').fill(bob.password);
    await bob.page.getByRole('button', { name: 'Unlock' }).click();
    await openChat(bob, 'Alice');
    await bob.page
      .locator('li.msg.in .text.deleted', { hasText: 'This message was deleted' })
      .waitFor({ timeout: SLOW });
    assert.equal(await bob.page.locator('li.msg .text', { hasText: 'Lunch at one?' }).count(), 0);
    await bob.page
      .locator('li.msg.out button.quote', { hasText: 'This message was deleted' })
      .waitFor({ timeout: UI });
    const forwarded = bob.page.locator('li.msg.in', { hasText: 'Yes, see you there' });
    await forwarded.locator('.fwd', { hasText: 'Forwarded' }).waitFor({ timeout: SLOW });
    await shot(bob.page, 'message-actions-deleted');
    for (const u of [alice, bob]) assert.deepEqual(u.problems, [], `${u.name}'s pages reported no error`);
  });
});
