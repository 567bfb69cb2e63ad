import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDevnet, type DevnetHandle } from '../../../src/devnet/index.ts';
import {
  ATTACHMENT_STORES,
  AttachmentService,
  AttachmentStore,
  decodeChainRecord,
  encodeChainRecord,
  type AttachmentEvent,
  type AttachmentId,
  type Manifest,
} from '../../../src/core/attachments/index.ts';
import type { AttachmentBody } from '../../../src/core/envelope/envelope.ts';
import type { AttachmentHook, SessionPort } from '../../../src/core/delivery/ports.ts';
import { MemoryDatabase, openMemoryStore } from '../../../src/storage/memory.ts';
import { DecodeError } from '../../../src/util/errors.ts';
import { bytesToHex, randomBytes } from '../../../src/util/bytes.ts';
import { ChainUser, prefund } from '../delivery/kaspa.ts';
import { until } from '../delivery/harness.ts';

const info = { kind: 'file', name: 'photo-album.zip', mediaType: 'application/zip' } as const;
/** Short, so a status that lacks a piece brings it again within the test. */
const RESEND_AFTER_MS = 3_000;

function bytesOf(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65_536) out.set(randomBytes(Math.min(65_536, n - at)), at);
  return out;
}

/** How the test bends what a side's chain path hands the engine or what arrives (none by default). */
interface Bends {
  take?: ((lists: (readonly AttachmentBody[])[]) => (readonly AttachmentBody[])[]) | undefined;
  arrive?: ((bodies: readonly AttachmentBody[]) => readonly AttachmentBody[]) | undefined;
}

/** One user's attachments on a database that outlives its engine (a restart reopens it). */
class Side {
  service!: AttachmentService;
  readonly data = new MemoryDatabase();
  readonly events: AttachmentEvent[] = [];
  /** Every publication the engine reported to the chain path, over every run. */
  readonly published: { txId: string; bodies: readonly AttachmentBody[] }[] = [];
  bends: Bends = {};
  readonly user: ChainUser;

  constructor(name: string, url: () => string) {
    this.user = new ChainUser(name, url, { attachments: (s) => this.hook(s) });
  }

  private async hook(sessions: SessionPort): Promise<AttachmentHook> {
    const db = await openMemoryStore({ version: 1, stores: [...ATTACHMENT_STORES] }, this.data);
    const service = new AttachmentService({
      store: new AttachmentStore(db),
      sessions,
      listener: (e) => this.events.push(e),
      chainPath: { resendAfterMs: RESEND_AFTER_MS, statusDelayMs: 1_500 },
    });
    this.service = service;
    const chain = service.chain;
    return {
      claim: (c, b) => service.claim(c, b),
      frames: (c, bodies, route) => service.frames(c, this.bends.arrive?.(bodies) ?? bodies, route),
      linked: (c, l) => service.linked(c, l),
      bind: (history) => service.bind(history),
      chain: {
        start: (wake, clock) => chain.start(wake, clock),
        take: async (c, budget) => {
          const lists = [...(await chain.take(c, budget))];
          return this.bends.take?.(lists) ?? lists;
        },
        settled: async (c, bodies, txId) => {
          if (txId !== undefined) this.published.push({ txId, bodies });
          await chain.settled(c, bodies, txId);
        },
        dropped: (txId) => chain.dropped(txId),
      },
    };
  }

  async state(id: AttachmentId): Promise<string | undefined> {
    const r = (await this.service.list(this.peer)).find((x) => bytesToHex(x.manifest.id) === bytesToHex(id));
    return r?.state;
  }

  /** Chunk publications of `m` reported so far (a duplicate counts twice). */
  chunkPublications(m: Manifest): number {
    const id = bytesToHex(m.id);
    return this.published
      .flatMap((p) => p.bodies)
      .filter((b) => b.type === 'attachment-chunk' && bytesToHex(b.attachmentId) === id).length;
  }

  peer = '';
}

function isChunk(b: AttachmentBody): b is AttachmentBody & { type: 'attachment-chunk' } {
  return b.type === 'attachment-chunk';
}

describe('attachments on the chain path, on the local Kaspa network', () => {
  let devnet: DevnetHandle;
  const url = (): string => devnet.url;
  const alice = new Side('alice', url);
  const bob = new Side('bob', url);
  alice.user.knows(bob.user);
  bob.user.knows(alice.user);
  alice.peer = bob.user.id;
  bob.peer = alice.user.id;

  before(async () => {
    devnet = await startDevnet({
      port: 0,
      controlPort: false,
      blocksPerSecond: 10,
      prefund: prefund(alice.user, bob.user),
    });
    await alice.user.start();
    await bob.user.start();
  });
  after(async () => {
    for (const s of [alice, bob]) await s.user.stop().catch(() => undefined);
    await devnet.stop();
  });

  it('the chain record round-trips; another version or a wrong length is refused by code', () => {
    const r = { publishedAt: [0, 1_700_000_000_000], publications: [0, 2], held: [false, true] };
    assert.deepEqual(decodeChainRecord(encodeChainRecord(r), 1), r);
    const bytes = encodeChainRecord(r);
    const other = bytes.slice();
    other[0] = 2;
    assert.throws(
      () => decodeChainRecord(other, 1),
      (e: unknown) => e instanceof DecodeError && e.code === 'UNKNOWN_VERSION',
    );
    assert.throws(
      () => decodeChainRecord(bytes, 2),
      (e: unknown) => e instanceof DecodeError && e.code === 'MALFORMED',
    );
    assert.throws(
      () => decodeChainRecord(bytes.subarray(0, bytes.length - 1), 1),
      (e: unknown) => e instanceof DecodeError,
    );
  });

  it('a 200 KB file to an offline recipient waits by default, goes on chain when sent now, and arrives verified when they come back', async () => {
    await bob.user.stop();
    const bytes = bytesOf(200_000);
    const m = await alice.service.send(bob.user.id, bytes, info);
    const funds = await alice.user.engine.funds();
    const plan = await alice.service.chainPlan(m.id, {
      costPerMessage: funds.costPerMessage,
      spendable: funds.spendable,
    });
    assert.equal(plan.transactions, m.chunkCount + 1);
    assert.ok(plan.secureMessages >= plan.transactions && !plan.insufficient);
    // "Wait until online" is the default: nothing is paid for while the contact is away.
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(alice.published.length, 0, 'a waiting attachment costs nothing');
    await alice.service.sendNow(m.id);
    await until(
      'every piece published',
      () => alice.service.chain.published(m.id)?.published === m.chunkCount + 1,
      60_000,
    );
    assert.equal(alice.chunkPublications(m), m.chunkCount, 'each chunk paid for once');
    // The attachment is a message of the conversation, published with its proof.
    const id = bytesToHex(m.id);
    const published = await until('the message is published', async () => {
      const x = await alice.user.engine.message(id);
      return x?.status === 'published' && x;
    });
    assert.equal(published.attachment, true);
    assert.equal(published.route, 'chain');
    assert.match(published.proof?.txId ?? '', /^[0-9a-f]{64}$/);
    await bob.user.start();
    await until('bob holds it verified', async () => (await bob.state(m.id)) === 'complete', 60_000);
    assert.deepEqual(await bob.service.read(m.id), bytes);
    const shown = (await bob.user.engine.messages(alice.user.id)).find((x) => x.id === id);
    assert.ok(shown?.direction === 'in' && shown.attachment === true && shown.route === 'chain');
    await until('alice hears it is complete', async () => (await alice.state(m.id)) === 'complete', 60_000);
    await until(
      'its message is delivered',
      async () => (await alice.user.engine.message(id))?.status === 'delivered',
    );
    assert.equal(alice.service.chain.chosen(m.id), false, 'nothing more is owed on chain');
    assert.equal(alice.chunkPublications(m), m.chunkCount, 'and nothing was paid twice');
    // The conversation is untouched.
    await alice.user.engine.send(bob.user.id, 'did the album arrive?');
    await bob.user.waitInbox(alice.user, 1);
  });

  it('chunks reordered, duplicated, tampered and missing: the manifest comes last, a duplicate is ignored, the bad and the lost come again after the status', async () => {
    const bytes = bytesOf(100_000);
    let tamperedIndex = -1;
    let lostIndex = -1;
    alice.bends.take = (lists) => {
      if (lists.length < 4) return lists;
      // Reversed: every chunk before its manifest. One transaction twice. One chunk corrupted
      // (its AEAD fails at bob's), the first time only.
      const out = lists.reverse().map((l) =>
        l.map((b) => {
          if (!isChunk(b) || tamperedIndex >= 0) return b;
          tamperedIndex = b.index;
          const sealed = b.sealed.slice();
          sealed[0]! ^= 1;
          return { ...b, sealed };
        }),
      );
      out.splice(2, 0, out[1]!);
      // One chunk lost on the way, the first time it comes (a payload that was never read).
      const lost = out[4]!.find(isChunk);
      if (lost) lostIndex = lost.index;
      alice.bends.take = undefined;
      return out;
    };
    bob.bends.arrive = (bodies) => {
      const lost = bodies.find((b) => isChunk(b) && b.index === lostIndex);
      if (!lost) return bodies;
      bob.bends.arrive = undefined;
      return bodies.filter((b) => b !== lost);
    };
    const m = await alice.service.send(bob.user.id, bytes, info, { now: true });
    await until('bob holds it verified', async () => (await bob.state(m.id)) === 'complete', 90_000);
    assert.deepEqual(await bob.service.read(m.id), bytes);
    assert.ok(tamperedIndex >= 0 && lostIndex >= 0 && lostIndex !== tamperedIndex);
    assert.ok(
      bob.events.some((e) => e.type === 'refused' && e.error.code === 'TAMPERED'),
      'the tampered chunk was refused',
    );
    await until('alice hears it is complete', async () => (await alice.state(m.id)) === 'complete', 60_000);
    // Each chunk once, one of them twice (the duplicate), and the tampered and lost ones again.
    const extra = alice.chunkPublications(m) - m.chunkCount;
    assert.ok(extra >= 3 && extra <= 4, `${extra} chunk publications beyond one each`);
    assert.ok(!bob.events.some((e) => e.type === 'error'));
  });

  it('the sender restarts mid-publication: it resumes with what was not published, paying once for the rest', async () => {
    await bob.user.stop();
    const bytes = bytesOf(200_000);
    const m = await alice.service.send(bob.user.id, bytes, info, { now: true });
    await until(
      'a few pieces published',
      () => (alice.service.chain.published(m.id)?.published ?? 0) >= 5,
      60_000,
    );
    await alice.user.stop();
    const before = alice.chunkPublications(m);
    assert.ok(before < m.chunkCount, `stopped after ${before} of ${m.chunkCount} chunks`);
    await alice.user.start();
    await until(
      'every piece published',
      () => alice.service.chain.published(m.id)?.published === m.chunkCount + 1,
      60_000,
    );
    // The one on its way at the stop may go twice; nothing accepted before it does.
    assert.ok(alice.chunkPublications(m) <= m.chunkCount + 1, `${alice.chunkPublications(m)} publications`);
    await bob.user.start();
    await until('bob holds it verified', async () => (await bob.state(m.id)) === 'complete', 60_000);
    assert.deepEqual(await bob.service.read(m.id), bytes);
    await until('alice hears it is complete', async () => (await alice.state(m.id)) === 'complete', 60_000);
  });

  it('over the chain limit: refused before anything is paid, with the limit in words', async () => {
    const big = bytesOf(alice.service.settings.maxChainBytes + 1);
    const before = alice.published.length;
    await assert.rejects(
      alice.service.send(bob.user.id, big, info, { now: true }),
      (e: unknown) =>
        e instanceof Error && (e as { code?: string }).code === 'TOO_LARGE' && /offline/.test(e.message),
    );
    assert.equal(alice.published.length, before);
  });
});
