import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { bundleForBrowser } from '../harness/browser.ts';
import * as browserEntry from '../../src/storage/browser.ts';
import * as nodeEntry from '../../src/storage/node.ts';

const root = join(import.meta.dirname, '../../src/storage');

describe('storage entry points (STYLE §9 runtime split)', () => {
  it('the browser entry bundles for the browser without better-sqlite3 or node:* modules', async () => {
    const code = await bundleForBrowser(join(root, 'browser.ts'), 'storage');
    assert.ok(!code.includes('better-sqlite3'));
    assert.ok(!/require\(["']node:/.test(code));
    assert.ok(code.includes('indexedDB'));
  });

  it('the node entry cannot be bundled for the browser (it is Node-only)', async () => {
    await assert.rejects(bundleForBrowser(join(root, 'node.ts'), 'storage'));
  });

  it('both entries export the same portable surface plus their backend', () => {
    const portable = [
      'StorageError',
      'encodeKey',
      'decodeKey',
      'openStorage',
      'openEncryptedStore',
      'openMemoryStore',
      'migrate',
    ];
    for (const name of portable) {
      assert.ok(name in browserEntry, `browser entry exports ${name}`);
      assert.ok(name in nodeEntry, `node entry exports ${name}`);
    }
    assert.ok('openIndexedDbStore' in browserEntry && !('openSqliteStore' in browserEntry));
    assert.ok('openSqliteStore' in nodeEntry && !('openIndexedDbStore' in nodeEntry));
  });
});
