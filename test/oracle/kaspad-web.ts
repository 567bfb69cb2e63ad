/**
 * The web app in two browsers against a real node: `npx tsx test/oracle/kaspad-web.ts <ws-url>
 * <private-key-hex>`, where the key's P2PK address holds mature coins on a `kaspad --simnet`
 * (docs/devnet.md "Running it against a real kaspad"). The built app is served as in the
 * end-to-end tests (test/web/e2e/real-app.ts) but pointed at that node, its faucet paid by the
 * key (test/oracle/miner.ts), which also mines. Alice and Bob are two Chromium contexts: they
 * create identities, add each other by invite link, bring the direct link up with offers and
 * answers carried on the node's chain, chat over it, and while Bob's tab is closed Alice's
 * messages go by the chain and are there, in order and verified, when he unlocks again. The
 * sender's proof view then shows the accepting block, its DAA score and the recipient's
 * receipt (the defect issue 16 found on kaspad: a publication with no output back stayed
 * "not yet accepted"). Prints one JSON line per check and exits non-zero on the first failure.
 */
import assert from 'node:assert/strict';
import { KaspaRpcClient } from '../../src/kaspa/rpc/client.ts';
import { hexToBytes } from '../../src/util/bytes.ts';
import {
  SLOW,
  UI,
  connect,
  openChat,
  received,
  send,
  startRealApp,
  unlock,
  type User,
} from '../web/e2e/real-app.ts';
import { startMiner } from './miner.ts';
import { report } from './report.ts';

const [url, keyHex] = process.argv.slice(2);
if (!url || !keyHex) throw new Error('usage: kaspad-web.ts <ws-url> <private-key-hex>');

/** The rows of `u`'s proof view of the outgoing message holding `text`, as label → value. */
async function proofOf(u: User, text: string): Promise<Map<string, string>> {
  await u.page
    .locator('li.msg.out', { hasText: text })
    .getByRole('button', { name: 'View delivery proof' })
    .click();
  const dialog = u.page.getByRole('dialog', { name: 'Delivery proof' });
  await dialog.getByText('Transaction id').waitFor({ timeout: UI });
  const keys = await dialog.locator('dl.kv dt').allTextContents();
  const values = await dialog.locator('dl.kv dd').allTextContents();
  await dialog.getByRole('button', { name: 'Close' }).click();
  return new Map(keys.map((k, i) => [k, values[i] ?? '']));
}

const client = new KaspaRpcClient({ urls: url });
await client.connect();
const info = await client.getServerInfo();
report('connect', { serverVersion: info.serverVersion, networkId: info.networkId });
const miner = startMiner(client, hexToBytes(keyHex));
const app = await startRealApp({ node: { url, fund: (address, sompi) => miner.fund([address], sompi) } });
try {
  const alice = await app.newUser('Alice', 'alice-vault-password');
  const bob = await app.newUser('Bob', 'bob-vault-password');
  report('two identities, each funded by the faucet on the node');

  await connect(alice, bob);
  await send(alice, 'Hi Bob, over the direct link.');
  await received(bob, 'Hi Bob, over the direct link.');
  await send(bob, 'Hi Alice, got it.');
  await received(alice, 'Hi Alice, got it.');
  report('invites exchanged, direct link signalled over the chain, chat both ways');

  const away = ['First while you are away', 'Second while you are away'];
  await bob.page.close();
  await alice.page.locator('.conn.offline').waitFor({ timeout: SLOW });
  for (const text of away) await send(alice, text);
  const page = await app.openPage(bob);
  await unlock(bob);
  await openChat(bob, 'Alice');
  for (const text of away) {
    await page
      .locator('li.msg.in', { hasText: text })
      .locator('.badge', { hasText: 'verified delivery' })
      .waitFor({ timeout: SLOW });
  }
  const incoming = (await page.locator('li.msg.in .text').allTextContents()).filter((t) => away.includes(t));
  assert.deepEqual(incoming, away, 'in the order written, each once');
  for (const text of away) {
    await alice.page
      .locator('li.msg.out', { hasText: text })
      .locator('.badge', { hasText: 'verified delivery' })
      .waitFor({ timeout: SLOW });
  }
  report('secure delivery while the recipient was away, in order, receipted');

  // Acceptance comes with the node's next chain blocks: look again until it shows or SLOW ends.
  const deadline = Date.now() + SLOW;
  let proof = await proofOf(alice, away[0]!);
  while (/not yet/.test(proof.get('Accepting block') ?? 'not yet') && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2_000));
    proof = await proofOf(alice, away[0]!);
  }
  assert.match(proof.get('Transaction id') ?? '', /^[0-9a-f]{64}$/);
  assert.match(proof.get('Accepting block') ?? '', /^[0-9a-f]{64}$/, 'the proof names its accepting block');
  assert.match(proof.get('DAA score') ?? '', /^[0-9,]+$/, 'and its DAA score');
  assert.match(proof.get('Recipient receipt') ?? '', /^received/);
  report('proof view: accepting block, DAA score and receipt', Object.fromEntries(proof));

  for (const u of [alice, bob]) assert.deepEqual(u.problems, [], `${u.name}'s pages reported no errors`);
  report('no console errors, page errors or dialogs');
} finally {
  await app.close();
  await miner.stop();
  client.close();
}
report('done');
process.exit(0);
