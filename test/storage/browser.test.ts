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
declare global {
  var testApi: TestApi;
}

let harness: BrowserHarness;
let page: Page;

before(async () => {
  harness = await startBrowserHarness(join(import.meta.dirname, 'browser-entry.ts'));
  page = await harness.newPage();
});
after(async () => {
  await harness.close();
});

for (const kind of ['plain', 'sealed'] as const) {
  describe(`${kind === 'plain' ? 'indexeddb' : 'encrypted(indexeddb)'}: compliance in Chromium`, () => {
    for (const c of storageCases) {
      it(c.name, () => page.evaluate(([k, n]) => testApi.runCase(k, n), [kind, c.name] as const));
    }
  });
}

describe('encrypted(indexeddb): sealing in Chromium', () => {
  for (const c of sealingCases) {
    it(c.name, () => page.evaluate((n) => testApi.runCase('sealing', n), c.name));
  }
});

describe('indexeddb durability in Chromium', () => {
  it('data survives a page reload in the same browser context', async () => {
    const p = await harness.newPage();
    await p.evaluate(() => testApi.writeEntries('reload', 40));
    await p.reload();
    await p.waitForFunction(() => globalThis.testApi !== undefined);
    assert.equal(await p.evaluate(() => testApi.countEntries('reload')), 40);
    await p.context().close();
  });

  for (const how of ['closed', 'crashed'] as const) {
    it(`a tab ${how} in the middle of writes leaves whole batches only`, async () => {
      const p = await harness.newPage();
      const context = p.context();
      await p.evaluate(() => testApi.startWriter('killed'));
      await p.waitForFunction(() => testApi.progress() >= 12);
      const acknowledged = await p.evaluate(() => testApi.progress());
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
      const head = await next.evaluate(() => testApi.verifyCrash('killed'));
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
        const p = await chromium.newPage(harness.url);
        const head = await p.evaluate(() => testApi.verifyCrash('killed-browser'));
        assert.ok(head >= acknowledged, `head ${head} is behind acknowledged batch ${acknowledged}`);
        if (round === 2) {
          await chromium.close();
          break;
        }
        await p.evaluate(() => testApi.startWriter('killed-browser'));
        await p.waitForFunction((h) => testApi.progress() >= h + 8, head);
        acknowledged = await p.evaluate(() => testApi.progress());
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
    const r = await p.evaluate(() => testApi.fillUntilFull('quota'));
    assert.equal(r.code, 'QUOTA_EXCEEDED');
    assert.ok(r.written > 0);
    assert.equal(r.kept, r.written, 'the failed batch left nothing behind');
    await p.context().close();
  });

  it('a tab holding the database steps aside (CLOSED) when another tab upgrades it', async () => {
    const a = await harness.newPage();
    const b = await harness.newPage(a.context());
    await a.evaluate(() => testApi.hold('tabs', ['one']));
    assert.equal(await b.evaluate(() => testApi.upgradeAndRead('tabs', ['one', 'two'])), 1);
    assert.equal(await a.evaluate(() => testApi.probeHeld()), 'CLOSED');
    await a.context().close();
  });
});
