/**
 * Builds the real web app once, serves it with the real dev server, and opens pages in
 * Chromium that record CSP violations, console errors and dialogs, so every UI test can
 * assert that none happened.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { buildWeb } from '../../scripts/build-web.ts';
import { serveWeb, type WebServer } from '../../src/web/serve.ts';
import { launchChromium } from '../harness/browser.ts';

/** Where tests keep screenshots of the main screens (gitignored). */
export const SCREENSHOT_DIR = resolve(import.meta.dirname, '../../artifacts/screenshots');

/** What a page reported that a test should see as a failure. */
export interface PageProblems {
  readonly cspViolations: string[];
  readonly consoleErrors: string[];
  readonly dialogs: string[];
  readonly pageErrors: string[];
}

/** A page plus the problems it has reported so far. */
export interface WebPage {
  readonly page: Page;
  readonly problems: PageProblems;
}

/** Every page must end with no CSP violation, uncaught page error, console error or dialog. */
export function assertClean(p: WebPage): void {
  assert.deepEqual(p.problems.cspViolations, [], 'CSP violations');
  assert.deepEqual(p.problems.pageErrors, [], 'uncaught page errors');
  assert.deepEqual(p.problems.consoleErrors, [], 'console errors');
  assert.deepEqual(p.problems.dialogs, [], 'dialogs');
}

/** A built, served app and a browser. */
export interface WebHarness {
  readonly url: string;
  readonly browser: Browser;
  /** Opens `path` (e.g. "?demo=1") in a fresh context with the given viewport. */
  open(path?: string, viewport?: { width: number; height: number }): Promise<WebPage>;
  screenshot(page: Page, name: string): Promise<void>;
  close(): Promise<void>;
}

/** Builds into a temporary folder, serves it on 127.0.0.1:0 and launches Chromium. */
export async function startWebHarness(): Promise<WebHarness> {
  const outDir = await mkdtemp(join(tmpdir(), 'p2pcomm-web-'));
  await buildWeb({ outDir });
  const server: WebServer = await serveWeb({ root: outDir, port: 0 });
  const browser = await launchChromium();
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  return {
    url: server.url,
    browser,
    async open(path = '', viewport = { width: 1200, height: 800 }) {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      const problems: PageProblems = { cspViolations: [], consoleErrors: [], dialogs: [], pageErrors: [] };
      await page.exposeFunction('__reportCsp', (text: string) => problems.cspViolations.push(text));
      // Installed before any app script runs, so a violation during load is caught too.
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => {
          const report = (globalThis as unknown as { __reportCsp: (t: string) => void }).__reportCsp;
          report(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber} ${e.sample}`);
        });
      });
      page.on('console', (msg) => {
        if (msg.type() === 'error') problems.consoleErrors.push(msg.text());
      });
      page.on('pageerror', (err) => problems.pageErrors.push(err.message));
      page.on('dialog', (d) => {
        problems.dialogs.push(d.message());
        void d.dismiss();
      });
      await page.goto(new URL(path, server.url).href);
      return { page, problems };
    },
    async screenshot(page, name) {
      await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
    },
    async close() {
      await browser.close();
      await server.close();
      await rm(outDir, { recursive: true, force: true });
    },
  };
}
