/**
 * Message requests end to end in real Chromium on a local network: Eve holds Alice's card
 * (her invite link) and writes first; Alice has never added Eve. Alice sees a message request,
 * and until she accepts, nothing goes back to Eve: no delivery receipt, no return of Eve's
 * notification coin (it stays unspent at Alice's address), no WebRTC answer. Accept makes Eve
 * a contact, the conversation appears, and the receipt reaches Eve. Every wait is on DOM or
 * chain state with a generous bound; nothing asserts a duration.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { notificationValue } from '../../../src/core/delivery/chain-tx.ts';
import { KaspaRpcClient } from '../../../src/kaspa/rpc/client.ts';
import { until } from '../../core/delivery/harness.ts';
import {
  SLOW,
  UI,
  addByLink,
  addressOf,
  send,
  shot,
  startRealApp,
  type RealApp,
  type User,
} from './real-app.ts';

describe('message requests end to end in Chromium on a local network', () => {
  let app: RealApp;
  let alice: User;
  let eve: User;
  let client: KaspaRpcClient;
  const text = 'Hello Alice, Eve here. We met at the conference.';
  const coin = notificationValue();

  /** Notification coins of Eve's value waiting at Alice's address (unspent: not returned). */
  const coinsAtAlice = async (): Promise<number> =>
    (await client.getUtxosByAddresses([addressOf(alice)])).filter((u) => u.entry.amount === coin).length;

  before(async () => {
    app = await startRealApp();
    client = new KaspaRpcClient({ urls: app.devnet.url });
    await client.connect();
  });

  after(async () => {
    client?.close();
    await app?.close();
  });

  it("a stranger who holds Alice's card writes: Alice sees a request, and nothing goes back", async () => {
    alice = await app.newUser('Alice', 'alice-vault-password');
    eve = await app.newUser('Eve', 'eve-vault-password');
    // Only Eve adds: she holds Alice's invite; Alice has never heard of her.
    await addByLink(eve, alice);
    await send(eve, text);
    const entry = alice.page.locator('a.requests-entry');
    await entry.locator('.unread', { hasText: '1' }).waitFor({ timeout: SLOW });
    assert.equal(await alice.page.locator('a.chat-row', { hasText: 'Eve' }).count(), 0, 'not a conversation');
    await entry.click();
    await alice.page.locator('a.request-row', { hasText: 'Eve' }).click({ timeout: UI });
    await alice.page.locator('li.msg.in', { hasText: text }).waitFor({ timeout: UI });
    assert.match((await alice.page.locator('.conv-name').textContent()) ?? '', /Eve \(unverified\)/);
    await shot(alice.page, 'requests-01-alice-request');

    // Let Alice's engine run well past its batch window (1.5 s): 200 blocks, about 20 s.
    const start = (await client.getBlockDagInfo()).virtualDaaScore;
    await until(
      'the chain moves on',
      async () => (await client.getBlockDagInfo()).virtualDaaScore > start + 200n,
      SLOW,
    );
    const mine = eve.page.locator('li.msg.out', { hasText: text });
    assert.equal(
      await mine.locator('.ticks[aria-label="Delivered"], .ticks[aria-label="Read"]').count(),
      0,
      'no receipt before Accept',
    );
    assert.equal(await coinsAtAlice(), 1, "Eve's coin stays at Alice's address: not returned");
    assert.equal(
      await eve.page.locator('.conn.connected').count(),
      0,
      'no WebRTC answer: no direct link to Alice',
    );
  });

  it('Accept makes Eve a contact: the conversation appears and the receipt reaches her', async () => {
    await alice.page.getByRole('button', { name: 'Accept' }).click();
    await alice.page.locator('.conv-name', { hasText: 'Eve' }).waitFor({ timeout: UI });
    await alice.page.locator('li.msg.in', { hasText: text }).waitFor({ timeout: UI });
    await alice.page.locator('a.chat-row', { hasText: 'Eve' }).waitFor({ timeout: UI });
    assert.equal(await alice.page.locator('a.requests-entry').isVisible(), false);
    await eve.page
      .locator('li.msg.out', { hasText: text })
      .locator('.ticks[aria-label="Delivered"], .ticks[aria-label="Read"]')
      .waitFor({ timeout: SLOW });
    await until('the coin went back with the receipt', async () => (await coinsAtAlice()) === 0, SLOW);
    await shot(eve.page, 'requests-02-eve-delivered');
    for (const u of [alice, eve]) assert.deepEqual(u.problems, [], `${u.name}'s pages stayed clean`);
  });
});
