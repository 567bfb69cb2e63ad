/**
 * An existing user's profile, written before keys were opaque, opens with everything in it:
 * the profile's own layout (WEB_SCHEMA, clear profile store) converted on unlock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeliveryStore } from '../../src/core/delivery/store.ts';
import type { IncomingMessage, OutgoingMessage } from '../../src/core/delivery/messages.ts';
import { MemoryDatabase, openMemoryStore } from '../../src/storage/memory.ts';
import { openStorage } from '../../src/storage/open.ts';
import { bytesToHex, randomBytes, utf8ToBytes } from '../../src/util/bytes.ts';
import type { ContactId } from '../../src/web/app-api.ts';
import {
  CONTACTS_STORE,
  KEYS,
  PROFILE_STORE,
  STATE_STORE,
  WEB_SCHEMA,
} from '../../src/web/engine/profile.ts';

const KEY = new Uint8Array(32).fill(9);
const PEER = 'p2p1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq';

describe('web profile written with clear keys', () => {
  it('is converted on open, and its contacts, settings and history are all there', async () => {
    const data = new MemoryDatabase();
    const open = async (opaqueKeys?: boolean) =>
      openStorage(await openMemoryStore(WEB_SCHEMA, data), WEB_SCHEMA, {
        storageKey: KEY,
        clearStores: [PROFILE_STORE],
        ...(opaqueKeys !== undefined && { opaqueKeys }),
      });
    const out: OutgoingMessage = {
      direction: 'out',
      id: bytesToHex(randomBytes(16)),
      contact: PEER,
      seq: 1,
      sentAt: 1_760_000_000_000,
      text: 'sent before the update',
      status: 'delivered',
      publications: 1,
      attempts: 1,
    };
    const inc: IncomingMessage = {
      direction: 'in',
      id: bytesToHex(randomBytes(16)),
      contact: PEER,
      sentAt: 1_760_000_001_000,
      text: 'received before the update',
      receivedAt: 1_760_000_002_000,
      route: 'direct',
      read: true,
    };
    const old = await open(false);
    const store = new DeliveryStore(old);
    await old.batch([
      { type: 'put', store: PROFILE_STORE, key: KEYS.name, value: utf8ToBytes('Alice') },
      { type: 'put', store: CONTACTS_STORE, key: utf8ToBytes(PEER), value: utf8ToBytes('card bytes') },
      { type: 'put', store: STATE_STORE, key: KEYS.settings, value: utf8ToBytes('{"network":"local"}') },
      ...store.putOps(out),
      ...store.putOps(inc),
    ]);
    await old.close();

    const db = await open();
    assert.deepEqual(await db.get(PROFILE_STORE, KEYS.name), utf8ToBytes('Alice'));
    assert.deepEqual(await db.get(CONTACTS_STORE, utf8ToBytes(PEER)), utf8ToBytes('card bytes'));
    assert.deepEqual(await db.get(STATE_STORE, KEYS.settings), utf8ToBytes('{"network":"local"}'));
    const history = new DeliveryStore(db);
    assert.deepEqual(await history.conversation(PEER as ContactId, 'out'), [out]);
    assert.deepEqual(await history.conversation(PEER as ContactId, 'in'), [inc]);
    assert.equal(await history.hasIncoming(inc.id), true);
    assert.equal((await history.lastOutgoing(PEER))?.id, out.id);
    await db.close();

    // Nothing of the old layout is left on disk.
    const raw = await openMemoryStore(WEB_SCHEMA, data);
    for (const [k] of await raw.scan(CONTACTS_STORE))
      assert.ok(!bytesToHex(k).includes(bytesToHex(utf8ToBytes(PEER))));
    assert.equal(await raw.count('delivery.messages'), 2);
    await raw.close();
  });
});
