/**
 * Reconnection without a message (issue 15 item 1), in real Chromium on the local network:
 * Bob, linked to Alice and Carol, reloads and unlocks, then locks and unlocks without a
 * reload. Both links come back by themselves, nobody sends anything, and the next message
 * goes direct. On chain the reconnection never
 * ties Alice to Carol: each contact's signaling is a transaction of its own that pays one
 * recipient (docs/privacy.md), and no coin is spent by two of them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MempoolEntry } from '../../../src/devnet/mempool.ts';
import {
  SLOW,
  UI,
  addEachByLink,
  batchesPublished,
  openChat,
  received,
  send,
  shot,
  startRealApp,
  unlock,
  type RealApp,
  type User,
} from './real-app.ts';

/** How long a reconnection may take here at most before it counts as not happening. */
const RECONNECT = 60_000;

describe('links come back by themselves after a reload in Chromium', () => {
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

  it('Bob is linked to Alice and Carol', async () => {
    alice = await app.newUser('Alice', 'alice password 1');
    bob = await app.newUser('Bob', 'bob password 1');
    carol = await app.newUser('Carol', 'carol password 1');
    await addEachByLink(bob, [alice, carol]);
    await send(bob, 'hello Carol');
    await received(carol, 'hello Carol');
    await openChat(bob, 'Alice');
    await send(bob, 'hello Alice');
    await received(alice, 'hello Alice');
    for (const [u, name] of [
      [alice, 'Bob'],
      [carol, 'Bob'],
      [bob, 'Alice'],
    ] as const) {
      await openChat(u, name);
      await u.page.locator('.conn.connected').waitFor({ timeout: SLOW });
    }
  });

  it('after a reload and unlock both links are back without anyone sending, each signaled alone on chain', async () => {
    const { entries, stop } = batchesPublished(app);
    let during: MempoolEntry[];
    try {
      await bob.page.reload();
      await unlock(bob);
      await openChat(bob, 'Alice');
      await bob.page.locator('.conn.connected').waitFor({ timeout: RECONNECT });
      assert.equal(await bob.page.locator('.conn').textContent(), 'Connected');
      await shot(bob.page, 'reconnect-after-reload');
      await openChat(bob, 'Carol');
      await bob.page.locator('.conn.connected').waitFor({ timeout: RECONNECT });
      for (const u of [alice, carol]) {
        await u.page.locator('.conn.connected').waitFor({ timeout: RECONNECT });
        assert.equal(await u.page.locator('.conn').textContent(), 'Connected');
      }
      during = [...entries];
    } finally {
      stop();
    }
    // Nothing was sent, so whatever went on chain is signaling (and receipts owed from before).
    assert.ok(during.length > 0, 'the links were signaled on chain (no cached path between two browsers)');
    for (const e of during) {
      // One notification, at most the sender's decoy and change (docs/protocol.md "Chain
      // transactions"; a coin returned to the sender may pay it all): a transaction paying two
      // contacts carries a decoy for each beside their notifications, four outputs at least.
      assert.ok(
        e.tx.outputs.length <= 3,
        `each signaling transaction pays one recipient (${e.tx.outputs.length} outputs)`,
      );
    }
    const spent = during.flatMap((e) =>
      e.tx.inputs.map(
        (i) => `${Buffer.from(i.previousOutpoint.transactionId).toString('hex')}:${i.previousOutpoint.index}`,
      ),
    );
    assert.equal(new Set(spent).size, spent.length, 'no coin is spent by two transactions');
    for (const u of [alice, bob, carol])
      assert.deepEqual(u.problems, [], `${u.name}'s pages reported no error`);
  });

  it('the next message goes direct', async () => {
    await send(bob, 'straight after the reload');
    await received(carol, 'straight after the reload');
    const out = bob.page.locator('li.msg.out', { hasText: 'straight after the reload' });
    await out.locator('.ticks[aria-label="Delivered"], .ticks[aria-label="Read"]').waitFor({ timeout: UI });
    // A chain message carries "sent securely" or "verified delivery"; a direct one neither.
    assert.equal(await out.locator('.badge').count(), 0, 'it went over the direct link');
  });

  it('after Lock and Unlock, without a reload, the links come back the same way', async () => {
    await bob.page.getByRole('button', { name: 'Lock', exact: true }).click();
    // Locked, Bob's engine is stopped: his contacts see the link go.
    for (const u of [alice, carol]) await u.page.locator('.conn:not(.connected)').waitFor({ timeout: SLOW });
    await unlock(bob);
    for (const name of ['Alice', 'Carol']) {
      await openChat(bob, name);
      await bob.page.locator('.conn.connected').waitFor({ timeout: RECONNECT });
    }
    for (const u of [alice, carol]) await u.page.locator('.conn.connected').waitFor({ timeout: RECONNECT });
    await send(bob, 'straight after the unlock');
    await received(carol, 'straight after the unlock');
    const out = bob.page.locator('li.msg.out', { hasText: 'straight after the unlock' });
    await out.locator('.ticks[aria-label="Delivered"], .ticks[aria-label="Read"]').waitFor({ timeout: UI });
    assert.equal(await out.locator('.badge').count(), 0, 'it went over the direct link');
    for (const u of [alice, bob, carol])
      assert.deepEqual(u.problems, [], `${u.name}'s pages reported no error`);
  });
});
