/**
 * Chain format 2 at its edges, end to end on the local network: a format-1 notification is
 * refused at the batch decoder with a typed error (and its coin is kept as funds), and an own
 * publication with no output back (a wallet holding only a contact's coin) is shown accepted
 * in the proof, the acceptance recorded from the coin it spent.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDevnet, type DevnetHandle } from '../../../src/devnet/index.ts';
import { KaspaRpcClient } from '../../../src/kaspa/rpc/client.ts';
import { SOMPI_PER_KAS, type BlockHash, type Transaction } from '../../../src/kaspa/types.ts';
import { transactionId } from '../../../src/kaspa/txid.ts';
import { findFrames } from '../../../src/core/envelope/batch.ts';
import { SessionManager } from '../../../src/core/session/session-manager.ts';
import { notificationValue } from '../../../src/core/delivery/chain-tx.ts';
import type { OutgoingMessage } from '../../../src/core/delivery/messages.ts';
import { DecodeError } from '../../../src/util/errors.ts';
import { bytesToHex, hexToBytes, randomBytes } from '../../../src/util/bytes.ts';
import { Address, addressToScriptPublicKey } from '../../../src/kaspa/address.ts';
import { ChainUser, prefund } from './kaspa.ts';
import { until } from './harness.ts';
import { buildFormat1Publication, packFormat1Batch } from './format1.ts';

/** The accepted transaction `txHex`, read from the node's virtual chain after `from`. */
async function acceptedTx(client: KaspaRpcClient, from: BlockHash, txHex: string): Promise<Transaction> {
  return until(
    `transaction ${txHex.slice(0, 8)} accepted`,
    async () => {
      let cursor = from;
      for (;;) {
        const page = await client.getVirtualChainFromBlockV2(cursor, { dataVerbosityLevel: 'Full' });
        for (const block of page.chainBlockAcceptedTransactions)
          for (const { transaction } of block.acceptedTransactions)
            if (transaction && bytesToHex(transactionId(transaction)) === txHex) return transaction;
        const last = page.addedChainBlockHashes.at(-1);
        if (last === undefined) return false;
        cursor = last;
      }
    },
    60_000,
  );
}

describe('chain format 2 end to end', () => {
  let devnet: DevnetHandle;
  let client: KaspaRpcClient;
  const url = (): string => devnet.url;
  const alice = new ChainUser('alice', url);
  const bob = new ChainUser('bob', url);
  // Carol has no funds and knows nobody: Alice holds her invite.
  const carol = new ChainUser('carol', url, { settings: { batchWindowMs: 3_000 } });
  // Dave is funded and hears from Alice first: his pool for her starts with her coin alone.
  const dave = new ChainUser('dave', url);
  alice.knows(bob, carol, dave);
  bob.knows(alice);
  dave.knows(alice);

  before(async () => {
    devnet = await startDevnet({
      port: 0,
      controlPort: false,
      blocksPerSecond: 20,
      prefund: prefund(alice, bob, dave),
    });
    client = new KaspaRpcClient({ urls: devnet.url });
    await client.connect();
    await alice.start();
    await bob.start();
  });
  after(async () => {
    client.close();
    for (const u of [alice, bob, carol, dave]) await u.stop().catch(() => undefined);
    await devnet.stop();
  });

  it('a format-1 notification is refused at the decoder (UNKNOWN_VERSION) and its coin is kept as funds', async () => {
    const start = await client.getSink();
    const before = await alice.engine.funds();
    const eventsBefore = alice.events.length;
    // What a format-1 client published: a real sealed chat frame for Alice in the old batch
    // layout, on the fixed-value coin to her card address, change back to the sender's address.
    const frames = await bob.port.seal(alice.id, [
      { type: 'chat', id: randomBytes(16), sentAt: Date.now(), text: 'from a format-1 client' },
    ]);
    const payload = packFormat1Batch(frames, 2048);
    const funding = (await client.getUtxosByAddresses([bob.address.toString()])).filter(
      (u) => u.entry.amount > SOMPI_PER_KAS,
    );
    const built = buildFormat1Publication({
      payload,
      recipients: [{ address: alice.address }],
      funding: funding.slice(0, 1).map((utxo) => ({ utxo, privateKey: bob.wallet.privateKey(0, 0, 0) })),
      changeAddress: bob.address,
    });
    assert.equal(built.tx.outputs[0]!.value, notificationValue(), 'the fixed format-1 coin');
    const txHex = bytesToHex(await client.submitTransaction(built.tx));

    // The payload as the chain carries it is refused by the batch decoder, by code, naming
    // the old version, before any cryptography (docs/protocol.md "Batch container").
    const onChain = await acceptedTx(client, start, txHex);
    assert.throws(
      () => findFrames(onChain.payload, SessionManager.create(alice.identity)),
      (e: unknown) => e instanceof DecodeError && e.code === 'UNKNOWN_VERSION' && /version 1/.test(e.message),
    );
    // Alice's client reads the coin, shows nothing, reports no error, and keeps the coin as funds.
    const coin = built.tx.outputs[0]!.value;
    await until('the format-1 coin counted as funds', async () => {
      const f = await alice.engine.funds();
      return f.spendable >= before.spendable + coin && f;
    });
    assert.equal((await alice.inbox(bob)).length, 0, 'nothing shown from the format-1 payload');
    assert.ok(
      alice.events.slice(eventsBefore).every((e) => e.type !== 'error'),
      'an old format is not an error of the client',
    );
    // Format 2 goes on working between the two.
    await bob.engine.send(alice.id, 'format 2 after the old one');
    const [m] = await alice.waitInbox(bob, 1);
    assert.equal(m!.text, 'format 2 after the old one');
  });

  it('every publication of a series is shown accepted, each paid by the change of the one before', async () => {
    const sent: OutgoingMessage[] = [];
    for (let i = 0; i < 4; i++) {
      sent.push(await alice.engine.send(bob.id, `series ${i}`));
      await until(`message ${i} published`, async () => (await alice.engine.message(sent[i]!.id))?.proof);
    }
    await bob.waitInbox(alice, 4);
    for (const m of sent)
      await until(`acceptance of ${m.text} in its proof`, async () => {
        const p = (await alice.engine.message(m.id))?.proof;
        return p?.acceptingDaaScore !== undefined && p;
      });
  });

  it('an own publication with no output back is shown accepted in the proof (acceptance from the spent coin)', async () => {
    await carol.start();
    const start = await client.getSink();
    await alice.engine.send(carol.id, 'welcome carol');
    await until('carol has a request from alice', () => carol.requests.get(alice.id) !== undefined);
    assert.equal(await carol.accept(alice), 1);
    // Within Carol's batch window her receipt and her reply share one publication, paid by
    // Alice's coin alone: Carol holds nothing else, so it has no change and no decoy.
    const out = await carol.engine.send(alice.id, 'thanks, from a wallet with only your coin');
    await alice.waitInbox(carol, 1);
    const proof = await until('acceptance in the proof', async () => {
      const p = (await carol.engine.message(out.id))?.proof;
      return p?.acceptingDaaScore !== undefined && p;
    });
    assert.match(proof.txId, /^[0-9a-f]{64}$/);
    assert.match(proof.acceptingBlockHash ?? '', /^[0-9a-f]{64}$/);

    const tx = await acceptedTx(client, start, proof.txId);
    const own = new Set(
      [...carol.ownedAddresses()].map((a) => bytesToHex(addressToScriptPublicKey(Address.decode(a)).script)),
    );
    assert.equal(tx.inputs.length, 1, 'one coin spent');
    assert.ok(
      tx.outputs.every((o) => !own.has(bytesToHex(o.scriptPublicKey.script))),
      'no output back to Carol',
    );
    // The proof names the block that really accepted it, and Carol's funds are spent.
    const block = await client.getBlock(hexToBytes(proof.acceptingBlockHash!) as BlockHash, {
      includeTransactions: false,
    });
    assert.equal(block.header.daaScore, proof.acceptingDaaScore);
    assert.equal((await carol.engine.funds()).spendable, 0n);
    const msg = (await carol.engine.message(out.id)) as OutgoingMessage;
    assert.ok(['published', 'delivered', 'read'].includes(msg.status));
  });

  it("a funded wallet's first receipt and reply to a contact pay change and a decoy, never the contact's coin straight back", async () => {
    await dave.start();
    const start = await client.getSink();
    const sent = await alice.engine.send(dave.id, 'to a wallet with coins of its own');
    const paid = await until('alice published', async () => (await alice.engine.message(sent.id))?.proof);
    await dave.waitInbox(alice, 1);
    const reply = await dave.engine.send(alice.id, 'paid from my own coins');
    await alice.waitInbox(dave, 1);
    // Dave's receipt is on chain once Alice's message is delivered; his reply once its proof is accepted.
    await alice.allOut(dave, ['delivered', 'read'], 1, 60_000);
    const replied = await until('the reply accepted', async () => {
      const p = (await dave.engine.message(reply.id))?.proof;
      return p?.acceptingDaaScore !== undefined && p;
    });
    await acceptedTx(client, start, replied.txId);
    const own = new Set(
      [...dave.ownedAddresses()].map((a) => bytesToHex(addressToScriptPublicKey(Address.decode(a)).script)),
    );
    const aliceTx = await acceptedTx(client, start, paid.txId);
    const coin = aliceTx.outputs.findIndex((o) => own.has(bytesToHex(o.scriptPublicKey.script)));
    assert.ok(coin >= 0, "alice's publication paid an address of dave's");
    // Every transaction after `start` that spends Alice's coin to Dave. A 1-input, 1-output
    // spend of it (the shape without change) would tell an observer that its one output is
    // Alice's: her coin straight back to her (docs/privacy.md "Funding"). Dave holds coins of
    // his own, so his pool for her is refilled and her coin waits to be merged with his.
    const spends: Transaction[] = [];
    let cursor = start;
    for (;;) {
      const page = await client.getVirtualChainFromBlockV2(cursor, { dataVerbosityLevel: 'Full' });
      for (const block of page.chainBlockAcceptedTransactions)
        for (const { transaction } of block.acceptedTransactions)
          if (
            transaction?.inputs.some(
              (i) =>
                bytesToHex(i.previousOutpoint.transactionId) === paid.txId &&
                i.previousOutpoint.index === coin,
            )
          )
            spends.push(transaction);
      const last = page.addedChainBlockHashes.at(-1);
      if (last === undefined) break;
      cursor = last;
    }
    for (const t of spends)
      assert.ok(
        t.outputs.some((o) => own.has(bytesToHex(o.scriptPublicKey.script))),
        `${bytesToHex(transactionId(t)).slice(0, 8)} spends alice's coin with no output back to dave`,
      );
  });
});
