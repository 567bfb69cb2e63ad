import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KaspaRpcClient } from '../../../src/kaspa/rpc/client.ts';
import { utxosByAddressesEntryToRpc, type AddressedUtxo } from '../../../src/kaspa/rpc/convert.ts';
import { UtxoWatcher, outpointKey, type UtxoChange } from '../../../src/kaspa/utxo-watcher.ts';
import type { TxId } from '../../../src/kaspa/types.ts';
import { serverAndClient, until, type FakeWrpcServer } from './fake-server.ts';

const A = 'kaspasim:qqzrk3a4acjla3zc9ngr37u4grtkr0k0mqf6qhmd9lteks00av6ass27ptvdg';
const B = 'kaspasim:qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqekcujlt2';

function utxo(n: number, address: string): AddressedUtxo {
  return {
    address,
    outpoint: { transactionId: new Uint8Array(32).fill(n) as TxId, index: n },
    entry: {
      amount: BigInt(n) * 1_000_000n,
      scriptPublicKey: { version: 0, script: new Uint8Array(34) },
      blockDaaScore: BigInt(n),
      isCoinbase: false,
    },
  };
}

describe('UtxoWatcher', () => {
  const connected = serverAndClient({ reconnect: { initialDelayMs: 5, maxDelayMs: 20 } });

  async function setup(): Promise<{
    server: FakeWrpcServer;
    client: KaspaRpcClient;
    utxoSet: Map<string, AddressedUtxo>;
  }> {
    const { server, client } = await connected();
    const utxoSet = new Map<string, AddressedUtxo>();
    server.on('getUtxosByAddresses', (p) => ({
      entries: [...utxoSet.values()]
        .filter((u) => (p['addresses'] as string[]).includes(u.address!))
        .map(utxosByAddressesEntryToRpc),
    }));
    return { server, client, utxoSet };
  }

  function notify(server: FakeWrpcServer, added: AddressedUtxo[], removed: AddressedUtxo[]): void {
    server.notify('UtxosChanged', 'utxosChangedNotification', {
      added: added.map(utxosByAddressesEntryToRpc),
      removed: removed.map(utxosByAddressesEntryToRpc),
    });
  }

  it('reports every UTXO exactly once across live changes, duplicates and a reconnect gap', async () => {
    const { server, client, utxoSet } = await setup();
    const u1 = utxo(1, A);
    const u2 = utxo(2, A);
    const u3 = utxo(3, A);
    const u4 = utxo(4, B);
    utxoSet.set(outpointKey(u1.outpoint), u1);
    const watcher = new UtxoWatcher(client);
    const changes: UtxoChange[] = [];
    watcher.on('change', (c) => changes.push(c));
    await watcher.addAddresses([A]);
    // Subscribe strictly before the snapshot (FACTS §6.4).
    assert.deepEqual(
      server.received.map((f) => f.method).filter((m) => m !== 'getBlockDagInfo'),
      ['subscribe', 'getUtxosByAddresses'],
    );
    assert.deepEqual(changes, [{ added: [u1], removed: [], source: 'snapshot' }]);

    utxoSet.set(outpointKey(u2.outpoint), u2);
    notify(server, [u2, u1], []); // u1 again: already known
    notify(server, [u2], []); // duplicate notification
    await until(() => changes.length === 2);
    assert.deepEqual(changes[1], { added: [u2], removed: [], source: 'notification' });

    // While disconnected: u1 is spent and u3 arrives; the watcher learns it from the catch-up snapshot.
    const closed = new Promise<void>((r) => client.on('close', () => r()));
    server.dropAll();
    await closed;
    utxoSet.delete(outpointKey(u1.outpoint));
    utxoSet.set(outpointKey(u3.outpoint), u3);
    await until(() => changes.length === 3);
    assert.deepEqual(changes[2], { added: [u3], removed: [u1], source: 'snapshot' });

    // Late notifications for the same changes are not reported twice.
    notify(server, [u3], [u1]);
    await client.ping();
    await watcher.addAddresses([B]);
    assert.deepEqual(server.connections[1]!.utxoAddresses, new Set([A, B]));
    notify(server, [u4], [u2]);
    await until(() => changes.length === 4);
    assert.deepEqual(changes[3], { added: [u4], removed: [u2], source: 'notification' });
    assert.deepEqual(
      watcher
        .utxos()
        .map((u) => u.outpoint.index)
        .sort(),
      [3, 4],
    );
  });

  it('lets a spend seen during the snapshot win over the snapshot', async () => {
    const { server, client, utxoSet } = await setup();
    const u1 = utxo(1, A);
    utxoSet.set(outpointKey(u1.outpoint), u1);
    // The node builds the snapshot, then the spend notification overtakes the reply.
    server.on('getUtxosByAddresses', async () => {
      const snapshot = { entries: [utxosByAddressesEntryToRpc(u1)] };
      notify(server, [], [u1]);
      await new Promise((r) => setTimeout(r, 20));
      return snapshot;
    });
    const watcher = new UtxoWatcher(client);
    const changes: UtxoChange[] = [];
    watcher.on('change', (c) => changes.push(c));
    await watcher.addAddresses([A]);
    assert.deepEqual(changes, []);
    assert.deepEqual(watcher.utxos(), []);
  });

  it('forgets removed addresses without reporting their coins as spent', async () => {
    const { server, client, utxoSet } = await setup();
    const a1 = utxo(1, A);
    const b1 = utxo(2, B);
    utxoSet.set(outpointKey(a1.outpoint), a1);
    utxoSet.set(outpointKey(b1.outpoint), b1);
    const watcher = new UtxoWatcher(client);
    const changes: UtxoChange[] = [];
    watcher.on('change', (c) => changes.push(c));
    await watcher.addAddresses([A, B]);
    await watcher.removeAddresses([A]);
    assert.deepEqual(
      server.calls('unsubscribe').map((f) => f.params),
      [{ UtxosChanged: { addresses: [A] } }],
    );
    assert.deepEqual(watcher.watched, [B]);
    assert.deepEqual(watcher.utxos(), [b1]);
    notify(server, [utxo(5, A)], []);
    await client.ping();
    assert.equal(changes.length, 1);
    await watcher.stop();
    assert.deepEqual(server.connections[0]!.utxoAddresses, new Set());
  });
  it('names only new addresses on an addition and only removed ones on a removal, reading nothing again', async () => {
    const { server, client, utxoSet } = await setup();
    const b1 = utxo(2, B);
    utxoSet.set(outpointKey(b1.outpoint), b1);
    const watcher = new UtxoWatcher(client);
    const changes: UtxoChange[] = [];
    watcher.on('change', (c) => changes.push(c));
    await watcher.addAddresses([A]);
    await watcher.addAddresses([A, B]);
    assert.deepEqual(
      server.calls('subscribe').map((f) => f.params),
      [{ UtxosChanged: { addresses: [A] } }, { UtxosChanged: { addresses: [B] } }],
    );
    const reads = server.calls('getUtxosByAddresses').length;
    await watcher.removeAddresses([A]);
    // kaspad removes only what an unsubscribe names (test/oracle/utxo-unsubscribe.ts): B is
    // still notified, so nothing is subscribed again or re-read.
    assert.deepEqual(
      server.calls('unsubscribe').map((f) => f.params),
      [{ UtxosChanged: { addresses: [A] } }],
    );
    assert.equal(server.calls('subscribe').length, 2);
    assert.equal(server.calls('getUtxosByAddresses').length, reads);
    const b2 = utxo(3, B);
    notify(server, [b2, utxo(4, A)], []);
    await until(() => changes.length === 2);
    assert.deepEqual(changes[1], { added: [b2], removed: [], source: 'notification' });
  });
});
