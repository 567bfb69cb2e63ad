/**
 * Two real WebRTC links (werift) on loopback, offer and answer handed over directly: the
 * device-to-device channel the linking tests and the bench run over. In the product the
 * offer and answer travel on chain, sealed with the link secret (docs/devices.md §5).
 */
import type { PeerLink } from '../../../src/transport/index.ts';
import { FAST_HEARTBEAT, loopback } from '../delivery/real-links.ts';

export interface LinkPair {
  /** The new device's end (it answers: the existing device pays for the offer, docs/devices.md §5). */
  readonly fresh: PeerLink;
  /** The existing device's end (it offers). */
  readonly existing: PeerLink;
  close(): void;
}

export async function weriftPair(): Promise<LinkPair> {
  const t = loopback();
  const handle = await t.createOffer(FAST_HEARTBEAT);
  const answered = await t.acceptOffer(handle.offer, FAST_HEARTBEAT);
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
