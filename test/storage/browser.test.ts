import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startBrowserHarness, type BrowserHarness } from '../harness/browser.ts';
import { sealingCases, storageCases } from './cases.ts';
import { launchOnProfile } from './chromium-profile.ts';
import type * as Api from './browser-entry.ts';

type TestApi = typeof Api;
// A global name of its own: other test bundles declare `testApi` with their own type.
declare global {
  var storageTestApi: TestApi;
}

let harness: BrowserHarness;
let page: Page;

before(async () => {
  harness = await startBrowserHarness(join(import.meta.dirname, 'browser-entry.ts'), 'storageTestApi');
  page = await harness.newPage();
});
after(async () => {
  await harness.close();
});

for (const kind of ['plain', 'sealed'] as const) {
  describe(`${kind === 'plain' ? 'indexeddb' : 'encrypted(indexeddb)'}: compliance in Chromium`, () => {
    for (const c of storageCases) {
      it(c.name, () => page.evaluate(([k, n]) => storageTestApi.runCase(k, n), [kind, c.name] as const));
    }
  });
}

describe('encrypted(indexeddb): sealing in Chromium', () => {
  for (const c of sealingCases) {
    it(c.name, () => page.evaluate((n) => storageTestApi.runCase('sealing', n), c.name));
  }
});

describe('indexeddb durability in Chromium', () => {
  it('data survives a page reload in the same browser context', async () => {
    const p = await harness.newPage();
    await p.evaluate(() => storageTestApi.writeEntries('reload', 40));
    await p.reload();
    await p.waitForFunction(() => globalThis.storageTestApi !== undefined);
    assert.equal(await p.evaluate(() => storageTestApi.countEntries('reload')), 40);
    await p.context().close();
  });

  for (const how of ['closed', 'crashed'] as const) {
    it(`a tab ${how} in the middle of writes leaves whole batches only`, async () => {
      const p = await harness.newPage();
      const context = p.context();
      await p.evaluate(() => storageTestApi.startWriter('killed'));
      await p.waitForFunction(() => storageTestApi.progress() >= 12);
      const acknowledged = await p.evaluate(() => storageTestApi.progress());
      if (how === 'closed') {
        await p.close();
      } else {
        // Kill the renderer process outright, as the OS or an out-of-memory kill would.
        const cdp = await context.newCDPSession(p);
        const crashed = p.waitForEvent('crash');
        cdp.send('Page.crash').catch(() => undefined);
        await crashed;
        await p.close();
      }
      const next = await harness.newPage(context);
      const head = await next.evaluate(() => storageTestApi.verifyCrash('killed'));
      assert.ok(head >= acknowledged, `head ${head} is behind acknowledged batch ${acknowledged}`);
      await context.close();
    });
  }

  it('the whole browser SIGKILLed mid-write keeps every acknowledged batch on disk, and only whole batches', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'p2pcomm-profile-'));
    try {
      let acknowledged = -1;
      for (let round = 0; round < 3; round++) {
        const chromium = await launchOnProfile(profile);
        const p = await chromium.newPage(harness.url, 'storageTestApi');
        const head = await p.evaluate(() => storageTestApi.verifyCrash('killed-browser'));
        assert.ok(head >= acknowledged, `head ${head} is behind acknowledged batch ${acknowledged}`);
        if (round === 2) {
          await chromium.close();
          break;
        }
        await p.evaluate(() => storageTestApi.startWriter('killed-browser'));
        await p.waitForFunction((h) => storageTestApi.progress() >= h + 8, head);
        acknowledged = await p.evaluate(() => storageTestApi.progress());
        await chromium.kill();
      }
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  });

  it('a full origin quota fails the batch with QUOTA_EXCEEDED and keeps earlier batches', async () => {
    const p = await harness.newPage();
    const cdp = await p.context().newCDPSession(p);
    await cdp.send('Storage.overrideQuotaForOrigin', {
      origin: new URL(harness.url).origin,
      quotaSize: 8 * 1024 * 1024,
    });
    const r = await p.evaluate(() => storageTestApi.fillUntilFull('quota'));
    assert.equal(r.code, 'QUOTA_EXCEEDED');
    assert.ok(r.written > 0);
    assert.equal(r.kept, r.written, 'the failed batch left nothing behind');
    await p.context().close();
  });

  it('a tab holding the database steps aside (CLOSED) when another tab upgrades it', async () => {
    const a = await harness.newPage();
    const b = await harness.newPage(a.context());
    await a.evaluate(() => storageTestApi.hold('tabs', ['one']));
    assert.equal(await b.evaluate(() => storageTestApi.upgradeAndRead('tabs', ['one', 'two'])), 1);
    assert.equal(await a.evaluate(() => storageTestApi.probeHeld()), 'CLOSED');
    await a.context().close();
  });
});
