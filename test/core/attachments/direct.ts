/**
 * Two users with real sessions over a real werift link, each with an attachment store and
 * inbox: the wiring the delivery engine's session adapter does, kept small for these tests
 * and the attachments bench.
 */
import { createNodeTransport } from '../../../src/transport/webrtc-node.ts';
import type { PeerLink, PeerTransport } from '../../../src/transport/types.ts';
import { ReplayGuard } from '../../../src/core/envelope/replay-guard.ts';
import { openEnvelope, sealEnvelope } from '../../../src/core/envelope/sealed.ts';
import { createEnvelope } from '../../../src/core/envelope/envelope.ts';
import {
  ATTACHMENT_STORES,
  AttachmentStore,
  TransferInbox,
  decodeDirectChunk,
  encodeDirectChunk,
  isDirectChunk,
  type AttachmentBody,
  type AttachmentId,
  type InboxEvent,
  type InboxOptions,
  type TransferPort,
} from '../../../src/core/attachments/index.ts';
import { openMemoryStore } from '../../../src/storage/memory.ts';
import type { KeyValueStore } from '../../../src/storage/types.ts';
import { makePair, type TestUser } from '../helpers.ts';

export const ATTACHMENT_SCHEMA = { version: 1, stores: [...ATTACHMENT_STORES] };

/** One side: a user, its store and inbox, the events it saw. */
export interface Side {
  readonly name: string;
  readonly user: TestUser;
  readonly db: KeyValueStore;
  store: AttachmentStore;
  inbox: TransferInbox;
  readonly events: InboxEvent[];
  /** The port towards the other side over the current link. */
  port: TransferPort;
}

export interface Linked {
  readonly a: PeerLink;
  readonly b: PeerLink;
}

/** Connects two links of `transport` with one offer and one answer. */
export async function connect(transport: PeerTransport): Promise<Linked> {
  const offered = await transport.createOffer();
  const answered = await transport.acceptOffer(offered.offer);
  await offered.accept(answered.answer);
  await Promise.all([offered.link.whenConnected(), answered.link.whenConnected()]);
  return { a: offered.link, b: answered.link };
}

export function werift(): PeerTransport {
  return createNodeTransport({ additionalHostAddresses: ['127.0.0.1'] });
}

/** Alice and Bob with fresh stores (Bob's inbox takes `bobOptions`). */
export async function makeSides(bobOptions: InboxOptions = {}): Promise<[Side, Side]> {
  const [ua, ub] = makePair();
  // Sessions confirmed both ways, as between contacts who have talked: frames are plain
  // ratchet frames, not first-contact frames.
  const hello = (from: TestUser, to: TestUser): void => {
    const frame = sealEnvelope(
      from.sessions,
      to.identity.peerId,
      createEnvelope({ type: 'chat', text: 'hi' }, from.clock.now),
    );
    openEnvelope(to.sessions, frame, new ReplayGuard(), to.clock.now);
  };
  hello(ua, ub);
  hello(ub, ua);
  const side = async (name: string, user: TestUser, options: InboxOptions): Promise<Side> => {
    const db = await openMemoryStore(ATTACHMENT_SCHEMA);
    const events: InboxEvent[] = [];
    const store = new AttachmentStore(db, options.limits);
    return {
      name,
      user,
      db,
      store,
      inbox: new TransferInbox(store, { ...options, listener: (e) => events.push(e) }),
      events,
      port: { send: () => Promise.reject(new Error('no link')) },
    };
  };
  return [await side('alice', ua, {}), await side('bob', ub, bobOptions)];
}

/**
 * A port that seals for `to` and writes on `link`; with `directChunks`, chunks go as direct
 * chunk frames (direct-frame.ts) and everything else in ratchet frames.
 */
function portOver(from: Side, to: Side, link: PeerLink, directChunks: boolean): TransferPort {
  return {
    send: (body: AttachmentBody) =>
      directChunks && body.type === 'attachment-chunk'
        ? link.send(encodeDirectChunk({ ...body, attachmentId: body.attachmentId as AttachmentId }))
        : link.send(
            sealEnvelope(
              from.user.sessions,
              to.user.identity.peerId,
              createEnvelope(body, from.user.clock.now),
            ),
          ),
  };
}

/**
 * Wires `a` and `b` over a fresh link pair: each opens what arrives and hands attachment
 * bodies to its inbox, one at a time. Returns the handler errors seen and, per side, a
 * promise that its queue of arrived messages is processed.
 */
export function wire(
  a: Side,
  b: Side,
  links: Linked,
  directChunks = false,
): { failures: unknown[]; idle: (side: Side) => Promise<void> } {
  const failures: unknown[] = [];
  const queues = new Map<Side, () => Promise<void>>();
  const guards = [new ReplayGuard(), new ReplayGuard()];
  const listen = (me: Side, other: Side, link: PeerLink, guard: ReplayGuard): void => {
    me.port = portOver(me, other, link, directChunks);
    // One at a time, in arrival order, as the engine's serial queue does.
    let queue = Promise.resolve();
    queues.set(me, () => queue);
    link.onMessage((bytes) => {
      queue = queue.then(async () => {
        try {
          if (isDirectChunk(bytes)) {
            const c = decodeDirectChunk(bytes);
            await me.inbox.receive(other.name, { type: 'attachment-chunk', ...c }, me.port);
            return;
          }
          const opened = openEnvelope(me.user.sessions, bytes, guard, me.user.clock.now);
          if (opened.kind !== 'envelope') return;
          const body = opened.envelope.body;
          if (
            body.type === 'attachment-chunk' ||
            body.type === 'attachment-manifest' ||
            body.type === 'attachment-status'
          )
            await me.inbox.receive(other.name, body, me.port);
        } catch (e) {
          failures.push(e);
        }
      });
    });
  };
  listen(a, b, links.a, guards[0]!);
  listen(b, a, links.b, guards[1]!);
  return { failures, idle: (side) => queues.get(side)!() };
}

/**
 * Resolves when `pred` holds, checked on every turn of the event loop (no timing assumptions
 * while it is on its way). A wait that never ends rejects after `boundMs` naming what it waited
 * for, so a stuck run fails where it stuck instead of holding the whole suite.
 */
export function until(
  pred: () => boolean | Promise<boolean>,
  what = 'a condition',
  boundMs = 180_000,
): Promise<void> {
  const deadline = Date.now() + boundMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      Promise.resolve(pred()).then((ok) => {
        if (ok) resolve();
        else if (Date.now() > deadline) reject(new Error(`waited ${boundMs} ms for ${what}`));
        else setImmediate(check);
      }, reject);
    };
    check();
  });
}
