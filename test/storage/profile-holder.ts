/** Child process of profile-dir.test.ts: opens the profile directory given, says so, and waits to be killed. */
import { openProfileDirectory } from '../../src/storage/node.ts';
import { SUITE_SCHEMA } from './cases.ts';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: profile-holder.ts <dir>');
const db = await openProfileDirectory(dir, SUITE_SCHEMA, { storageKey: null });
await db.put('messages', Uint8Array.of(1), Uint8Array.of(42));
process.stdout.write('open\n');
setInterval(() => undefined, 60_000);
