/**
 * Schema checks and data migrations, common to every backend. Each database carries a
 * reserved store, `__meta`, holding its data version (and, when encrypted, the storage key
 * check): never secret, so it stays in clear under the encrypted wrapper.
 */
import { assertInteger } from '../util/errors.ts';
import { StorageError } from './errors.ts';
import type { BatchOp, KeyValueStore, StorageSchema } from './types.ts';
import { utf8ToBytes } from '../util/bytes.ts';
import { u64Key } from './keys.ts';

/** The reserved store every backend creates alongside the schema's stores. */
export const META_STORE = '__meta';

/** Key of the data version in META_STORE (an 8-byte big-endian integer). */
export const META_VERSION_KEY = utf8ToBytes('version');

const STORE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Checks a schema at the boundary and returns its store names plus META_STORE. */
export function schemaStores(schema: StorageSchema): string[] {
  if (typeof schema !== 'object' || schema === null) throw new TypeError('"schema" expected an object');
  assertInteger('schema.version', schema.version, 1, 0xffffffff);
  if (!Array.isArray(schema.stores)) throw new TypeError('"schema.stores" expected an array of names');
  const dropped = schema.dropped ?? [];
  if (!Array.isArray(dropped)) throw new TypeError('"schema.dropped" expected an array of names');
  const seen = new Set<string>();
  for (const [list, what] of [
    [schema.stores, 'schema.stores'],
    [dropped, 'schema.dropped'],
  ] as const) {
    for (const name of list) {
      if (typeof name !== 'string' || !STORE_NAME.test(name) || name.startsWith('__')) {
        throw new RangeError(`"${what}" has an invalid store name ${JSON.stringify(name)}`);
      }
      if (seen.has(name)) throw new RangeError(`"${what}" repeats store name ${JSON.stringify(name)}`);
      seen.add(name);
    }
  }
  return [...schema.stores, META_STORE];
}

function readVersion(bytes: Uint8Array): number {
  if (bytes.length !== 8)
    throw new StorageError('CORRUPT', `schema version record has ${bytes.length} bytes, expected 8`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, false);
  if (v < 1n || v > 0xffffffffn) throw new StorageError('CORRUPT', `schema version ${v} out of range`);
  return Number(v);
}

/**
 * Brings `db` to `schema.version`: a new database is stamped with it; an older one runs
 * `migrations[v]` for each missing v, each step atomic with its version bump; a newer one
 * is refused (VERSION_TOO_NEW) rather than misread by older code. Runs over the handle the
 * application uses (above the encrypted wrapper), so migrations see plaintext.
 */
export async function migrate(db: KeyValueStore, schema: StorageSchema): Promise<void> {
  schemaStores(schema);
  const stamp = (v: number): BatchOp => ({
    type: 'put',
    store: META_STORE,
    key: META_VERSION_KEY,
    value: u64Key(v),
  });
  const stored = await db.get(META_STORE, META_VERSION_KEY);
  if (stored === undefined) {
    await db.batch([stamp(schema.version)]);
    return;
  }
  let version = readVersion(stored);
  if (version > schema.version) {
    throw new StorageError(
      'VERSION_TOO_NEW',
      `database is at schema version ${version}; this code knows up to ${schema.version}`,
    );
  }
  while (version < schema.version) {
    const next = version + 1;
    const step = schema.migrations?.[next];
    if (step === undefined) {
      throw new StorageError('MIGRATION_MISSING', `no migration from schema version ${version} to ${next}`);
    }
    const ops = await step(db);
    await db.batch([...ops, stamp(next)]);
    version = next;
  }
}
