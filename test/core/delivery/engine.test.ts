import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryError } from '../../../src/core/delivery/errors.ts';
import type { IncomingMessage, OutgoingMessage } from '../../../src/core/delivery/messages.ts';
import { FakeNet, until } from './harness.ts';
import { startsAfter, type ChainPort } from '../../../src/core/delivery/ports.ts';

const texts = (ms: readonly { text: string }[]): string[] => ms.map((m) => m.text);

describe('delivery engine over fake transports', () => {
  it('recipient online on chain only: published, then delivered by the returned receipt', async () => {
    const net = new FakeNet(['alice', 'bob']);
    const alice = await net.client('alice');
    const bob = await net.client('bob');
    try {
      const m = await alice.engine.send('bob', 'hello bob');
      assert.equal(m.status, 'queued');
      await bob.waitInbox('alice', 1);
      const [out] = (await alice.allOut('bob', ['delivered'])) as OutgoingMessage[];
      assert.equal(out!.route, 'chain');
      assert.ok(out!.proof?.txId.match(/^[0-9a-f]{64}$/));
      assert.ok(out!.proof?.acceptingDaaScore !== undefined, 'acceptance recorded for the proof view');
      // The receipt went back on chain: bob published exactly one (receipt-only) transaction.
      assert.equal(net.ledger.sentBy('bob').length, 1);
      assert.deepEqual(net.ledger.sentBy('bob')[0]!.recipients, ['alice']);
    } finally {
      await net.stop();
    }
  });

  it('recipient offline, then online: catches up from its cursor and shows each message once', async () => {
    const net = new FakeNet(['alice', 'bob']);
    const alice = await net.client('alice');
    const bob = await net.client('bob');
    try {
      await alice.engine.send('bob', 'one');
      await bob.waitInbox('alice', 1);
      await bob.stop();
      for (const t of ['two', 'three', 'four']) await alice.engine.send('bob', t);
      await alice.allOut('bob', ['published', 'delivered'], 4);
      await bob.start();
      const inbox = await bob.waitInbox('alice', 4);
      assert.deepEqual(texts(inbox), ['one', 'two', 'three', 'four']);
      await alice.allOut('bob', ['delivered']);
      // A second restart replays nothing: the cursor was saved with the inbox.
      await bob.restart();
      assert.equal((await bob.inbox('alice')).length, 4);
    } finally {
      await net.stop();
    }
  });

  it("batches several messages to one contact in one transaction; another contact's go in one of their own", async () => {
    const net = new FakeNet(['alice', 'bob', 'carol']);
    const alice = await net.client('alice', { settings: { batchWindowMs: 200 } });
    const bob = await net.client('bob');
    const carol = await net.client('carol');
    try {
      await Promise.all([
        alice.engine.send('bob', 'b1'),
        alice.engine.send('bob', 'b2'),
        alice.engine.send('carol', 'c1'),
      ]);
      await bob.waitInbox('alice', 2);
      await carol.waitInbox('alice', 1);
      // One transaction per contact (docs/privacy.md "One contact per transaction"): a
      // transaction paying two contacts would tell the chain that one sender writes to both.
      const txs = net.ledger.sentBy('alice');
      assert.deepEqual(txs.map((t) => [...t.recipients]).sort(), [['bob'], ['carol']]);
      await alice.allOut('bob', ['delivered']);
      await alice.allOut('carol', ['delivered']);
    } finally {
      await net.stop();
    }
  });

  it('duplicate and reordered arrival: shown once, in the sender order', async () => {
    const net = new FakeNet(['alice', 'bob']);
    const alice = await net.client('alice', { settings: { maxRecipientsPerTx: 1, maxPayloadBytes: 64 } });
    const bob = await net.client('bob');
    try {
      net.ledger.duplicate = true;
      net.ledger.holdLive = true;
      for (const t of ['m1', 'm2', 'm3']) await alice.engine.send('bob', t);
      await until('three transactions', () => net.ledger.sentBy('alice').length >= 3);
      net.ledger.releaseHeld(); // delivered newest first
      const inbox = await bob.waitInbox('alice', 3);
      await new Promise((r) => setTimeout(r, 50)); // let the duplicates land too
      assert.deepEqual(texts(await bob.inbox('alice')), ['m1', 'm2', 'm3']);
      assert.equal(inbox.length, 3);
      const added = bob.events.filter((e) => e.type === 'message' && e.message.direction === 'in');
      assert.equal(added.length, 3, 'one "message" event per incoming message');
      net.ledger.holdLive = false;
      await alice.allOut('bob', ['delivered']);
    } finally {
      await net.stop();
    }
  });

  it('sender restarts mid-send: the queued message survives and is delivered', async () => {
    const net = new FakeNet(['alice', 'bob']);
    const alice = await net.client('alice', { settings: { batchWindowMs: 60_000 } });
    const bob = await net.client('bob');
    try {
      const m = await alice.engine.send('bob', 'survives');
      await alice.stop(); // before the batch window closes: nothing was published
      assert.equal(net.ledger.sentBy('alice').length, 0);
      await alice.start();
      await alice.engine.configure({ batchWindowMs: 10 });
      await bob.waitInbox('alice', 1);
      const out = await alice.allOut('bob', ['delivered'], 1);
      assert.equal(out[0]!.id, m.id);
    } finally {
      await net.stop();
    }
  });

  it('a receipt whose publication left the chain for good is owed again, across a restart', async () => {
    const net = new FakeNet(['alice', 'bob']);
    const alice = await net.client('alice');
    const bob = await net.client('bob');
    try {
      const m = await alice.engine.send('bob', 'receipt lost with its transaction');
      await until('published', () => net.ledger.sentBy('alice').length === 1);
      // Away while Bob's receipt is on the chain, so only a republished receipt reaches her.
      await alice.stop();
      await bob.waitInbox('alice', 1);
      await until('the receipt published', () => net.ledger.sentBy('bob').length === 1);
      // No funds for the republication: the receipt waits, then Bob's client restarts.
      net.ledger.balances.set('bob', 0n);
      net.ledger.drop(net.ledger.sentBy('bob')[0]!);
      await until('the republication refused', () =>
        bob.events.some((e) => e.type === 'funds' && e.funds.insufficient),
      );
      await bob.stop();
      net.ledger.fund('bob', 1_000_000n);
      await bob.start();
      await alice.start();
      const [out] = await alice.allOut('bob', ['delivered'], 1);
      assert.equal(out!.id, m.id);
    } finally {
      await net.stop();
    }
  });

  it('without funds: messages stay queued with a typed status, then go once funded', async () => {
    const net = new FakeNet(['alice', 'bob']);
    const alice = await net.client('alice', { funds: 0n });
    const bob = await net.client('bob');
    try {
      await alice.engine.send('bob', 'waiting for funds');
      await until('insufficient funds event', () =>
        alice.events.some((e) => e.type === 'funds' && e.funds.insufficient),
      );
      const [queued] = (await alice.outbox('bob')) as OutgoingMessage[];
      assert.equal(queued!.status, 'queued');
      net.ledger.fund('alice', 1_000_000n);
      await bob.waitInbox('alice', 1);
      await alice.allOut('bob', ['delivered']);
    } finally {
      await net.stop();
    }
  });

  it('publication failures back off, end in failed, and the user can retry', async () => {
    const net = new FakeNet(['alice', 'bob']);
    const alice = await net.client('alice', { settings: { maxAttempts: 3 } });
    const bob = await net.client('bob');
    try {
      net.ledger.failPublishes = 3;
      const m = await alice.engine.send('bob', 'flaky node');
      const [failed] = (await alice.allOut('bob', ['failed'])) as OutgoingMessage[];
      assert.equal(failed!.failure, 'publish');
      assert.ok(alice.events.some((e) => e.type === 'error' && e.error instanceof DeliveryError));
      await assert.rejects(alice.engine.retry('00'.repeat(16)), { code: 'UNKNOWN_MESSAGE' });
      await alice.engine.retry(m.id);
      await bob.waitInbox('alice', 1);
      await alice.allOut('bob', ['delivered']);
      await assert.rejects(alice.engine.retry(m.id), { code: 'NOT_RETRYABLE' });
    } finally {
      await net.stop();
    }
  });

  it('recipient offline longer than the pruning window: republished until received', async () => {
    const net = new FakeNet(['alice', 'bob', 'carol']);
    net.ledger.pruneDepth = 2;
    const alice = await net.client('alice', { settings: { republishAfterMs: 300, maxPublications: 50 } });
    const bob = await net.client('bob');
    const carol = await net.client('carol');
    try {
      await bob.stop();
      await alice.engine.send('bob', 'still there?');
      await alice.allOut('bob', ['published']);
      // Other traffic pushes the first publication past the pruning depth.
      for (let i = 0; i < 4; i++) await carol.engine.send('alice', `filler ${i}`);
      await until('pruned', () => net.ledger.sentBy('alice')[0]?.payload === null);
      await until(
        'republished',
        () => net.ledger.sentBy('alice').filter((t) => t.recipients.includes('bob')).length >= 2,
      );
      await bob.start();
      assert.ok(
        bob.events.some((e) => e.type === 'pruned'),
        'the pruned coin is reported, not dropped silently',
      );
      await bob.waitInbox('alice', 1);
      await alice.allOut('bob', ['delivered']);
      assert.equal((await bob.inbox('alice')).length, 1);
    } finally {
      await net.stop();
    }
  });

  it('a message never acknowledged is reported undeliverable after its republications', async () => {
    const net = new FakeNet(['alice', 'bob']);
    const alice = await net.client('alice', { settings: { republishAfterMs: 50, maxPublications: 3 } });
    try {
      await alice.engine.send('bob', 'into the void');
      const [m] = (await alice.allOut('bob', ['failed'])) as OutgoingMessage[];
      assert.equal(m!.failure, 'undeliverable');
      assert.equal(m!.publications, 3);
      assert.equal(net.ledger.sentBy('alice').length, 3);
    } finally {
      await net.stop();
    }
  });

  it('refuses unknown contacts and bad input with typed errors', async () => {
    const net = new FakeNet(['alice', 'bob']);
    const alice = await net.client('alice');
    try {
      await assert.rejects(alice.engine.send('mallory', 'hi'), { code: 'UNKNOWN_CONTACT' });
      assert.throws(() => alice.engine.send('bob', ''), RangeError);
      assert.throws(() => alice.engine.send('bob', 'x'.repeat(20_000)), RangeError);
      assert.throws(() => alice.engine.retry('nothex'), TypeError);
    } finally {
      await net.stop();
    }
    await assert.rejects(alice.engine.send('bob', 'closed'), { code: 'CLOSED' });
  });

  for (const { daaPerTx, shown, what } of [
    { daaPerTx: 1n, shown: 5, what: 'a flood written within one chain minute is cut at the budget' },
    { daaPerTx: 600n, shown: 8, what: 'a backlog written over several chain minutes is shown whole' },
  ]) {
    it(`flood control counts chain time, not catch-up time: ${what}`, async () => {
      const net = new FakeNet(['alice', 'bob']);
      net.ledger.daaPerTx = daaPerTx;
      const alice = await net.client('alice', { settings: { batchWindowMs: 0 } });
      const bob = await net.client('bob', { settings: { maxIncomingPerMinute: 5 } });
      try {
        await bob.stop();
        for (let i = 0; i < 8; i++) {
          await alice.engine.send('bob', `m${i}`);
          await alice.allOut('bob', ['published'], i + 1); // one transaction each
        }
        await bob.start();
        await alice.allOut('bob', ['delivered', 'published'], 8);
        await until('receipts', async () => {
          const out = await alice.outbox('bob');
          return out.filter((m) => m.direction === 'out' && m.status === 'delivered').length === shown;
        });
        // Frames past the budget were neither stored nor receipted: their sender republishes.
        assert.deepEqual(
          texts(await bob.inbox('alice')),
          Array.from({ length: shown }, (_, i) => `m${i}`),
        );
      } finally {
        await net.stop();
      }
    });
  }

  it('with no node yet: messages are stored at once, survive a restart, and go once the chain runs', async () => {
    const net = new FakeNet(['alice', 'bob']);
    let release!: () => void;
    const reachable = new Promise<void>((r) => (release = r));
    // Alice's chain adapter cannot start until the node answers.
    const held = (inner: ChainPort): ChainPort => startsAfter(reachable, inner);
    const alice = await net.client('alice', { chain: held, chainInBackground: true });
    const bob = await net.client('bob');
    try {
      const m = await alice.engine.send('bob', 'written offline');
      assert.equal(m.status, 'queued');
      await alice.restart();
      await alice.engine.send('bob', 'and after a restart');
      assert.equal(net.ledger.sentBy('alice').length, 0, 'nothing published without a node');
      release();
      assert.deepEqual(texts(await bob.waitInbox('alice', 2)), ['written offline', 'and after a restart']);
      await alice.allOut('bob', ['delivered'], 2);
      assert.ok((await alice.engine.funds()).spendable > 0n);
    } finally {
      await net.stop();
    }
  });

  it('read receipts turn delivered messages read', async () => {
    const net = new FakeNet(['alice', 'bob']);
    const alice = await net.client('alice', { peers: true });
    const bob = await net.client('bob', { peers: true });
    try {
      await alice.engine.send('bob', 'read me');
      await bob.waitInbox('alice', 1);
      await until('connected', () => alice.engine.connection('bob') === 'connected');
      await bob.engine.markRead('alice');
      await alice.allOut('bob', ['read']);
      const [seen] = (await bob.inbox('alice')) as IncomingMessage[];
      assert.equal(seen!.read, true);
    } finally {
      await net.stop();
    }
  });
});

describe('delivery engine: direct links and signaling (fake links)', () => {
  it('first contact over the chain brings up a direct link; later messages go direct', async () => {
    const net = new FakeNet(['alice', 'bob']);
    const alice = await net.client('alice', { peers: true });
    const bob = await net.client('bob', { peers: true });
    try {
      await alice.engine.send('bob', 'first, by chain');
      await until('alice connected', () => alice.engine.connection('bob') === 'connected');
      await until('bob connected', () => bob.engine.connection('alice') === 'connected');
      const states = alice.events
        .filter((e) => e.type === 'connection')
        .map((e) => e.type === 'connection' && e.state);
      assert.deepEqual(states, ['connecting', 'connected']);
      const chainTxs = net.ledger.txs.length;
      await alice.engine.send('bob', 'second, direct');
      await bob.engine.send('alice', 'reply, direct');
      await bob.waitInbox('alice', 2);
      await alice.waitInbox('bob', 1);
      const out = await alice.allOut('bob', ['delivered'], 2);
      assert.equal(out[1]!.direction === 'out' && out[1]!.route, 'direct');
      assert.equal(net.ledger.txs.length, chainTxs, 'nothing more on chain once the link is up');
      assert.deepEqual(texts(await bob.inbox('alice')), ['first, by chain', 'second, direct']);
    } finally {
      await net.stop();
    }
  });

  it('link drops mid-conversation: the chain takes over and the link comes back', async () => {
    const net = new FakeNet(['alice', 'bob']);
    const alice = await net.client('alice', { peers: true });
    const bob = await net.client('bob', { peers: true });
    try {
      await alice.engine.send('bob', 'hello');
      await until('connected', () => alice.engine.connection('bob') === 'connected');
      net.board.refuse = true; // the link will not come back at first
      net.board.drop('alice');
      await until('offline', () => alice.engine.connection('bob') !== 'connected');
      const before = net.ledger.sentBy('alice').length;
      await alice.engine.send('bob', 'after the drop');
      await bob.waitInbox('alice', 2);
      assert.ok(net.ledger.sentBy('alice').length > before, 'went on chain');
      await alice.allOut('bob', ['delivered'], 2);
      await until('refused attempt over', () => alice.engine.connection('bob') === 'offline');
      net.board.refuse = false;
      await alice.engine.connect('bob');
      await until('reconnected', () => alice.engine.connection('bob') === 'connected', 30_000);
      await alice.engine.send('bob', 'direct again');
      await bob.waitInbox('alice', 3);
      assert.deepEqual(texts(await bob.inbox('alice')), ['hello', 'after the drop', 'direct again']);
    } finally {
      await net.stop();
    }
  });

  it('both sides offer at once: one link results', async () => {
    const net = new FakeNet(['alice', 'bob']);
    const alice = await net.client('alice', { peers: true });
    const bob = await net.client('bob', { peers: true });
    try {
      await Promise.all([alice.engine.send('bob', 'hi bob'), bob.engine.send('alice', 'hi alice')]);
      await until(
        'both connected',
        () =>
          alice.engine.connection('bob') === 'connected' && bob.engine.connection('alice') === 'connected',
      );
      await alice.waitInbox('bob', 1);
      await bob.waitInbox('alice', 1);
      await alice.allOut('bob', ['delivered']);
      await bob.allOut('alice', ['delivered']);
      assert.equal(net.board.openLinks('alice'), 1);
    } finally {
      await net.stop();
    }
  });
});
