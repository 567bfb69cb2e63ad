/**
 * The local faucet is asked only where it is served: the same build served by the plain
 * static server (no `/devnet/fund` route) makes no request there and logs nothing, while the
 * server of `npm start` (local-origin.ts) is asked once for a new identity and pays it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { buildWeb } from '../../../scripts/build-web.ts';
import { startDevnet, type DevnetHandle } from '../../../src/devnet/index.ts';
import { serveAppWithLocalFaucet } from '../../../src/web/engine/local-origin.ts';
import { LOCAL_FUND_PATH } from '../../../src/web/engine/network.ts';
import { serveWeb, type WebServer } from '../../../src/web/serve.ts';
import { launchChromium } from '../../harness/browser.ts';
import { UI, createIdentity, type User } from './real-app.ts';

describe('the local faucet, asked only where it is served', () => {
  let devnet: DevnetHandle;
  let outDir: string;
  let browser: Browser;
  const servers: WebServer[] = [];

  before(async () => {
    devnet = await startDevnet({ port: 0, blocksPerSecond: 10 });
    outDir = await mkdtemp(join(tmpdir(), 'p2pcomm-faucet-'));
    await buildWeb({ outDir });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    for (const s of servers) await s.close();
    await devnet?.stop();
    await rm(outDir, { recursive: true, force: true });
  });

  /** A new identity on the app at `base`; every faucet request and console error it made. */
  async function newIdentity(base: string): Promise<{ user: User; asked: string[]; statuses: number[] }> {
    const context = await browser.newContext();
    const page: Page = await context.newPage();
    const user: User = {
      name: 'Fay',
      password: 'fay-vault-password',
      context,
      page,
      invite: '',
      problems: [],
    };
    const asked: string[] = [];
    const statuses: number[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') user.problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => user.problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === LOCAL_FUND_PATH) asked.push(r.method());
    });
    page.on('response', (r) => {
      if (new URL(r.url()).pathname === LOCAL_FUND_PATH) statuses.push(r.status());
    });
    await page.goto(`${base}?sw=0&node=${encodeURIComponent(devnet.url)}`);
    await createIdentity(user);
    return { user, asked, statuses };
  }

  it('asks nothing of an origin that serves the app alone', async () => {
    const plain = await serveWeb({ root: outDir, port: 0 });
    servers.push(plain);
    const { user, asked } = await newIdentity(plain.url);
    // The request would go out as the identity is made; by the card it has been made or not.
    await user.page.waitForLoadState('networkidle', { timeout: UI });
    assert.deepEqual(asked, []);
    assert.deepEqual(user.problems, []);
    await user.context.close();
  });

  it('asks the faucet served beside the app, once, and is paid', async () => {
    const paid: string[] = [];
    const web = await serveAppWithLocalFaucet({
      root: outDir,
      port: 0,
      fund: (address, sompi) => {
        paid.push(address);
        return devnet.fund(address, sompi);
      },
    });
    servers.push(web);
    const { user, asked, statuses } = await newIdentity(web.url);
    for (const deadline = Date.now() + UI; statuses.length === 0 && Date.now() < deadline;)
      await user.page.waitForTimeout(50);
    await user.page.waitForLoadState('networkidle', { timeout: UI });
    assert.deepEqual(asked, ['POST']);
    assert.deepEqual(statuses, [200]);
    assert.equal(paid.length, 1);
    assert.deepEqual(user.problems, []);
    await user.context.close();
  });
});
