/**
 * Several devices per person over the local Kaspa network (docs/devices.md §3, §4, §7): Alice
 * with two devices, Bob with one, real engines, sessions and chain adapters. Bob's message
 * reaches both of Alice's devices; Alice's message from her first device shows on her second
 * as sent by her, with Bob's receipt for it, from the one publication that carried it to Bob,
 * which the second device finds on chain by watching the first one's change chain; after Alice removes her
 * second device, Bob's next message holds nothing that device can open; device lists from a
 * stranger, of another identity, forged or older are refused and change nothing.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { DevnetHandle } from '../../../src/devnet/index.ts';
import { SessionManager } from '../../../src/core/session/session-manager.ts';
import { Identity } from '../../../src/core/identity/identity.ts';
import { sealEnvelope } from '../../../src/core/envelope/sealed.ts';
import { createEnvelope, type EnvelopeBody } from '../../../src/core/envelope/envelope.ts';
import { packBatch } from '../../../src/core/envelope/batch.ts';
import { DeviceList } from '../../../src/core/devices/index.ts';
import { peerIdFromPublicKey } from '../../../src/core/identity/peer-id.ts';
import { Person, devnetFor, type Device } from './chain-devices.ts';
import { until } from '../delivery/harness.ts';

describe('several devices per person on the local network', () => {
  let devnet: DevnetHandle;
  const url = (): string => devnet.url;
  const alice = new Person('Alice');
  const bob = new Person('Bob');
  const a1 = alice.addDevice('Laptop', 'desktop', url);
  const a2 = alice.addDevice('Phone', 'phone', url);
  const b1 = bob.addDevice('Browser', 'browser', url);
  const all: Device[] = [a1, a2, b1];
  const bobPayloads = b1.payloads;

  before(async () => {
    devnet = await devnetFor(alice, bob);
    // Where a finished link leaves Alice's devices: both know Bob, the second knows the first's
    // card; Bob holds Alice's invite card (her first device) and has heard of no other device.
    a1.knows(bob.card);
    a2.knows(bob.card);
    a2.sessions.addContact(a1.card);
    b1.knows(alice.card);
    for (const d of all) await d.start();
    const list = alice.list!.serialize();
    await a1.port.acceptDevices(alice.identity.publicKey, list, [a2.card.serialize()]);
    await a2.port.acceptDevices(alice.identity.publicKey, list);
  });

  after(async () => {
    for (const d of all) await d.stop().catch(() => undefined);
    await devnet?.stop();
  });

  it("Alice's message from her first device reaches Bob and shows on her second device as sent", async () => {
    const sent = await a1.engine.send(bob.id, 'hello from the laptop');
    const [got] = await b1.waitMessages(alice, 'in', 1);
    assert.equal(got?.id, sent.id);
    assert.equal(got?.text, 'hello from the laptop');
    // The publication Bob opened carries the sibling's frame too, and pays change and a decoy
    // on the first device's own change chain, which the second device watches: it finds the
    // publication on chain by itself and shows the message as sent.
    const [copy] = await a2.waitMessages(bob, 'out', 1);
    assert.equal(copy?.id, sent.id, 'the second device shows the same message');
    assert.equal(copy?.text, 'hello from the laptop');
    assert.equal(copy?.direction, 'out', 'shown as sent by Alice, not received');
    // Bob's delivery receipt reaches both of Alice's devices: the copy moves on too.
    await until("the second device shows Bob's receipt for it", async () => {
      const m = await a2.engine.message(sent.id);
      return m?.status === 'delivered' || m?.status === 'read';
    });
    assert.equal((await a2.messages(bob)).filter((m) => m.direction === 'in').length, 0);
    assert.equal((await a2.messages(bob)).length, 1, 'found at its change and its decoy, shown once');
    const published = await until('published once', async () => {
      const m = await a1.engine.message(sent.id);
      return m !== undefined && m.publications >= 1 && m;
    });
    assert.equal(published.publications, 1, 'one chain publication served Bob and the sibling');
    // Bob took Alice's list from that traffic: his next message goes to both of her devices.
    assert.equal(b1.roster.listOf(alice.identity.publicKey)?.devices.length, 2);
    assert.deepEqual(b1.refused, []);
  });

  it("Bob's message reaches both of Alice's devices, once each", async () => {
    const sent = await b1.engine.send(alice.id, 'hi to all your devices');
    const [on1] = await a1.waitMessages(bob, 'in', 1);
    const [on2] = await a2.waitMessages(bob, 'in', 1);
    assert.equal(on1?.id, sent.id);
    assert.equal(on2?.id, sent.id);
    assert.equal(on2?.text, 'hi to all your devices');
    await until('Bob sees it delivered', async () => {
      const m = await b1.engine.message(sent.id);
      return m?.status === 'delivered' || m?.status === 'read';
    });
    assert.equal((await a1.messages(bob)).filter((m) => m.direction === 'in').length, 1);
    assert.equal((await a2.messages(bob)).filter((m) => m.direction === 'in').length, 1);
  });

  it("after Alice removes her second device, Bob's next message holds nothing it can open", async () => {
    const removed = alice.list!.remove(alice.identity, a2.identity.publicKey, Date.now());
    await a1.port.acceptDevices(alice.identity.publicKey, removed.serialize());
    // The new list rides with Alice's next traffic to Bob.
    await a1.engine.send(bob.id, 'I removed my phone');
    await b1.waitMessages(alice, 'in', 2);
    await until('Bob took the new list', async () => {
      return b1.roster.listOf(alice.identity.publicKey)?.counter === removed.counter;
    });
    assert.deepEqual(
      b1.roster.targets(alice.identity.publicKey).map((t) => t.device),
      [alice.identity.publicKey],
    );
    assert.equal(b1.sessions.hasSession(peerIdFromPublicKey(a2.identity.publicKey)), false);
    assert.equal(b1.sessions.contact(peerIdFromPublicKey(a2.identity.publicKey)), undefined);

    const before = bobPayloads.length;
    const sent = await b1.engine.send(alice.id, 'only for the laptop now');
    const [, later] = await a1.waitMessages(bob, 'in', 2);
    assert.equal(later?.id, sent.id);
    const payloads = bobPayloads.slice(before);
    assert.ok(payloads.length >= 1);
    // The removed device, handed every payload Bob published since, opens nothing in them.
    for (const p of payloads) assert.deepEqual(await a2.port.openBatch(p), []);
    assert.equal((await a2.messages(bob)).filter((m) => m.direction === 'in').length, 1);
  });

  describe('device lists that are refused, nothing changed', () => {
    /** Seals `body` from Alice's first device to Bob's and hands him the payload. */
    async function fromAlice(body: EnvelopeBody): Promise<void> {
      const frame = sealEnvelope(a1.sessions, bob.identity.peerId, createEnvelope(body));
      await b1.port.openBatch(packBatch([{ bytes: frame, firstContact: false }]));
    }

    function kept(): Uint8Array | undefined {
      return b1.roster.listOf(alice.identity.publicKey)?.serialize();
    }

    it("a list of another identity in Alice's traffic: WRONG_IDENTITY", async () => {
      const keptBefore = kept();
      const mallory = Identity.generate();
      const list = DeviceList.create(mallory, Date.now() + 60_000, [
        { key: mallory.publicKey, kind: 'phone', addedAt: Date.now(), name: 'x' },
      ]);
      b1.refused.length = 0;
      await fromAlice({ type: 'devices', list: list.serialize(), cards: [] });
      assert.deepEqual(
        b1.refused.map((r) => r.error.code),
        ['WRONG_IDENTITY'],
      );
      assert.deepEqual(kept(), keptBefore);
    });

    it('a forged list (a device added, signature no longer valid): BAD_SIGNATURE', async () => {
      const keptBefore = kept();
      const good = DeviceList.create(alice.identity, Date.now() + 120_000, [
        { key: alice.identity.publicKey, kind: 'desktop', addedAt: 1, name: 'Laptop' },
        { key: a2.identity.publicKey, kind: 'phone', addedAt: 1, name: 'Phone' },
      ]).serialize();
      const forged = good.slice();
      forged[forged.length - 1]! ^= 1;
      b1.refused.length = 0;
      await fromAlice({ type: 'devices', list: forged, cards: [a2.card.serialize()] });
      assert.deepEqual(
        b1.refused.map((r) => r.error.code),
        ['BAD_SIGNATURE'],
      );
      assert.deepEqual(kept(), keptBefore);
      assert.equal(b1.sessions.contact(peerIdFromPublicKey(a2.identity.publicKey)), undefined);
    });

    it('the older list that still named the removed device (a replay): STALE_COUNTER', async () => {
      const keptBefore = kept();
      b1.refused.length = 0;
      await fromAlice({ type: 'devices', list: alice.list!.serialize(), cards: [a2.card.serialize()] });
      assert.deepEqual(
        b1.refused.map((r) => r.error.code),
        ['STALE_COUNTER'],
      );
      assert.deepEqual(kept(), keptBefore);
      assert.equal(b1.sessions.contact(peerIdFromPublicKey(a2.identity.publicKey)), undefined);
    });

    it("a stranger's device list is not taken at all", async () => {
      const mallory = Identity.generate();
      const ms = SessionManager.create(mallory);
      ms.issueOwnCard({ displayName: 'Mallory', addresses: [bob.address] });
      ms.addContact(b1.card);
      const list = DeviceList.create(mallory, Date.now(), [
        { key: mallory.publicKey, kind: 'phone', addedAt: Date.now(), name: 'x' },
      ]);
      const frame = sealEnvelope(
        ms,
        bob.identity.peerId,
        createEnvelope({
          type: 'bundle',
          envelopes: [
            createEnvelope({ type: 'chat', text: 'hello' }),
            createEnvelope({ type: 'devices', list: list.serialize(), cards: [] }),
          ],
        }),
      );
      const keptBefore = kept();
      const entries = await b1.port.openBatch(packBatch([{ bytes: frame, firstContact: true }]));
      assert.equal(entries.length, 1);
      assert.ok(entries[0]?.stranger, 'a message request, with the card it came with');
      assert.equal(b1.roster.listOf(mallory.publicKey), undefined);
      assert.deepEqual(kept(), keptBefore);
    });
  });
});
