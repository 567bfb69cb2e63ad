/**
 * Disappearing messages between two browser profiles (envelope type 15): Alice sets 5 minutes
 * while Bob's tab is closed, so the setting goes by secure delivery on the local network; Bob
 * returns and his conversation shows "Alice set disappearing messages to 5 minutes" and the
 * header timer; a message written after it disappears on both sides once the page clocks pass
 * its time. The page clocks are Playwright's (installed before the app loads, running at real
 * speed), moved forward rather than waited for. Every wait is on DOM state.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  SLOW,
  UI,
  connect,
  createIdentity,
  openChat,
  received,
  send,
  shot,
  startRealApp,
  unlock,
  type RealApp,
  type User,
} from './real-app.ts';

describe('disappearing messages between two browsers on a local network', () => {
  let app: RealApp;
  let alice: User;
  let bob: User;

  before(async () => {
    app = await startRealApp();
    alice = await app.newUser('Alice', 'alice-vault-password', { create: false });
    bob = await app.newUser('Bob', 'bob-vault-password', { create: false });
    for (const u of [alice, bob]) {
      await u.context.clock.install();
      await u.page.reload();
      await createIdentity(u);
    }
    await connect(alice, bob);
  });

  after(async () => {
    await app?.close();
  });

  it('Alice sets 5 minutes while Bob is away; Bob returns to the line and the header timer', async () => {
    await bob.page.close();
    await alice.page.locator('.conn.offline').waitFor({ timeout: SLOW });
    await alice.page.getByLabel('Disappearing messages').selectOption({ label: 'disappearing: 5 minutes' });
    await alice.page
      .locator('li.msg.system', { hasText: 'You set disappearing messages to 5 minutes' })
      .waitFor({ timeout: UI });
    await alice.page.locator('.conv-timer', { hasText: 'Disappearing messages: 5 minutes' }).waitFor();

    const page = await app.openPage(bob);
    await unlock(bob);
    await openChat(bob, 'Alice');
    await page
      .locator('li.msg.system', { hasText: 'Alice set disappearing messages to 5 minutes' })
      .waitFor({ timeout: SLOW });
    await page
      .locator('.conv-timer', { hasText: 'Disappearing messages: 5 minutes' })
      .waitFor({ timeout: UI });
    assert.equal(await page.getByLabel('Disappearing messages').inputValue(), '300');
    assert.equal(await page.locator('li.msg.system').count(), 1, 'one line, no bubble');
    await shot(page, 'disappearing-bob-returns');
  });

  it('a message written under the timer disappears on both sides when the page clocks pass it', async () => {
    await send(alice, 'this one goes');
    await received(bob, 'this one goes');
    await alice.page
      .locator('li.msg.out', { hasText: 'this one goes' })
      .locator('.ticks[aria-label="Delivered"], .ticks[aria-label="Read"]')
      .waitFor({ timeout: SLOW });
    for (const u of [alice, bob]) await u.page.clock.fastForward('06:00');
    for (const u of [alice, bob])
      await u.page.waitForFunction(
        () => ![...document.querySelectorAll('li.msg .text')].some((t) => t.textContent === 'this one goes'),
        undefined,
        { timeout: UI },
      );
    // The line that records the agreement stays on both sides.
    await alice.page
      .locator('li.msg.system', { hasText: 'You set disappearing messages to 5 minutes' })
      .waitFor();
    await bob.page
      .locator('li.msg.system', { hasText: 'Alice set disappearing messages to 5 minutes' })
      .waitFor();
    // Gone from storage too, not only from the screen: a reload does not bring it back.
    await bob.page.reload();
    await unlock(bob);
    await openChat(bob, 'Alice');
    await bob.page
      .locator('li.msg.system', { hasText: 'Alice set disappearing messages to 5 minutes' })
      .waitFor({ timeout: UI });
    await bob.page.locator('.conv-timer', { hasText: 'Disappearing messages: 5 minutes' }).waitFor();
    assert.equal(await bob.page.locator('li.msg .text', { hasText: 'this one goes' }).count(), 0);
    for (const u of [alice, bob]) assert.deepEqual(u.problems, [], `${u.name}: no page errors`);
  });
});
