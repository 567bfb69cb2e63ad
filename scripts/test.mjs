// The whole test suite, as CI runs it: type check, lint, then every test file under
// test/ through Node's own test runner (one runner for unit, integration and browser tests).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

function run(cmd, args) {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const only = process.argv.slice(2);
if (only.length === 0) {
  run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']);
  run('npx', ['eslint', '.']);
}
const files = only.length > 0 ? only : findTests('test');
// A file that waits for ever must fail in words, not stall the run until CI's own limit cuts it
// off with nothing said: Node's runner applies --test-timeout to each file as a whole, so the
// bound is for the slowest file on a loaded machine (the browser end-to-end files take a few
// minutes), and --test-force-exit ends a file whose tests are done even if it left a handle open.
const FILE_TIMEOUT_MS = 20 * 60_000;
run(process.execPath, [
  '--import',
  'tsx',
  '--test',
  '--test-reporter=spec',
  '--test-concurrency=2',
  `--test-timeout=${FILE_TIMEOUT_MS}`,
  '--test-force-exit',
  ...files,
]);
