import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ATTACHMENT_STORES,
  AttachmentStore,
  ChainPath,
  prepareAttachment,
  type AttachmentId,
} from '../../../src/core/attachments/index.ts';
import type { AttachmentBody } from '../../../src/core/envelope/envelope.ts';
import { ManualClock } from '../../../src/core/delivery/clock.ts';
import { MemoryDatabase, openMemoryStore } from '../../../src/storage/memory.ts';
import { randomBytes } from '../../../src/util/bytes.ts';

const CONTACT = 'bob';
const RESEND_AFTER_MS = 60_000;
const info = { kind: 'file', name: 'notes.txt', mediaType: 'text/plain' } as const;

async function openStore(data: MemoryDatabase): Promise<AttachmentStore> {
  return new AttachmentStore(await openMemoryStore({ version: 1, stores: [...ATTACHMENT_STORES] }, data));
}

/** A started chain path on `data` (a second call on the same data is a restart). */
async function startPath(data: MemoryDatabase, clock: ManualClock): Promise<ChainPath> {
  const path = new ChainPath(await openStore(data), { resendAfterMs: RESEND_AFTER_MS });
  await path.start(() => undefined, clock);
  return path;
}

/** Chunk indexes among what `take` hands the engine. */
function chunksOf(lists: readonly (readonly AttachmentBody[])[]): number[] {
  return lists.flat().flatMap((b) => (b.type === 'attachment-chunk' ? [b.index] : []));
}

/** Alice's chain path with a 3-chunk attachment to bob, all published, bob's status lacking the last chunk. */
async function publishedAndLacking(
  data: MemoryDatabase,
  clock: ManualClock,
): Promise<{ path: ChainPath; id: AttachmentId; chunkCount: number }> {
  const store = await openStore(data);
  const { manifest, chunks } = prepareAttachment(randomBytes(3 * 12_288 - 100), info);
  await store.addOutgoing(CONTACT, manifest, chunks, clock.now());
  const path = await startPath(data, clock);
  await path.choose(manifest.id);
  const lists = await path.take(CONTACT, 1 << 20);
  assert.equal(chunksOf(lists).length, manifest.chunkCount);
  await path.settled(CONTACT, lists.flat(), 'tx-1');
  clock.advance(10_000);
  await path.status(CONTACT, {
    id: manifest.id,
    state: 'receiving',
    have: [{ start: 0, count: manifest.chunkCount - 1 }],
  });
  return { path, id: manifest.id, chunkCount: manifest.chunkCount };
}

describe('chain path resend bookkeeping', () => {
  it('a piece the status lacks goes again resendAfterMs after its publication', async () => {
    const clock = new ManualClock();
    const { path, chunkCount } = await publishedAndLacking(new MemoryDatabase(), clock);
    assert.deepEqual(chunksOf(await path.take(CONTACT, 1 << 20)), [], 'not before resendAfterMs');
    clock.advance(RESEND_AFTER_MS);
    assert.deepEqual(chunksOf(await path.take(CONTACT, 1 << 20)), [chunkCount - 1]);
  });

  it('a restart between the status and the resend still resends what the status lacked', async () => {
    const clock = new ManualClock();
    const data = new MemoryDatabase();
    const { chunkCount } = await publishedAndLacking(data, clock);
    const restarted = await startPath(data, clock);
    assert.deepEqual(chunksOf(await restarted.take(CONTACT, 1 << 20)), [], 'not before resendAfterMs');
    clock.advance(RESEND_AFTER_MS);
    assert.deepEqual(chunksOf(await restarted.take(CONTACT, 1 << 20)), [chunkCount - 1]);
  });
});

describe('chain path chunks read before their manifest', () => {
  const chunk = (
    id: AttachmentId,
    index: number,
    bytes: number,
  ): AttachmentBody & { type: 'attachment-chunk' } => ({
    type: 'attachment-chunk',
    attachmentId: id,
    index,
    sealed: randomBytes(bytes),
  });
  const idOf = (b: number): AttachmentId => new Uint8Array(16).fill(b) as AttachmentId;

  it('wait for their manifest and go only to the contact that sent them', async () => {
    const path = new ChainPath(await openStore(new MemoryDatabase()), { maxEarlyBytes: 4_000 });
    assert.ok(path.keepEarly(CONTACT, chunk(idOf(1), 0, 1_000)));
    assert.ok(path.keepEarly(CONTACT, chunk(idOf(1), 0, 1_000)), 'a duplicate is taken as kept');
    assert.ok(path.keepEarly('mallory', chunk(idOf(1), 1, 1_000)));
    assert.deepEqual(
      path.takeEarly(CONTACT, idOf(1)).map((b) => (b.type === 'attachment-chunk' ? b.index : -1)),
      [0],
    );
    assert.deepEqual(path.takeEarly('mallory', idOf(1)), [], 'taken with the manifest, whoever sent them');
  });

  it('a full buffer of chunks whose manifest never came makes room for a later attachment', async () => {
    const path = new ChainPath(await openStore(new MemoryDatabase()), { maxEarlyBytes: 4_000 });
    for (let i = 0; i < 4; i++) assert.ok(path.keepEarly('mallory', chunk(idOf(2), i, 1_000)));
    assert.ok(path.keepEarly(CONTACT, chunk(idOf(3), 0, 1_000)), 'the later chunk is kept');
    assert.equal(path.takeEarly(CONTACT, idOf(3)).length, 1);
    assert.equal(path.keepEarly(CONTACT, chunk(idOf(4), 0, 4_001)), false, 'one chunk over the bound is not');
    for (let i = 0; i < 4; i++) assert.ok(path.keepEarly(CONTACT, chunk(idOf(5), i, 1_000)));
    assert.equal(
      path.keepEarly(CONTACT, chunk(idOf(5), 4, 1_000)),
      false,
      'one attachment does not evict itself',
    );
    assert.equal(path.takeEarly(CONTACT, idOf(5)).length, 4);
  });
});

describe('chain path statuses owed by the recipient', () => {
  const statusesOf = (lists: readonly (readonly AttachmentBody[])[]): number =>
    lists.flat().filter((b) => b.type === 'attachment-status').length;

  it('a status whose transaction left the chain in a reorganisation is owed again, as a receipt is', async () => {
    const clock = new ManualClock();
    const data = new MemoryDatabase();
    const store = await openStore(data);
    const { manifest } = prepareAttachment(randomBytes(1_000), info);
    await store.addIncoming(CONTACT, manifest, clock.now());
    const path = await startPath(data, clock);
    path.owe(CONTACT, manifest.id, true);
    const lists = await path.take(CONTACT, 1 << 20);
    assert.equal(statusesOf(lists), 1);
    await path.settled(CONTACT, lists.flat(), 'tx-status');
    assert.equal(statusesOf(await path.take(CONTACT, 1 << 20)), 0, 'sent once');
    await path.dropped('tx-status');
    assert.equal(statusesOf(await path.take(CONTACT, 1 << 20)), 1, 'owed again after the drop');
  });
});
