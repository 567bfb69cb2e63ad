/**
 * Serves the built web app (`dist/web/`) on 127.0.0.1 (src/web/serve.ts).
 *
 * Usage: `npx tsx scripts/serve-web.ts [--port 8080] [--root dist/web]`.
 */
import { serveWeb } from '../src/web/serve.ts';

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const portText = arg('--port');
const port = portText === undefined ? 8080 : Number(portText);
if (!Number.isInteger(port) || port < 0 || port > 65535)
  throw new RangeError(`"--port" expected 0..65535, got ${portText}`);
const rootArg = arg('--root');
const server = await serveWeb(rootArg === undefined ? { port } : { port, root: rootArg });
console.log(`serving on ${server.url}  (demo data: ${server.url}?demo=1)`);
