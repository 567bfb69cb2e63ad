/**
 * Safety numbers and stored metadata in the real app, in Chromium on a local network:
 * Alice and Bob exchange messages (the first on chain, before a direct link exists), see the
 * same 60-digit safety number, and Bob verifies Alice by typing hers. Then each one's
 * IndexedDB is dumped raw and searched for what the conversation's records hold: peer ids,
 * message ids, timestamps, outpoints, tx ids, direction words. The records searched for are
 * read back from the same dump through the storage key (derived from the recovery key shown
 * at creation), so the test looks for what is really there. Last, a card with another key
 * under Alice's name is added and warned about.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeMessage } from '../../../src/core/delivery/messages.ts';
import { decodeRecoveryKey } from '../../../src/core/identity/recovery-key.ts';
import { parsePeerId } from '../../../src/core/identity/peer-id.ts';
import { decodeKey, u64Key } from '../../../src/storage/keys.ts';
import { openMemoryStore } from '../../../src/storage/memory.ts';
import { openStorage } from '../../../src/storage/open.ts';
import { META_STORE } from '../../../src/storage/schema.ts';
import { bytesToHex, hexToBytes, utf8ToBytes } from '../../../src/util/bytes.ts';
import { PROFILE_STORE, WEB_SCHEMA, storageKeyOf } from '../../../src/web/engine/profile.ts';
import {
  SLOW,
  UI,
  acceptRequest,
  addByLink,
  openChat,
  received,
  send,
  startRealApp,
  submitIdentityForm,
  type RealApp,
  type User,
} from './real-app.ts';
import { isOpaqueKey } from '../../core/helpers.ts';

/** Every record of every IndexedDB database of the page, raw: [database, store, key hex, value hex]. */
const DUMP = `(async () => {
  const hex = (v) => {
    const b = v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  };
  const req = (r) => new Promise((res, rej) => { r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
  const out = [];
  for (const info of await indexedDB.databases()) {
    const db = await req(indexedDB.open(info.name));
    for (const store of Array.from(db.objectStoreNames)) {
      const os = db.transaction(store).objectStore(store);
      const [keys, values] = await Promise.all([req(os.getAllKeys()), req(os.getAll())]);
      keys.forEach((k, i) => out.push([info.name, store, hex(k), hex(values[i])]));
    }
    db.close();
  }
  return out;
})()`;

describe('safety numbers and data at rest in the real app', () => {
  let app: RealApp;
  let alice: User;
  let bob: User;
  const words = new Map<User, string>();

  before(async () => {
    app = await startRealApp();
  });
  after(async () => {
    await app?.close();
  });

  it('creates Alice and Bob, and they write to each other (first by chain)', async () => {
    alice = await app.newUser('Alice', 'alice-vault-password', { create: false });
    bob = await app.newUser('Bob', 'bob-vault-password', { create: false });
    for (const u of [alice, bob]) {
      await submitIdentityForm(u);
      const key = (await u.page.locator('ol.words li').allTextContents()).map((w) =>
        w.replace(/^\s*\d+\.?\s*/, '').trim(),
      );
      words.set(u, key.join(' '));
      await u.page.getByLabel('I have saved my recovery key').check();
      await u.page.getByRole('button', { name: 'Continue' }).click();
      await u.page.locator('svg.qr path').waitFor({ timeout: UI });
      u.invite = await u.page.getByRole('textbox', { name: 'Invite link' }).inputValue();
    }
    // Alice writes before Bob knows her: the message goes by chain and waits under Bob's
    // message requests until he accepts it.
    await addByLink(alice, bob);
    await send(alice, 'Hello Bob, by secure delivery.');
    await acceptRequest(bob, 'Alice');
    await received(bob, 'Hello Bob, by secure delivery.');
    await send(bob, 'Hello Alice.');
    await received(alice, 'Hello Alice.');
  });

  it('shows the same safety number on both sides; Bob verifies Alice by typing hers', async () => {
    const groups = new Map<User, string[]>();
    for (const u of [alice, bob]) {
      await u.page.getByRole('link', { name: 'verify safety number' }).click();
      await u.page.locator('ol.safety-groups li').first().waitFor({ timeout: UI });
      groups.set(u, await u.page.locator('ol.safety-groups li').allTextContents());
    }
    assert.equal(groups.get(alice)!.length, 12);
    assert.deepEqual(groups.get(alice), groups.get(bob));
    await bob.page.getByRole('textbox', { name: 'Their safety number' }).fill(groups.get(alice)!.join(' '));
    await bob.page.getByRole('button', { name: 'Compare' }).click();
    await bob.page.locator('.verified-state.is-verified').waitFor({ timeout: UI });
    await bob.page.getByRole('link', { name: 'Back to conversation' }).click();
    await bob.page.locator('.verified-mark.is-verified').waitFor({ timeout: UI });
    // Verified survives a reload (stored, sealed).
    await bob.page.reload();
    await bob.page.getByLabel('Password').fill(bob.password);
    await bob.page.getByRole('button', { name: 'Unlock' }).click();
    await openChat(bob, 'Alice');
    await bob.page.locator('.verified-mark.is-verified').waitFor({ timeout: SLOW });
    await alice.page.getByRole('link', { name: 'Back to conversation' }).click();
    await alice.page.locator('.verified-mark.not-verified').waitFor({ timeout: UI });
  });

  it('holds no peer id, message id, timestamp, outpoint, tx id or direction word outside the seal', async () => {
    const needles = new Map<string, string>();
    const add = (what: string, bytes: Uint8Array): void => {
      needles.set(bytesToHex(bytes), what);
    };
    for (const word of ['incoming', 'outgoing']) add(`direction "${word}"`, utf8ToBytes(word));
    const stats = { messages: 0, coins: 0, contacts: 0, trust: 0 };
    const dumps = new Map<User, (readonly [string, string, string, string])[]>();
    for (const u of [alice, bob]) {
      const dump = (await u.page.evaluate(DUMP)) as [string, string, string, string][];
      dumps.set(u, dump);
      // Read the dump back through the storage key, as its owner would.
      const raw = await openMemoryStore(WEB_SCHEMA);
      await raw.batch(
        dump.map(
          ([, store, k, v]) => ({ type: 'put', store, key: hexToBytes(k), value: hexToBytes(v) }) as const,
        ),
      );
      const db = await openStorage(raw, WEB_SCHEMA, {
        storageKey: storageKeyOf(decodeRecoveryKey(words.get(u)!)),
        clearStores: [PROFILE_STORE],
      });
      for (const [key] of await db.scan('app.contacts')) {
        stats.contacts++;
        const text = new TextDecoder().decode(key);
        add(`contact id ${text}`, key);
        add(`peer id bytes of ${text}`, parsePeerId(text));
      }
      for (const [key] of await db.scan('app.state')) {
        const parts = (() => {
          try {
            return decodeKey(key);
          } catch {
            return [];
          }
        })();
        if (parts[0] === 'trust') stats.trust++;
      }
      for (const [, value] of await db.scan('delivery.messages')) {
        const m = decodeMessage(value);
        stats.messages++;
        add(`message id ${m.id}`, hexToBytes(m.id));
        add(`message id text ${m.id}`, utf8ToBytes(m.id));
        add(`sentAt ${m.sentAt}`, u64Key(m.sentAt));
        add(`sentAt text ${m.sentAt}`, utf8ToBytes(String(m.sentAt)));
        if (m.direction === 'out' && m.proof !== undefined) {
          add(`tx id ${m.proof.txId}`, hexToBytes(m.proof.txId));
          add(`tx id text ${m.proof.txId}`, utf8ToBytes(m.proof.txId));
        }
      }
      for (const [k] of await db.scan('delivery.coins')) {
        const [kind, outpoint] = decodeKey(k);
        if (kind !== 'coin' || typeof outpoint !== 'string') continue;
        stats.coins++;
        add(`outpoint ${outpoint}`, utf8ToBytes(outpoint));
        add(`outpoint tx id ${outpoint.slice(0, 64)}`, hexToBytes(outpoint.slice(0, 64)));
      }
      await db.close();
    }
    assert.ok(stats.messages >= 4, `messages read back: ${stats.messages}`);
    assert.ok(stats.contacts >= 2, `contacts read back: ${stats.contacts}`);
    assert.ok(stats.coins >= 1, `coins read back: ${stats.coins}`);
    assert.equal(stats.trust, 1, "Bob's verification is stored");

    for (const [u, dump] of dumps) {
      for (const [, store, k] of dump) {
        if (store === PROFILE_STORE || store === META_STORE) continue;
        assert.ok(isOpaqueKey(hexToBytes(k)), `${u.name}: ${store} key ${k} is not opaque`);
      }
      const records = dump.flatMap(([, , k, v]) => [Buffer.from(k, 'hex'), Buffer.from(v, 'hex')]);
      for (const [hex, what] of needles) {
        const needle = Buffer.from(hex, 'hex');
        assert.ok(!records.some((r) => r.includes(needle)), `${u.name}'s database shows ${what}`);
      }
    }
  });

  it('warns Bob when a card with another key carries the name of a contact he has', async () => {
    // Someone else calls herself Alice: a new identity, so a new contact, not a replacement.
    const other = await app.newUser('Alice', 'another-vault-password');
    await addByLink(bob, other);
    await bob.page
      .locator('.key-warning', {
        hasText: 'You already have a contact named Alice with a different safety number',
      })
      .waitFor({ timeout: UI });
    await bob.page.locator('.verified-mark.not-verified').waitFor({ timeout: UI });
  });
});
