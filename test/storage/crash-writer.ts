/**
 * Child process of `crash.test.ts`: appends numbered batches to a SQLite store until it is
 * killed, printing each batch number once its `batch` has resolved (i.e. is committed).
 * Usage: crash-writer.ts <path> <plain|sealed> <first batch number>
 */
import { openSqliteStore } from '../../src/storage/sqlite.ts';
import { openStorage } from '../../src/storage/open.ts';
import { CRASH_SCHEMA, CRASH_KEY, crashBatch } from './crash-batches.ts';

const [path, mode, first] = process.argv.slice(2);
if (path === undefined || (mode !== 'plain' && mode !== 'sealed') || first === undefined) {
  throw new TypeError('usage: crash-writer.ts <path> <plain|sealed> <first>');
}
const db = await openStorage(await openSqliteStore(path, CRASH_SCHEMA), CRASH_SCHEMA, {
  storageKey: mode === 'sealed' ? CRASH_KEY : null,
});
for (let i = Number(first); ; i++) {
  await db.batch(crashBatch(i));
  process.stdout.write(`${i}\n`);
}
