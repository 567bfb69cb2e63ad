/**
 * Linking a new device over a real WebRTC channel (werift on loopback): the identity, contacts,
 * settings and 1,000 stored messages move sealed under keys from the link secret, with
 * progress; refused codes change nothing on either side; an interrupted transfer resumes, or
 * restarts cleanly when the existing device lost its snapshot.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Identity } from '../../../src/core/identity/identity.ts';
import { contactIdOf } from '../../../src/core/delivery/sessions.ts';
import { decodeMessage, encodeMessage, type IncomingMessage } from '../../../src/core/delivery/messages.ts';
import {
  DeviceError,
  DeviceList,
  HISTORY_30_DAYS_MS,
  Inbox,
  LinkOffers,
  LinkReceiver,
  LinkServer,
  encodeLinkCode,
  linkOfferId,
  type DeviceChannel,
  type LinkCode,
  type LinkProgress,
  type LinkSource,
} from '../../../src/core/devices/index.ts';
import { bytesToHex, randomBytes, utf8ToBytes } from '../../../src/util/bytes.ts';
import { ByteWriter } from '../../../src/util/binary.ts';
import { makeUser } from '../helpers.ts';
import { weriftPair, type LinkPair } from './werift-pair.ts';

const T0 = 1_800_000_000_000;
const DAY = 24 * 3_600_000;

/** Alice's laptop: her identity, three contacts, two settings and 1,000 messages over 60 days. */
function laptop(messages = 1_000) {
  const identity = Identity.generate();
  let list = DeviceList.first(identity, { name: 'Laptop', kind: 'browser' }, T0 - 90 * DAY);
  const contacts = ['Bob', 'Carol', 'Dave'].map((n) => makeUser(n));
  const history: IncomingMessage[] = Array.from({ length: messages }, (_, i) => ({
    direction: 'in',
    id: bytesToHex(randomBytes(16)),
    contact: contactIdOf(contacts[i % 3]!.identity.peerId),
    sentAt: T0 - 60 * DAY + i * Math.floor((60 * DAY) / messages),
    text: `message ${i}: ${'x'.repeat(200)}`,
    receivedAt: T0 - 60 * DAY + i * Math.floor((60 * DAY) / messages) + 1_000,
    route: i % 2 === 0 ? 'chain' : 'direct',
    read: true,
  }));
  const source: LinkSource = {
    identity,
    deviceList: () => list,
    contacts: () => contacts.map((c) => c.card.serialize()),
    settings: () => [utf8ToBytes('theme=dark'), utf8ToBytes('history=30d')],
    history: (since) =>
      history
        .filter((m) => since === undefined || m.sentAt >= since)
        .map((m) => ({ at: m.sentAt, data: encodeMessage(m) })),
  };
  return {
    identity,
    source,
    history,
    contacts,
    offers: new LinkOffers(identity),
    get list() {
      return list;
    },
    set list(l: DeviceList) {
      list = l;
    },
  };
}

let pairs: LinkPair[] = [];
async function channel(): Promise<LinkPair> {
  const p = await weriftPair();
  pairs.push(p);
  return p;
}
afterEach(() => {
  for (const p of pairs) p.close();
  pairs = [];
});

const now = (): number => T0;
const phone = (code: LinkCode, extra: Partial<ConstructorParameters<typeof LinkReceiver>[1]> = {}) =>
  new LinkReceiver(code, {
    device: Identity.generate(),
    name: 'Phone',
    kind: 'phone',
    history: 'all',
    now,
    ...extra,
  });

async function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; code: string }> {
  try {
    return { ok: true, value: await p };
  } catch (e) {
    assert.ok(e instanceof DeviceError, `expected DeviceError, got ${String(e)}`);
    return { ok: false, code: e.code };
  }
}

/**
 * A device that sends its own HELLO frame by hand (docs/protocol.md "Device link handshake")
 * with `ephemeral` as its key, to the existing device's server for `code`: what the server
 * answers, through a bounded inbox, and how the attempt ends.
 */
async function handHello(
  a: ReturnType<typeof laptop>,
  code: ReturnType<LinkOffers['mint']>,
  ephemeral: Uint8Array,
): Promise<{ link: LinkPair; attempt: ReturnType<typeof settle>; inbox: Inbox }> {
  const link = await channel();
  const attempt = settle(new LinkServer(a.offers, a.source, { now, timeoutMs: 3_000 }).serve(link.existing));
  const inbox = new Inbox(link.fresh as DeviceChannel, {
    maxFrameBytes: 1_000,
    maxQueued: 8,
    timeoutMs: 3_000,
  });
  await link.fresh.send(
    new ByteWriter()
      .u8(0x01)
      .u8(1)
      .bytes(a.identity.publicKey)
      .bytes(linkOfferId(code))
      .bytes(ephemeral)
      .finish(),
  );
  return { link, attempt, inbox };
}

describe('device link over WebRTC (werift)', { timeout: 120_000 }, () => {
  it('moves identity, contacts, settings and 1,000 messages, with progress on both sides', async () => {
    const a = laptop();
    const code = a.offers.mint(T0);
    const serverProgress: LinkProgress[] = [];
    const server = new LinkServer(a.offers, a.source, { now, onProgress: (p) => serverProgress.push(p) });
    const progress: LinkProgress[] = [];
    const device = Identity.generate();
    const receiver = new LinkReceiver(code, {
      device,
      name: 'Phone',
      kind: 'phone',
      history: 'all',
      now,
      onProgress: (p) => progress.push(p),
    });
    const link = await channel();
    const [served, got] = await Promise.all([server.serve(link.existing), receiver.run(link.fresh)]);

    assert.deepEqual(got.identity.publicKey, a.identity.publicKey);
    assert.deepEqual(got.identity.exportSeed(), a.identity.exportSeed());
    assert.deepEqual(
      got.contacts,
      a.contacts.map((c) => c.card.serialize()),
    );
    assert.equal(got.settings.length, 2);
    assert.equal(got.history.length, 1_000);
    assert.deepEqual(got.history.map(decodeMessage), a.history, 'every message, once, in order');
    // The new list names both devices, is signed by the identity, and is the same on both sides.
    assert.deepEqual(served.deviceList.serialize(), got.deviceList.serialize());
    assert.ok(got.deviceList.has(device.publicKey) && got.deviceList.has(a.identity.publicKey));
    assert.ok(got.deviceList.counter > a.list.counter);
    assert.deepEqual(served.device, { key: device.publicKey, kind: 'phone', name: 'Phone', addedAt: T0 });
    assert.equal(served.records, 1 + 3 + 2 + 1_000);
    assert.equal(a.offers.state(linkOfferId(code)), 'done');
    // Progress: from 0, never backwards, ending at the total; the server's follows the ACKs.
    const total = 1 + 3 + 2 + 1_000;
    assert.equal(progress[0]!.records, 0);
    assert.ok(progress.length > 2);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i]!.records > progress[i - 1]!.records);
    assert.deepEqual(progress.at(-1), {
      records: total,
      totalRecords: total,
      bytes: progress.at(-1)!.totalBytes,
      totalBytes: progress.at(-1)!.totalBytes,
    });
    assert.equal(serverProgress.at(-1)!.records, total);
  });

  it('moves the last 30 days only, or no history, as the new device asks', async () => {
    for (const [history, expected] of [
      [
        '30d',
        (a: ReturnType<typeof laptop>) => a.history.filter((m) => m.sentAt >= T0 - HISTORY_30_DAYS_MS).length,
      ],
      ['none', () => 0],
    ] as const) {
      const a = laptop();
      const link = await channel();
      const r = phone(a.offers.mint(T0), { history });
      const [, got] = await Promise.all([
        new LinkServer(a.offers, a.source, { now }).serve(link.existing),
        r.run(link.fresh),
      ]);
      assert.equal(got.history.length, expected(a), history);
      assert.ok(history === 'none' || (got.history.length > 400 && got.history.length < 600));
      assert.equal(got.contacts.length, 3);
    }
  });

  /** Runs one refused attempt and checks that neither side changed. */
  async function refused(
    a: ReturnType<typeof laptop>,
    code: LinkCode,
    expected: { fresh: string; existing: string | 'not reached' },
  ): Promise<void> {
    const before = { list: a.list.serialize(), state: a.offers.state(linkOfferId(code)) };
    const link = await channel();
    const r = phone(code);
    const server = new LinkServer(a.offers, a.source, { now, timeoutMs: 3_000 });
    const [s, n] = await Promise.all([
      expected.existing === 'not reached'
        ? Promise.resolve({ ok: false as const, code: 'not reached' })
        : settle(server.serve(link.existing)),
      settle(r.run(link.fresh)),
    ]);
    assert.deepEqual(
      [n, s],
      [
        { ok: false, code: expected.fresh },
        { ok: false, code: expected.existing },
      ],
    );
    assert.equal(r.staged, 0, 'the new device staged nothing');
    assert.deepEqual(a.list.serialize(), before.list, 'the existing device kept its list');
    assert.equal(a.offers.state(linkOfferId(code)), before.state, 'the code is as it was');
  }

  it('refuses an expired code before any network step, and on the existing device', async () => {
    const a = laptop();
    const code = a.offers.mint(T0 - 11 * 60_000);
    await refused(a, code, { fresh: 'LINK_EXPIRED', existing: 'not reached' });
    // A new device with a slow clock reaches the existing device, which refuses it too.
    const link = await channel();
    const r = phone(code, { now: () => T0 - 11 * 60_000 });
    const [s, n] = await Promise.all([
      settle(new LinkServer(a.offers, a.source, { now }).serve(link.existing)),
      settle(r.run(link.fresh)),
    ]);
    assert.deepEqual(
      [n, s],
      [
        { ok: false, code: 'LINK_EXPIRED' },
        { ok: false, code: 'LINK_EXPIRED' },
      ],
    );
    assert.equal(a.offers.state(linkOfferId(code)), 'open');
  });

  it('refuses a replayed code: it linked one device, it links no second', async () => {
    const a = laptop(10);
    const code = a.offers.mint(T0);
    const link = await channel();
    const [served] = await Promise.all([
      new LinkServer(a.offers, a.source, { now }).serve(link.existing),
      phone(code).run(link.fresh),
    ]);
    a.list = served.deviceList;
    await refused(a, code, { fresh: 'LINK_REPLAYED', existing: 'LINK_REPLAYED' });
  });

  it("refuses another identity's code, and a code this device never showed", async () => {
    const a = laptop(10);
    const b = laptop(10);
    await refused(a, b.offers.mint(T0), { fresh: 'WRONG_IDENTITY', existing: 'WRONG_IDENTITY' });
    const stranger = new LinkOffers(a.identity).mint(T0); // Alice's identity, shown by no device here
    await refused(a, stranger, { fresh: 'LINK_UNKNOWN', existing: 'LINK_UNKNOWN' });
  });

  it('refuses a tampered code whose check bytes were recomputed: the handshake fails on both sides', async () => {
    const a = laptop(10);
    const code = a.offers.mint(T0);
    await refused(
      a,
      { ...code, expiresAt: code.expiresAt + 3_600 },
      { fresh: 'LINK_AUTH_FAILED', existing: 'LINK_AUTH_FAILED' },
    );
    assert.equal(encodeLinkCode({ ...code, expiresAt: code.expiresAt + 3_600 }).length, 57);
  });

  it('refuses a device that knows the offer id but not the secret (a man in the middle)', async () => {
    const a = laptop(10);
    const code = a.offers.mint(T0);
    const { link, attempt, inbox } = await handHello(a, code, Identity.generate().dhPublicKey);
    const reply = await inbox.next();
    assert.equal(reply[0], 0x02);
    await link.fresh.send(new ByteWriter().u8(0x03).bytes(randomBytes(32)).finish());
    assert.deepEqual(await attempt, { ok: false, code: 'LINK_AUTH_FAILED' });
    inbox.dispose();
    assert.equal(a.offers.state(linkOfferId(code)), 'open');
    // The real new device still links with the same code afterwards.
    const again = await channel();
    const [served] = await Promise.all([
      new LinkServer(a.offers, a.source, { now }).serve(again.existing),
      phone(code).run(again.fresh),
    ]);
    assert.equal(served.deviceList.devices.length, 2);
  });

  it('refuses a HELLO whose ephemeral key is a low-order point, and tells the new device why', async () => {
    const a = laptop(10);
    const code = a.offers.mint(T0);
    // The all-zero X25519 point gives an all-zero shared secret (RFC 7748 §6.1: check for it).
    const { attempt, inbox } = await handHello(a, code, new Uint8Array(32));
    assert.deepEqual(await attempt, { ok: false, code: 'LINK_AUTH_FAILED' });
    const refusal = await inbox.next();
    assert.equal(refusal[0], 0x0f, 'a clear ERROR frame');
    assert.equal(new TextDecoder().decode(refusal.subarray(2)), 'LINK_AUTH_FAILED');
    inbox.dispose();
    assert.equal(a.offers.state(linkOfferId(code)), 'open');
  });

  it('resumes an interrupted transfer where it stopped: every message once, in order', async () => {
    const a = laptop();
    const code = a.offers.mint(T0);
    const server = new LinkServer(a.offers, a.source, { now });
    const first = await channel();
    const seen: LinkProgress[] = [];
    let cut = false;
    const r = phone(code, {
      onProgress: (p) => {
        seen.push(p);
        if (!cut && p.records > 0) {
          cut = true;
          first.fresh.close();
        }
      },
    });
    const [s1, n1] = await Promise.all([settle(server.serve(first.existing)), settle(r.run(first.fresh))]);
    assert.deepEqual(
      [n1, s1],
      [
        { ok: false, code: 'CHANNEL_CLOSED' },
        { ok: false, code: 'CHANNEL_CLOSED' },
      ],
    );
    const stagedAtCut = r.staged;
    assert.ok(stagedAtCut > 0 && stagedAtCut < 1_006, `staged ${stagedAtCut}`);
    assert.equal(a.offers.state(linkOfferId(code)), 'bound', 'not used up: the same device may come back');
    // Another device cannot take over the half-used code.
    const thief = await channel();
    const [st, nt] = await Promise.all([
      settle(server.serve(thief.existing)),
      settle(phone(code).run(thief.fresh)),
    ]);
    assert.deepEqual(
      [nt, st],
      [
        { ok: false, code: 'LINK_IN_USE' },
        { ok: false, code: 'LINK_IN_USE' },
      ],
    );

    seen.length = 0;
    const second = await channel();
    const [served, got] = await Promise.all([server.serve(second.existing), r.run(second.fresh)]);
    assert.equal(seen[0]!.records, stagedAtCut, 'the second connection starts where the first stopped');
    assert.deepEqual(got.history.map(decodeMessage), a.history);
    assert.equal(served.records, 1_006);
    assert.equal(a.offers.state(linkOfferId(code)), 'done');
  });

  it('restarts cleanly from the first record when the existing device lost its snapshot', async () => {
    const a = laptop();
    const code = a.offers.mint(T0);
    const first = await channel();
    let cut = false;
    const seen: LinkProgress[] = [];
    const r = phone(code, {
      onProgress: (p) => {
        seen.push(p);
        if (!cut && p.records > 0) {
          cut = true;
          first.existing.close();
        }
      },
    });
    const [s1, n1] = await Promise.all([
      settle(new LinkServer(a.offers, a.source, { now }).serve(first.existing)),
      settle(r.run(first.fresh)),
    ]);
    assert.equal(n1.ok || n1.code, 'CHANNEL_CLOSED');
    assert.equal(s1.ok || s1.code, 'CHANNEL_CLOSED');
    assert.ok(r.staged > 0);
    // The app restarted its linking screen: a new server, the same offers, no snapshot.
    seen.length = 0;
    const second = await channel();
    const [, got] = await Promise.all([
      new LinkServer(a.offers, a.source, { now }).serve(second.existing),
      r.run(second.fresh),
    ]);
    assert.equal(seen[0]!.records, 0, 'restarted from the first record');
    assert.deepEqual(got.history.map(decodeMessage), a.history, 'nothing twice, nothing lost');
  });
});
