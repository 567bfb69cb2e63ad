/**
 * Delivery frames: what the engine says to a contact, as typed values. The session adapter
 * turns each into an envelope (`core/envelope/envelope.ts`, which owns the wire format) and
 * back, so the engine never handles ciphertext layouts.
 */
import type { AttachmentBody } from '../envelope/envelope.ts';
import type { DisappearingSeconds } from '../disappearing/timer.ts';

/** Bytes of a message id: 128 random bits (docs/delivery.md "Exactly once"). */
export const MESSAGE_ID_BYTES = 16;
/** Largest text of one chat message, in UTF-8 bytes (the UI limit is 4,000 UTF-16 units). */
export const MAX_TEXT_BYTES = 16_384;
/** Most message ids in one receipt frame (the envelope format's limit). */
export const MAX_RECEIPT_IDS = 256;

/** A text message as its sender wrote it. */
export interface ChatFrame {
  readonly type: 'chat';
  readonly id: Uint8Array;
  /**
   * Sender's clock, Unix ms, strictly increasing per conversation on the sending side, so
   * (sentAt, id) orders a conversation the way its writer wrote it.
   */
  readonly sentAt: number;
  readonly text: string;
  /**
   * What else the message is (core/messages): a reply, a forward, or a reaction to, edit of or
   * deletion of an earlier message; absent for a plain message. Carried, stored and receipted
   * like any chat message; the engine does not interpret it.
   */
  readonly action?: FrameAction;
  /**
   * Set when the message is a change of the conversation's disappearing timer to these
   * seconds (envelope type 15, core/disappearing/timer.ts), with empty `text` and no action:
   * carried, stored, receipted and republished like any chat message, so the contact's device
   * learns it by either path; the app shows it as a line of the conversation, not a bubble.
   */
  readonly timer?: DisappearingSeconds;
}

/** A chat message's action as frames carry it (targets as 16 id bytes). */
export type FrameAction =
  | { readonly kind: 'reply'; readonly target: Uint8Array }
  | { readonly kind: 'forwarded' }
  | { readonly kind: 'reaction'; readonly target: Uint8Array; readonly reaction: number }
  | { readonly kind: 'edit'; readonly target: Uint8Array }
  | { readonly kind: 'delete'; readonly target: Uint8Array };

/** The recipient's statement, authenticated by its session, that messages arrived or were read. */
export interface ReceiptFrame {
  readonly type: 'receipt';
  readonly kind: 'delivered' | 'read';
  readonly ids: readonly Uint8Array[];
}

/** A WebRTC offer or answer with its candidates already gathered (NOTES §4). */
export interface SignalFrame {
  readonly type: 'signal';
  readonly kind: 'offer' | 'answer';
  /** Names one connection attempt, so a late answer cannot complete a newer attempt. */
  readonly linkId: Uint8Array;
  readonly sentAt: number;
  /** The session description (SDP text with candidates). */
  readonly description: string;
}

/** The sender is typing (or stopped): sent over a direct link only, never stored or put on chain. */
export interface TypingFrame {
  readonly type: 'typing';
  readonly active: boolean;
}

/**
 * An attachment manifest, chunk or status (envelope types 16-18): the engine does not read
 * it, it hands it to its attachment hook (ports.ts `AttachmentHook`, core/attachments).
 */
export interface AttachmentFrame {
  readonly type: 'attachment';
  readonly body: AttachmentBody;
  /**
   * Sender's clock (Unix ms) of the envelope that carried it, set on frames opened from a
   * contact. A manifest has no time of its own; the envelope's is what the block rule
   * compares, as for chat (requests.ts `sentWhileBlocked`). Absent on frames being sent.
   */
  readonly sentAt?: number;
}

/** Anything the engine sends a contact inside its session. */
export type DeliveryFrame = ChatFrame | ReceiptFrame | SignalFrame | TypingFrame | AttachmentFrame;

/**
 * Upper estimate of the bytes a frame occupies in a chain batch: envelope fields, padding
 * (at most 12 %, PADMÉ), ratchet header and tag, and a first-contact wrapper with a card.
 * The engine sizes transactions with it; the batch container enforces the exact limit.
 */
export function frameCost(f: DeliveryFrame): number {
  const body =
    f.type === 'chat'
      ? 4 * f.text.length
      : f.type === 'receipt'
        ? MESSAGE_ID_BYTES * f.ids.length
        : f.type === 'signal'
          ? 4 * f.description.length
          : f.type === 'attachment'
            ? attachmentBytes(f.body)
            : 1;
  return Math.ceil((body + 40) * 1.13) + 420;
}

function attachmentBytes(b: AttachmentBody): number {
  return b.type === 'attachment-manifest'
    ? b.manifest.length
    : b.type === 'attachment-status'
      ? b.status.length
      : 24 + b.sealed.length;
}
