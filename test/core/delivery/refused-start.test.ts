/**
 * A first contact refused with ONE_TIME_KEY_USED while its sender wins the simultaneous-start
 * rule (docs/crypto.md §5.4), through two engines with real sessions: an invite handed to two
 * people, the other one used it first, and both ends of the second contact write at once.
 * The refused first message arrives all the same (sent again on the session that works) and
 * the conversation goes on both ways.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Invite } from '../../../src/core/contact/card.ts';
import { contactIdOf } from '../../../src/core/delivery/sessions.ts';
import { enc, makeUser, type TestUser } from '../helpers.ts';
import { FakeNet, until } from './harness.ts';
import { sessionsOf } from './real-links.ts';

/** Two users with fixed seeds, the first of them with the lower peer ID (the rule's winner). */
function lowAndHigh(): [TestUser, TestUser] {
  const [x, y] = [1, 2].map((n) => makeUser(`u${n}`, { now: Date.now }, new Uint8Array(32).fill(n))) as [
    TestUser,
    TestUser,
  ];
  return Buffer.compare(Buffer.from(x.identity.peerId), Buffer.from(y.identity.peerId)) < 0 ? [x, y] : [y, x];
}

describe('engines: a refused first contact of the simultaneous-start winner', () => {
  it('the refused first message is delivered and every later message goes through, both ways', async () => {
    const [low, high] = lowAndHigh();
    const carol = makeUser('carol', { now: Date.now });
    const invite = Invite.fromLink(
      new Invite(high.sessions.ownCard!, high.sessions.mintOneTimeKeys(1)).toLink(),
    );
    for (const u of [carol, low]) {
      u.sessions.addContact(invite.card);
      u.sessions.addOneTimeKeys(invite.card.peerId, invite.oneTimeKeys);
    }
    // Carol used the invite's one-time key first.
    high.sessions.decrypt(carol.sessions.encrypt(high.identity.peerId, enc('carol')));
    const [l, h] = [low, high].map((u) => contactIdOf(u.identity.peerId)) as [string, string];
    const net = new FakeNet([l, h]);
    const cl = await net.client(l, { sessions: sessionsOf(low, [high]) });
    const ch = await net.client(h, { sessions: sessionsOf(high, [low]) });
    try {
      // Low's start leaves first (it names the used key); high writes before it has heard
      // from low, so low holds its own unanswered start when high's arrives.
      await cl.engine.send(h, 'low first');
      await until('low published its start', () => net.ledger.sentBy(l).length > 0);
      await ch.engine.send(l, 'high first');
      await cl.waitInbox(h, 1);
      const first = await ch.waitInbox(l, 1);
      assert.deepEqual(
        first.map((m) => m.text),
        ['low first'],
      );
      for (let i = 0; i < 2; i++) {
        await cl.engine.send(h, `low ${i}`);
        await ch.engine.send(l, `high ${i}`);
      }
      const atHigh = await ch.waitInbox(l, 3);
      const atLow = await cl.waitInbox(h, 3);
      assert.deepEqual(atHigh.map((m) => m.text).sort(), ['low 0', 'low 1', 'low first']);
      assert.deepEqual(atLow.map((m) => m.text).sort(), ['high 0', 'high 1', 'high first']);
      await cl.allOut(h, ['delivered', 'read'], 3);
      await ch.allOut(l, ['delivered', 'read'], 3);
      assert.equal(low.sessions.awaitsReply(high.identity.peerId), false);
      assert.equal(high.sessions.awaitsReply(low.identity.peerId), false);
    } finally {
      await net.stop();
    }
  });
});
