/**
 * Builds the web app into static files: `src/web/main.ts` bundled by esbuild (minified,
 * ES2022, browser, code-split so the QR decoder loads on demand), the service worker, CSS,
 * index.html with the CSP meta tag, the web app manifest and generated icons.
 *
 * Usage: `npx tsx scripts/build-web.ts [--out dist/web] [--demo]`.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { crc32, deflateSync, gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { CSP_META } from '../src/web/csp.ts';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src/web');

/** Options of `buildWeb`. */
export interface BuildWebOptions {
  /** Output folder (emptied first). @default "dist/web" under the repository */
  readonly outDir?: string;
  /** Bake demo data in, as `?demo=1` does at run time. @default false */
  readonly demo?: boolean;
  /** Minify scripts and CSS. @default true */
  readonly minify?: boolean;
}

/** One output file with its size as served and gzipped. */
export interface BuiltFile {
  /** Path relative to the output folder, with forward slashes. */
  readonly path: string;
  readonly bytes: number;
  readonly gzipBytes: number;
}

/** What `buildWeb` produced. */
export interface BuildWebResult {
  readonly outDir: string;
  /** Content hash of the shell; names the service worker's cache. */
  readonly buildId: string;
  readonly files: readonly BuiltFile[];
}

/** Builds the app; see the module comment. */
export async function buildWeb(options: BuildWebOptions = {}): Promise<BuildWebResult> {
  const outDir = resolve(options.outDir ?? join(ROOT, 'dist/web'));
  const minify = options.minify ?? true;
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });

  await build({
    entryPoints: { app: join(SRC, 'main.ts') },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    outdir: outDir,
    chunkNames: 'chunks/[name]-[hash]',
    define: { __P2PCOMM_DEMO__: options.demo === true ? 'true' : 'false' },
    legalComments: 'none',
    logLevel: 'silent',
  });
  await build({
    entryPoints: { app: join(SRC, 'static/app.css') },
    bundle: true,
    minify,
    outdir: outDir,
    logLevel: 'silent',
  });

  const html = (await readFile(join(SRC, 'static/index.html'), 'utf8')).replace('__P2PCOMM_CSP__', CSP_META);
  if (html.includes('__P2PCOMM_')) throw new Error('index.html has an unreplaced placeholder');
  await writeFile(join(outDir, 'index.html'), html);
  await writeFile(
    join(outDir, 'manifest.webmanifest'),
    await readFile(join(SRC, 'static/manifest.webmanifest')),
  );
  await writeFile(join(outDir, 'icon.svg'), iconSvg());
  await writeFile(join(outDir, 'icon-192.png'), iconPng(192));
  await writeFile(join(outDir, 'icon-512.png'), iconPng(512));

  // The worker caches every shell file; its cache name is the hash of their contents, so a
  // new build replaces the old cache instead of serving stale code.
  const shell = (await listFiles(outDir)).sort();
  const hash = createHash('sha256');
  for (const f of shell) hash.update(f).update(await readFile(join(outDir, f)));
  const buildId = hash.digest('hex').slice(0, 16);
  await build({
    entryPoints: { sw: join(SRC, 'sw.ts') },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify,
    outdir: outDir,
    define: {
      __P2PCOMM_BUILD__: JSON.stringify(buildId),
      __P2PCOMM_SHELL__: JSON.stringify(['./', ...shell]),
    },
    logLevel: 'silent',
  });

  const files: BuiltFile[] = [];
  for (const f of (await listFiles(outDir)).sort()) {
    const data = await readFile(join(outDir, f));
    files.push({ path: f, bytes: data.length, gzipBytes: gzipSync(data, { level: 9 }).length });
  }
  return { outDir, buildId, files };
}

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const name of await readdir(dir)) {
    const p = join(dir, name);
    if ((await stat(p)).isDirectory()) out.push(...(await listFiles(p, base)));
    else out.push(relative(base, p).split('\\').join('/'));
  }
  return out;
}

// ---- icons -----------------------------------------------------------------------------------

/**
 * The ">_" prompt on a 16x16 grid. The glyph stays inside the central 80% so the icon is a
 * valid maskable icon (W3C Manifest "icon masks" safe zone).
 */
const GLYPH = [
  '................',
  '................',
  '................',
  '...##...........',
  '....##..........',
  '.....##.........',
  '......##........',
  '.......##.......',
  '......##........',
  '.....##.........',
  '....##..........',
  '...##...........',
  '........######..',
  '........######..',
  '................',
  '................',
];
const BG = [0x0b, 0x0f, 0x0c] as const;
const FG = [0x3d, 0xdc, 0x84] as const;

function iconSvg(): string {
  let d = '';
  GLYPH.forEach((row, y) => {
    for (let x = 0; x < row.length; x++) if (row[x] === '#') d += `M${x} ${y}h1v1h-1z`;
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16" shape-rendering="crispEdges">` +
    `<rect width="16" height="16" fill="#0b0f0c"/><path d="${d}" fill="#3ddc84"/></svg>\n`
  );
}

/**
 * A `size`x`size` RGB PNG of the glyph (RFC 2083): no image library is installed and the
 * format needs only a zlib stream and CRC-32, both in node:zlib.
 */
function iconPng(size: number): Buffer {
  const scale = size / 16;
  const raw = Buffer.alloc(size * (1 + size * 3));
  for (let y = 0; y < size; y++) {
    const rowStart = y * (1 + size * 3);
    raw[rowStart] = 0; // filter: none
    const glyphRow = GLYPH[Math.floor(y / scale)] ?? '';
    for (let x = 0; x < size; x++) {
      const c = glyphRow[Math.floor(x / scale)] === '#' ? FG : BG;
      raw.set(c, rowStart + 1 + x * 3);
    }
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'ascii');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const result = await buildWeb({
    demo: args.includes('--demo'),
    ...(outAt >= 0 && args[outAt + 1] !== undefined ? { outDir: args[outAt + 1] } : {}),
  });
  for (const f of result.files)
    console.log(`${f.path.padEnd(40)} ${String(f.bytes).padStart(8)} B  gzip ${f.gzipBytes} B`);
  console.log(`built ${result.outDir} (${result.buildId})`);
}
