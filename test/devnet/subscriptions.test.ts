/**
 * The local network's `unsubscribe` of UtxosChanged does what kaspad 2.1.0 does
 * (test/oracle/utxo-unsubscribe.ts, run against kaspad by `npm run test:kaspad`): an unsubscribe
 * removes the addresses it names and keeps the rest, an empty list ends the subscription, and
 * addresses are a set per connection, not counted.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDevnet, type DevnetHandle } from '../../src/devnet/index.ts';
import { KaspaRpcClient } from '../../src/kaspa/rpc/client.ts';
import { SOMPI_PER_KAS } from '../../src/kaspa/types.ts';
import { startMiner, type Miner } from '../oracle/miner.ts';
import { KASPAD_UNSUBSCRIBE, runUnsubscribeSteps } from '../oracle/utxo-unsubscribe.ts';
import { ALICE } from './helpers.ts';

describe('UtxosChanged unsubscribe on the local network', () => {
  let devnet: DevnetHandle;
  let client: KaspaRpcClient;
  let miner: Miner;
  before(async () => {
    devnet = await startDevnet({
      port: 0,
      controlPort: false,
      blocksPerSecond: 0,
      prefund: { [ALICE.address]: 1000n * SOMPI_PER_KAS },
    });
    client = new KaspaRpcClient({ urls: devnet.url, reconnect: false, heartbeatMs: 0 });
    await client.connect();
    miner = startMiner(client, ALICE.secret, 20);
  });
  after(async () => {
    await miner.stop();
    client.close();
    await devnet.stop();
  });

  it('removes per address, ends on an empty list, keeps a set', async () => {
    // The local network notifies as it accepts, so 10 s without B's notification means none.
    const steps = await runUnsubscribeSteps(
      devnet.url,
      (to) => miner.fund(to, SOMPI_PER_KAS),
      undefined,
      10_000,
    );
    assert.deepEqual(steps, KASPAD_UNSUBSCRIBE);
  });
});
