/**
 * `npm start`: the product on the embedded local network. Starts the local Kaspa network
 * (simnet, wRPC JSON on 127.0.0.1:18510, data kept in `.data/devnet`), builds the web app
 * and serves it, then prints the address to open. Open it in two browser profiles (or one
 * normal and one private window) to be Alice and Bob.
 *
 *   npm start -- [--port=8080] [--devnet-port=18510] [--fresh]
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startDevnet } from '../src/devnet/index.ts';
import { buildWeb } from './build-web.ts';
import { serveWeb } from './serve-web.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    'devnet-port': { type: 'string', default: '18510' },
    fresh: { type: 'boolean', default: false },
  },
  strict: true,
});

const dataDir = join(import.meta.dirname, '..', '.data', 'devnet');
if (values.fresh) await rm(dataDir, { recursive: true, force: true });

const devnet = await startDevnet({ port: Number(values['devnet-port']), dataDir });
const built = await buildWeb();
const web = await serveWeb({ port: Number(values.port) });

console.log(`
p2pComm is running on the local network.

  open            ${web.url}
  local network   ${devnet.url}  (kaspad-compatible wRPC JSON, simnet)
  faucet          ${devnet.controlUrl ?? 'disabled'}  (local only)
  web app         ${built.files.length} files in ${built.outDir}

Open the address in two browser profiles to chat as Alice and Bob. Ctrl-C stops everything.
`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await web.close();
  await devnet.stop();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
