/** The Kaspa library in real Chromium: the §6.5 signed example, HD vectors and the builder. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startBrowserHarness, type BrowserHarness } from '../harness/browser.ts';
import { loadVectors } from './fixtures.ts';

interface Api {
  workedExample(): Record<string, string | boolean>;
  hdVector(): Record<string, string>;
  buildAndVerify(): boolean;
}
declare const testApi: Api;

describe('Kaspa library in Chromium', () => {
  let harness: BrowserHarness;
  before(async () => {
    harness = await startBrowserHarness(join(import.meta.dirname, 'browser-entry.ts'));
  });
  after(async () => {
    await harness.close();
  });

  it('reproduces the signed worked example and the HD vectors, and builds a valid message', async () => {
    const page = await harness.newPage();
    const worked = loadVectors<{ v0: Record<string, string> }>('worked-example.json');
    const r = await page.evaluate(() => testApi.workedExample());
    assert.equal(r['signatureScript'], worked.v0['signatureScript']);
    assert.equal(r['transactionId'], worked.v0['transactionId']);
    assert.equal(r['computeMass'], worked.v0['computeMass']);
    assert.equal(r['storageMass'], worked.v0['storageMass']);
    assert.equal(r['minimumFee'], worked.v0['minimumFee']);
    assert.equal(r['verifies'], true);
    const hd = loadVectors<{
      mnemonics: { master: string; account0: string; leaves: { address: string }[] }[];
    }>('hd.json');
    const h = await page.evaluate(() => testApi.hdVector());
    assert.equal(h['master'], hd.mnemonics[0]!.master);
    assert.equal(h['account0'], hd.mnemonics[0]!.account0);
    assert.equal(h['address'], hd.mnemonics[0]!.leaves[0]!.address);
    assert.equal(await page.evaluate(() => testApi.buildAndVerify()), true);
  });
});
