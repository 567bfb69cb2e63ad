/**
 * A hostile "existing device" that holds the link secret (it saw the QR code) and then sends a
 * transfer the new device must refuse: every refusal is a typed error after bounded work, and the
 * new device is handed nothing to store.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Identity } from '../../../src/core/identity/identity.ts';
import {
  DeviceError,
  DeviceList,
  Inbox,
  LinkOffers,
  LinkReceiver,
  handshakeAsExisting,
  readHello,
  type DeviceChannel,
  type LinkCode,
  type SealedChannel,
} from '../../../src/core/devices/index.ts';
import { ByteWriter } from '../../../src/util/binary.ts';
import { blake3 } from '@noble/hashes/blake3.js';
import { randomBytes } from '../../../src/util/bytes.ts';
import { weriftPair, type LinkPair } from './werift-pair.ts';

const T0 = 1_800_000_000_000;
let pairs: LinkPair[] = [];
afterEach(() => {
  for (const p of pairs) p.close();
  pairs = [];
});

interface Rec {
  readonly kind: number;
  readonly data: Uint8Array;
}
const recBytes = (r: Rec): Uint8Array => new ByteWriter().u8(r.kind).varBytes(r.data).finish();
const digest = (rs: readonly Rec[]): Uint8Array => {
  const h = blake3.create();
  for (const r of rs) h.update(recBytes(r));
  return h.digest();
};
const start = (total: number, bytes: number, from = 0): Uint8Array =>
  new ByteWriter().u8(0x20).bytes(randomBytes(16)).u32(total).u64(bytes).u32(from).finish();
const records = (first: number, rs: readonly Rec[]): Uint8Array => {
  const w = new ByteWriter().u8(0x21).u32(first).u16(rs.length);
  for (const r of rs) w.bytes(recBytes(r));
  return w.finish();
};
const end = (d: Uint8Array, list: Uint8Array): Uint8Array =>
  new ByteWriter().u8(0x22).bytes(d).varBytes(list).finish();

/** Runs the new device against a scripted existing device; returns the new device's error code. */
async function against(
  code: LinkCode,
  script: (sealed: SealedChannel, device: Uint8Array) => Promise<void>,
): Promise<{ code: string }> {
  const pair = await weriftPair();
  pairs.push(pair);
  const device = Identity.generate();
  const r = new LinkReceiver(code, {
    device,
    name: 'Phone',
    kind: 'phone',
    history: 'all',
    now: () => T0,
    timeoutMs: 5_000,
  });
  const hostile = (async () => {
    const ch = pair.existing as DeviceChannel;
    const inbox = new Inbox(ch, { maxFrameBytes: 1 << 20, maxQueued: 64, timeoutMs: 5_000 });
    const hello = readHello(await inbox.next());
    const sealed = await handshakeAsExisting(ch, inbox, code, hello);
    await sealed.receive(); // JOIN
    await script(sealed, device.publicKey);
    inbox.dispose();
  })();
  let got = 'none';
  try {
    await r.run(pair.fresh);
  } catch (e) {
    assert.ok(e instanceof DeviceError, String(e));
    got = e.code;
  }
  await hostile.catch(() => {});
  return { code: got };
}

describe('the new device refuses a hostile transfer', { timeout: 120_000 }, () => {
  const alice = Identity.generate();
  const mallory = Identity.generate();
  const seed: Rec = { kind: 1, data: alice.exportSeed() };

  it('a transfer announced above its limits', async () => {
    const code = new LinkOffers(alice).mint(T0);
    const r = await against(code, async (s) => s.send(start(2_000_000, 10)));
    assert.equal(r.code, 'PROTOCOL');
  });

  it('more bytes than announced, records out of order, an identity record not first', async () => {
    const code = new LinkOffers(alice).mint(T0);
    assert.equal(
      (
        await against(code, async (s) => {
          await s.send(start(2, 33));
          await s.send(records(0, [seed, { kind: 2, data: randomBytes(100) }]));
        })
      ).code,
      'PROTOCOL',
    );
    assert.equal(
      (
        await against(code, async (s) => {
          await s.send(start(2, 40));
          await s.send(records(1, [seed]));
        })
      ).code,
      'PROTOCOL',
    );
    assert.equal(
      (
        await against(code, async (s) => {
          await s.send(start(2, 64));
          await s.send(records(0, [{ kind: 2, data: new Uint8Array(32) }, seed]));
        })
      ).code,
      'PROTOCOL',
    );
  });

  it('a digest that does not match, and a list that does not name the new device', async () => {
    const code = new LinkOffers(alice).mint(T0);
    const list = DeviceList.first(alice, { name: 'Laptop', kind: 'browser' }, T0);
    const bad = await against(code, async (s, device) => {
      await s.send(start(1, 32));
      await s.send(records(0, [seed]));
      await s.send(
        end(
          randomBytes(32),
          list
            .add(alice, { key: device as never, kind: 'phone', addedAt: T0, name: 'P' }, T0 + 1)
            .serialize(),
        ),
      );
    });
    assert.equal(bad.code, 'PROTOCOL');
    const unnamed = await against(code, async (s) => {
      await s.send(start(1, 32));
      await s.send(records(0, [seed]));
      await s.send(end(digest([seed]), list.serialize()));
    });
    assert.equal(unnamed.code, 'PROTOCOL');
  });

  it("a seed of another identity than the code's, and a list signed by another identity", async () => {
    const code = new LinkOffers(alice).mint(T0);
    const other: Rec = { kind: 1, data: mallory.exportSeed() };
    const r = await against(code, async (s, device) => {
      await s.send(start(1, 32));
      await s.send(records(0, [other]));
      const list = DeviceList.first(mallory, { name: 'M', kind: 'browser' }, T0).add(
        mallory,
        { key: device as never, kind: 'phone', addedAt: T0, name: 'P' },
        T0 + 1,
      );
      await s.send(end(digest([other]), list.serialize()));
    });
    assert.equal(r.code, 'WRONG_IDENTITY');
    const l = await against(code, async (s, device) => {
      await s.send(start(1, 32));
      await s.send(records(0, [seed]));
      const list = DeviceList.first(mallory, { name: 'M', kind: 'browser' }, T0).add(
        mallory,
        { key: device as never, kind: 'phone', addedAt: T0, name: 'P' },
        T0 + 1,
      );
      await s.send(end(digest([seed]), list.serialize()));
    });
    assert.equal(l.code, 'WRONG_IDENTITY');
  });

  it('a malformed frame, and a silent peer (bounded wait)', async () => {
    const code = new LinkOffers(alice).mint(T0);
    assert.equal((await against(code, async (s) => s.send(Uint8Array.of(0x20, 1, 2)))).code, 'PROTOCOL');
    assert.equal((await against(code, async () => {})).code, 'CHANNEL_CLOSED');
  });
});
