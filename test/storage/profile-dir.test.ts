/**
 * A profile directory is open in one process at a time (two would reuse message keys), and
 * the lock dies with its process: a SIGKILLed holder leaves its lock file behind, which must
 * not block the next start.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PROFILE_FILES, openProfileDirectory } from '../../src/storage/node.ts';
import { StorageError } from '../../src/storage/errors.ts';
import { SUITE_KEY, SUITE_SCHEMA } from './cases.ts';

const root = mkdtempSync(join(tmpdir(), 'p2pcomm-profile-'));
after(() => rmSync(root, { recursive: true, force: true }));

const inUse = (dir: string) => (e: unknown) =>
  e instanceof StorageError && e.code === 'PROFILE_IN_USE' && e.message.includes(dir);

describe('profile directory (Node)', () => {
  it('a second handle is refused with PROFILE_IN_USE until the first closes', async () => {
    const dir = join(root, 'one');
    const first = await openProfileDirectory(dir, SUITE_SCHEMA, { storageKey: SUITE_KEY });
    await first.put('messages', Uint8Array.of(1), Uint8Array.of(7));
    await assert.rejects(openProfileDirectory(dir, SUITE_SCHEMA, { storageKey: SUITE_KEY }), inUse(dir));
    assert.deepEqual(
      await first.get('messages', Uint8Array.of(1)),
      Uint8Array.of(7),
      'the holder is unaffected',
    );
    await first.close();
    const second = await openProfileDirectory(dir, SUITE_SCHEMA, { storageKey: SUITE_KEY });
    assert.deepEqual(await second.get('messages', Uint8Array.of(1)), Uint8Array.of(7));
    await second.close();
    await assert.rejects(
      second.get('messages', Uint8Array.of(1)),
      (e: unknown) => (e as StorageError).code === 'CLOSED',
    );
  });

  it('a holder killed with SIGKILL leaves no lock that blocks the next opener', async () => {
    const dir = join(root, 'killed');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'profile-holder.ts'), dir],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      assert.equal(line.toString().trim(), 'open');
      await assert.rejects(openProfileDirectory(dir, SUITE_SCHEMA, { storageKey: null }), inUse(dir));
    } finally {
      child.kill('SIGKILL');
    }
    await once(child, 'exit');
    assert.ok(existsSync(join(dir, PROFILE_FILES.lock)), 'the lock file is still there');
    const db = await openProfileDirectory(dir, SUITE_SCHEMA, { storageKey: null });
    assert.deepEqual(
      await db.get('messages', Uint8Array.of(1)),
      Uint8Array.of(42),
      'what the holder stored is kept',
    );
    await db.close();
  });

  it('refuses a bad directory argument', async () => {
    await assert.rejects(openProfileDirectory('', SUITE_SCHEMA, { storageKey: null }), TypeError);
  });
});
