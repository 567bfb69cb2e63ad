/**
 * The official Kaspa Python SDK (`kaspa` 2.1.0, JSON encoding) against the local network: server
 * info, UTXOs, a UtxosChanged subscription, transactions built and signed by the SDK (Generator
 * and create_transaction), RPC mining, notifications. The suite takes a URL, so the same script
 * runs against a real `kaspad --simnet --utxoindex --rpclisten-json` (docs/devnet.md).
 * A missing Python or SDK fails this test; it never skips.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bytesToHex } from '../../src/util/bytes.ts';
import { SOMPI_PER_KAS } from '../../src/kaspa/types.ts';
import { startDevnet, type DevnetHandle } from '../../src/devnet/index.ts';
import { ALICE } from './helpers.ts';

const SCRIPT = fileURLToPath(new URL('../oracle/devnet_conformance.py', import.meta.url));

interface Check {
  readonly check: string;
  readonly ok: boolean;
  readonly [detail: string]: unknown;
}

function runPython(
  args: readonly string[],
): Promise<{ code: number | null; checks: Check[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      const checks = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Check);
      resolve({ code, checks, stderr: err });
    });
  });
}

describe('official Kaspa Python SDK against the devnet', () => {
  let devnet: DevnetHandle;
  before(async () => {
    devnet = await startDevnet({
      port: 0,
      controlPort: false,
      prefund: { [ALICE.address]: 1000n * SOMPI_PER_KAS },
    });
  });
  after(() => devnet.stop());

  it('has Python 3 with the kaspa 2.1.0 SDK', async () => {
    const probe = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn('python3', ['-c', 'import importlib.metadata as m; print(m.version("kaspa"))']);
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, out: out.trim() }));
    });
    assert.equal(
      probe.code,
      0,
      'python3 cannot import the kaspa SDK (pip install -r test/oracle/requirements.txt)',
    );
    assert.equal(probe.out, '2.1.0');
  });

  it('connects, reads, subscribes, submits SDK-signed transactions and sees them notified', async () => {
    const { code, checks, stderr } = await runPython([devnet.url, '--private-key', bytesToHex(ALICE.secret)]);
    const failed = checks.find((c) => !c.ok);
    assert.equal(failed, undefined, `failed check: ${JSON.stringify(failed)}`);
    assert.equal(code, 0, `exit ${code}; stderr: ${stderr.slice(-2000)}`);
    assert.deepEqual(
      checks.map((c) => c.check),
      [
        'connect',
        'getServerInfo',
        'getBlockDagInfo',
        'subscribeUtxosChanged',
        'getUtxosByAddresses',
        'generator.submit',
        'utxosChanged(generator tx)',
        'submitTransaction',
        'utxosChanged(create_transaction tx)',
        'resubmit rejected',
        'getBalanceByAddress',
        'done',
      ],
    );
    // Both SDK transactions really were accepted by this network's chain.
    const ids = [checks[5]!['transactionIds'] as string[], [checks[7]!['transactionId'] as string]].flat();
    for (const id of ids) assert.ok(devnet.chain.isAccepted(id), id);
  });
});
