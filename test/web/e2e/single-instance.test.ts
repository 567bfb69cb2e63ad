/**
 * One live window per profile, in real Chromium: two pages of one browser context share the
 * profile (one IndexedDB, one Web Lock). The second page must not unlock while the first is
 * open; "Use here" moves the profile over cleanly; an invite link opened in another page is
 * shown by the live one; and across the handover the contact gets every message exactly
 * once, with no two frames on chain sharing a tag (a reused message key would).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isBatch } from '../../../src/core/envelope/batch.ts';
import { batchWords } from '../../core/helpers.ts';
import {
  UI,
  addByLink,
  paymentsTo,
  openChat,
  received,
  send,
  shot,
  startRealApp,
  unlock,
  type RealApp,
  type User,
} from './real-app.ts';

const ELSEWHERE = 'p2pComm is open in another window';

describe('one live window per profile in Chromium', () => {
  let app: RealApp;
  before(async () => {
    app = await startRealApp();
  });
  after(async () => {
    await app?.close();
  });

  it('a second window waits, takes over with Use here, and no message is lost, doubled or sealed twice', async () => {
    const alice = await app.newUser('Alice', 'alice password 1');
    const bob = await app.newUser('Bob', 'bob password 1');
    const carol = await app.newUser('Carol', 'carol password 1');
    // Every chain payload to Bob from here on.
    const { entries: toBob, stop } = paymentsTo(app, bob);
    try {
      await addByLink(bob, alice);
      await addByLink(alice, bob);
      await send(alice, 'before the second window');
      await openChat(bob, 'Alice');
      await received(bob, 'before the second window');

      // A second window of Alice's profile: it may not unlock while the first is open.
      const first = alice.page;
      const second = await app.openPage(alice);
      await second.getByRole('heading', { name: ELSEWHERE }).waitFor({ timeout: UI });
      await shot(second, 'single-instance-elsewhere');
      assert.equal(await second.getByLabel('Password').count(), 0, 'no unlock form in the second window');

      // An invite link opened while the app is open: shown by the open window, not a new one.
      const third = await alice.context.newPage();
      await third.goto(carol.invite.replace(/^[^#]*/, app.appUrl));
      await third.getByText('The invite was passed to your open p2pComm window.').waitFor({ timeout: UI });
      await first.getByRole('heading', { name: 'Add Carol?' }).waitFor({ timeout: UI });
      await third.close();
      await first.goBack();

      // Use here: the first window locks itself and says where the profile went.
      await second.getByRole('button', { name: 'Use here' }).click();
      await first.getByRole('heading', { name: ELSEWHERE }).waitFor({ timeout: UI });
      alice.page = second;
      await unlock(alice);
      await openChat(alice, 'Bob');
      for (const text of ['after the handover 1', 'after the handover 2']) await send(alice, text);
      for (const text of ['after the handover 1', 'after the handover 2']) await received(bob, text);

      // Exactly once each, in Bob's window.
      const texts = await bob.page.locator('li.msg.in .text').allTextContents();
      assert.deepEqual(
        texts.filter((t) => /before the second window|after the handover/.test(t)),
        ['before the second window', 'after the handover 1', 'after the handover 2'],
      );
      // The first window is locked and stays locked: it cannot send any more.
      assert.equal(await first.getByLabel('Message', { exact: true }).count(), 0);

      const tags = toBob
        .map((e) => e.tx.payload)
        .filter((p) => isBatch(p))
        // Frames start on aligned words of a batch body: a tag sent twice repeats a word.
        .flatMap((p) => batchWords(p));
      assert.equal(new Set(tags).size, tags.length, 'no two frames on chain share a tag');

      // Locked by the user: both windows are back at the lock screen. Unlocking in both at
      // once lets exactly one in; the other says where the profile is open.
      await second.getByRole('button', { name: 'Lock', exact: true }).click();
      for (const p of [first, second])
        await p.getByRole('heading', { name: /Welcome back/ }).waitFor({ timeout: UI });
      for (const p of [first, second]) await p.getByLabel('Password').fill(alice.password);
      // Submitted from inside both pages at once (a click waits for a stable form, and the
      // form of the slower page may already have given way to the "open in another window"
      // screen when the faster one announced itself).
      await Promise.all(
        [first, second].map((p) =>
          p.evaluate(() => document.querySelector<HTMLFormElement>('form.form')?.requestSubmit()),
        ),
      );
      const openIn = async (p: typeof first): Promise<'open' | 'elsewhere'> =>
        Promise.race([
          p
            .getByRole('button', { name: 'Lock', exact: true })
            .waitFor({ timeout: UI })
            .then(() => 'open' as const),
          p
            .getByRole('heading', { name: ELSEWHERE })
            .waitFor({ timeout: UI })
            .then(() => 'elsewhere' as const),
        ]);
      assert.deepEqual((await Promise.all([first, second].map(openIn))).sort(), ['elsewhere', 'open']);
      for (const u of [alice, bob, carol] as User[]) assert.deepEqual(u.problems, [], `${u.name}'s pages`);
    } finally {
      stop();
    }
  });
});
