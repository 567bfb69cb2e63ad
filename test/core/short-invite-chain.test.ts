/**
 * Short invites on the local Kaspa network: the sealed invite published in one transaction
 * paying the locator's address (src/core/contact/chain-invite-directory.ts), found by
 * another client from the short link alone, over real WebSocket JSON-RPC.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { Invite } from '../../src/core/contact/card.ts';
import {
  MAX_CANDIDATES,
  SEALED_INVITE_BYTES,
  SEALED_INVITE_VERSION,
  SEALED_PLAINTEXT_BYTES,
  ShortInvite,
  ShortInviteError,
  resolveShortInvite,
} from '../../src/core/contact/short-invite.ts';
import {
  ChainInviteDirectory,
  INVITE_PAYLOAD_BYTES,
  INVITE_POOL,
  invitePayload,
  locatorAddress,
} from '../../src/core/contact/chain-invite-directory.ts';

import { minimumRelayFee } from '../../src/kaspa/fee.ts';
import { PayloadFetcher } from '../../src/kaspa/payload-fetch.ts';
import type { KaspaNode } from '../../src/kaspa/rpc/node.ts';
import type { TxId } from '../../src/kaspa/types.ts';
import { bytesToHex, concatBytes, equalBytes, randomBytes, utf8ToBytes } from '../../src/util/bytes.ts';
import { ChainUser, SharedDevnet } from './delivery/kaspa.ts';
import { until } from './delivery/harness.ts';

const DOMAIN = utf8ToBytes('p2pcomm/v1/short-invite');

/** A sealed invite at `short`'s locator made by someone who knows its secret, for `invite`'s card. */
function forgedSeal(short: ShortInvite, invite: Invite): Uint8Array {
  const out = hkdf(sha256, short.secret, short.fingerprint, DOMAIN, 64);
  const plain = new Uint8Array(SEALED_PLAINTEXT_BYTES);
  const bytes = invite.serialize();
  plain.set(bytes);
  plain[bytes.length] = 0x80;
  const nonce = randomBytes(24);
  const aad = concatBytes(DOMAIN, short.fingerprint);
  return concatBytes(
    Uint8Array.of(SEALED_INVITE_VERSION),
    nonce,
    xchacha20poly1305(out.slice(0, 32), nonce, aad).encrypt(plain),
  );
}

describe('short invite on the local Kaspa network', { timeout: 300_000 }, () => {
  const net = new SharedDevnet();
  const alice = new ChainUser('alice', net.url);
  const bob = new ChainUser('bob', net.url);
  const mallory = new ChainUser('mallory', net.url);
  net.around([alice, bob, mallory]);
  const invite = (): Invite => new Invite(alice.card);
  const reader = (): ChainInviteDirectory =>
    new ChainInviteDirectory({ node: bob.client, prefix: 'kaspasim' });

  /** Alice publishes a new short invite; resolves once its coin is listed at the locator. */
  async function publishedInvite() {
    const full = invite();
    const short = ShortInvite.create(full);
    const address = locatorAddress(short.locator, 'kaspasim');
    const writer = new ChainInviteDirectory({
      node: alice.client,
      prefix: 'kaspasim',
      publisher: alice.chain,
    });
    await writer.publish(short.locator, short.seal(full));
    const [coin] = await until(
      'the invite coin accepted',
      async () => {
        const c = await bob.client.getUtxosByAddresses([address.toString()]);
        return c.length > 0 && c;
      },
      60_000,
    );
    return { short, address, writer, coin: coin! };
  }

  it('publishes the sealed invite in one transaction and another client resolves it from the short link', async () => {
    const full = invite();
    const short = ShortInvite.create(full);
    assert.equal(short.toLink().length, 44);
    const before = (await alice.chain.funds()).spendable;
    const writer = new ChainInviteDirectory({
      node: alice.client,
      prefix: 'kaspasim',
      publisher: alice.chain,
    });
    await writer.publish(short.locator, short.seal(full));
    const found = await until(
      'the invite coin accepted',
      async () => {
        const coins = await bob.client.getUtxosByAddresses([
          locatorAddress(short.locator, 'kaspasim').toString(),
        ]);
        return coins.length > 0 && coins;
      },
      60_000,
    );
    assert.equal(found.length, 1);
    // Bob holds only the link.
    const got = await resolveShortInvite(ShortInvite.deserialize(short.serialize()), reader());
    assert.equal(bytesToHex(got.serialize()), bytesToHex(full.serialize()));
    assert.ok(got.card.sameCard(alice.card));
    // The shape: a one-recipient publication (coin, decoy, change) with a payload of a message bucket.
    // With the coin's DAA score, as every holder of a coin asks: the node lists the coin as soon
    // as the virtual accepts it, before a chain block does (src/kaspa/payload-fetch.ts).
    const r = await new PayloadFetcher(bob.client).fetch(found[0]!.outpoint.transactionId, {
      cursor: (await bob.client.getBlockDagInfo()).pruningPointHash,
      acceptingDaaScore: found[0]!.entry.blockDaaScore,
    });
    assert.equal(r.status, 'found');
    if (r.status !== 'found') return;
    assert.equal(r.payload.length, INVITE_PAYLOAD_BYTES);
    assert.equal(r.transaction.outputs.length, 3);
    const coin = found[0]!.entry.amount;
    const fee = minimumRelayFee(r.transaction);
    await until(
      'the change counted',
      async () => {
        const after = (await alice.chain.funds()).spendable;
        return after <= before - coin && after;
      },
      30_000,
    );
    const after = (await alice.chain.funds()).spendable;
    console.log(
      `# invite publication: coin ${coin} sompi, relay fee ${fee} sompi, wallet spent ${before - after}`,
    );
    assert.ok(before - after >= coin + fee, 'the wallet paid the coin and at least the relay floor');
  });

  it('a short link with another secret finds nothing and says so', async () => {
    const full = invite();
    const published = ShortInvite.create(full);
    const writer = new ChainInviteDirectory({
      node: alice.client,
      prefix: 'kaspasim',
      publisher: alice.chain,
    });
    await writer.publish(published.locator, published.seal(full));
    await until(
      'accepted',
      async () =>
        (await bob.client.getUtxosByAddresses([locatorAddress(published.locator, 'kaspasim').toString()]))
          .length > 0,
      60_000,
    );
    const other = ShortInvite.create(full);
    assert.deepEqual(await reader().find(other.locator), []);
    await assert.rejects(resolveShortInvite(other, reader()), (e: unknown) => {
      assert.ok(e instanceof ShortInviteError);
      assert.equal(e.code, 'NOT_FOUND');
      return true;
    });
  });

  it('a forged card and junk at the locator are skipped and the honest invite is found', async () => {
    const { short, address } = await publishedInvite();
    // Mallory learnt the link: she puts her own card there (newer, so examined first), a
    // payload of another shape, and an invite payload whose seal is random.
    const forged = forgedSeal(short, new Invite(mallory.card));
    await mallory.chain.publishToAddress(invitePayload(forged), address, 'm');
    await mallory.chain.publishToAddress(randomBytes(600), address, 'm');
    await mallory.chain.publishToAddress(
      invitePayload(concatBytes(Uint8Array.of(SEALED_INVITE_VERSION), randomBytes(SEALED_INVITE_BYTES - 1))),
      address,
      'm',
    );
    await until(
      'all four accepted',
      async () => (await bob.client.getUtxosByAddresses([address.toString()])).length === 4,
      60_000,
    );
    const candidates = await reader().find(short.locator);
    assert.equal(candidates.length, 3, 'the payload of another shape is left out');
    assert.ok(candidates.some((c) => equalBytes(c, forged)));
    const got = await resolveShortInvite(short, reader());
    assert.ok(got.card.sameCard(alice.card));
    assert.ok(!got.card.sameCard(mallory.card));
  });

  it('a node listing many coins at the locator gets at most MAX_CANDIDATES transactions fetched', async () => {
    const { short, coin } = await publishedInvite();
    // Coins of transactions that do not pay the address.
    const fakes = Array.from({ length: 100 }, (_, i) => ({
      ...coin,
      outpoint: { transactionId: randomBytes(32) as TxId, index: i },
    }));
    const fetched = new Set<string>();
    const node = new Proxy(bob.client, {
      get(target, prop, receiver) {
        if (prop === 'getUtxosByAddresses') return () => Promise.resolve([...fakes, coin]);
        if (prop === 'getMempoolEntry')
          return (txId: TxId, opts?: object) => {
            fetched.add(bytesToHex(txId));
            return target.getMempoolEntry(txId, opts);
          };
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as KaspaNode;
    const found = await new ChainInviteDirectory({ node, prefix: 'kaspasim' }).find(short.locator);
    assert.ok(fetched.size <= MAX_CANDIDATES, `${fetched.size} transactions fetched`);
    assert.ok(found.length <= 1);
  });

  it('takes the coin back into the invite pool, less the fee, and the short link then finds nothing', async () => {
    const { short, address, writer, coin } = await publishedInvite();
    // The publication's change is counted before the balance the coin comes back to is read.
    const spendable = async (): Promise<bigint> => (await alice.chain.funds()).spendable;
    let before = await spendable();
    await until(
      'the publication settled in the wallet',
      async () => {
        await new Promise((r) => setTimeout(r, 500));
        const now = await spendable();
        const steady = now === before;
        before = now;
        return steady;
      },
      30_000,
    );
    const back = await writer.reclaim(short.locator, await alice.chain.freshPoolAddress(INVITE_POOL));
    assert.ok(back !== undefined, 'a coin was there to take back');
    assert.equal(back.amount, coin.entry.amount - back.fee);
    assert.ok(back.fee > 0n && back.fee < 1_000_000n, `fee ${back.fee} sompi`);
    const after = await until(
      'the coin counted in the wallet again',
      async () => {
        const now = await spendable();
        return now >= before + back.amount && now;
      },
      60_000,
    );
    console.log(
      `# invite coin taken back: coin ${coin.entry.amount} sompi, fee ${back.fee} sompi, wallet got ${after - before}`,
    );
    assert.equal(after - before, coin.entry.amount - back.fee, 'the coin came back less the fee');
    await until(
      'the locator address empty',
      async () => (await bob.client.getUtxosByAddresses([address.toString()])).length === 0,
      60_000,
    );
    assert.deepEqual(await reader().find(short.locator), []);
    assert.equal(
      await writer.reclaim(short.locator, await alice.chain.freshPoolAddress(INVITE_POOL)),
      undefined,
    );
  });
});
