/**
 * The storage compliance suite (STYLE §10, after libp2p's interface-compliance-tests):
 * one list of cases that every backend must pass, in Node (memory, SQLite) and in a real
 * browser (IndexedDB), with and without encryption at rest. Runtime-neutral on purpose:
 * no node:* imports, so the same file is bundled into the browser test page.
 */
import fc from 'fast-check';
import { openStorage } from '../../src/storage/open.ts';
import { encodeKey, u64Key } from '../../src/storage/keys.ts';
import { META_STORE } from '../../src/storage/schema.ts';
import type { BatchOp, Entry, KeyValueStore, ScanOptions, StorageSchema } from '../../src/storage/types.ts';
import { bytesToHex, randomBytes, utf8ToBytes } from '../../src/util/bytes.ts';
import { bytesEqual, entriesEqual, equal, ok, rejects } from './check.ts';

/** Stores of the default suite schema. */
export const SUITE_SCHEMA: StorageSchema = { version: 1, stores: ['messages', 'queue', 'contacts'] };

/** A backend under test, opened structurally (no seal, no migration). */
export interface Backend {
  /** Opens database `name` (empty when new): the same name gives the same data. */
  openRaw(name: string, schema: StorageSchema): Promise<KeyValueStore>;
}

/** What the generic cases need: a ready-to-use handle on a named database. */
export interface StorageTarget {
  open(name: string, schema?: StorageSchema): Promise<KeyValueStore>;
}

/** One compliance case. */
export interface StorageCase<T> {
  readonly name: string;
  run(target: T): Promise<void>;
}

/** Fixed storage key of the sealed targets. */
export const SUITE_KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);

/** The backend as the application sees it unencrypted: opened, then migrated. */
export function plainTarget(backend: Backend): StorageTarget {
  return {
    open: async (name, schema = SUITE_SCHEMA) =>
      openStorage(await backend.openRaw(name, schema), schema, { storageKey: null }),
  };
}

/** The backend behind the encrypted wrapper under SUITE_KEY. */
export function sealedTarget(backend: Backend): StorageTarget {
  return {
    open: async (name, schema = SUITE_SCHEMA) =>
      openStorage(await backend.openRaw(name, schema), schema, { storageKey: SUITE_KEY, opaqueKeys: false }),
  };
}

/** A database name no other case uses. */
export function freshName(label: string): string {
  return `${label}-${bytesToHex(randomBytes(6))}`;
}

const S = 'messages';
const b = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const text = utf8ToBytes;
const put = (key: Uint8Array, value: Uint8Array, store = S): BatchOp => ({ type: 'put', store, key, value });
const del = (key: Uint8Array, store = S): BatchOp => ({ type: 'delete', store, key });

/** Deterministic filler (xorshift32): large values without crypto.getRandomValues' 64 KiB cap. */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function clear(db: KeyValueStore, store = S): Promise<void> {
  const all = await db.scan(store);
  await db.batch(all.map(([k]) => del(k, store)));
}

/**
 * Reference semantics for scans, written independently of the code under test: lowercase
 * hex strings compare exactly like the bytes they encode (a proper prefix first).
 */
function modelScan(model: Map<string, Uint8Array>, o: ScanOptions): Entry[] {
  const hx = (k: Uint8Array | undefined): string | undefined => (k === undefined ? undefined : bytesToHex(k));
  const [prefix, gt, gte, lt, lte] = [hx(o.prefix), hx(o.gt), hx(o.gte), hx(o.lt), hx(o.lte)];
  let keys = [...model.keys()]
    .filter(
      (k) =>
        (prefix === undefined || k.startsWith(prefix)) &&
        (gt === undefined || k > gt) &&
        (gte === undefined || k >= gte) &&
        (lt === undefined || k < lt) &&
        (lte === undefined || k <= lte),
    )
    .sort();
  if (o.reverse) keys.reverse();
  if (o.limit !== undefined) keys = keys.slice(0, o.limit);
  return keys.map(
    (k) => [Uint8Array.from(k.match(/../g) ?? [], (h) => parseInt(h, 16)), model.get(k)!] as const,
  );
}

// Bytes chosen around the signed/unsigned and 0x00/0xff edges, few enough that random
// keys often share prefixes.
const keyArb = fc
  .array(fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff), { maxLength: 4 })
  .map((a) => Uint8Array.from(a));
const opArb: fc.Arbitrary<BatchOp> = fc.oneof(
  fc.record({
    type: fc.constant('put' as const),
    store: fc.constant(S),
    key: keyArb,
    value: fc.uint8Array({ maxLength: 6 }),
  }),
  fc.record({ type: fc.constant('delete' as const), store: fc.constant(S), key: keyArb }),
);
const scanArb: fc.Arbitrary<ScanOptions> = fc.record(
  {
    prefix: keyArb,
    gt: keyArb,
    gte: keyArb,
    lt: keyArb,
    lte: keyArb,
    limit: fc.nat({ max: 12 }),
    reverse: fc.boolean(),
  },
  { requiredKeys: [] },
);

/** Cases every target must pass. */
export const storageCases: readonly StorageCase<StorageTarget>[] = [
  {
    name: 'get, put, overwrite and delete, including empty keys and values',
    async run(t) {
      const db = await t.open(freshName('basic'));
      bytesEqual(await db.get(S, b(1)), undefined, 'absent key');
      await db.put(S, b(1), text('one'));
      await db.put(S, b(), b());
      await db.put(S, b(1, 0), text('one-zero'));
      bytesEqual(await db.get(S, b(1)), text('one'), 'get after put');
      bytesEqual(await db.get(S, b()), b(), 'empty key, empty value');
      await db.put(S, b(1), text('uno'));
      bytesEqual(await db.get(S, b(1)), text('uno'), 'overwrite');
      bytesEqual(await db.get('queue', b(1)), undefined, 'stores are separate');
      await db.delete(S, b(1));
      await db.delete(S, b(9)); // absent: no error
      bytesEqual(await db.get(S, b(1)), undefined, 'deleted');
      bytesEqual(await db.get(S, b(1, 0)), text('one-zero'), 'neighbour untouched');
      equal(await db.count(S), 2, 'count');
      await db.close();
    },
  },
  {
    name: 'values are copied: mutating buffers after put or get changes nothing stored',
    async run(t) {
      const db = await t.open(freshName('copy'));
      const key = b(5);
      const value = b(1, 2, 3);
      await db.put(S, key, value);
      value[0] = 99;
      key[0] = 6;
      const got = await db.get(S, b(5));
      bytesEqual(got, b(1, 2, 3), 'stored value after caller mutation');
      got![1] = 77;
      bytesEqual(await db.get(S, b(5)), b(1, 2, 3), 'stored value after result mutation');
      const [[k]] = (await db.scan(S)) as [Entry];
      k[0] = 42;
      bytesEqual((await db.scan(S))[0]?.[0], b(5), 'stored key after scan result mutation');
      await db.close();
    },
  },
  {
    name: 'misuse is rejected at the boundary with TypeError, RangeError or UNKNOWN_STORE',
    async run(t) {
      const db = await t.open(freshName('misuse'));
      const anyDb = db as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      await rejects(() => db.get('nope', b(1)), 'UNKNOWN_STORE', 'undeclared store');
      await rejects(() => db.put(META_STORE.slice(1), b(1), b(1)), 'UNKNOWN_STORE', 'near-reserved name');
      await rejects(() => anyDb['get']!(S, 'key'), TypeError, 'string key');
      await rejects(() => anyDb['put']!(S, b(1), [1, 2]), TypeError, 'array value');
      await rejects(() => db.get(S, new Uint8Array(1025)), RangeError, 'key too long');
      await rejects(() => db.scan(S, { limit: -1 }), RangeError, 'negative limit');
      await rejects(() => db.scan(S, { limit: 1.5 }), TypeError, 'fractional limit');
      await rejects(() => db.scan(S, { gte: 'a' as unknown as Uint8Array }), TypeError, 'string bound');
      await rejects(
        () => anyDb['batch']!([{ type: 'upsert', store: S, key: b(1), value: b(1) }]),
        TypeError,
        'op type',
      );
      await rejects(() => anyDb['batch']!('ops'), TypeError, 'ops not an array');
      equal(await db.count(S), 0, 'nothing written by rejected calls');
      await db.close();
    },
  },
  {
    name: 'scan and count agree with a model for random keys, ranges, limits and directions',
    async run(t) {
      const db = await t.open(freshName('model'));
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(opArb, { minLength: 1, maxLength: 8 }), { maxLength: 5 }),
          fc.array(scanArb, { minLength: 1, maxLength: 4 }),
          async (batches, scans) => {
            await clear(db);
            const model = new Map<string, Uint8Array>();
            for (const ops of batches) {
              await db.batch(ops);
              for (const op of ops) {
                if (op.type === 'put') model.set(bytesToHex(op.key), op.value);
                else model.delete(bytesToHex(op.key));
              }
            }
            for (const o of scans) {
              entriesEqual(
                await db.scan(S, o),
                modelScan(model, o),
                `scan ${JSON.stringify(o, (_k, v: unknown) => (v instanceof Uint8Array ? bytesToHex(v) : v))}`,
              );
              const { limit: _l, reverse: _r, ...range } = o;
              equal(await db.count(S, range), modelScan(model, range).length, 'count');
            }
          },
        ),
        { numRuns: 40 },
      );
      await db.close();
    },
  },
  {
    name: 'prefix and range scans over tuple keys, both directions, with limits',
    async run(t) {
      const db = await t.open(freshName('ranges'));
      const ops: BatchOp[] = [];
      for (const conv of ['alice', 'alice2', 'bob']) {
        for (let n = 0; n < 20; n++) ops.push(put(encodeKey(conv, n), text(`${conv}#${n}`)));
      }
      await db.batch(ops);
      const ids = (es: Entry[]): string[] => es.map(([, v]) => new TextDecoder().decode(v));
      const range = (conv: string, from: number, to: number): string[] =>
        Array.from(
          { length: Math.abs(to - from) + 1 },
          (_, i) => `${conv}#${from <= to ? from + i : from - i}`,
        );
      const alice = encodeKey('alice');
      equal(await db.count(S, { prefix: alice }), 20, 'prefix count excludes alice2');
      equal(
        ids(await db.scan(S, { prefix: alice, limit: 5 })).join(),
        range('alice', 0, 4).join(),
        'oldest five',
      );
      equal(
        ids(await db.scan(S, { prefix: alice, limit: 5, reverse: true })).join(),
        range('alice', 19, 15).join(),
        'newest five',
      );
      equal(
        ids(await db.scan(S, { prefix: alice, gte: encodeKey('alice', 10) })).join(),
        range('alice', 10, 19).join(),
        'from 10',
      );
      equal(
        ids(await db.scan(S, { gt: encodeKey('alice', 3), lt: encodeKey('alice', 8), reverse: true })).join(),
        range('alice', 7, 4).join(),
        'open window, reversed',
      );
      equal(
        ids(await db.scan(S, { gte: encodeKey('alice', 3), lte: encodeKey('alice', 5) })).join(),
        range('alice', 3, 5).join(),
        'closed window',
      );
      equal(
        (await db.scan(S, { gt: encodeKey('bob', 5), lt: encodeKey('bob', 5) })).length,
        0,
        'empty window',
      );
      equal(
        (await db.scan(S, { gte: encodeKey('bob', 9), lte: encodeKey('alice', 1) })).length,
        0,
        'inverted window',
      );
      equal(ids(await db.scan(S, { limit: 1, reverse: true })).join(), 'bob#19', 'last key of the store');
      equal((await db.scan(S, { limit: 0 })).length, 0, 'limit 0');
      equal(await db.count(S), 60, 'whole store');
      await db.close();
    },
  },
  {
    name: 'batch is atomic: a rejected batch writes nothing; ops apply in order across stores',
    async run(t) {
      const db = await t.open(freshName('batch'));
      await db.put(S, b(1), b(1));
      await rejects(
        () => db.batch([put(b(2), b(2)), put(b(3), b(3), 'nope'), put(b(4), b(4))]),
        'UNKNOWN_STORE',
        'bad store mid-batch',
      );
      await rejects(
        () => db.batch([del(b(1)), put(b(5), 'x' as unknown as Uint8Array)]),
        TypeError,
        'bad value mid-batch',
      );
      await rejects(
        () => db.batch([put(b(6), b(6)), put(new Uint8Array(2000), b(0))]),
        RangeError,
        'long key mid-batch',
      );
      entriesEqual(await db.scan(S), [[b(1), b(1)]], 'only the earlier write remains');
      await db.batch([
        put(b(7), b(1)),
        del(b(7)),
        del(b(8)),
        put(b(8), b(2)),
        put(b(9), b(1)),
        put(b(9), b(3)),
        put(b(1), b(4), 'queue'),
        del(b(1)),
      ]);
      entriesEqual(
        await db.scan(S),
        [
          [b(8), b(2)],
          [b(9), b(3)],
        ],
        'later op on a key wins',
      );
      entriesEqual(await db.scan('queue'), [[b(1), b(4)]], 'second store written in the same batch');
      await db.batch([]);
      await Promise.all(Array.from({ length: 50 }, (_, i) => db.put('contacts', b(i), b(i))));
      equal(await db.count('contacts'), 50, 'concurrent puts all land');
      await db.close();
    },
  },
  {
    name: 'compare-and-set: a batch commits only while every expected value holds',
    async run(t) {
      const name = freshName('cas');
      const db = await t.open(name);
      await db.put(S, b(1), text('v1'));
      const expectV1 = { expect: [{ store: S, key: b(1), value: text('v1') }] };
      await db.batch([put(b(1), text('v2')), put(b(2), b(2))], expectV1);
      bytesEqual(await db.get(S, b(1)), text('v2'), 'commits when the value is as expected');
      await rejects(() => db.batch([put(b(1), text('v3')), put(b(3), b(3))], expectV1), 'CONFLICT', 'stale');
      equal(await db.get(S, b(3)), undefined, 'a conflicting batch writes nothing');
      bytesEqual(await db.get(S, b(1)), text('v2'), 'nor its expected key');
      await db.batch([put(b(4), b(4))], { expect: [{ store: 'queue', key: b(9), value: undefined }] });
      await rejects(
        () => db.batch([put(b(5), b(5))], { expect: [{ store: S, key: b(4), value: undefined }] }),
        'CONFLICT',
        'expected absent but present',
      );
      await rejects(
        () => db.batch([], { expect: [{ store: S, key: b(1), value: text('v2!') }] }),
        'CONFLICT',
        'a check alone still checks',
      );
      await rejects(
        () =>
          db.batch([], {
            expect: [
              { store: S, key: b(1), value: text('v2') },
              { store: 'nope', key: b(1), value: undefined },
            ],
          }),
        'UNKNOWN_STORE',
        'expectation on an undeclared store',
      );
      await rejects(
        () => db.batch([], { expect: [{ store: S, key: b(1), value: 'v2' as unknown as Uint8Array }] }),
        TypeError,
        'expected value of the wrong type',
      );
      // Two writers over one database read the same value and race to replace it: exactly
      // one wins, whatever the interleaving.
      const other = await t.open(name);
      for (let round = 0; round < 10; round++) {
        const seen = await db.get(S, b(1));
        const expect = { expect: [{ store: S, key: b(1), value: seen }] };
        const results = await Promise.allSettled([
          db.batch([put(b(1), text(`a${round}`))], expect),
          other.batch([put(b(1), text(`b${round}`))], expect),
        ]);
        const won = results.filter((r) => r.status === 'fulfilled').length;
        equal(won, 1, `round ${round}: one winner`);
        const lost = results.find((r) => r.status === 'rejected');
        equal(
          (lost?.reason as { code?: unknown } | undefined)?.code,
          'CONFLICT',
          `round ${round}: loser code`,
        );
      }
      await other.close();
      await db.close();
    },
  },
  {
    name: 'data persists across close and reopen; a closed handle fails with CLOSED',
    async run(t) {
      const name = freshName('persist');
      const db = await t.open(name);
      await db.batch([put(b(1), text('a')), put(b(2), text('b'), 'queue')]);
      await db.put('contacts', b(3), text('c'));
      await db.close();
      await db.close(); // idempotent
      await rejects(() => db.get(S, b(1)), 'CLOSED', 'get after close');
      await rejects(() => db.put(S, b(1), b(1)), 'CLOSED', 'put after close');
      await rejects(() => db.scan(S), 'CLOSED', 'scan after close');
      const again = await t.open(name);
      bytesEqual(await again.get(S, b(1)), text('a'), 'messages');
      bytesEqual(await again.get('queue', b(2)), text('b'), 'queue');
      bytesEqual(await again.get('contacts', b(3)), text('c'), 'contacts');
      await again.close();
    },
  },
  {
    name: 'large values (1 MiB, and a view into a larger buffer) round-trip',
    async run(t) {
      const name = freshName('large');
      const db = await t.open(name);
      const big = pattern(1 << 20, 7);
      const backing = pattern(1 << 16, 9);
      const view = backing.subarray(100, 300);
      await db.put(S, b(1), big);
      await db.put(S, b(2), view);
      await db.close();
      const again = await t.open(name);
      bytesEqual(await again.get(S, b(1)), big, '1 MiB value');
      const got = await again.get(S, b(2));
      bytesEqual(got, view, 'view value');
      equal(got?.buffer.byteLength, 200, 'only the viewed bytes were stored');
      await again.close();
    },
  },
  {
    name: 'many keys (10,000): counts, ordered scans and reopen',
    async run(t) {
      const name = freshName('many');
      const db = await t.open(name);
      for (let start = 0; start < 10_000; start += 2_000) {
        await db.batch(Array.from({ length: 2_000 }, (_, i) => put(u64Key(start + i), encodeKey(start + i))));
      }
      equal(await db.count(S), 10_000, 'count');
      equal(await db.count(S, { gte: u64Key(5_000), lt: u64Key(6_000) }), 1_000, 'range count');
      const all = await db.scan(S);
      equal(all.length, 10_000, 'scan length');
      ok(
        all.every(([k], i) => bytesToHex(k) === bytesToHex(u64Key(i))),
        'scan is in key order',
      );
      entriesEqual(
        await db.scan(S, { reverse: true, limit: 2 }),
        [
          [u64Key(9_999), encodeKey(9_999)],
          [u64Key(9_998), encodeKey(9_998)],
        ],
        'newest two',
      );
      await db.close();
      const again = await t.open(name);
      equal(await again.count(S), 10_000, 'count after reopen');
      await again.close();
    },
  },
  {
    name: 'schema: a store added later is created and earlier data kept; dropped stores are emptied',
    async run(t) {
      const name = freshName('stores');
      const v1 = { version: 1, stores: ['a', 'old'] };
      const db = await t.open(name, v1);
      await db.batch([put(b(1), b(1), 'a'), put(b(2), b(2), 'old')]);
      await db.close();
      const v1b = { version: 1, stores: ['a', 'b'], dropped: ['old'] };
      const again = await t.open(name, v1b);
      bytesEqual(await again.get('a', b(1)), b(1), 'kept');
      await again.put('b', b(3), b(3));
      await rejects(() => again.get('old', b(2)), 'UNKNOWN_STORE', 'dropped store is not declared');
      await again.close();
      const third = await t.open(name, { version: 1, stores: ['a', 'b', 'old'] });
      equal(await third.count('old'), 0, 'dropped data is gone');
      bytesEqual(await third.get('b', b(3)), b(3), 'new store persisted');
      await third.close();
    },
  },
  {
    name: 'migrations run once, see plain values, and commit with their version bump',
    async run(t) {
      const name = freshName('migrate');
      const v1: StorageSchema = { version: 1, stores: ['items'] };
      const db = await t.open(name, v1);
      await db.batch([put(b(1), text('x'), 'items'), put(b(2), text('y'), 'items')]);
      await db.close();
      let runs = 0;
      const v2: StorageSchema = {
        version: 2,
        stores: ['items'],
        migrations: {
          2: async (d) => {
            runs++;
            const all = await d.scan('items');
            return all.map(([k, v]) => put(k, text(`${new TextDecoder().decode(v)}!`), 'items'));
          },
        },
      };
      const failing: StorageSchema = {
        ...v2,
        version: 3,
        migrations: {
          ...v2.migrations,
          3: async () => {
            throw new Error('step 3 fails');
          },
        },
      };
      await rejects(
        () => t.open(name, { version: 3, stores: ['items'], migrations: { 3: async () => [] } }),
        'MIGRATION_MISSING',
        'gap',
      );
      await rejects(() => t.open(name, failing), Error, 'failing step');
      equal(runs, 1, 'step 2 ran before step 3 failed');
      const at2 = await t.open(name, v2);
      equal(runs, 1, 'step 2 committed with its version bump and is not repeated');
      entriesEqual(
        await at2.scan('items'),
        [
          [b(1), text('x!')],
          [b(2), text('y!')],
        ],
        'migrated values',
      );
      await at2.close();
      await rejects(() => t.open(name, v1), 'VERSION_TOO_NEW', 'older code refuses a newer database');
    },
  },
];

/** The sealed target again, seen through its raw backend. */
async function sealedWith(
  backend: Backend,
  name: string,
  key = SUITE_KEY,
  clearStores: string[] = [],
): Promise<KeyValueStore> {
  return openStorage(await backend.openRaw(name, SUITE_SCHEMA), SUITE_SCHEMA, {
    storageKey: key,
    clearStores,
    opaqueKeys: false,
  });
}

async function rawEdit(
  backend: Backend,
  name: string,
  edit: (raw: KeyValueStore) => Promise<void>,
): Promise<void> {
  const raw = await backend.openRaw(name, SUITE_SCHEMA);
  await edit(raw);
  await raw.close();
}

/** Cases of the encrypted wrapper, run over each backend's raw handle. */
export const sealingCases: readonly StorageCase<Backend>[] = [
  {
    name: 'sealed at rest: the disk holds neither plaintext nor repeated ciphertext',
    async run(backend) {
      const name = freshName('sealed');
      const secret = text('meet at the usual place at noon');
      const db = await sealedWith(backend, name);
      await db.batch([put(b(1), secret), put(b(2), secret)]);
      await db.close();
      await rawEdit(backend, name, async (raw) => {
        const [[, r1], [, r2]] = (await raw.scan(S)) as [Entry, Entry];
        equal(r1.length, secret.length + 41, 'record = version + nonce + ciphertext + tag');
        ok(!bytesToHex(r1).includes(bytesToHex(secret.subarray(0, 8))), 'plaintext not visible');
        ok(bytesToHex(r1) !== bytesToHex(r2), 'fresh nonce per write');
      });
      const again = await sealedWith(backend, name);
      bytesEqual(await again.get(S, b(2)), secret, 'opens again');
      await again.close();
    },
  },
  {
    name: 'tampered or truncated records fail with DECRYPT_FAILED or CORRUPT, never garbage',
    async run(backend) {
      const name = freshName('tamper');
      const db = await sealedWith(backend, name);
      await db.batch([
        put(b(1), text('one')),
        put(b(2), text('two')),
        put(b(3), text('three')),
        put(b(4), text('four')),
      ]);
      await db.close();
      await rawEdit(backend, name, async (raw) => {
        const flip = async (key: Uint8Array, at: (len: number) => number): Promise<void> => {
          const r = (await raw.get(S, key))!;
          r[at(r.length)]! ^= 0x01;
          await raw.put(S, key, r);
        };
        await flip(b(1), (n) => n - 1); // tag
        await flip(b(2), () => 30); // ciphertext
        await flip(b(3), () => 0); // version byte
        await raw.put(S, b(4), (await raw.get(S, b(4)))!.subarray(0, 20));
      });
      const again = await sealedWith(backend, name);
      await rejects(() => again.get(S, b(1)), 'DECRYPT_FAILED', 'flipped tag');
      await rejects(() => again.get(S, b(2)), 'DECRYPT_FAILED', 'flipped ciphertext');
      await rejects(() => again.get(S, b(3)), 'CORRUPT', 'unknown record version');
      await rejects(() => again.get(S, b(4)), 'CORRUPT', 'truncated record');
      await rejects(() => again.scan(S), 'DECRYPT_FAILED', 'scan over a tampered record');
      equal(await again.count(S), 4, 'count needs no decryption');
      await again.close();
    },
  },
  {
    name: 'a sealed value moved to another key or store fails with DECRYPT_FAILED',
    async run(backend) {
      const name = freshName('moved');
      const db = await sealedWith(backend, name);
      await db.put(S, b(1), text('pay alice 5 KAS'));
      await db.close();
      await rawEdit(backend, name, async (raw) => {
        const record = (await raw.get(S, b(1)))!;
        await raw.batch([put(b(2), record), put(b(1), record, 'queue')]);
      });
      const again = await sealedWith(backend, name);
      bytesEqual(await again.get(S, b(1)), text('pay alice 5 KAS'), 'original still opens');
      await rejects(() => again.get(S, b(2)), 'DECRYPT_FAILED', 'moved to another key');
      await rejects(() => again.get('queue', b(1)), 'DECRYPT_FAILED', 'moved to another store');
      await again.close();
    },
  },
  {
    name: 'the wrong storage key fails at open with WRONG_KEY',
    async run(backend) {
      const name = freshName('wrongkey');
      const db = await sealedWith(backend, name);
      await db.put(S, b(1), text('x'));
      await db.close();
      const other = SUITE_KEY.slice();
      other[0]! ^= 0x80;
      await rejects(() => sealedWith(backend, name, other), 'WRONG_KEY', 'other key');
      await rejects(() => sealedWith(backend, name, new Uint8Array(31)), RangeError, 'short key');
      const again = await sealedWith(backend, name);
      bytesEqual(await again.get(S, b(1)), text('x'), 'right key still works');
      await again.close();
    },
  },
  {
    name: 'clear stores pass values through unchanged (already sealed by their owner)',
    async run(backend) {
      const name = freshName('clear');
      const db = await sealedWith(backend, name, SUITE_KEY, ['contacts']);
      await db.batch([put(b(1), text('vault blob'), 'contacts'), put(b(1), text('message'))]);
      await db.close();
      await rawEdit(backend, name, async (raw) => {
        bytesEqual(await raw.get('contacts', b(1)), text('vault blob'), 'clear store is raw');
        ok((await raw.get(S, b(1)))!.length === 7 + 41, 'other stores stay sealed');
      });
      await rejects(
        () => sealedWith(backend, name, SUITE_KEY, ['nope']),
        'UNKNOWN_STORE',
        'undeclared clear store',
      );
    },
  },
  ...opaqueCases(),
];

/** Every byte string of `raw`'s sealed stores, keys and values, as hex, for searching. */
async function dumpHex(raw: KeyValueStore, stores: readonly string[]): Promise<string> {
  let out = '';
  for (const store of stores) {
    for (const [k, v] of await raw.scan(store)) out += `${bytesToHex(k)} ${bytesToHex(v)}\n`;
  }
  return out;
}

function opaqueWith(backend: Backend, name: string, opaqueKeys?: boolean): Promise<KeyValueStore> {
  return backend.openRaw(name, SUITE_SCHEMA).then((raw) =>
    openStorage(raw, SUITE_SCHEMA, {
      storageKey: SUITE_KEY,
      clearStores: ['contacts'],
      ...(opaqueKeys !== undefined && { opaqueKeys }),
    }),
  );
}

/** Cases of the opaque-key layer (the default with a storage key). */
function opaqueCases(): StorageCase<Backend>[] {
  const PEER = utf8ToBytes('p2p1qqsecretpeer');
  const ID = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
  const AT = 1_764_000_123_456;
  const keysOf = () => [
    encodeKey(PEER, 'o', 1),
    encodeKey(PEER, 'o', 2),
    encodeKey(PEER, 'o', 3),
    encodeKey(PEER, 'i', AT, ID),
    encodeKey('open', ID),
    utf8ToBytes('settings'),
  ];
  const hidden = [bytesToHex(PEER), bytesToHex(ID), bytesToHex(u64Key(AT)), bytesToHex(text('settings'))];
  return [
    {
      name: 'opaque keys: the disk holds no key part, scans and counts by prefix still work',
      async run(backend) {
        const name = freshName('opaque');
        const db = await opaqueWith(backend, name);
        await db.batch(keysOf().map((k, i) => put(k, b(i))));
        bytesEqual(await db.get(S, encodeKey(PEER, 'i', AT, ID)), b(3), 'get by the original key');
        const newest = await db.scan(S, { prefix: encodeKey(PEER, 'o'), reverse: true, limit: 2 });
        entriesEqual(
          newest,
          [
            [encodeKey(PEER, 'o', 3), b(2)],
            [encodeKey(PEER, 'o', 2), b(1)],
          ],
          'a trailing counter keeps its order',
        );
        equal(await db.count(S, { prefix: encodeKey(PEER) }), 4, 'count by prefix');
        equal((await db.scan(S)).length, 6, 'whole store');
        await rejects(() => db.scan(S, { gt: b(1) }), RangeError, 'a range that is not a prefix');
        await rejects(() => db.scan(S, { prefix: encodeKey(PEER, 'o', 1) }), RangeError, 'integer prefix');
        await db.delete(S, encodeKey('open', ID));
        equal(await db.get(S, encodeKey('open', ID)), undefined, 'delete by the original key');
        await db.close();
        await rawEdit(backend, name, async (raw) => {
          const dump = await dumpHex(raw, [S]);
          for (const h of hidden) ok(!dump.includes(h), `key part ${h} not on disk`);
          ok(!dump.includes(bytesToHex(encodeKey('o'))), 'no direction word');
        });
      },
    },
    {
      name: 'opaque keys: a clear-key database is converted on open, once',
      async run(backend) {
        const name = freshName('layout');
        const old = await opaqueWith(backend, name, false);
        await old.batch([...keysOf().map((k, i) => put(k, b(i))), put(b(9), text('card'), 'contacts')]);
        await old.close();
        const db = await opaqueWith(backend, name);
        for (const [i, k] of keysOf().entries()) bytesEqual(await db.get(S, k), b(i), `record ${i} kept`);
        bytesEqual(await db.get('contacts', b(9)), text('card'), 'clear store untouched');
        await db.close();
        await rawEdit(backend, name, async (raw) => {
          const dump = await dumpHex(raw, [S]);
          for (const h of hidden) ok(!dump.includes(h), `key part ${h} gone after conversion`);
          equal(await raw.count(S), keysOf().length, 'no record left behind in the old layout');
        });
        const again = await opaqueWith(backend, name);
        equal((await again.scan(S)).length, keysOf().length, 'a second open converts nothing');
        await again.close();
        await rejects(
          () => opaqueWith(backend, name, false),
          'CORRUPT',
          'clear keys over an opaque database',
        );
      },
    },
    {
      name: 'opaque keys: a record moved under another opaque key is CORRUPT or DECRYPT_FAILED',
      async run(backend) {
        const name = freshName('opaque-moved');
        const db = await opaqueWith(backend, name);
        await db.batch([
          put(encodeKey(PEER, 'o', 1), text('one')),
          put(encodeKey(PEER, 'o', 2), text('two')),
        ]);
        await db.close();
        await rawEdit(backend, name, async (raw) => {
          const [[k1, v1], [k2]] = (await raw.scan(S)) as [Entry, Entry];
          await raw.put(S, k2, v1);
          await raw.delete(S, k1);
        });
        const again = await opaqueWith(backend, name);
        await rejects(() => again.get(S, encodeKey(PEER, 'o', 2)), 'DECRYPT_FAILED', 'moved record');
        await again.close();
      },
    },
  ];
}
