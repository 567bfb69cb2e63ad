import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDevnet, type DevnetHandle } from '../../../src/devnet/index.ts';
import { SOMPI_PER_KAS, type Utxo } from '../../../src/kaspa/types.ts';
import type { OutgoingMessage } from '../../../src/core/delivery/messages.ts';
import { ChainUser, prefund } from './kaspa.ts';
import { MemoryDatabase, openDb } from './fakes.ts';
import { until } from './harness.ts';
import { KaspaRpcClient } from '../../../src/kaspa/rpc/client.ts';
import { buildFormat1Publication as buildPublication } from './format1.ts';
import { packBatch } from '../../../src/core/envelope/batch.ts';
import { bytesToHex, randomBytes } from '../../../src/util/bytes.ts';

describe('chain delivery on the local Kaspa network', () => {
  let devnet: DevnetHandle;
  const url = (): string => devnet.url;
  const alice = new ChainUser('alice', url);
  const bob = new ChainUser('bob', url);
  const carol = new ChainUser('carol', url);
  alice.knows(bob, carol);
  bob.knows(alice, carol);
  // Carol knows nobody: Alice holds her invite, and her first message is a request to Carol.

  before(async () => {
    devnet = await startDevnet({
      port: 0,
      controlPort: false,
      blocksPerSecond: 20,
      prefund: prefund(alice, bob),
    });
    await alice.start();
    await bob.start();
  });
  after(async () => {
    for (const u of [alice, bob, carol]) await u.stop().catch(() => undefined);
    await devnet.stop();
  });

  it('recipient online: published with its proof, delivered by the returned coin', async () => {
    await alice.engine.send(bob.id, 'hello over Kaspa');
    const [m] = await bob.waitInbox(alice, 1);
    assert.equal(m!.text, 'hello over Kaspa');
    const [out] = (await alice.allOut(bob, ['delivered'])) as OutgoingMessage[];
    assert.equal(out!.route, 'chain');
    assert.match(out!.proof!.txId, /^[0-9a-f]{64}$/);
    const proved = await until('acceptance in the proof', async () => {
      const p = (await alice.engine.message(out!.id))?.proof;
      return p?.acceptingDaaScore !== undefined && p;
    });
    assert.ok(proved.acceptingBlockHash?.match(/^[0-9a-f]{64}$/));
    const funds = await alice.engine.funds();
    assert.ok(funds.spendable > 0n && funds.messagesLeft > 0);
  });

  it('first contact entirely over the chain, to a client with no funds: its receipt rides the returned coin', async () => {
    await carol.start();
    await alice.engine.send(carol.id, 'welcome carol');
    // Alice is a stranger to Carol: her message waits as a request until Carol accepts it.
    await until('carol has a request from alice', () => carol.requests.get(alice.id) !== undefined);
    assert.equal(await carol.accept(alice), 1);
    await carol.waitInbox(alice, 1);
    await alice.allOut(carol, ['delivered']);
    assert.equal((await carol.engine.funds()).spendable, 0n, 'receiving cost carol nothing');
    // Her coin went back with the receipt, so her reply waits for funds, kept and said so.
    await carol.engine.send(alice.id, 'thanks alice');
    await until('insufficient funds reported', () =>
      carol.events.some((e) => e.type === 'funds' && e.funds.insufficient),
    );
    assert.equal(((await carol.outbox(alice))[0] as OutgoingMessage).status, 'queued');
    devnet.fund(carol.address.toString(), 10n * SOMPI_PER_KAS);
    await alice.waitInbox(carol, 1);
    await carol.allOut(alice, ['delivered']);
  });

  it('recipient offline, then online: catches up and shows each message once, in order', async () => {
    await bob.stop();
    for (const t of ['while away 1', 'while away 2', 'while away 3']) await alice.engine.send(bob.id, t);
    await alice.allOut(bob, ['published', 'delivered'], 4);
    await bob.start();
    const inbox = await bob.waitInbox(alice, 4);
    assert.deepEqual(
      inbox.map((m) => m.text),
      ['hello over Kaspa', 'while away 1', 'while away 2', 'while away 3'],
    );
    await alice.allOut(bob, ['delivered'], 4);
  });

  it('sender restarts mid-send: the queued message is published after the restart', async () => {
    await alice.engine.configure({ batchWindowMs: 60_000 });
    await alice.engine.send(bob.id, 'survives a restart');
    await alice.stop();
    await alice.start();
    await bob.waitInbox(alice, 5);
    await alice.allOut(bob, ['delivered'], 5);
  });

  it('dust and garbage from strangers are never shown, never returned, and harm nothing', async () => {
    const mallory = new ChainUser('mallory', url);
    const client = new KaspaRpcClient({ urls: devnet.url });
    await client.connect();
    try {
      devnet.fund(mallory.address.toString(), 10n * SOMPI_PER_KAS);
      const key = mallory.wallet.privateKey(0, 0, 0);
      const submitted = new Set<string>();
      const spent = new Set<string>();
      const outpointKey = (u: Utxo): string => `${bytesToHex(u.outpoint.transactionId)}:${u.outpoint.index}`;
      const payloads = [
        new Uint8Array(0), // a bare payment
        randomBytes(700), // noise
        packBatch([
          { bytes: randomBytes(300), firstContact: true },
          { bytes: randomBytes(40), firstContact: false },
        ]), // a batch of frames for nobody
        packBatch([{ bytes: bob.card.serialize(), firstContact: false }]), // bytes that mean something, but not a frame
      ];
      for (const payload of payloads) {
        // Her change once it is in a block; coins already spent stay listed until then.
        const utxos = await until('mallory funded', async () => {
          const us = await client.getUtxosByAddresses([mallory.address.toString()]);
          const fresh = us.filter((u) => !spent.has(outpointKey(u)));
          return fresh.length > 0 && fresh;
        });
        const built = buildPublication({
          payload,
          recipients: [{ address: bob.address }],
          funding: utxos.map((utxo) => ({ utxo, privateKey: key })),
          changeAddress: mallory.address,
        });
        for (const u of utxos) spent.add(outpointKey(u));
        submitted.add(bytesToHex(await client.submitTransaction(built.tx)));
      }
      const before = bob.events.length;
      await alice.engine.send(bob.id, 'after the noise');
      const inbox = await bob.waitInbox(alice, 6);
      assert.equal(inbox.at(-1)!.text, 'after the noise');
      await alice.allOut(bob, ['delivered'], 6);
      const seen = bob.events.slice(before);
      assert.ok(!seen.some((e) => e.type === 'error'), 'noise is not an error of ours');
      assert.ok(
        seen.every((e) => e.type !== 'message' || e.message.contact === alice.id),
        'nothing from a stranger is shown',
      );
      // Every coin Mallory holds is change of her own transactions: none came back.
      const hers = await client.getUtxosByAddresses([mallory.address.toString()]);
      assert.ok(hers.every((u) => submitted.has(bytesToHex(u.outpoint.transactionId))));
    } finally {
      client.close();
    }
  });

  it('WebSocket drops mid-conversation: nothing lost, nothing twice', async () => {
    const before = (await bob.inbox(alice)).length;
    const sends = [];
    for (let i = 0; i < 5; i++) {
      sends.push(alice.engine.send(bob.id, `through drops ${i}`));
      if (i % 2 === 0) devnet.faults.dropConnections();
    }
    await Promise.all(sends);
    await alice.allOut(bob, ['delivered'], before + 5, 120_000);
    const texts = (await bob.inbox(alice)).map((m) => m.text);
    assert.equal(texts.length, before + 5);
    assert.equal(new Set(texts).size, before + 5);
  });
});

describe('a first-contact address per invite (docs/protocol.md "Invite link")', () => {
  let devnet: DevnetHandle;
  let probe: KaspaRpcClient;
  const url = (): string => devnet.url;
  // Bob's store can be swapped for an empty one: a profile restored from its recovery key.
  let bobData = new MemoryDatabase();
  const bob = new ChainUser('bob', url, { openDb: () => openDb(bobData) });
  const alice = new ChainUser('alice', url);
  const carol = new ChainUser('carol', url);
  const dave = new ChainUser('dave', url);

  before(async () => {
    devnet = await startDevnet({
      port: 0,
      controlPort: false,
      blocksPerSecond: 20,
      prefund: prefund(alice, bob, carol, dave),
    });
    probe = new KaspaRpcClient({ urls: devnet.url });
    await probe.connect();
    await bob.start();
  });
  after(async () => {
    probe.close();
    for (const u of [alice, bob, carol, dave]) await u.stop().catch(() => undefined);
    await devnet.stop();
  });

  const coinsAt = async (a: { toString(): string }): Promise<Utxo[]> =>
    probe.getUtxosByAddresses([a.toString()]);

  it('two invites name two fresh addresses; a first contact to each arrives, one after bob was offline, none on the card address', async () => {
    const first = await bob.chain.nextInviteAddress();
    const second = await bob.chain.nextInviteAddress();
    const names = new Set([first.toString(), second.toString(), bob.address.toString()]);
    assert.equal(names.size, 3, 'each invite has its own address, neither is the card address');
    // BIP-44 receive indices 1 and 2 of bob's wallet (index 0 is the card address).
    assert.equal(first.toString(), bob.wallet.address('kaspasim', 0, 0, 1).toString());
    assert.equal(second.toString(), bob.wallet.address('kaspasim', 0, 0, 2).toString());
    alice.holdsInvite(bob, first);
    carol.holdsInvite(bob, second);

    await alice.start();
    await alice.engine.send(bob.id, 'hello from the first invite');
    await until('bob has a request from alice', () => bob.requests.get(alice.id) !== undefined);
    assert.ok((await coinsAt(first)).length >= 1, 'the first contact paid the first invite address');

    await bob.stop();
    await carol.start();
    await carol.engine.send(bob.id, 'hello from the second invite');
    await carol.allOut(bob, ['published']);
    assert.ok((await coinsAt(second)).length >= 1, 'the second paid the second invite address');
    await bob.start();
    await until('bob caught up with carol', () => bob.requests.get(carol.id) !== undefined);

    // Nothing but the funding landed on the card address.
    const card = await coinsAt(bob.address);
    assert.deepEqual(
      card.map((u) => u.entry.amount),
      [100n * SOMPI_PER_KAS],
      'only the faucet paid the card address',
    );
    // Accepted, both conversations go on over stealth addresses.
    await bob.accept(alice);
    await bob.accept(carol);
    await alice.allOut(bob, ['delivered']);
    await carol.allOut(bob, ['delivered']);
    await bob.engine.send(alice.id, 'hi alice');
    await alice.waitInbox(bob, 1);
  });

  it('restored from its recovery key (an empty store): first contacts on invite addresses are found by the gap limit', async () => {
    const third = await bob.chain.nextInviteAddress();
    assert.equal(third.toString(), bob.wallet.address('kaspasim', 0, 0, 3).toString());
    dave.holdsInvite(bob, third);
    await bob.stop();
    // Everything the address book knew is gone; the seed and the sessions remain.
    bobData = new MemoryDatabase();
    await dave.start();
    await dave.engine.send(bob.id, 'hello from the third invite');
    await dave.allOut(bob, ['published']);
    await bob.start();
    await until('restored bob has a request from dave', () => bob.requests.get(dave.id) !== undefined);
    // The counter moved past the index found: the next invite does not reuse it.
    const next = await bob.chain.nextInviteAddress();
    assert.equal(next.toString(), bob.wallet.address('kaspasim', 0, 0, 4).toString());
  });
});
