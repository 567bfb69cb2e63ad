/**
 * The delivery engine against a real node: `npx tsx test/oracle/kaspad-delivery.ts <ws-url>
 * <private-key-hex>`, where the key's P2PK address holds mature coins (docs/devnet.md "Running
 * it against a real kaspad"). On simnet it mines as a miner would (getBlockTemplate, then
 * submitBlock unchanged: simnet skips proof of work), funds two fresh clients, and checks
 * with the same client code the app runs: chain delivery with receipts, catch-up of messages
 * written while the recipient was offline, and a WebRTC link signalled over the chain.
 * Prints one JSON line per check and exits non-zero on the first failure.
 */
import assert from 'node:assert/strict';
import { KaspaRpcClient } from '../../src/kaspa/rpc/client.ts';
import { SOMPI_PER_KAS } from '../../src/kaspa/types.ts';
import { hexToBytes } from '../../src/util/bytes.ts';
import type { OutgoingMessage } from '../../src/core/delivery/messages.ts';
import { ChainUser } from '../core/delivery/kaspa.ts';
import { until } from '../core/delivery/harness.ts';
import { startMiner } from './miner.ts';
import { report } from './report.ts';

const [url, keyHex] = process.argv.slice(2);
if (!url || !keyHex) throw new Error('usage: kaspad-delivery.ts <ws-url> <private-key-hex>');

const client = new KaspaRpcClient({ urls: url });
await client.connect();
const info = await client.getServerInfo();
report('connect', { serverVersion: info.serverVersion, networkId: info.networkId });
const miner = startMiner(client, hexToBytes(keyHex));

const users = {
  alice: new ChainUser('alice', () => url, { links: true, settings: { batchWindowMs: 50 } }),
  bob: new ChainUser('bob', () => url, { links: true, settings: { batchWindowMs: 50 } }),
};
const { alice, bob } = users;
alice.knows(bob);
bob.knows(alice);
try {
  const funded = await miner.fund(
    [alice, bob].map((u) => u.address.toString()),
    100n * SOMPI_PER_KAS,
  );
  report('fund', { transactionId: funded });

  await alice.start();
  await bob.start();
  for (const t of ['over the chain 1', 'over the chain 2']) await alice.engine.send(bob.id, t);
  await bob.waitInbox(alice, 2, 120_000);
  const delivered = (await alice.allOut(bob, ['delivered'], undefined, 120_000)) as OutgoingMessage[];
  assert.ok(delivered.every((m) => m.route === 'chain' || m.route === 'direct'));
  report('chain delivery with receipts', { proof: delivered[0]!.proof });

  await until('link up', () => alice.engine.connection(bob.id) === 'connected', 120_000);
  const direct = await alice.engine.send(bob.id, 'over the link');
  await until(
    'direct delivery',
    async () => (await alice.engine.message(direct.id))?.status === 'delivered',
    60_000,
  );
  assert.equal((await alice.engine.message(direct.id))!.route, 'direct');
  report('WebRTC link signalled over the chain');

  await bob.stop();
  for (const t of ['while away 1', 'while away 2']) await alice.engine.send(bob.id, t);
  await alice.allOut(bob, ['published', 'delivered'], undefined, 120_000);
  await bob.start();
  const inbox = await bob.waitInbox(alice, 5, 120_000);
  assert.deepEqual(
    inbox.slice(-2).map((m) => m.text),
    ['while away 1', 'while away 2'],
  );
  await alice.allOut(bob, ['delivered'], undefined, 120_000);
  report('catch-up after offline, in order, each once', { messages: inbox.length });
} finally {
  for (const u of [alice, bob]) await u.stop().catch(() => undefined);
  await miner.stop();
  client.close();
}
report('done');
process.exit(0);
