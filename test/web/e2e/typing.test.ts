/**
 * Typing indicators in real Chromium on the local network (issue 15): over the direct link
 * only. Alice types, Bob sees "Alice is typing..." in the conversation; it goes when she sends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SLOW, UI, connect, received, send, shot, startRealApp, type RealApp } from './real-app.ts';

describe('typing indicators in Chromium', () => {
  let app: RealApp;
  before(async () => {
    app = await startRealApp();
  });
  after(async () => {
    await app?.close();
  });

  it('shows the contact typing over the direct link, and hides it when the message comes', async () => {
    const alice = await app.newUser('Alice', 'alice password 1');
    const bob = await app.newUser('Bob', 'bob password 1');
    await connect(alice, bob);
    const note = bob.page.locator('.typing-note');
    assert.equal(await note.isVisible(), false, 'nobody is typing yet');
    await alice.page.getByLabel('Message', { exact: true }).pressSequentially('Hello th', { delay: 20 });
    await note.waitFor({ state: 'visible', timeout: SLOW });
    assert.equal(await note.textContent(), 'Alice is typing\u2026');
    await shot(bob.page, 'typing');
    await alice.page.getByLabel('Message', { exact: true }).fill('Hello there');
    await alice.page.getByRole('button', { name: 'Send' }).click();
    await received(bob, 'Hello there');
    await note.waitFor({ state: 'hidden', timeout: UI });
    // Sending is unchanged by it.
    await send(bob, 'Hi Alice');
    await received(alice, 'Hi Alice');
    for (const u of [alice, bob]) assert.deepEqual(u.problems, [], `${u.name}'s pages reported no error`);
  });
});
