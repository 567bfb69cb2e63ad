import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  AttachmentError,
  AttachmentStore,
  ATTACHMENT_STORES,
  DEFAULT_ATTACHMENT_LIMITS,
  LONG_TEXT_MEDIA_TYPE,
  chunkEnvelopeBytes,
  decodeManifest,
  describePlan,
  frameBytes,
  planChain,
  decodeStatus,
  encodeManifest,
  encodeStatus,
  missingFrom,
  openChunk,
  prepareAttachment,
  prepareLongText,
  readLongText,
  resolveLimits,
  runsOf,
  type AttachmentId,
  type Manifest,
} from '../../../src/core/attachments/index.ts';
import { decodeEnvelope, encodeEnvelope, createEnvelope } from '../../../src/core/envelope/envelope.ts';
import { ReplayGuard } from '../../../src/core/envelope/replay-guard.ts';
import { openEnvelope, sealEnvelope } from '../../../src/core/envelope/sealed.ts';
import { catching, makePair } from '../helpers.ts';
import { openMemoryStore } from '../../../src/storage/memory.ts';
import { openStorage } from '../../../src/storage/open.ts';
import { openSqliteStore } from '../../../src/storage/sqlite.ts';
import type { KeyValueStore, StorageSchema } from '../../../src/storage/types.ts';
import { randomBytes, utf8ToBytes } from '../../../src/util/bytes.ts';
import { DecodeError, P2pCommError } from '../../../src/util/errors.ts';

const SCHEMA: StorageSchema = { version: 1, stores: [...ATTACHMENT_STORES, 'delivery.messages'] };
const LIMITS = resolveLimits();
/** `n` random bytes (random data does not compress, like a real photo). */
const png = (n: number): Uint8Array => {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65_536) out.set(randomBytes(Math.min(65_536, n - at)), at);
  return out;
};
const fileInfo = { kind: 'file', name: 'report.pdf', mediaType: 'application/pdf' } as const;

function code(e: unknown): string {
  if (e === undefined) return 'none';
  if (e instanceof P2pCommError) return e.code;
  throw e;
}

async function rejectsWith(p: Promise<unknown>, c: string): Promise<AttachmentError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AttachmentError, `expected AttachmentError ${c}, got ${String(e)}`);
    assert.equal(e.code, c);
    return e;
  }
  assert.fail(`expected AttachmentError ${c}`);
}

function shuffled<T>(list: readonly T[]): T[] {
  const a = [...list];
  for (let i = a.length - 1; i > 0; i--) {
    const j = randomBytes(1)[0]! % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** The manifest as the recipient decodes it from the wire. */
const received = (m: Manifest, limits = LIMITS): Manifest => decodeManifest(encodeManifest(m), limits);

async function memoryStore(): Promise<AttachmentStore> {
  return new AttachmentStore(await openMemoryStore(SCHEMA));
}

describe('attachments: encryption and manifest', () => {
  it('seals each chunk under its own key; the manifest round-trips and is checked on decode', () => {
    const bytes = png(30_000);
    const a = prepareAttachment(bytes, fileInfo);
    const b = prepareAttachment(bytes, fileInfo);
    assert.notDeepEqual(a.manifest.key, b.manifest.key, 'a fresh key per attachment');
    assert.notDeepEqual(a.chunks[0], b.chunks[0]);
    assert.equal(a.manifest.chunkCount, 3);
    assert.equal(a.manifest.chunkSize, DEFAULT_ATTACHMENT_LIMITS.chunkBytes);
    assert.deepEqual(received(a.manifest), a.manifest);
    const plain = a.chunks.map((c, i) => openChunk(a.manifest, i, c));
    assert.deepEqual(Buffer.concat(plain), Buffer.from(bytes));
  });

  it('refuses an empty file and one over the limit before any work', () => {
    assert.equal(code(catching(() => prepareAttachment(new Uint8Array(0), fileInfo))), 'EMPTY');
    assert.equal(
      code(catching(() => prepareAttachment(png(5000), fileInfo, { maxBytes: 4096, maxChainBytes: 4096 }))),
      'TOO_LARGE',
    );
  });

  it('a receiver applies its own limits to a manifest', () => {
    const { manifest } = prepareAttachment(png(50_000), fileInfo);
    const small = resolveLimits({ maxBytes: 40_000, maxChainBytes: 40_000 });
    assert.equal(code(catching(() => received(manifest, small))), 'TOO_LARGE');
    assert.equal(code(catching(() => decodeManifest(encodeManifest(manifest), LIMITS, true))), 'none');
    const chainSmall = resolveLimits({ maxChainBytes: 40_000 });
    assert.equal(
      code(catching(() => decodeManifest(encodeManifest(manifest), chainSmall, true))),
      'TOO_LARGE',
    );
  });

  it('refuses manifests that lie about size, kind or name', () => {
    const { manifest } = prepareAttachment(png(30_000), fileInfo);
    const lies: Manifest[] = [
      { ...manifest, size: 100_000 },
      { ...manifest, chunkCount: 2 },
      { ...manifest, name: '../../etc/passwd' },
      { ...manifest, name: 'invoice\u202Efdp.exe' },
      { ...manifest, mediaType: 'not a type' },
      { ...manifest, thumbnail: Uint8Array.of(1, 2, 3) },
      { ...manifest, durationMs: 1000 },
      { ...manifest, kind: 'text' },
      { ...manifest, kind: 'image' },
      { ...manifest, kind: 'voice', name: '', mediaType: 'audio/ogg' },
    ];
    for (const m of lies)
      assert.equal(code(catching(() => received(m))), 'BAD_MANIFEST', JSON.stringify(m.name));
    assert.equal(code(catching(() => received({ ...manifest, size: 0, chunkCount: 0 }))), 'EMPTY');
  });

  it('decodes hostile bytes to typed errors only: truncations, another version, random input', () => {
    const bytes = encodeManifest(prepareAttachment(png(2000), fileInfo).manifest);
    for (let n = 0; n < bytes.length; n++) {
      const e = catching(() => decodeManifest(bytes.subarray(0, n), LIMITS));
      assert.ok(e instanceof DecodeError || e instanceof AttachmentError, `truncated at ${n}`);
    }
    const other = bytes.slice();
    other[0] = 2;
    assert.equal(code(catching(() => decodeManifest(other, LIMITS))), 'UNKNOWN_VERSION');
    assert.equal(code(catching(() => decodeManifest(Uint8Array.of(...bytes, 0), LIMITS))), 'TRAILING_BYTES');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (junk) => {
        const e = catching(() => decodeManifest(Uint8Array.of(1, ...junk), LIMITS));
        return e === undefined || e instanceof DecodeError || e instanceof AttachmentError;
      }),
      { numRuns: 2000 },
    );
  });

  it('a chunk moved to another place or attachment, or altered, fails authentication', () => {
    const a = prepareAttachment(png(30_000), fileInfo);
    const b = prepareAttachment(png(30_000), fileInfo);
    assert.equal(code(catching(() => openChunk(a.manifest, 1, a.chunks[0]!))), 'TAMPERED');
    assert.equal(code(catching(() => openChunk(a.manifest, 0, b.chunks[0]!))), 'TAMPERED');
    const flipped = a.chunks[2]!.slice();
    flipped[3]! ^= 1;
    assert.equal(code(catching(() => openChunk(a.manifest, 2, flipped))), 'TAMPERED');
    assert.equal(code(catching(() => openChunk(a.manifest, 3, a.chunks[2]!))), 'BAD_CHUNK');
    assert.equal(code(catching(() => openChunk(a.manifest, 2, a.chunks[2]!.subarray(1)))), 'BAD_CHUNK');
  });
});

describe('attachments: envelope types 16-18', () => {
  it('round-trips manifest, chunk and status envelopes and bounds their fields', () => {
    const a = prepareAttachment(png(13_000), fileInfo);
    const bodies = [
      { type: 'attachment-manifest', manifest: encodeManifest(a.manifest) },
      { type: 'attachment-chunk', attachmentId: a.manifest.id, index: 1, sealed: a.chunks[1]! },
      {
        type: 'attachment-status',
        status: encodeStatus({ id: a.manifest.id, state: 'receiving', have: [{ start: 0, count: 1 }] }),
      },
    ] as const;
    for (const body of bodies) {
      const e = createEnvelope(body, 1_700_000_000_000);
      assert.deepEqual(decodeEnvelope(encodeEnvelope(e)), e);
    }
    const big = createEnvelope({
      type: 'attachment-chunk',
      attachmentId: a.manifest.id,
      index: 0,
      sealed: new Uint8Array(49_169),
    });
    assert.throws(() => encodeEnvelope(big), RangeError);
    const ok = encodeEnvelope(createEnvelope(bodies[1]));
    for (let n = 0; n < ok.length; n += 97) {
      assert.ok(catching(() => decodeEnvelope(ok.subarray(0, n))) instanceof DecodeError);
    }
    assert.equal(
      code(catching(() => decodeEnvelope(Uint8Array.of(1, 19, ...ok.subarray(2))))),
      'UNKNOWN_TYPE',
    );
  });

  it('status: runs of held chunks, what is missing, malformed lists refused', () => {
    const bitmap = Uint8Array.of(0b1011_0111, 0b0000_0001);
    const runs = runsOf(bitmap, 10);
    assert.deepEqual(runs, [
      { start: 0, count: 3 },
      { start: 4, count: 2 },
      { start: 7, count: 2 },
    ]);
    assert.deepEqual(missingFrom(runs, 10), [3, 6, 9]);
    const id = randomBytes(16) as AttachmentId;
    assert.deepEqual(decodeStatus(encodeStatus({ id, state: 'complete', have: runs })), {
      id,
      state: 'complete',
      have: runs,
    });
    const overlap = encodeStatus({
      id,
      state: 'receiving',
      have: [
        { start: 4, count: 2 },
        { start: 5, count: 1 },
      ],
    });
    assert.equal(code(catching(() => decodeStatus(overlap))), 'MALFORMED');
    const bad = encodeStatus({ id, state: 'receiving', have: [] });
    bad[17] = 9;
    assert.equal(code(catching(() => decodeStatus(bad))), 'MALFORMED');
    bad[0] = 2;
    assert.equal(code(catching(() => decodeStatus(bad))), 'UNKNOWN_VERSION');
  });
});

describe('attachments: reassembly in the store', () => {
  it('reassembles chunks in any order, ignores duplicates, reports progress and what is missing', async () => {
    const bytes = png(100_000);
    const { manifest, chunks } = prepareAttachment(bytes, fileInfo);
    const store = await memoryStore();
    await store.addIncoming('bob', received(manifest), 1);
    const order = shuffled(chunks.map((c, i) => [i, c] as const));
    const [first, ...rest] = order;
    const p1 = await store.receiveChunk('bob', manifest.id, first![0], first![1]);
    assert.equal(p1.received, 1);
    assert.equal((await store.receiveChunk('bob', manifest.id, first![0], first![1])).duplicate, true);
    const missing = await store.missing(manifest.id);
    assert.equal(missing.length, manifest.chunkCount - 1);
    assert.ok(!missing.includes(first![0]));
    const early = await rejectsWith(store.read(manifest.id), 'INCOMPLETE');
    assert.match(early.message, /chunks missing/);
    for (const [i, c] of rest) await store.receiveChunk('bob', manifest.id, i, c);
    const done = await store.progress(manifest.id);
    assert.equal(done.state, 'complete');
    assert.equal(done.bytes, bytes.length);
    assert.deepEqual(await store.read(manifest.id), bytes);
    assert.equal((await store.receiveChunk('bob', manifest.id, 0, chunks[0]!)).duplicate, true);
    assert.deepEqual((await store.status(manifest.id)).have, [{ start: 0, count: manifest.chunkCount }]);
  });

  it('hashes as chunks arrive: in order no chunk is read back; out of order, past the buffer and after a reload it still verifies', async () => {
    // Counts the stored chunks read back (each would be opened a second time).
    const counted = async (): Promise<{ db: KeyValueStore; reads: () => number }> => {
      const db = await openMemoryStore(SCHEMA);
      let reads = 0;
      const get = db.get.bind(db);
      db.get = (store, key) => {
        if (store === 'attachments.chunks') reads += 1;
        return get(store, key);
      };
      return { db, reads: () => reads };
    };
    const bytes = png(200_000);
    const { manifest, chunks } = prepareAttachment(bytes, fileInfo);
    const inOrder = await counted();
    let store = new AttachmentStore(inOrder.db);
    await store.addIncoming('bob', received(manifest), 1);
    for (const [i, c] of chunks.entries()) await store.receiveChunk('bob', manifest.id, i, c);
    assert.equal((await store.progress(manifest.id)).state, 'complete');
    assert.equal(inOrder.reads(), 0, 'no chunk read back in order');

    // Reversed, 1.25 MiB: everything waits for chunk 0; what the 1 MiB buffer holds is not
    // read back, the rest is, once.
    const big = png(1_280_000);
    const b = prepareAttachment(big, fileInfo);
    const reversed = await counted();
    store = new AttachmentStore(reversed.db);
    await store.addIncoming('bob', received(b.manifest), 1);
    for (const [i, c] of [...b.chunks.entries()].reverse())
      await store.receiveChunk('bob', b.manifest.id, i, c);
    assert.equal((await store.progress(b.manifest.id)).state, 'complete');
    const readBack = reversed.reads();
    // The short last chunk arrives first, then full ones until the buffer is full.
    const last = big.length - b.manifest.chunkSize * (b.manifest.chunkCount - 1);
    const buffered = 1 + Math.floor(((1 << 20) - last) / b.manifest.chunkSize);
    assert.equal(readBack, b.manifest.chunkCount - 1 - buffered, 'the chunks past the buffer, once each');
    assert.deepEqual(await store.read(b.manifest.id), big);

    // A reload halfway: a new store over the same data reads the verified prefix once.
    const reloaded = await counted();
    store = new AttachmentStore(reloaded.db);
    await store.addIncoming('bob', received(manifest), 1);
    const half = Math.floor(manifest.chunkCount / 2);
    for (let i = 0; i < half; i++) await store.receiveChunk('bob', manifest.id, i, chunks[i]!);
    store = new AttachmentStore(reloaded.db);
    for (let i = half; i < manifest.chunkCount; i++)
      await store.receiveChunk('bob', manifest.id, i, chunks[i]!);
    assert.equal((await store.progress(manifest.id)).state, 'complete');
    assert.equal(reloaded.reads(), half, 'the prefix read back once');

    // A liar's hash is still caught when the bytes come in any order.
    const liar = prepareAttachment(bytes, fileInfo);
    const lying = { ...liar.manifest, hash: randomBytes(32) } as Manifest;
    await store.addIncoming('bob', received(lying), 1);
    const order = shuffled([...liar.chunks.entries()]);
    for (const [i, c] of order.slice(0, -1)) await store.receiveChunk('bob', lying.id, i, c);
    const [li, lc] = order.at(-1)!;
    await rejectsWith(store.receiveChunk('bob', lying.id, li, lc), 'HASH_MISMATCH');
  });

  it('a tampered chunk is refused and not stored; the genuine one is still taken', async () => {
    const { manifest, chunks } = prepareAttachment(png(30_000), fileInfo);
    const store = await memoryStore();
    await store.addIncoming('bob', received(manifest), 1);
    const bad = chunks[1]!.slice();
    bad[bad.length - 1]! ^= 0x80;
    await rejectsWith(store.receiveChunk('bob', manifest.id, 1, bad), 'TAMPERED');
    assert.equal((await store.progress(manifest.id)).received, 0);
    for (const [i, c] of chunks.entries()) await store.receiveChunk('bob', manifest.id, i, c);
    assert.equal((await store.progress(manifest.id)).state, 'complete');
  });

  it('a manifest that lies about the hash fails when the bytes are in: nothing shown, others unaffected', async () => {
    const liar = prepareAttachment(png(30_000), fileInfo);
    const honest = prepareAttachment(png(20_000), { kind: 'image', name: 'cat.png', mediaType: 'image/png' });
    const store = await memoryStore();
    const lie = { ...liar.manifest, hash: randomBytes(32) } as Manifest;
    await store.addIncoming('bob', received(lie), 1);
    await store.addIncoming('bob', received(honest.manifest), 1);
    await store.receiveChunk('bob', honest.manifest.id, 0, honest.chunks[0]!);
    await store.receiveChunk('bob', lie.id, 0, liar.chunks[0]!);
    await store.receiveChunk('bob', lie.id, 1, liar.chunks[1]!);
    await rejectsWith(store.receiveChunk('bob', lie.id, 2, liar.chunks[2]!), 'HASH_MISMATCH');
    await rejectsWith(store.read(lie.id), 'HASH_MISMATCH');
    assert.equal((await store.progress(lie.id)).state, 'failed');
    assert.equal((await store.status(lie.id)).state, 'refused');
    await store.receiveChunk('bob', honest.manifest.id, 1, honest.chunks[1]!);
    assert.equal((await store.progress(honest.manifest.id)).state, 'complete');
  });

  it('chunks only for a known manifest from the same contact; a second manifest under a known id is refused', async () => {
    const { manifest, chunks } = prepareAttachment(png(20_000), fileInfo);
    const store = await memoryStore();
    await rejectsWith(store.receiveChunk('bob', manifest.id, 0, chunks[0]!), 'UNKNOWN_ATTACHMENT');
    await store.addIncoming('bob', received(manifest), 1);
    await rejectsWith(store.receiveChunk('mallory', manifest.id, 0, chunks[0]!), 'UNKNOWN_ATTACHMENT');
    await store.addIncoming('bob', received(manifest), 2); // the same manifest again: ignored
    await rejectsWith(
      store.addIncoming('bob', { ...received(manifest), name: 'other.pdf' }, 3),
      'BAD_MANIFEST',
    );
    await rejectsWith(store.addIncoming('mallory', received(manifest), 3), 'BAD_MANIFEST');
  });

  it('bounds unfinished incoming attachments per contact', async () => {
    const store = new AttachmentStore(await openMemoryStore(SCHEMA), { maxIncomingPerContact: 2 });
    for (let i = 0; i < 2; i++)
      await store.addIncoming('bob', prepareAttachment(png(2000), fileInfo).manifest, 1);
    await rejectsWith(
      store.addIncoming('bob', prepareAttachment(png(2000), fileInfo).manifest, 1),
      'TOO_MANY',
    );
    await store.addIncoming('carol', prepareAttachment(png(2000), fileInfo).manifest, 1);
  });

  it('cancel drops the chunks and refuses later ones', async () => {
    const { manifest, chunks } = prepareAttachment(png(30_000), fileInfo);
    const store = await memoryStore();
    await store.addIncoming('bob', received(manifest), 1);
    await store.receiveChunk('bob', manifest.id, 0, chunks[0]!);
    await store.cancel(manifest.id);
    await rejectsWith(store.receiveChunk('bob', manifest.id, 1, chunks[1]!), 'CANCELLED');
    await rejectsWith(store.read(manifest.id), 'CANCELLED');
    assert.equal((await store.status(manifest.id)).state, 'cancelled');
  });

  it('outgoing attachments keep their sealed chunks for resending', async () => {
    const { manifest, chunks } = prepareAttachment(png(40_000), fileInfo);
    const store = await memoryStore();
    await store.addOutgoing('bob', manifest, chunks, 1);
    for (const [i, c] of chunks.entries()) assert.deepEqual(await store.chunk(manifest.id, i), c);
    await store.delivered(manifest.id);
    assert.equal((await store.progress(manifest.id)).state, 'complete');
  });
});

describe('attachments: long text', () => {
  it('delivers 100,000 characters whole, refuses text over the limit in words', async () => {
    const text = 'ش'.repeat(20_000) + 'x'.repeat(80_000);
    const { manifest, chunks } = prepareLongText(text);
    assert.equal(manifest.kind, 'text');
    assert.equal(manifest.mediaType, LONG_TEXT_MEDIA_TYPE);
    const store = await memoryStore();
    await store.addIncoming('bob', received(manifest), 1);
    for (const [i, c] of shuffled([...chunks.entries()])) await store.receiveChunk('bob', manifest.id, i, c);
    assert.equal(readLongText(await store.read(manifest.id)), text);
    const e = catching(() => prepareLongText('y'.repeat(300_000)));
    assert.ok(e instanceof AttachmentError && e.code === 'TOO_LARGE');
    assert.match(e.message, /up to 262144 bytes/);
    assert.equal(code(catching(() => readLongText(Uint8Array.of(0xff, 0xfe)))), 'BAD_MANIFEST');
  });
});

describe('attachments: chain cost before sending', () => {
  it('prices a 1 MiB file in secure messages; a real sealed chunk fits the estimate and the payload', () => {
    const { manifest, chunks } = prepareAttachment(png(1 << 20), fileInfo);
    const costPerMessage = 30_000_000n;
    const plan = planChain(manifest, encodeManifest(manifest).length, {
      costPerMessage,
      spendable: 50n * costPerMessage,
    });
    assert.equal(plan.transactions, manifest.chunkCount + 1);
    assert.equal(manifest.chunkCount, 86);
    assert.ok(plan.secureMessages >= plan.transactions, `${plan.secureMessages} secure messages`);
    assert.ok(plan.payloadBytes <= plan.transactions * 16_384);
    assert.equal(plan.insufficient, true);
    assert.match(describePlan(plan), /uses about \d+ of your secure messages; you have 50 left/);
    const [alice, bob] = makePair();
    const envelope = createEnvelope(
      { type: 'attachment-chunk', attachmentId: manifest.id, index: 7, sealed: chunks[7]! },
      alice.clock.now,
    );
    const first = sealEnvelope(alice.sessions, bob.identity.peerId, envelope);
    assert.ok(
      first.length <= 16_384 - 5,
      `first-contact chunk frame of ${first.length} bytes fits a payload`,
    );
    openEnvelope(bob.sessions, first, new ReplayGuard(), bob.clock.now);
    const reply = sealEnvelope(
      bob.sessions,
      alice.identity.peerId,
      createEnvelope({ type: 'chat', text: 'ok' }, bob.clock.now),
    );
    openEnvelope(alice.sessions, reply, new ReplayGuard(), alice.clock.now);
    const later = sealEnvelope(alice.sessions, bob.identity.peerId, envelope);
    assert.ok(later.length <= frameBytes(chunkEnvelopeBytes(manifest, 7)), `${later.length} bytes`);
  });
});

describe('attachments: at rest on SQLite', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'p2pc-attach-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function open(name: string, key: Uint8Array, maxBytes?: number): Promise<KeyValueStore> {
    const raw = await openSqliteStore(join(dir, name), SCHEMA, maxBytes === undefined ? {} : { maxBytes });
    return openStorage(raw, SCHEMA, { storageKey: key });
  }

  it('seals attachments at rest and resumes from the verified chunks after a restart', async () => {
    const key = randomBytes(32);
    const marker = utf8ToBytes('THE-PLAINTEXT-MARKER-'.repeat(2000));
    const { manifest, chunks } = prepareAttachment(marker, {
      kind: 'file',
      name: 'secret-name.txt',
      mediaType: 'text/plain',
    });
    let db = await open('rest.db', key);
    let store = new AttachmentStore(db);
    await store.addIncoming('bob', received(manifest), 1);
    await store.receiveChunk('bob', manifest.id, 2, chunks[2]!);
    await store.receiveChunk('bob', manifest.id, 0, chunks[0]!);
    await db.close();
    for (const f of readdirSync(dir).filter((n) => n.startsWith('rest.db'))) {
      const file = readFileSync(join(dir, f));
      assert.equal(file.indexOf('THE-PLAINTEXT-MARKER'), -1, `plaintext in ${f}`);
      assert.equal(file.indexOf('secret-name'), -1, `file name in ${f}`);
      assert.equal(file.indexOf(Buffer.from(manifest.key)), -1, `key in ${f}`);
    }
    db = await open('rest.db', key);
    store = new AttachmentStore(db);
    assert.deepEqual(await store.missing(manifest.id), [
      1,
      ...Array.from({ length: manifest.chunkCount - 3 }, (_, i) => i + 3),
    ]);
    for (const i of await store.missing(manifest.id))
      await store.receiveChunk('bob', manifest.id, i, chunks[i]!);
    assert.deepEqual(await store.read(manifest.id), marker);
    await db.close();
  });

  it('reports a full device in words and keeps what was stored before', async () => {
    const db = await open('full.db', randomBytes(32), 256 * 1024);
    await db.put('delivery.messages', utf8ToBytes('m1'), utf8ToBytes('hello'));
    const store = new AttachmentStore(db);
    const { manifest, chunks } = prepareAttachment(png(600_000), {
      kind: 'image',
      name: 'holiday.jpg',
      mediaType: 'image/jpeg',
    });
    const e = await rejectsWith(store.addOutgoing('bob', manifest, chunks, 1), 'STORAGE_FULL');
    assert.match(e.message, /no room left for holiday\.jpg \(600 KB\).*conversation is kept/);
    assert.equal(await store.record(manifest.id), undefined);
    assert.deepEqual(await db.get('delivery.messages', utf8ToBytes('m1')), utf8ToBytes('hello'));
    await db.close();
  });
});
