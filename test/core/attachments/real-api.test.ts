/**
 * The attachment calls of the web app's engine (RealApi) over the Node platform: two profiles
 * on SQLite directories, the local network for the first message and the link's signaling,
 * werift for the link. A file goes over the link with progress on both sides and arrives
 * verified; bad files are refused by type with nothing else touched.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDevnet, type DevnetHandle } from '../../../src/devnet/index.ts';
import { RealApi } from '../../../src/web/engine/real-api.ts';
import { nodePlatform } from '../../../src/api/node-platform.ts';
import { AttachmentError } from '../../../src/core/attachments/index.ts';
import type { AttachmentView, ContactId } from '../../../src/web/app-api.ts';
import { randomBytes } from '../../../src/util/bytes.ts';

function bytesOf(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65_536) out.set(randomBytes(Math.min(65_536, n - at)), at);
  return out;
}

const FAST_SCRYPT = { logN: 10, r: 8, p: 1 };

async function until<T>(what: string, check: () => Promise<T | undefined | false>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('RealApi attachments', { timeout: 600_000 }, () => {
  let devnet: DevnetHandle;
  let root: string;
  const apis: RealApi[] = [];

  before(async () => {
    devnet = await startDevnet({ port: 0, blocksPerSecond: 10 });
    root = await mkdtemp(join(tmpdir(), 'p2pcomm-att-api-'));
  });
  after(async () => {
    for (const a of apis) await a.close();
    await devnet?.stop();
    await rm(root, { recursive: true, force: true });
  });

  async function user(name: string): Promise<RealApi> {
    const api = await RealApi.open({
      database: join(root, name),
      platform: nodePlatform({ transport: { additionalHostAddresses: ['127.0.0.1'] } }),
      localNodeUrl: devnet.url,
      localFaucetUrl: `${devnet.controlUrl ?? ''}/fund`,
      scrypt: FAST_SCRYPT,
      onError: () => undefined,
    });
    apis.push(api);
    await api.createIdentity(name, `${name}-password`);
    await until(`${name} funded`, async () => (await api.balance()).spendable > 0n);
    return api;
  }

  it('sends a file over the link, with progress on both sides, verified on arrival', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const bobId = (await alice.addContact(await bob.myInviteCode())).id;
    const aliceId = (await bob.addContact(await alice.myInviteCode())).id;
    await alice.send(bobId, 'hello');
    await until('bob has the message', async () => (await bob.messages(aliceId)).length > 0);
    await until('linked', async () => {
      const [a, b] = [await alice.conversation(bobId), await bob.conversation(aliceId)];
      return a.contact.connection === 'connected' && b.contact.connection === 'connected';
    });

    const seenA: AttachmentView[] = [];
    const seenB: AttachmentView[] = [];
    alice.onAttachment((a) => seenA.push(a));
    bob.onAttachment((a) => seenB.push(a));
    const bytes = bytesOf(150_000);
    const sent = await alice.sendFile(bobId, { name: 'photo.png', type: 'image/png', bytes });
    assert.equal(sent.kind, 'image');
    assert.equal(sent.state, 'transferring');
    const got = await until('bob holds it', async () =>
      (await bob.attachments(aliceId)).find((x) => x.id === sent.id && x.state === 'complete'),
    );
    assert.equal(got.name, 'photo.png');
    assert.equal(got.size, bytes.length);
    assert.deepEqual(await bob.attachmentBytes(sent.id), bytes);
    await until('alice hears it is complete', async () =>
      (await alice.attachments(bobId)).find((x) => x.id === sent.id && x.state === 'complete'),
    );
    assert.ok(
      seenB.some((v) => v.done > 0 && v.done < v.parts),
      'the recipient saw progress before the end',
    );
    assert.ok(
      seenA.some((v) => v.state === 'transferring' && v.done > 0),
      'the sender saw progress before the end',
    );

    // Refusals are typed and leave the conversation as it was.
    const before = (await alice.messages(bobId)).length;
    await assert.rejects(
      alice.sendFile(bobId, { name: 'empty.txt', type: 'text/plain', bytes: new Uint8Array(0) }),
      (e: unknown) => e instanceof AttachmentError && e.code === 'EMPTY',
    );
    await assert.rejects(
      alice.sendFile(bobId, { name: 'a/b', type: '', bytes: randomBytes(10) }),
      (e: unknown) => e instanceof AttachmentError && e.code === 'BAD_MANIFEST',
    );
    await assert.rejects(
      alice.attachmentBytes('00'.repeat(16)),
      (e: unknown) => e instanceof AttachmentError && e.code === 'UNKNOWN_ATTACHMENT',
    );
    await assert.rejects(alice.attachments('nobody' as ContactId), { code: 'UNKNOWN_CONTACT' });
    assert.equal((await alice.messages(bobId)).length, before);
    assert.equal((await alice.attachments(bobId)).length, 1);
    assert.equal(alice.attachmentLimits().maxBytes, 100 * 1024 * 1024);
  });
});
