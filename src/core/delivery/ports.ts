/**
 * What the delivery engine needs from the rest of p2pComm, as small interfaces (STYLE §9):
 * sessions (encryption), the chain (Kaspa), direct links (WebRTC) and the contact list.
 * Each has a production adapter beside the engine and a fake in the tests, so the engine's
 * state machines are tested without a node or a browser, and the adapters with them.
 */
import type { ContactCard } from '../contact/card.ts';
import type { BatchOp } from '../../storage/types.ts';
import type { AttachmentBody } from '../envelope/envelope.ts';
import type { DeliveryFrame } from './frames.ts';
import type { Route } from './messages.ts';
import type { Clock } from './clock.ts';

/** A contact's id as the contact layer names it (opaque to the engine). */
export type ContactId = string;

/** Encryption for one client: Double Ratchet sessions and the chain batch container. */
export interface SessionPort {
  /** Encrypts frames for `contact` (advancing and persisting its ratchet): one link message each. */
  seal(contact: ContactId, frames: readonly DeliveryFrame[]): Promise<Uint8Array[]>;
  /** Decrypts a direct-link message from `contact`; [] when it does not authenticate. */
  open(contact: ContactId, message: Uint8Array): Promise<DeliveryFrame[]>;
  /** One chain payload carrying each contact's frames, each findable only by its recipient. */
  sealBatch(
    entries: readonly { contact: ContactId; frames: readonly DeliveryFrame[] }[],
  ): Promise<Uint8Array>;
  /**
   * The frames of a chain payload addressed to this client, decrypted; entries for others or
   * that fail to authenticate are left out (bounded work). An entry from someone not in the
   * directory carries the card their first-contact frame introduced (`stranger`): it is a
   * message request, never a contact, until the user accepts it.
   */
  openBatch(payload: Uint8Array): Promise<OpenedEntry[]>;
  /**
   * Saves the ratchet steps `open` and `openBatch` took, once the engine has stored what they
   * carried. Opening a message consumes its key (Double Ratchet §3.2 deletes it), so a state
   * saved with the step before the message is stored leaves, after a crash between the two, a
   * coin that opens as a duplicate and a message that is nowhere; saved after, a crash between
   * leaves the step undone and the coin opens again. Absent: `open` and `openBatch` save.
   */
  commit?(): Promise<void>;
  /**
   * Contacts whose unanswered session start of ours gave way to theirs since the last call
   * (simultaneous start, docs/crypto.md §5.4), taken: what we sent on it may never open (the
   * contact may have refused it), so the engine sends their unreceipted messages again.
   */
  takeSetAside?(): readonly ContactId[];
}

/** One sender's frames from a chain payload. */
export interface OpenedEntry {
  readonly contact: ContactId;
  readonly frames: DeliveryFrame[];
  /** Set when the sender is not a contact: the card they introduced themselves with. */
  readonly stranger?: ContactCard;
  /** Set when one of our own devices sent these chats to `contact` (docs/devices.md §4). */
  readonly sent?: true;
}

/** Frames that came by chain from someone not in the contacts (a message request). */
export interface StrangerArrival {
  readonly contact: ContactId;
  readonly card: ContactCard;
  readonly frames: readonly DeliveryFrame[];
  /** Chain time of the notification coin, when known. */
  readonly daaScore?: bigint;
}

/** A chat message a request kept while its sender was not a contact. */
export interface KeptChat {
  /** 32 hex characters. */
  readonly id: string;
  readonly sentAt: number;
  readonly text: string;
}

/**
 * Message requests (src/core/requests): where the engine hands what strangers send, so that
 * nothing goes back to them (no receipt, no coin return, no WebRTC answer) until the user
 * accepts, and where it takes the kept messages from on acceptance.
 */
export interface RequestPort {
  /**
   * Keeps the chat frames of `arrival` as a request (or drops them: blocked sender, card of
   * another network, nothing to keep). Resolves true when the notification coin is to stay
   * held for the sender (returned only if the request is accepted), false when it is not.
   */
  incoming(arrival: StrangerArrival): Promise<boolean>;
  /**
   * What an accepted request kept: its messages, oldest first, the sender's latest WebRTC
   * offer (answered now if still fresh), and the writes that forget the request; the engine
   * commits those with the messages, then calls `released`.
   */
  release(contact: ContactId):
    | {
        readonly chats: readonly KeptChat[];
        readonly signals: readonly DeliveryFrame[];
        readonly ops: readonly BatchOp[];
      }
    | undefined;
  /** The release of `contact` is committed: the request is gone. */
  released(contact: ContactId): void;
  /**
   * Whether a chat `contact` sent at `sentAt` (Unix ms) was sent while they were blocked: such
   * a chat is dropped unanswered whenever it arrives, also after an unblock (requests.ts).
   */
  sentWhileBlocked?(contact: ContactId, sentAt: number): boolean;
}

/** The contacts the engine may talk to. */
export interface ContactDirectory {
  /** Whether `contact` is known (messages to or from others are refused or ignored). */
  has(contact: ContactId): boolean;
  /** Every known contact. */
  list(): readonly ContactId[];
  /**
   * This client's own id in the same namespace, used only to break ties when both sides
   * offer a WebRTC connection at once.
   */
  readonly self: string;
}

/** Where a published transaction landed (NOTES §7: the delivery-proof view). */
export interface ChainAcceptance {
  readonly blockHash: Uint8Array;
  readonly daaScore: bigint;
}

/** The result of handing a transaction to the node. */
export interface Publication {
  readonly txId: Uint8Array;
}

/** Money in user terms (sompi); `costPerMessage` at the current fee estimate (NOTES §2). */
export interface Funds {
  /** Value available to pay for new publications. */
  readonly spendable: bigint;
  /** Value held in notification coins not yet returned (NOTES §1), shown apart. */
  readonly locked: bigint;
  /** What one chain message to a contact costs now (fee, and coin value when none is in hand). */
  readonly costPerMessage: bigint;
}

/** A transaction that paid a notification coin to one of this client's addresses. */
export interface IncomingTransaction {
  readonly txId: Uint8Array;
  /** The payload, or null when the node no longer keeps it (pruned, NOTES §3). */
  readonly payload: Uint8Array | null;
  readonly acceptance?: ChainAcceptance;
  /** DAA score of the notification coin (its UTXO entry): when it was published, in chain time. */
  readonly daaScore?: bigint;
  /** Where to resume after this transaction: persisted with what it produced (exactly once). */
  readonly cursor?: Uint8Array;
}

/** Events from the chain adapter; the engine processes `incoming` one at a time, in order. */
export interface ChainHandler {
  /**
   * A notification arrived (live or during catch-up). Returns the contacts whose coins in it
   * may be returned; a coin from anyone else is never returned nor shown (docs/delivery.md).
   */
  incoming(tx: IncomingTransaction): Promise<readonly ContactId[]>;
  /** A transaction this client published was accepted by a chain block. */
  accepted(txId: Uint8Array, acceptance: ChainAcceptance): void;
  /**
   * A transaction this client published left the chain in a reorganisation and cannot be
   * handed to the node again (its inputs were spent elsewhere or are gone): what it carried
   * is to be published again (docs/delivery.md "Reorganisations").
   */
  dropped(txId: Uint8Array): void;
  /**
   * A transaction this client published is deep enough that it is no longer watched for a
   * drop (CONFIRMATION_DEPTH, docs/delivery.md "Reorganisations"): what the engine kept to
   * republish it may go. Optional for adapters; the engine bounds what it keeps anyway.
   */
  settled?(txId: Uint8Array): void;
  /** The wallet's funds changed (a coin arrived, returned or was spent). */
  funds(funds: Funds): void;
  /**
   * A coin of `contact`'s that this device held was spent by a transaction it did not make:
   * a sibling device of ours returned it (docs/devices.md §8), so the delivered receipts this
   * device holds back for the contact went with that return. Optional for handlers.
   */
  returnedBySibling?(contact: ContactId): void;
  /** Nothing to process up to `cursor` (persisted so a restart resumes from there). */
  checkpoint(cursor: Uint8Array): void;
}

/** How urgent a publication is. */
export interface PublishOptions {
  /**
   * Only delivery receipts: the adapter may hold the transaction back (its id is final) so
   * that receipts do not follow arrivals in time (docs/privacy.md "Timing").
   */
  readonly deferrable?: boolean;
}

/** The Kaspa side of delivery: publication, notification coins, watching, catch-up. */
export interface ChainPort {
  /** Starts watching this client's addresses and replays what arrived since `cursor`. */
  start(handler: ChainHandler, cursor: Uint8Array | undefined): Promise<void>;
  /**
   * Publishes `payload` with a notification to each recipient (returning a coin of theirs
   * when one is held, docs/delivery.md "Bounce"). Throws DeliveryError INSUFFICIENT_FUNDS or
   * PUBLISH_FAILED.
   */
  publish(
    payload: Uint8Array,
    recipients: readonly ContactId[],
    options?: PublishOptions,
  ): Promise<Publication>;
  /** The current funds picture. */
  funds(): Promise<Funds>;
  /**
   * A sibling device of ours returned what `contact`'s coins brought in (its publication to
   * the contact carried the delivered receipts this device held back, docs/devices.md §8):
   * nothing of it is owed by this device any more. Optional for adapters.
   */
  returnedBySibling?(contact: ContactId): Promise<void>;
  /** Stops watching; idempotent. */
  stop(): Promise<void>;
}

/** An open direct link to a contact. */
export interface DirectLink {
  /** Sends one message; rejects when the link is closed. */
  send(bytes: Uint8Array): Promise<void>;
  /** Closes the link; idempotent. */
  close(): void;
}

/** Events from the WebRTC adapter. */
export interface PeerHandler {
  /** A connection attempt (ours or theirs) opened its data channel. */
  opened(contact: ContactId, linkId: Uint8Array, link: DirectLink): void;
  /** A message arrived on an open link. */
  message(contact: ContactId, linkId: Uint8Array, bytes: Uint8Array): void;
  /** The link closed or the attempt failed (heartbeat loss, ICE failure, peer closed). */
  closed(contact: ContactId, linkId: Uint8Array): void;
}

/** WebRTC connection set-up with offers and answers carried by the engine (NOTES §4). */
export interface PeerPort {
  /** Registers the engine's handler; called once before any other method. */
  listen(handler: PeerHandler): void;
  /** Starts an attempt; resolves with an offer (SDP) whose ICE candidates are already gathered. */
  offer(contact: ContactId, linkId: Uint8Array): Promise<string>;
  /** Accepts an offer; resolves with the answer (SDP) to send back. */
  answer(contact: ContactId, linkId: Uint8Array, offer: string): Promise<string>;
  /** Completes our attempt with the peer's answer. */
  complete(contact: ContactId, linkId: Uint8Array, answer: string): Promise<void>;
  /** Abandons an attempt or closes its link; idempotent. */
  abandon(contact: ContactId, linkId: Uint8Array): void;
  /** Closes everything; idempotent. */
  stop(): Promise<void>;
}

/**
 * Attachments (core/attachments/engine-port.ts): the engine only demultiplexes towards it.
 * It is told of each contact's direct link and handed the attachment frames (envelope types
 * 16-18) and the direct chunk frames that arrive; it seals and writes its own frames through
 * the same `SessionPort` and link. Each method returns at once or after bounded work: the
 * engine calls it on its serial queue.
 */
export interface AttachmentHook {
  /**
   * A message on `contact`'s open link, offered before it is opened as a ratchet frame:
   * true when the hook takes it (a direct chunk frame), false to let the engine open it.
   */
  claim(contact: ContactId, bytes: Uint8Array): boolean;
  /** Attachment bodies from `contact` in frames that authenticated, by `route`. */
  frames(contact: ContactId, bodies: readonly AttachmentBody[], route: Route): Promise<void>;
  /** `contact`'s direct link opened (`link`) or closed (undefined). */
  linked(contact: ContactId, link: DirectLink | undefined): void;
  /** The chain path of attachments; without it attachments wait for a direct link. */
  readonly chain?: AttachmentChainHook;
  /** Given once, as the engine opens: where attachments become messages of a conversation. */
  bind?(history: AttachmentHistory): void;
}

/**
 * The conversation history as attachments write to it: an attachment is a message whose id
 * is the attachment's (the recipient's read receipt names it like any message), stored in
 * the engine's message store; its progress is the attachment service's to tell.
 */
export interface AttachmentHistory {
  /**
   * Stores attachment `id` (32 hex) as a message of `contact`'s conversation once (a second
   * call is ignored); an incoming one arrived by `route`.
   */
  add(contact: ContactId, id: string, direction: 'in' | 'out', route?: Route): Promise<void>;
  /**
   * Moves outgoing attachment message `id` on (never back): sent (its manifest on a direct
   * link), published (its manifest in transaction `txId`, the proof) or delivered (the
   * recipient's "complete", which says the bytes were verified).
   */
  progress(id: string, status: 'sent' | 'published' | 'delivered', txId?: string): Promise<void>;
}

/**
 * Attachment frames on the chain path (core/attachments/chain-path.ts). The engine carries
 * them like its own frames: batched in its flushes, published by its chain port, paid and
 * retried the same way, and told back which transaction took them or that one left the
 * chain. What is due and when (republication, the recipient's status) is the hook's.
 */
export interface AttachmentChainHook {
  /**
   * The engine's chain path runs: `wake(contact)` asks for a flush towards `contact`;
   * `clock` is the engine's.
   */
  start(wake: (contact: ContactId) => void, clock: Clock): Promise<void>;
  /**
   * Takes the attachment frames due on chain to `contact`, which has no open link: one list
   * per transaction, each within `budget` bytes by `frameCost`. Taken frames are not offered
   * again until `settled` says they failed.
   */
  take(contact: ContactId, budget: number): Promise<readonly (readonly AttachmentBody[])[]>;
  /** Frames taken for `contact` went out in transaction `txId` (hex), or failed (undefined). */
  settled(contact: ContactId, bodies: readonly AttachmentBody[], txId: string | undefined): Promise<void>;
  /** A transaction that carried attachment frames left the chain for good (reorganisation). */
  dropped(txId: string): Promise<void>;
}

/**
 * `inner`, whose start waits for `ready` (e.g. a node's first answer, with the engine opened
 * `chainInBackground`); everything else passes through.
 */
export function startsAfter(ready: Promise<void>, inner: ChainPort): ChainPort {
  return {
    start: async (handler, cursor) => {
      await ready;
      await inner.start(handler, cursor);
    },
    publish: (payload, recipients, options) => inner.publish(payload, recipients, options),
    funds: () => inner.funds(),
    stop: () => inner.stop(),
  };
}
