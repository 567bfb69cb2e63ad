/**
 * The session manager does the waiting half of a DH ratchet step on a timer of its own, the
 * turn after a decryption (session-manager.ts `prepareSends`), outside the delivery engine's
 * queue of state writes (sessions.ts, which serializes when the write runs). A write that took
 * its bytes before the timer and lands after it holds the step undone (Ratchet state version
 * 2): a sender restarted from it does the step again with a new key, and both sides go on.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { SessionManager, type Received } from '../../../src/core/session/session-manager.ts';
import { bytesToUtf8, utf8ToBytes } from '../../../src/util/bytes.ts';
import { makePair } from '../helpers.ts';

function text(r: Received): string {
  assert.equal(r.kind, 'message');
  return bytesToUtf8((r as { plaintext: Uint8Array }).plaintext);
}

describe('a state write that straddles the prepare timer', () => {
  it('a sender restarted from bytes taken before the timer keeps talking with its contact', async () => {
    const [a, b] = makePair();
    assert.equal(
      text(b.sessions.decrypt(a.sessions.encrypt(b.identity.peerId, utf8ToBytes('open')))),
      'open',
    );
    assert.equal(text(a.sessions.decrypt(b.sessions.encrypt(a.identity.peerId, utf8ToBytes('ok')))), 'ok');
    // Alice's next message starts a new chain: Bob's sending half waits for the timer.
    assert.equal(
      text(b.sessions.decrypt(a.sessions.encrypt(b.identity.peerId, utf8ToBytes('new chain')))),
      'new chain',
    );
    const queued = b.sessions.serialize();
    await sleep(10);
    assert.notDeepEqual(b.sessions.serialize(), queued, 'the timer did the waiting half in the live state');
    // The timer ran: Bob's live state has the step done; a frame under it is encrypted but,
    // its state not saved yet, it never leaves (sessions.ts saves before a frame goes out).
    b.sessions.encrypt(a.identity.peerId, utf8ToBytes('never sent'));
    // Bob restarts with the write that landed, the one taken before the timer.
    const b2 = SessionManager.deserialize(b.identity, queued, { now: () => 1_760_000_000_000 });
    for (let i = 0; i < 3; i++) {
      assert.equal(text(a.sessions.decrypt(b2.encrypt(a.identity.peerId, utf8ToBytes(`b${i}`)))), `b${i}`);
      assert.equal(text(b2.decrypt(a.sessions.encrypt(b.identity.peerId, utf8ToBytes(`a${i}`)))), `a${i}`);
    }
    // And a restart once more, from a state taken after the timer had run again.
    await sleep(10);
    const b3 = SessionManager.deserialize(b.identity, b2.serialize(), { now: () => 1_760_000_000_000 });
    assert.equal(text(a.sessions.decrypt(b3.encrypt(a.identity.peerId, utf8ToBytes('after')))), 'after');
    assert.equal(text(b3.decrypt(a.sessions.encrypt(b.identity.peerId, utf8ToBytes('back')))), 'back');
  });
});
