/**
 * The Chromium half of the attachments bench (bundled by bench/attachments.bench.ts): in one
 * page, a bare RTCDataChannel pair moving `total` bytes in 16 KiB sends, and the same bytes as
 * one attachment over two links of the app's own browser transport, Alice to Bob, chunks as
 * direct chunk frames and statuses in ratchet frames, as the engine sends them (the wiring of
 * test/core/attachments/direct.ts, without its Node-only parts). Link set-up is retried; the
 * measurement is not.
 */
import { Address, AddressVersion } from '../src/kaspa/address.ts';
import { Identity } from '../src/core/identity/identity.ts';
import type { ContactCard } from '../src/core/contact/card.ts';
import { SessionManager } from '../src/core/session/session-manager.ts';
import { ReplayGuard } from '../src/core/envelope/replay-guard.ts';
import { openEnvelope, sealEnvelope } from '../src/core/envelope/sealed.ts';
import { createEnvelope } from '../src/core/envelope/envelope.ts';
import {
  ATTACHMENT_STORES,
  AttachmentStore,
  OutgoingTransfer,
  TransferInbox,
  decodeDirectChunk,
  encodeDirectChunk,
  encodeManifest,
  isDirectChunk,
  prepareAttachment,
  type AttachmentBody,
  type AttachmentId,
  type InboxEvent,
  type TransferPort,
} from '../src/core/attachments/index.ts';
import { openMemoryStore } from '../src/storage/memory.ts';
import { createBrowserTransport } from '../src/transport/webrtc-browser.ts';
import type { PeerLink } from '../src/transport/types.ts';

const RAW_CHUNK = 16_384;
const RAW_HIGH = 1 << 20;
const SETUP_ATTEMPTS = 3;

/** `setUp` retried up to SETUP_ATTEMPTS times; its last error when every attempt fails. */
async function retried<T>(setUp: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i < SETUP_ATTEMPTS; i++) {
    try {
      return await setUp();
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e: unknown) => (clearTimeout(t), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}

/** MB/s of a bare channel pair moving `total` bytes in 16 KiB sends under a 1 MiB high-water mark. */
export async function bareMbps(total: number): Promise<number> {
  const open = async (): Promise<[RTCPeerConnection, RTCPeerConnection, RTCDataChannel, RTCDataChannel]> => {
    const a = new RTCPeerConnection();
    const b = new RTCPeerConnection();
    try {
      a.onicecandidate = (e) => void (e.candidate && b.addIceCandidate(e.candidate));
      b.onicecandidate = (e) => void (e.candidate && a.addIceCandidate(e.candidate));
      const dc = a.createDataChannel('raw');
      const remote = new Promise<RTCDataChannel>((resolve) => (b.ondatachannel = (e) => resolve(e.channel)));
      await a.setLocalDescription();
      await b.setRemoteDescription(a.localDescription!);
      await b.setLocalDescription();
      await a.setRemoteDescription(b.localDescription!);
      await withTimeout(new Promise((r) => (dc.onopen = r)), 15_000, 'the bare channel opening');
      return [a, b, dc, await remote];
    } catch (e) {
      a.close();
      b.close();
      throw e;
    }
  };
  const [a, b, dc, rc] = await retried(open);
  rc.binaryType = 'arraybuffer';
  let got = 0;
  const done = new Promise<void>((resolve) => {
    rc.onmessage = (m: MessageEvent<ArrayBuffer>) => {
      got += m.data.byteLength;
      if (got >= total) resolve();
    };
  });
  dc.bufferedAmountLowThreshold = RAW_HIGH / 4;
  const chunk = new Uint8Array(RAW_CHUNK);
  const start = performance.now();
  for (let sent = 0; sent < total; sent += RAW_CHUNK) {
    if (dc.bufferedAmount > RAW_HIGH) await new Promise((r) => (dc.onbufferedamountlow = r));
    dc.send(chunk);
  }
  await done;
  const mbps = total / 1e6 / ((performance.now() - start) / 1000);
  a.close();
  b.close();
  return mbps;
}

interface User {
  readonly identity: Identity;
  readonly sessions: SessionManager;
  readonly card: ContactCard;
}

function user(name: string): User {
  const identity = Identity.generate();
  const sessions = SessionManager.create(identity, { now: () => 1_760_000_000_000 });
  const card = sessions.issueOwnCard({
    displayName: name,
    addresses: [new Address('kaspatest', AddressVersion.PubKey, identity.publicKey)],
    issuedAt: 1_760_000_000,
  });
  return { identity, sessions, card };
}

async function links(): Promise<[PeerLink, PeerLink]> {
  const transport = createBrowserTransport();
  return retried(async () => {
    const offered = await transport.createOffer();
    const answered = await transport.acceptOffer(offered.offer);
    await offered.accept(answered.answer);
    try {
      await withTimeout(
        Promise.all([offered.link.whenConnected(), answered.link.whenConnected()]),
        20_000,
        'the link set-up',
      );
    } catch (e) {
      offered.link.close();
      answered.link.close();
      throw e;
    }
    return [offered.link, answered.link];
  });
}

/** MB/s of one `total`-byte attachment from Alice to Bob, first chunk to Bob's "complete". */
export async function attachmentMbps(total: number): Promise<number> {
  const alice = user('alice');
  const bob = user('bob');
  alice.sessions.addContact(bob.card);
  bob.sessions.addContact(alice.card);
  // Sessions confirmed both ways, as between contacts who have talked.
  for (const [from, to] of [
    [alice, bob],
    [bob, alice],
  ] as const) {
    const frame = sealEnvelope(
      from.sessions,
      to.identity.peerId,
      createEnvelope({ type: 'chat', text: 'hi' }, 1_760_000_000_000),
    );
    openEnvelope(to.sessions, frame, new ReplayGuard(), 1_760_000_000_000);
  }
  const [la, lb] = await links();
  const side = async (me: User, other: User, link: PeerLink, name: string, otherName: string) => {
    const store = new AttachmentStore(await openMemoryStore({ version: 1, stores: [...ATTACHMENT_STORES] }));
    const events: InboxEvent[] = [];
    const inbox = new TransferInbox(store, { listener: (e) => events.push(e) });
    const port: TransferPort = {
      send: (body: AttachmentBody) =>
        body.type === 'attachment-chunk'
          ? link.send(encodeDirectChunk({ ...body, attachmentId: body.attachmentId as AttachmentId }))
          : link.send(
              sealEnvelope(me.sessions, other.identity.peerId, createEnvelope(body, 1_760_000_000_000)),
            ),
    };
    const guard = new ReplayGuard();
    let queue = Promise.resolve();
    link.onMessage((bytes) => {
      queue = queue.then(async () => {
        if (isDirectChunk(bytes)) {
          await inbox.receive(otherName, { type: 'attachment-chunk', ...decodeDirectChunk(bytes) }, port);
          return;
        }
        const opened = openEnvelope(me.sessions, bytes, guard, 1_760_000_000_000);
        if (opened.kind !== 'envelope') return;
        const b = opened.envelope.body;
        if (
          b.type === 'attachment-chunk' ||
          b.type === 'attachment-manifest' ||
          b.type === 'attachment-status'
        )
          await inbox.receive(otherName, b, port);
      });
    });
    return { store, events, port, name };
  };
  const a = await side(alice, bob, la, 'alice', 'bob');
  const b = await side(bob, alice, lb, 'bob', 'alice');
  const bytes = new Uint8Array(total);
  for (let at = 0; at < total; at += 65_536) crypto.getRandomValues(bytes.subarray(at, at + 65_536));
  const { manifest, chunks } = prepareAttachment(bytes, {
    kind: 'file',
    name: 'bench.bin',
    mediaType: 'application/octet-stream',
  });
  await a.store.addOutgoing('bob', manifest, chunks, 1);
  await a.port.send({ type: 'attachment-manifest', manifest: encodeManifest(manifest) });
  const until = async (pred: () => boolean | Promise<boolean>): Promise<void> => {
    while (!(await pred())) await new Promise((r) => setTimeout(r, 0));
  };
  await until(async () => (await b.store.record(manifest.id)) !== undefined);
  const complete = (e: InboxEvent): boolean => e.type === 'status' && e.status.state === 'complete';
  const start = performance.now();
  await new OutgoingTransfer(a.store, a.port, manifest.id).run();
  await until(() => a.events.some(complete));
  const mbps = total / 1e6 / ((performance.now() - start) / 1000);
  la.close();
  lb.close();
  return mbps;
}
