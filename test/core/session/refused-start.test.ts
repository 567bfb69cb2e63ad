/**
 * A first contact refused with ONE_TIME_KEY_USED while its sender also wins the
 * simultaneous-start rule (docs/crypto.md §5.4). Everyday paths: an invite handed to two
 * people (both name its one-time pre-key), or two contacts adding each other at once after
 * one of them already used the other's invite key. The refusing side can never open the
 * refused session (X3DH §3.4 deleted the key), so the sender must follow the refusing side's
 * own session and send again what it sent on its own; the test drives that exact interleaving.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Invite } from '../../../src/core/contact/card.ts';
import { FRAME_OVERHEAD } from '../../../src/core/session/ratchet.ts';
import type { Received } from '../../../src/core/session/session-manager.ts';
import { dec, enc, errorCode, makeUser, type TestUser } from '../helpers.ts';

function text(r: Received): string {
  assert.equal(r.kind, 'message');
  return r.kind === 'message' ? dec(r.plaintext) : '';
}

/** Fixed seeds, ordered so that `low` has the lower peer ID (the simultaneous-start winner). */
function users(): { low: TestUser; high: TestUser; carol: TestUser } {
  const [x, y] = [
    makeUser('x', {}, new Uint8Array(32).fill(1)),
    makeUser('y', {}, new Uint8Array(32).fill(2)),
  ];
  const xLower = Buffer.compare(Buffer.from(x.identity.peerId), Buffer.from(y.identity.peerId)) < 0;
  return {
    low: xLower ? x : y,
    high: xLower ? y : x,
    carol: makeUser('carol', {}, new Uint8Array(32).fill(3)),
  };
}

/** `to` takes the invite `link` as the web app does. */
function addInvite(to: TestUser, link: string): void {
  const invite = Invite.fromLink(link);
  to.sessions.addContact(invite.card);
  to.sessions.addOneTimeKeys(invite.card.peerId, invite.oneTimeKeys);
}

describe('a refused first contact of the simultaneous-start winner', () => {
  it('the winner follows the refusing side’s session: every later message opens, one session remains', () => {
    const { low, high, carol } = users();
    // `high` handed one invite to two people; Carol used its one-time key first.
    const invite = new Invite(high.sessions.ownCard!, high.sessions.mintOneTimeKeys(1)).toLink();
    addInvite(carol, invite);
    addInvite(low, invite);
    high.sessions.addContact(low.card);
    assert.equal(
      text(high.sessions.decrypt(carol.sessions.encrypt(high.identity.peerId, enc('carol')))),
      'carol',
    );

    // Both start at the same moment: low's start names the consumed key and is refused.
    const fromLow = low.sessions.encrypt(high.identity.peerId, enc('low first'));
    const fromHigh = high.sessions.encrypt(low.identity.peerId, enc('high first'));
    assert.equal(
      errorCode(() => high.sessions.tryDecrypt(fromLow)),
      'ONE_TIME_KEY_USED',
    );
    const got = low.sessions.decrypt(fromHigh);
    assert.equal(text(got), 'high first');

    // From now on low sends on high's session, which high holds: nothing more is refused.
    for (let i = 0; i < 3; i++) {
      const x = low.sessions.encrypt(high.identity.peerId, enc(`low ${i}`));
      assert.equal(text(high.sessions.decrypt(x)), `low ${i}`, `low ${i}`);
      const y = high.sessions.encrypt(low.identity.peerId, enc(`high ${i}`));
      assert.equal(text(low.sessions.decrypt(y)), `high ${i}`, `high ${i}`);
    }
    assert.equal(
      got.kind === 'message' && got.resendUnanswered,
      true,
      'low is told that what it sent on its own start may not have arrived',
    );
    // The refused message, sent again by low (the engine re-sends what is not receipted).
    const again = low.sessions.encrypt(high.identity.peerId, enc('low first'));
    assert.equal(text(high.sessions.decrypt(again)), 'low first');
    const tail = high.sessions.encrypt(low.identity.peerId, enc('tail'));
    assert.equal(tail.length, 4 + FRAME_OVERHEAD, 'one confirmed session: no first-contact wrapper');
    assert.equal(low.sessions.awaitsReply(high.identity.peerId), false);
    assert.equal(high.sessions.awaitsReply(low.identity.peerId), false);
  });

  it('two contacts who add each other at once, the winner’s key already used: they converge', () => {
    const { low, high, carol } = users();
    const highInvite = new Invite(high.sessions.ownCard!, high.sessions.mintOneTimeKeys(1)).toLink();
    const lowInvite = new Invite(low.sessions.ownCard!, low.sessions.mintOneTimeKeys(1)).toLink();
    addInvite(carol, highInvite);
    high.sessions.decrypt(carol.sessions.encrypt(high.identity.peerId, enc('carol')));
    addInvite(low, highInvite);
    addInvite(high, lowInvite);

    const fromLow = low.sessions.encrypt(high.identity.peerId, enc('low first'));
    const fromHigh = high.sessions.encrypt(low.identity.peerId, enc('high first'));
    // The other order of arrival: high's start reaches low first, low answers before its own
    // start is refused.
    assert.equal(text(low.sessions.decrypt(fromHigh)), 'high first');
    const answer = low.sessions.encrypt(high.identity.peerId, enc('answer'));
    assert.equal(
      errorCode(() => high.sessions.tryDecrypt(fromLow)),
      'ONE_TIME_KEY_USED',
    );
    assert.equal(text(high.sessions.decrypt(answer)), 'answer');
    for (let i = 0; i < 3; i++) {
      assert.equal(
        text(high.sessions.decrypt(low.sessions.encrypt(high.identity.peerId, enc(`l${i}`)))),
        `l${i}`,
      );
      assert.equal(
        text(low.sessions.decrypt(high.sessions.encrypt(low.identity.peerId, enc(`h${i}`)))),
        `h${i}`,
      );
    }
    assert.equal(low.sessions.awaitsReply(high.identity.peerId), false);
  });

  it('a simultaneous start that both accept still converges on the winner’s session', () => {
    const { low, high } = users();
    low.sessions.addContact(high.card);
    high.sessions.addContact(low.card);
    const fromLow = low.sessions.encrypt(high.identity.peerId, enc('low first'));
    const fromHigh = high.sessions.encrypt(low.identity.peerId, enc('high first'));
    assert.equal(text(low.sessions.decrypt(fromHigh)), 'high first');
    assert.equal(text(high.sessions.decrypt(fromLow)), 'low first');
    for (let i = 0; i < 3; i++) {
      assert.equal(
        text(high.sessions.decrypt(low.sessions.encrypt(high.identity.peerId, enc(`l${i}`)))),
        `l${i}`,
      );
      assert.equal(
        text(low.sessions.decrypt(high.sessions.encrypt(low.identity.peerId, enc(`h${i}`)))),
        `h${i}`,
      );
    }
    // Both ends send on one session: the frames of either side open in the other's active one.
    const x = low.sessions.encrypt(high.identity.peerId, enc('tail'));
    assert.equal(x.length, 4 + FRAME_OVERHEAD);
    assert.equal(text(high.sessions.decrypt(x)), 'tail');
  });
});
