import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevnet, type DevnetHandle, type DevnetOptions } from '../../../src/devnet/index.ts';
import type { OutgoingMessage } from '../../../src/core/delivery/messages.ts';
import { ChainUser, prefund } from './kaspa.ts';
import { until } from './harness.ts';
import { openDb } from './fakes.ts';
import { DeliveryStore } from '../../../src/core/delivery/store.ts';
import { KaspaRpcClient } from '../../../src/kaspa/rpc/client.ts';
import { COINS_STORE } from '../../../src/core/delivery/kaspa-chain.ts';
import { decodeOwnTx } from '../../../src/core/delivery/own-txs.ts';
import { encodeKey } from '../../../src/storage/keys.ts';
import { DELIVERY_STORES } from '../../../src/core/delivery/store.ts';
import { REQUESTS_STORE } from '../../../src/core/requests/requests.ts';
import { openSqliteStore } from '../../../src/storage/sqlite.ts';
import { openStorage } from '../../../src/storage/open.ts';
import type { StorageSchema } from '../../../src/storage/types.ts';

type UserOptions = ConstructorParameters<typeof ChainUser>[2];

/**
 * Alice and Bob, who know each other, on a fresh local network that prefunds both; `stop`
 * stops both clients (whatever state they are in) and the network.
 */
async function pair(
  options: { alice?: UserOptions; bob?: UserOptions; devnet?: Omit<DevnetOptions, 'prefund'> } = {},
): Promise<{ alice: ChainUser; bob: ChainUser; devnet: DevnetHandle; stop: () => Promise<void> }> {
  const box: { devnet?: DevnetHandle } = {};
  const alice = new ChainUser('alice', () => box.devnet!.url, options.alice);
  const bob = new ChainUser('bob', () => box.devnet!.url, options.bob);
  alice.knows(bob);
  bob.knows(alice);
  const devnet = (box.devnet = await startDevnet({
    port: 0,
    controlPort: false,
    ...options.devnet,
    prefund: prefund(alice, bob),
  }));
  const stop = async (): Promise<void> => {
    await alice.stop().catch(() => undefined);
    await bob.stop().catch(() => undefined);
    await devnet.stop();
  };
  return { alice, bob, devnet, stop };
}

/**
 * Alice publishes `texts` to Bob, who is away, one accepted transaction each (two blocks per
 * publication), and goes away too; a reorganisation then removes every one of them for good.
 * After Alice's start each must be on the chain again, and Bob, once started, gets them all.
 */
async function awayDuringDrop(texts: readonly string[]): Promise<void> {
  const { alice, bob, devnet, stop } = await pair({ devnet: { blocksPerSecond: 0 } });
  let miner: ReturnType<typeof setInterval> | undefined;
  const onChain = async (id: string): Promise<boolean> => {
    const proof = (await alice.engine.message(id))?.proof;
    return proof !== undefined && devnet.chain.isAccepted(proof.txId);
  };
  try {
    await alice.start();
    const sent: string[] = [];
    for (const text of texts) {
      const m = await alice.engine.send(bob.id, text);
      sent.push(m.id);
      await until(
        `${text} published`,
        async () => (await alice.engine.message(m.id))?.status === 'published',
        30_000,
      );
      await until(`${text} in the mempool`, () => devnet.chain.mempool.size > 0, 30_000);
      devnet.mine(2); // the block with it, and the chain block that accepts it
      assert.ok(await onChain(m.id), `${text} accepted before the reorganisation`);
      await until(
        `alice saw ${text} accepted`,
        async () => (await alice.engine.message(m.id))?.proof?.acceptingBlockHash !== undefined,
        30_000,
      );
    }
    const txs = await Promise.all(sent.map(async (id) => (await alice.engine.message(id))!.proof!.txId));
    assert.equal(new Set(txs).size, texts.length, 'one publication each');
    await alice.stop();
    devnet.faults.reorg(2 * texts.length, { dropTransactions: true });
    for (const tx of txs)
      assert.ok(!devnet.chain.isAccepted(tx), 'the reorganisation took every publication off the chain');
    miner = setInterval(() => devnet.mine(1), 50);
    await alice.start();
    await until(
      'every publication on the chain again',
      async () => (await Promise.all(sent.map(onChain))).every(Boolean),
      60_000,
    );
    await bob.start();
    await bob.waitInbox(alice, texts.length, 60_000);
    await alice.allOut(bob, ['delivered'], texts.length, 60_000);
  } finally {
    if (miner) clearInterval(miner);
    await stop();
  }
}

/**
 * Bob reads m1 and answers m2 in one transaction T that spends the coin of Alice's m1 (A).
 * A reorganisation drops A and T while Alice is away: T cannot come back without A, so Bob's
 * adapter gives it up (ChainHandler.dropped) and m2 goes again. The read receipt T carried
 * must go again with it, or Alice's m1 stays "delivered" for good. With `restart`, Bob runs
 * over a sealed SQLite file and restarts between T's acceptance and the reorganisation.
 */
async function readReceiptDropped({ restart }: { restart: boolean }): Promise<void> {
  const box: { devnet?: DevnetHandle } = {};
  const alice = new ChainUser('alice', () => box.devnet!.url);
  const dir = mkdtempSync(join(tmpdir(), 'p2pcomm-receipts-'));
  const schema: StorageSchema = { version: 1, stores: [...DELIVERY_STORES, REQUESTS_STORE] };
  // Bob's batch window holds his delivery receipt for m1 until m2 and the read receipt join it.
  const bob = new ChainUser('bob', () => box.devnet!.url, {
    settings: { batchWindowMs: 3_000 },
    ...(restart
      ? {
          openDb: async () =>
            openStorage(await openSqliteStore(join(dir, 'bob.sqlite'), schema), schema, {
              storageKey: new Uint8Array(32).fill(2),
            }),
        }
      : {}),
  });
  alice.knows(bob);
  bob.knows(alice);
  const devnet = (box.devnet = await startDevnet({
    port: 0,
    controlPort: false,
    blocksPerSecond: 0,
    prefund: prefund(alice, bob),
  }));
  let miner: ReturnType<typeof setInterval> | undefined = setInterval(() => devnet.mine(1), 50);
  try {
    await alice.start();
    await bob.start();
    const m1 = await alice.engine.send(bob.id, 'm1');
    const accepted = await until(
      'm1 accepted',
      async () => (await alice.engine.message(m1.id))?.proof?.acceptingDaaScore,
      60_000,
    );
    await bob.waitInbox(alice, 1);
    await alice.stop();
    await bob.engine.markRead(alice.id);
    const m2 = await bob.engine.send(alice.id, 'm2');
    const p2 = await until(
      'm2 accepted',
      async () => {
        // Accepted, and Bob knows by which chain block.
        const proof = (await bob.engine.message(m2.id))?.proof;
        return proof?.acceptingBlockHash !== undefined && devnet.chain.isAccepted(proof.txId) && proof.txId;
      },
      60_000,
    );
    if (restart) {
      await bob.stop();
      await bob.start();
    }
    clearInterval(miner);
    miner = undefined;
    // Every chain block from the one below m1's acceptance up: A and T leave with them.
    const below = devnet.chain.chainIndex(devnet.chain.chainBlockAtDaaScore(accepted));
    devnet.faults.reorg(devnet.chain.chain.length - below + 1, { dropTransactions: true });
    assert.ok(!devnet.chain.isAccepted(p2), 'T left the chain');
    miner = setInterval(() => devnet.mine(1), 50);
    await until(
      'bob published m2 again, or T is back on the chain',
      async () => {
        // Published again, or the same signed T accepted again: its resubmission may get it
        // back on the chain before the engine gives it up, and then the proof stands.
        const m = await bob.engine.message(m2.id);
        return (
          m !== undefined &&
          (m.publications >= 2 || (m.proof !== undefined && devnet.chain.isAccepted(m.proof.txId)))
        );
      },
      60_000,
    );
    await alice.start();
    await alice.waitInbox(bob, 1, 60_000);
    await alice.allOut(bob, ['read'], 1, 60_000);
    assert.deepEqual(
      (await alice.inbox(bob)).map((m) => m.id),
      [m2.id],
    );
  } finally {
    if (miner) clearInterval(miner);
    await alice.stop().catch(() => undefined);
    await bob.stop().catch(() => undefined);
    await devnet.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('chain delivery under faults (local Kaspa network, real WebRTC)', () => {
  it('signaling over Kaspa brings up P2P; a dropped peer hands over to the chain', async () => {
    const { alice, bob, stop } = await pair({
      alice: { links: true },
      bob: { links: true },
      devnet: { blocksPerSecond: 20 },
    });
    try {
      await alice.start();
      await bob.start();
      await alice.engine.send(bob.id, 'first, with the offer');
      await bob.waitInbox(alice, 1);
      await until('alice connected', () => alice.engine.connection(bob.id) === 'connected', 60_000);
      for (let i = 0; i < 10; i++) await alice.engine.send(bob.id, `direct ${i}`);
      const out = (await alice.allOut(bob, ['delivered'], 11)) as OutgoingMessage[];
      assert.equal(out[0]!.route, 'chain');
      assert.ok(
        out.slice(1).every((m) => m.route === 'direct'),
        'after signaling, messages go direct',
      );
      await bob.stop();
      await until('alice sees bob gone', () => alice.engine.connection(bob.id) !== 'connected', 30_000);
      await alice.engine.send(bob.id, 'bob is gone: by chain');
      await bob.start();
      await bob.waitInbox(alice, 12);
      const last = (await alice.allOut(bob, ['delivered'], 12)).at(-1) as OutgoingMessage;
      assert.equal(last.route, 'chain');
      assert.equal(new Set((await bob.inbox(alice)).map((m) => m.id)).size, 12);
    } finally {
      await stop();
    }
  });

  it('node restarts: queued messages wait, then go through the restarted node', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'p2pcomm-devnet-'));
    let devnet: DevnetHandle | undefined;
    const alice = new ChainUser('alice', () => devnet!.url);
    const bob = new ChainUser('bob', () => devnet!.url);
    alice.knows(bob);
    bob.knows(alice);
    devnet = await startDevnet({
      port: 0,
      controlPort: false,
      blocksPerSecond: 20,
      dataDir: dir,
      prefund: prefund(alice, bob),
    });
    const port = Number(new URL(devnet.url).port);
    try {
      await alice.start();
      await bob.start();
      await alice.engine.send(bob.id, 'before the restart');
      await alice.allOut(bob, ['delivered'], 1);
      await devnet.stop();
      await alice.engine.send(bob.id, 'while the node is down');
      devnet = await startDevnet({ port, controlPort: false, blocksPerSecond: 20, dataDir: dir });
      await bob.waitInbox(alice, 2, 120_000);
      await alice.allOut(bob, ['delivered'], 2, 120_000);
    } finally {
      await alice.stop().catch(() => undefined);
      await bob.stop().catch(() => undefined);
      await devnet.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a coin accepted before the saved cursor is still found and delivered, never taken as pruned', async () => {
    // How a hole formed at scale: a coin whose fetch failed waited for its retry while later
    // coins moved the saved cursor past its acceptance; after a restart, the scan from that
    // cursor could not reach it, and six misses turned it into funds with its messages unread.
    const { alice, bob, devnet, stop } = await pair({ devnet: { blocksPerSecond: 20 } });
    try {
      await bob.start();
      await bob.stop();
      await alice.start();
      const sent = await alice.engine.send(bob.id, 'accepted before the cursor');
      await until(
        'the message accepted',
        async () => (await alice.engine.message(sent.id))?.proof?.acceptingDaaScore !== undefined,
        60_000,
      );
      const probe = new KaspaRpcClient({ urls: devnet.url });
      await probe.connect();
      devnet.mine(5);
      const sink = await probe.getSink();
      probe.close();
      const db = await openDb(bob.data);
      const store = new DeliveryStore(db);
      await store.write([store.cursorOp(sink)]);
      await bob.start();
      await bob.waitInbox(alice, 1, 120_000);
      await alice.allOut(bob, ['delivered'], 1, 120_000);
      assert.ok(!bob.events.some((e) => e.type === 'pruned'), 'the coin was taken as pruned');
    } finally {
      await stop();
    }
  });

  it('a reorganisation that drops a publication and a receipt: both go again, nothing lost', async () => {
    // Bob's receipt for m1 and his message m3 are accepted, then a reorganisation removes their
    // block and the node forgets both transactions (not returned to the mempool). Alice was away
    // and saw neither. Bob's adapter still holds both signed transactions and resubmits them.
    // Bob's receipt waits 3 s, long enough for Alice to leave first.
    const { alice, bob, devnet, stop } = await pair({
      bob: { receiptDelayMs: () => 3_000 },
      devnet: { blocksPerSecond: 0 },
    });
    let miner: ReturnType<typeof setInterval> | undefined = setInterval(() => devnet.mine(1), 50);
    try {
      await alice.start();
      await bob.start();
      const m1 = await alice.engine.send(bob.id, 'm1');
      await alice.allOut(bob, ['published']);
      await bob.waitInbox(alice, 1);
      clearInterval(miner);
      miner = undefined;
      await alice.stop();
      // The receipt for m1 reaches the mempool only now; m3 joins it in the same block.
      await until('bob receipted m1', () => devnet.chain.mempool.size > 0, 30_000);
      const m3 = await bob.engine.send(alice.id, 'm3');
      await bob.allOut(alice, ['published']);
      devnet.mine(2); // the block with both, and the chain block that accepts them
      const p3 = (await bob.engine.message(m3.id))?.proof?.txId;
      assert.ok(p3 !== undefined && devnet.chain.isAccepted(p3), 'm3 accepted before the reorganisation');
      devnet.faults.reorg(2, { dropTransactions: true });
      miner = setInterval(() => devnet.mine(1), 50);
      await alice.start();
      await alice.waitInbox(bob, 1, 60_000);
      await alice.allOut(bob, ['delivered'], 1, 60_000);
      await bob.allOut(alice, ['delivered'], 1, 60_000);
      assert.ok(devnet.chain.isAccepted(p3), 'the same signed transaction was accepted again');
      assert.equal((await alice.engine.message(m1.id))?.status, 'delivered');
      assert.deepEqual(
        (await alice.inbox(bob)).map((m) => m.id),
        [m3.id],
      );
    } finally {
      if (miner) clearInterval(miner);
      await stop();
    }
  });

  it('a client away while a reorganisation drops its accepted publication re-checks it at start and publishes again', async () => {
    // Alice's m1 is accepted and Alice goes away; the node then forgets the transaction (its
    // blocks replaced, not returned to the mempool). Nobody else holds it: Bob is away too.
    // Alice saw no VirtualChainChanged, so only her start can notice that the publication she
    // recorded as accepted is off the chain; without that it waits for the 20-hour republication.
    await awayDuringDrop(['m1']);
  });

  it('the same with three chained publications (each spends the change of the one before): all three go again', async () => {
    // Only the first publication's funding coin shows unspent again in the start's snapshot;
    // the second and third spent change that the reorganisation removed with them, and the
    // change they left was spent by the next one, so nothing in the UTXO set names them.
    await awayDuringDrop(['m1', 'm2', 'm3']);
  });

  it('a read receipt whose publication a reorganisation drops for good still turns the tick to "read"', async () => {
    await readReceiptDropped({ restart: false });
  });

  it('the same with a restart between the publication and its drop: the receipts it carried are stored', async () => {
    // Bob's process ends after T is accepted and starts again over the same SQLite file
    // before the reorganisation: what T carried must come from the store, not from memory.
    await readReceiptDropped({ restart: true });
  });

  it('a receipt waiting for its time survives a kill: it is stored signed and goes at the next start', async () => {
    // Far longer than the test: the receipt can only go because the restart submits it.
    const { alice, bob, stop } = await pair({
      bob: { receiptDelayMs: () => 3_600_000 },
      devnet: { blocksPerSecond: 20 },
    });
    try {
      await alice.start();
      await bob.start();
      const m1 = await alice.engine.send(bob.id, 'receipted after a crash');
      await bob.waitInbox(alice, 1);
      const db = await openDb(bob.data);
      await until(
        'the receipt signed and waiting',
        // A waiting one precisely: a refill of Bob's pool is an own transaction under the
        // same prefix too (stored with the receipt it pays for, in one write).
        async () =>
          (await db.scan(COINS_STORE, { prefix: encodeKey('own') })).some(
            ([, value]) => decodeOwnTx(value).submitAt !== undefined,
          ),
        30_000,
      );
      bob.kill();
      assert.equal((await alice.engine.message(m1.id))?.status, 'published');
      await bob.start();
      await alice.allOut(bob, ['delivered'], 1, 60_000);
      assert.equal((await bob.inbox(alice)).length, 1);
    } finally {
      await stop();
    }
  });

  it('recipient offline longer than the pruning window: the pruned coin is reported, the republication delivers', async () => {
    // Bob's receipt waits 3 s, long enough for Alice to leave first.
    const { alice, bob, devnet, stop } = await pair({
      alice: {
        settings: { republishAfterMs: 1_500, maxPublications: 20 },
      },
      bob: { receiptDelayMs: () => 3_000 },
      devnet: { blocksPerSecond: 0, pruningDepth: 100 },
    });
    const miner = setInterval(() => devnet.mine(5), 50);
    try {
      await alice.start();
      await bob.start();
      await bob.stop();
      await alice.engine.send(bob.id, 'are you there?');
      await alice.allOut(bob, ['published']);
      await until('republished', async () => {
        const m = (await alice.outbox(bob))[0] as OutgoingMessage;
        return m.publications >= 2;
      });
      devnet.mine(300); // the first publication's block body is now below the pruning point
      await bob.start();
      await bob.waitInbox(alice, 1);
      await alice.allOut(bob, ['delivered'], 1);
      assert.ok(
        bob.events.some((e) => e.type === 'pruned'),
        'the pruned notification was reported',
      );
      assert.equal((await bob.inbox(alice)).length, 1);
    } finally {
      clearInterval(miner);
      await stop();
    }
  });
});
