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
run(process.execPath, [
  '--import',
  'tsx',
  '--test',
  '--test-reporter=spec',
  '--test-concurrency=2',
  ...files,
]);
