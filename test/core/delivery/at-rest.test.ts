/**
 * What a stolen disk shows: two clients on the local Kaspa network, each over a SQLite file
 * sealed under its storage key, exchange messages by chain (coins go out and come back);
 * then every key and value of the raw files is searched for the conversation's metadata.
 * The metadata searched for is read back from the same files through the storage key, so
 * the test looks for what is really there.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevnet, type DevnetHandle } from '../../../src/devnet/index.ts';
import { DELIVERY_STORES } from '../../../src/core/delivery/store.ts';
import { decodeMessage } from '../../../src/core/delivery/messages.ts';
import { REQUESTS_STORE } from '../../../src/core/requests/requests.ts';
import { formatPeerId } from '../../../src/core/identity/peer-id.ts';
import { openSqliteStore } from '../../../src/storage/sqlite.ts';
import { openStorage } from '../../../src/storage/open.ts';
import { decodeKey, u64Key } from '../../../src/storage/keys.ts';
import type { KeyValueStore, StorageSchema } from '../../../src/storage/types.ts';
import { bytesToHex, utf8ToBytes } from '../../../src/util/bytes.ts';
import { ChainUser, prefund } from './kaspa.ts';
import { isOpaqueKey } from '../helpers.ts';

const SCHEMA: StorageSchema = { version: 1, stores: [...DELIVERY_STORES, REQUESTS_STORE] };

describe('delivery data at rest in SQLite', () => {
  let devnet: DevnetHandle;
  const dir = mkdtempSync(join(tmpdir(), 'p2pcomm-at-rest-'));
  const keyOf = (n: number): Uint8Array => new Uint8Array(32).fill(n);
  const pathOf = (name: string): string => join(dir, `${name}.sqlite`);
  const open = async (name: string, key: Uint8Array): Promise<KeyValueStore> =>
    openStorage(await openSqliteStore(pathOf(name), SCHEMA), SCHEMA, { storageKey: key });
  const dbs = new Map<string, KeyValueStore>();
  const opener = (name: string, key: Uint8Array) => async (): Promise<KeyValueStore> => {
    const db = await open(name, key);
    dbs.set(name, db);
    return db;
  };
  const url = (): string => devnet.url;
  const alice = new ChainUser('alice', url, { openDb: opener('alice', keyOf(1)) });
  const bob = new ChainUser('bob', url, { openDb: opener('bob', keyOf(2)) });
  alice.knows(bob);
  bob.knows(alice);

  before(async () => {
    devnet = await startDevnet({
      port: 0,
      controlPort: false,
      blocksPerSecond: 20,
      prefund: prefund(alice, bob),
    });
    await alice.start();
    await bob.start();
  });
  after(async () => {
    for (const u of [alice, bob]) await u.stop().catch(() => undefined);
    for (const db of dbs.values()) await db.close().catch(() => undefined);
    await devnet.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds no peer id, message id, timestamp, outpoint, tx id or direction word in clear', async () => {
    await alice.engine.send(bob.id, 'first, over Kaspa');
    await bob.waitInbox(alice, 1);
    await bob.engine.send(alice.id, 'and back');
    await alice.waitInbox(bob, 1);
    await alice.engine.send(bob.id, 'once more');
    await bob.waitInbox(alice, 2);
    await alice.allOut(bob, ['delivered', 'read'], 2);
    await bob.allOut(alice, ['delivered', 'read'], 1);
    for (const u of [alice, bob]) await u.stop();
    for (const db of dbs.values()) await db.close();

    // What the files hold, read back through the storage keys.
    const needles = new Map<string, string>(); // hex -> what it is
    const add = (what: string, bytes: Uint8Array): void => {
      needles.set(bytesToHex(bytes), what);
    };
    for (const u of [alice, bob]) {
      add(`${u.name} peer id bytes`, u.identity.peerId);
      add(`${u.name} peer id text`, utf8ToBytes(formatPeerId(u.identity.peerId)));
      add(`${u.name} contact id`, utf8ToBytes(u.id));
    }
    for (const word of ['incoming', 'outgoing']) add(`direction "${word}"`, utf8ToBytes(word));
    let messages = 0;
    let coins = 0;
    let txIds = 0;
    for (const [name, key] of [
      ['alice', keyOf(1)],
      ['bob', keyOf(2)],
    ] as const) {
      const db = await open(name, key);
      for (const [, value] of await db.scan('delivery.messages')) {
        const m = decodeMessage(value);
        messages++;
        add(`message id ${m.id}`, Uint8Array.from(Buffer.from(m.id, 'hex')));
        add(`message id text ${m.id}`, utf8ToBytes(m.id));
        add(`sentAt ${m.sentAt}`, u64Key(m.sentAt));
        add(`sentAt text ${m.sentAt}`, utf8ToBytes(String(m.sentAt)));
        if (m.direction === 'out' && m.proof !== undefined) {
          txIds++;
          add(`tx id ${m.proof.txId}`, Uint8Array.from(Buffer.from(m.proof.txId, 'hex')));
          add(`tx id text ${m.proof.txId}`, utf8ToBytes(m.proof.txId));
        }
      }
      for (const [k] of await db.scan('delivery.coins')) {
        const [kind, outpoint] = decodeKey(k);
        if (kind !== 'coin' || typeof outpoint !== 'string') continue;
        coins++;
        add(`outpoint ${outpoint}`, utf8ToBytes(outpoint));
        const txId = outpoint.slice(0, 64);
        add(`outpoint tx id ${txId}`, Uint8Array.from(Buffer.from(txId, 'hex')));
        add(`outpoint tx id text ${txId}`, utf8ToBytes(txId));
      }
      await db.close();
    }
    assert.ok(messages >= 6, `messages read back: ${messages}`);
    assert.ok(coins >= 1, `coin records read back: ${coins}`);
    assert.ok(txIds >= 1, `proofs read back: ${txIds}`);

    for (const name of ['alice', 'bob']) {
      const raw = await openSqliteStore(pathOf(name), SCHEMA);
      const records: Buffer[] = [];
      for (const store of raw.stores) {
        for (const [k, v] of await raw.scan(store)) {
          records.push(Buffer.from(k), Buffer.from(v));
          // A key of a sealed store is opaque parts only (storage/opaque.ts): a keyed tag,
          // a trailing counter, or a tag of a whole non-tuple key. No part is in clear,
          // which also rules out the one-letter direction parts ("i", "o").
          if (store !== '__meta')
            assert.ok(isOpaqueKey(k), `${name}: ${store} key ${bytesToHex(k)} is not opaque`);
        }
      }
      await raw.close();
      for (const [hex, what] of needles) {
        const needle = Buffer.from(hex, 'hex');
        assert.ok(!records.some((r) => r.includes(needle)), `${name}'s file shows ${what}`);
      }
    }
  });
});
