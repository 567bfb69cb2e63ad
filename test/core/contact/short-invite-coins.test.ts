/** Which published short invites give their coin back, and when (src/core/contact/short-invite-coins.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InviteReclaim } from '../../../src/core/contact/chain-invite-directory.ts';
import type { TxId } from '../../../src/kaspa/types.ts';
import { openMemoryStore } from '../../../src/storage/memory.ts';
import type { StorageSchema } from '../../../src/storage/types.ts';
import { bytesToHex, randomBytes } from '../../../src/util/bytes.ts';
import { DecodeError } from '../../../src/util/errors.ts';
import {
  EMPTY_AFTER_MS,
  ShortInviteCoins,
  decodeShortInviteCoin,
  encodeShortInviteCoin,
} from '../../../src/core/contact/short-invite-coins.ts';

const HOUR = 60 * 60_000;
// Any key-value store will do: the records are the module's own (a browser keeps them in its
// profile's state store, a command-line client in whatever store it has).
const STORE = 'state';
const SCHEMA: StorageSchema = { version: 1, stores: [STORE] };

async function setup(opts: { held?: Set<number>; empty?: Set<string>; failing?: Set<string> } = {}) {
  const db = await openMemoryStore(SCHEMA);
  let now = 10 * HOUR;
  const asked: string[] = [];
  const reported: unknown[] = [];
  const coins = new ShortInviteCoins({
    db,
    store: STORE,
    reclaim: (locator): Promise<InviteReclaim | undefined> => {
      const hex = bytesToHex(locator);
      asked.push(hex);
      if (opts.failing?.has(hex)) return Promise.reject(new Error('the node refused'));
      if (opts.empty?.has(hex)) return Promise.resolve(undefined);
      return Promise.resolve({ txId: randomBytes(32) as TxId, amount: 30_000_000n, fee: 162_400n });
    },
    holdsOneTimeKey: (id) => opts.held?.has(id) ?? false,
    now: () => now,
    report: (e) => reported.push(e),
  });
  return { coins, asked, reported, advance: (ms: number) => (now += ms), now: () => now };
}

describe('short invite coins', () => {
  it('round-trips its record and refuses other versions and trailing bytes', () => {
    const locator = randomBytes(32);
    for (const c of [
      { locator, publishedAt: 123 },
      { locator, publishedAt: 2 ** 40, oneTimeId: 7 },
    ])
      assert.deepEqual(decodeShortInviteCoin(locator, encodeShortInviteCoin(c)), c);
    const bytes = encodeShortInviteCoin({ locator, publishedAt: 1 });
    const code = (c: string) => (e: unknown) => e instanceof DecodeError && e.code === c;
    assert.throws(
      () => decodeShortInviteCoin(locator, Uint8Array.of(2, ...bytes.slice(1))),
      code('UNKNOWN_VERSION'),
    );
    assert.throws(() => decodeShortInviteCoin(locator, Uint8Array.of(...bytes, 0)), code('TRAILING_BYTES'));
  });

  it('keeps the newest unused invite, takes back the replaced and the used ones, and all when asked', async () => {
    const t = await setup({ held: new Set([2, 3]) });
    const [a, b, c] = [randomBytes(32), randomBytes(32), randomBytes(32)];
    await t.coins.published({ locator: a, publishedAt: t.now() - 3, oneTimeId: 1 });
    await t.coins.published({ locator: b, publishedAt: t.now() - 2, oneTimeId: 2 });
    await t.coins.published({ locator: c, publishedAt: t.now() - 1, oneTimeId: 3 });
    // a: its one-time key is used; b: replaced by c; c: newest, unused, stays.
    assert.equal(await t.coins.sweep(), 2);
    assert.deepEqual(t.asked.sort(), [bytesToHex(a), bytesToHex(b)].sort());
    assert.deepEqual(
      (await t.coins.list()).map((x) => bytesToHex(x.locator)),
      [bytesToHex(c)],
    );
    assert.equal(await t.coins.sweep(true), 1);
    assert.deepEqual(await t.coins.list(), []);
  });

  it('keeps a record whose coin is not listed yet, and drops it once the address stays empty', async () => {
    const [a, b] = [randomBytes(32), randomBytes(32)];
    const t = await setup({ empty: new Set([bytesToHex(a)]) });
    await t.coins.published({ locator: a, publishedAt: t.now() });
    await t.coins.published({ locator: b, publishedAt: t.now() + 1 });
    assert.equal(await t.coins.sweep(), 0);
    assert.equal((await t.coins.list()).length, 2, 'a not accepted yet: kept');
    t.advance(EMPTY_AFTER_MS);
    assert.equal(await t.coins.sweep(), 0);
    assert.deepEqual(
      (await t.coins.list()).map((x) => bytesToHex(x.locator)),
      [bytesToHex(b)],
      'a taken by a holder of the link: dropped',
    );
  });

  it('reports a failed sweep and keeps its record for the next run', async () => {
    const [a, b] = [randomBytes(32), randomBytes(32)];
    const t = await setup({ failing: new Set([bytesToHex(a)]) });
    await t.coins.published({ locator: a, publishedAt: t.now() });
    await t.coins.published({ locator: b, publishedAt: t.now() + 1 });
    assert.equal(await t.coins.sweep(), 0);
    assert.equal(t.reported.length, 1);
    assert.equal((await t.coins.list()).length, 2);
  });
});
