/**
 * In-memory `AppApi` for demos, screenshots and UI tests. It simulates what the engine will
 * do (ticks progressing, contacts connecting, secure delivery with a proof, a balance that
 * drains) with a timer, and holds nothing beyond the page's lifetime.
 *
 * It is not a vault: the password is kept in memory only to compare on unlock, and the
 * recovery key is a real one (25 words, core/identity) of a random seed so the screens show the real shape.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { decodeRecoveryKey, encodeRecoveryKey } from '../core/identity/recovery-key.ts';
import { bytesToHex, bytesToUtf8, randomBytes, utf8ToBytes } from '../util/bytes.ts';
import { notificationValue } from '../core/delivery/chain-tx.ts';
import type { Ed25519PublicKey } from '../core/identity/keys.ts';
import { SafetyNumber, SafetyNumberError } from '../core/safety/safety-number.ts';
import { sameName, trustView, type TrustRecord } from './engine/trust.ts';
import { NO_FLAGS, conversationRank, patchFlags } from './conversation-flags.ts';
import {
  DisappearingSweeper,
  addSetting,
  currentSetting,
  disappearingWords,
  expiresAt,
  isDisappearingSeconds,
  type DisappearingSeconds,
  type TimerSetting,
} from '../core/disappearing/timer.ts';
import { checkAction, firstLine, type MessageAction } from '../core/messages/index.ts';
import { collectHits, hitLimit, queryKey, type SearchHit } from './search.ts';
import {
  AttachmentError,
  describePlan,
  planChain,
  prepareAttachment,
  resolveLimits,
  type ChainPlan,
} from '../core/attachments/index.ts';
import {
  pickedFileInfo,
  type AttachmentCostView,
  type AttachmentLimitsView,
  type AttachmentView,
  type PickedFile,
} from './app-api.ts';
import {
  MAX_MESSAGES_PER_REQUEST,
  MAX_PENDING_REQUESTS,
  MAX_REQUEST_TEXT_BYTES,
} from '../core/requests/requests.ts';
import {
  AppApiError,
  MIN_PASSWORD_LENGTH,
  NETWORK_IDS,
  TOP_UP_URL,
  checkMessageText,
  newestMessages,
  type AppApi,
  type AppEvent,
  type AppSettings,
  type ChatMessage,
  type ConnectionState,
  type ContactId,
  type ContactSummary,
  type ConversationFlags,
  type ConversationFlagsPatch,
  type ConversationSummary,
  type CreatedIdentity,
  type DeliveryBalance,
  type DeliveryProof,
  type DisappearingTimer,
  type IdentitySummary,
  type InvitePreview,
  type SafetyNumberView,
  type MessageId,
  type MessageRequestSummary,
  type NetworkState,
  type NodeView,
  type Unsubscribe,
  type VaultState,
  EDIT_WINDOW_MS,
  REACTIONS,
  type QuotedMessage,
} from './app-api.ts';

/** Options of the fake engine. */
export interface FakeApiOptions {
  /** Milliseconds between simulated steps (connecting, ticks, receipts). @default 400 */
  readonly stepMs?: number;
  /** Starts unlocked with an identity, demo contacts and conversations. @default false */
  readonly seed?: boolean;
  /** Extra messages in the first demo conversation (memory benchmarks). @default 0 */
  readonly seedMessages?: number;
  /** Connected demo contacts answer each message. @default false */
  readonly autoReply?: boolean;
  /** Starting spendable value in sompi. @default 5_000_000_000n (about 240 messages) */
  readonly balance?: bigint;
  /** Clock, injectable for tests. @default Date.now */
  readonly now?: () => number;
}

/** Fee of one offline message: 1-in/2-out with a 200-byte payload at 100 sompi/gram (NOTES §2). */
const COST_PER_MESSAGE = 223_600n;
/** Value a notification output carries until the recipient returns it: the real engine's coin. */
const NOTIFICATION_VALUE = notificationValue();
/** Default node addresses: the wRPC JSON ports of FACTS §6.1 on this machine. */
const DEFAULT_NODE_URL: Record<AppSettings['network'], string> = {
  local: 'ws://127.0.0.1:18610',
  'testnet-10': 'ws://127.0.0.1:18210',
  mainnet: 'ws://127.0.0.1:18110',
};
/** A blue score already past Toccata activation on mainnet (FACTS §1), so proofs look real. */
const BASE_DAA_SCORE = 474_200_000n;

interface Contact {
  id: ContactId;
  displayName: string;
  fingerprint: string;
  /** Stands in for the identity key: what the safety number and the verified mark are of. */
  identityKey: Uint8Array;
  connection: ConnectionState;
  unread: number;
}

interface StoredMessage {
  id: MessageId;
  contactId: ContactId;
  outgoing: boolean;
  text: string;
  sentAt: number;
  status: ChatMessage['status'];
  route?: ChatMessage['route'];
  /** A line saying the disappearing timer changed (to these seconds), not a message. */
  timer?: { seconds: DisappearingSeconds; by: 'you' | 'contact' };
  proof?: { txId: string; blockHash: string; daaScore: bigint; acceptedAt: number; receipt: boolean };
  /** Message actions, applied in place (the fake keeps no action records). */
  replyTo?: MessageId;
  forwarded?: boolean;
  edited?: boolean;
  deleted?: boolean;
  /** The latest reaction of each side (1..6, as the wire numbers them). */
  reactions?: { in?: number; out?: number };
}

interface Identity {
  displayName: string;
  fingerprint: string;
  password: string;
  words: string;
}

const toBase64Url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');

function fromBase64Url(text: string): Uint8Array {
  const bin = atob(text.replaceAll('-', '+').replaceAll('_', '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** The stand-in identity key of a fake fingerprint (32 bytes, as the real key). */
function keyOf(fingerprint: string): Uint8Array {
  return sha256(utf8ToBytes(`p2pcomm-fake-identity/${fingerprint}`));
}

/** "5f3a 91c0 7be2 44d1": 8 bytes of a hash, grouped for reading aloud. */
function fingerprintOf(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes).subarray(0, 8)).replace(/(.{4})(?!$)/g, '$1 ');
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 64) {
    throw new AppApiError('BAD_NAME', 'A name needs 1 to 64 characters');
  }
  return trimmed;
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AppApiError('WEAK_PASSWORD', `A password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  }
}

/** The message-action fields of a message's view (absent when not set). */
function actionView(m: StoredMessage, quote: QuotedMessage | undefined): Partial<ChatMessage> {
  const counts = new Map<number, { count: number; mine: boolean }>();
  for (const [side, r] of Object.entries(m.reactions ?? {}))
    if (r !== undefined && r > 0) {
      const c = counts.get(r) ?? { count: 0, mine: false };
      counts.set(r, { count: c.count + 1, mine: c.mine || side === 'out' });
    }
  const reactions = [...counts]
    .sort((a, b) => a[0] - b[0])
    .map(([r, c]) => ({ emoji: REACTIONS[r - 1]!, ...c }));
  return {
    ...(quote === undefined ? {} : { replyTo: quote }),
    ...(reactions.length === 0 ? {} : { reactions }),
    ...(m.edited === true ? { edited: true } : {}),
    ...(m.deleted === true ? { deleted: true } : {}),
    ...(m.forwarded === true ? { forwarded: true } : {}),
  };
}

/** The in-memory `AppApi`. */
export class FakeApi implements AppApi {
  readonly #stepMs: number;
  readonly #autoReply: boolean;
  readonly #now: () => number;
  readonly #listeners = new Set<(event: AppEvent) => void>();
  #identity: Identity | undefined;
  #unlocked = false;
  readonly #contacts = new Map<ContactId, Contact>();
  readonly #trust = new Map<ContactId, TrustRecord>();
  readonly #flags = new Map<ContactId, ConversationFlags>();
  readonly #messages = new Map<ContactId, StoredMessage[]>();
  readonly #byId = new Map<MessageId, StoredMessage>();
  /** Message requests, oldest first, as the real engine bounds them (core/requests). */
  readonly #requests = new Map<
    ContactId,
    { displayName: string; fingerprint: string; messages: { id: MessageId; text: string; sentAt: number }[] }
  >();
  /** Blocked senders, by fingerprint. */
  readonly #blocked = new Set<string>();
  /** Conversations deleted and empty since: not listed until a new message comes. */
  readonly #cleared = new Set<ContactId>();
  /** Disappearing-timer settings by conversation (core/disappearing), oldest first. */
  readonly #timers = new Map<ContactId, TimerSetting[]>();
  #sweeper: DisappearingSweeper | undefined;
  /** Added to the clock by `advanceClock` (demos and tests of expiry). */
  #shift = 0;
  #spendable: bigint;
  #locked = 0n;
  #p2pOnly = false;
  #network: NetworkState = 'online';
  #settings: AppSettings = {
    network: 'local',
    nodeUrls: [DEFAULT_NODE_URL.local],
    iceServers: [],
    batching: false,
    readReceipts: true,
    notificationText: false,
  };
  #counter = 0;

  constructor(options: FakeApiOptions = {}) {
    this.#stepMs = options.stepMs ?? 400;
    this.#autoReply = options.autoReply ?? false;
    const clock = options.now ?? Date.now;
    this.#now = () => clock() + this.#shift;
    this.#spendable = options.balance ?? 5_000_000_000n;
    if (options.seed === true) this.#seed(options.seedMessages ?? 0);
  }

  // --- vault ---------------------------------------------------------------------------

  vaultState(): VaultState {
    const id = this.#identity;
    if (id === undefined) return { kind: 'empty' };
    if (!this.#unlocked) return { kind: 'locked', displayName: id.displayName };
    return { kind: 'unlocked', identity: { displayName: id.displayName, fingerprint: id.fingerprint } };
  }

  async createIdentity(displayName: string, password: string): Promise<CreatedIdentity> {
    if (this.#identity !== undefined)
      throw new AppApiError('IDENTITY_EXISTS', 'An identity already exists here');
    const name = checkName(displayName);
    checkPassword(password);
    // The real recovery key's shape: 25 words, the last a check word (core/identity).
    const seed = randomBytes(32);
    const words = encodeRecoveryKey(seed);
    this.#identity = { displayName: name, fingerprint: fingerprintOf(seed), password, words };
    this.#unlocked = true;
    this.#emitVault();
    return Promise.resolve({ identity: this.#summary(), recoveryWords: words.split(' ') });
  }

  async unlock(password: string): Promise<IdentitySummary> {
    const id = this.#identity;
    if (id === undefined) throw new AppApiError('NO_IDENTITY', 'No identity on this device');
    // The engine runs a memory-hard KDF here (NOTES §5); a wrong password changes nothing.
    await this.#delay(Math.min(this.#stepMs, 300));
    if (password !== id.password) throw new AppApiError('WRONG_PASSWORD', 'Wrong password');
    this.#unlocked = true;
    this.#emitVault();
    return this.#summary();
  }

  async lock(): Promise<void> {
    this.#unlocked = false;
    this.#emitVault();
    return Promise.resolve();
  }

  /** The fake lives in one tab and keeps nothing: no other window can hold it. */
  async useHere(): Promise<void> {
    return Promise.resolve();
  }

  passInvite(code: string): void {
    if (typeof code !== 'string') throw new TypeError('"code" expected a string');
  }

  async restore(recoveryWords: string, displayName: string, newPassword: string): Promise<IdentitySummary> {
    let seed: Uint8Array;
    try {
      seed = decodeRecoveryKey(recoveryWords);
    } catch (cause) {
      throw new AppApiError('BAD_RECOVERY_KEY', 'These words are not a valid recovery key', { cause });
    }
    const name = checkName(displayName);
    checkPassword(newPassword);
    this.#identity = {
      displayName: name,
      fingerprint: fingerprintOf(seed),
      password: newPassword,
      words: encodeRecoveryKey(seed),
    };
    this.#unlocked = true;
    this.#emitVault();
    return Promise.resolve(this.#summary());
  }

  // --- contacts --------------------------------------------------------------------------

  async myInviteCode(): Promise<string> {
    const id = this.#requireUnlocked();
    return Promise.resolve(
      toBase64Url(
        utf8ToBytes(
          JSON.stringify({ v: 1, n: id.displayName, f: id.fingerprint, w: this.#settings.network }),
        ),
      ),
    );
  }

  async previewInvite(code: string): Promise<InvitePreview> {
    const preview = this.#decodeInvite(code);
    const known = [...this.#contacts.values()].find((c) => c.fingerprint === preview.fingerprint);
    return Promise.resolve(known === undefined ? preview : { ...preview, contactId: known.id });
  }

  async addContact(code: string): Promise<ContactSummary> {
    const preview = this.#decodeInvite(code);
    const existing = [...this.#contacts.values()].find((c) => c.fingerprint === preview.fingerprint);
    if (existing !== undefined) return Promise.resolve(this.#contactSummary(existing));
    // The same rule as the real engine: a new key under a known name is warned about.
    const namesake = [...this.#contacts.values()].find((c) => sameName(c.displayName, preview.displayName));
    const contact = this.#addContact(preview.displayName, preview.fingerprint, 'connecting');
    if (namesake !== undefined) this.#trust.set(contact.id, { sameNameAs: namesake.id });
    this.#later(3, () => this.#setConnection(contact, 'connected'));
    this.#emit({ type: 'conversations' });
    return Promise.resolve(this.#contactSummary(contact));
  }

  async contact(id: ContactId): Promise<ContactSummary> {
    return Promise.resolve(this.#contactSummary(this.#requireContact(id)));
  }

  // --- delete and block (issue 15) ---------------------------------------------------------

  async deleteConversation(id: ContactId, options: { readonly contact?: boolean } = {}): Promise<void> {
    this.#requireUnlocked();
    const contact = this.#requireContact(id);
    // As the engine: a message still on its way stays until it is delivered.
    const kept = (this.#messages.get(id) ?? []).filter(
      (m) => m.outgoing && m.status !== 'delivered' && m.status !== 'read',
    );
    for (const m of this.#messages.get(id) ?? []) if (!kept.includes(m)) this.#byId.delete(m.id);
    this.#messages.set(id, kept);
    contact.unread = 0;
    this.#cleared.add(id);
    if (options.contact === true) {
      this.#contacts.delete(id);
      this.#messages.delete(id);
      this.#trust.delete(id);
      this.#flags.delete(id);
      this.#cleared.delete(id);
    }
    this.#emit({ type: 'conversations' });
    return Promise.resolve();
  }

  async blockContact(id: ContactId): Promise<void> {
    this.#requireUnlocked();
    const contact = this.#requireContact(id);
    if (!this.#blocked.has(contact.fingerprint)) {
      this.#blocked.add(contact.fingerprint);
      this.#setConnection(contact, 'offline');
      this.#emit({ type: 'conversations' });
    }
    return Promise.resolve();
  }

  async unblockContact(id: ContactId): Promise<void> {
    this.#requireUnlocked();
    const contact = this.#requireContact(id);
    if (this.#blocked.delete(contact.fingerprint)) this.#emit({ type: 'conversations' });
    return Promise.resolve();
  }

  async blockedContacts(): Promise<readonly ContactSummary[]> {
    this.#requireUnlocked();
    return Promise.resolve(
      [...this.#contacts.values()]
        .filter((c) => this.#blocked.has(c.fingerprint))
        .map((c) => this.#contactSummary(c)),
    );
  }

  // --- disappearing messages ------------------------------------------------------------------

  async disappearing(id: ContactId): Promise<DisappearingTimer> {
    this.#requireUnlocked();
    this.#requireContact(id);
    return Promise.resolve(this.#timerView(id));
  }

  async setDisappearing(id: ContactId, seconds: number): Promise<DisappearingTimer> {
    this.#requireUnlocked();
    this.#requireContact(id);
    if (!isDisappearingSeconds(seconds))
      throw new AppApiError('BAD_SETTING', 'disappearing: choose off, 5 minutes, 1 hour, 1 day or 1 week');
    this.#applyTimer(id, { id: randomBytes(16), setAt: this.#now(), seconds, by: 'me' });
    return Promise.resolve(this.#timerView(id));
  }

  async safetyNumber(id: ContactId): Promise<SafetyNumberView> {
    const n = this.#safetyNumberOf(this.#requireContact(id));
    return Promise.resolve({ groups: n.groups, scanCode: n.scanText() });
  }

  async verifyContact(id: ContactId, scannedOrTyped: string): Promise<'match' | 'mismatch'> {
    const contact = this.#requireContact(id);
    let result: 'match' | 'mismatch';
    try {
      result = this.#safetyNumberOf(contact).check(scannedOrTyped);
    } catch (cause) {
      if (cause instanceof SafetyNumberError)
        throw new AppApiError('BAD_SAFETY_CODE', 'This is not a safety number or its code', { cause });
      throw cause;
    }
    if (result === 'match') {
      this.#trust.set(id, { verifiedKey: contact.identityKey.slice() });
      this.#emit({ type: 'conversations' });
    }
    return Promise.resolve(result);
  }

  async unverifyContact(id: ContactId): Promise<void> {
    this.#requireContact(id);
    if (this.#trust.get(id)?.verifiedKey === undefined) return Promise.resolve();
    this.#trust.delete(id);
    this.#emit({ type: 'conversations' });
    return Promise.resolve();
  }

  // --- conversations ---------------------------------------------------------------------

  async conversations(): Promise<readonly ConversationSummary[]> {
    this.#requireUnlocked();
    const rows = [...this.#contacts.values()]
      .filter((c) => !this.#cleared.has(c.id) || (this.#messages.get(c.id)?.length ?? 0) > 0)
      .map((c) => this.#row(c));
    rows.sort(conversationRank);
    return Promise.resolve(rows);
  }

  async conversation(id: ContactId): Promise<ConversationSummary> {
    this.#requireUnlocked();
    return Promise.resolve(this.#row(this.#requireContact(id)));
  }

  #row(c: Contact): ConversationSummary {
    const last = this.#messages.get(c.id)?.at(-1);
    const flags = this.#flags.get(c.id);
    const summary = {
      contact: this.#contactSummary(c),
      unread: c.unread,
      ...(flags !== undefined && { flags }),
    };
    return last === undefined
      ? summary
      : { ...summary, last: { text: last.text, at: last.sentAt, outgoing: last.outgoing } };
  }

  async search(query: string, options: { readonly limit?: number } = {}): Promise<readonly SearchHit[]> {
    this.#requireUnlocked();
    const key = queryKey(query);
    const limit = hitLimit(options.limit);
    const rows = [...this.#contacts.values()].map((c) => ({
      contact: () => this.#contactSummary(c),
      messages: this.#messages.get(c.id) ?? [],
    }));
    return Promise.resolve(
      collectHits(
        rows,
        key,
        limit,
        (m) => m.text,
        (m) => this.#view(m),
      ),
    );
  }

  async setConversationFlags(id: ContactId, patch: ConversationFlagsPatch): Promise<ConversationFlags> {
    this.#requireUnlocked();
    this.#requireContact(id);
    const next = patchFlags(this.#flags.get(id) ?? NO_FLAGS, patch);
    this.#flags.set(id, next);
    this.#emit({ type: 'conversations' });
    return Promise.resolve(next);
  }

  async messageRequests(): Promise<readonly MessageRequestSummary[]> {
    this.#requireUnlocked();
    const rows = [...this.#requests].map(([id, r]) => ({
      id,
      displayName: r.displayName,
      fingerprint: r.fingerprint,
      messages: [...r.messages],
    }));
    rows.sort((a, b) => (b.messages.at(-1)?.sentAt ?? 0) - (a.messages.at(-1)?.sentAt ?? 0));
    return Promise.resolve(rows);
  }

  async acceptRequest(id: ContactId): Promise<ContactSummary> {
    this.#requireUnlocked();
    const r = this.#requests.get(id);
    if (r === undefined) throw new AppApiError('UNKNOWN_REQUEST', 'No such message request');
    this.#requests.delete(id);
    const contact: Contact = {
      id,
      displayName: r.displayName,
      fingerprint: r.fingerprint,
      identityKey: keyOf(r.fingerprint),
      connection: 'offline',
      unread: 0,
    };
    this.#contacts.set(id, contact);
    for (const m of r.messages) {
      const stored = this.#store(id, false, m.text, m.sentAt, 'delivered');
      stored.route = 'secure';
      contact.unread++;
    }
    this.#emit({ type: 'requests' });
    this.#emit({ type: 'conversations' });
    return Promise.resolve(this.#contactSummary(contact));
  }

  async blockRequest(id: ContactId): Promise<void> {
    this.#requireUnlocked();
    const r = this.#requests.get(id);
    if (r !== undefined) {
      this.#blocked.add(r.fingerprint);
      this.#requests.delete(id);
      this.#emit({ type: 'requests' });
    }
    return Promise.resolve();
  }

  async deleteRequest(id: ContactId): Promise<void> {
    this.#requireUnlocked();
    if (!this.#requests.delete(id)) throw new AppApiError('UNKNOWN_REQUEST', 'No such message request');
    this.#emit({ type: 'requests' });
    return Promise.resolve();
  }

  async messages(id: ContactId, options: { readonly limit?: number } = {}): Promise<readonly ChatMessage[]> {
    this.#requireUnlocked();
    this.#requireContact(id);
    // Enforced on every read: nothing past its time is shown, even between sweeps.
    this.#sweep();
    const all = this.#messages.get(id) ?? [];
    return Promise.resolve(newestMessages(all, options.limit).map((m) => this.#view(m)));
  }

  async send(id: ContactId, text: string): Promise<ChatMessage> {
    this.#requireUnlocked();
    const contact = this.#requireContact(id);
    checkMessageText(text);
    const m = this.#store(contact.id, true, text, this.#now(), 'sending');
    this.#later(1, () => this.#dispatch(m));
    return Promise.resolve(this.#view(m));
  }

  async markRead(id: ContactId): Promise<void> {
    const contact = this.#requireContact(id);
    if (contact.unread !== 0) {
      contact.unread = 0;
      this.#emit({ type: 'conversations' });
    }
    return Promise.resolve();
  }

  /** The demo's contacts have no direct link to tell; only the contact is checked. */
  async typing(id: ContactId, _active: boolean): Promise<void> {
    this.#requireContact(id);
    return Promise.resolve();
  }

  async retry(id: MessageId): Promise<void> {
    const m = this.#byId.get(id);
    if (m === undefined || !m.outgoing) throw new AppApiError('UNKNOWN_MESSAGE', 'No such message');
    if (m.status === 'failed') {
      this.#update(m, { status: 'sending' });
      this.#later(1, () => this.#dispatch(m));
    }
    return Promise.resolve();
  }

  async deliveryProof(id: MessageId): Promise<DeliveryProof | null> {
    const m = this.#byId.get(id);
    if (m === undefined) throw new AppApiError('UNKNOWN_MESSAGE', 'No such message');
    const p = m.proof;
    if (p === undefined) return Promise.resolve(null);
    // 10 blocks per second since acceptance stand in for confirmations (FACTS: 10 BPS).
    const confirmations = Math.max(0, Math.floor((this.#now() - p.acceptedAt) / 100));
    return Promise.resolve({
      messageId: m.id,
      network: this.#settings.network,
      txId: p.txId,
      acceptingBlockHash: p.blockHash,
      acceptingDaaScore: p.daaScore,
      confirmations,
      receiptReceived: p.receipt,
    });
  }

  // --- balance and settings ----------------------------------------------------------------

  async balance(): Promise<DeliveryBalance> {
    return Promise.resolve(this.#balance());
  }

  async setP2pOnly(on: boolean): Promise<DeliveryBalance> {
    this.#p2pOnly = on;
    const b = this.#balance();
    this.#emit({ type: 'balance', balance: b });
    if (!on) for (const m of this.#byId.values()) if (m.status === 'sending') this.#dispatch(m);
    return Promise.resolve(b);
  }

  async settings(): Promise<AppSettings> {
    return Promise.resolve(this.#settings);
  }

  async updateSettings(patch: Partial<AppSettings>): Promise<AppSettings> {
    const next = { ...this.#settings, ...patch };
    for (const key of ['batching', 'readReceipts', 'notificationText'] as const)
      if (typeof next[key] !== 'boolean') throw new AppApiError('BAD_SETTING', `${key}: expected on or off`);
    if (!NETWORK_IDS.includes(next.network)) throw new AppApiError('BAD_SETTING', 'network: unknown network');
    for (const url of next.nodeUrls) {
      if (!/^wss?:\/\/[^\s/]+/.test(url))
        throw new AppApiError('BAD_SETTING', `nodeUrls: not a ws:// address: ${url}`);
    }
    if (
      patch.network !== undefined &&
      patch.network !== this.#settings.network &&
      patch.nodeUrls === undefined
    ) {
      next.nodeUrls = [DEFAULT_NODE_URL[patch.network]];
    }
    this.#settings = next;
    this.#emit({ type: 'settings', settings: next });
    this.#emit({ type: 'balance', balance: this.#balance() });
    return Promise.resolve(next);
  }

  networkState(): NetworkState {
    // The fake has no network to lose; `setNetworkState` plays losing it.
    return this.#network;
  }

  nodeView(): Promise<NodeView> {
    const online = this.#network === 'online';
    const nodes = this.#settings.nodeUrls.map((url, i) => ({
      url,
      state: online && i === 0 ? ('up' as const) : ('connecting' as const),
    }));
    const first = this.#settings.nodeUrls[0];
    return Promise.resolve({
      nodes,
      ...(online && first !== undefined ? { current: first, lastDaaScore: 1_000_000n } : {}),
      synced: online,
      publicNodeUrls: [],
    });
  }

  async fundingAddress(): Promise<string> {
    this.#requireUnlocked();
    // A fixed demo address: the fake holds no keys.
    return Promise.resolve('kaspasim:qqzrk3a4acjla3zc9ngr37u4grtkr0k0mqf6qhmd9lteks00av6ass27ptvdg');
  }

  async exportBackup(): Promise<Uint8Array> {
    const id = this.#requireUnlocked();
    // A real backup is encrypted under the vault key; the fake's is a marked JSON document.
    const doc = { format: 'p2pcomm-fake-backup', v: 1, name: id.displayName, words: id.words };
    return Promise.resolve(utf8ToBytes(JSON.stringify(doc)));
  }

  async importBackup(file: Uint8Array, password: string): Promise<IdentitySummary> {
    let doc: unknown;
    try {
      doc = JSON.parse(bytesToUtf8(file));
    } catch (cause) {
      throw new AppApiError('BAD_BACKUP', 'Not a backup file', { cause });
    }
    if (
      typeof doc !== 'object' ||
      doc === null ||
      !('format' in doc && doc.format === 'p2pcomm-fake-backup') ||
      !('name' in doc && typeof doc.name === 'string') ||
      !('words' in doc && typeof doc.words === 'string')
    ) {
      throw new AppApiError('BAD_BACKUP', 'Not a backup file');
    }
    return this.restore(doc.words, doc.name, password);
  }

  async checkForMessages(): Promise<void> {
    // Everything the fake knows is already in memory; expired messages go now.
    this.#requireUnlocked();
    this.#sweep();
    return Promise.resolve();
  }

  // --- message actions (AppApi MessageActions) ----------------------------------------------

  async reply(id: ContactId, text: string, replyTo: MessageId): Promise<ChatMessage> {
    this.#requireUnlocked();
    const contact = this.#requireContact(id);
    checkMessageText(text);
    const original = this.#byId.get(replyTo);
    if (original === undefined || original.contactId !== id)
      throw new AppApiError('UNKNOWN_MESSAGE', 'The message replied to is not in this conversation');
    const m = this.#store(contact.id, true, text, this.#now(), 'sending');
    m.replyTo = replyTo;
    this.#later(1, () => this.#dispatch(m));
    return Promise.resolve(this.#view(m));
  }

  async react(messageId: MessageId, emoji: string | null): Promise<ChatMessage> {
    const m = this.#requireMessage(messageId);
    const reaction = emoji === null ? 0 : REACTIONS.indexOf(emoji) + 1;
    if (reaction === 0 && emoji !== null) throw new AppApiError('BAD_REACTION', 'Not one of the reactions');
    if (m.deleted === true) throw new AppApiError('DELETED', 'This message was deleted');
    m.reactions = { ...m.reactions, out: reaction };
    this.#changed(m);
    return Promise.resolve(this.#view(m));
  }

  async edit(messageId: MessageId, text: string): Promise<ChatMessage> {
    const m = this.#requireMessage(messageId);
    if (!m.outgoing) throw new AppApiError('NOT_YOURS', 'Only your own messages can be edited');
    if (m.deleted === true) throw new AppApiError('DELETED', 'This message was deleted');
    if (this.#now() - m.sentAt > EDIT_WINDOW_MS)
      throw new AppApiError('EDIT_WINDOW', 'Messages can be edited for 24 hours after sending');
    checkMessageText(text);
    m.text = text;
    m.edited = true;
    this.#changed(m);
    return Promise.resolve(this.#view(m));
  }

  async deleteForEveryone(messageId: MessageId): Promise<ChatMessage> {
    const m = this.#requireMessage(messageId);
    if (!m.outgoing) throw new AppApiError('NOT_YOURS', 'Only your own messages can be deleted for everyone');
    m.text = '';
    m.deleted = true;
    delete m.reactions;
    delete m.edited;
    this.#changed(m);
    return Promise.resolve(this.#view(m));
  }

  async deleteForMe(messageId: MessageId): Promise<void> {
    const m = this.#requireMessage(messageId);
    const list = this.#messages.get(m.contactId) ?? [];
    list.splice(list.indexOf(m), 1);
    this.#byId.delete(m.id);
    this.#emit({ type: 'message-removed', contactId: m.contactId, id: m.id });
    this.#quotingChanged(m);
    this.#emit({ type: 'conversations' });
    return Promise.resolve();
  }

  async forward(messageId: MessageId, to: readonly ContactId[]): Promise<readonly ChatMessage[]> {
    const m = this.#requireMessage(messageId);
    if (m.deleted === true) throw new AppApiError('DELETED', 'This message was deleted');
    const contacts = to.map((id) => this.#requireContact(id));
    const sent = contacts.map((c) => {
      const copy = this.#store(c.id, true, m.text, this.#now(), 'sending');
      copy.forwarded = true;
      this.#emit({ type: 'message', message: this.#view(copy) });
      this.#later(1, () => this.#dispatch(copy));
      return this.#view(copy);
    });
    this.#emit({ type: 'conversations' });
    return Promise.resolve(sent);
  }

  /**
   * Simulates a contact's action on a message of the conversation (demos and tests): the
   * same rules as the engine's (core/messages `checkAction`), so a refused one throws
   * MessageActionError and changes nothing. `text` is an edit's new text.
   */
  receiveAction(id: ContactId, action: MessageAction, text = ''): void {
    this.#requireContact(id);
    const target = action.kind === 'forwarded' ? undefined : this.#byId.get(action.target as MessageId);
    const record =
      target === undefined || target.contactId !== id
        ? undefined
        : {
            direction: target.outgoing ? ('out' as const) : ('in' as const),
            id: target.id,
            sentAt: target.sentAt,
            text: target.text,
          };
    checkAction('in', action, this.#now(), record, target?.deleted === true);
    if (target === undefined) return;
    if (action.kind === 'reaction') target.reactions = { ...target.reactions, in: action.reaction };
    else if (action.kind === 'edit') {
      checkMessageText(text);
      target.text = text;
      target.edited = true;
    } else if (action.kind === 'delete') {
      target.text = '';
      target.deleted = true;
      delete target.reactions;
      delete target.edited;
    }
    this.#changed(target);
  }

  #requireMessage(messageId: MessageId): StoredMessage {
    this.#requireUnlocked();
    const m = this.#byId.get(messageId);
    if (m === undefined) throw new AppApiError('UNKNOWN_MESSAGE', 'No such message');
    return m;
  }

  /** Shows `m` again, with every reply quoting it (their quotes follow it). */
  #changed(m: StoredMessage): void {
    this.#emit({ type: 'message', message: this.#view(m) });
    this.#quotingChanged(m);
    this.#emit({ type: 'conversations' });
  }

  #quotingChanged(m: StoredMessage): void {
    for (const r of this.#messages.get(m.contactId) ?? [])
      if (r.replyTo === m.id) this.#emit({ type: 'message', message: this.#view(r) });
  }

  #quote(m: StoredMessage): QuotedMessage | undefined {
    if (m.replyTo === undefined) return undefined;
    const t = this.#byId.get(m.replyTo);
    if (t === undefined) return { id: m.replyTo, held: false };
    return {
      id: t.id,
      held: true,
      outgoing: t.outgoing,
      text: firstLine(t.text),
      deleted: t.deleted === true,
    };
  }

  subscribe(listener: (event: AppEvent) => void): Unsubscribe {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // --- demo controls (not part of AppApi) --------------------------------------------------

  /**
   * Simulates an incoming message from a contact (demos and tests). From a blocked contact it
   * is dropped, as the engine drops it: returned, but neither stored nor shown.
   */
  receive(id: ContactId, text: string): ChatMessage {
    const contact = this.#requireContact(id);
    if (this.#blocked.has(contact.fingerprint))
      return {
        id: `m${++this.#counter}` as MessageId,
        contactId: id,
        outgoing: false,
        text,
        sentAt: this.#now(),
        status: 'delivered',
        hasProof: false,
      };
    const m = this.#store(contact.id, false, text, this.#now(), 'delivered');
    m.route = contact.connection === 'connected' ? 'direct' : 'secure';
    contact.unread++;
    this.#emit({ type: 'message', message: this.#view(m) });
    this.#emit({ type: 'conversations' });
    return this.#view(m);
  }

  /**
   * Simulates a first message from someone who holds this user's card but is not a contact
   * (demos and tests): it waits as a message request, bounded as the engine bounds them.
   * Returns the request id, or undefined when the sender is blocked.
   */
  receiveFromStranger(displayName: string, text: string, fingerprint?: string): ContactId | undefined {
    this.#requireUnlocked();
    const f = fingerprint ?? fingerprintOf(utf8ToBytes(displayName));
    if (this.#blocked.has(f)) return undefined;
    const known = [...this.#contacts.values()].find((c) => c.fingerprint === f);
    if (known !== undefined) {
      this.receive(known.id, text);
      return known.id;
    }
    let entry = [...this.#requests].find(([, r]) => r.fingerprint === f);
    if (entry === undefined) {
      const oldest = this.#requests.keys().next();
      if (this.#requests.size >= MAX_PENDING_REQUESTS && oldest.done !== true)
        this.#requests.delete(oldest.value);
      entry = [`r${++this.#counter}` as ContactId, { displayName, fingerprint: f, messages: [] }];
      this.#requests.set(...entry);
    }
    const messages = entry[1].messages;
    messages.push({ id: `m${++this.#counter}` as MessageId, text, sentAt: this.#now() });
    const bytes = (): number => messages.reduce((n, m) => n + utf8ToBytes(m.text).length, 0);
    while (
      messages.length > MAX_MESSAGES_PER_REQUEST ||
      (messages.length > 1 && bytes() > MAX_REQUEST_TEXT_BYTES)
    )
      messages.shift();
    this.#emit({ type: 'requests' });
    return entry[0];
  }

  /**
   * Adds `contacts` contacts with `messagesEach` messages each, a minute apart, for scale
   * figures (bench/web.bench.ts) and tests; returns the ids added.
   */
  seedScale(contacts: number, messagesEach: number): ContactId[] {
    this.#requireUnlocked();
    const ids: ContactId[] = [];
    const t0 = this.#now() - contacts * messagesEach * 60_000;
    for (let i = 0; i < contacts; i++) {
      const c = this.#addContact(`Contact ${i + 1}`, fingerprintOf(utf8ToBytes(`scale/${i}`)), 'offline');
      for (let j = 0; j < messagesEach; j++) {
        const m = this.#store(
          c.id,
          j % 2 === 0,
          `Note ${j + 1} for contact ${i + 1}`,
          t0 + (i * messagesEach + j) * 60_000,
          'read',
        );
        m.route = 'direct';
      }
      ids.push(c.id);
    }
    this.#emit({ type: 'conversations' });
    return ids;
  }

  /**
   * Simulates the contact changing the disappearing timer (demos and tests); `setAt` (their
   * clock) defaults to now, and an older one than the current setting changes nothing but the
   * line that says so (the newest setting wins, core/disappearing).
   */
  contactSetsDisappearing(id: ContactId, seconds: DisappearingSeconds, setAt?: number): DisappearingTimer {
    this.#requireContact(id);
    this.#applyTimer(id, { id: randomBytes(16), setAt: setAt ?? this.#now(), seconds, by: 'contact' });
    return this.#timerView(id);
  }

  /** Moves the fake's clock forward (demos and tests of expiry). */
  advanceClock(ms: number): void {
    if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError('"ms" expected a non-negative integer');
    this.#shift += ms;
  }

  /** Simulates this device reaching the network or not (demos and tests). */
  setNetworkState(state: NetworkState): void {
    if (this.#network === state) return;
    this.#network = state;
    this.#emit({ type: 'network', state });
  }

  /** Simulates a contact going online, connecting or offline (demos and tests). */
  setConnection(id: ContactId, state: ConnectionState): void {
    this.#setConnection(this.#requireContact(id), state);
  }

  /**
   * What the contact's device shows on its Verify screen (the fake plays both sides), so a
   * test or demo can "scan" it (demos and tests).
   */
  contactSafetyCode(id: ContactId): string {
    const contact = this.#requireContact(id);
    return SafetyNumber.of(
      { identityKey: contact.identityKey as Ed25519PublicKey },
      { identityKey: this.#ownKey() },
    ).scanText();
  }

  /** Simulates a contact whose identity key changes in place (a future device-key change). */
  changeContactKey(id: ContactId): void {
    const contact = this.#requireContact(id);
    contact.identityKey = keyOf(`${contact.fingerprint}/${++this.#counter}`);
    this.#emit({ type: 'conversations' });
  }

  // --- internals ---------------------------------------------------------------------------

  #timerView(id: ContactId): DisappearingTimer {
    const s = currentSetting(this.#timers.get(id) ?? []);
    return s === undefined
      ? { seconds: 0 }
      : { seconds: s.seconds, setBy: s.by === 'me' ? 'you' : 'contact', setAt: s.setAt };
  }

  /** Records a setting and the line both sides show; the sweeper runs from the first one. */
  #applyTimer(id: ContactId, setting: TimerSetting): void {
    const contact = this.#requireContact(id);
    this.#timers.set(id, addSetting(this.#timers.get(id) ?? [], setting));
    const who = setting.by === 'me' ? 'You' : contact.displayName;
    const line = this.#store(
      id,
      setting.by === 'me',
      `${who} set disappearing messages to ${disappearingWords(setting.seconds)}`,
      setting.setAt,
      'delivered',
    );
    line.timer = { seconds: setting.seconds, by: setting.by === 'me' ? 'you' : 'contact' };
    // A late, older setting takes its place in the order it was made.
    this.#messages.get(id)?.sort((a, b) => a.sentAt - b.sentAt);
    this.#sweeper ??= new DisappearingSweeper(
      {
        nextExpiry: () => Promise.resolve(this.#nextExpiry()),
        deleteExpired: () => Promise.resolve(this.#sweep()),
      },
      () => this.#now(),
    );
    void this.#sweeper.sweep();
    this.#emit({ type: 'messages-removed', contactId: id });
    this.#emit({ type: 'conversations' });
  }

  #expiry(m: StoredMessage): number | undefined {
    // The lines that say the timer changed stay: they are the record of the agreement.
    if (m.timer !== undefined) return undefined;
    return expiresAt(this.#timers.get(m.contactId) ?? [], {
      direction: m.outgoing ? 'out' : 'in',
      sentAt: m.sentAt,
    });
  }

  #nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const list of this.#messages.values())
      for (const m of list) {
        const at = this.#expiry(m);
        if (at !== undefined && (next === undefined || at < next)) next = at;
      }
    return next;
  }

  /** Deletes every expired message; returns how many went. */
  #sweep(): number {
    const now = this.#now();
    let count = 0;
    for (const [id, list] of this.#messages) {
      // As the engine: a message still on its way goes once it is delivered.
      const kept = list.filter((m) => {
        const at = this.#expiry(m);
        const onItsWay = m.outgoing && m.status !== 'delivered' && m.status !== 'read';
        return at === undefined || at > now || onItsWay;
      });
      if (kept.length === list.length) continue;
      for (const m of list) if (!kept.includes(m)) this.#byId.delete(m.id);
      count += list.length - kept.length;
      this.#messages.set(id, kept);
      this.#emit({ type: 'messages-removed', contactId: id });
      this.#emit({ type: 'conversations' });
    }
    return count;
  }

  #ownKey(): Ed25519PublicKey {
    return keyOf(this.#requireIdentity().fingerprint) as Ed25519PublicKey;
  }

  #safetyNumberOf(contact: Contact): SafetyNumber {
    return SafetyNumber.of(
      { identityKey: this.#ownKey() },
      { identityKey: contact.identityKey as Ed25519PublicKey },
    );
  }

  #dispatch(m: StoredMessage): void {
    if (m.status !== 'sending') return;
    const contact = this.#contacts.get(m.contactId);
    if (contact === undefined) return;
    if (contact.connection === 'connected') {
      this.#update(m, { status: 'sent', route: 'direct' });
      this.#later(1, () => this.#update(m, { status: 'delivered' }));
      if (this.#settings.readReceipts) this.#later(2, () => this.#update(m, { status: 'read' }));
      if (this.#autoReply) this.#later(3, () => this.receive(contact.id, `Got it: "${m.text.slice(0, 40)}"`));
      return;
    }
    // Offline: secure delivery unless P2P-only or out of balance; then it waits for a link.
    if (this.#p2pOnly || this.#spendable < COST_PER_MESSAGE + NOTIFICATION_VALUE) return;
    this.#spendable -= COST_PER_MESSAGE + NOTIFICATION_VALUE;
    this.#locked += NOTIFICATION_VALUE;
    m.proof = {
      txId: bytesToHex(randomBytes(32)),
      blockHash: bytesToHex(randomBytes(32)),
      daaScore: BASE_DAA_SCORE + BigInt(this.#counter),
      acceptedAt: this.#now(),
      receipt: false,
    };
    this.#update(m, { status: 'sent', route: 'secure' });
    this.#emit({ type: 'balance', balance: this.#balance() });
  }

  #setConnection(contact: Contact, state: ConnectionState): void {
    if (contact.connection === state) return;
    contact.connection = state;
    this.#emit({ type: 'connection', contactId: contact.id, state });
    if (state !== 'connected') return;
    // A link is up: waiting messages go now, and pending secure deliveries get receipts.
    for (const m of this.#messages.get(contact.id) ?? []) {
      if (!m.outgoing) continue;
      if (m.status === 'sending') this.#dispatch(m);
      else if (m.status === 'sent' && m.proof !== undefined && !m.proof.receipt) {
        m.proof.receipt = true;
        this.#spendable += NOTIFICATION_VALUE;
        this.#locked -= NOTIFICATION_VALUE;
        this.#update(m, { status: 'delivered' });
        this.#emit({ type: 'balance', balance: this.#balance() });
      }
    }
  }

  #store(
    contactId: ContactId,
    outgoing: boolean,
    text: string,
    sentAt: number,
    status: ChatMessage['status'],
  ): StoredMessage {
    const m: StoredMessage = {
      id: `m${++this.#counter}` as MessageId,
      contactId,
      outgoing,
      text,
      sentAt,
      status,
    };
    let list = this.#messages.get(contactId);
    if (list === undefined) this.#messages.set(contactId, (list = []));
    list.push(m);
    this.#byId.set(m.id, m);
    return m;
  }

  #update(m: StoredMessage, patch: Partial<Pick<StoredMessage, 'status' | 'route'>>): void {
    // Deleted (expired, or its conversation deleted) meanwhile: nothing left to update.
    if (!this.#byId.has(m.id)) return;
    if (patch.status !== undefined) m.status = patch.status;
    if (patch.route !== undefined) m.route = patch.route;
    this.#emit({ type: 'message', message: this.#view(m) });
    this.#emit({ type: 'conversations' });
  }

  #view(m: StoredMessage): ChatMessage {
    const base = {
      id: m.id,
      contactId: m.contactId,
      outgoing: m.outgoing,
      text: m.text,
      sentAt: m.sentAt,
      status: m.status,
      hasProof: m.proof !== undefined,
      ...(m.timer !== undefined && { timerChange: { ...m.timer } }),
      ...actionView(m, this.#quote(m)),
    };
    const expires = this.#expiry(m);
    const timed = expires === undefined ? base : { ...base, expiresAt: expires };
    return m.route === undefined ? timed : { ...timed, route: m.route };
  }

  #balance(): DeliveryBalance {
    const perMessage = COST_PER_MESSAGE + NOTIFICATION_VALUE;
    const base = {
      spendable: this.#spendable,
      lockedInPending: this.#locked,
      costPerMessage: COST_PER_MESSAGE,
      messagesLeft: Number(this.#spendable / perMessage),
      pendingMessages: Number(this.#locked / NOTIFICATION_VALUE),
      p2pOnly: this.#p2pOnly,
    };
    // Link-out only on mainnet (NOTES §7), as the engine does.
    return this.#settings.network === 'mainnet' ? { ...base, topUpUrl: TOP_UP_URL } : base;
  }

  #decodeInvite(code: string): InvitePreview {
    let doc: unknown;
    try {
      doc = JSON.parse(bytesToUtf8(fromBase64Url(code)));
    } catch (cause) {
      throw new AppApiError('BAD_INVITE', 'This is not an invite', { cause });
    }
    if (
      typeof doc !== 'object' ||
      doc === null ||
      !('v' in doc && doc.v === 1) ||
      !('n' in doc && typeof doc.n === 'string') ||
      !('f' in doc && typeof doc.f === 'string' && /^[0-9a-f]{4}( [0-9a-f]{4}){3}$/.test(doc.f))
    ) {
      throw new AppApiError('BAD_INVITE', 'This is not an invite');
    }
    if (doc.f === this.#identity?.fingerprint) throw new AppApiError('OWN_INVITE', 'This is your own invite');
    // Like a real card's addresses, the invite says its network; another network is refused.
    if ('w' in doc && doc.w !== this.#settings.network)
      throw new AppApiError(
        'WRONG_NETWORK',
        `This invite is for another network than this app uses (${this.#settings.network}). Ask for an invite made on the same network.`,
      );
    const name = doc.n.trim().slice(0, 64);
    // An issue time ("i", Unix ms) lets the demo show the old-invite warning.
    const issuedAt = 'i' in doc && typeof doc.i === 'number' && Number.isFinite(doc.i) ? doc.i : Date.now();
    return { displayName: name === '' ? 'Unnamed contact' : name, fingerprint: doc.f, issuedAt };
  }

  #addContact(displayName: string, fingerprint: string, connection: ConnectionState): Contact {
    const contact: Contact = {
      id: `c${++this.#counter}` as ContactId,
      displayName,
      fingerprint,
      identityKey: keyOf(fingerprint),
      connection,
      unread: 0,
    };
    this.#contacts.set(contact.id, contact);
    return contact;
  }

  #contactSummary(c: Contact): ContactSummary {
    const nickname = this.#flags.get(c.id)?.nickname;
    return {
      id: c.id,
      displayName: nickname ?? c.displayName,
      ...(nickname !== undefined && { cardName: c.displayName }),
      fingerprint: c.fingerprint,
      connection: c.connection,
      ...trustView(this.#trust.get(c.id), c.identityKey),
      ...(this.#blocked.has(c.fingerprint) && { blocked: true as const }),
    };
  }

  #summary(): IdentitySummary {
    const id = this.#requireIdentity();
    return { displayName: id.displayName, fingerprint: id.fingerprint };
  }

  #requireIdentity(): Identity {
    if (this.#identity === undefined) throw new AppApiError('NO_IDENTITY', 'No identity on this device');
    return this.#identity;
  }

  #requireUnlocked(): Identity {
    const id = this.#requireIdentity();
    if (!this.#unlocked) throw new AppApiError('LOCKED', 'Unlock first');
    return id;
  }

  #requireContact(id: ContactId): Contact {
    const c = this.#contacts.get(id);
    if (c === undefined) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    return c;
  }

  // --- attachments (issue 14) ---------------------------------------------------------------

  readonly #attachments = new Map<string, { view: AttachmentView; bytes: Uint8Array }>();
  readonly #attachmentListeners = new Set<(a: AttachmentView) => void>();

  attachmentLimits(): AttachmentLimitsView {
    const l = resolveLimits();
    return { maxBytes: l.maxBytes, maxOfflineBytes: l.maxChainBytes, maxVoiceMs: l.maxVoiceMs };
  }

  async attachments(id: ContactId): Promise<readonly AttachmentView[]> {
    this.#requireContact(id);
    return Promise.resolve(
      [...this.#attachments.values()].filter((a) => a.view.contactId === id).map((a) => a.view),
    );
  }

  async sendFile(id: ContactId, file: PickedFile): Promise<AttachmentView> {
    const contact = this.#requireContact(id);
    const info = pickedFileInfo(file);
    const { kind } = info;
    // The real checks and encryption, so the demo refuses what the app refuses.
    const { manifest } = prepareAttachment(file.bytes, info);
    const view: AttachmentView = {
      id: bytesToHex(manifest.id),
      contactId: id,
      direction: 'out',
      kind,
      name: manifest.name,
      mediaType: manifest.mediaType,
      size: manifest.size,
      state: 'transferring',
      done: 0,
      parts: manifest.chunkCount,
      createdAt: this.#now(),
      onChain: false,
      ...(kind === 'voice'
        ? { voice: { durationMs: manifest.durationMs, waveform: manifest.waveform } }
        : {}),
    };
    this.#attachments.set(view.id, { view, bytes: file.bytes.slice() });
    if (contact.connection === 'connected') this.#advanceAttachment(view.id);
    return Promise.resolve(view);
  }

  #advanceAttachment(id: string): void {
    this.#later(1, () => {
      const a = this.#attachments.get(id);
      if (a === undefined || a.view.state !== 'transferring') return;
      const done = Math.min(a.view.parts, a.view.done + Math.max(1, Math.ceil(a.view.parts / 4)));
      a.view = { ...a.view, done, state: done === a.view.parts ? 'complete' : 'transferring' };
      for (const l of this.#attachmentListeners) l(a.view);
      if (a.view.state === 'transferring') this.#advanceAttachment(id);
    });
  }

  async cancelAttachment(attachmentId: string): Promise<void> {
    const a = this.#attachments.get(attachmentId);
    if (a === undefined) throw new AttachmentError('UNKNOWN_ATTACHMENT', 'No such attachment');
    if (a.view.state === 'transferring') a.view = { ...a.view, state: 'cancelled', done: 0 };
    for (const l of this.#attachmentListeners) l(a.view);
    return Promise.resolve();
  }

  /** The chain plan of a demo attachment at the demo's own prices. */
  #attachmentPlan(a: { view: AttachmentView }): ChainPlan {
    const l = resolveLimits();
    return planChain(
      { size: a.view.size, chunkSize: l.chunkBytes, chunkCount: a.view.parts },
      // A manifest's typical length: the fixed fields and the name.
      160 + a.view.name.length,
      { costPerMessage: COST_PER_MESSAGE + NOTIFICATION_VALUE, spendable: this.#spendable },
    );
  }

  async attachmentCost(attachmentId: string): Promise<AttachmentCostView> {
    const a = this.#attachments.get(attachmentId);
    if (a === undefined) throw new AttachmentError('UNKNOWN_ATTACHMENT', 'No such attachment');
    const plan = this.#attachmentPlan(a);
    return Promise.resolve({
      secureMessages: plan.secureMessages,
      messagesLeft: plan.messagesLeft,
      insufficient: plan.insufficient,
      text: describePlan(plan),
    });
  }

  async sendAttachmentNow(attachmentId: string): Promise<AttachmentView> {
    const a = this.#attachments.get(attachmentId);
    if (a === undefined || a.view.direction !== 'out')
      throw new AttachmentError('UNKNOWN_ATTACHMENT', 'No such attachment');
    const max = resolveLimits().maxChainBytes;
    if (a.view.size > max)
      throw new AttachmentError(
        'TOO_LARGE',
        `${a.view.size} bytes exceed the limit of ${max} bytes for sending while your contact is offline`,
      );
    if (a.view.onChain || a.view.state !== 'transferring') return Promise.resolve(a.view);
    const plan = this.#attachmentPlan(a);
    this.#spendable -= plan.sompi < this.#spendable ? plan.sompi : this.#spendable;
    a.view = { ...a.view, onChain: true };
    for (const l of this.#attachmentListeners) l(a.view);
    this.#emit({ type: 'balance', balance: this.#balance() });
    this.#advanceAttachment(attachmentId);
    return Promise.resolve(a.view);
  }

  async attachmentBytes(attachmentId: string): Promise<Uint8Array> {
    const a = this.#attachments.get(attachmentId);
    if (a === undefined) throw new AttachmentError('UNKNOWN_ATTACHMENT', 'No such attachment');
    if (a.view.state !== 'complete')
      throw new AttachmentError('INCOMPLETE', 'The file has not fully arrived');
    return Promise.resolve(a.bytes.slice());
  }

  onAttachment(listener: (attachment: AttachmentView) => void): () => void {
    this.#attachmentListeners.add(listener);
    return () => this.#attachmentListeners.delete(listener);
  }

  #emitVault(): void {
    this.#emit({ type: 'vault', state: this.vaultState() });
  }

  #emit(event: AppEvent): void {
    for (const l of this.#listeners) l(event);
  }

  #later(steps: number, fn: () => void): void {
    setTimeout(fn, steps * this.#stepMs);
  }

  async #delay(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  #seed(extra: number): void {
    const seed = randomBytes(32);
    this.#identity = {
      displayName: 'Ada',
      fingerprint: fingerprintOf(seed),
      password: 'correct horse battery',
      words: encodeRecoveryKey(seed),
    };
    this.#unlocked = true;
    const fp = (): string => fingerprintOf(randomBytes(16));
    const now = this.#now();
    const min = 60_000;
    const grace = this.#addContact('Grace Hopper', fp(), 'connected');
    const linus = this.#addContact('Linus', fp(), 'offline');
    const radia = this.#addContact('Radia Perlman', fp(), 'connecting');
    this.#later(4, () => this.#setConnection(radia, 'connected'));

    const t0 = now - extra * min;
    for (let i = 0; i < extra; i++) {
      const m = this.#store(
        grace.id,
        i % 2 === 0,
        `Message ${i + 1} of the long history`,
        t0 + i * min - 90 * min,
        'read',
      );
      m.route = 'direct';
    }
    const g1 = this.#store(
      grace.id,
      false,
      'Did the relay test pass on your side?',
      now - 42 * min,
      'delivered',
    );
    g1.route = 'direct';
    const g2 = this.#store(
      grace.id,
      true,
      'Yes. Direct link came up in under a second.',
      now - 40 * min,
      'read',
    );
    g2.route = 'direct';
    const g3 = this.#store(grace.id, false, 'Then ship it.', now - 3 * min, 'delivered');
    g3.route = 'direct';
    grace.unread = 1;

    const l1 = this.#store(
      linus.id,
      true,
      'Sending the draft while you are away.',
      now - 26 * 60 * min,
      'delivered',
    );
    l1.route = 'secure';
    l1.proof = {
      txId: bytesToHex(randomBytes(32)),
      blockHash: bytesToHex(randomBytes(32)),
      daaScore: BASE_DAA_SCORE - 936_000n,
      acceptedAt: now - 26 * 60 * min,
      receipt: true,
    };
    const l2 = this.#store(linus.id, true, 'And the numbers for review.', now - 20 * min, 'sent');
    l2.route = 'secure';
    l2.proof = {
      txId: bytesToHex(randomBytes(32)),
      blockHash: bytesToHex(randomBytes(32)),
      daaScore: BASE_DAA_SCORE - 12_000n,
      acceptedAt: now - 20 * min,
      receipt: false,
    };
    this.#spendable -= NOTIFICATION_VALUE;
    this.#locked += NOTIFICATION_VALUE;
  }
}
