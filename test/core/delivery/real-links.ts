/**
 * Real parts for engine tests: envelope sessions between test users, and WebRTC links
 * (werift) on loopback with fast heartbeats, so a vanished peer is noticed quickly.
 */
import { EnvelopeSessions } from '../../../src/core/delivery/sessions.ts';
import { TransportLinks } from '../../../src/core/delivery/links.ts';
import { createNodeTransport } from '../../../src/transport/index.ts';
import type { TestUser } from '../helpers.ts';

/** Sessions of `user` with each of `contacts` (made per start of a test client). */
export function sessionsOf(user: TestUser, contacts: readonly TestUser[]): () => EnvelopeSessions {
  return () => {
    const s = new EnvelopeSessions({
      self: user.identity.peerId,
      sessions: user.sessions,
      save: async () => {},
    });
    for (const c of contacts) s.add(c.card);
    return s;
  };
}

/** The node transport on loopback (host candidates on 127.0.0.1 only). */
export const loopback = (): ReturnType<typeof createNodeTransport> =>
  createNodeTransport({ additionalHostAddresses: ['127.0.0.1'] });

/** Heartbeats of a fifth of a second: a peer gone for 1.5 s counts as gone. */
export const FAST_HEARTBEAT = { heartbeatIntervalMs: 200, heartbeatTimeoutMs: 1_500 } as const;

/** Real links (a factory, made per start of a test client). */
export const links = (): TransportLinks => new TransportLinks(loopback(), FAST_HEARTBEAT);
