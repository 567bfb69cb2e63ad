import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/storage/sqlite.ts';
import { openStorage } from '../../src/storage/open.ts';
import type { KeyValueStore } from '../../src/storage/types.ts';
import { CRASH_KEY, CRASH_SCHEMA, verifyCrashPrefix } from './crash-batches.ts';

const dir = mkdtempSync(join(tmpdir(), 'p2pcomm-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const writer = join(import.meta.dirname, 'crash-writer.ts');

/**
 * Starts the writer, lets it commit `commits` batches, then SIGKILLs it mid-loop.
 * Resolves with the last batch number it reported as committed.
 */
function writeThenKill(path: string, mode: string, first: number, commits: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, path, mode, String(first)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let last = first - 1;
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const l of lines) last = Number(l);
      if (last - first + 1 >= commits && child.exitCode === null) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(last);
      else reject(new Error(`writer exited with ${code}: ${err}`));
    });
  });
}

async function open(path: string, mode: string): Promise<KeyValueStore> {
  return openStorage(await openSqliteStore(path, CRASH_SCHEMA), CRASH_SCHEMA, {
    storageKey: mode === 'sealed' ? CRASH_KEY : null,
  });
}

/** Whole batches 0..head only, and every acknowledged batch among them; returns head. */
async function checkConsistent(db: KeyValueStore, acknowledged: number): Promise<number> {
  const head = await verifyCrashPrefix(db);
  // Later batches may have committed before the kill landed, unreported.
  assert.ok(head >= acknowledged, `head ${head} is behind acknowledged batch ${acknowledged}`);
  return head;
}

describe('sqlite crash safety (SIGKILL mid-write)', () => {
  for (const mode of ['plain', 'sealed']) {
    it(`${mode}: after each kill the database holds a whole prefix of the batches`, async () => {
      const path = join(dir, `${mode}.db`);
      let next = 0;
      for (const commits of [7, 23, 41]) {
        const acknowledged = await writeThenKill(path, mode, next, commits);
        const db = await open(path, mode);
        next = (await checkConsistent(db, acknowledged)) + 1;
        await db.close();
      }
    });
  }
});
