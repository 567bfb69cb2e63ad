/**
 * `npm run test:kaspad -- <ws-url> [<private-key-hex>]`: the suites that can run against a real
 * node, run against the node at <ws-url> (a `kaspad --simnet --utxoindex --rpclisten-json`,
 * docs/devnet.md "Running it against a real kaspad"; or the local network as its stand-in):
 *
 *   1. node checks with the project's client: server info and isSynced, parallel blocks
 *      (two blocks from templates on the same parents are both accepted and then merged), and
 *      what `unsubscribe` of UtxosChanged removes (test/oracle/utxo-unsubscribe.ts, the same
 *      steps test/devnet/subscriptions.test.ts runs against the local network);
 *   2. the official Python SDK conformance suite (test/oracle/devnet_conformance.py);
 *   3. the delivery check with the app's own engine (test/oracle/kaspad-delivery.ts);
 *   4. the web app in two Chromium profiles pointed at the node (test/oracle/kaspad-web.ts).
 *
 * The key's P2PK address must own mature coins; without a key a fresh one is made and the
 * script mines 1,100 blocks to it first (simnet skips proof of work, FACTS §7.2). Prints one
 * JSON line per check, then a Markdown row for the table in docs/devnet.md; exits 1 on a failure.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { schnorr } from '@noble/curves/secp256k1.js';
import { Address, AddressVersion } from '../src/kaspa/address.ts';
import { KaspaRpcClient } from '../src/kaspa/rpc/client.ts';
import { bytesToHex, hexToBytes, randomBytes } from '../src/util/bytes.ts';
import { headerFromRpc } from '../src/devnet/codec.ts';
import { hashHeader } from '../src/devnet/header.ts';
import { SOMPI_PER_KAS } from '../src/kaspa/types.ts';
import { startMiner } from '../test/oracle/miner.ts';
import { KASPAD_UNSUBSCRIBE, runUnsubscribeSteps } from '../test/oracle/utxo-unsubscribe.ts';

const [url, keyArg] = process.argv.slice(2);
if (url === undefined || !/^wss?:\/\//.test(url)) {
  console.error('usage: npm run test:kaspad -- <ws-url> [<private-key-hex>]');
  process.exit(2);
}
const root = fileURLToPath(new URL('..', import.meta.url));
const key = keyArg === undefined ? randomBytes(32) : hexToBytes(keyArg);
const address = new Address('kaspasim', AddressVersion.PubKey, schnorr.getPublicKey(key)).toString();
const results: { suite: string; ok: boolean; detail: string }[] = [];
const line = (o: Record<string, unknown>): void => console.log(JSON.stringify(o));

/** Runs a child process, echoing its output; resolves with its exit code. */
function run(cmd: string, args: readonly string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', (e) => {
      console.error(`${cmd}: ${e.message}`);
      resolve(null);
    });
    child.once('close', (code) => resolve(code));
  });
}

async function nodeChecks(client: KaspaRpcClient): Promise<string> {
  const info = await client.getServerInfo();
  line({
    check: 'getServerInfo',
    ok: true,
    serverVersion: info.serverVersion,
    networkId: info.networkId,
    isSynced: info.isSynced,
  });
  if (info.networkId !== 'simnet') throw new Error(`expected a simnet node, got ${info.networkId}`);
  if (keyArg === undefined) {
    // Past coinbase maturity (1,000 DAA) so the fresh key owns spendable coins.
    for (let i = 0; i < 1_100; i++) {
      const { block } = await client.getBlockTemplate(address);
      const report = await client.submitBlock(block);
      if (report.type !== 'success') throw new Error(`mining: submitBlock rejected (${report.reason})`);
    }
    line({ check: 'mined 1,100 blocks to a fresh key', ok: true, address });
  }
  // Parallel blocks: two templates over the same parents, both submitted.
  const a = await client.getBlockTemplate(address, { extraData: Uint8Array.of(1) });
  const b = await client.getBlockTemplate(address, { extraData: Uint8Array.of(2) });
  const hashes = [a, b].map((t) => bytesToHex(hashHeader(headerFromRpc(t.block.header, 'header'))));
  for (const t of [a, b]) {
    const report = await client.submitBlock(t.block);
    if (report.type !== 'success') throw new Error(`parallel block rejected (${report.reason})`);
  }
  const dag = await client.getBlockDagInfo();
  for (const h of hashes) await client.getBlock(hexToBytes(h) as never, { includeTransactions: false });
  line({ check: 'parallel blocks accepted', ok: true, blocks: hashes, tips: dag.tipHashes.length });
  const synced = (await client.getServerInfo()).isSynced;
  line({ check: 'isSynced after fresh blocks', ok: synced, isSynced: synced });
  if (!synced) throw new Error('the node does not report synced right after new blocks');
  const miner = startMiner(client, key);
  let steps;
  try {
    steps = await runUnsubscribeSteps(url!, (to) => miner.fund(to, SOMPI_PER_KAS));
  } finally {
    await miner.stop();
  }
  const same = JSON.stringify(steps) === JSON.stringify(KASPAD_UNSUBSCRIBE);
  line({ check: 'UtxosChanged unsubscribe removes per address', ok: same, steps });
  if (!same) throw new Error('unsubscribe of UtxosChanged differs from KASPAD_UNSUBSCRIBE');
  return `${info.serverVersion}, ${dag.tipHashes.length} tips after two parallel blocks, unsubscribe per address`;
}

const client = new KaspaRpcClient({ urls: url, reconnect: false, heartbeatMs: 0, requestTimeoutMs: 30_000 });
let serverVersion = '?';
try {
  await client.connect();
  serverVersion = (await client.getServerInfo()).serverVersion;
  results.push({ suite: 'node checks', ok: true, detail: await nodeChecks(client) });
} catch (e) {
  results.push({ suite: 'node checks', ok: false, detail: e instanceof Error ? e.message : String(e) });
} finally {
  client.close();
}
const keyHex = bytesToHex(key);
if (results[0]!.ok) {
  const py = await run('python3', ['test/oracle/devnet_conformance.py', url, '--private-key', keyHex]);
  results.push({ suite: 'Python SDK conformance', ok: py === 0, detail: `exit ${py}` });
  const delivery = await run(process.execPath, [
    '--import',
    'tsx',
    'test/oracle/kaspad-delivery.ts',
    url,
    keyHex,
  ]);
  results.push({ suite: 'delivery check', ok: delivery === 0, detail: `exit ${delivery}` });
  const web = await run(process.execPath, ['--import', 'tsx', 'test/oracle/kaspad-web.ts', url, keyHex]);
  results.push({ suite: 'web app in two browsers', ok: web === 0, detail: `exit ${web}` });
}
console.log('\n| date (UTC) | node | ' + results.map((r) => r.suite).join(' | ') + ' |');
console.log('|---|---|' + results.map(() => '---|').join(''));
console.log(
  `| ${new Date().toISOString().slice(0, 16).replace('T', ' ')} | ${serverVersion} at ${url} | ` +
    results.map((r) => `${r.ok ? 'pass' : 'FAIL'} (${r.detail})`).join(' | ') +
    ' |',
);
process.exit(results.every((r) => r.ok) && results.length === 4 ? 0 : 1);
