/**
 * Typing indicators (issue 15, envelope type 13): over a direct link only, never on chain,
 * never stored; refused from a stranger and when malformed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEnvelope, encodeEnvelope, type MessageId } from '../../../src/core/envelope/envelope.ts';
import { DecodeError } from '../../../src/util/errors.ts';
import { FakeNet, until } from './harness.ts';

describe('typing indicators', () => {
  it('go over the direct link, and without one nothing is sent (no chain transaction)', async () => {
    const net = new FakeNet(['alice', 'bob']);
    const alice = await net.client('alice', { peers: true });
    const bob = await net.client('bob', { peers: true });
    try {
      assert.equal(await alice.engine.typing('bob', true), false, 'no link yet: nothing sent');
      assert.equal(net.ledger.txs.length, 0, 'and nothing on chain');
      await alice.engine.send('bob', 'hi');
      await until('linked', () => alice.engine.connection('bob') === 'connected');
      await until('linked back', () => bob.engine.connection('alice') === 'connected');
      const before = net.ledger.txs.length;
      assert.equal(await alice.engine.typing('bob', true), true);
      await until('bob hears it', () =>
        bob.events.some((e) => e.type === 'typing' && e.contact === 'alice' && e.active),
      );
      assert.equal(await alice.engine.typing('bob', false), true);
      await until('bob hears the stop', () =>
        bob.events.some((e) => e.type === 'typing' && e.contact === 'alice' && !e.active),
      );
      assert.equal(net.ledger.txs.length, before, 'typing never goes on chain');
      assert.equal((await bob.inbox('alice')).length, 1, 'typing is not stored as a message');
      await assert.rejects(alice.engine.typing('mallory', true), { code: 'UNKNOWN_CONTACT' });
      assert.throws(() => alice.engine.typing('bob', 'yes' as unknown as boolean), TypeError);
    } finally {
      await net.stop();
    }
  });

  it('envelope type 13 round-trips, and a bad state or a truncated body is refused', () => {
    const id = new Uint8Array(16).fill(7) as MessageId;
    for (const active of [true, false]) {
      const bytes = encodeEnvelope({ id, timestamp: 1_000, body: { type: 'typing', active } });
      assert.deepEqual(decodeEnvelope(bytes).body, { type: 'typing', active });
    }
    const good = encodeEnvelope({ id, timestamp: 1_000, body: { type: 'typing', active: true } });
    const bad = good.slice();
    bad[bad.length - 1] = 2;
    assert.throws(
      () => decodeEnvelope(bad),
      (e: unknown) => e instanceof DecodeError && e.code === 'MALFORMED',
    );
    assert.throws(
      () => decodeEnvelope(good.slice(0, -1)),
      (e: unknown) => e instanceof DecodeError,
    );
    assert.throws(
      () => decodeEnvelope(Uint8Array.of(...good, 0)),
      (e: unknown) => e instanceof DecodeError,
    );
  });
});
