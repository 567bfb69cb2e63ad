/**
 * Coin returns across devices on the local Kaspa network (docs/devices.md §8,
 * src/core/devices/returns.ts): two of Bob's devices are online at the same moment and both
 * see Alice's notification coin and open her message. Exactly one return lands (one
 * publication to Alice from Bob's wallet), neither device double-spends, the message shows
 * once on each, and the device that held back records the return as done by its sibling.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { DevnetHandle } from '../../../src/devnet/index.ts';
import { returnRank } from '../../../src/core/devices/index.ts';
import { bytesToHex } from '../../../src/util/bytes.ts';
import { Person, devnetFor, type Device } from './chain-devices.ts';
import { until } from '../delivery/harness.ts';

describe('coin returns from two devices of one person', () => {
  let devnet: DevnetHandle;
  const url = (): string => devnet.url;
  const alice = new Person('Alice');
  const bob = new Person('Bob');
  const a1 = alice.addDevice('Laptop', 'desktop', url);
  const b1 = bob.addDevice('Laptop', 'desktop', url);
  const b2 = bob.addDevice('Phone', 'phone', url);
  const all: Device[] = [a1, b1, b2];

  before(async () => {
    devnet = await devnetFor(alice, bob);
    // Where a finished link and earlier traffic leave them: Bob's devices know Alice and each
    // other; Alice holds Bob's invite card and his list, so her message goes to both devices.
    b1.knows(alice.card);
    b2.knows(alice.card);
    b2.sessions.addContact(b1.card);
    a1.knows(bob.card);
    for (const d of all) await d.start();
    const list = bob.list!.serialize();
    await b1.port.acceptDevices(bob.identity.publicKey, list, [b2.card.serialize()]);
    await b2.port.acceptDevices(bob.identity.publicKey, list);
    await a1.port.acceptDevices(bob.identity.publicKey, list, [b2.card.serialize()]);
  });

  after(async () => {
    for (const d of all) await d.stop().catch(() => undefined);
    await devnet?.stop();
  });

  it('exactly one return lands, nothing is spent twice or shown twice, the other device records it', async () => {
    const [first, second] = returnRank(bob.list, b1.identity.publicKey) === 0 ? [b1, b2] : [b2, b1];
    const heldBefore = (await second.chain!.funds()).spendable;
    // The coins on Bob's card address, which both devices fund from (chain-devices.ts
    // devnetFor): the first device's return may refill its pool from one of them.
    const shared = await second.client.getUtxosByAddresses([bob.address.toString()]);
    const sent = await a1.engine.send(bob.id, 'to both of your devices');
    const [on1] = await b1.waitMessages(alice, 'in', 1);
    const [on2] = await b2.waitMessages(alice, 'in', 1);
    assert.equal(on1?.id, sent.id);
    assert.equal(on2?.id, sent.id);
    // The first-ranked device returns at once; Alice sees her message delivered by it.
    await until('Alice sees her message delivered', async () => {
      const m = await a1.engine.message(sent.id);
      return m?.status === 'delivered' || m?.status === 'read';
    });
    // The other device held its receipt back, found its sibling's return on chain (its change
    // chain), and records it as done.
    await until(
      'the second-ranked device records the return as done by its sibling',
      async () => second.events.some((e) => e.type === 'returned-by-sibling' && e.contact === alice.id),
      60_000,
    );
    assert.equal(first.published.length, 1, 'the first device published one return');
    assert.equal(
      second.published.length,
      0,
      'the other device published nothing: no second return, no double spend',
    );
    // On the node: of Bob's transactions, one paid Alice.
    const returnTx = bytesToHex(first.published[0]!);
    const aliceCoins = await a1.client.getUtxosByAddresses([...a1.chain!.watchedAddresses()]);
    const fromBob = aliceCoins.filter((u) => bytesToHex(u.outpoint.transactionId) === returnTx);
    assert.equal(fromBob.length, 1, "one coin of Bob's return on Alice's addresses");
    // Nothing shown twice on any device, and nothing owed any more on the device that held back.
    for (const d of [b1, b2]) assert.equal((await d.messages(alice)).length, 1, `${d.name} shows it once`);
    assert.equal((await a1.messages(bob)).length, 1);
    // The device that held back handed nothing to the node: no return, no refill.
    assert.deepEqual(second.submitted, [], 'the device that held back submitted no transaction');
    // Its spendable funds fell by at most the shared funding coins its sibling spent: a return
    // paid after a refill spends one of them (the pool holding only Alice's coin cannot pay the
    // full shape), and both devices counted it. Anything else missing would be spent by nobody.
    const inputs = new Set(
      first.submitted.flatMap((tx) =>
        tx.inputs.map((i) => `${bytesToHex(i.previousOutpoint.transactionId)}:${i.previousOutpoint.index}`),
      ),
    );
    const spentBySibling = shared
      .filter((u) => inputs.has(`${bytesToHex(u.outpoint.transactionId)}:${u.outpoint.index}`))
      .reduce((n, u) => n + u.entry.amount, 0n);
    const heldAfter = (await second.chain!.funds()).spendable;
    assert.ok(
      heldAfter + spentBySibling >= heldBefore,
      `the device that held back lost only shared coins its sibling spent (${heldBefore} → ${heldAfter}, ${spentBySibling} spent by ${first.name})`,
    );
  });
});
