import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ATTACHMENT_STORES,
  AttachmentService,
  AttachmentStore,
  type AttachmentEvent,
  type AttachmentId,
} from '../../../src/core/attachments/index.ts';
import { contactIdOf } from '../../../src/core/delivery/sessions.ts';
import type { SessionPort } from '../../../src/core/delivery/ports.ts';
import { openSqliteStore } from '../../../src/storage/sqlite.ts';
import type { KeyValueStore } from '../../../src/storage/types.ts';
import { bytesToHex, randomBytes } from '../../../src/util/bytes.ts';
import type { Message } from '../../../src/core/delivery/messages.ts';
import { makeUser } from '../helpers.ts';
import { FakeNet, until, type Client } from '../delivery/harness.ts';
import { links, sessionsOf } from '../delivery/real-links.ts';

const SCHEMA = { version: 1, stores: [...ATTACHMENT_STORES] };
const info = { kind: 'file', name: 'report.pdf', mediaType: 'application/pdf' } as const;

function bytesOf(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65_536) out.set(randomBytes(Math.min(65_536, n - at)), at);
  return out;
}

/** One side's attachments on a SQLite file that outlives its engine (a restart reopens it). */
class Side {
  service!: AttachmentService;
  db: KeyValueStore | undefined;
  readonly events: AttachmentEvent[] = [];
  constructor(readonly path: string) {}
  /** What "send now" calls to ask for a link (the engine's `connect`, once it runs). */
  connect: (contact: string) => Promise<void> = () => Promise.reject(new Error('no engine yet'));
  hook = async (sessions: SessionPort): Promise<AttachmentService> => {
    await this.db?.close();
    this.db = await openSqliteStore(this.path, SCHEMA);
    this.service = new AttachmentService({
      store: new AttachmentStore(this.db),
      sessions,
      connect: (c) => this.connect(c),
      linkWaitMs: 30_000,
      statusEvery: 8,
      listener: (e) => this.events.push(e),
    });
    return this.service;
  };
  async state(id: AttachmentId): Promise<string | undefined> {
    return (await this.service.list(this.peer)).find((r) => bytesToHex(r.manifest.id) === bytesToHex(id))
      ?.state;
  }
  peer = '';
}

describe('attachments through the delivery engine over werift links', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2pcomm-att-engine-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function pair(tag: string): Promise<{
    net: FakeNet;
    ca: Client;
    cb: Client;
    sa: Side;
    sb: Side;
    a: string;
    b: string;
  }> {
    const alice = makeUser('alice', { now: Date.now });
    const bob = makeUser('bob', { now: Date.now });
    alice.sessions.addContact(bob.card);
    bob.sessions.addContact(alice.card);
    const [a, b] = [contactIdOf(alice.identity.peerId), contactIdOf(bob.identity.peerId)];
    const sa = new Side(join(dir, `${tag}-alice.db`));
    const sb = new Side(join(dir, `${tag}-bob.db`));
    sa.peer = b;
    sb.peer = a;
    const net = new FakeNet([a, b]);
    const ca = await net.client(a, {
      sessions: sessionsOf(alice, [bob]),
      peers: links,
      attachments: sa.hook,
    });
    const cb = await net.client(b, {
      sessions: sessionsOf(bob, [alice]),
      peers: links,
      attachments: sb.hook,
    });
    // A first message brings the link up (its offer rides the chain with it).
    await ca.engine.send(b, 'hello');
    await cb.waitInbox(a, 1);
    await until(
      'linked',
      () => ca.engine.connection(b) === 'connected' && cb.engine.connection(a) === 'connected',
      30_000,
    );
    return { net, ca, cb, sa, sb, a, b };
  }

  const sentCount = (s: Side): number => s.events.filter((e) => e.type === 'sent').length;

  it('sends a file over the link: chunks off the chain, progress on both sides, one receipt', async () => {
    const { net, sa, sb, b } = await pair('direct');
    try {
      const chainBefore = net.ledger.txs.length;
      const bytes = bytesOf(200_000);
      const m = await sa.service.send(b, bytes, info);
      await until('alice hears it is complete', async () => (await sa.state(m.id)) === 'complete', 30_000);
      assert.deepEqual(await sb.service.read(m.id), bytes);
      assert.equal(await sb.state(m.id), 'complete');
      // Progress: every chunk handed to the link once, and statuses along the way.
      assert.equal(sentCount(sa), m.chunkCount);
      const statuses = sa.events.flatMap((e) => (e.type === 'status' ? [e.status.state] : []));
      assert.ok(statuses.filter((s) => s === 'receiving').length >= 2, 'progress statuses before the end');
      assert.equal(statuses.filter((s) => s === 'complete').length, 1, 'one receipt per attachment');
      const received = sb.events.flatMap((e) => (e.type === 'progress' ? [e.progress.received] : []));
      assert.equal(received.at(-1), m.chunkCount);
      assert.equal(net.ledger.txs.length, chainBefore, 'nothing of it went on chain');
      assert.ok(!sa.events.some((e) => e.type === 'error') && !sb.events.some((e) => e.type === 'error'));
    } finally {
      await net.stop();
    }
  });

  it('an attachment is a message of the conversation: its id, ticks by the recipient, kept over restarts', async () => {
    const { net, ca, cb, sa, sb, a, b } = await pair('history');
    try {
      const bytes = bytesOf(120_000);
      const m = await sa.service.send(b, bytes, info);
      const id = bytesToHex(m.id);
      const outOf = async (): Promise<Message | undefined> =>
        (await ca.engine.messages(b)).find((x) => x.id === id);
      const inOf = async (): Promise<Message | undefined> =>
        (await cb.engine.messages(a)).find((x) => x.id === id);
      const stored = await outOf();
      assert.ok(stored && stored.direction === 'out', "the attachment is in alice's history");
      assert.equal(stored.attachment, true);
      assert.equal(stored.text, '');
      // Delivered once bob's "complete" (his verified bytes) comes back; not before.
      await until(
        'delivered',
        async () =>
          (await outOf())?.direction === 'out' &&
          ((await outOf()) as { status: string }).status === 'delivered',
        30_000,
      );
      assert.equal(await sb.state(m.id), 'complete');
      const incoming = await inOf();
      assert.ok(incoming && incoming.direction === 'in', "and in bob's");
      assert.equal(incoming.attachment, true);
      assert.equal(incoming.read, false);
      // Bob reads the conversation: his read receipt names the attachment message.
      await cb.engine.markRead(a);
      await until(
        'read',
        async () => ((await outOf()) as { status?: string } | undefined)?.status === 'read',
        30_000,
      );
      // The engine never sends an attachment message as a text, and refuses to retry one.
      await assert.rejects(ca.engine.retry(id), (e: Error & { code?: string }) => e.code === 'NOT_RETRYABLE');
      // Both restart: the message is still there, still an attachment, with its bytes.
      await ca.restart();
      await cb.restart();
      const again = await outOf();
      assert.ok(again?.direction === 'out' && again.attachment === true && again.status === 'read');
      const bobAgain = await inOf();
      assert.ok(bobAgain?.direction === 'in' && bobAgain.attachment === true && bobAgain.read);
      assert.deepEqual(await sb.service.read(m.id), bytes);
      const texts = (await cb.engine.messages(a)).filter(
        (x) => x.direction === 'in' && x.attachment !== true,
      );
      assert.deepEqual(
        texts.map((x) => x.text),
        ['hello'],
        'no empty text message beside the attachment',
      );
    } finally {
      await net.stop();
    }
  });

  it('"send now" asks for a link first: with the contact online it opens and the file goes direct, no chunk on chain', async () => {
    const { net, ca, cb, sa, sb, a, b } = await pair('send-now');
    try {
      await cb.restart();
      await until('the link is gone', () => ca.engine.connection(b) !== 'connected', 30_000);
      sa.connect = (c) => ca.engine.connect(c);
      const bytes = bytesOf(100_000);
      const m = await sa.service.send(b, bytes, info);
      assert.equal(await sa.state(m.id), 'transferring', 'it waits for a link');
      const chunkTxs = (): number => net.ledger.txs.filter((t) => (t.payload?.length ?? 0) > 10_000).length;
      const before = chunkTxs();
      assert.equal(await sa.service.sendNow(m.id), 'direct');
      assert.equal(sa.service.chain.chosen(m.id), false, 'nothing chosen for the chain');
      await until('alice hears it is complete', async () => (await sa.state(m.id)) === 'complete', 60_000);
      assert.deepEqual(await sb.service.read(m.id), bytes);
      assert.equal(chunkTxs(), before, 'no chunk was paid for');
      await ca.engine.send(b, 'got it?');
      await until('bob has the text', async () => (await cb.inbox(a)).some((x) => x.text === 'got it?'));
    } finally {
      await net.stop();
    }
  });

  it('resumes after the recipient restarts mid-transfer, sending only what it lacks', async () => {
    const { net, ca, cb, sa, sb, a, b } = await pair('restart');
    try {
      const bytes = bytesOf(3_000_000);
      const m = await sa.service.send(b, bytes, info);
      await until('bob holds some chunks', () =>
        sb.events.some((e) => e.type === 'progress' && e.progress.received >= 24),
      );
      await cb.stop();
      await until('alice sees bob gone', () => ca.engine.connection(b) !== 'connected', 30_000);
      const held = (await new AttachmentStore(sb.db!).progress(m.id)).received;
      assert.ok(held > 0 && held < m.chunkCount, `bob held ${held} of ${m.chunkCount}`);
      const before = sentCount(sa);
      await cb.start();
      // A message from alice brings the link back; the attachment resumes by itself.
      await ca.engine.send(b, 'are you back?');
      await cb.waitInbox(a, 2);
      await until('alice hears it is complete', async () => (await sa.state(m.id)) === 'complete', 60_000);
      assert.deepEqual(await sb.service.read(m.id), bytes);
      const resent = sentCount(sa) - before;
      assert.ok(resent <= m.chunkCount - held, `resent ${resent}, bob lacked ${m.chunkCount - held}`);
    } finally {
      await net.stop();
    }
  });

  it('a tampered chunk is refused with a status; the conversation goes on', async () => {
    const { net, ca, cb, sa, sb, a, b } = await pair('tamper');
    try {
      const m = await sa.service.send(b, bytesOf(30_000), info);
      await until('complete', async () => (await sa.state(m.id)) === 'complete', 30_000);
      // A second attachment whose chunks the link corrupts on the way.
      const real = sa.service;
      const store = (real as unknown as { opts: { store: AttachmentStore } }).opts.store;
      const original = store.chunk.bind(store);
      store.chunk = async (id, index) => {
        const c = await original(id, index);
        const bad = c.slice();
        bad[0]! ^= 1;
        return bad;
      };
      const m2 = await sa.service.send(b, bytesOf(30_000), info);
      await until('alice hears the refusal', async () => (await sa.state(m2.id)) === 'cancelled', 30_000);
      assert.ok(
        sb.events.some((e) => e.type === 'refused' && e.error.code === 'TAMPERED'),
        'bob refused a tampered chunk',
      );
      await assert.rejects(sb.service.read(m2.id));
      assert.equal(await sb.state(m.id), 'complete', 'the first attachment is untouched');
      await ca.engine.send(b, 'still talking');
      await cb.waitInbox(a, 2);
    } finally {
      await net.stop();
    }
  });
});
