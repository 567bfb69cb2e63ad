/**
 * Envelopes through sessions: the one path by which the delivery engine turns an envelope
 * into frame bytes for a peer and back. The envelope is padded (padding.ts) before the
 * session encrypts it, and checked by the replay guard after it decrypts.
 */
import type { PeerId } from '../identity/peer-id.ts';
import type { ContactCard } from '../contact/card.ts';
import type { Received, SessionManager } from '../session/session-manager.ts';
import { decodeEnvelope, encodeEnvelope, type Envelope } from './envelope.ts';
import { pad, unpad } from './padding.ts';
import type { ReplayGuard } from './replay-guard.ts';

/** What `openEnvelope` gives back. */
export type OpenedEnvelope =
  | {
      readonly kind: 'envelope';
      readonly sender: PeerId;
      readonly card: ContactCard;
      readonly envelope: Envelope;
      readonly newSession: boolean;
    }
  /** The same frame again (P2P and chain copies): never returned twice. */
  | { readonly kind: 'duplicate'; readonly sender: PeerId };

/** Encrypts `envelope` for `peer`: frame bytes for WebRTC or for a chain batch. */
export function sealEnvelope(sessions: SessionManager, peer: PeerId, envelope: Envelope): Uint8Array {
  return sessions.encrypt(peer, pad(encodeEnvelope(envelope)));
}

/**
 * Decrypts and checks a frame. Throws SessionError (not ours, altered), DecodeError
 * (malformed plaintext) or EnvelopeError (replay, outside the clock window).
 * A second copy of a frame is `duplicate`; a re-encrypted copy of an envelope already
 * received (same ID) is EnvelopeError REPLAY.
 */
export function openEnvelope(
  sessions: SessionManager,
  frame: Uint8Array,
  guard: ReplayGuard,
  now: number = Date.now(),
): OpenedEnvelope {
  const r = sessions.decrypt(frame);
  return checkReceived(r, guard, now);
}

/** Shared by `openEnvelope` and batch scanning. */
export function checkReceived(r: Received, guard: ReplayGuard, now: number): OpenedEnvelope {
  if (r.kind === 'duplicate') return r;
  const envelope = decodeEnvelope(unpad(r.plaintext));
  guard.check(envelope.id, envelope.timestamp, now);
  return { kind: 'envelope', sender: r.sender, card: r.card, envelope, newSession: r.newSession };
}
