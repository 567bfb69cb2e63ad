#!/usr/bin/env node
// The `p2pcomm` executable (package.json "bin"): runs the TypeScript sources of a checkout
// through tsx's loader, in this process, and exits with the command's code (src/cli/exit.ts).
import { register } from 'tsx/esm/api';

register();
const words = (e) => (e instanceof Error ? e.message : String(e));
// Last resort: a fault outside any command is still said in words, never as a stack trace.
process.on('uncaughtException', (e) => {
  process.stderr.write(`p2pcomm: unexpected failure: ${words(e)}\n`);
  process.exit(10);
});
const { run } = await import('./main.ts');
process.exit(await run(process.argv.slice(2)));
