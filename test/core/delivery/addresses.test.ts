import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { Identity } from '../../../src/core/identity/identity.ts';
import { ChainAddresses, type PeerKeys } from '../../../src/core/delivery/addresses/index.ts';
import {
  tweakPrivateKey,
  tweakPublicKey,
  StealthError,
} from '../../../src/core/delivery/addresses/stealth.ts';
import { buildPayment, notificationValue, type Candidate } from '../../../src/core/delivery/chain-tx.ts';
import { COINS_STORE } from '../../../src/core/delivery/kaspa-chain.ts';
import { DeliveryError } from '../../../src/core/delivery/errors.ts';
import { startDevnet } from '../../../src/devnet/index.ts';
import { Address, AddressVersion, addressToScriptPublicKey } from '../../../src/kaspa/address.ts';
import { KaspaHdWallet } from '../../../src/kaspa/hd.ts';
import { KaspaRpcClient } from '../../../src/kaspa/rpc/client.ts';
import { verifyInputSignature } from '../../../src/kaspa/sign.ts';
import { storageMass } from '../../../src/kaspa/mass.ts';
import type { TxId, Utxo } from '../../../src/kaspa/types.ts';
import { SOMPI_PER_KAS } from '../../../src/kaspa/types.ts';
import { ed25519ToX25519 } from '../../../src/core/identity/keys.ts';
import { randomBytes } from '../../../src/util/bytes.ts';
import { encodeKey } from '../../../src/storage/keys.ts';
import { seededRandom } from '../../privacy/observer.ts';
import { MemoryDatabase, openDb } from './fakes.ts';
import { until } from './harness.ts';

/** One client's identity, wallet and address book over a database that survives reopening. */
class Party {
  readonly identity = Identity.generate();
  readonly wallet = KaspaHdWallet.fromSeed(this.identity.walletSeed(), 'testnet');
  readonly data = new MemoryDatabase();
  readonly peers = new Map<string, PeerKeys>();
  book!: ChainAddresses;

  get keys(): PeerKeys {
    return { dh: this.identity.dhPublicKey, base: this.wallet.address('kaspasim', 0, 0, 0) };
  }

  async open(window = 4): Promise<this> {
    this.book = await ChainAddresses.open({
      wallet: this.wallet,
      prefix: 'kaspasim',
      selfDh: this.identity.dhPublicKey,
      agree: (p) => this.identity.agree(p as never),
      peerOf: (c) => this.peers.get(c),
      db: await openDb(this.data),
      store: COINS_STORE,
      window,
    });
    return this;
  }
}

async function pair(): Promise<[Party, Party]> {
  const a = new Party();
  const b = new Party();
  a.peers.set('b', { dh: ed25519ToX25519(b.identity.publicKey), base: b.keys.base });
  b.peers.set('a', { dh: ed25519ToX25519(a.identity.publicKey), base: a.keys.base });
  return [await a.open(), await b.open()];
}

function coinAt(address: Address, amount: bigint): Utxo {
  return {
    outpoint: { transactionId: randomBytes(32) as TxId, index: 0 },
    entry: {
      amount,
      scriptPublicKey: addressToScriptPublicKey(address),
      blockDaaScore: 1n,
      isCoinbase: false,
    },
  };
}

describe('chain format 2 addresses', () => {
  it('change addresses keep the contact pool they were handed out for, across a restart, until spent', async () => {
    const [a] = await pair();
    const main = await a.book.nextChange();
    const forB = await a.book.nextChange('b');
    const alsoB = await a.book.nextChange('b');
    const forC = await a.book.nextChange('c');
    await a.book.arrived(forB.toString());
    await a.open();
    a.book.watched([]); // as the chain adapter does at start: recent change is derived again
    assert.deepEqual(
      [main, forB, alsoB, forC].map((x) => a.book.poolOf(x.toString())),
      ['', 'b', 'b', 'c'],
    );
    assert.equal(a.book.poolOf(a.book.card.toString()), '', 'the card address holds main coins');
    await a.book.emptied(forB.toString());
    await a.open();
    a.book.watched([]);
    assert.equal(a.book.poolOf(forB.toString()), '', 'a spent change address is forgotten');
    assert.equal(a.book.poolOf(alsoB.toString()), 'b');
  });

  it('both sides derive the same fresh address per message and direction; none repeats', async () => {
    const [a, b] = await pair();
    // Until Bob is heard from, Alice writes to his card address (he may not know her yet).
    assert.equal(a.book.nextNotify('b')!.address.toString(), b.book.card.toString());
    await a.book.heard('b');
    const seen = new Set<string>();
    const window = b.book.windowOf('a');
    for (let k = 0; k < 4; k++) {
      const next = a.book.nextNotify('b')!;
      assert.equal(next.address.toString(), window[k], `index ${k} is in Bob's window`);
      assert.equal(b.book.originOf(next.address.toString())?.kind, 'notify');
      assert.ok(!seen.has(next.address.toString()));
      seen.add(next.address.toString());
      await next.commit();
    }
    // The other direction is a different sequence.
    for (const x of a.book.windowOf('b')) assert.ok(!seen.has(x) && x !== a.book.card.toString());
  });

  it('each coin moves the window on, and the counters survive a restart', async () => {
    const [a, b] = await pair();
    await a.book.heard('b');
    const sent: string[] = [];
    for (let k = 0; k < 10; k++) {
      const n = a.book.nextNotify('b')!;
      sent.push(n.address.toString());
      await n.commit();
    }
    // Bob watches indices 0 to 3; coin 3 lands first (receipts are submitted out of order):
    // the window reaches 7 and the gap below stays watched.
    assert.deepEqual(b.book.windowOf('a'), sent.slice(0, 4));
    assert.deepEqual(await b.book.arrived(sent[3]!), sent.slice(4, 8));
    assert.deepEqual(b.book.windowOf('a'), [...sent.slice(0, 3), ...sent.slice(4, 8)]);
    // Coin 9 lies past the window until coin 7 moves it on: a catch-up round at a time.
    assert.ok(!b.book.windowOf('a').includes(sent[9]!));
    await b.book.arrived(sent[7]!);
    assert.ok(b.book.windowOf('a').includes(sent[9]!));
    for (const k of [0, 1, 2, 4, 5, 6]) await b.book.arrived(sent[k]!);
    const window = b.book.windowOf('a');
    assert.deepEqual(window.slice(0, 2), sent.slice(8, 10), 'the gap filled: the window starts at 8');
    const reopened = await b.open();
    assert.deepEqual(reopened.book.windowOf('a'), window, 'the window survives the restart');
    // Addresses still holding coins are watched after the restart, below the window too.
    assert.ok(reopened.book.watched(['a']).includes(sent[3]!));
    await reopened.book.emptied(sent[3]!);
    assert.ok(!(await b.open()).book.watched(['a']).includes(sent[3]!));
    // Alice's next index is 10 after her restart: no address is used twice.
    const again = await a.open();
    assert.equal(again.book.nextNotify('b')!.address.toString(), window[2]);
  });

  it('what prepare derives ahead is what is handed out next, and it uses up no index', async () => {
    const [a, b] = await pair();
    await a.book.heard('b');
    a.book.prepare(['b'], 2);
    a.book.prepare(['b'], 2);
    // Nothing was handed out: the next change is still index 0, the next notification index 0.
    const change = [await a.book.nextChange('b'), await a.book.nextChange()];
    assert.deepEqual(
      change.map(String),
      [0, 1].map((j) => a.wallet.address('kaspasim', 0, 1, j).toString()),
    );
    const window = b.book.windowOf('a');
    const first = a.book.nextNotify('b')!;
    assert.equal(first.address.toString(), window[0]);
    await first.commit();
    a.book.prepare(['b'], 1);
    assert.equal(a.book.nextNotify('b')!.address.toString(), window[1]);
    // The keys derived ahead spend from their addresses.
    for (const c of change) {
      const key = a.book.keyOf(c.toString())!;
      assert.deepEqual(schnorr.getPublicKey(key), c.payload);
    }
    // A new card address for Bob (a rotated card) is a new base: nothing kept from the old one.
    const moved = new Party();
    a.peers.set('b', { dh: a.peers.get('b')!.dh, base: moved.keys.base });
    assert.notEqual(a.book.nextNotify('b')!.address.toString(), window[1]);
  });

  it('change goes to a fresh internal-chain address every time, never reused after a restart', async () => {
    const [a] = await pair();
    const first = await a.book.nextChange();
    const second = await a.book.nextChange();
    assert.notEqual(first.toString(), second.toString());
    assert.equal(first.toString(), a.wallet.address('kaspasim', 0, 1, 0).toString());
    const reopened = await a.open();
    assert.equal(
      (await reopened.book.nextChange()).toString(),
      a.wallet.address('kaspasim', 0, 1, 2).toString(),
    );
    assert.ok(reopened.book.watched([]).includes(second.toString()), 'recent change is watched');
  });

  it('the tweaked key signs for the tweaked address whatever the parity of either key', () => {
    const parities = new Set<string>();
    for (let i = 0; i < 64; i++) {
      const d = schnorr.utils.randomSecretKey();
      const t = BigInt(i + 1) * 0x1234567890abcdefn;
      const base = schnorr.getPublicKey(d);
      const tweaked = tweakPublicKey(base, t);
      const dBig = BigInt(`0x${Buffer.from(d).toString('hex')}`);
      const baseOdd = (secp256k1.Point.BASE.multiply(dBig).toBytes(true)[0]! & 1) === 1;
      const key = tweakPrivateKey(d, t);
      const keyBig = BigInt(`0x${Buffer.from(key).toString('hex')}`);
      const outOdd = (secp256k1.Point.BASE.multiply(keyBig).toBytes(true)[0]! & 1) === 1;
      parities.add(`${baseOdd}/${outOdd}`);
      const address = new Address('kaspasim', AddressVersion.PubKey, tweaked);
      const coin = coinAt(address, 10n * SOMPI_PER_KAS);
      const built = buildPayment({
        payload: new Uint8Array(100),
        payments: [
          { address: new Address('kaspasim', AddressVersion.PubKey, base), value: notificationValue() },
        ],
        funding: [{ utxo: coin, privateKey: key, origin: 'own' }],
        changeAddress: address,
        random: seededRandom(i + 1),
      });
      assert.ok(verifyInputSignature(built.tx, 0, [coin.entry]), `spend ${i} verifies`);
    }
    assert.equal(parities.size, 4, `every parity case met: ${[...parities].join(', ')}`);
    assert.throws(() => tweakPublicKey(new Uint8Array(32).fill(0xff), 1n), StealthError);
  });

  it('the local network accepts a spend from a stealth address', async () => {
    const devnet = await startDevnet({ port: 0, controlPort: false, blocksPerSecond: 20 });
    const client = new KaspaRpcClient({ urls: devnet.url });
    try {
      await client.connect();
      const [a, b] = await pair();
      await a.book.heard('b');
      const target = a.book.nextNotify('b')!.address;
      devnet.fund(target.toString(), 2n * SOMPI_PER_KAS);
      const [utxo] = await until('the coin is at the stealth address', async () => {
        const u = await client.getUtxosByAddresses([target.toString()]);
        return u.length > 0 && u;
      });
      assert.ok(b.book.windowOf('a').includes(target.toString()));
      const key = b.book.keyOf(target.toString());
      assert.ok(key, 'Bob holds the key of his notification address');
      const built = buildPayment({
        payload: new Uint8Array(64),
        payments: [{ address: a.keys.base, value: notificationValue() }],
        funding: [{ utxo: utxo!, privateKey: key, origin: 'a' }],
        changeAddress: await b.book.nextChange(),
        random: seededRandom(7),
      });
      await client.submitTransaction(built.tx);
      await until('the spend is accepted', async () => {
        const left = await client.getUtxosByAddresses([target.toString()]);
        return left.length === 0;
      });
    } finally {
      client.close();
      await devnet.stop();
    }
  });
});

describe('chain format 2 coin shapes', () => {
  const random = seededRandom(11);
  const owner = new Party();
  const addr = (i: number): Address => owner.wallet.address('kaspasim', 0, 0, i);
  const key = owner.wallet.privateKey(0, 0, 0);
  const coin = (amount: bigint, origin: string): Candidate => ({
    utxo: coinAt(addr(0), amount),
    privateKey: key,
    origin,
  });
  const v = notificationValue();

  it('one funding coin where one pays; coins of different contacts are not merged while one origin pays', () => {
    const big = coin(30n * SOMPI_PER_KAS, 'own');
    const built = buildPayment({
      payload: new Uint8Array(300),
      payments: [{ address: addr(5), value: v + 1000n }],
      funding: [coin(v, 'bob'), coin(v, 'carol'), big],
      changeAddress: addr(6),
      random,
    });
    assert.deepEqual(built.spent, [big]);
    assert.equal(built.tx.outputs.length, 2);
    const storage = storageMass(built.tx, [big.utxo.entry]);
    assert.ok(storage !== undefined && storage <= 100_000n, `storage mass ${storage}`);
    const merged = buildPayment({
      payload: new Uint8Array(300),
      payments: [{ address: addr(5), value: v }],
      funding: [coin(v, 'bob'), coin(v * 20n, 'carol'), coin(v * 20n, 'carol')],
      changeAddress: addr(6),
      random,
    });
    assert.deepEqual(new Set(merged.spent.map((s) => (s as Candidate).origin)), new Set(['carol']));
  });

  it('outputs come in random order', () => {
    const places = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const built = buildPayment({
        payload: new Uint8Array(300),
        payments: [{ address: addr(5), value: v }],
        funding: [coin(30n * SOMPI_PER_KAS, 'own')],
        changeAddress: addr(6),
        random,
      });
      places.add(built.changeIndex!);
    }
    assert.deepEqual([...places].sort(), [0, 1]);
  });

  it('a wallet holding only a contact coin returns it without change (no output back)', () => {
    const held = coin(v + 5_000n, 'alice');
    const built = buildPayment({
      payload: new Uint8Array(200),
      payments: [{ address: addr(7), value: v + v / 4n }],
      funding: [held],
      changeAddress: addr(8),
      random,
    });
    assert.equal(built.changeIndex, undefined);
    assert.equal(built.tx.outputs.length, 1);
    assert.equal(built.tx.outputs[0]!.value, held.utxo.entry.amount - built.fee);
    // Asked for the full shape only (the adapter's every try but its last), the same coin
    // does not pay: the shape without change is never chosen while other coins could.
    assert.throws(
      () =>
        buildPayment({
          payload: new Uint8Array(200),
          payments: [{ address: addr(7), value: v + v / 4n }],
          funding: [held],
          changeAddress: addr(8),
          random,
          withoutChange: false,
        }),
      (e: unknown) => e instanceof DeliveryError && e.code === 'INSUFFICIENT_FUNDS',
    );
  });

  it('derived addresses are stored with a tag: a restart reads them, and an altered or other-version record is derived again', async () => {
    const [a] = await pair();
    const window = a.book.windowOf('b');
    await new Promise((r) => setTimeout(r, 0)); // the derivations' batch goes after the turn
    const db = await openDb(a.data);
    const records = await db.scan(COINS_STORE, { prefix: encodeKey('addr', 'drv') });
    assert.ok(records.length >= window.length, `${records.length} derivations stored`);
    await a.open();
    assert.deepEqual(a.book.windowOf('b'), window);
    for (const address of window) {
      // The key of a stored derivation is derived when asked for, and signs for its address.
      const key = a.book.keyOf(address)!;
      assert.deepEqual(schnorr.getPublicKey(key), Address.decode(address).payload);
      assert.equal(a.book.originOf(address)?.kind, 'notify');
    }
    // Read, not derived: with other keys for b, a derivation would give other addresses.
    const real = a.peers.get('b')!;
    a.peers.set('b', { dh: ed25519ToX25519(Identity.generate().publicKey), base: real.base });
    await a.open();
    assert.deepEqual(a.book.windowOf('b'), window);
    const derivedWithOtherKeys = async (): Promise<string[]> => {
      a.peers.set('b', real);
      await a.open();
      return a.book.windowOf('b');
    };
    // One byte of each address changed: the tags fail, the addresses are derived again.
    for (const [key, value] of records) {
      const altered = value.slice();
      altered[altered.length - 1] = altered.at(-1)! ^ 1;
      await db.put(COINS_STORE, key, altered);
    }
    a.peers.set('b', { dh: ed25519ToX25519(Identity.generate().publicKey), base: real.base });
    await a.open();
    const other = a.book.windowOf('b');
    assert.equal(other.filter((x) => window.includes(x)).length, 0, 'altered records are not used');
    await new Promise((r) => setTimeout(r, 0));
    // Another version: not used either; what is derived again is stored in version 1.
    for (const [key, value] of await db.scan(COINS_STORE, { prefix: encodeKey('addr', 'drv') })) {
      const moved = value.slice();
      moved[0] = 2;
      await db.put(COINS_STORE, key, moved);
    }
    assert.deepEqual(await derivedWithOtherKeys(), window);
    await new Promise((r) => setTimeout(r, 0));
    const again = await db.scan(COINS_STORE, { prefix: encodeKey('addr', 'drv') });
    assert.ok(again.some(([, v]) => v[0] === 1));
    // Coins on b's first two indices move the window past them: their records go at the next start.
    await a.book.arrived(window[0]!);
    await a.book.arrived(window[1]!);
    await a.open();
    a.book.windowOf('b');
    await new Promise((r) => setTimeout(r, 0));
    const left = await db.scan(COINS_STORE, { prefix: encodeKey('addr', 'drv') });
    const ids = left.map(([, v]) => new TextDecoder().decode(v.subarray(2, 2 + v[1]!)));
    assert.ok(!ids.includes('n/b/0') && !ids.includes('n/b/1'), 'records below the window are deleted');
    assert.ok(ids.includes('n/b/2') && ids.includes(`n/b/${2 + 4 - 1}`));
  });
});
