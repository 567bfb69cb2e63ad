import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDevnet, type DevnetHandle } from '../../../src/devnet/index.ts';
import { COINS_STORE } from '../../../src/core/delivery/kaspa-chain.ts';
import { ManualClock } from '../../../src/core/delivery/clock.ts';
import type { OutgoingMessage } from '../../../src/core/delivery/messages.ts';
import type { KeyValueStore } from '../../../src/storage/types.ts';
import { bytesToUtf8 } from '../../../src/util/bytes.ts';
import { ChainUser, prefund } from './kaspa.ts';
import { MemoryDatabase, openDb } from './fakes.ts';
import { until } from './harness.ts';

/**
 * Holds the first store write with an entry that `matches` until `release`, and tells when a
 * coin record is deleted meanwhile: a notification that arrives while that write is pending is
 * then reproduced exactly, whatever the machine's speed.
 */
class HeldWrite {
  private opened!: () => void;
  private let!: () => void;
  private written!: () => void;
  private taken = false;
  private deletions = 0;
  private readonly deleteSeen: Array<() => void> = [];
  /** The write is held. */
  readonly held = new Promise<void>((r) => (this.opened = r));
  /** The held write went through to the store. */
  readonly done = new Promise<void>((r) => (this.written = r));
  private readonly go = new Promise<void>((r) => (this.let = r));

  constructor(private readonly matches: (store: string, value: Uint8Array) => boolean) {}

  release(): void {
    this.let();
  }

  /** Resolves once a coin record has been deleted (the removal notification was handled). */
  async coinDeleted(): Promise<void> {
    while (this.deletions === 0) await new Promise<void>((r) => this.deleteSeen.push(r));
  }

  wrap(db: KeyValueStore): KeyValueStore {
    const hold = async <T>(
      entries: readonly { store: string; value?: Uint8Array }[],
      write: () => Promise<T>,
    ): Promise<T> => {
      if (this.taken || !entries.some((e) => e.value !== undefined && this.matches(e.store, e.value)))
        return write();
      this.taken = true;
      this.opened();
      await this.go;
      const r = await write();
      this.written();
      return r;
    };
    return {
      stores: db.stores,
      get: (store, key) => db.get(store, key),
      put: (store, key, value) => hold([{ store, value }], () => db.put(store, key, value)),
      delete: async (store, key) => {
        await db.delete(store, key);
        if (store === COINS_STORE && bytesToUtf8(key).includes('coin')) {
          this.deletions++;
          for (const r of this.deleteSeen.splice(0)) r();
        }
      },
      scan: (store, options) => db.scan(store, options),
      count: (store, range) => db.count(store, range),
      batch: (ops) =>
        hold(
          ops.map((o) => (o.type === 'put' ? { store: o.store, value: o.value } : { store: o.store })),
          () => db.batch(ops),
        ),
      close: () => db.close(),
    };
  }
}

/**
 * Alice's m1 pays Bob a coin A. While Bob's client is at the write `held` matches, a
 * reorganisation drops Alice's transaction for good: Alice is away and cannot resubmit it, so
 * A no longer exists. Bob's next publication to Alice must not spend A: the node refuses a
 * transaction whose input is missing, and every try of m2 would be refused.
 */
async function coinGoneDuring(held: HeldWrite): Promise<void> {
  const box: { devnet?: DevnetHandle } = {};
  const data = new MemoryDatabase();
  // Bob's engine runs on a clock the test moves, so his receipt for m1 goes only when the
  // test says, after the reorganisation.
  const clock = new ManualClock(Date.now());
  const alice = new ChainUser('alice', () => box.devnet!.url);
  const bob = new ChainUser('bob', () => box.devnet!.url, {
    openDb: async () => held.wrap(await openDb(data)),
    clock,
  });
  alice.knows(bob);
  bob.knows(alice);
  const devnet = (box.devnet = await startDevnet({
    port: 0,
    controlPort: false,
    blocksPerSecond: 0,
    prefund: prefund(alice, bob),
  }));
  let miner: ReturnType<typeof setInterval> | undefined;
  try {
    await alice.start();
    await bob.start();
    const before = devnet.chain.chain.length;
    miner = setInterval(() => devnet.mine(1), 50);
    await alice.engine.send(bob.id, 'm1');
    await held.held;
    clearInterval(miner);
    miner = undefined;
    await alice.stop();
    // Every chain block since m1 was sent: Alice's transaction leaves with them, for good.
    devnet.faults.reorg(devnet.chain.chain.length - before, { dropTransactions: true });
    await held.coinDeleted();
    held.release();
    await held.done;
    await bob.waitInbox(alice, 1);
    miner = setInterval(() => devnet.mine(1), 50);
    const m2 = await bob.engine.send(alice.id, 'm2');
    clock.advance(60_000);
    const tried = await until(
      'bob tried to publish m2',
      async () => {
        const m = (await bob.engine.message(m2.id)) as OutgoingMessage | undefined;
        return m !== undefined && (m.status !== 'queued' || m.attempts > 0) && m;
      },
      30_000,
    );
    assert.equal(tried.status, 'published', `m2 was refused (${tried.attempts} tries)`);
    await alice.start();
    await alice.waitInbox(bob, 1, 60_000);
    assert.deepEqual(
      (await alice.inbox(bob)).map((m) => m.text),
      ['m2'],
    );
  } finally {
    if (miner) clearInterval(miner);
    held.release();
    await alice.stop().catch(() => undefined);
    await bob.stop().catch(() => undefined);
    await devnet.stop();
  }
}

describe('a coin claimed while the chain changes (local Kaspa network)', () => {
  it('a contact coin that leaves the chain while its claim is stored is never spent afterwards', async () => {
    // Held: the write that records A as Alice's coin (its role, the value owed back).
    await coinGoneDuring(
      new HeldWrite((store, value) => store === COINS_STORE && bytesToUtf8(value).startsWith('held:')),
    );
  });

  it('the same when it leaves while the engine stores the message it carried', async () => {
    // Held: the engine's write of m1, inside the adapter's processing of A.
    await coinGoneDuring(new HeldWrite((store) => store === 'delivery.messages'));
  });
});
