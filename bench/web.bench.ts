/**
 * The web app's figures: what the browser downloads (beside the spec's 1.8 MB WASM budget),
 * time from navigation to a usable screen in headless Chromium (beside a static page from the
 * same server), and JS heap of a tab holding 1,000 messages (beside an empty tab and the app
 * with a short conversation; only a window of the long one is rendered). All against the fake
 * engine, so they measure the UI alone.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { buildWeb } from '../scripts/build-web.ts';
import { serveWeb } from '../src/web/serve.ts';
import { MAX_ROWS } from '../src/web/views/message-window.ts';
import { launchChromium } from '../test/harness/browser.ts';
import { fmtMs, percentile, type Bench, type BenchTable } from './table.ts';

/** Spec "WASM Core Module": the size budget the whole app is held to here. */
const BUDGET_BYTES = 1.8 * 1024 * 1024;
const RUNS = 9;

const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;

async function timeToSelector(browser: Browser, url: string, selector: string): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const t0 = performance.now();
    await page.goto(url, { waitUntil: 'commit' });
    await page.locator(selector).first().waitFor();
    samples.push(performance.now() - t0);
    await context.close();
  }
  return samples;
}

async function heapAfterGc(page: Page): Promise<{ heap: number; nodes: number }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const get = (name: string): number => metrics.find((m) => m.name === name)?.value ?? NaN;
  return { heap: get('JSHeapUsedSize'), nodes: get('Nodes') };
}

const bench: Bench = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'p2pcomm-web-bench-'));
  const built = await buildWeb({ outDir: dir });
  await writeFile(
    join(dir, 'blank.html'),
    '<!doctype html><meta charset="utf-8"><title>blank</title><p id="x">static</p>',
  );
  const server = await serveWeb({ root: dir, port: 0 });
  const browser = await launchChromium();
  try {
    // 1. Bytes. First load = everything but the QR decoder, which loads only when scanning.
    const lazy = built.files.filter((f) => f.path.startsWith('chunks/jsQR'));
    const first = built.files.filter((f) => !lazy.includes(f) && f.path !== 'blank.html');
    const sum = (files: typeof first, k: 'bytes' | 'gzipBytes'): number =>
      files.reduce((n, f) => n + f[k], 0);
    const app = built.files.find((f) => f.path === 'app.js');
    const size: BenchTable = {
      title: 'Web app download size (minified; gzip -9)',
      rows: [
        {
          name: `first load: ${first.length} files (page, script, CSS, worker, manifest, icons)`,
          value: `${kb(sum(first, 'bytes'))} / gzip ${kb(sum(first, 'gzipBytes'))}`,
          reference: `budget ${kb(BUDGET_BYTES)} (spec WASM module)`,
          note: `${((100 * sum(first, 'gzipBytes')) / BUDGET_BYTES).toFixed(1)}% of budget gzipped`,
        },
        {
          name: 'app.js alone',
          value: `${kb(app?.bytes ?? 0)} / gzip ${kb(app?.gzipBytes ?? 0)}`,
          reference: `budget ${kb(BUDGET_BYTES)}`,
        },
        {
          name: 'QR decoder (loaded on demand when scanning)',
          value: `${kb(sum(lazy, 'bytes'))} / gzip ${kb(sum(lazy, 'gzipBytes'))}`,
          reference: `budget ${kb(BUDGET_BYTES)}`,
        },
      ],
    };

    // 2. Navigation to a usable screen (fresh context each run: no cache, no worker).
    const blank = await timeToSelector(browser, `${server.url}blank.html`, '#x');
    const onboarding = await timeToSelector(browser, `${server.url}?sw=0`, 'input[autocomplete="nickname"]');
    const chats = await timeToSelector(browser, `${server.url}?demo=1&sw=0`, 'a.chat-row');
    const p = (s: number[]): string => `p50 ${fmtMs(percentile(s, 50))} / p90 ${fmtMs(percentile(s, 90))}`;
    const ref = `static page: ${p(blank)}`;
    const over = (s: number[]): string =>
      `p50 +${fmtMs(percentile(s, 50) - percentile(blank, 50))} over static`;
    const startup: BenchTable = {
      title: `Navigation to usable screen, headless Chromium, ${RUNS} cold runs each`,
      rows: [
        {
          name: 'first run: create-identity form ready',
          value: p(onboarding),
          reference: ref,
          note: over(onboarding),
        },
        { name: 'demo: conversation list ready', value: p(chats), reference: ref, note: over(chats) },
      ],
    };

    // 3. Memory: empty tab, the app on a short conversation, the app on 1,000 more messages.
    const measureTab = async (
      url: string | undefined,
      ready?: string,
    ): Promise<{ heap: number; nodes: number; rows: number }> => {
      const context = await browser.newContext();
      const page = await context.newPage();
      if (url !== undefined) {
        await page.goto(url);
        if (ready !== undefined) await page.waitForFunction(ready);
      }
      const m = await heapAfterGc(page);
      const rows = await page.locator('li.msg').count();
      await context.close();
      return { ...m, rows };
    };
    // Contact ids are assigned in seeding order; the first demo contact is "c1".
    const empty = await measureTab(undefined);
    const short = await measureTab(
      `${server.url}?demo=1&sw=0#/chat/c1`,
      `document.querySelector('.msgs')?.dataset.count === '3'`,
    );
    const long = await measureTab(
      `${server.url}?demo=1&sw=0&messages=1000#/chat/c1`,
      `document.querySelector('.msgs')?.dataset.count === '1003'`,
    );
    const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(2)} MB`;
    const memory: BenchTable = {
      title: 'Tab memory after GC (CDP Performance.getMetrics)',
      rows: [
        {
          name: 'app, conversation with 1,003 messages',
          value: `heap ${mb(long.heap)}, ${long.nodes.toLocaleString('en-US')} DOM nodes`,
          reference: `empty tab: heap ${mb(empty.heap)}, ${empty.nodes} nodes`,
          note:
            `${((long.heap - short.heap) / 1000 / 1024).toFixed(2)} KB heap per extra message; ` +
            `${long.rows} rows rendered (window of at most ${MAX_ROWS})`,
        },
        {
          name: 'app, conversation with 3 messages',
          value: `heap ${mb(short.heap)}, ${short.nodes.toLocaleString('en-US')} DOM nodes`,
          reference: `empty tab: heap ${mb(empty.heap)}, ${empty.nodes} nodes`,
        },
      ],
    };
    return [size, startup, memory];
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
};

export default bench;
