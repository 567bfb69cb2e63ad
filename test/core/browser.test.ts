/**
 * The messaging core in a real browser (Chromium), talking to the same code in Node:
 * vault and recovery key with WebCrypto randomness, and a conversation whose frames
 * cross runtimes in chain batches.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startBrowserHarness, type BrowserHarness } from '../harness/browser.ts';
import { ContactCard } from '../../src/core/contact/card.ts';
import { packBatch, scanBatch } from '../../src/core/envelope/batch.ts';
import { createEnvelope } from '../../src/core/envelope/envelope.ts';
import { ReplayGuard } from '../../src/core/envelope/replay-guard.ts';
import { sealEnvelope } from '../../src/core/envelope/sealed.ts';
import { bytesToHex, hexToBytes, randomBytes } from '../../src/util/bytes.ts';
import { makeUser } from './helpers.ts';
import type * as Api from './browser-entry.ts';

type TestApi = typeof Api;
declare global {
  var coreTestApi: TestApi;
}

let harness: BrowserHarness;
let page: Page;

before(async () => {
  harness = await startBrowserHarness(join(import.meta.dirname, 'browser-entry.ts'), 'coreTestApi');
  page = await harness.newPage();
});
after(async () => {
  await harness.close();
});

describe('messaging core in Chromium', () => {
  it('vault unlock, wrong password and recovery key restore give typed results', async () => {
    const [created, unlocked, restored, wrong] = await page.evaluate(() => coreTestApi.vaultAndRecovery());
    assert.equal(unlocked, created);
    assert.equal(restored, created);
    assert.equal(wrong, 'WRONG_PASSWORD');
  });

  it('Node and Chromium hold a conversation through chain batches', async () => {
    const alice = makeUser('node-alice');
    const link = await page.evaluate((seed) => coreTestApi.init(seed), bytesToHex(randomBytes(32)));
    const bob = ContactCard.fromLink(link);
    alice.sessions.addContact(bob);
    const guard = new ReplayGuard();
    for (let round = 0; round < 3; round++) {
      const frame = sealEnvelope(
        alice.sessions,
        bob.peerId,
        createEnvelope({ type: 'chat', text: `ping ${round}` }),
      );
      const seen = await page.evaluate(
        (hex) => coreTestApi.scan(hex),
        bytesToHex(packBatch([{ bytes: frame, firstContact: alice.sessions.awaitsReply(bob.peerId) }])),
      );
      assert.deepEqual(seen, [`ping ${round}`]);
      const payload = await page.evaluate(([peer, text]) => coreTestApi.reply(peer, text), [
        alice.card.toLink(),
        `pong ${round}`,
      ] as const);
      const r = scanBatch(hexToBytes(payload), alice.sessions, guard);
      assert.deepEqual(
        r.received.map((x) =>
          x.kind === 'envelope' && x.envelope.body.type === 'chat' ? x.envelope.body.text : x.kind,
        ),
        [`pong ${round}`],
      );
    }
  });
});
