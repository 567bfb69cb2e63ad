/**
 * `npm run bench`: runs every `bench/*.bench.ts` (or the ones named on the command line)
 * and prints their tables in Markdown.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatTable, type Bench } from './table.ts';

const dir = resolve(import.meta.dirname);
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();

for (const file of files) {
  const mod = (await import(pathToFileURL(join(dir, file)).href)) as { default: Bench };
  const tables = await mod.default();
  for (const t of Array.isArray(tables) ? tables : [tables]) console.log(formatTable(t));
}
