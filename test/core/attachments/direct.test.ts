import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AttachmentStore,
  OutgoingTransfer,
  TransferInbox,
  encodeManifest,
  decodeDirectChunk,
  encodeDirectChunk,
  prepareAttachment,
  type AttachmentStatus,
  type InboxEvent,
} from '../../../src/core/attachments/index.ts';
import { TransportError } from '../../../src/transport/errors.ts';
import { randomBytes } from '../../../src/util/bytes.ts';
import { DecodeError } from '../../../src/util/errors.ts';
import { connect, makeSides, until, werift, wire, type Linked, type Side } from './direct.ts';
import { catching } from '../helpers.ts';

function bytesOf(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65_536) out.set(randomBytes(Math.min(65_536, n - at)), at);
  return out;
}

const info = { kind: 'file', name: 'slides.pdf', mediaType: 'application/pdf' } as const;

async function offer(from: Side, bytes: Uint8Array): Promise<OutgoingTransfer> {
  const { manifest, chunks } = prepareAttachment(bytes, info);
  await from.store.addOutgoing('bob', manifest, chunks, 1);
  // The manifest rides in the message (envelope type 16) before the chunks.
  await from.port.send({ type: 'attachment-manifest', manifest: encodeManifest(manifest) });
  return new OutgoingTransfer(from.store, from.port, manifest.id);
}

const statuses = (s: Side): AttachmentStatus[] =>
  s.events.flatMap((e: InboxEvent) => (e.type === 'status' ? [e.status] : []));

describe('attachments over a werift link', () => {
  // Every link a test opened is closed after it, also when an assertion failed before the
  // test's own close: an open werift peer connection keeps the process from exiting.
  const opened: Linked[] = [];
  const link = async (): Promise<Linked> => {
    const l = await connect(werift());
    opened.push(l);
    return l;
  };
  afterEach(() => {
    for (const l of opened.splice(0)) {
      l.a.close();
      l.b.close();
    }
  });

  it('sends a file with progress on both sides; the sender learns it is complete', async () => {
    const [alice, bob] = await makeSides({ statusEvery: 4 });
    const links = await link();
    const { failures } = wire(alice, bob, links);
    const bytes = bytesOf(120_000);
    const transfer = await offer(alice, bytes);
    const sent: number[] = [];
    await transfer.run([], { onSent: (n) => sent.push(n) });
    await until(() => statuses(alice).some((s) => s.state === 'complete'), 'the complete status');
    assert.deepEqual(await bob.store.read(transfer.id), bytes);
    assert.equal((await alice.store.progress(transfer.id)).state, 'complete');
    assert.equal(sent.at(-1), 10);
    const bobProgress = bob.events.flatMap((e) => (e.type === 'progress' ? [e.progress.received] : []));
    // One progress event for the manifest (0 held), then one per chunk.
    const { chunkCount } = (await alice.store.record(transfer.id))!.manifest;
    assert.equal(chunkCount, 10);
    assert.deepEqual(
      bobProgress,
      Array.from({ length: chunkCount + 1 }, (_, i) => i),
    );
    assert.ok(statuses(alice).length >= 2, 'status along the way, not only at the end');
    assert.deepEqual(failures, []);
    links.a.close();
  });

  it('resumes after the link drops and both sides reload, sending only the missing chunks', async () => {
    const [alice, bob] = await makeSides();
    let links = await link();
    const first = wire(alice, bob, links, true);
    const bytes = bytesOf(1_000_000);
    const transfer = await offer(alice, bytes);
    // Bob's side drops the link once it holds 10 chunks (a real close, told to the peer).
    bob.inbox = new TransferInbox(bob.store, {
      listener: (e) => {
        bob.events.push(e);
        if (e.type === 'progress' && e.progress.received === 10) links.b.close();
      },
    });
    // The sender may have handed every chunk to its channel before the close: either way
    // only the recipient's status says what arrived.
    await new OutgoingTransfer(alice.store, alice.port, transfer.id).run().catch((e: unknown) => {
      assert.ok(e instanceof TransportError && e.code === 'CLOSED');
    });
    // Bob's close reaches Alice as an SCTP ABORT over UDP. With a megabyte in flight on a loaded
    // machine a full socket buffer can drop that datagram, and nothing sends it again; the engine
    // finds such a silent link by its heartbeat (docs/delivery.md), so here Alice's side is
    // closed as that heartbeat would close it, if her link has not gone down by itself.
    await until(() => links.a.state !== 'connected', "Alice's side to see Bob's close", 15_000).catch(() =>
      links.a.close(),
    );
    await first.idle(bob);
    const held = (await bob.store.progress(transfer.id)).received;
    assert.ok(held >= 10 && held < 82, `bob holds ${held} of 82 chunks`);
    // Reload: new stores over the same databases, then a new link.
    alice.store = new AttachmentStore(alice.db);
    bob.store = new AttachmentStore(bob.db);
    alice.inbox = new TransferInbox(alice.store, { listener: (e) => alice.events.push(e) });
    bob.inbox = new TransferInbox(bob.store, { listener: (e) => bob.events.push(e) });
    links = await link();
    const { failures } = wire(alice, bob, links, true);
    const before = statuses(alice).length;
    assert.equal(await bob.inbox.resume('alice', bob.port), 1);
    await until(() => statuses(alice).length > before, "Bob's status after the resume");
    const status = statuses(alice).at(-1)!;
    assert.deepEqual(status.have, [{ start: 0, count: held }]);
    const resent = await new OutgoingTransfer(alice.store, alice.port, transfer.id).run(status.have);
    assert.equal(resent, 82 - held);
    await until(() => statuses(alice).some((s) => s.state === 'complete'), 'the complete status');
    assert.deepEqual(await bob.store.read(transfer.id), bytes);
    assert.deepEqual(failures, []);
    links.a.close();
  });

  it('direct chunk frames (outside the ratchet) carry a file; a forged one is refused', async () => {
    const [alice, bob] = await makeSides();
    const links = await link();
    const { failures } = wire(alice, bob, links, true);
    const bytes = bytesOf(500_000);
    const transfer = await offer(alice, bytes);
    // Someone without the key cannot make a chunk bob takes: a chunk of random bytes.
    await links.a.send(
      encodeDirectChunk({ attachmentId: transfer.id, index: 3, sealed: randomBytes(12_288 + 16) }),
    );
    await transfer.run();
    await until(() => statuses(alice).some((s) => s.state === 'complete'), 'the complete status');
    assert.deepEqual(await bob.store.read(transfer.id), bytes);
    assert.ok(bob.events.some((e) => e.type === 'refused' && e.error.code === 'TAMPERED'));
    assert.deepEqual(failures, []);
    for (const bad of [
      Uint8Array.of(0x70, 0x32, 0x70, 0x61, 2, ...new Uint8Array(40)),
      Uint8Array.of(0x70, 0x32),
    ]) {
      assert.ok(catching(() => decodeDirectChunk(bad)) instanceof DecodeError);
    }
    links.a.close();
  });
});
