/**
 * The view model of the web app: everything the screens need from the delivery engine, and
 * nothing else. The UI never sees keys, coins, envelopes or RPC; the engine never sees the DOM.
 *
 * One implementation is the in-memory `FakeApi` (fake-api.ts) used for demos and UI tests; the
 * engine implements the same interface and is plugged in at one place in main.ts.
 *
 * Words: members are named for what the user sees ("secure delivery", "recovery key"), and
 * only `DeliveryProof` carries chain terms, because the proof view is the one screen that
 * may show them (spec "No Blockchain Exposure"; NOTES §7).
 */
import { MESSAGE_REACTIONS } from '../core/envelope/envelope.ts';
import { P2pCommError } from '../util/errors.ts';

/** Reasons an `AppApi` call refuses a request; the UI branches on `code` (STYLE §6). */
export type AppApiErrorCode =
  | 'WRONG_PASSWORD'
  | 'WEAK_PASSWORD'
  | 'BAD_NAME'
  | 'BAD_RECOVERY_KEY'
  | 'BAD_INVITE'
  /** An invite of a format this version no longer reads (e.g. a bare card without one-time keys). */
  | 'OLD_INVITE'
  | 'OWN_INVITE'
  | 'BAD_BACKUP'
  | 'BAD_SETTING'
  | 'IDENTITY_EXISTS'
  | 'NO_IDENTITY'
  | 'LOCKED'
  | 'IN_USE'
  | 'UNKNOWN_CONTACT'
  | 'UNKNOWN_REQUEST'
  | 'WRONG_NETWORK'
  /** A short invite link (docs/protocol.md "Short invite") this app cannot look up. */
  | 'SHORT_INVITE'
  /** A short invite whose sealed card is not on the network (never published, or removed). */
  | 'SHORT_INVITE_NOT_FOUND'
  | 'UNKNOWN_MESSAGE'
  | 'EMPTY_MESSAGE'
  | 'MESSAGE_TOO_LONG'
  | 'BAD_SAFETY_CODE'
  | 'BAD_QUERY'
  /** A message action refused (MessageActions): not the sender, too late to edit, deleted. */
  | 'NOT_YOURS'
  | 'EDIT_WINDOW'
  | 'DELETED'
  | 'BAD_REACTION';

/** Typed refusal of an `AppApi` call (bad user input or wrong state, never a crash). */
export class AppApiError extends P2pCommError<AppApiErrorCode> {}

/** Networks the app can run on; `local` is a devnet/simnet node on this machine. */
export type NetworkId = 'local' | 'testnet-10' | 'mainnet';

/** Every network id, in the order the settings screen lists them. */
export const NETWORK_IDS: readonly NetworkId[] = ['local', 'testnet-10', 'mainnet'];

/** Opaque, stable id of a contact (and of the one-to-one conversation with it). */
export type ContactId = string & { readonly __brand: 'ContactId' };

/** Opaque, stable id of a message within this device's history. */
export type MessageId = string & { readonly __brand: 'MessageId' };

/** The user's own identity as shown on screen: a chosen name and a short fingerprint. */
export interface IdentitySummary {
  /** Name the user chose; shown to contacts on the shared card. */
  readonly displayName: string;
  /** Human-comparable fingerprint of the identity key, e.g. "5f3a 91c0 7be2 44d1". */
  readonly fingerprint: string;
}

/** Whether an identity exists on this device and whether its vault is open. */
export type VaultState =
  | { readonly kind: 'empty' }
  | { readonly kind: 'locked'; readonly displayName: string }
  /** Unlocked in another window of this browser: one live window per profile (Use here). */
  | { readonly kind: 'elsewhere'; readonly displayName: string }
  | { readonly kind: 'unlocked'; readonly identity: IdentitySummary };

/** Result of creating an identity: the recovery key is shown once and never stored in clear. */
export interface CreatedIdentity {
  readonly identity: IdentitySummary;
  /** The recovery key as plain words, in order (shown numbered; the user writes them down). */
  readonly recoveryWords: readonly string[];
}

/**
 * How a contact can be reached right now, as the conversation header words it:
 * connected = direct encrypted link; connecting = link being set up; offline = messages go
 * by secure delivery (or wait, in P2P-only mode).
 */
export type ConnectionState = 'connected' | 'connecting' | 'offline';

/**
 * Whether the app reaches the network through the node addresses of the settings: online;
 * connecting (the first attempt, or again after a drop); unreachable (every address failed;
 * it keeps trying, and nothing queued or stored is lost meanwhile). The screens word it with
 * `networkStateWords` (format.ts), without naming nodes or chains.
 */
export type NetworkState = 'online' | 'connecting' | 'unreachable';

/** A contact as shown in lists and headers. */
export interface ContactSummary {
  readonly id: ContactId;
  /**
   * The name the user gave the contact on this device, else the one from the contact's card;
   * untrusted text, always rendered as text.
   */
  readonly displayName: string;
  /** The name on the contact's card, set when the user renamed the contact (shown beside). */
  readonly cardName?: string;
  /** Short label of the contact's identity key (not for comparing: see `safetyNumber`). */
  readonly fingerprint: string;
  readonly connection: ConnectionState;
  /** True when the user confirmed the safety number and the contact's key is still that one. */
  readonly verified: boolean;
  /** Why the conversation warns about this contact's key, if it does (docs/protocol.md "Safety number"). */
  readonly keyWarning?: KeyWarning;
  /** Set while the user blocks this contact: nothing they send is shown or receipted. */
  readonly blocked?: true;
}

/**
 * A warning about a contact's key:
 * - changed: the user verified this contact, and its identity key is no longer the one verified;
 * - same-name: another contact already has this name with a different key (a re-install
 *   without the recovery key, or someone passing as them); it stays until this one is verified.
 */
export type KeyWarning =
  { readonly kind: 'changed' } | { readonly kind: 'same-name'; readonly otherId: ContactId };

/** The safety number of the user and one contact, as the Verify screen shows it. */
export interface SafetyNumberView {
  /** 60 digits in 12 groups of 5, the same on both devices. */
  readonly groups: readonly string[];
  /** What this device's QR code carries (`p2pcomm-verify:...`). */
  readonly scanCode: string;
}

/**
 * What the user set on a conversation, on this device only and never sent (stored sealed:
 * docs/protocol.md "Conversation flags record").
 */
export interface ConversationFlags {
  /** Listed first. */
  readonly pinned: boolean;
  /** No notification and no count in the title for its messages; unread still counted in it. */
  readonly muted: boolean;
  /** Listed apart, under "Archived"; a new message does not bring it back. */
  readonly archived: boolean;
  /** The user's own name for the contact, shown instead of the card's. */
  readonly nickname?: string;
}

/** A change to `ConversationFlags`; a nickname of null or "" goes back to the card's name. */
export type ConversationFlagsPatch = Partial<Omit<ConversationFlags, 'nickname'>> & {
  readonly nickname?: string | null;
};

/** One row of the conversation list. */
export interface ConversationSummary {
  readonly contact: ContactSummary;
  /** This device's flags of the conversation (absent: none set). */
  readonly flags?: ConversationFlags;
  /** Newest message, if any. */
  readonly last?: { readonly text: string; readonly at: number; readonly outgoing: boolean };
  /** Incoming messages not yet shown to the user. */
  readonly unread: number;
}

/**
 * Delivery progress of an outgoing message (incoming messages carry `delivered`):
 * sending = not yet handed to any path; sent = published (P2P frame written, or on chain);
 * delivered = the recipient's signed receipt arrived; read = their read receipt arrived
 * (only when both sides enable read receipts); failed = gave up after retries (NOTES §3).
 */
export type MessageStatus = 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

/** Path a message travelled: a direct link, or secure (on-chain) delivery. */
export type DeliveryRoute = 'direct' | 'secure';

/** A message as the conversation view shows it. */
export interface ChatMessage {
  readonly id: MessageId;
  readonly contactId: ContactId;
  readonly outgoing: boolean;
  /** Plain text; untrusted, always rendered as text. */
  readonly text: string;
  /** Unix time in milliseconds the sender wrote it (sender's clock, as shown). */
  readonly sentAt: number;
  readonly status: MessageStatus;
  /** Undefined while the path is not chosen yet. */
  readonly route?: DeliveryRoute;
  /**
   * True when the message went by secure delivery and its publication can be proven: the UI
   * offers the proof view, and badges it "sent securely" until the recipient's signed receipt
   * makes it "verified delivery". It proves the sender published, not that the recipient read
   * it (NOTES §7).
   */
  readonly hasProof: boolean;
  /** The quote above a reply (MessageActions). */
  readonly replyTo?: QuotedMessage;
  /** Reactions under the message, one per person, in the order of `REACTIONS`. */
  readonly reactions?: readonly MessageReaction[];
  /** Set when its sender edited the text (the text is the latest version). */
  readonly edited?: boolean;
  /** Set when its sender deleted it for everyone: the text is '' and gone from storage. */
  readonly deleted?: boolean;
  /** Set when it was sent as a forward of another message. */
  readonly forwarded?: boolean;
  /** Set on the line that says who changed the disappearing timer, and to what (seconds). */
  readonly timerChange?: { readonly seconds: number; readonly by: 'you' | 'contact' };
  /** When the message disappears (Unix ms), under the conversation's timer; absent: never. */
  readonly expiresAt?: number;
  /** Set on an attachment: `id` is the attachment's (`attachments`, `onAttachment`); text is ''. */
  readonly attachment?: true;
}

/**
 * A conversation's disappearing-messages timer (core/disappearing/timer.ts): the newest
 * setting by (time set, id) on both sides.
 */
export interface DisappearingTimer {
  /** One of `DISAPPEARING_SECONDS` (core/disappearing): 0 is off. */
  readonly seconds: number;
  /** Who set it, and when (Unix ms, the setter's clock); absent while never set. */
  readonly setBy?: 'you' | 'contact';
  readonly setAt?: number;
}

/** On-chain evidence for a message that went by secure delivery (the proof view, NOTES §7). */
export interface DeliveryProof {
  readonly messageId: MessageId;
  readonly network: NetworkId;
  /** Transaction id, 64 hex characters. */
  readonly txId: string;
  /** Hash of the chain block that accepted the transaction (64 hex), once accepted. */
  readonly acceptingBlockHash?: string;
  /** DAA score of the accepting block, once accepted. */
  readonly acceptingDaaScore?: bigint;
  /** Blue-score distance from the accepting block to the current sink; 0 while pending. */
  readonly confirmations: number;
  /** Whether the recipient's signed receipt for this message has arrived. */
  readonly receiptReceived: boolean;
}

/**
 * The secure delivery balance in user terms. Amounts are in sompi (bigint) for the proof
 * and top-up code paths; the main screens show only message counts derived from them.
 */
export interface DeliveryBalance {
  /** Value available to pay for new offline deliveries. */
  readonly spendable: bigint;
  /** Value held in notifications not yet returned by recipients (NOTES §1), shown apart. */
  readonly lockedInPending: bigint;
  /** What one offline message costs at the current fee estimate (NOTES §2). */
  readonly costPerMessage: bigint;
  /** Offline messages `spendable` still pays for at `costPerMessage`. */
  readonly messagesLeft: number;
  /** Messages whose held value is expected back when they are acknowledged. */
  readonly pendingMessages: number;
  /** Where a top-up link-out sends the user: `TOP_UP_URL`, on mainnet only (NOTES §7). */
  readonly topUpUrl?: string;
  /** When true, offline messages wait for a direct link instead of secure delivery. */
  readonly p2pOnly: boolean;
}

/** A WebRTC ICE server (RTCIceServer without the deprecated fields). */
export interface IceServer {
  readonly urls: string;
  readonly username?: string;
  readonly credential?: string;
}

/** One node of the settings as the connection sees it (kaspa/rpc/pool.ts `NodeState`). */
export interface NodeLine {
  readonly url: string;
  /** `up`: in use and synced; `syncing`: answers, not synced yet; `down`, `connecting`, `refused`. */
  readonly state: 'connecting' | 'up' | 'syncing' | 'down' | 'refused';
}

/** The node connection for Settings (`AppApi.nodeView`). */
export interface NodeView {
  /** Every node of the settings, in order. */
  readonly nodes: readonly NodeLine[];
  /** The node answering chain queries now; absent while none is up. */
  readonly current?: string;
  /** Whether the node in use reports itself synced with the network (getServerInfo isSynced). */
  readonly synced: boolean;
  /** DAA score of the latest block the node reported; absent before the first answer. */
  readonly lastDaaScore?: bigint;
  /**
   * The network's public nodes (engine/network.ts): "use only my own node" takes them out of
   * `nodeUrls`, and it is on when none of them is there.
   */
  readonly publicNodeUrls: readonly string[];
}

/** User-adjustable settings (the settings screen edits exactly these). */
export interface AppSettings {
  readonly network: NetworkId;
  /** Node addresses (ws:// or wss://) tried in order for the chosen network. */
  readonly nodeUrls: readonly string[];
  /** STUN/TURN servers; empty works on one host or LAN (NOTES §4). */
  readonly iceServers: readonly IceServer[];
  /** Batch offline messages for a lower cost per message, at some added delay. */
  readonly batching: boolean;
  /** Send read receipts (and so see others' when they do too). */
  readonly readReceipts: boolean;
  /**
   * Show the first characters of a message in its notification (off by default: notifications
   * show on lock screens and to anyone near the screen; off, they name the sender only).
   */
  readonly notificationText: boolean;
}

/**
 * A first message from someone who is not a contact: it waits under "Message requests" and
 * nothing goes back to its sender (no delivery or read receipt, no direct link) until the
 * user accepts. Bounded: the newest requests and the newest messages of each are kept.
 */
export interface MessageRequestSummary {
  /** The contact id the sender becomes on Accept. */
  readonly id: ContactId;
  /** The name the sender gave themselves: unverified, always shown as such. */
  readonly displayName: string;
  /** Fingerprint of the sender's identity key. */
  readonly fingerprint: string;
  /** Kept messages, oldest first (untrusted text, always rendered as text). */
  readonly messages: readonly { readonly id: MessageId; readonly text: string; readonly sentAt: number }[];
}

/** The short invite shown beside the full one (`AppApi.myShortInvite`). */
export interface ShortInviteShown {
  /** The short code (the part after `#/add/`, 44 characters with its prefix). */
  readonly code: string;
  readonly published: boolean;
  /** Why it is not published, in the user's words. */
  readonly problem?: string;
}

/** What a pasted or scanned invite would add, shown before the user confirms. */
export interface InvitePreview {
  readonly displayName: string;
  readonly fingerprint: string;
  /** When the invite's card was issued (Unix ms): an old invite may name deleted pre-keys. */
  readonly issuedAt: number;
  /** Set when the invite is of a contact already added: the app opens that chat instead. */
  readonly contactId?: ContactId;
}

/** Changes the UI reacts to; it re-reads what it shows (events carry no authority). */
export type AppEvent =
  | { readonly type: 'vault'; readonly state: VaultState }
  /** Another window of this profile was opened with an invite link: show it here. */
  | { readonly type: 'invite'; readonly code: string }
  | { readonly type: 'conversations' }
  /** The message requests changed (one arrived, grew, or was accepted, blocked or deleted). */
  | { readonly type: 'requests' }
  | { readonly type: 'message'; readonly message: ChatMessage }
  /** Messages of a conversation were deleted (expired, or the conversation deleted): re-read it. */
  | { readonly type: 'messages-removed'; readonly contactId: ContactId }
  /** A message left the conversation on this device (deleted for me). */
  | { readonly type: 'message-removed'; readonly contactId: ContactId; readonly id: MessageId }
  | { readonly type: 'connection'; readonly contactId: ContactId; readonly state: ConnectionState }
  /** The contact started or stopped typing (heard over the direct link only). */
  | { readonly type: 'typing'; readonly contactId: ContactId; readonly active: boolean }
  | { readonly type: 'balance'; readonly balance: DeliveryBalance }
  | { readonly type: 'settings'; readonly settings: AppSettings }
  | { readonly type: 'network'; readonly state: NetworkState };

/** Stops a subscription. */
export type Unsubscribe = () => void;

/** Everything the web app asks of the delivery engine. */
export interface AppApi extends AttachmentApi, MessageActions {
  /** Current vault state, synchronously (the first screen depends on it). */
  vaultState(): VaultState;
  /**
   * Creates a fresh identity (random seed, never derived from the password, NOTES §5) and
   * opens its vault encrypted under `password`. Rejects BAD_NAME, WEAK_PASSWORD,
   * IDENTITY_EXISTS.
   */
  createIdentity(displayName: string, password: string): Promise<CreatedIdentity>;
  /**
   * Opens the vault. Rejects WRONG_PASSWORD (state unchanged), NO_IDENTITY, or IN_USE when
   * another window has this profile open (the state becomes `elsewhere`).
   */
  unlock(password: string): Promise<IdentitySummary>;
  /**
   * "Use here": asks the window that has this profile open to lock itself (it stores what
   * it was doing first) and waits until it has; the state becomes `locked`. Rejects IN_USE
   * when that window does not let go in time.
   */
  useHere(): Promise<void>;
  /** Passes an invite link to the window that has this profile open (state `elsewhere`). */
  passInvite(code: string): void;
  /** Closes the vault and forgets keys in memory. */
  lock(): Promise<void>;
  /**
   * Replaces this device's identity with the one the recovery words restore, encrypted
   * under `newPassword`. Rejects BAD_RECOVERY_KEY, WEAK_PASSWORD, BAD_NAME.
   */
  restore(recoveryWords: string, displayName: string, newPassword: string): Promise<IdentitySummary>;

  /** The user's own invite code (the part after `#/add/` in an invite link, URL-safe). */
  myInviteCode(): Promise<string>;
  /**
   * The short form of `myInviteCode`'s invite (docs/protocol.md "Short invite"), its sealed
   * card published on chain once per invite; `published` false, with `problem` in words, when
   * it could not be (no funds, no node): then only the full link works. Absent where invites
   * have no short form.
   */
  myShortInvite?(): Promise<ShortInviteShown>;
  /**
   * Decodes an invite code without adding it (a short one is looked up on chain). Rejects
   * BAD_INVITE, OLD_INVITE, SHORT_INVITE, SHORT_INVITE_NOT_FOUND, OWN_INVITE, or WRONG_NETWORK when the invite is for another network than the one in the
   * settings.
   */
  previewInvite(code: string): Promise<InvitePreview>;
  /** Adds the contact an invite code describes (idempotent). Rejects like `previewInvite`. */
  addContact(code: string): Promise<ContactSummary>;

  /** Conversations, pinned first, then newest activity first (archived ones included). */
  conversations(): Promise<readonly ConversationSummary[]>;
  /** One conversation's row (its flags and unread count), without the others. Rejects UNKNOWN_CONTACT. */
  conversation(id: ContactId): Promise<ConversationSummary>;
  /**
   * Pins, mutes, archives or renames a conversation on this device (stored sealed, never
   * sent); resolves with the flags now set and emits `conversations`. Rejects UNKNOWN_CONTACT,
   * BAD_NAME for a name over 64 characters.
   */
  setConversationFlags(id: ContactId, patch: ConversationFlagsPatch): Promise<ConversationFlags>;
  /**
   * Messages of every conversation whose text contains `query` (search.ts: normalised,
   * case-insensitive), newest first, at most `limit` (50 by default, 200 at most). Rejects
   * BAD_QUERY for a query over 200 characters; an empty one finds nothing.
   */
  search(
    query: string,
    options?: { readonly limit?: number },
  ): Promise<readonly { readonly contact: ContactSummary; readonly message: ChatMessage }[]>;
  /** Message requests waiting for Accept, Block or Delete, newest activity first. */
  messageRequests(): Promise<readonly MessageRequestSummary[]>;
  /**
   * Accepts a request: its sender becomes a contact, the conversation appears with the kept
   * messages, and their receipts go out. Rejects UNKNOWN_REQUEST.
   */
  acceptRequest(id: ContactId): Promise<ContactSummary>;
  /** Blocks a request's sender: the request goes, and what they send later is dropped. */
  blockRequest(id: ContactId): Promise<void>;
  /** Deletes a request; a later first message from the sender makes a new one. Rejects UNKNOWN_REQUEST. */
  deleteRequest(id: ContactId): Promise<void>;
  /** One contact. Rejects UNKNOWN_CONTACT. */
  contact(id: ContactId): Promise<ContactSummary>;

  // Delete and block (issue 15): one block, kept apart so parallel changes merge cleanly.
  /**
   * Deletes a conversation's messages on this device and takes its row out of the list until
   * a new message comes; with `contact: true` the contact goes too (a later message from them
   * is a message request). Messages still on their way (not yet delivered) stay until they
   * are. Copies already delivered stay on the contact's device, and an encrypted copy of what
   * went by secure delivery stays on the public ledger until pruned (NOTES §3). Emits
   * `conversations`. Rejects UNKNOWN_CONTACT.
   */
  deleteConversation(id: ContactId, options?: { readonly contact?: boolean }): Promise<void>;
  /**
   * Blocks a contact: what they send is dropped unread and unanswered (no receipt, no direct
   * link), as a blocked request's sender (core/requests); they are not told. Emits
   * `conversations`. Rejects UNKNOWN_CONTACT.
   */
  blockContact(id: ContactId): Promise<void>;
  /** Undoes `blockContact`; what they sent meanwhile is not recovered. Rejects UNKNOWN_CONTACT. */
  unblockContact(id: ContactId): Promise<void>;
  /** The contacts blocked now (Settings lists them with Unblock). */
  blockedContacts(): Promise<readonly ContactSummary[]>;

  // Disappearing messages (core/disappearing/timer.ts), one block.
  /** A conversation's disappearing timer. Rejects UNKNOWN_CONTACT. */
  disappearing(id: ContactId): Promise<DisappearingTimer>;
  /**
   * Sets a conversation's disappearing timer: the change is a message both sides show, and
   * applies to messages written after it. Rejects BAD_SETTING for a value not offered,
   * UNKNOWN_CONTACT, LOCKED.
   */
  setDisappearing(id: ContactId, seconds: number): Promise<DisappearingTimer>;
  /** The safety number with a contact. Rejects UNKNOWN_CONTACT. */
  safetyNumber(id: ContactId): Promise<SafetyNumberView>;
  /**
   * Compares what the contact's device shows (its scanned QR code, or its 60 digits as
   * typed) with our safety number; a match marks the contact verified (stored sealed) and
   * clears its key warning. Resolves 'match' or 'mismatch' (nothing changes then). Rejects
   * BAD_SAFETY_CODE for input that is neither, UNKNOWN_CONTACT.
   */
  verifyContact(id: ContactId, scannedOrTyped: string): Promise<'match' | 'mismatch'>;
  /** Removes the verified mark. Rejects UNKNOWN_CONTACT. */
  unverifyContact(id: ContactId): Promise<void>;
  /** Messages of a conversation, oldest first; `limit` newest ones when given. */
  messages(id: ContactId, options?: { readonly limit?: number }): Promise<readonly ChatMessage[]>;
  /**
   * Queues a text message; resolves with it in status `sending`, progress comes as `message`
   * events. Rejects EMPTY_MESSAGE, MESSAGE_TOO_LONG, UNKNOWN_CONTACT or LOCKED. The network
   * need not be reachable: the message is stored at once and published once it is.
   */
  send(id: ContactId, text: string): Promise<ChatMessage>;
  /** Marks a conversation as read (sends read receipts when enabled). */
  markRead(id: ContactId): Promise<void>;
  /**
   * Tells the contact that the user is typing (or stopped), over the direct link only; without
   * one nothing is sent (never on chain). Rejects UNKNOWN_CONTACT or LOCKED.
   */
  typing(id: ContactId, active: boolean): Promise<void>;
  /** Retries a failed outgoing message. Rejects UNKNOWN_MESSAGE. */
  retry(id: MessageId): Promise<void>;
  /** The delivery proof of a message, or null when it went directly. Rejects UNKNOWN_MESSAGE. */
  deliveryProof(id: MessageId): Promise<DeliveryProof | null>;

  /** The secure delivery balance at the current fee estimate. */
  balance(): Promise<DeliveryBalance>;
  /** Turns P2P-only mode on or off (offline messages then wait instead of costing). */
  setP2pOnly(on: boolean): Promise<DeliveryBalance>;

  /** Current settings. */
  settings(): Promise<AppSettings>;
  /** Validates and applies a change. Rejects BAD_SETTING naming the field in its message. */
  updateSettings(patch: Partial<AppSettings>): Promise<AppSettings>;
  /** Whether the network is reachable right now (`network` events report changes). */
  networkState(): NetworkState;
  /**
   * The node connection in detail, for Settings: which node, synced or not, last block seen
   * (asked of the node in use, bounded by a few seconds; without an answer, the last known).
   */
  nodeView(): Promise<NodeView>;
  /**
   * The address that receives coins for secure delivery ("Add funds", the one screen that
   * shows it). Rejects LOCKED without an unlocked identity.
   */
  fundingAddress(): Promise<string>;
  /** An encrypted backup file of identity, contacts and history (under the vault password). */
  exportBackup(): Promise<Uint8Array>;
  /** Restores a backup file made by `exportBackup`. Rejects BAD_BACKUP or WRONG_PASSWORD. */
  importBackup(file: Uint8Array, password: string): Promise<IdentitySummary>;

  /**
   * Checks for new messages now. The app calls it on open, on focus and when the service
   * worker wakes it; browsers give web apps no reliable background schedule (NOTES §7).
   */
  checkForMessages(): Promise<void>;

  /** Subscribes to changes; the listener is called synchronously after each change. */
  subscribe(listener: (event: AppEvent) => void): Unsubscribe;
}

// ---- Message actions (issue 15): reply, reactions, edit, delete, forward -----------------

/** The quote above a reply: the original as held, or that it is not held here. */
export type QuotedMessage =
  | {
      readonly id: MessageId;
      readonly held: true;
      readonly outgoing: boolean;
      /** First line of the original's current text ('' when deleted). */
      readonly text: string;
      readonly deleted: boolean;
    }
  | { readonly id: MessageId; readonly held: false };

/** One reaction under a message: which, how many people, and whether the user is one. */
export interface MessageReaction {
  readonly emoji: string;
  readonly count: number;
  readonly mine: boolean;
}

/** The fixed reaction set, in the order shown: the wire's own (docs/protocol.md "Envelope type 10"). */
export const REACTIONS: readonly string[] = MESSAGE_REACTIONS;

/** How long after sending a message it may still be edited (24 hours). */
export const EDIT_WINDOW_MS = 24 * 3600_000;

/**
 * What the user says about a message deleted for everyone: the copy on the public ledger,
 * which standard nodes prune after about 30 hours (NOTES §3), sealed under keys no one else
 * holds (NOTES §6).
 */
export const DELETE_LEDGER_WORDS =
  'If it went by secure delivery, an encrypted copy stays on the public ledger until nodes prune it, after about 30 hours (anyone archiving the ledger may keep it longer). No one can read it without your or your contact\u2019s keys.';

/** Message actions, each applied on this device and (but for delete for me) sent to the contact. */
export interface MessageActions {
  /**
   * Sends `text` as a reply quoting message `replyTo` of the same conversation. Rejects like
   * `send`, and UNKNOWN_MESSAGE when `replyTo` is not a message of that conversation.
   */
  reply(id: ContactId, text: string, replyTo: MessageId): Promise<ChatMessage>;
  /**
   * Sets the user's reaction to a message (`emoji` one of `REACTIONS`), or takes it back
   * (null); one per person per message. Resolves with the message as now shown. Rejects
   * UNKNOWN_MESSAGE, BAD_REACTION, DELETED.
   */
  react(messageId: MessageId, emoji: string | null): Promise<ChatMessage>;
  /**
   * Replaces the text of one of the user's messages, here and on the contact's device, within
   * `EDIT_WINDOW_MS` of sending it. Rejects UNKNOWN_MESSAGE, NOT_YOURS, EDIT_WINDOW, DELETED,
   * EMPTY_MESSAGE, MESSAGE_TOO_LONG.
   */
  edit(messageId: MessageId, text: string): Promise<ChatMessage>;
  /**
   * Deletes one of the user's messages for everyone: both sides show it deleted and remove its
   * text (and its edits') from storage. Rejects UNKNOWN_MESSAGE, NOT_YOURS.
   */
  deleteForEveryone(messageId: MessageId): Promise<ChatMessage>;
  /** Removes a message (either direction) from this device only; emits `message-removed`. Rejects UNKNOWN_MESSAGE. */
  deleteForMe(messageId: MessageId): Promise<void>;
  /**
   * Sends the current text of a message to each of `to` as a new message marked forwarded.
   * Rejects UNKNOWN_MESSAGE, DELETED, UNKNOWN_CONTACT (before sending any).
   */
  forward(messageId: MessageId, to: readonly ContactId[]): Promise<readonly ChatMessage[]>;
}

/**
 * The top-up link-out: a neutral page explaining how to get KAS. It carries nothing about the
 * user (no address, and the link is opened without a referrer).
 */
export const TOP_UP_URL = 'https://kaspa.org/';

/** Length limit for one text message, in UTF-16 code units (chunking is the engine's job). */
export const MAX_MESSAGE_LENGTH = 4000;

/** Checks the text of a message to send, as every `AppApi.send` does before queuing it. */
export function checkMessageText(text: unknown): asserts text is string {
  if (typeof text !== 'string') throw new TypeError('"text" expected a string');
  if (text.trim().length === 0) throw new AppApiError('EMPTY_MESSAGE', 'Nothing to send');
  if (text.length > MAX_MESSAGE_LENGTH)
    throw new AppApiError('MESSAGE_TOO_LONG', `A message holds at most ${MAX_MESSAGE_LENGTH} characters`);
}

/** The newest `limit` of `all` (oldest first), or all of them; `AppApi.messages` slices so. */
export function newestMessages<T>(all: readonly T[], limit: number | undefined): readonly T[] {
  if (limit === undefined) return all;
  if (!Number.isSafeInteger(limit) || limit < 0)
    throw new RangeError('"options.limit" expected a non-negative integer');
  // Not all.slice(-limit): for a limit of 0 that is the whole list.
  return all.slice(Math.max(0, all.length - limit));
}

/** Minimum password length accepted for the vault. */
export const MIN_PASSWORD_LENGTH = 8;

// ---- Attachments (issue 14) --------------------------------------------------------------

/** Where one attachment stands on this device. */
export type AttachmentState = 'transferring' | 'complete' | 'cancelled' | 'failed';

/** An attachment of a conversation, as the bubble shows it. */
export interface AttachmentView {
  /** 32 hex characters. */
  readonly id: string;
  readonly contactId: ContactId;
  readonly direction: 'in' | 'out';
  readonly kind: 'file' | 'image' | 'voice' | 'text';
  /** File name as the sender had it (no path). */
  readonly name: string;
  /** Media type, e.g. "image/png". */
  readonly mediaType: string;
  /** Bytes of the file. */
  readonly size: number;
  readonly state: AttachmentState;
  /** Parts held (incoming) or acknowledged by the contact (outgoing), of `parts`. */
  readonly done: number;
  readonly parts: number;
  /** Unix ms when sent or first heard of. */
  readonly createdAt: number;
  /**
   * Outgoing: true once the user chose to send it on chain now ("Send now"); false while it
   * waits for the contact to be online (the default) or goes over the direct link.
   */
  readonly onChain: boolean;
  /** A voice note's length and waveform (docs/protocol.md "Voice note summary"). */
  readonly voice?: VoiceNoteInfo;
}

/** What a voice note carries besides its audio: length, ms, and up to 64 peak levels 0..255. */
export interface VoiceNoteInfo {
  readonly durationMs: number;
  readonly waveform: Uint8Array;
}

/** What sending one attachment the paid way costs, in the app's own terms (chain-plan.ts). */
export interface AttachmentCostView {
  /** Secure messages it uses, rounded up. */
  readonly secureMessages: number;
  /** Secure messages the wallet pays for now. */
  readonly messagesLeft: number;
  /** True when the wallet cannot pay for all of it now. */
  readonly insufficient: boolean;
  /** The same in words: "Sending this while your contact is offline uses about N …". */
  readonly text: string;
}

/** The attachment limits in force, shown before a file is picked (never found by failure). */
export interface AttachmentLimitsView {
  /** Largest file sent while the contact is online, bytes. */
  readonly maxBytes: number;
  /** Largest file sent while the contact is offline, bytes. */
  readonly maxOfflineBytes: number;
  /** Longest voice note, ms (the recorder stops there). */
  readonly maxVoiceMs: number;
}

/** A file the user picked, dropped or pasted. */
export interface PickedFile {
  readonly name: string;
  /** Media type as the browser named it; empty when unknown. */
  readonly type: string;
  readonly bytes: Uint8Array;
  /** Set for a recorded voice note: sent as kind `voice` (an `audio/` type, no name). */
  readonly voice?: VoiceNoteInfo;
}

/**
 * Attachments: a file goes to an online contact over the direct link with progress on both
 * sides; to an offline one it waits, stored, and goes when the contact is next online.
 * Refusals are `AttachmentError` (core/attachments/errors.ts): EMPTY, TOO_LARGE,
 * BAD_MANIFEST (a name or type the format refuses), STORAGE_FULL, TAMPERED,
 * HASH_MISMATCH, INCOMPLETE, UNKNOWN_ATTACHMENT; a refusal touches nothing else.
 */
export interface AttachmentApi {
  /** The limits in force. */
  attachmentLimits(): AttachmentLimitsView;
  /** Attachments of a conversation, oldest first. Rejects UNKNOWN_CONTACT, LOCKED. */
  attachments(id: ContactId): Promise<readonly AttachmentView[]>;
  /**
   * Encrypts and stores `file` for contact `id` and starts sending it (progress comes as
   * `attachment` events). Rejects UNKNOWN_CONTACT, LOCKED, or an AttachmentError.
   */
  sendFile(id: ContactId, file: PickedFile): Promise<AttachmentView>;
  /** Cancels a transfer either way. Rejects AttachmentError UNKNOWN_ATTACHMENT. */
  cancelAttachment(attachmentId: string): Promise<void>;
  /**
   * What sending waiting attachment `attachmentId` now, on chain, would cost. Rejects
   * AttachmentError UNKNOWN_ATTACHMENT.
   */
  attachmentCost(attachmentId: string): Promise<AttachmentCostView>;
  /**
   * Sends a waiting attachment on chain now instead of waiting until the contact is online
   * (paid: show `attachmentCost` first). Rejects AttachmentError UNKNOWN_ATTACHMENT, or
   * TOO_LARGE over `maxOfflineBytes`.
   */
  sendAttachmentNow(attachmentId: string): Promise<AttachmentView>;
  /**
   * The bytes of a complete attachment, verified against its hash. Rejects AttachmentError
   * INCOMPLETE, HASH_MISMATCH or UNKNOWN_ATTACHMENT.
   */
  attachmentBytes(attachmentId: string): Promise<Uint8Array>;
  /** Subscribes to attachment changes (the listener re-reads what it shows). */
  onAttachment(listener: (attachment: AttachmentView) => void): Unsubscribe;
}

/** The kind a picked file is shown as. */
export function attachmentKindOf(type: string): 'file' | 'image' {
  return /^image\/(png|jpeg|gif|webp)$/.test(type) ? 'image' : 'file';
}

/** A media type the manifest format takes: the browser's, or a neutral one when unknown. */
export function mediaTypeOf(type: string): string {
  const t = type.toLowerCase();
  return /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(t) ? t : 'application/octet-stream';
}

/**
 * What `sendFile` tells the attachment format about `file`: a voice note keeps its recorder's
 * audio type, no name, its length and waveform (checked by the manifest's own rules); any
 * other file is an image or a file by its type.
 */
export function pickedFileInfo(file: PickedFile): {
  readonly kind: 'file' | 'image' | 'voice';
  readonly name: string;
  readonly mediaType: string;
  readonly durationMs?: number;
  readonly waveform?: Uint8Array;
} {
  if (typeof file.type !== 'string') throw new TypeError('"file.type" expected a string');
  if (file.voice !== undefined) {
    const { durationMs, waveform } = file.voice;
    if (!Number.isSafeInteger(durationMs)) throw new TypeError('"file.voice.durationMs" expected an integer');
    if (!(waveform instanceof Uint8Array)) throw new TypeError('"file.voice.waveform" expected a Uint8Array');
    return { kind: 'voice', name: '', mediaType: file.type, durationMs, waveform: waveform.slice() };
  }
  const kind = attachmentKindOf(file.type);
  return { kind, name: file.name, mediaType: kind === 'image' ? file.type : mediaTypeOf(file.type) };
}
