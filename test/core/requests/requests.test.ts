import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_BLOCK_PERIODS,
  MAX_MESSAGES_PER_REQUEST,
  MAX_PENDING_REQUESTS,
  MAX_REQUEST_TEXT_BYTES,
  MessageRequests,
  REQUESTS_STORE,
  RequestError,
} from '../../../src/core/requests/requests.ts';
import { requireAddressOn } from '../../../src/core/contact/network.ts';
import { ContactCardError } from '../../../src/core/errors.ts';
import { contactIdOf } from '../../../src/core/delivery/sessions.ts';
import type { DeliveryFrame } from '../../../src/core/delivery/frames.ts';
import { MemoryDatabase, openMemoryStore } from '../../../src/storage/memory.ts';
import { encodeKey } from '../../../src/storage/keys.ts';
import { bytesToUtf8, utf8ToBytes } from '../../../src/util/bytes.ts';
import { makeUser } from '../helpers.ts';

const open = (data: MemoryDatabase) => openMemoryStore({ version: 1, stores: [REQUESTS_STORE] }, data);

let n = 0;
function chat(text: string, sentAt?: number): DeliveryFrame {
  n++;
  const id = new Uint8Array(16);
  new DataView(id.buffer).setUint32(12, n);
  return { type: 'chat', id, sentAt: sentAt ?? 1_000 + n, text };
}

function stranger(name = 'stranger') {
  const u = makeUser(name);
  return { card: u.card, contact: contactIdOf(u.identity.peerId) };
}

describe('message requests', () => {
  it('keeps at most MAX_MESSAGES_PER_REQUEST messages per request, the newest', async () => {
    const r = await MessageRequests.open({ db: await open(new MemoryDatabase()) });
    const s = stranger();
    for (let i = 0; i < MAX_MESSAGES_PER_REQUEST + 5; i++)
      assert.equal(await r.incoming({ ...s, frames: [chat(`m${i}`)] }), true);
    const kept = r.get(s.contact)!.messages;
    assert.equal(kept.length, MAX_MESSAGES_PER_REQUEST);
    assert.equal(kept[0]!.text, 'm5');
    assert.equal(kept.at(-1)!.text, `m${MAX_MESSAGES_PER_REQUEST + 4}`);
  });

  it('keeps at most MAX_REQUEST_TEXT_BYTES of text per request, oldest dropped, newest always kept', async () => {
    const r = await MessageRequests.open({ db: await open(new MemoryDatabase()) });
    const s = stranger();
    const big = 'x'.repeat(12_000);
    for (let i = 0; i < 4; i++) await r.incoming({ ...s, frames: [chat(`${i}${big}`)] });
    const kept = r.get(s.contact)!.messages;
    assert.ok(kept.reduce((t, m) => t + utf8ToBytes(m.text).length, 0) <= MAX_REQUEST_TEXT_BYTES);
    assert.deepEqual(
      kept.map((m) => m.text[0]),
      ['2', '3'],
    );
  });

  it('keeps at most MAX_PENDING_REQUESTS requests: a new one pushes out the oldest', async () => {
    const data = new MemoryDatabase();
    const r = await MessageRequests.open({ db: await open(data) });
    const all = Array.from({ length: MAX_PENDING_REQUESTS + 1 }, (_, i) => stranger(`s${i}`));
    for (const s of all) await r.incoming({ ...s, frames: [chat('hi')] });
    assert.equal(r.list().length, MAX_PENDING_REQUESTS);
    assert.equal(r.get(all[0]!.contact), undefined);
    assert.ok(r.get(all.at(-1)!.contact));
    // The same after a restart: the eviction was stored.
    const again = await MessageRequests.open({ db: await open(data) });
    assert.equal(again.list().length, MAX_PENDING_REQUESTS);
    assert.equal(again.get(all[0]!.contact), undefined);
  });

  it('signals and receipts alone make no request (an offer is kept to answer later), and a message is kept once', async () => {
    const r = await MessageRequests.open({ db: await open(new MemoryDatabase()) });
    const s = stranger();
    const offer: DeliveryFrame = {
      type: 'signal',
      kind: 'offer',
      linkId: new Uint8Array(16),
      sentAt: 1,
      description: 'v=0',
    };
    const receipt: DeliveryFrame = { type: 'receipt', kind: 'delivered', ids: [new Uint8Array(16)] };
    assert.equal(await r.incoming({ ...s, frames: [receipt] }), false);
    // An offer alone is kept in memory (its coin held) to be answered if the user adds the
    // sender's invite, but it is no request.
    assert.equal(await r.incoming({ ...s, frames: [offer] }), true);
    assert.equal(r.get(s.contact), undefined);
    assert.deepEqual(r.release(s.contact)?.signals, [offer]);
    const m = chat('once');
    await r.incoming({ ...s, frames: [m, offer] });
    await r.incoming({ ...s, frames: [m] });
    assert.equal(r.get(s.contact)!.messages.length, 1);
  });

  it('a card without an address on this network is refused at first sight (WRONG_NETWORK)', async () => {
    const refused: Error[] = [];
    const r = await MessageRequests.open({
      db: await open(new MemoryDatabase()),
      // The test users' cards list a kaspatest address only.
      checkCard: (card) => requireAddressOn(card, 'kaspasim'),
      onRefused: (_c, e) => refused.push(e),
    });
    const s = stranger();
    assert.equal(await r.incoming({ ...s, frames: [chat('hi')] }), false);
    assert.equal(r.get(s.contact), undefined);
    assert.ok(refused[0] instanceof ContactCardError);
    assert.equal((refused[0] as ContactCardError).code, 'WRONG_NETWORK');
  });

  it('release hands over the kept messages and the write that forgets the request', async () => {
    const db = await open(new MemoryDatabase());
    const r = await MessageRequests.open({ db });
    const s = stranger();
    await r.incoming({ ...s, frames: [chat('a'), chat('b')] });
    const taken = r.release(s.contact)!;
    assert.deepEqual(
      taken.chats.map((c) => c.text),
      ['a', 'b'],
    );
    await db.batch([...taken.ops]);
    r.released(s.contact);
    assert.equal(r.get(s.contact), undefined);
    assert.equal((await MessageRequests.open({ db })).get(s.contact), undefined);
    assert.equal(r.release(s.contact), undefined);
    await assert.rejects(
      r.delete(s.contact),
      (e: unknown) => e instanceof RequestError && e.code === 'UNKNOWN_REQUEST',
    );
  });

  it('a malformed stored record is refused with CORRUPT_RECORD', async () => {
    const db = await open(new MemoryDatabase());
    await db.put(REQUESTS_STORE, encodeKey('r', 'someone'), utf8ToBytes('{"v":1,"card":"00"}'));
    await assert.rejects(
      MessageRequests.open({ db }),
      (e: unknown) => e instanceof RequestError && e.code === 'CORRUPT_RECORD',
    );
  });

  it('a block keeps its period after the unblock: a chat sent inside it stays dropped, one sent before or after is kept', async () => {
    const data = new MemoryDatabase();
    let now = 10_000;
    const r = await MessageRequests.open({ db: await open(data), now: () => now });
    const s = stranger();
    await r.block(s.contact);
    now = 20_000;
    await r.block(s.contact); // again while blocked: the period keeps its start
    await r.unblock(s.contact);
    assert.equal(r.isBlocked(s.contact), false);
    assert.deepEqual(r.blockedList(), []);
    assert.deepEqual(r.blockPeriods(s.contact), [{ from: 10_000, to: 20_000 }]);
    for (const t of [10_000, 15_000, 20_000]) assert.equal(r.sentWhileBlocked(s.contact, t), true, `${t}`);
    for (const t of [9_999, 20_001]) assert.equal(r.sentWhileBlocked(s.contact, t), false, `${t}`);
    await r.incoming({
      ...s,
      frames: [chat('before', 9_000), chat('during', 15_000), chat('after', 21_000)],
    });
    assert.deepEqual(
      r.get(s.contact)!.messages.map((m) => m.text),
      ['before', 'after'],
    );
    // Stored as version 2, and read back after a restart.
    const stored = await (await open(data)).get(REQUESTS_STORE, encodeKey('b', s.contact));
    assert.deepEqual(JSON.parse(bytesToUtf8(stored!)), { v: 2, periods: [[10_000, 20_000]] });
    const again = await MessageRequests.open({ db: await open(data) });
    assert.equal(again.isBlocked(s.contact), false);
    assert.equal(again.sentWhileBlocked(s.contact, 15_000), true);
  });

  it('reads a version 1 block record (decimal Unix ms) as a block that still lasts', async () => {
    const db = await open(new MemoryDatabase());
    await db.put(REQUESTS_STORE, encodeKey('b', 'someone'), utf8ToBytes('1764583200000'));
    const r = await MessageRequests.open({ db, now: () => 1_764_583_300_000 });
    assert.equal(r.isBlocked('someone'), true);
    assert.deepEqual(r.blockedList(), ['someone']);
    assert.deepEqual(r.blockPeriods('someone'), [{ from: 1_764_583_200_000 }]);
    await r.unblock('someone');
    assert.deepEqual(r.blockPeriods('someone'), [{ from: 1_764_583_200_000, to: 1_764_583_300_000 }]);
  });

  it(`keeps at most MAX_BLOCK_PERIODS periods per record, the oldest merged so nothing sent while blocked comes back`, async () => {
    let now = 0;
    const r = await MessageRequests.open({ db: await open(new MemoryDatabase()), now: () => now });
    for (let i = 0; i < MAX_BLOCK_PERIODS + 2; i++) {
      now = i * 100;
      await r.block('someone');
      now = i * 100 + 10;
      await r.unblock('someone');
    }
    const periods = r.blockPeriods('someone');
    assert.equal(periods.length, MAX_BLOCK_PERIODS);
    assert.deepEqual(periods[0], { from: 0, to: 210 });
    for (let i = 0; i < MAX_BLOCK_PERIODS + 2; i++)
      assert.equal(r.sentWhileBlocked('someone', i * 100 + 5), true);
    assert.equal(r.sentWhileBlocked('someone', (MAX_BLOCK_PERIODS + 1) * 100 + 50), false);
  });

  it('a malformed block record, or one of another version, is refused with CORRUPT_RECORD', async () => {
    for (const value of [
      '',
      'soon',
      '{"v":3,"periods":[[1,null]]}',
      '{"v":2,"periods":[]}',
      '{"v":2,"periods":[[5,1]]}',
      '{"v":2,"periods":[[1,null],[2,3]]}',
      'null',
    ]) {
      const db = await open(new MemoryDatabase());
      await db.put(REQUESTS_STORE, encodeKey('b', 'someone'), utf8ToBytes(value));
      await assert.rejects(
        MessageRequests.open({ db }),
        (e: unknown) => e instanceof RequestError && e.code === 'CORRUPT_RECORD',
        value,
      );
    }
  });
});
