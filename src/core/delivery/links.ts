/**
 * The production `PeerPort`: WebRTC links from `transport/` (werift in Node, the browser's
 * RTCPeerConnection in browsers, one `PeerTransport` interface). Offers and answers leave as
 * SDP text with every candidate gathered (trickle off, NOTES §4), so one offer and one answer,
 * carried by the engine, open a link with no other server.
 */
import { bytesToHex } from '../../util/bytes.ts';
import type { OfferHandle, PeerLink, PeerTransport, TransportOptions } from '../../transport/types.ts';
import { parseAnswer, parseOffer } from '../../transport/signaling.ts';
import type { ContactId, PeerHandler, PeerPort } from './ports.ts';

interface Attempt {
  readonly contact: ContactId;
  readonly linkId: Uint8Array;
  readonly link: PeerLink;
  readonly offer?: OfferHandle;
  readonly unsubscribe: (() => void)[];
}

/** Direct links to contacts over a `PeerTransport`. */
export class TransportLinks implements PeerPort {
  private handler: PeerHandler | undefined;
  private readonly attempts = new Map<string, Attempt>();
  private stopped = false;

  /**
   * `options` go to every link (ICE servers are a setting with an empty default, NOTES §4);
   * trickle is forced off because each signal costs a chain transaction.
   */
  constructor(
    private readonly transport: PeerTransport,
    private readonly options: TransportOptions = {},
  ) {}

  listen(handler: PeerHandler): void {
    this.handler = handler;
  }

  async offer(contact: ContactId, linkId: Uint8Array): Promise<string> {
    const handle = await this.transport.createOffer({ ...this.options, trickle: false });
    this.track({ contact, linkId, link: handle.link, offer: handle, unsubscribe: [] });
    return handle.offer.sdp;
  }

  async answer(contact: ContactId, linkId: Uint8Array, offer: string): Promise<string> {
    const handle = await this.transport.acceptOffer(parseOffer({ type: 'offer', sdp: offer }), {
      ...this.options,
      trickle: false,
    });
    this.track({ contact, linkId, link: handle.link, unsubscribe: [] });
    return handle.answer.sdp;
  }

  async complete(contact: ContactId, linkId: Uint8Array, answer: string): Promise<void> {
    const a = this.attempts.get(key(contact, linkId));
    if (!a?.offer) return;
    await a.offer.accept(parseAnswer({ type: 'answer', sdp: answer }));
  }

  abandon(contact: ContactId, linkId: Uint8Array): void {
    this.attempts.get(key(contact, linkId))?.link.close();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const a of [...this.attempts.values()]) a.link.close();
    this.attempts.clear();
  }

  private track(a: Attempt): void {
    const k = key(a.contact, a.linkId);
    if (this.stopped) {
      a.link.close();
      return;
    }
    this.attempts.get(k)?.link.close();
    this.attempts.set(k, a);
    a.unsubscribe.push(
      a.link.onMessage((bytes) => this.handler?.message(a.contact, a.linkId, bytes)),
      a.link.onStateChange((state) => {
        if (state === 'connected') {
          this.handler?.opened(a.contact, a.linkId, {
            send: (bytes) => a.link.send(bytes),
            close: () => a.link.close(),
          });
        } else if (state !== 'connecting') {
          for (const u of a.unsubscribe) u();
          if (this.attempts.get(k) === a) this.attempts.delete(k);
          this.handler?.closed(a.contact, a.linkId);
        }
      }),
    );
    // A link that connected before the subscription above still has to be reported.
    if (a.link.state === 'connected') {
      this.handler?.opened(a.contact, a.linkId, { send: (b) => a.link.send(b), close: () => a.link.close() });
    }
  }
}

function key(contact: ContactId, linkId: Uint8Array): string {
  return `${contact}/${bytesToHex(linkId)}`;
}
