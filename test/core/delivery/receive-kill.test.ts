/**
 * A client killed between the ratchet step of something it received and the engine's write of
 * it. The step consumes the message key (Double Ratchet §3.2 deletes it), so a state saved with
 * the step but without the message leaves a coin that, opened again at the next start, is a
 * duplicate to the session and nothing to the store: the message, or the receipt, is gone.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDevnet } from '../../../src/devnet/index.ts';
import { ChainUser, prefund } from './kaspa.ts';

async function pair(): Promise<{ alice: ChainUser; bob: ChainUser; stop: () => Promise<void> }> {
  const box: { url?: string } = {};
  const alice = new ChainUser('alice', () => box.url!);
  const bob = new ChainUser('bob', () => box.url!);
  alice.knows(bob);
  bob.knows(alice);
  const devnet = await startDevnet({ port: 0, controlPort: false, blocksPerSecond: 20, prefund: prefund(alice, bob) });
  box.url = devnet.url;
  await alice.start();
  await bob.start();
  return {
    alice,
    bob,
    stop: async () => {
      await alice.stop().catch(() => undefined);
      await bob.stop().catch(() => undefined);
      await devnet.stop();
    },
  };
}

/** Kills `u` right after its next session save, and resolves when that happened. */
function killAtNextSave(u: ChainUser): Promise<void> {
  return new Promise((resolve) => {
    u.onSessionSaved = () => {
      u.onSessionSaved = undefined;
      u.kill();
      resolve();
    };
  });
}

/** Kills `u` just before the storage batch that writes its first message record, and resolves then. */
function killBeforeMessageWrite(u: ChainUser): Promise<void> {
  return new Promise((resolve) => {
    u.beforeBatch = (ops) => {
      if (!ops.some((op) => op.type === 'put' && op.store === 'delivery.messages')) return;
      u.beforeBatch = undefined;
      u.kill();
      resolve();
    };
  });
}

describe('a client killed between a received ratchet step and storing what it carried', () => {
  it('the recipient: the message is shown after the restart', async () => {
    const { alice, bob, stop } = await pair();
    try {
      // Bob saves his session state first when Alice's chat opens (his receipt comes after).
      const killed = killAtNextSave(bob);
      await alice.engine.send(bob.id, 'across the kill');
      await killed;
      await bob.start();
      const got = await bob.waitInbox(alice, 1, 30_000);
      assert.deepEqual(
        got.map((m) => m.text),
        ['across the kill'],
      );
      await alice.allOut(bob, ['delivered'], 1, 30_000);
    } finally {
      await stop();
    }
  });

  it('the recipient killed just before storing the message: shown after the restart', async () => {
    const { alice, bob, stop } = await pair();
    try {
      const killed = killBeforeMessageWrite(bob);
      await alice.engine.send(bob.id, 'before the write');
      await killed;
      await bob.start();
      const got = await bob.waitInbox(alice, 1, 30_000);
      assert.deepEqual(
        got.map((m) => m.text),
        ['before the write'],
      );
      await alice.allOut(bob, ['delivered'], 1, 30_000);
    } finally {
      await stop();
    }
  });

  it('the sender killed just before storing the receipt: delivered after the restart', async () => {
    const { alice, bob, stop } = await pair();
    try {
      await alice.engine.send(bob.id, 'first');
      await alice.allOut(bob, ['published'], 1, 30_000);
      const killed = killBeforeMessageWrite(alice);
      await bob.waitInbox(alice, 1, 30_000);
      await killed;
      await alice.start();
      await alice.allOut(bob, ['delivered'], 1, 30_000);
    } finally {
      await stop();
    }
  });

  it('the sender: the receipt still turns the tick to delivered after the restart', async () => {
    const { alice, bob, stop } = await pair();
    try {
      await alice.engine.send(bob.id, 'first');
      await alice.allOut(bob, ['published'], 1, 30_000);
      // Alice's next save is the opening of Bob's receipt.
      const killed = killAtNextSave(alice);
      await bob.waitInbox(alice, 1, 30_000);
      await killed;
      await alice.start();
      await alice.allOut(bob, ['delivered'], 1, 30_000);
    } finally {
      await stop();
    }
  });
});
