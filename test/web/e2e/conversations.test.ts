/**
 * The conversation screens over the real engine (docs/everyday.md "What people expect"):
 * search across conversations from the index the engine builds after unlock, the first unread
 * message of messages that came while another chat was open, and pin, mute, archive and rename
 * kept in the sealed profile across a reload. test/web/conversations.test.ts shows the same
 * screens over the fake engine; here the messages come from two other browsers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  SLOW,
  UI,
  addEachByLink,
  openChat,
  received,
  send,
  shot,
  startRealApp,
  unlock,
  type RealApp,
  type User,
} from './real-app.ts';

describe('conversations in Chromium with the real engine', () => {
  let app: RealApp;
  let alice: User;
  let bob: User;
  let carol: User;

  before(async () => {
    app = await startRealApp();
  });

  after(async () => {
    await app?.close();
  });

  // In the conversation list only: search hits are rows of the same kind, kept in their own list.
  const rowOf = (name: string) =>
    alice.page.locator('ul[aria-label="Conversations"] a.chat-row', { hasText: name });
  /** Opens Alice's conversation with `name` from the list. */
  const open = async (name: string): Promise<void> => {
    await rowOf(name).click({ timeout: SLOW });
    await alice.page.locator('.conv-name', { hasText: name }).waitFor({ timeout: UI });
  };

  it('Alice hears from Bob and Carol', async () => {
    alice = await app.newUser('Alice', 'alice password 1');
    bob = await app.newUser('Bob', 'bob password 1');
    carol = await app.newUser('Carol', 'carol password 1');
    await addEachByLink(alice, [bob, carol]);
    await send(bob, 'the harbour at dawn');
    await send(carol, 'a harbour of stars');
    await openChat(alice, 'Bob');
    await received(alice, 'the harbour at dawn');
    await openChat(alice, 'Carol');
    await received(alice, 'a harbour of stars');
  });

  it('searches both conversations, after a reload too, and opens a hit at its message', async () => {
    const { page } = alice;
    const search = async (): Promise<void> => {
      const box = page.getByRole('searchbox', { name: 'Search messages' });
      await box.fill('HARBOUR');
      await page.getByText('2 messages found').waitFor({ timeout: UI });
      const results = page.getByRole('list', { name: 'Search results' });
      await results.locator('a', { hasText: 'Bob' }).locator('mark', { hasText: 'harbour' }).waitFor();
      await results.locator('a', { hasText: 'Carol' }).click();
      await page.locator('li.msg.hit', { hasText: 'a harbour of stars' }).waitFor({ timeout: UI });
      await box.fill('');
      await rowOf('Bob').waitFor({ timeout: UI });
    };
    await page.getByRole('link', { name: 'Chats' }).first().click();
    await search();
    await shot(page, 'e2e-conversations-search-hit');
    // After unlock the engine's index is built again in the background from the stored history.
    await page.reload();
    await unlock(alice);
    await rowOf('Bob').waitFor({ timeout: UI });
    await search();
    assert.deepEqual(alice.problems, []);
  });

  it('opens at the first of the messages that came while another chat was open', async () => {
    await open('Carol');
    for (const text of ['first while away', 'second while away', 'third while away']) await send(bob, text);
    await rowOf('Bob').locator('.unread', { hasText: '3' }).waitFor({ timeout: SLOW });
    await open('Bob');
    const first = alice.page.locator('li.msg.first-unread');
    await first.waitFor({ timeout: UI });
    assert.equal(await first.locator('.text').textContent(), 'first while away');
    assert.equal(await alice.page.locator('li.msg.first-unread').count(), 1);
    await rowOf('Bob').locator('.unread').waitFor({ state: 'hidden', timeout: UI });
  });

  it('pins, mutes, renames and archives, and a reload keeps all four', async () => {
    const { page } = alice;
    await open('Carol');
    await page.getByRole('button', { name: 'pin', exact: true }).click();
    await rowOf('Carol').locator('.mark.pinned').waitFor({ timeout: UI });
    await open('Bob');
    await page.getByRole('button', { name: 'mute', exact: true }).click();
    await rowOf('Bob').locator('.mark.muted').waitFor({ timeout: UI });
    await page.getByRole('button', { name: 'rename' }).click();
    await page.getByLabel('Name for this contact').fill('Bobby');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.locator('.conv-name', { hasText: 'Bobby' }).waitFor({ timeout: UI });
    await page.getByRole('button', { name: 'archive', exact: true }).click();
    await page.getByRole('button', { name: 'Archived (1)' }).waitFor({ timeout: UI });
    await shot(page, 'e2e-conversations-flags');
    await page.reload();
    await unlock(alice);
    await rowOf('Carol').locator('.mark.pinned').waitFor({ timeout: UI });
    // Carol's chat open, so that Bob's next message stays unread.
    await open('Carol');
    await page.getByRole('button', { name: 'Archived (1)' }).click();
    const archived = page.getByRole('list', { name: 'Archived conversations' });
    await archived
      .locator('a.chat-row', { hasText: 'Bobby' })
      .locator('.mark.muted')
      .waitFor({ timeout: UI });
    // Muted: a new message counts on its row only, not in the tab's count.
    await send(bob, 'while muted');
    await archived
      .locator('a.chat-row', { hasText: 'Bobby' })
      .locator('.unread.muted')
      .waitFor({ timeout: SLOW });
    await page.waitForFunction(() => document.querySelector('.nav .unread')?.hasAttribute('hidden') === true);
    assert.deepEqual(alice.problems, []);
  });
});
