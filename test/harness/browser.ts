/**
 * Runs code in a real browser for tests: Debian's Chromium driven by playwright-core
 * (STYLE §15). A test bundles a browser entry file with esbuild, serves it from a local
 * HTTP server on 127.0.0.1 and evaluates functions inside the page.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Flags required on these machines: no sandbox as root, no calls home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/**
 * Launches Chromium with the required flags plus `extraArgs` (e.g.
 * `--disable-features=WebRtcHideLocalIpsWithMdns` so WebRTC host candidates carry IP
 * addresses a non-browser peer can reach instead of mDNS names).
 */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    headless: true,
  });
}

/**
 * Chromium flags for a fake camera that plays `y4mPath` in a loop and grants camera access
 * without a prompt (Chromium's media switches; the file is read at launch).
 */
export function fakeCameraArgs(y4mPath: string): string[] {
  return [
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-video-capture=${y4mPath}`,
  ];
}

/**
 * A YUV4MPEG2 video of grey frames (the format Chromium's fake camera reads): each frame is
 * a luma plane of `width` × `height` bytes; chroma is neutral (128), so the video is exactly
 * the grey image given. Planar 4:2:0, so both sides must be even.
 */
export function y4mVideo(width: number, height: number, frames: readonly Uint8Array[], fps = 10): Uint8Array {
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width <= 0 ||
    height <= 0 ||
    width % 2 ||
    height % 2
  )
    throw new RangeError(`"width" and "height" expected positive even integers, got ${width}×${height}`);
  if (frames.length === 0) throw new RangeError('"frames" expected at least one frame');
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`, 'latin1');
  const marker = Buffer.from('FRAME\n', 'latin1');
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const parts: Uint8Array[] = [header];
  for (const [i, luma] of frames.entries()) {
    if (luma.length !== width * height)
      throw new RangeError(`"frames[${i}]" expected ${width * height} bytes, got ${luma.length}`);
    parts.push(marker, luma, chroma);
  }
  return Buffer.concat(parts);
}

/** Bundles `entry` for the browser; its exports land on `globalThis[globalName]`. */
export async function bundleForBrowser(entry: string, globalName = 'testApi'): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    globalName,
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error(`esbuild produced no output for ${entry}`);
  return file.text;
}

/** A page serving one bundled script at http://127.0.0.1:<port>/ (a secure context). */
export interface BrowserHarness {
  readonly browser: Browser;
  readonly url: string;
  /** A fresh, isolated context (its own IndexedDB) with the bundle loaded. */
  newPage(context?: BrowserContext): Promise<Page>;
  close(): Promise<void>;
}

/** Options of `startBrowserHarness`. */
export interface BrowserHarnessOptions {
  /** Chromium flags added to `CHROMIUM_ARGS`. @default [] */
  readonly extraArgs?: readonly string[];
}

export async function startBrowserHarness(
  entry: string,
  globalName = 'testApi',
  options: BrowserHarnessOptions = {},
): Promise<BrowserHarness> {
  const script = await bundleForBrowser(entry, globalName);
  const html = `<!doctype html><meta charset="utf-8"><title>test</title><script src="/bundle.js"></script>`;
  const server: Server = createServer((req, res) => {
    if (req.url === '/bundle.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/`;
  const browser = await launchChromium(options.extraArgs);
  return {
    browser,
    url,
    async newPage(context?: BrowserContext): Promise<Page> {
      const ctx = context ?? (await browser.newContext());
      const page = await ctx.newPage();
      await page.goto(url);
      await page.waitForFunction(
        (name) => (globalThis as Record<string, unknown>)[name] !== undefined,
        globalName,
      );
      return page;
    },
    async close(): Promise<void> {
      await browser.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
