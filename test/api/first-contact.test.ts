/**
 * A first message through the chain to a profile that has never caught up with the chain:
 * made, card handed out and closed while its node was out of reach (as `p2pcomm init` and
 * `add` may do, each process closing before the node answers), so no chain position is
 * saved. The message waits as a coin on its card address; when the profile next runs with a
 * node it must be read as the message it is, not counted as funds (core/delivery/kaspa-chain.ts).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Messenger } from 'p2pcomm';
import { startDevnet, type DevnetHandle } from '../../src/devnet/index.ts';

/** A node address nothing listens on (port 9 is "discard", closed here). */
const NO_NODE = 'ws://127.0.0.1:9';

async function until(check: () => Promise<boolean>, what: string, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('a first message to a profile that never reached its node', { timeout: 600_000 }, () => {
  let devnet: DevnetHandle;
  let root: string;

  before(async () => {
    devnet = await startDevnet({ port: 0, blocksPerSecond: 10 });
    root = await mkdtemp(join(tmpdir(), 'p2pcomm-first-'));
  });
  after(async () => {
    await devnet?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('is caught up as a message once the profile reaches a node', async () => {
    const quiet = { onError: () => undefined };
    const bobDir = join(root, 'bob');
    const bob = await Messenger.open({ dataDir: bobDir, nodeUrl: NO_NODE, ...quiet });
    await bob.create('Bob', 'bob-password');
    const bobCard = await bob.card();
    await bob.close();

    const alice = await Messenger.open({
      dataDir: join(root, 'alice'),
      nodeUrl: devnet.url,
      faucetUrl: `${devnet.controlUrl ?? ''}/fund`,
      ...quiet,
    });
    await alice.create('Alice', 'alice-password');
    const aliceCard = await alice.card();
    await until(async () => (await alice.balance()).spendable > 0n, 'Alice funded');
    await alice.addContact(bobCard);
    const sent = await alice.send('Bob', 'the first word', { wait: 'sent' });
    assert.equal(sent.status, 'sent');
    assert.equal(sent.route, 'secure');
    await alice.close();

    // Bob adds Alice with the node still out of reach, then points the profile at the node.
    const again = await Messenger.open({ dataDir: bobDir, ...quiet });
    try {
      await again.unlock('bob-password');
      await again.addContact(aliceCard);
      await again.updateSettings({ nodeUrls: [devnet.url] });
      await again.sync({ signal: AbortSignal.timeout(120_000) });
      const got = (await again.messages('Alice')).find((m) => m.text === 'the first word');
      assert.ok(got !== undefined, 'the message is in the conversation');
      assert.equal(got.outgoing, false);
      assert.equal(got.route, 'secure');
    } finally {
      await again.close();
    }
  });
});
