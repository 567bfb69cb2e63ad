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
import { transactionId } from '../../../src/kaspa/txid.ts';
import { bytesToHex } from '../../../src/util/bytes.ts';
import { KaspaRpcClient } from '../../../src/kaspa/rpc/client.ts';
import { until } from '../../core/delivery/harness.ts';
import {
  SLOW,
  UI,
  addByLink,
  firstContactAddressOf,
  batchesPublished,
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
  let published: ReturnType<typeof batchesPublished> | undefined;

  /**
   * Notification coins of a chain message waiting at Alice's card address (unspent: not
   * returned). Chain format 2 gives each coin a random value, so a coin is told from Alice's
   * funding by the transaction that made it.
   */
  const coinsAtAlice = async (): Promise<number> => {
    const messages = new Set(published!.entries.map((e) => bytesToHex(transactionId(e.tx))));
    return (await client.getUtxosByAddresses([firstContactAddressOf(alice)])).filter((u) =>
      messages.has(bytesToHex(u.outpoint.transactionId)),
    ).length;
  };

  before(async () => {
    app = await startRealApp();
    client = new KaspaRpcClient({ urls: app.devnet.url });
    await client.connect();
    published = batchesPublished(app);
  });

  after(async () => {
    published?.stop();
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
    const beforeAccept = published!.entries.length;
    await alice.page.getByRole('button', { name: 'Accept' }).click();
    await alice.page.locator('.conv-name', { hasText: 'Eve' }).waitFor({ timeout: UI });
    await alice.page.locator('li.msg.in', { hasText: text }).waitFor({ timeout: UI });
    await alice.page.locator('a.chat-row', { hasText: 'Eve' }).waitFor({ timeout: UI });
    assert.equal(await alice.page.locator('a.requests-entry').isVisible(), false);
    await eve.page
      .locator('li.msg.out', { hasText: text })
      .locator('.ticks[aria-label="Delivered"], .ticks[aria-label="Read"]')
      .waitFor({ timeout: SLOW });
    // Chain format 2 repays what Eve's coin brought with the receipt, to a fresh address of
    // hers (docs/protocol.md "Chain transactions and addresses"): a chain message went back.
    assert.ok(published!.entries.length > beforeAccept, 'the receipt went back on chain');
    await shot(eve.page, 'requests-02-eve-delivered');
    for (const u of [alice, eve]) assert.deepEqual(u.problems, [], `${u.name}'s pages stayed clean`);
  });
});
