#!/usr/bin/env node
// The `p2pcomm` executable (package.json "bin"). A checkout holds TypeScript sources; running
// them through a transpiling loader costs seconds at every start (each module compiled or
// looked up in a cache, one by one), so the first run bundles src/cli/main.ts with esbuild
// into dist/cli/ (packages stay external: werift, better-sqlite3 and ws load from
// node_modules as usual) and later runs import that bundle as long as none of its source
// files has changed. Without esbuild (an install without dev dependencies) the sources run
// through tsx's loader as before. Exits with the command's code (src/cli/exit.ts).
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const words = (e) => (e instanceof Error ? e.message : String(e));
// Last resort: a fault outside any command is still said in words, never as a stack trace.
process.on('uncaughtException', (e) => {
  process.stderr.write(`p2pcomm: unexpected failure: ${words(e)}\n`);
  process.exit(10);
});

const ROOT = resolve(import.meta.dirname, '../..');
const ENTRY = join(ROOT, 'src/cli/main.ts');
const OUT = join(ROOT, 'dist/cli');
/** Which build is current and the size and time of every source file it was made from. */
const STAMP = join(OUT, 'current.json');
/** Age after which a build no stamp names is removed. */
const OLD_BUILD_MS = 24 * 3600 * 1000;

/** The current bundle's entry file, or undefined when there is none or a source changed. */
async function currentBundle() {
  let stamp;
  try {
    stamp = JSON.parse(await readFile(STAMP, 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof stamp?.dir !== 'string' || !/^[0-9a-f]{16}$/.test(stamp.dir) || !Array.isArray(stamp.inputs))
    return undefined;
  for (const [path, mtimeMs, size] of stamp.inputs) {
    try {
      const s = statSync(join(ROOT, path));
      if (s.mtimeMs !== mtimeMs || s.size !== size) return undefined;
    } catch {
      return undefined;
    }
  }
  return join(OUT, stamp.dir, 'main.mjs');
}

/**
 * Bundles into a fresh folder named by the content hash, then points the stamp at it with an
 * atomic rename, so that processes started at the same moment (tests, scripts) never read a
 * half-written bundle. Folders of older builds go a day after they were made: a process
 * started from one (a long `listen`) may still load its lazy chunks.
 */
async function buildBundle() {
  const { build } = await import('esbuild');
  await mkdir(OUT, { recursive: true });
  const tmp = await mkdtemp(join(OUT, '.build-'));
  // mkdtemp makes it private (0700); the bundle is as readable as the sources it is made of.
  await chmod(tmp, 0o755);
  try {
    const result = await build({
      entryPoints: { main: ENTRY },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      outdir: tmp,
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunks/[name]-[hash]',
      metafile: true,
      write: true,
      logLevel: 'silent',
    });
    const hash = createHash('sha256');
    for (const file of Object.keys(result.metafile.outputs).sort()) {
      hash.update(file.slice(relative(ROOT, tmp).length));
      hash.update(await readFile(join(ROOT, file)));
    }
    const dir = hash.digest('hex').slice(0, 16);
    const inputs = Object.keys(result.metafile.inputs).map((p) => {
      const s = statSync(join(ROOT, p));
      return [p, s.mtimeMs, s.size];
    });
    try {
      await rename(tmp, join(OUT, dir));
    } catch {
      // The same build made by another process at the same moment.
      await rm(tmp, { recursive: true, force: true });
    }
    const stampTmp = `${STAMP}.${process.pid}`;
    await writeFile(stampTmp, JSON.stringify({ dir, inputs }));
    await rename(stampTmp, STAMP);
    for (const old of await readdir(OUT)) {
      if (!/^[0-9a-f]{16}$/.test(old) || old === dir) continue;
      const made = statSync(join(OUT, old), { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
      if (Date.now() - made > OLD_BUILD_MS)
        await rm(join(OUT, old), { recursive: true, force: true }).catch(() => undefined);
    }
    return join(OUT, dir, 'main.mjs');
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

async function load() {
  if (process.env['P2PCOMM_NO_BUNDLE'] !== '1') {
    let entry = await currentBundle();
    if (entry === undefined) entry = await buildBundle().catch(() => undefined);
    if (entry !== undefined) return import(pathToFileURL(entry).href);
  }
  const { register } = await import('tsx/esm/api');
  register();
  return import('./main.ts');
}

const { run } = await load();
process.exit(await run(process.argv.slice(2)));
