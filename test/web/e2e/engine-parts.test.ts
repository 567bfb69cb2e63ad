/**
 * The pure parts of the web app's real engine, in Node: the mapping of engine records to the
 * app's words, the backup file, and which page parameters may point the app at a network.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { IncomingMessage, OutgoingMessage } from '../../../src/core/delivery/messages.ts';
import { notificationValue } from '../../../src/core/delivery/chain-tx.ts';
import { AppApiError, TOP_UP_URL } from '../../../src/web/app-api.ts';
import { FakeApi } from '../../../src/web/fake-api.ts';
import {
  BACKUP_STORES,
  ONE_TIME_KEYS_RECORDS,
  encodeBackup,
  encodeOneTimeRecord,
  openBackup,
  readBackupHeader,
} from '../../../src/web/engine/backup.ts';
import { REQUESTS_STORE } from '../../../src/core/requests/requests.ts';
import { CONTACTS_STORE, PROFILE_STORE, PROOFS_STORE, STATE_STORE } from '../../../src/web/engine/profile.ts';
import { DELIVERY_STORES } from '../../../src/core/delivery/store.ts';
import { realApiOptionsFromUrl } from '../../../src/web/engine/config.ts';
import { NETWORKS } from '../../../src/web/engine/network.ts';
import { chatMessage, deliveryBalance } from '../../../src/web/engine/view.ts';
import { randomBytes, utf8ToBytes } from '../../../src/util/bytes.ts';

const out = (patch: Partial<OutgoingMessage>): OutgoingMessage => ({
  direction: 'out',
  id: 'a'.repeat(32),
  contact: 'p2p1contact',
  seq: 1,
  sentAt: 1_700_000_000_000,
  text: 'hello',
  status: 'queued',
  publications: 0,
  attempts: 0,
  ...patch,
});

const inc = (patch: Partial<IncomingMessage>): IncomingMessage => ({
  direction: 'in',
  id: 'b'.repeat(32),
  contact: 'p2p1contact',
  sentAt: 1_700_000_000_000,
  text: 'hi',
  receivedAt: 1_700_000_000_500,
  route: 'direct',
  read: false,
  ...patch,
});

describe('engine records in the app words', () => {
  it('maps every outgoing status and route', () => {
    const cases = [
      ['queued', 'sending'],
      ['sent', 'sent'],
      ['published', 'sent'],
      ['delivered', 'delivered'],
      ['read', 'read'],
      ['failed', 'failed'],
    ] as const;
    for (const [status, word] of cases) assert.equal(chatMessage(out({ status }), false).status, word);
    assert.equal(chatMessage(out({}), false).route, undefined);
    assert.equal(chatMessage(out({ route: 'direct' }), false).route, 'direct');
    const published = chatMessage(
      out({ status: 'published', route: 'chain', proof: { txId: 'c'.repeat(64), publishedAt: 1 } }),
      false,
    );
    assert.equal(published.route, 'secure');
    assert.equal(published.hasProof, true);
    assert.equal(published.outgoing, true);
  });

  it('shows the verified badge on an incoming message only when it came by chain and its transaction is known', () => {
    assert.equal(chatMessage(inc({ route: 'chain' }), true).hasProof, true);
    assert.equal(chatMessage(inc({ route: 'chain' }), false).hasProof, false);
    assert.equal(chatMessage(inc({ route: 'direct' }), true).hasProof, false);
    const m = chatMessage(inc({ route: 'chain' }), true);
    assert.equal(m.status, 'delivered');
    assert.equal(m.route, 'secure');
    assert.equal(m.outgoing, false);
  });

  it('counts messages left and value held apart', () => {
    const coin = notificationValue();
    const b = deliveryBalance(
      {
        spendable: 10_000_000n,
        locked: 3n * coin,
        costPerMessage: 1_000_000n,
        messagesLeft: 10,
        insufficient: false,
      },
      true,
      'local',
    );
    assert.deepEqual(b, {
      spendable: 10_000_000n,
      lockedInPending: 3n * coin,
      costPerMessage: 1_000_000n,
      messagesLeft: 10,
      pendingMessages: 3,
      p2pOnly: true,
    });
  });

  it('offers the top-up link-out on mainnet only, to the one neutral page the fake uses too', async () => {
    const funds = { spendable: 0n, locked: 0n, costPerMessage: 1n, messagesLeft: 0, insufficient: true };
    assert.equal(deliveryBalance(funds, false, 'mainnet').topUpUrl, TOP_UP_URL);
    assert.equal(deliveryBalance(funds, false, 'testnet-10').topUpUrl, undefined);
    assert.equal(deliveryBalance(funds, false, 'local').topUpUrl, undefined);
    assert.equal(new URL(TOP_UP_URL).protocol, 'https:');
    assert.equal(new URL(TOP_UP_URL).search + new URL(TOP_UP_URL).hash, '', 'the link carries nothing');
    const fake = new FakeApi({ seed: true, stepMs: 1 });
    await fake.updateSettings({ network: 'mainnet' });
    assert.equal((await fake.balance()).topUpUrl, TOP_UP_URL);
  });
});

describe('backup file', () => {
  const seed = randomBytes(32);
  const contents = {
    vault: randomBytes(110),
    displayName: 'Zoë',
    records: BACKUP_STORES.map((store, i) => ({
      store,
      key: randomBytes(1 + i),
      value: randomBytes(90 + i),
    })),
  };

  it('carries contacts, evidence, every delivery store and the requests, never ratchet sessions or settings', () => {
    assert.deepEqual(
      [...BACKUP_STORES].sort(),
      [CONTACTS_STORE, PROOFS_STORE, REQUESTS_STORE, ...DELIVERY_STORES].sort(),
    );
    assert.equal(BACKUP_STORES.at(-1), REQUESTS_STORE, 'added last: version 2 indexes keep their meaning');
    // Progress before what it vouches for (see BACKUP_STORES).
    const at = (store: string): number => BACKUP_STORES.indexOf(store);
    assert.ok(at('delivery.coins') < at('delivery.index') && at('delivery.meta') < at('delivery.index'));
    assert.ok(at('delivery.index') < at('delivery.messages') && at('delivery.messages') < at(PROOFS_STORE));
    assert.ok(!BACKUP_STORES.includes(STATE_STORE) && !BACKUP_STORES.includes(PROFILE_STORE));
    assert.throws(
      () =>
        encodeBackup(
          { ...contents, records: [{ store: STATE_STORE, key: randomBytes(1), value: randomBytes(1) }] },
          seed,
        ),
      RangeError,
    );
  });

  it('restores version 2 and 3 files (without requests, without one-time keys); refuses version 1 and 5 clearly', () => {
    const v2 = { ...contents, records: contents.records.filter((r) => r.store !== REQUESTS_STORE) };
    const file = encodeBackup(v2, seed, 2);
    assert.equal(file[4], 2);
    assert.deepEqual(openBackup(file, seed), v2);
    assert.throws(() => encodeBackup(contents, seed, 2), RangeError, 'version 2 holds no requests');
    const v3 = encodeBackup(contents, seed, 3);
    assert.equal(v3[4], 3);
    assert.deepEqual(openBackup(v3, seed), contents);
    const withKeys = {
      ...contents,
      records: [
        ...contents.records,
        {
          store: ONE_TIME_KEYS_RECORDS,
          key: randomBytes(4),
          value: encodeOneTimeRecord(randomBytes(40), [1, 2]),
        },
      ],
    };
    assert.throws(() => encodeBackup(withKeys, seed, 3), RangeError, 'version 3 holds no one-time keys');
    const v4 = encodeBackup(withKeys, seed);
    assert.equal(v4[4], 4);
    assert.deepEqual(openBackup(v4, seed), withKeys);
    for (const version of [1, 5]) {
      const other = encodeBackup(contents, seed);
      other[4] = version;
      assert.throws(
        () => openBackup(other, seed),
        (e: unknown) =>
          e instanceof AppApiError && e.code === 'BAD_BACKUP' && /another version/.test(e.message),
      );
    }
  });

  it('round-trips and opens only with the seed the vault yields', () => {
    const file = encodeBackup(contents, seed);
    assert.deepEqual(readBackupHeader(file), { vault: contents.vault, displayName: 'Zoë' });
    assert.deepEqual(openBackup(file, seed), contents);
    assert.throws(
      () => openBackup(file, randomBytes(32)),
      (e: unknown) => e instanceof AppApiError && e.code === 'BAD_BACKUP',
    );
  });

  it('refuses any altered byte', () => {
    const file = encodeBackup(contents, seed);
    fc.assert(
      fc.property(fc.nat(file.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const bad = file.slice();
        bad[i]! ^= x;
        assert.throws(
          () => openBackup(bad, seed),
          (e: unknown) => e instanceof AppApiError && e.code === 'BAD_BACKUP',
        );
      }),
    );
  });

  it('refuses a truncated file, reading its header only while the header is whole', () => {
    const file = encodeBackup(contents, seed);
    const badBackup = (e: unknown): boolean => e instanceof AppApiError && e.code === 'BAD_BACKUP';
    // magic, version, the two length-prefixed fields and the nonce (one-byte lengths here).
    const headerEnd = 4 + 1 + 1 + contents.vault.length + 1 + utf8ToBytes('Zoë').length + 24;
    for (let n = 0; n < file.length; n++) {
      const cut = file.slice(0, n);
      assert.throws(() => openBackup(cut, seed), badBackup, `cut at ${n}`);
      if (n < headerEnd) assert.throws(() => readBackupHeader(cut), badBackup, `header cut at ${n}`);
      else assert.deepEqual(readBackupHeader(cut), { vault: contents.vault, displayName: 'Zoë' });
    }
  });

  it('answers hostile input with BAD_BACKUP only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        try {
          openBackup(bytes, seed);
          assert.fail('opened random bytes');
        } catch (e) {
          assert.ok(e instanceof AppApiError && e.code === 'BAD_BACKUP', String(e));
        }
      }),
    );
  });
});

describe('page parameters and networks', () => {
  it('takes a node and faucet only on this machine', () => {
    const page = 'http://127.0.0.1:8080/';
    assert.deepEqual(
      realApiOptionsFromUrl(`${page}?node=ws://127.0.0.1:4000&faucet=http://127.0.0.1:4001/devnet/fund`),
      { localNodeUrl: 'ws://127.0.0.1:4000', localFaucetUrl: 'http://127.0.0.1:4001/devnet/fund' },
    );
    // The faucet on the page's own origin only where the page names it (local-origin.ts).
    const sameOrigin = { localFaucetUrl: 'http://127.0.0.1:8080/devnet/fund' };
    assert.deepEqual(realApiOptionsFromUrl(page), {});
    assert.deepEqual(realApiOptionsFromUrl(page, '/devnet/fund'), sameOrigin);
    assert.deepEqual(realApiOptionsFromUrl(page, 'http://127.0.0.1:9/devnet/fund'), {});
    assert.deepEqual(
      realApiOptionsFromUrl(`${page}?node=ws://evil.example:4000`, '/devnet/fund'),
      sameOrigin,
    );
    assert.deepEqual(realApiOptionsFromUrl(`${page}?faucet=http://10.0.0.1/fund`), {});
    assert.deepEqual(realApiOptionsFromUrl(`${page}?node=http://127.0.0.1:4000&faucet=ws://127.0.0.1:1`), {});
    assert.deepEqual(realApiOptionsFromUrl('https://p2pcomm.example/?node=ws://127.0.0.1:1'), {
      localNodeUrl: 'ws://127.0.0.1:1',
    });
  });

  it('has a faucet on the local network only', () => {
    assert.deepEqual(
      Object.entries(NETWORKS)
        .filter(([, n]) => n.hasLocalFaucet)
        .map(([id]) => id),
      ['local'],
    );
  });
});
