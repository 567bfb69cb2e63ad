/**
 * The coins of an attachment sent on chain (issue 14, NOTES §1): every publication, chunks
 * included, pays a notification coin to the recipient, and the recipient's status, one
 * publication for the run of arrivals, repays them all with one coin (docs/privacy.md "Run
 * repayments"), so nothing stays locked and each side ends where its own fees say. On the
 * local network with a fresh pair: Alice sends a multi-chunk file to Bob while he is offline,
 * Bob comes back, and the test reads both wallets' books against every accepted transaction.
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
import { openDb } from '../delivery/fakes.ts';
import { COINS_STORE } from '../../../src/core/delivery/kaspa-chain.ts';
import { encodeKey } from '../../../src/storage/keys.ts';

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

  // In chain format 2 coins are fungible (docs/protocol.md "Chain transactions and addresses",
  // "Returns"): what a contact's coins brought in is owed back and paid with the next
  // publication to it. So "every coin comes back" is a statement about the books: once Bob's
  // status is in, nothing of Alice's stays locked with him, and for each of them what is
  // spendable plus what is locked with the other is where they started less their own fees.
  it('a 5-chunk file to an offline recipient: every coin comes back, each balance is the start less own fees', async () => {
    const startOf = async (u: ChainUser): Promise<bigint> => {
      const f = await u.engine.funds();
      assert.equal(f.locked, 0n, `${u.name}: nothing locked before`);
      return f.spendable;
    };
    const aliceStart = await startOf(alice);
    const bobStart = await startOf(bob);
    await bob.stop();
    const alreadySeen = new Set(entries.keys());
    // Where every coin the test can meet is: the prefunded ones and every admitted output.
    const scriptOf = new Map<string, string>();
    for (const u of [alice, bob])
      for (const a of u.ownedAddresses()) {
        const spk = addressToScriptPublicKey(Address.decode(a));
        for (const c of devnet.chain.utxos.byScript(spk))
          scriptOf.set(key(c.outpoint), bytesToHex(spk.script));
      }

    const bytes = randomBytes(60_000);
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

    /** Fees of `u`'s own accepted transactions (every input one of its coins), and what they paid away. */
    const books = (u: ChainUser): { fees: bigint; paidAway: number } => {
      const mine = new Set(
        [...u.ownedAddresses()].map((a) => bytesToHex(addressToScriptPublicKey(Address.decode(a)).script)),
      );
      let fees = 0n;
      let paidAway = 0;
      for (const e of entries.values()) {
        e.tx.outputs.forEach((o, index) =>
          scriptOf.set(key({ transactionId: e.id, index }), bytesToHex(o.scriptPublicKey.script)),
        );
        if (alreadySeen.has(e.idHex) || !devnet.chain.isAccepted(e.idHex)) continue;
        if (!e.tx.inputs.every((i) => mine.has(scriptOf.get(key(i.previousOutpoint)) ?? ''))) continue;
        fees += e.fee;
        for (const o of e.tx.outputs) if (!mine.has(bytesToHex(o.scriptPublicKey.script))) paidAway += 1;
      }
      return { fees, paidAway };
    };
    const settled = await until(
      "nothing of Alice's locked with Bob, and both at their start less own fees",
      async () => {
        const a = await alice.engine.funds();
        const b = await bob.engine.funds();
        const fa = books(alice);
        const fb = books(bob);
        return (
          a.locked === 0n &&
          a.spendable + a.locked === aliceStart - fa.fees &&
          b.spendable + b.locked === bobStart - fb.fees && { a: fa, b: fb }
        );
      },
      120_000,
    ).catch(async (e: unknown) => {
      const a = await alice.engine.funds();
      const b = await bob.engine.funds();
      const fa = books(alice);
      const fb = books(bob);
      throw new Error(
        `alice: locked ${a.locked}, spendable ${a.spendable}, start ${aliceStart}, fees ${fa.fees}; ` +
          `bob: locked ${b.locked}, spendable ${b.spendable}, start ${bobStart}, fees ${fb.fees}`,
        { cause: e },
      );
    });
    // The manifest rides with the first chunk: a coin with each of the 5 publications.
    assert.ok(settled.a.paidAway >= m.chunkCount, `a coin with each publication (${settled.a.paidAway})`);
    // Bob answered the run with one status, and its one coin repaid the five.
    assert.equal(settled.b.paidAway, 1, 'one coin back');
  });

  it('a store from before the per-contact records: a coin that comes back takes the old locked value off in full', async () => {
    await bob.stop();
    const before = await alice.engine.funds();
    await alice.engine.send(bob.id, 'written before the upgrade');
    await until(
      'the coin to Bob is locked',
      async () => (await alice.engine.funds()).locked > before.locked,
      60_000,
    );
    // What a store written before the "lent" records holds: the total locked, nothing per contact.
    await alice.stop();
    const db = await openDb(alice.data);
    const lent = await db.scan(COINS_STORE, { prefix: encodeKey('lent') });
    assert.ok(lent.length > 0, 'the publication recorded what Bob holds');
    for (const [k] of lent) await db.delete(COINS_STORE, k);
    await alice.start();
    const locked = (await alice.engine.funds()).locked;
    assert.ok(locked > 0n, 'the old total is read');
    await bob.start();
    // As before the records: Bob's coin comes off the total whole (down to nothing at most),
    // instead of being owed back with the old value left locked for good.
    await until(
      "Bob's return takes the old value off",
      async () => (await alice.engine.funds()).locked < locked,
      120_000,
    );
  });
});
