/**
 * Two real WebRTC links (werift) on loopback, offer and answer handed over directly: the
 * device-to-device channel the linking tests and the bench run over. In the product the
 * offer and answer travel on chain, sealed with the link secret (docs/devices.md §5).
 */
import type { PeerLink } from '../../../src/transport/index.ts';
import { loopback } from '../delivery/real-links.ts';

export interface LinkPair {
  /** The new device's end (it answers: the existing device pays for the offer, docs/devices.md §5). */
  readonly fresh: PeerLink;
  /** The existing device's end (it offers). */
  readonly existing: PeerLink;
  close(): void;
}

/**
 * The transport's own heartbeats (a peer silent for 10 s is gone), not the delivery tests' fast
 * ones: these tests close links explicitly, and a 1,000-message transfer on a loaded machine can
 * keep a peer's event loop busier than 1.5 s, which a fast heartbeat takes for a vanished peer.
 */
export async function weriftPair(): Promise<LinkPair> {
  const t = loopback();
  const handle = await t.createOffer();
  const answered = await t.acceptOffer(handle.offer);
  await handle.accept(answered.answer);
  await Promise.all([handle.link.whenConnected(), answered.link.whenConnected()]);
  return {
    fresh: answered.link,
    existing: handle.link,
    close: () => {
      handle.link.close();
      answered.link.close();
    },
  };
}
