/**
 * The coins of an attachment sent on chain (issue 14, NOTES §1): every publication, chunks
 * included, pays a notification coin to the recipient, and the recipient's app returns each
 * one to the sender as it does a message's coin, so the sender ends where the fees say and
 * nothing stays locked. On the local network with a fresh pair: Alice sends a multi-chunk file
 * to Bob while he is offline, Bob comes back, and the test follows every coin of Alice's value
 * through the accepted transactions.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDevnet, type DevnetHandle } from '../../../src/devnet/index.ts';
import type { MempoolEntry } from '../../../src/devnet/mempool.ts';
import {
  ATTACHMENT_STORES,
  AttachmentService,
  AttachmentStore,
} from '../../../src/core/attachments/index.ts';
import { Address, addressToScriptPublicKey } from '../../../src/kaspa/address.ts';
import type { Outpoint } from '../../../src/kaspa/types.ts';
import { MemoryDatabase, openMemoryStore } from '../../../src/storage/memory.ts';
import { bytesToHex, randomBytes } from '../../../src/util/bytes.ts';
import { ChainUser, prefund } from '../delivery/kaspa.ts';
import { until } from '../delivery/harness.ts';

const key = (o: Outpoint): string => `${bytesToHex(o.transactionId)}:${o.index}`;

describe('attachment coins on the chain path, on the local Kaspa network', () => {
  let devnet: DevnetHandle;
  const services = new Map<string, AttachmentService>();
  const user = (name: string): ChainUser =>
    new ChainUser(name, () => devnet.url, {
      attachments: async (sessions) => {
        const db = await openMemoryStore(
          { version: 1, stores: [...ATTACHMENT_STORES] },
          new MemoryDatabase(),
        );
        const s = new AttachmentService({
          store: new AttachmentStore(db),
          sessions,
          chainPath: { statusDelayMs: 1_500 },
        });
        services.set(name, s);
        return s;
      },
    });
  const alice = user('alice');
  const bob = user('bob');
  alice.knows(bob);
  bob.knows(alice);
  /** Every transaction the node admitted, once each, in order. */
  const entries = new Map<string, MempoolEntry>();

  before(async () => {
    devnet = await startDevnet({
      port: 0,
      controlPort: false,
      blocksPerSecond: 10,
      prefund: prefund(alice, bob),
    });
    devnet.chain.listen({
      mempoolChanged: (added) => {
        for (const e of added) if (!entries.has(e.idHex)) entries.set(e.idHex, e);
      },
    });
    await alice.start();
    await bob.start();
  });
  after(async () => {
    for (const u of [alice, bob]) await u.stop().catch(() => undefined);
    await devnet?.stop();
  });

  // Fails today, so marked todo (reported, not passing): Alice's 5 publications each pay Bob a
  // coin, and Bob answers a run of arrivals with one status (docs/delivery.md "Attachments on
  // chain"), so after 120 s 4 coins are still at Bob's addresses, 0.12 KAS is locked and the
  // spendable balance is 0.146 KAS short of start - fees. Returning each arrival's coin needs
  // a return per arrival (or a k-coin return shape priced in chain-tx.ts) in the delivery engine.
  const todo = 'chunk coins are not returned one by one yet (issue 14 item 3)';
  it(
    'a 5-chunk file to an offline recipient: every coin comes back, the balance is the start less the fees',
    { todo },
    async () => {
      await bob.stop();
      const mine = (): Set<string> =>
        new Set(
          [...alice.ownedAddresses()].map((a) =>
            bytesToHex(addressToScriptPublicKey(Address.decode(a)).script),
          ),
        );
      const start = await alice.engine.funds();
      assert.equal(start.locked, 0n, 'nothing locked before');
      // Alice's value at the start: the coins at her own addresses.
      const value = new Map<string, Outpoint>();
      for (const a of alice.ownedAddresses())
        for (const u of devnet.chain.utxos.byScript(addressToScriptPublicKey(Address.decode(a))))
          value.set(key(u.outpoint), u.outpoint);
      assert.ok(value.size > 0, 'Alice holds coins');
      const alreadySeen = new Set(entries.keys());

      const bytes = new Uint8Array(60_000);
      bytes.set(randomBytes(60_000));
      const alices = services.get('alice')!;
      const m = await alices.send(
        bob.id,
        bytes,
        { kind: 'file', name: 'scan.pdf', mediaType: 'application/pdf' },
        { now: true },
      );
      assert.equal(m.chunkCount, 5);
      await until(
        'every piece published',
        () => alices.chain.published(m.id)?.published === m.chunkCount + 1,
        120_000,
      );
      await bob.start();
      const bobs = services.get('bob')!;
      await until(
        'bob holds it verified',
        async () =>
          (await bobs.list(alice.id)).some(
            (r) => bytesToHex(r.manifest.id) === bytesToHex(m.id) && r.state === 'complete',
          ),
        120_000,
      );
      assert.deepEqual(await bobs.read(m.id), bytes);

      // Follows Alice's value through the accepted transactions: a transaction that spends any
      // of it spends only it (no one else pays for her), its fee is hers, its outputs stay hers.
      const follow = (): { fees: bigint; notifications: number; away: string[] } => {
        const held = new Map(value);
        const scripts = mine();
        let fees = 0n;
        let notifications = 0;
        for (const e of entries.values()) {
          if (alreadySeen.has(e.idHex) || !devnet.chain.isAccepted(e.idHex)) continue;
          const ins = e.tx.inputs.map((i) => held.has(key(i.previousOutpoint)));
          if (!ins.some(Boolean)) continue;
          assert.ok(ins.every(Boolean), `transaction ${e.idHex} mixes Alice's coins with others'`);
          for (const i of e.tx.inputs) held.delete(key(i.previousOutpoint));
          fees += e.fee;
          e.tx.outputs.forEach((o, index) => {
            const outpoint = { transactionId: e.id, index };
            held.set(key(outpoint), outpoint);
            if (!scripts.has(bytesToHex(o.scriptPublicKey.script))) notifications += 1;
          });
        }
        const away = [...held.values()].filter((o) => {
          const u = devnet.chain.utxos.get(o);
          return u !== undefined && !scripts.has(bytesToHex(u.entry.scriptPublicKey.script));
        });
        return { fees, notifications, away: away.map(key) };
      };
      // Bob's receipts return the coins; Alice's wallet sees them come back.
      const settled = await until(
        'every coin of the file back with Alice and her balance at start - fees',
        async () => {
          const f = follow();
          const funds = await alice.engine.funds();
          return (
            f.away.length === 0 &&
            funds.locked === 0n &&
            funds.spendable === start.spendable - f.fees && { ...f, funds }
          );
        },
        120_000,
      ).catch(async (e: unknown) => {
        const f = follow();
        const funds = await alice.engine.funds();
        throw new Error(
          `coins still away: ${f.away.length}; locked ${funds.locked}; spendable ${funds.spendable}, ` +
            `expected ${start.spendable - f.fees} (start ${start.spendable}, fees ${f.fees})`,
          { cause: e },
        );
      });
      assert.ok(
        settled.notifications >= m.chunkCount + 1,
        `a coin for the manifest and each chunk (${settled.notifications})`,
      );
    },
  );
});
