/**
 * Chromium on an on-disk profile, for the storage tests that the harness's fresh contexts
 * cannot express: those contexts keep IndexedDB in memory (off the record), while here the
 * data must reach the disk and survive the whole browser being SIGKILLed. Built on the
 * harness's flags; the browser is started by us (so its process group can be killed) and
 * driven over CDP by playwright-core.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../harness/browser.ts';

/** A running Chromium on `profileDir`. */
export interface ProfileBrowser {
  readonly browser: Browser;
  readonly context: BrowserContext;
  /** Opens `url` in a new tab and waits for the test bundle's global. */
  newPage(url: string, globalName?: string): Promise<Page>;
  /** SIGKILLs the browser and all its processes: no shutdown, no flush. */
  kill(): Promise<void>;
  /** Orderly shutdown. */
  close(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Launches Chromium on `profileDir` (created if needed; reused to reopen the same data). */
export async function launchOnProfile(profileDir: string): Promise<ProfileBrowser> {
  const child = spawn(
    CHROMIUM_PATH,
    [
      ...CHROMIUM_ARGS,
      `--user-data-dir=${profileDir}`,
      '--remote-debugging-address=127.0.0.1',
      '--remote-debugging-port=0',
      'about:blank',
    ],
    // Its own process group, so kill() reaches the renderers and utility processes too.
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const wsUrl = await new Promise<string>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`chromium exited with ${code}: ${err}`)));
  });
  const browser = await chromium.connectOverCDP(wsUrl);
  const context = browser.contexts()[0]!;
  return {
    browser,
    context,
    async newPage(url, globalName = 'storageTestApi') {
      const page = await context.newPage();
      await page.goto(url);
      await page.waitForFunction(
        (name) => (globalThis as Record<string, unknown>)[name] !== undefined,
        globalName,
      );
      return page;
    },
    async kill() {
      process.kill(-child.pid!, 'SIGKILL');
      await exited(child);
    },
    async close() {
      await browser.close();
      process.kill(-child.pid!, 'SIGTERM');
      await exited(child);
    },
  };
}
