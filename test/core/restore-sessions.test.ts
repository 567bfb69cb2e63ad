/**
 * Restore re-establishes sessions by itself, with a one-time key: two profiles on real SQLite
 * (the Messenger API in this process) on the local Kaspa network chat; one exports a backup,
 * which is restored into a fresh profile; the restored client writes to its contact, the
 * contact answers, and the backup of the restored profile shows the contact's one-time key
 * used (one fewer than the batch the first backup carried).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Messenger } from '../../src/api/index.ts';
import { startDevnet, type DevnetHandle } from '../../src/devnet/index.ts';
import { decodeRecoveryKey } from '../../src/core/identity/recovery-key.ts';
import { ONE_TIME_KEYS_RECORDS, decodeOneTimeRecord, openBackup } from '../../src/web/engine/backup.ts';
import { ONE_TIME_BATCH_SIZE } from '../../src/core/session/one-time-batch.ts';

describe(
  'restore from a backup file re-establishes sessions with a one-time key',
  { timeout: 600_000 },
  () => {
    let devnet: DevnetHandle;
    let root: string;
    const open: Messenger[] = [];

    before(async () => {
      devnet = await startDevnet({ port: 0, blocksPerSecond: 10 });
      root = await mkdtemp(join(tmpdir(), 'p2pcomm-restore-'));
    });

    after(async () => {
      for (const m of open) await m.close().catch(() => undefined);
      await devnet?.stop();
      await rm(root, { recursive: true, force: true });
    });

    const profile = async (name: string): Promise<Messenger> => {
      const m = await Messenger.open({
        dataDir: join(root, name),
        nodeUrl: devnet.url,
        faucetUrl: `${devnet.controlUrl ?? ''}/fund`,
        hostAddresses: ['127.0.0.1'],
        onError: () => undefined,
      });
      open.push(m);
      return m;
    };
    const texts = async (m: Messenger, who: string): Promise<string[]> =>
      (await m.messages(who)).map((x) => x.text);
    const until = async (what: () => Promise<boolean>, label: string): Promise<void> => {
      for (let i = 0; i < 600; i++) {
        if (await what()) return;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.fail(`not reached: ${label}`);
    };

    it('the restored client writes first, its contact answers, and the contact’s key is used', async () => {
      const alice = await profile('alice');
      const bob = await profile('bob');
      const created = await alice.create('Alice', 'alice-password');
      await bob.create('Bob', 'bob-password');
      await alice.addContact(await bob.card());
      await bob.addContact(await alice.card());
      await alice.send('Bob', 'hi', { wait: 'delivered' });
      await bob.send('Alice', 'hello', { wait: 'delivered' });
      await alice.send('Bob', 'how are you', { wait: 'delivered' });
      await until(async () => (await texts(alice, 'Bob')).includes('hello'), 'Alice has Bob’s answer');

      // Alice's backup carries Bob's batch of one-time keys (backup version 4).
      const seed = decodeRecoveryKey(created.recoveryWords.join(' '));
      const keysIn = (file: Uint8Array): number[] => {
        const records = openBackup(file, seed).records.filter((r) => r.store === ONE_TIME_KEYS_RECORDS);
        assert.equal(records.length, 1, 'one contact, one record');
        return decodeOneTimeRecord(records[0]!.value).unused;
      };
      // Bob's batch rides his next traffic once his session is confirmed (by "how are you"):
      // his next message carries it, if the receipt before it did not.
      await bob.send('Alice', 'fine', { wait: 'delivered' });
      const holdsBatch = (f: Uint8Array): boolean =>
        openBackup(f, seed).records.some((r) => r.store === ONE_TIME_KEYS_RECORDS);
      await until(async () => holdsBatch(await alice.exportBackup()), 'Alice holds Bob’s one-time keys');
      const file = await alice.exportBackup();
      assert.equal(file[4], 4, 'backup version 4');
      const before = keysIn(file);
      assert.equal(before.length, ONE_TIME_BATCH_SIZE);
      await alice.close();

      // A fresh install: the file restored, no ratchet state, no pre-keys of the old install.
      const fresh = await profile('alice-restored');
      await fresh.importBackup(file, 'alice-password');
      await fresh.send('Bob', 'restored', { wait: 'delivered' });
      await until(
        async () => (await texts(bob, 'Alice')).includes('restored'),
        'Bob has the restored message',
      );
      await bob.send('Alice', 'welcome back', { wait: 'delivered' });
      await until(
        async () => (await texts(fresh, 'Bob')).includes('welcome back'),
        'the restored client has the answer',
      );
      const after = keysIn(await fresh.exportBackup());
      assert.equal(after.length, ONE_TIME_BATCH_SIZE - 1, 'one key used for the new session, dropped');
      assert.ok(after.every((id) => before.includes(id)));
    });
  },
);
