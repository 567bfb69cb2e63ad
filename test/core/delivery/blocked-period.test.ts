/**
 * Block from the chat (issue 15): what a contact sent while blocked stays dropped whenever it
 * is processed, also when the unblock comes first (the on-chain message was still on its way,
 * or this client was busy); what they send after the unblock is shown.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MessageRequests } from '../../../src/core/requests/requests.ts';
import type { ContactDirectory } from '../../../src/core/delivery/ports.ts';
import { FakeNet, until } from './harness.ts';

const texts = (ms: readonly { text: string }[]) => ms.map((m) => m.text);

describe('a contact blocked, then unblocked', () => {
  it('a chain message sent during the block and processed after the unblock is dropped unreceipted; a later one is shown', async () => {
    const net = new FakeNet(['carol', 'dave']);
    let requests: MessageRequests | undefined;
    // As the web app's directory: a blocked contact is left out (real-api.ts #directory).
    const leaveBlockedOut = (d: ContactDirectory): ContactDirectory => ({
      self: d.self,
      has: (c) => d.has(c) && requests?.isBlocked(c) !== true,
      list: () => d.list().filter((c) => requests?.isBlocked(c) !== true),
    });
    const carol = await net.client('carol', {
      requests: async (db) => (requests = await MessageRequests.open({ db })),
      contacts: leaveBlockedOut,
    });
    const dave = await net.client('dave');
    try {
      await dave.engine.send('carol', 'before the block');
      await carol.waitInbox('dave', 1);
      await dave.allOut('carol', ['delivered'], 1);

      await requests!.block('dave');
      // Carol's client has not processed Dave's transaction yet when she unblocks him.
      net.ledger.holdLive = true;
      await dave.engine.send('carol', 'sent while blocked');
      await until('dave published while blocked', () => net.ledger.sentBy('dave').length >= 2);
      await requests!.unblock('dave');
      const unblockedAt = Date.now();
      net.ledger.holdLive = false;
      net.ledger.releaseHeld();

      // A message sent after the unblock is shown and receipted; the chain delivers in order,
      // so by then the one sent while blocked has been processed too.
      await until('the clock past the unblock', () => Date.now() > unblockedAt);
      await dave.engine.send('carol', 'after the unblock');
      await until('carol shows the message sent after the unblock', async () =>
        texts(await carol.inbox('dave')).includes('after the unblock'),
      );
      assert.deepEqual(texts(await carol.inbox('dave')), ['before the block', 'after the unblock']);
      await until('dave has the receipt of the message after the unblock', async () =>
        (await dave.outbox('carol')).some(
          (m) => m.direction === 'out' && m.text === 'after the unblock' && m.status === 'delivered',
        ),
      );
      // Carol's receipt of the later message went out in a transaction after she processed the
      // earlier one: a receipt owed for it would have gone with it.
      const late = (await dave.outbox('carol')).find((m) => m.text === 'sent while blocked');
      assert.ok(
        late?.direction === 'out' && late.status === 'published',
        'no receipt for what came while blocked',
      );
      assert.deepEqual(requests!.blockPeriods('dave').length, 1, 'one closed block period kept');
      assert.equal(requests!.isBlocked('dave'), false);
    } finally {
      await net.stop();
    }
  });
});
