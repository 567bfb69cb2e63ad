/**
 * The web app's figures: what the browser downloads (beside the spec's 1.8 MB WASM budget),
 * time from navigation to a usable screen in headless Chromium (beside a static page from the
 * same server), and JS heap of a tab holding 1,000 messages (beside an empty tab and the app
 * with a short conversation; only a window of the long one is rendered), and search and opening a
 * conversation with 1,000 contacts and 100,000 messages beside the same on the demo profile.
 * All against the fake engine, so they measure the UI alone.
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
    // 4. Scale: search across conversations and opening one, on the demo profile (3 contacts)
    // and on one with 1,000 contacts and 100,000 messages more, in the same tab type.
    const SCALE_CONTACTS = 1000;
    const SCALE_EACH = 100;
    // The list is windowed (chat-list.ts): usable = it counts every conversation and shows the
    // first rows, as many as fit the screen.
    const listed = (n: number): boolean => {
      const list = document.querySelector<HTMLElement>('ul[aria-label="Conversations"]');
      return list?.dataset['count'] === String(n) && list.querySelector('a.chat-row') !== null;
    };
    const scaleTab = async (
      big: boolean,
    ): Promise<{ hits: number[]; none: number[]; open: number[]; unlock: number[]; chatRows: number }> => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${server.url}?demo=1&sw=0`);
      await page.locator('a.chat-row').first().waitFor();
      if (big) {
        await page.evaluate(
          ([n, each]) =>
            (
              globalThis as unknown as { p2pcommDemo: { seedScale(n: number, each: number): string[] } }
            ).p2pcommDemo.seedScale(n!, each!),
          [SCALE_CONTACTS, SCALE_EACH],
        );
        await page.waitForFunction(listed, 3 + SCALE_CONTACTS);
      }
      const chatRows = Number(
        await page.locator('ul[aria-label="Conversations"]').getAttribute('data-count'),
      );
      // Page-side: resolves once `done()` holds, checked on every change under `root`. Observed,
      // not polled: a poll per animation frame rounds each figure up to whole frames (16.7 ms),
      // which was all the difference between the two profiles' "open a conversation".
      const OBSERVED = `(root, done) => new Promise((resolve) => {
        if (done()) return resolve();
        const mo = new MutationObserver(() => { if (done()) { mo.disconnect(); resolve(); } });
        mo.observe(root, { childList: true, characterData: true, subtree: true, attributes: true });
      })`;
      // Typing to results on screen, timed inside the page (no round trips in the figure).
      const search = (query: string): Promise<number> =>
        page.evaluate(`(async () => {
          const box = document.querySelector('.search-box');
          const list = document.querySelector('.search-results');
          const state = document.querySelector('.search-state');
          box.value = ''; box.dispatchEvent(new Event('input'));
          list.replaceChildren(); state.textContent = '';
          const done = (${OBSERVED})(state, () => state.textContent !== '');
          const t0 = performance.now();
          box.value = ${JSON.stringify(query)}; box.dispatchEvent(new Event('input'));
          await done;
          return performance.now() - t0;
        })()`) as Promise<number>;
      const hits: number[] = [];
      const none: number[] = [];
      // Queries that match in both profiles ("e" is in every demo and scale text), and one
      // that matches nothing (every message read, nothing rendered).
      for (let i = 0; i < RUNS; i++) hits.push(await search('e'));
      for (let i = 0; i < RUNS; i++) none.push(await search(`zq${i}x`));
      // Opening a conversation: the hash change to its messages in the log.
      const open: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        open.push(
          (await page.evaluate(`(async () => {
            location.hash = '#/chats';
            await new Promise((r) => setTimeout(r, 50));
            const t0 = performance.now();
            location.hash = '#/chat/c1';
            await (${OBSERVED})(document.body, () => document.querySelector('.msgs')?.dataset.count === '3');
            return performance.now() - t0;
          })()`)) as number,
        );
      }
      // Unlock to a usable chat list: from the click on "Unlock" to every row in the list.
      const unlock: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        await page.evaluate(() => (location.hash = '#/chats'));
        await page.getByRole('button', { name: 'Lock' }).click();
        await page.getByLabel('Password').fill('correct horse battery');
        const t0 = performance.now();
        await page.getByRole('button', { name: 'Unlock' }).click();
        await page.waitForFunction(listed, chatRows);
        unlock.push(performance.now() - t0);
      }
      await context.close();
      return { hits, none, open, unlock, chatRows };
    };
    const small = await scaleTab(false);
    const large = await scaleTab(true);
    const pair = (s: number[]): string => `p50 ${fmtMs(percentile(s, 50))} / p90 ${fmtMs(percentile(s, 90))}`;
    // The demo profile's empty search can answer within the page clock's resolution (0.1 ms):
    // no ratio to that, the target is the absolute one.
    const ratio = (a: number[], b: number[]): string =>
      percentile(b, 50) <= 0.1
        ? 'small profile under the clock resolution (0.1 ms)'
        : `${(percentile(a, 50) / percentile(b, 50)).toFixed(1)}x the small profile`;
    const profile = `${large.chatRows.toLocaleString('en-US')} contacts, ${(SCALE_CONTACTS * SCALE_EACH + 6).toLocaleString('en-US')} messages`;
    const scale: BenchTable = {
      title: `Scale (fake engine, headless Chromium, ${RUNS} runs each): ${profile} vs the ${small.chatRows}-contact demo`,
      rows: [
        {
          name: 'search for "e" (in every message), typing to the 50 newest hits on screen',
          value: pair(large.hits),
          reference: `demo profile: ${pair(small.hits)}; target 200 ms (issue 15)`,
          note: ratio(large.hits, small.hits),
        },
        {
          name: 'search that finds nothing (every message read)',
          value: pair(large.none),
          reference: `demo profile: ${pair(small.none)}; target 200 ms (issue 15)`,
          note: ratio(large.none, small.none),
        },
        {
          name: 'unlock to a usable chat list (every row counted, the rows in view rendered)',
          value: pair(large.unlock),
          reference: `demo profile: ${pair(small.unlock)}; target 2x (issue 15)`,
          note: ratio(large.unlock, small.unlock),
        },
        {
          name: 'open a conversation (3 messages) from the list',
          value: pair(large.open),
          reference: `demo profile: ${pair(small.open)}; target 2x (issue 15)`,
          note: ratio(large.open, small.open),
        },
      ],
    };
    return [size, startup, memory, scale];
  } finally {
    await browser.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
};

export default bench;
