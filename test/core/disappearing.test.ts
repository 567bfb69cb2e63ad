/**
 * Disappearing messages (core/disappearing/timer.ts): the newest-setting rule, which timer a
 * message gets and when it expires, the stored record, envelope type 15 and hostile bytes,
 * and the sweeper over a real SQLite store.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  DisappearingSweeper,
  MAX_SETTINGS,
  addSetting,
  currentSetting,
  decodeSettings,
  encodeSettings,
  expiresAt,
  type TimerSetting,
} from '../../src/core/disappearing/timer.ts';
import type { IncomingMessage } from '../../src/core/delivery/messages.ts';
import { DELIVERY_STORES, DeliveryStore } from '../../src/core/delivery/store.ts';
import { decodeEnvelope, encodeEnvelope, type MessageId } from '../../src/core/envelope/envelope.ts';
import { openStorage } from '../../src/storage/open.ts';
import { openSqliteStore } from '../../src/storage/sqlite.ts';
import { bytesToHex, randomBytes } from '../../src/util/bytes.ts';
import { DecodeError } from '../../src/util/errors.ts';

const T = 1_764_600_000_000;
const setting = (setAt: number, seconds: TimerSetting['seconds'], idByte = 1): TimerSetting => ({
  id: new Uint8Array(16).fill(idByte),
  setAt,
  seconds,
  by: 'contact',
});
const code = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof DecodeError, String(e));
    return e.code;
  }
};

describe('disappearing timer: agreement and expiry', () => {
  it('takes the newest setting by (setAt, id) whatever the arrival order', () => {
    const a = setting(T, 300, 1);
    const b = setting(T + 1000, 3600, 1);
    const c = setting(T + 1000, 86_400, 2); // same time: the greater id wins, on both sides
    for (const order of [
      [a, b, c],
      [c, b, a],
      [b, a, c],
    ])
      assert.equal(currentSetting(order)?.seconds, 86_400);
    assert.equal(currentSetting([]), undefined);
    // Idempotent by id, bounded, oldest first.
    assert.equal(addSetting([a], a).length, 1);
    let many: TimerSetting[] = [];
    for (let i = 0; i < MAX_SETTINGS + 5; i++) many = addSetting(many, setting(T + i, 300, i));
    assert.equal(many.length, MAX_SETTINGS);
    assert.equal(many[0]!.setAt, T + 5);
  });

  it('gives a message the setting in force when it was written; incoming counts from arrival', () => {
    const settings = [setting(T, 300), setting(T + 10_000, 0, 2), setting(T + 20_000, 3600, 3)];
    assert.equal(expiresAt(settings, { direction: 'out', sentAt: T - 1 }), undefined, 'before any');
    assert.equal(expiresAt(settings, { direction: 'out', sentAt: T + 5 }), T + 5 + 300_000);
    assert.equal(expiresAt(settings, { direction: 'out', sentAt: T + 15_000 }), undefined, 'under off');
    assert.equal(
      expiresAt(settings, { direction: 'in', sentAt: T + 25_000, receivedAt: T + 90_000_000 }),
      T + 90_000_000 + 3_600_000,
    );
  });
});

describe('disappearing timer: formats', () => {
  it('round-trips envelope type 15 and refuses values not offered, short and long bodies', () => {
    const id = randomBytes(16) as MessageId;
    const bytes = encodeEnvelope({ id, timestamp: T, body: { type: 'disappearing-timer', seconds: 3600 } });
    assert.equal(bytes[1], 15);
    assert.deepEqual(decodeEnvelope(bytes).body, { type: 'disappearing-timer', seconds: 3600 });
    const withSeconds = (n: number): Uint8Array => {
      const b = bytes.slice();
      new DataView(b.buffer).setUint32(b.length - 4, n, true);
      return b;
    };
    assert.equal(
      code(() => decodeEnvelope(withSeconds(60))),
      'MALFORMED',
    );
    assert.equal(
      code(() => decodeEnvelope(withSeconds(0xffffffff))),
      'MALFORMED',
    );
    assert.equal(
      code(() => decodeEnvelope(bytes.subarray(0, bytes.length - 1))),
      'TRUNCATED',
    );
    assert.equal(
      code(() => decodeEnvelope(Uint8Array.of(...bytes, 0))),
      'TRAILING_BYTES',
    );
    assert.throws(
      () => encodeEnvelope({ id, timestamp: T, body: { type: 'disappearing-timer', seconds: 60 as never } }),
      RangeError,
    );
  });

  it('round-trips the stored record and refuses another version, too many settings, bad fields', () => {
    const settings = [setting(T, 300, 1), { ...setting(T + 5, 604_800, 2), by: 'me' as const }];
    const bytes = encodeSettings(settings);
    assert.deepEqual(decodeSettings(bytes), settings);
    assert.equal(
      code(() => decodeSettings(Uint8Array.of(2, ...bytes.subarray(1)))),
      'UNKNOWN_VERSION',
    );
    assert.equal(
      code(() => decodeSettings(Uint8Array.of(1, 17))),
      'MALFORMED',
    );
    const badBy = bytes.slice();
    badBy[badBy.length - 1] = 7;
    assert.equal(
      code(() => decodeSettings(badBy)),
      'MALFORMED',
    );
    assert.equal(
      code(() => decodeSettings(bytes.subarray(0, 20))),
      'TRUNCATED',
    );
    assert.equal(
      code(() => decodeSettings(Uint8Array.of(...bytes, 1))),
      'TRAILING_BYTES',
    );
  });
});

describe('disappearing timer: the sweeper over a real store', () => {
  it('deletes what expired while the app was closed on its first sweep, and schedules the next', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'p2pcomm-disappearing-'));
    const schema = { version: 1, stores: [...DELIVERY_STORES] };
    const db = await openStorage(await openSqliteStore(join(dir, 'p.db'), schema), schema, {
      storageKey: new Uint8Array(32).fill(3),
    });
    try {
      const store = new DeliveryStore(db);
      const settings = [setting(T, 300)];
      const msg = (i: number, receivedAt: number): IncomingMessage => ({
        direction: 'in',
        id: bytesToHex(randomBytes(16)),
        contact: 'bob',
        sentAt: T + i,
        text: `m${i}`,
        receivedAt,
        route: 'chain',
        read: true,
      });
      // One arrived long ago (expired while closed), one a minute ago (4 minutes left).
      let now = T + 3_600_000;
      await store.write([...store.putOps(msg(1, T + 10)), ...store.putOps(msg(2, now - 60_000))]);
      const swept: number[] = [];
      const live = async (): Promise<IncomingMessage[]> =>
        (await store.conversation('bob', 'in')) as IncomingMessage[];
      const sweeper = new DisappearingSweeper(
        {
          async nextExpiry() {
            const at = (await live()).map((m) => expiresAt(settings, m)!);
            return at.length === 0 ? undefined : Math.min(...at);
          },
          async deleteExpired(t) {
            const gone = (await live()).filter((m) => expiresAt(settings, m)! <= t);
            await store.write(store.deleteOps(gone));
            return gone.length;
          },
          onSwept: (n) => swept.push(n),
        },
        () => now,
      );
      await sweeper.sweep();
      assert.deepEqual(
        (await live()).map((m) => m.text),
        ['m2'],
      );
      now += 4 * 60_000 + 1;
      await sweeper.sweep();
      sweeper.stop();
      assert.deepEqual(await live(), []);
      assert.deepEqual(swept, [1, 1]);
    } finally {
      await db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
