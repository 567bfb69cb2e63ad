/**
 * `npm start`: the product on the embedded local network. Starts the local Kaspa network
 * (simnet, wRPC JSON on 127.0.0.1:18510, data kept in `.data/devnet`), builds the web app
 * and serves it with the local faucet on the same origin (a new identity asks it for coins,
 * src/web/engine/local-origin.ts), then prints the address to open. Open it in two browser
 * profiles (or one normal and one private window) to be Alice and Bob.
 *
 *   npm start -- [--port=8080] [--devnet-port=18510] [--fresh]
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startDevnet } from '../src/devnet/index.ts';
import { serveAppWithLocalFaucet } from '../src/web/engine/local-origin.ts';
import { NETWORKS } from '../src/web/engine/network.ts';
import { buildWeb } from './build-web.ts';

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
const web = await serveAppWithLocalFaucet({
  root: built.outDir,
  port: Number(values.port),
  fund: (address, sompi) => devnet.fund(address, sompi),
});
// The app's local network defaults to the standard simnet port; another port goes in the link.
const open =
  devnet.url === NETWORKS.local.defaultNodeUrl
    ? web.url
    : `${web.url}?node=${encodeURIComponent(devnet.url)}`;

console.log(`
p2pComm is running on the local network.

  open            ${open}
  local network   ${devnet.url}  (kaspad-compatible wRPC JSON, simnet)
  faucet          ${web.url}devnet/fund for the app, ${devnet.controlUrl ?? 'disabled'} for scripts  (local only)
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
