/**
 * Browser side of `browser.test.ts`: bundled into the test page, it runs the compliance
 * cases against IndexedDB (plain and sealed) and the durability scenarios (reload, killed
 * tab, quota, another tab upgrading), and reports back through `globalThis.storageTestApi`.
 */
import { openIndexedDbStore } from '../../src/storage/indexeddb.ts';
import { openStorage } from '../../src/storage/open.ts';
import { StorageError } from '../../src/storage/errors.ts';
import type { KeyValueStore, StorageSchema } from '../../src/storage/types.ts';
import {
  plainTarget,
  sealedTarget,
  sealingCases,
  storageCases,
  SUITE_SCHEMA,
  pattern,
  type Backend,
} from './cases.ts';
import { CRASH_KEY, CRASH_SCHEMA, crashBatch, verifyCrashPrefix } from './crash-batches.ts';

const backend: Backend = { openRaw: (name, schema) => openIndexedDbStore(name, schema) };

/** Runs one compliance case by name: `plain` / `sealed` targets, or the `sealing` cases. */
export async function runCase(kind: 'plain' | 'sealed' | 'sealing', name: string): Promise<void> {
  if (kind === 'sealing') {
    const c = sealingCases.find((x) => x.name === name);
    if (!c) throw new Error(`no sealing case ${name}`);
    return c.run(backend);
  }
  const c = storageCases.find((x) => x.name === name);
  if (!c) throw new Error(`no storage case ${name}`);
  return c.run(kind === 'plain' ? plainTarget(backend) : sealedTarget(backend));
}

async function openCrashDb(name: string): Promise<KeyValueStore> {
  return openStorage(await openIndexedDbStore(name, CRASH_SCHEMA), CRASH_SCHEMA, { storageKey: CRASH_KEY });
}

let committed = -1;

/** Starts appending crash batches to `name` without waiting; `progress()` tells how far it got. */
export async function startWriter(name: string): Promise<void> {
  const db = await openCrashDb(name);
  const first = (await verifyCrashPrefix(db)) + 1;
  void (async () => {
    for (let i = first; ; i++) {
      await db.batch(crashBatch(i));
      committed = i;
    }
  })();
}

/** The last batch whose `batch` call resolved in this page. */
export function progress(): number {
  return committed;
}

/** Verifies that `name` holds whole batches only and returns the last one (-1 when none). */
export async function verifyCrash(name: string): Promise<number> {
  const db = await openCrashDb(name);
  try {
    return await verifyCrashPrefix(db);
  } finally {
    await db.close();
  }
}

/** Writes `count` suite entries to `name` and leaves the handle open (the page reload closes it). */
export async function writeEntries(name: string, count: number): Promise<void> {
  const db = await sealedTarget(backend).open(name);
  await db.batch(
    Array.from({ length: count }, (_, i) => ({
      type: 'put' as const,
      store: 'messages',
      key: Uint8Array.of(i),
      value: Uint8Array.of(i, i),
    })),
  );
}

/** Reads back what `writeEntries` wrote: the number of entries whose value matches. */
export async function countEntries(name: string): Promise<number> {
  const db = await sealedTarget(backend).open(name);
  const all = await db.scan('messages');
  await db.close();
  return all.filter(([k, v]) => v.length === 2 && v[0] === k[0] && v[1] === k[0]).length;
}

/** Writes 1 MiB values until the store fails; returns the StorageError code and how many batches kept. */
export async function fillUntilFull(name: string): Promise<{ code: string; kept: number; written: number }> {
  const db = await openIndexedDbStore(name, SUITE_SCHEMA);
  let written = 0;
  try {
    for (let i = 0; i < 64; i++) {
      // Incompressible: Chromium compresses IndexedDB values, and quota counts bytes on disk.
      const value = pattern(1 << 20, i + 1);
      await db.batch([
        { type: 'put', store: 'messages', key: Uint8Array.of(i >> 8, i & 0xff, 0), value },
        { type: 'put', store: 'messages', key: Uint8Array.of(i >> 8, i & 0xff, 1), value },
      ]);
      written++;
    }
    return { code: 'none', kept: (await db.count('messages')) / 2, written };
  } catch (e) {
    return {
      code: e instanceof StorageError ? e.code : String(e),
      kept: (await db.count('messages')) / 2,
      written,
    };
  } finally {
    await db.close();
  }
}

let held: KeyValueStore | undefined;

/** Opens `name` with `stores` and keeps the handle, as a long-lived tab would. */
export async function hold(name: string, stores: string[]): Promise<void> {
  const schema: StorageSchema = { version: 1, stores };
  held = await openStorage(await openIndexedDbStore(name, schema), schema, { storageKey: null });
  await held.put(stores[0]!, Uint8Array.of(1), Uint8Array.of(1));
}

/** What a read on the held handle does now: "ok" or the StorageError code. */
export async function probeHeld(): Promise<string> {
  try {
    await held!.get(held!.stores[0]!, Uint8Array.of(1));
    return 'ok';
  } catch (e) {
    return e instanceof StorageError ? e.code : String(e);
  }
}

/** Opens `name` with more stores (an upgrade) and reads what the other tab wrote. */
export async function upgradeAndRead(name: string, stores: string[]): Promise<number> {
  const schema: StorageSchema = { version: 1, stores };
  const db = await openStorage(await openIndexedDbStore(name, schema), schema, { storageKey: null });
  const v = await db.get(stores[0]!, Uint8Array.of(1));
  await db.close();
  return v?.[0] ?? -1;
}
