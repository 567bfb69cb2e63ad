/**
 * Deleting messages from the delivery store (a conversation deleted, or expired by its
 * disappearing timer), on real SQLite under a storage key, and the conversation-deleted record.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { IncomingMessage, OutgoingMessage } from '../../../src/core/delivery/messages.ts';
import { DELIVERY_STORES, DeliveryStore } from '../../../src/core/delivery/store.ts';
import { openStorage } from '../../../src/storage/open.ts';
import { openSqliteStore } from '../../../src/storage/sqlite.ts';
import type { KeyValueStore } from '../../../src/storage/types.ts';
import { bytesToHex, randomBytes } from '../../../src/util/bytes.ts';
import { DecodeError } from '../../../src/util/errors.ts';
import { decodeCleared, encodeCleared } from '../../../src/web/conversation-flags.ts';

const incoming = (i: number): IncomingMessage => ({
  direction: 'in',
  id: bytesToHex(randomBytes(16)),
  contact: 'bob',
  sentAt: 1_760_000_000_000 + i * 1000,
  text: `in${i}`,
  receivedAt: 1_760_000_100_000,
  route: 'chain',
  read: true,
});
const outgoing = (seq: number, status: OutgoingMessage['status']): OutgoingMessage => ({
  direction: 'out',
  id: bytesToHex(randomBytes(16)),
  contact: 'bob',
  seq,
  sentAt: 1_760_000_000_500 + seq * 1000,
  text: `out${seq}`,
  status,
  publications: 0,
  attempts: 0,
});

describe('delivery store: deleting messages (real SQLite, sealed)', () => {
  let dir: string;
  let db: KeyValueStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2pcomm-store-delete-'));
    const schema = { version: 1, stores: [...DELIVERY_STORES] };
    db = await openStorage(await openSqliteStore(join(dir, 'p.db'), schema), schema, {
      storageKey: new Uint8Array(32).fill(9),
    });
  });
  after(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('deletes finished messages, keeps an incoming id as a tombstone, and refuses one still on its way', async () => {
    const store = new DeliveryStore(db);
    const ins = [incoming(1), incoming(2)];
    const outs = [outgoing(1, 'delivered'), outgoing(2, 'read'), outgoing(3, 'published')];
    await store.write([...ins, ...outs].flatMap((m) => store.putOps(m)));
    assert.throws(() => store.deleteOps([outs[2]!]), RangeError);
    await store.write(store.deleteOps([...ins, outs[0]!, outs[1]!]));
    assert.deepEqual(await store.conversation('bob', 'in'), []);
    assert.deepEqual(
      (await store.conversation('bob', 'out')).map((m) => m.text),
      ['out3'],
      'the message on its way stays',
    );
    assert.equal(await store.byId('in', ins[0]!.id), undefined);
    assert.equal(await store.byId('out', outs[0]!.id), undefined);
    // A copy republished by the sender is still known, so it is dropped, not shown again.
    assert.equal(await store.hasIncoming(ins[1]!.id), true);
    assert.deepEqual(
      (await store.unfinishedOutgoing()).map((m) => m.text),
      ['out3'],
    );
  });
});

describe('conversation deleted record', () => {
  it('round-trips and refuses other versions, short, long and out-of-range records', () => {
    const at = 1_764_600_000_000;
    const bytes = encodeCleared(at);
    assert.equal(bytes.length, 9);
    assert.equal(decodeCleared(bytes), at);
    const code = (b: Uint8Array): string | undefined => {
      try {
        decodeCleared(b);
        return undefined;
      } catch (e) {
        assert.ok(e instanceof DecodeError);
        return e.code;
      }
    };
    assert.equal(code(Uint8Array.of(2, ...bytes.subarray(1))), 'UNKNOWN_VERSION');
    assert.equal(code(bytes.subarray(0, 5)), 'TRUNCATED');
    assert.equal(code(Uint8Array.of(...bytes, 0)), 'TRAILING_BYTES');
    assert.equal(code(Uint8Array.of(1, 255, 255, 255, 255, 255, 255, 255, 255)), 'MALFORMED');
    assert.throws(() => encodeCleared(-1), RangeError);
  });
});
