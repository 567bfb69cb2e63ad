/**
 * The web app's `AppApi` over the real messenger core, in the browser: the vault in IndexedDB
 * under the password, contacts from signed contact cards, the delivery engine on the sealed
 * database, WebRTC links through the browser transport and the Kaspa node over wRPC.
 *
 * Life cycle. `RealApi.open` reads only the readable part of the database (is there a vault,
 * whose name). Creating, unlocking or restoring an identity derives the storage key from the
 * seed, seals the database and starts a session: sessions and contacts at once, then the node
 * connection and the engine in the background, so a slow or absent node never blocks the
 * lock screen; calls that need the engine wait for it. `lock` closes everything and wipes
 * the seed from memory.
 */
import { ContactCard, CARD_URI_PREFIX, Invite, MAX_DISPLAY_NAME_BYTES } from '../../core/contact/card.ts';
import {
  ShortInvite,
  ShortInviteError,
  parseInviteLink,
  resolveShortInvite,
} from '../../core/contact/short-invite.ts';
import { ChainInviteDirectory, INVITE_POOL } from '../../core/contact/chain-invite-directory.ts';
import { PreKeyTimer } from '../../core/session/prekey-timer.ts';
import { DeliveryEngine, type DeliveryEvent } from '../../core/delivery/engine.ts';
import { DeliveryError } from '../../core/delivery/errors.ts';
import { KaspaChain } from '../../core/delivery/kaspa-chain.ts';
import { DeliveryStore, isFinished } from '../../core/delivery/store.ts';
import {
  DisappearingSweeper,
  addSetting,
  currentSetting,
  decodeSettings,
  disappearingWords,
  encodeSettings,
  expiresAt,
  isDisappearingSeconds,
  type TimerSetting,
} from '../../core/disappearing/timer.ts';
import { encodeKey } from '../../storage/keys.ts';
import { loadContactRecords } from '../contact-records.ts';
import { TransportLinks } from '../../core/delivery/links.ts';
import type { Message } from '../../core/delivery/messages.ts';
import { startsAfter, type ContactDirectory } from '../../core/delivery/ports.ts';
import { SessionStateStore } from '../../core/delivery/session-state.ts';
import { EnvelopeSessions, contactIdOf } from '../../core/delivery/sessions.ts';
import { requireAddressOn } from '../../core/contact/network.ts';
import { peerKeysOf } from '../../core/delivery/addresses/index.ts';
import { ContactCardError, RecoveryKeyError, VaultError } from '../../core/errors.ts';
import { MessageRequests, RequestError } from '../../core/requests/requests.ts';
import { Identity } from '../../core/identity/identity.ts';
import {
  RECOVERY_KEY_WORDS,
  decodeRecoveryKey,
  encodeRecoveryKey,
} from '../../core/identity/recovery-key.ts';
import { SafetyNumber, SafetyNumberError } from '../../core/safety/safety-number.ts';
import { SessionManager } from '../../core/session/session-manager.ts';
import { DEFAULT_SCRYPT, Vault, type ScryptParams } from '../../core/vault/vault.ts';
import type { Address } from '../../kaspa/address.ts';
import { KaspaHdWallet } from '../../kaspa/hd.ts';
import type { KaspaNode } from '../../kaspa/rpc/node.ts';
import { NodePool, nodeAssignmentKey } from '../../kaspa/rpc/pool.ts';
import { RpcError } from '../../kaspa/rpc/errors.ts';
import type { BatchOp, KeyValueStore } from '../../storage/types.ts';
import { bytesToHex, bytesToUtf8, hexToBytes, utf8ToBytes, wipe } from '../../util/bytes.ts';
import { DecodeError } from '../../util/errors.ts';
import { mark } from '../../util/marks.ts';
import { ShortInviteCoins } from '../../core/contact/short-invite-coins.ts';
import {
  AppApiError,
  MIN_PASSWORD_LENGTH,
  checkMessageText,
  REACTIONS,
  newestMessages,
  NETWORK_IDS,
  type AppApi,
  type AppEvent,
  type AppSettings,
  type ChatMessage,
  type ContactId,
  type ContactSummary,
  type ConversationFlags,
  type ConversationFlagsPatch,
  type ConversationSummary,
  type CreatedIdentity,
  type DeliveryBalance,
  type DeliveryProof,
  type DisappearingTimer,
  type IceServer,
  type IdentitySummary,
  type InvitePreview,
  type ShortInviteShown,
  type SafetyNumberView,
  type MessageId,
  type MessageRequestSummary,
  type NetworkId,
  type NetworkState,
  type NodeView,
  type Unsubscribe,
  type VaultState,
} from '../app-api.ts';
import {
  BACKUP_STORES,
  ONE_TIME_KEYS_RECORDS,
  decodeOneTimeRecord,
  encodeBackup,
  encodeOneTimeRecord,
  openBackup,
  readBackupHeader,
  type BackupRecord,
} from './backup.ts';
import { EvidenceRecorder, loadEvidence } from './evidence.ts';
import { NETWORKS, defaultNodeUrls } from './network.ts';
import { nodeUrlAllowed } from '../csp.ts';
import {
  CONTACTS_STORE,
  DEFAULT_DATABASE,
  KEYS,
  PROFILE_STORE,
  STATE_STORE,
  sealProfile,
  storageKeyOf,
} from './profile.ts';
import type { InstanceMessage } from './instance.ts';
import { browserPlatform, type InstanceGuard, type Platform } from './platform.ts';
import { encodeTrust, loadTrust, sameName, trustKey, trustView, type TrustRecord } from './trust.ts';
import { chatMessage, conversationOrder, deliveryBalance } from './view.ts';
import { actionsService, asAppError, foldedView, foldedViews, hasActions } from './message-actions.ts';
import {
  FoldIndex,
  MessageActionError,
  isShown,
  type MessageActionsService,
} from '../../core/messages/index.ts';
import {
  NO_FLAGS,
  clearedKey,
  conversationRank,
  encodeCleared,
  loadCleared,
  encodeFlags,
  flagsKey,
  isDefaultFlags,
  loadFlags,
  patchFlags,
} from '../conversation-flags.ts';
import { hitLimit, queryKey, SearchIndex, type SearchHit } from '../search.ts';
import {
  AttachmentError,
  AttachmentService,
  AttachmentStore,
  type AttachmentId,
  type AttachmentRecord,
  describePlan,
  resolveLimits,
} from '../../core/attachments/index.ts';
import {
  pickedFileInfo,
  type AttachmentCostView,
  type AttachmentLimitsView,
  type AttachmentView,
  type PickedFile,
} from '../app-api.ts';

/** How the real API is set up (main.ts passes what the page URL and build say). */
export interface RealApiOptions {
  /** IndexedDB database name. @default "p2pcomm" */
  readonly database?: string;
  /** Node of the `local` network for a new profile. @default ws://127.0.0.1:18510 (FACTS §6.1) */
  readonly localNodeUrl?: string;
  /** The local faucet (loopback only); without it a new identity gets no coins. */
  readonly localFaucetUrl?: string;
  /** Vault KDF cost. @default DEFAULT_SCRYPT (NOTES §5) */
  readonly scrypt?: ScryptParams;
  /** Told about failures of background work (node, faucet, engine); the app keeps going. */
  readonly onError?: (error: Error) => void;
  /** The runtime's storage, transport, instance guard and faucet. @default browserPlatform */
  readonly platform?: Platform;
}

/** Settings as stored: the user's settings plus the P2P-only switch of the balance screen. */
interface StoredSettings extends AppSettings {
  readonly p2pOnly: boolean;
}

/** Everything that exists while the vault is open. */
interface Session {
  readonly seed: Uint8Array;
  readonly identity: Identity;
  readonly displayName: string;
  readonly db: KeyValueStore;
  readonly cards: Map<ContactId, ContactCard>;
  /** Verified marks and key warnings by contact (trust.ts), as stored. */
  readonly trust: Map<ContactId, TrustRecord>;
  /** Pinned, muted, archived, renamed, by conversation (conversation-flags.ts), as stored. */
  readonly flags: Map<ContactId, ConversationFlags>;
  /** Conversations deleted (when), listed again once a message comes (conversation-flags.ts). */
  readonly cleared: Map<ContactId, number>;
  /** Disappearing-timer settings by conversation (core/disappearing), as stored. */
  readonly timers: Map<ContactId, TimerSetting[]>;
  /** Deletes expired messages at unlock and on a timer (core/disappearing). */
  sweeper: DisappearingSweeper | undefined;
  /** Sessions and the contact directory (the engine's session port). */
  readonly port: EnvelopeSessions;
  /** First messages from strangers, waiting for Accept, Block or Delete. */
  readonly requests: MessageRequests;
  readonly sessions: SessionManager;
  /** Where `sessions` is saved, by compare-and-set (delivery/session-state.ts). */
  readonly stateStore: SessionStateStore;
  settings: StoredSettings;
  /** Our card on the current network (its address changes with the network). */
  card: ContactCard;
  /**
   * The invite shown (`myInviteCode`): kept while its one-time pre-key is unclaimed and the
   * card unchanged, so showing the card again does not mint a key each time.
   */
  invite: { readonly card: ContactCard; readonly link: string; readonly oneTimeId?: number } | undefined;
  /**
   * The short form of `invite` and its publication (`myShortInvite`): one publication per
   * invite; a failed one is tried again the next time the card is shown.
   */
  shortInvite: { readonly link: string; readonly shown: Promise<ShortInviteShown> } | undefined;
  /** Published short invites whose coin is to come back (src/core/contact/short-invite-coins.ts). */
  readonly inviteCoins: ShortInviteCoins;
  /** Full invites found for short codes this session (a preview, then the add). */
  readonly resolved: Map<string, Invite>;
  /** Rotates and wipes pre-keys while the app is open (session/prekey-timer.ts). */
  readonly preKeyTimer: PreKeyTimer;
  /** The engine with its node connection, started in the background by `#wire`. */
  engine: Promise<Running>;
  running: Running | undefined;
  /** The node client of the current wiring (closing it stops an engine still starting). */
  client: KaspaNode | undefined;
  closed: boolean;
}

interface Running {
  readonly engine: DeliveryEngine;
  readonly client: KaspaNode;
  readonly evidence: EvidenceRecorder;
  /** The chain adapter: first-contact addresses of invites (docs/protocol.md "Invite link"). */
  readonly chain: KaspaChain;
}

const UNNAMED = 'Unnamed contact';

/** Longest wait in `unlock` for the engine's catch-up before the app is shown anyway. */
const CATCH_UP_WAIT_MS = 15_000;

function checkName(name: string): string {
  if (typeof name !== 'string') throw new TypeError('"displayName" expected a string');
  const trimmed = name.trim();
  if (trimmed.length === 0 || utf8ToBytes(trimmed).length > MAX_DISPLAY_NAME_BYTES) {
    throw new AppApiError('BAD_NAME', `A name needs 1 to ${MAX_DISPLAY_NAME_BYTES} bytes of text`);
  }
  return trimmed;
}

/** What is wrong with typed recovery words, in the words the restore screen shows. */
function recoveryKeyProblem(e: RecoveryKeyError): string {
  switch (e.code) {
    case 'WORD_COUNT':
      return `A recovery key has ${RECOVERY_KEY_WORDS} words`;
    case 'UNKNOWN_WORD':
      return `Word ${e.position ?? '?'} is not a recovery key word`;
    case 'CHECKSUM':
      return 'A word is mistyped or out of order';
  }
}

function checkPassword(password: string): void {
  if (typeof password !== 'string') throw new TypeError('"password" expected a string');
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AppApiError('WEAK_PASSWORD', `A password needs at least ${MIN_PASSWORD_LENGTH} characters`);
  }
}

/** "5f3a 91c0 7be2 44d1": the first 8 bytes of the peer id (BLAKE3 of the identity key). */
function fingerprint(peerId: Uint8Array): string {
  return bytesToHex(peerId.subarray(0, 8)).replace(/(.{4})(?!$)/g, '$1 ');
}

function checkNodeUrl(url: unknown): string {
  if (typeof url !== 'string') throw new AppApiError('BAD_SETTING', 'nodeUrls: expected text');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new AppApiError('BAD_SETTING', `nodeUrls: not an address: ${url}`);
  }
  if ((u.protocol !== 'ws:' && u.protocol !== 'wss:') || u.host === '')
    throw new AppApiError('BAD_SETTING', `nodeUrls: not a ws:// or wss:// address: ${url}`);
  // The page's CSP would block it (csp.ts): said now, not later as "cannot reach the network".
  if (!nodeUrlAllowed(url))
    throw new AppApiError('BAD_SETTING', `nodeUrls: ws:// is only for this device, use wss://: ${url}`);
  return url;
}

function checkIceServer(s: unknown): IceServer {
  const o = s as Partial<IceServer> | null;
  if (
    typeof o !== 'object' ||
    o === null ||
    typeof o.urls !== 'string' ||
    !/^(stun|turns?):\S+$/.test(o.urls)
  )
    throw new AppApiError('BAD_SETTING', 'iceServers: expected stun:, turn: or turns: addresses');
  if (o.username !== undefined && typeof o.username !== 'string')
    throw new AppApiError('BAD_SETTING', 'iceServers: username must be text');
  if (o.credential !== undefined && typeof o.credential !== 'string')
    throw new AppApiError('BAD_SETTING', 'iceServers: credential must be text');
  return {
    urls: o.urls,
    ...(o.username === undefined ? {} : { username: o.username }),
    ...(o.credential === undefined ? {} : { credential: o.credential }),
  };
}

/** Parses stored settings; anything unreadable falls back to the defaults field by field. */
function readSettings(bytes: Uint8Array | undefined, defaults: StoredSettings): StoredSettings {
  if (bytes === undefined) return defaults;
  let o: Partial<Record<keyof StoredSettings, unknown>>;
  try {
    o = JSON.parse(bytesToUtf8(bytes)) as typeof o;
  } catch {
    return defaults;
  }
  const network = NETWORK_IDS.includes(o.network as NetworkId) ? (o.network as NetworkId) : defaults.network;
  let nodeUrls = defaults.nodeUrls;
  let iceServers = defaults.iceServers;
  try {
    if (Array.isArray(o.nodeUrls) && o.nodeUrls.length > 0) nodeUrls = o.nodeUrls.map(checkNodeUrl);
    if (Array.isArray(o.iceServers)) iceServers = o.iceServers.map(checkIceServer);
  } catch {
    // A damaged field keeps its default; the rest of the settings still apply.
  }
  const bool = (v: unknown, d: boolean): boolean => (typeof v === 'boolean' ? v : d);
  return {
    network,
    nodeUrls,
    iceServers,
    batching: bool(o.batching, defaults.batching),
    readReceipts: bool(o.readReceipts, defaults.readReceipts),
    notificationText: bool(o.notificationText, defaults.notificationText),
    p2pOnly: bool(o.p2pOnly, defaults.p2pOnly),
  };
}

function publicSettings(s: StoredSettings): AppSettings {
  const { p2pOnly: _p, ...rest } = s;
  return rest;
}

/** The state-store key of a conversation's disappearing-timer record. */
function timersKey(id: ContactId): Uint8Array {
  return encodeKey('disappearing', id);
}

function timerView(settings: readonly TimerSetting[] | undefined): DisappearingTimer {
  const s = currentSetting(settings ?? []);
  return s === undefined
    ? { seconds: 0 }
    : { seconds: s.seconds, setBy: s.by === 'me' ? 'you' : 'contact', setAt: s.setAt };
}

/** Bound on the node's answer for the node view of Settings. */
const NODE_VIEW_TIMEOUT_MS = 3_000;

/** The `AppApi` over the real core. Create with `RealApi.open`. */
export class RealApi implements AppApi {
  readonly #options: RealApiOptions;
  readonly #databaseName: string;
  readonly #listeners = new Set<(event: AppEvent) => void>();
  /** The database while locked (only `profile` is read); the session owns it while open. */
  #raw: KeyValueStore | undefined;
  #vaultBytes: Uint8Array | undefined;
  #displayName: string | undefined;
  #session: Session | undefined;
  /** Reachability of the network through the current session's node client. */
  #network: NetworkState = 'connecting';
  /** Serializes vault transitions (create, unlock, restore, lock, import). */
  #transition: Promise<unknown> = Promise.resolve();
  /** The profile's Web Lock, held while a session is open, and the channel to its other windows. */
  readonly #instance: InstanceGuard;
  readonly #platform: Platform;
  /** Whether another window of this browser has the profile open (the lock screen says so). */
  #elsewhere = false;

  private constructor(options: RealApiOptions, raw: KeyValueStore) {
    this.#options = options;
    this.#databaseName = options.database ?? DEFAULT_DATABASE;
    this.#raw = raw;
    this.#platform = options.platform ?? browserPlatform;
    this.#instance = this.#platform.instance(this.#databaseName, (m) => this.#onInstanceMessage(m));
  }

  /** Opens the database and reads whether an identity exists (the first screen needs it). */
  static async open(options: RealApiOptions = {}): Promise<RealApi> {
    if (options.localNodeUrl !== undefined) checkNodeUrl(options.localNodeUrl);
    const platform = options.platform ?? browserPlatform;
    const api = new RealApi(options, await platform.openRawProfile(options.database ?? DEFAULT_DATABASE));
    await api.#loadProfile();
    api.#elsewhere = await api.#instance.heldElsewhere();
    return api;
  }

  // --- vault -------------------------------------------------------------------------------

  vaultState(): VaultState {
    if (this.#session !== undefined) return { kind: 'unlocked', identity: this.#summary(this.#session) };
    if (this.#vaultBytes === undefined) return { kind: 'empty' };
    if (this.#elsewhere) return { kind: 'elsewhere', displayName: this.#displayName ?? '' };
    return { kind: 'locked', displayName: this.#displayName ?? '' };
  }

  createIdentity(displayName: string, password: string): Promise<CreatedIdentity> {
    return this.#serial(async () => {
      if (this.#vaultBytes !== undefined)
        throw new AppApiError('IDENTITY_EXISTS', 'An identity already exists here');
      const name = checkName(displayName);
      checkPassword(password);
      // A fresh random seed: the password only locks the vault (NOTES §5).
      const vault = await Vault.create(password, undefined, this.#options.scrypt ?? DEFAULT_SCRYPT);
      const seed = vault.exportSeed();
      const bytes = vault.serialize();
      vault.lock();
      await this.#claimInstance();
      await this.#writeProfile(bytes, name);
      const words = encodeRecoveryKey(seed).split(' ');
      const session = await this.#startClaimed(seed, name);
      this.#emitVault();
      void this.#fundFromLocalFaucet(session);
      return { identity: this.#summary(session), recoveryWords: words };
    });
  }

  unlock(password: string): Promise<IdentitySummary> {
    return this.#serial(async () => {
      if (typeof password !== 'string') throw new TypeError('"password" expected a string');
      if (this.#session !== undefined) return this.#summary(this.#session);
      const bytes = this.#vaultBytes;
      if (bytes === undefined) throw new AppApiError('NO_IDENTITY', 'No identity on this device');
      await this.#claimInstance();
      let vault: Vault;
      try {
        mark('unlock-kdf');
        vault = await Vault.unlock(bytes, password);
        mark('unlock-kdf-done');
      } catch (e) {
        this.#instance.release();
        // Nothing is written on a failed unlock: the stored vault stays exactly as it was.
        // An empty field is a wrong password to the user; the vault refuses it without a KDF run.
        if (e instanceof VaultError && (e.code === 'WRONG_PASSWORD' || e.code === 'EMPTY_PASSWORD'))
          throw new AppApiError('WRONG_PASSWORD', 'Wrong password', { cause: e });
        throw e;
      }
      const seed = vault.exportSeed();
      vault.lock();
      const session = await this.#startClaimed(seed, this.#displayName ?? '');
      mark('unlock-session');
      // Messages that arrived while the app was closed are caught up as the engine starts;
      // waiting for that (within a bound, so an unreachable node does not hold the lock
      // screen) shows the conversations complete instead of filling in under the user.
      await Promise.race([
        session.engine.catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, CATCH_UP_WAIT_MS)),
      ]);
      mark('unlock-done');
      this.#emitVault();
      return this.#summary(session);
    });
  }

  lock(): Promise<void> {
    return this.#serial(async () => {
      const wasOpen = this.#session !== undefined;
      await this.#stopSession();
      if (wasOpen) this.#instance.post({ type: 'released' });
      this.#emitVault();
    });
  }

  /**
   * Locks and closes the database and the instance guard for good (a page never needs it; a
   * Node process does, so that the profile directory is free for the next one).
   */
  close(): Promise<void> {
    return this.#serial(async () => {
      await this.#stopSession();
      const raw = this.#raw;
      this.#raw = undefined;
      await raw?.close();
      this.#instance.close();
    });
  }

  async useHere(): Promise<void> {
    if (this.#session !== undefined) return;
    if (!(await this.#instance.takeOver()))
      throw new AppApiError('IN_USE', 'p2pComm did not close in the other window; close it there');
    this.#elsewhere = false;
    this.#emitVault();
  }

  passInvite(code: string): void {
    if (typeof code !== 'string') throw new TypeError('"code" expected a string');
    this.#instance.post({ type: 'invite', code });
  }

  /**
   * Takes the profile's lock before any session state is loaded, so that of two windows at
   * the lock screen only the first to unlock gets a live engine. IN_USE otherwise.
   */
  async #claimInstance(): Promise<void> {
    if (await this.#instance.acquire()) return;
    this.#elsewhere = true;
    this.#emitVault();
    throw new AppApiError('IN_USE', 'p2pComm is open in another window');
  }

  /** `#startSession` under the claimed lock: released again if the start fails. */
  async #startClaimed(
    seed: Uint8Array,
    displayName: string,
    imported: readonly BackupRecord[] = [],
  ): Promise<Session> {
    try {
      const session = await this.#startSession(seed, displayName, imported);
      this.#elsewhere = false;
      this.#instance.post({ type: 'opened' });
      return session;
    } catch (e) {
      this.#instance.release();
      throw e;
    }
  }

  #onInstanceMessage(m: InstanceMessage): void {
    switch (m.type) {
      case 'take-over':
        // "Use here" in another window: lock (the engine stores its queue as it stops),
        // then let the lock go, which that window is waiting for.
        if (this.#session === undefined && !this.#instance.held) return;
        void this.#serial(async () => {
          await this.#stopSession();
          this.#instance.release();
          this.#elsewhere = true;
          this.#emitVault();
        }).catch((e: unknown) => this.#report(e));
        return;
      case 'opened':
        if (this.#session !== undefined || this.#elsewhere) return;
        this.#elsewhere = true;
        this.#emitVault();
        return;
      case 'released':
        if (this.#session !== undefined || !this.#elsewhere) return;
        void this.#instance
          .heldElsewhere()
          .then((held) => {
            if (held || this.#session !== undefined) return;
            this.#elsewhere = false;
            this.#emitVault();
          })
          .catch((e: unknown) => this.#report(e));
        return;
      case 'invite':
        if (this.#session !== undefined) this.#emit({ type: 'invite', code: m.code });
        return;
    }
  }

  restore(recoveryWords: string, displayName: string, newPassword: string): Promise<IdentitySummary> {
    return this.#serial(async () => {
      let seed: Uint8Array;
      try {
        seed = decodeRecoveryKey(recoveryWords);
      } catch (e) {
        if (e instanceof RecoveryKeyError)
          throw new AppApiError('BAD_RECOVERY_KEY', recoveryKeyProblem(e), { cause: e });
        throw e;
      }
      const name = checkName(displayName);
      checkPassword(newPassword);
      const vault = await Vault.create(newPassword, seed, this.#options.scrypt ?? DEFAULT_SCRYPT);
      const bytes = vault.serialize();
      vault.lock();
      await this.#claimInstance();
      await this.#replaceDatabase();
      await this.#writeProfile(bytes, name);
      const session = await this.#startClaimed(seed, name);
      this.#emitVault();
      return this.#summary(session);
    });
  }

  // --- contacts ----------------------------------------------------------------------------

  async myInviteCode(): Promise<string> {
    const s = this.#requireSession();
    // A rotation due since the last traffic happens now, so the invite names a pre-key
    // that will be kept for its whole lifetime and grace window.
    await s.preKeyTimer.check();
    s.card = s.sessions.ownCard ?? s.card;
    const kept = s.invite;
    if (
      kept === undefined ||
      !kept.card.sameCard(s.card) ||
      (kept.oneTimeId !== undefined && !s.sessions.holdsOneTimeKey(kept.oneTimeId))
    ) {
      // One one-time pre-key per invite (session/prekeys.ts), stored before the link is shown.
      const keys = s.sessions.mintOneTimeKeys(1);
      await s.stateStore.save(s.sessions.serialize());
      const id = keys[0]?.id;
      // And a first-contact address of its own, so invites do not point at one address on
      // chain (docs/privacy.md "Invites"); recorded and watched before the link is shown.
      const firstContact = await (s.running ?? (await s.engine)).chain.nextInviteAddress();
      const invite = { card: s.card, link: new Invite(s.card, keys, firstContact).toLink() };
      s.invite = id === undefined ? invite : { ...invite, oneTimeId: id };
      return invite.link.slice(CARD_URI_PREFIX.length);
    }
    return kept.link.slice(CARD_URI_PREFIX.length);
  }

  async myShortInvite(): Promise<ShortInviteShown> {
    await this.myInviteCode();
    const s = this.#requireSession();
    const link = s.invite!.link;
    if (s.shortInvite?.link !== link) {
      const full = Invite.fromLink(link);
      const short = ShortInvite.create(full);
      const code = short.toLink().slice(CARD_URI_PREFIX.length);
      const shown = (async (): Promise<ShortInviteShown> => {
        try {
          const { client, chain } = s.running ?? (await s.engine);
          const directory = new ChainInviteDirectory({
            node: client,
            prefix: NETWORKS[s.settings.network].prefix,
            publisher: chain,
          });
          // Recorded first: a coin paid is taken back later even if this page closes now.
          await s.inviteCoins.published({
            locator: short.locator,
            publishedAt: Date.now(),
            ...(s.invite?.oneTimeId === undefined ? {} : { oneTimeId: s.invite.oneTimeId }),
          });
          await directory.publish(short.locator, short.seal(full));
          // The invites this one replaces give their coins back.
          s.inviteCoins.sweep().catch((e: unknown) => this.#report(e));
          return { code, published: true };
        } catch (e) {
          if (s.shortInvite?.link === link) s.shortInvite = undefined;
          const unpaid = e instanceof DeliveryError && e.code === 'INSUFFICIENT_FUNDS';
          if (unpaid)
            await s.inviteCoins.forget(short.locator).catch((error: unknown) => this.#report(error));
          const problem = unpaid
            ? 'The short link needs a small payment on the network, and this wallet has no funds for it. Send the full invite link instead.'
            : 'The short link could not be published now (no connection to the network). Send the full invite link instead.';
          return { code, published: false, problem };
        }
      })();
      s.shortInvite = { link, shown };
    }
    return s.shortInvite!.shown;
  }

  /** `#decodeInvite`, a short code first looked up on chain (docs/protocol.md "Short invite"). */
  async #readInvite(code: string): Promise<Invite> {
    if (typeof code !== 'string') throw new TypeError('"code" expected a string');
    let parsed;
    try {
      parsed = parseInviteLink(code);
    } catch {
      return this.#decodeInvite(code);
    }
    if (parsed.kind === 'full') return this.#decodeInvite(code);
    const s = this.#requireSession();
    const key = bytesToHex(parsed.short.serialize());
    let invite = s.resolved.get(key);
    if (invite === undefined) {
      const { client } = s.running ?? (await s.engine);
      try {
        invite = await resolveShortInvite(
          parsed.short,
          new ChainInviteDirectory({ node: client, prefix: NETWORKS[s.settings.network].prefix }),
        );
      } catch (cause) {
        if (!(cause instanceof ShortInviteError)) throw cause;
        throw new AppApiError(
          'SHORT_INVITE_NOT_FOUND',
          'This short invite was not found on the network. Ask for the full invite link.',
          { cause },
        );
      }
      s.resolved.set(key, invite);
    }
    return this.#decodeInvite(invite.toLink());
  }

  async previewInvite(code: string): Promise<InvitePreview> {
    const { card } = await this.#readInvite(code);
    const preview = {
      displayName: this.#nameOf(card),
      fingerprint: fingerprint(card.peerId),
      issuedAt: card.issuedAt * 1000,
    };
    const id = contactIdOf(card.peerId) as ContactId;
    return this.#session?.cards.has(id) === true ? { ...preview, contactId: id } : preview;
  }

  async addContact(code: string): Promise<ContactSummary> {
    const { card, oneTimeKeys, firstContact } = await this.#readInvite(code);
    const s = this.#requireSession();
    const id = contactIdOf(card.peerId) as ContactId;
    const known = s.cards.get(id);
    if (known === undefined || card.supersedes(known)) {
      await this.#keepCard(s, card);
      // The invite's one-time pre-keys start the next session with this contact (X3DH OPK).
      if (oneTimeKeys.length > 0) {
        s.sessions.addOneTimeKeys(card.peerId, oneTimeKeys);
        await s.stateStore.save(s.sessions.serialize());
      }
      const begin = async ({ engine, chain }: Running): Promise<void> => {
        // The invite's own first-contact address is paid until the contact is heard from.
        if (firstContact !== undefined) await chain.invitedBy(id, firstContact);
        // Adding someone's invite accepts what they sent before: a waiting request joins the
        // conversation, and an offer of theirs still fresh is answered (first, so that our
        // own offer below does not cross it).
        engine.acceptRequest(id).catch((e: unknown) => this.#report(e));
        // Ask for a direct link now: the offer rides the chain path, so by the time the user
        // writes, the contact may already be connected (docs/delivery.md).
        engine.connect(id).catch((e: unknown) => this.#report(e));
      };
      void (s.running !== undefined ? begin(s.running) : s.engine.then(begin)).catch((e: unknown) =>
        this.#report(e),
      );
      this.#emit({ type: 'conversations' });
    }
    return this.#contactSummary(s, id);
  }

  async contact(id: ContactId): Promise<ContactSummary> {
    const s = this.#requireSession();
    if (!s.cards.has(id)) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    return this.#contactSummary(s, id);
  }

  // --- delete and block (issue 15) ---------------------------------------------------------

  async deleteConversation(id: ContactId, options: { readonly contact?: boolean } = {}): Promise<void> {
    const s = this.#requireSession();
    if (!s.cards.has(id)) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    const history = await this.#history(s);
    // A message still on its way stays: the engine holds it until it is delivered.
    const gone = (await history.messages(id)).filter(isFinished);
    const ops: BatchOp[] = [...new DeliveryStore(s.db).deleteOps(gone)];
    const removeContact = options.contact === true;
    const at = Date.now();
    if (removeContact) {
      ops.push(
        { type: 'delete', store: CONTACTS_STORE, key: utf8ToBytes(id) },
        { type: 'delete', store: STATE_STORE, key: trustKey(id) },
        { type: 'delete', store: STATE_STORE, key: flagsKey(id) },
        { type: 'delete', store: STATE_STORE, key: clearedKey(id) },
      );
    } else {
      ops.push({ type: 'put', store: STATE_STORE, key: clearedKey(id), value: encodeCleared(at) });
    }
    await s.db.batch(ops);
    this.#foldIndexes.get(s)?.delete(id);
    if (removeContact) this.#searchOf(s).forget(id);
    else this.#searchOf(s).remove(id, gone);
    if (removeContact) {
      // Out of the engine's directory at once (`#directory`); its link goes with a restart.
      s.cards.delete(id);
      s.trust.delete(id);
      s.flags.delete(id);
      s.cleared.delete(id);
      await this.#restartEngine(s);
    } else {
      s.cleared.set(id, at);
    }
    this.#emit({ type: 'conversations' });
  }

  async blockContact(id: ContactId): Promise<void> {
    const s = this.#requireSession();
    if (!s.cards.has(id)) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    if (s.requests.isBlocked(id)) return;
    // The same record as a blocked request's sender; the engine's directory leaves them out,
    // so what they send is dropped unanswered, and a restart closes a link that is up.
    await s.requests.block(id);
    await this.#restartEngine(s);
    this.#emit({ type: 'conversations' });
  }

  async unblockContact(id: ContactId): Promise<void> {
    const s = this.#requireSession();
    if (!s.cards.has(id)) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    if (!s.requests.isBlocked(id)) return;
    await s.requests.unblock(id);
    await this.#restartEngine(s);
    this.#emit({ type: 'conversations' });
  }

  async blockedContacts(): Promise<readonly ContactSummary[]> {
    const s = this.#requireSession();
    return s.requests
      .blockedList()
      .filter((id) => s.cards.has(id as ContactId))
      .map((id) => this.#contactSummary(s, id as ContactId));
  }

  // --- disappearing messages (core/disappearing/timer.ts) ------------------------------------

  async disappearing(id: ContactId): Promise<DisappearingTimer> {
    const s = this.#requireSession();
    if (!s.cards.has(id)) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    return timerView(s.timers.get(id));
  }

  /**
   * Sends the setting to the contact (envelope type 15, by the link or the chain, like a
   * message) and enforces it in this device's store; the contact's device does the same when
   * it arrives (`#takeTimer`). The message's (sentAt, id) names the setting.
   */
  async setDisappearing(id: ContactId, seconds: number): Promise<DisappearingTimer> {
    const s = this.#requireSession();
    if (!s.cards.has(id)) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    if (!isDisappearingSeconds(seconds))
      throw new AppApiError('BAD_SETTING', 'disappearing: choose off, 5 minutes, 1 hour, 1 day or 1 week');
    const { engine } = await this.#runningEngine(s);
    await this.#takeTimer(s, await engine.setTimer(id, seconds));
    return timerView(s.timers.get(id));
  }

  /**
   * Keeps the setting a timer message names (ours or the contact's, core/disappearing/timer.ts)
   * and enforces it; a setting already kept changes nothing.
   */
  async #takeTimer(s: Session, m: Message): Promise<void> {
    const id = m.contact as ContactId;
    if (m.timer === undefined || !s.cards.has(id)) return;
    const settings = s.timers.get(id) ?? [];
    const setting: TimerSetting = {
      id: hexToBytes(m.id),
      setAt: m.sentAt,
      seconds: m.timer,
      by: m.direction === 'out' ? 'me' : 'contact',
    };
    if (settings.some((x) => bytesToHex(x.id) === m.id)) return;
    const next = addSetting(settings, setting);
    await s.db.put(STATE_STORE, timersKey(id), encodeSettings(next));
    s.timers.set(id, next);
    void s.sweeper?.sweep();
    if (this.#session !== s) return;
    // The conversation reads its history and header timer again (the line may be a late,
    // older setting, placed where it was made).
    this.#emit({ type: 'messages-removed', contactId: id });
    this.#emit({ type: 'conversations' });
  }

  /**
   * How many of our messages to `id`, message actions and timer changes included, have not
   * left yet (queued: neither on a direct link nor in a published transaction).
   */
  async unsent(id: ContactId): Promise<number> {
    const s = this.#requireSession();
    if (!s.cards.has(id)) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    const history = await this.#history(s);
    return (await history.messages(id)).filter((m) => m.direction === 'out' && m.status === 'queued').length;
  }

  /** A timer message as the line the conversation shows ("Alice set disappearing messages to 1 hour"). */
  #timerLine(view: ChatMessage, m: Message): ChatMessage {
    if (m.timer === undefined) return view;
    const card = this.#session?.cards.get(m.contact as ContactId);
    const who = m.direction === 'out' ? 'You' : card === undefined ? UNNAMED : this.#nameOf(card);
    return {
      ...view,
      text: `${who} set disappearing messages to ${disappearingWords(m.timer)}`,
      timerChange: { seconds: m.timer, by: m.direction === 'out' ? 'you' : 'contact' },
    };
  }

  /** When a stored message expires, or undefined. */
  #expiry(s: Session, m: Message): number | undefined {
    // The lines that say the timer changed stay: they are the record of the agreement.
    if (m.timer !== undefined) return undefined;
    const settings = s.timers.get(m.contact as ContactId);
    if (settings === undefined) return undefined;
    return expiresAt(settings, {
      direction: m.direction,
      sentAt: m.sentAt,
      ...(m.direction === 'in' && { receivedAt: m.receivedAt }),
    });
  }

  #startSweeper(s: Session): DisappearingSweeper {
    const sweeper = new DisappearingSweeper({
      nextExpiry: async () => {
        let next: number | undefined;
        const history = await this.#history(s);
        for (const id of s.timers.keys()) {
          if (!s.cards.has(id)) continue;
          for (const m of await history.messages(id)) {
            const at = this.#expiry(s, m);
            if (at !== undefined && (next === undefined || at < next)) next = at;
          }
        }
        return next;
      },
      deleteExpired: async (now) => {
        if (s.closed) return 0;
        const history = await this.#history(s);
        let count = 0;
        for (const id of s.timers.keys()) {
          if (!s.cards.has(id)) continue;
          // An outgoing message still on its way goes once it is delivered.
          const gone = (await history.messages(id)).filter(
            (m) => isFinished(m) && (this.#expiry(s, m) ?? Infinity) <= now,
          );
          if (gone.length === 0) continue;
          await s.db.batch(new DeliveryStore(s.db).deleteOps(gone));
          count += gone.length;
          this.#foldIndexes.get(s)?.delete(id);
          this.#searchOf(s).remove(id, gone);
          if (this.#session === s) this.#emit({ type: 'messages-removed', contactId: id });
        }
        if (count > 0 && this.#session === s) this.#emit({ type: 'conversations' });
        return count;
      },
      onError: (e) => this.#report(e),
    });
    void sweeper.sweep();
    return sweeper;
  }

  /** The contacts the engine may talk to: those kept, less the blocked ones. */
  #directory(s: Session): ContactDirectory {
    const allowed = (c: ContactId): boolean => s.cards.has(c) && !s.requests.isBlocked(c);
    return {
      self: s.port.self,
      has: (c) => s.port.has(c) && allowed(c as ContactId),
      list: () => s.port.list().filter((c) => allowed(c as ContactId)),
    };
  }

  /** Restarts the engine on the same database (its links close; queues reload from store). */
  async #restartEngine(s: Session): Promise<void> {
    if (s.closed) return;
    await this.#stopEngine(s);
    this.#wire(s, this.#wallet(s.identity, s.settings.network));
  }

  async safetyNumber(id: ContactId): Promise<SafetyNumberView> {
    const s = this.#requireSession();
    const n = this.#safetyNumberOf(s, id);
    return { groups: n.groups, scanCode: n.scanText() };
  }

  async verifyContact(id: ContactId, scannedOrTyped: string): Promise<'match' | 'mismatch'> {
    const s = this.#requireSession();
    const n = this.#safetyNumberOf(s, id);
    let result: 'match' | 'mismatch';
    try {
      result = n.check(scannedOrTyped);
    } catch (cause) {
      if (cause instanceof SafetyNumberError)
        throw new AppApiError('BAD_SAFETY_CODE', 'This is not a safety number or its code', { cause });
      throw cause;
    }
    if (result === 'match') {
      // Verified for this identity key: the mark goes if the key ever changes (trust.ts).
      const record: TrustRecord = { verifiedKey: s.cards.get(id)!.identityKey.slice() };
      await s.db.put(STATE_STORE, trustKey(id), encodeTrust(record));
      s.trust.set(id, record);
      this.#emit({ type: 'conversations' });
    }
    return result;
  }

  async unverifyContact(id: ContactId): Promise<void> {
    const s = this.#requireSession();
    if (!s.cards.has(id)) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    if (s.trust.get(id)?.verifiedKey === undefined) return;
    await s.db.delete(STATE_STORE, trustKey(id));
    s.trust.delete(id);
    this.#emit({ type: 'conversations' });
  }

  // --- conversations -----------------------------------------------------------------------

  async conversations(): Promise<readonly ConversationSummary[]> {
    const s = this.#requireSession();
    const history = await this.#history(s);
    const rows = await Promise.all([...s.cards.keys()].map((id) => this.#row(s, history, id)));
    this.#searchOf(s).start(s.cards.keys());
    // A deleted conversation stays out of the list until a message comes.
    return rows.filter((r) => r.last !== undefined || !s.cleared.has(r.contact.id)).sort(conversationRank);
  }

  async conversation(id: ContactId): Promise<ConversationSummary> {
    const s = this.#requireSession();
    if (!s.cards.has(id)) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    return this.#row(s, await this.#history(s), id);
  }

  async #row(
    s: Session,
    history: { messages(id: ContactId): Promise<Message[]>; view(m: Message): ChatMessage },
    id: ContactId,
  ): Promise<ConversationSummary> {
    // The read the list makes anyway builds the search index too (`#searchOf`).
    const index = this.#searchOf(s);
    const stamp = index.stamp(id);
    const all = await history.messages(id);
    index.offer(id, all, stamp);
    const unread = all.filter((m) => m.direction === 'in' && !m.read && isShown(m)).length;
    const last = all.findLast(isShown);
    const contact = this.#contactSummary(s, id);
    const flags = s.flags.get(id);
    const row = flags === undefined ? { contact, unread } : { contact, unread, flags };
    if (last === undefined) return row;
    // An edited or deleted last message is previewed as shown: only it is folded (FoldIndex),
    // not the whole conversation, since every list refresh asks this of every conversation.
    let view: ChatMessage;
    if (hasActions(all)) {
      const fold = new FoldIndex(all);
      // Kept for the message actions when nothing of the conversation changed during the
      // read (the search index's stamp moves with every change told): the first new message
      // after unlock then folds what it touches instead of reading and indexing the history.
      const kept = this.#indexesOf(s);
      if (!kept.has(id) && index.stamp(id) === stamp) kept.set(id, fold);
      view = foldedView(fold.fold(last), (m) => history.view(m));
    } else {
      view = history.view(last);
    }
    return { ...row, last: { text: view.text, at: view.sentAt, outgoing: view.outgoing } };
  }

  async search(query: string, options: { readonly limit?: number } = {}): Promise<readonly SearchHit[]> {
    const s = this.#requireSession();
    const key = queryKey(query);
    const limit = hitLimit(options.limit);
    if (key === '') return [];
    // The index answers as the full scan of every conversation would, reading only the hits.
    const found = await this.#searchOf(s).search([...s.cards.keys()], key, limit);
    const history = await this.#history(s);
    return found.map(({ contact, record }) => ({
      contact: this.#contactSummary(s, contact as ContactId),
      message: history.view(record),
    }));
  }

  /** Each session's search index (src/web/search.ts), built after unlock in the background. */
  readonly #searchIndexes = new WeakMap<Session, SearchIndex<Message>>();

  #searchOf(s: Session): SearchIndex<Message> {
    let index = this.#searchIndexes.get(s);
    if (index !== undefined) return index;
    const store = new DeliveryStore(s.db);
    index = new SearchIndex<Message>(
      {
        // As `#history` reads (the engine's fresher outgoing records when it runs), without
        // the evidence a view needs: only the hits are turned into views.
        conversation: async (contact) => {
          const engine = s.running?.engine;
          if (engine !== undefined) return engine.messages(contact as ContactId);
          const [inc, out] = await Promise.all([
            store.conversation(contact as ContactId, 'in'),
            store.conversation(contact as ContactId, 'out'),
          ]);
          return [...inc, ...out].sort(conversationOrder);
        },
        record: async (direction, id) => {
          const engine = s.running?.engine;
          if (direction === 'out' && engine !== undefined) {
            try {
              return await engine.message(id);
            } catch (e) {
              // The engine closed under the read (a rewiring): the stored record answers.
              if (!(e instanceof DeliveryError)) throw e;
            }
          }
          return store.byId(direction, id);
        },
      },
      {
        closed: () => s.closed,
        // A read cut short by a rewiring or lock is expected; the next list read offers again.
        onError: (e) => {
          if (!s.closed && !(e instanceof DeliveryError && e.code === 'CLOSED')) this.#report(e);
        },
      },
    );
    this.#searchIndexes.set(s, index);
    return index;
  }

  async setConversationFlags(id: ContactId, patch: ConversationFlagsPatch): Promise<ConversationFlags> {
    const s = this.#requireSession();
    if (!s.cards.has(id)) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    const next = patchFlags(s.flags.get(id) ?? NO_FLAGS, patch);
    if (isDefaultFlags(next)) await s.db.delete(STATE_STORE, flagsKey(id));
    else await s.db.put(STATE_STORE, flagsKey(id), encodeFlags(next));
    s.flags.set(id, next);
    this.#emit({ type: 'conversations' });
    return next;
  }

  async messageRequests(): Promise<readonly MessageRequestSummary[]> {
    const s = this.#requireSession();
    return s.requests.list().map((r) => ({
      id: r.contact as ContactId,
      displayName: this.#nameOf(r.card),
      fingerprint: fingerprint(r.card.peerId),
      messages: r.messages.map((m) => ({ id: m.id as MessageId, text: m.text, sentAt: m.sentAt })),
    }));
  }

  async acceptRequest(id: ContactId): Promise<ContactSummary> {
    const s = this.#requireSession();
    if (typeof id !== 'string') throw new TypeError('"id" expected a string');
    const request = s.requests.get(id);
    if (request === undefined) throw new AppApiError('UNKNOWN_REQUEST', 'No such message request');
    // The network may have changed since the request came.
    this.#checkNetwork(s, request.card);
    await this.#keepCard(s, request.card);
    const { engine } = await this.#runningEngine(s);
    // The kept messages join the conversation and their receipts go out (with the coins).
    await engine.acceptRequest(id);
    this.#emit({ type: 'conversations' });
    return this.#contactSummary(s, id);
  }

  async blockRequest(id: ContactId): Promise<void> {
    const s = this.#requireSession();
    if (typeof id !== 'string') throw new TypeError('"id" expected a string');
    await s.requests.block(id);
  }

  async deleteRequest(id: ContactId): Promise<void> {
    const s = this.#requireSession();
    if (typeof id !== 'string') throw new TypeError('"id" expected a string');
    try {
      await s.requests.delete(id);
    } catch (e) {
      if (e instanceof RequestError && e.code === 'UNKNOWN_REQUEST')
        throw new AppApiError('UNKNOWN_REQUEST', 'No such message request', { cause: e });
      throw e;
    }
  }

  async messages(id: ContactId, options: { readonly limit?: number } = {}): Promise<readonly ChatMessage[]> {
    const s = this.#requireSession();
    if (!s.cards.has(id)) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    const history = await this.#history(s);
    // Past its time a message is not shown, even before the sweep deletes it.
    const now = Date.now();
    const records = (await history.messages(id)).filter((m) => (this.#expiry(s, m) ?? Infinity) > now);
    const view = (m: (typeof records)[number]): ChatMessage => {
      const shown = history.view(m);
      const at = this.#expiry(s, m);
      return at === undefined ? shown : { ...shown, expiresAt: at };
    };
    // Replies, reactions, edits and deletions fold into the messages they act on.
    if (!hasActions(records)) return newestMessages(records, options.limit).map(view);
    this.#withActions.add(id);
    return newestMessages(foldedViews(records, view), options.limit);
  }

  async send(id: ContactId, text: string): Promise<ChatMessage> {
    const s = this.#requireSession();
    if (!s.cards.has(id)) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    checkMessageText(text);
    const { engine, evidence } = await this.#runningEngine(s);
    const m = await engine.send(id, text);
    return this.#view(m, evidence);
  }

  async markRead(id: ContactId): Promise<void> {
    const s = this.#requireSession();
    if (!s.cards.has(id)) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    const { engine } = await s.engine;
    await engine.markRead(id);
    this.#emit({ type: 'conversations' });
  }

  async typing(id: ContactId, active: boolean): Promise<void> {
    const s = this.#requireSession();
    if (!s.cards.has(id)) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    // Only a running engine can have a link; before it runs there is nothing to tell.
    await s.running?.engine.typing(id, active === true);
  }

  async retry(id: MessageId): Promise<void> {
    const s = this.#requireSession();
    if (typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id))
      throw new AppApiError('UNKNOWN_MESSAGE', 'No such message');
    const { engine } = await s.engine;
    try {
      await engine.retry(id);
    } catch (e) {
      if (e instanceof DeliveryError && e.code === 'UNKNOWN_MESSAGE')
        throw new AppApiError('UNKNOWN_MESSAGE', 'No such message', { cause: e });
      // Anything but a failed message is already on its way: nothing to retry.
      if (e instanceof DeliveryError && e.code === 'NOT_RETRYABLE') return;
      throw e;
    }
  }

  async deliveryProof(id: MessageId): Promise<DeliveryProof | null> {
    const s = this.#requireSession();
    if (typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id))
      throw new AppApiError('UNKNOWN_MESSAGE', 'No such message');
    const { engine, evidence, client } = await s.engine;
    const out = await engine.message(id);
    let proof: { txId: string; acceptingBlockHash?: string; acceptingDaaScore?: bigint } | undefined;
    let receiptReceived: boolean;
    if (out !== undefined) {
      proof = out.proof;
      receiptReceived = out.status === 'delivered' || out.status === 'read';
    } else {
      // An incoming message: its publication is the sender's, and it reached us, so the
      // receipt question is ours to answer (we sent one on receiving it).
      proof = evidence.get(id);
      receiptReceived = proof !== undefined;
    }
    if (proof === undefined) return null;
    let confirmations = 0;
    if (proof.acceptingDaaScore !== undefined) {
      // DAA-score distance to the virtual chain tip: one per block at 10 BPS (FACTS §0).
      const tip = client.isConnected
        ? (await client.getBlockDagInfo({ timeoutMs: 5_000 }).catch(() => undefined))?.virtualDaaScore
        : undefined;
      if (tip !== undefined && tip > proof.acceptingDaaScore)
        confirmations = Number(tip - proof.acceptingDaaScore);
    }
    return {
      messageId: id,
      network: s.settings.network,
      txId: proof.txId,
      ...(proof.acceptingBlockHash === undefined ? {} : { acceptingBlockHash: proof.acceptingBlockHash }),
      ...(proof.acceptingDaaScore === undefined ? {} : { acceptingDaaScore: proof.acceptingDaaScore }),
      confirmations,
      receiptReceived,
    };
  }

  // --- balance and settings ----------------------------------------------------------------

  async balance(): Promise<DeliveryBalance> {
    const s = this.#requireSession();
    const { engine } = await s.engine;
    return deliveryBalance(await engine.funds(), s.settings.p2pOnly, s.settings.network);
  }

  async setP2pOnly(on: boolean): Promise<DeliveryBalance> {
    if (typeof on !== 'boolean') throw new TypeError('"on" expected a boolean');
    const s = this.#requireSession();
    await this.#saveSettings(s, { ...s.settings, p2pOnly: on });
    const { engine } = await s.engine;
    await engine.configure({ p2pOnly: on });
    const b = deliveryBalance(await engine.funds(), on, s.settings.network);
    this.#emit({ type: 'balance', balance: b });
    return b;
  }

  async settings(): Promise<AppSettings> {
    return publicSettings(this.#requireSession().settings);
  }

  async updateSettings(patch: Partial<AppSettings>): Promise<AppSettings> {
    const s = this.#requireSession();
    if (typeof patch !== 'object' || patch === null) throw new TypeError('"patch" expected an object');
    const network = patch.network ?? s.settings.network;
    if (!NETWORK_IDS.includes(network)) throw new AppApiError('BAD_SETTING', 'network: unknown network');
    let nodeUrls = patch.nodeUrls ?? s.settings.nodeUrls;
    if (patch.network !== undefined && patch.network !== s.settings.network && patch.nodeUrls === undefined)
      nodeUrls = network === 'local' ? [this.#defaultNodeUrl(network)] : defaultNodeUrls(network);
    if (!Array.isArray(nodeUrls) || nodeUrls.length === 0)
      throw new AppApiError('BAD_SETTING', 'nodeUrls: at least one node address is needed');
    nodeUrls = nodeUrls.map(checkNodeUrl);
    const iceServers = (patch.iceServers ?? s.settings.iceServers).map(checkIceServer);
    for (const key of ['batching', 'readReceipts', 'notificationText'] as const) {
      if (patch[key] !== undefined && typeof patch[key] !== 'boolean')
        throw new AppApiError('BAD_SETTING', `${key}: expected on or off`);
    }
    const next: StoredSettings = {
      network,
      nodeUrls,
      iceServers,
      batching: patch.batching ?? s.settings.batching,
      readReceipts: patch.readReceipts ?? s.settings.readReceipts,
      notificationText: patch.notificationText ?? s.settings.notificationText,
      p2pOnly: s.settings.p2pOnly,
    };
    const before = s.settings;
    await this.#saveSettings(s, next);
    const rewire =
      before.network !== next.network ||
      JSON.stringify(before.nodeUrls) !== JSON.stringify(next.nodeUrls) ||
      JSON.stringify(before.iceServers) !== JSON.stringify(next.iceServers);
    if (rewire) {
      // Another network means another address (and card); another node or ICE servers mean
      // new connections: the engine restarts on the same database.
      await this.#stopEngine(s);
      const wallet = this.#wallet(s.identity, next.network);
      s.card = await this.#issueCard(s, wallet.address);
      this.#wire(s, wallet);
    } else {
      const { engine } = await s.engine;
      await engine.configure({ cheap: next.batching, readReceipts: next.readReceipts });
    }
    const view = publicSettings(next);
    this.#emit({ type: 'settings', settings: view });
    return view;
  }

  networkState(): NetworkState {
    return this.#network;
  }

  async nodeView(): Promise<NodeView> {
    const s = this.#session;
    const publicNodeUrls = NETWORKS[s?.settings.network ?? 'local'].publicNodeUrls;
    const pool = s?.client instanceof NodePool ? s.client : undefined;
    if (s === undefined || pool === undefined)
      return {
        nodes: (s?.settings.nodeUrls ?? []).map((url) => ({ url, state: 'connecting' })),
        synced: false,
        publicNodeUrls,
      };
    const current = pool.nodeOf('chain');
    // The client learns the DAA score only when it asks (or is told), so it asks, bounded.
    if (current !== undefined)
      await pool.getBlockDagInfo({ timeoutMs: NODE_VIEW_TIMEOUT_MS }).catch(() => undefined);
    const nodes = pool.nodes.map((n) => ({ url: n.url, state: n.state }));
    const daa = pool.position.virtualDaaScore;
    return {
      nodes,
      ...(current === undefined ? {} : { current }),
      // The pool uses a node only once it reports isSynced (kaspa/rpc/pool.ts `requireSynced`).
      synced: current !== undefined && nodes.some((n) => n.url === current && n.state === 'up'),
      ...(daa === undefined ? {} : { lastDaaScore: daa }),
      publicNodeUrls,
    };
  }

  async fundingAddress(): Promise<string> {
    const address = this.#requireSession().card.addresses[0];
    if (address === undefined) throw new AppApiError('NO_IDENTITY', 'No receiving address on this network');
    return address.toString();
  }

  async exportBackup(): Promise<Uint8Array> {
    const s = this.#requireSession();
    const vault = this.#vaultBytes;
    if (vault === undefined) throw new AppApiError('NO_IDENTITY', 'No identity on this device');
    const records: BackupRecord[] = [];
    for (const store of BACKUP_STORES)
      for (const [key, value] of await s.db.scan(store)) records.push({ store, key, value });
    // Each contact's one-time pre-keys for us, so sessions restarted after a restore use one.
    for (const [id, card] of s.cards) {
      const kept = s.sessions.oneTimeBatchOf(card.peerId);
      if (kept !== undefined)
        records.push({
          store: ONE_TIME_KEYS_RECORDS,
          key: utf8ToBytes(id),
          value: encodeOneTimeRecord(kept.bytes, kept.unused),
        });
    }
    return encodeBackup({ vault, displayName: s.displayName, records }, s.seed);
  }

  importBackup(file: Uint8Array, password: string): Promise<IdentitySummary> {
    return this.#serial(async () => {
      const header = readBackupHeader(file);
      let vault: Vault;
      try {
        vault = await Vault.unlock(header.vault, password);
      } catch (e) {
        if (e instanceof VaultError && (e.code === 'WRONG_PASSWORD' || e.code === 'EMPTY_PASSWORD'))
          throw new AppApiError('WRONG_PASSWORD', 'Wrong password for this backup', { cause: e });
        throw new AppApiError('BAD_BACKUP', 'The backup file is damaged', { cause: e });
      }
      const seed = vault.exportSeed();
      vault.lock();
      // Everything is checked before anything is replaced: a refused file changes nothing.
      let contents: ReturnType<typeof openBackup>;
      let name: string;
      try {
        contents = openBackup(file, seed);
        name = checkName(contents.displayName);
      } catch (e) {
        wipe(seed);
        if (e instanceof AppApiError && e.code === 'BAD_NAME')
          throw new AppApiError('BAD_BACKUP', 'The backup file is damaged', { cause: e });
        throw e;
      }
      await this.#claimInstance();
      await this.#replaceDatabase();
      await this.#writeProfile(header.vault, name);
      const session = await this.#startClaimed(seed, name, contents.records);
      this.#emitVault();
      return this.#summary(session);
    });
  }

  async checkForMessages(): Promise<void> {
    const s = this.#session;
    if (s === undefined) return;
    // The chain watcher runs while the app is open and catches up after every reconnect
    // (kaspa-chain.ts); checking means making sure the node connection is there.
    const { client } = await s.engine;
    if (!client.isConnected)
      await client.connect({ timeoutMs: 10_000 }).catch((e: unknown) => this.#report(e));
  }

  // --- message actions (AppApi MessageActions; core/messages) -------------------------------

  /** Conversations known to hold action records: their events are folded before shown. */
  readonly #withActions = new Set<string>();
  /** Each session's conversations indexed for folding (core/messages FoldIndex), kept in step. */
  readonly #foldIndexes = new WeakMap<Session, Map<string, FoldIndex<Message>>>();

  #indexesOf(s: Session): Map<string, FoldIndex<Message>> {
    let map = this.#foldIndexes.get(s);
    if (map === undefined) this.#foldIndexes.set(s, (map = new Map()));
    return map;
  }

  async #actions(): Promise<{ service: MessageActionsService; evidence: EvidenceRecorder }> {
    const s = this.#requireSession();
    const { engine, evidence } = await this.#runningEngine(s);
    const isContact = (c: string): boolean => s.cards.has(c as ContactId);
    // A redaction stores records without an engine event: the search index is told here.
    const onStored = (m: Message): void => this.#searchOf(s).put(m);
    return { service: actionsService(engine, s.db, isContact, this.#indexesOf(s), onStored), evidence };
  }

  /** The message `id` as now shown (folded), for the methods' results. */
  async #shownView(
    service: MessageActionsService,
    evidence: EvidenceRecorder,
    id: string,
  ): Promise<ChatMessage> {
    const f = await service.shown(id);
    if (f === undefined) throw new AppApiError('UNKNOWN_MESSAGE', 'No such message');
    return foldedView(f, (m) => this.#view(m, evidence));
  }

  async reply(id: ContactId, text: string, replyTo: MessageId): Promise<ChatMessage> {
    const s = this.#requireSession();
    if (!s.cards.has(id)) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    checkMessageText(text);
    const { service, evidence } = await this.#actions();
    this.#withActions.add(id);
    const m = await asAppError(() => service.reply(id, text, replyTo));
    return this.#shownView(service, evidence, m.id);
  }

  async react(messageId: MessageId, emoji: string | null): Promise<ChatMessage> {
    const reaction = emoji === null ? 0 : REACTIONS.indexOf(emoji) + 1;
    if (emoji !== null && reaction === 0) throw new AppApiError('BAD_REACTION', 'Not one of the reactions');
    const { service, evidence } = await this.#actions();
    const m = await asAppError(() => service.react(messageId, reaction));
    this.#withActions.add(m.contact);
    return this.#shownView(service, evidence, messageId);
  }

  async edit(messageId: MessageId, text: string): Promise<ChatMessage> {
    checkMessageText(text);
    const { service, evidence } = await this.#actions();
    const m = await asAppError(() => service.edit(messageId, text));
    this.#withActions.add(m.contact);
    return this.#shownView(service, evidence, messageId);
  }

  async deleteForEveryone(messageId: MessageId): Promise<ChatMessage> {
    const { service, evidence } = await this.#actions();
    await asAppError(() => service.deleteForEveryone(messageId));
    const shown = await this.#shownView(service, evidence, messageId);
    this.#withActions.add(shown.contactId);
    await this.#emitFolded(service, evidence, shown.contactId, new Set([messageId]));
    return shown;
  }

  async deleteForMe(messageId: MessageId): Promise<void> {
    const { service, evidence } = await this.#actions();
    const contact = await asAppError(() => service.deleteForMe(messageId));
    this.#withActions.add(contact);
    this.#emit({ type: 'message-removed', contactId: contact as ContactId, id: messageId });
    // Replies quoting it now say it is not available.
    await this.#emitFolded(service, evidence, contact, new Set([messageId]));
  }

  async forward(messageId: MessageId, to: readonly ContactId[]): Promise<readonly ChatMessage[]> {
    const s = this.#requireSession();
    for (const c of to) if (!s.cards.has(c)) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    const { service, evidence } = await this.#actions();
    for (const c of to) this.#withActions.add(c);
    const sent = await asAppError(() => service.forward(messageId, to));
    return Promise.all(sent.map((m) => this.#shownView(service, evidence, m.id)));
  }

  /**
   * A message record with an action (or in a conversation that has some) changed: a contact's
   * action is checked first (a refused one changes nothing and is not shown), then the
   * message it acts on is shown again as now folded.
   */
  async #onActionMessage(s: Session, evidence: EvidenceRecorder, m: Message): Promise<void> {
    if (this.#session !== s) return;
    const { service } = await this.#actions();
    this.#withActions.add(m.contact);
    let affected: string | undefined = m.id;
    if (m.direction === 'in') {
      try {
        affected = await service.received(m);
      } catch (e) {
        if (e instanceof MessageActionError) return;
        throw e;
      }
    } else if (m.action !== undefined && m.action.kind !== 'reply' && m.action.kind !== 'forwarded') {
      affected = m.action.target;
    }
    await this.#emitFolded(service, evidence, m.contact, new Set([affected, m.id]));
  }

  /** Shows again the messages `ids` and every reply quoting one of them, as now folded. */
  async #emitFolded(
    service: MessageActionsService,
    evidence: EvidenceRecorder,
    contact: string,
    ids: ReadonlySet<string | undefined>,
  ): Promise<void> {
    for (const f of await service.around(contact, ids))
      this.#emit({ type: 'message', message: foldedView(f, (r) => this.#view(r, evidence)) });
    this.#emit({ type: 'conversations' });
  }

  subscribe(listener: (event: AppEvent) => void): Unsubscribe {
    if (typeof listener !== 'function') throw new TypeError('"listener" expected a function');
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // --- session -----------------------------------------------------------------------------

  async #loadProfile(): Promise<void> {
    const raw = this.#raw;
    if (raw === undefined) throw new Error('the database is not open');
    this.#vaultBytes = await raw.get(PROFILE_STORE, KEYS.vault);
    const name = await raw.get(PROFILE_STORE, KEYS.name);
    this.#displayName = name === undefined ? undefined : bytesToUtf8(name);
  }

  async #writeProfile(vault: Uint8Array, name: string): Promise<void> {
    const raw = this.#raw;
    if (raw === undefined) throw new Error('the database is not open');
    await raw.batch([
      { type: 'put', store: PROFILE_STORE, key: KEYS.vault, value: vault },
      { type: 'put', store: PROFILE_STORE, key: KEYS.name, value: utf8ToBytes(name) },
    ]);
    this.#vaultBytes = vault;
    this.#displayName = name;
  }

  /** Deletes the database (another identity replaces this one) and opens an empty one. */
  async #replaceDatabase(): Promise<void> {
    // The caller holds the profile's lock for the identity that replaces this one.
    await this.#stopSession(false);
    await this.#raw?.close();
    this.#raw = undefined;
    this.#vaultBytes = undefined;
    this.#displayName = undefined;
    await this.#platform.deleteProfile(this.#databaseName);
    this.#raw = await this.#platform.openRawProfile(this.#databaseName);
  }

  async #startSession(
    seed: Uint8Array,
    displayName: string,
    imported: readonly BackupRecord[] = [],
  ): Promise<Session> {
    const raw = this.#raw;
    if (raw === undefined) throw new Error('the database is not open');
    this.#raw = undefined;
    // The sealed handle owns `raw` from here on (and closes it when it fails to open).
    const db = await sealProfile(raw, storageKeyOf(seed));
    // A backup's records go in before anything reads the stores, in one atomic batch.
    const stored = imported.filter((r) => r.store !== ONE_TIME_KEYS_RECORDS);
    if (stored.length > 0)
      await db.batch(stored.map((r) => ({ type: 'put', store: r.store, key: r.key, value: r.value })));
    const defaults: StoredSettings = {
      network: 'local',
      nodeUrls: [this.#defaultNodeUrl('local')],
      iceServers: [],
      batching: false,
      readReceipts: true,
      notificationText: false,
      p2pOnly: false,
    };
    const settings = readSettings(await db.get(STATE_STORE, KEYS.settings), defaults);
    const identity = Identity.fromSeed(seed);
    // Saved by compare-and-set: should a second instance of this profile ever run over the
    // same database, the one whose state is stale stops instead of reusing a message key.
    const stateStore = await SessionStateStore.open(db, STATE_STORE, KEYS.sessions);
    const sessions = this.#loadSessions(identity, stateStore.state);
    const wallet = this.#wallet(identity, settings.network);
    // Our pre-keys exist only in this state: it is stored before any card announcing them
    // can be shown (session/prekeys.ts).
    sessions.refreshPreKeys();
    const ownCard = sessions.issueOwnCard({ displayName, addresses: [wallet.address] });
    await stateStore.save(sessions.serialize());
    const port = new EnvelopeSessions({
      self: identity.peerId,
      sessions,
      save: (bytes) => stateStore.save(bytes),
      // A contact's re-issued card (rotated pre-key): kept, so a backup restores the newest.
      onContactCard: (card) => {
        const current = this.#session;
        if (current?.port !== port) return;
        this.#keepCard(current, card).catch((e: unknown) => this.#report(e));
      },
    });
    // Settings (and so the network) may change while the session runs: read them when asked.
    const ref: { session?: Session } = {};
    const requests = await MessageRequests.open({
      db,
      checkCard: (card) =>
        requireAddressOn(card, NETWORKS[(ref.session?.settings ?? settings).network].prefix),
      onRefused: (_contact, error) => this.#report(error),
      // Delete and Block leave nothing of the stranger in the session state either.
      forget: (contact) => port.forget(contact),
      onChange: () => {
        if (ref.session !== undefined && this.#session === ref.session) this.#emit({ type: 'requests' });
      },
    });
    const cards = new Map<ContactId, ContactCard>();
    for (const [, value] of await db.scan(CONTACTS_STORE)) {
      try {
        const card = ContactCard.deserialize(value);
        cards.set(contactIdOf(card.peerId) as ContactId, card);
        port.add(card);
      } catch (e) {
        this.#report(e);
      }
    }
    // Restored one-time keys of contacts: checked against each contact's identity key again.
    let restoredKeys = false;
    for (const r of imported) {
      if (r.store !== ONE_TIME_KEYS_RECORDS) continue;
      const card = cards.get(bytesToUtf8(r.key) as ContactId);
      if (card === undefined) continue;
      try {
        const { batch, unused } = decodeOneTimeRecord(r.value);
        sessions.restoreOneTimeBatch(card.peerId, batch, unused);
        restoredKeys = true;
      } catch (e) {
        this.#report(e);
      }
    }
    if (restoredKeys) await stateStore.save(sessions.serialize());
    const session: Session = {
      seed,
      identity,
      displayName,
      db,
      cards,
      trust: await loadTrust(db, STATE_STORE, (e) => this.#report(e)),
      flags: await loadFlags(db, STATE_STORE, (e) => this.#report(e)),
      cleared: await loadCleared(db, STATE_STORE, (e) => this.#report(e)),
      // A damaged record is reported; its conversation keeps its messages (nothing is lost).
      timers: await loadContactRecords(db, STATE_STORE, 'disappearing', decodeSettings, (e) =>
        this.#report(e),
      ),
      sweeper: undefined,
      port,
      requests,
      sessions,
      stateStore,
      settings,
      card: ownCard,
      invite: undefined,
      shortInvite: undefined,
      inviteCoins: new ShortInviteCoins({
        db,
        store: STATE_STORE,
        reclaim: async (locator) => {
          const { client, chain } = session.running ?? (await session.engine);
          const directory = new ChainInviteDirectory({
            node: client,
            prefix: NETWORKS[session.settings.network].prefix,
          });
          return directory.reclaim(locator, await chain.freshPoolAddress(INVITE_POOL));
        },
        holdsOneTimeKey: (id) => sessions.holdsOneTimeKey(id),
        now: () => Date.now(),
        report: (e) => this.#report(e),
      }),
      resolved: new Map(),
      // Rotation and deletion run while the app is open, not only on traffic; the check at
      // unlock ran above, before the card was issued.
      preKeyTimer: new PreKeyTimer({
        sessions,
        save: (bytes) => stateStore.save(bytes),
        onChange: (card) => {
          const current = this.#session;
          if (current?.sessions !== sessions || card === null) return;
          current.card = card;
          current.invite = undefined;
        },
        onError: (e) => this.#report(e),
      }),
      // Replaced by `#wire` below, before anything can wait on it.
      engine: new Promise<Running>(() => undefined),
      running: undefined,
      client: undefined,
      closed: false,
    };
    ref.session = session;
    this.#session = session;
    this.#wire(session, wallet);
    // Messages that expired while the app was closed go now, then at each next expiry.
    session.sweeper = this.#startSweeper(session);
    return session;
  }

  /** The wallet key and notification address of an identity on a network (FACTS §2.3). */
  #wallet(identity: Identity, network: NetworkId): { address: Address; hd: KaspaHdWallet } {
    const net = NETWORKS[network];
    const hd = KaspaHdWallet.fromSeed(identity.walletSeed(), net.wallet);
    return { address: hd.address(net.prefix, 0, 0, 0), hd };
  }

  /**
   * The stored sessions, or new ones when there are none or they are of a format this
   * version no longer reads (version 1 held no pre-keys: its sessions started from
   * seed-derived ones). Contacts come back from their stored cards and sessions start anew.
   */
  #loadSessions(identity: Identity, state: Uint8Array | undefined): SessionManager {
    if (state !== undefined) {
      try {
        return SessionManager.deserialize(identity, state);
      } catch (e) {
        if (!(e instanceof DecodeError && e.code === 'UNKNOWN_VERSION')) throw e;
        this.#report(e);
      }
    }
    return SessionManager.create(identity);
  }

  /** Our card for `address`, with the current pre-key; its state is saved before it is used. */
  async #issueCard(s: Session, address: Address): Promise<ContactCard> {
    const card = s.sessions.issueOwnCard({ displayName: s.displayName, addresses: [address] });
    await s.stateStore.save(s.sessions.serialize());
    return card;
  }

  /** Starts the node connection and the engine in the background (`s.engine`). */
  #wire(s: Session, wallet: { address: Address; hd: KaspaHdWallet }): void {
    const prefix = NETWORKS[s.settings.network].prefix;
    // The session manager owns our card (it re-issues it when the pre-key rotates).
    s.card = s.sessions.ownCard ?? s.card;
    // Every node in the settings, addresses spread over them by a key of this profile.
    const client = new NodePool({
      urls: s.settings.nodeUrls,
      network: NETWORKS[s.settings.network].networkId,
      assignmentKey: nodeAssignmentKey(wallet.hd.privateKey(0, 0, 0)),
    });
    s.client = client;
    this.#setNetwork(s, client, 'connecting');
    // The client reconnects on its own, trying each address in turn with backoff; these
    // events only put that in words. A failed round of addresses is "unreachable" until a
    // connection opens again.
    client.on('error', (e) => {
      if (e instanceof RpcError && e.code === 'CONNECT_FAILED') this.#setNetwork(s, client, 'unreachable');
    });
    client.on('close', () => this.#setNetwork(s, client, 'connecting'));
    client.on('reconnect', () => {
      this.#setNetwork(s, client, 'online');
      // The node coming back usually means the network changed under us: links to contacts
      // seen recently are offered again, without waiting for a message (docs/delivery.md).
      s.running?.engine.reconnect().catch((e: unknown) => this.#report(e));
    });
    // However long the node stays away: a bounded wait would leave the session unable to
    // publish until the settings change, while the client is still trying.
    const connected = (async (): Promise<void> => {
      for (;;) {
        try {
          await client.connect();
          break;
        } catch (e) {
          if (s.closed || s.client !== client) throw e;
        }
      }
      this.#setNetwork(s, client, 'online');
      mark('node-connected');
    })();
    // Settled by the engine's chain start; a failure is reported there.
    connected.catch(() => undefined);
    const started = (async (): Promise<Running> => {
      try {
        const chain = new KaspaChain({
          client,
          wallet: wallet.hd,
          prefix,
          identity: s.identity,
          peerOf: (c) => {
            const card = s.port.card(c);
            return card === undefined ? undefined : peerKeysOf(card, prefix);
          },
          contacts: () => s.port.list(),
          db: s.db,
        });
        const evidence = await EvidenceRecorder.open(chain, s.db);
        const peers = new TransportLinks(this.#platform.createTransport(), {
          iceServers: s.settings.iceServers,
        });
        // The engine runs from the start, the node or not: a message is stored (and shown as
        // sending) at once, and published once the node has answered.
        const engine = await DeliveryEngine.open({
          db: s.db,
          sessions: s.port,
          contacts: this.#directory(s),
          chain: startsAfter(connected, evidence),
          chainInBackground: true,
          peers,
          requests: s.requests,
          attachments: this.#attachmentsOf(s),
          listener: (e) => this.#onEngineEvent(s, evidence, e),
          settings: {
            cheap: s.settings.batching,
            readReceipts: s.settings.readReceipts,
            p2pOnly: s.settings.p2pOnly,
          },
        });
        if (s.closed || s.client !== client) {
          // Locked or rewired while starting: this engine is not the session's any more.
          await engine.close();
          throw new AppApiError('LOCKED', 'The vault was locked');
        }
        const running = { engine, client, evidence, chain };
        s.running = running;
        mark('engine-open');
        // Coins of short invites used or replaced since the last session come back.
        s.inviteCoins.sweep().catch((e: unknown) => this.#report(e));
        this.#emit({ type: 'conversations' });
        return running;
      } catch (e) {
        client.close();
        throw e;
      }
    })();
    started.catch((e: unknown) => {
      // A start cut short by lock or rewiring is expected; anything else is worth a report.
      if (s.client === client && !s.closed) this.#report(e);
    });
    s.engine = started;
  }

  async #stopEngine(s: Session): Promise<void> {
    const running = s.running;
    const client = s.client;
    s.running = undefined;
    s.client = undefined;
    if (running !== undefined) await running.engine.close();
    // Also stops an engine still starting (its connect or open fails, and it is closed).
    client?.close();
  }

  /** Closes the session; `release` lets other windows take the profile afterwards. */
  async #stopSession(release = true): Promise<void> {
    const s = this.#session;
    if (s === undefined) return;
    this.#session = undefined;
    s.closed = true;
    s.preKeyTimer.stop();
    s.sweeper?.stop();
    this.#network = 'connecting';
    await this.#stopEngine(s);
    await s.db.close();
    wipe(s.seed);
    // Only once everything is stored and closed may another window take the profile.
    if (release) this.#instance.release();
    this.#raw = await this.#platform.openRawProfile(this.#databaseName);
    await this.#loadProfile();
  }

  async #keepCard(s: Session, card: ContactCard): Promise<void> {
    const id = contactIdOf(card.peerId) as ContactId;
    const ops: BatchOp[] = [
      { type: 'put', store: CONTACTS_STORE, key: utf8ToBytes(id), value: card.serialize() },
    ];
    // A new contact that carries the name of one we know, with another key, is warned about
    // (docs/protocol.md "Safety number"): its identity key is new, whatever its name says.
    let record: TrustRecord | undefined;
    if (!s.cards.has(id)) {
      const name = this.#nameOf(card);
      const other = [...s.cards].find(([, c]) => sameName(this.#nameOf(c), name) && !c.sameIdentity(card));
      if (other !== undefined) {
        record = { sameNameAs: other[0] };
        ops.push({ type: 'put', store: STATE_STORE, key: trustKey(id), value: encodeTrust(record) });
      }
    }
    await s.db.batch(ops);
    s.cards.set(id, card);
    if (record !== undefined) s.trust.set(id, record);
    s.port.add(card);
  }

  async #saveSettings(s: Session, next: StoredSettings): Promise<void> {
    await s.db.put(STATE_STORE, KEYS.settings, utf8ToBytes(JSON.stringify(next)));
    s.settings = next;
  }

  /** Local network only: a new identity gets coins from the devnet faucet (never elsewhere). */
  async #fundFromLocalFaucet(s: Session): Promise<void> {
    if (!NETWORKS[s.settings.network].hasLocalFaucet) return;
    const faucet = this.#options.localFaucetUrl;
    const address = s.card.addresses[0];
    if (faucet === undefined || address === undefined) return;
    try {
      await this.#platform.requestLocalFunds(faucet, address.toString());
    } catch (e) {
      this.#report(e);
    }
  }

  #onEngineEvent(s: Session, evidence: EvidenceRecorder, e: DeliveryEvent): void {
    if (this.#session !== s) return;
    switch (e.type) {
      case 'message': {
        const m = e.message;
        if (m.direction === 'in' && m.route === 'chain')
          evidence.note(m.id).catch((error: unknown) => this.#report(error));
        if (m.timer !== undefined) this.#takeTimer(s, m).catch((error: unknown) => this.#report(error));
        this.#foldIndexes.get(s)?.get(m.contact)?.put(m);
        this.#searchOf(s).put(m);
        if (m.action !== undefined || this.#withActions.has(m.contact)) {
          this.#onActionMessage(s, evidence, m).catch((error: unknown) => this.#report(error));
          return;
        }
        this.#emit({ type: 'message', message: this.#view(m, evidence) });
        this.#emit({ type: 'conversations' });
        return;
      }
      case 'connection':
        this.#emit({ type: 'connection', contactId: e.contact as ContactId, state: e.state });
        return;
      case 'funds':
        this.#emit({
          type: 'balance',
          balance: deliveryBalance(e.funds, s.settings.p2pOnly, s.settings.network),
        });
        return;
      case 'typing':
        this.#emit({ type: 'typing', contactId: e.contact as ContactId, active: e.active });
        return;
      case 'pruned':
        // A message whose payload the node no longer keeps (NOTES §3): its sender's copy
        // stays "sent" and is republished, so there is nothing to show here.
        return;
      case 'error':
        this.#report(e.error);
        // Another instance took over the session state (should the lock ever fail): this
        // one has stopped sending, and locks so that nothing else runs on stale state.
        if (e.error instanceof DeliveryError && e.error.code === 'SUPERSEDED')
          void this.lock().catch((error: unknown) => this.#report(error));
        return;
    }
  }

  // --- helpers -----------------------------------------------------------------------------

  /**
   * Conversations as the engine keeps them, or, while it is not running (the node not
   * reached yet, or unreachable), as stored: the history stays readable without a node.
   */
  async #history(s: Session): Promise<{
    messages(id: ContactId): Promise<Message[]>;
    view(m: Message): ChatMessage;
  }> {
    const running = s.running;
    if (running !== undefined) {
      const { engine, evidence } = running;
      return { messages: (id) => engine.messages(id), view: (m) => this.#view(m, evidence) };
    }
    const store = new DeliveryStore(s.db);
    const evidence = await loadEvidence(s.db);
    return {
      async messages(id) {
        const [inc, out] = await Promise.all([store.conversation(id, 'in'), store.conversation(id, 'out')]);
        return [...inc, ...out].sort(conversationOrder);
      },
      view: (m) => this.#timerLine(chatMessage(m, evidence.has(m.id)), m),
    };
  }

  #setNetwork(s: Session, client: KaspaNode, state: NetworkState): void {
    if (this.#session !== s || s.client !== client || this.#network === state) return;
    this.#network = state;
    this.#emit({ type: 'network', state });
  }

  /**
   * The running engine. It opens without waiting for the node (`chainInBackground`), so the
   * wait is only for its stored queues to load. A rewiring (another node) replaces the engine
   * being waited for, and the one replaced rejects; the wait moves to the new one.
   */
  async #runningEngine(s: Session): Promise<Running> {
    for (;;) {
      if (s.running !== undefined) return s.running;
      const waited = s.engine;
      try {
        return await waited;
      } catch (e) {
        if (!s.closed && this.#session === s && s.engine !== waited) continue;
        throw e;
      }
    }
  }

  #view(m: Message, evidence: EvidenceRecorder): ChatMessage {
    return this.#timerLine(chatMessage(m, evidence.get(m.id) !== undefined), m);
  }

  #defaultNodeUrl(network: NetworkId): string {
    return network === 'local'
      ? (this.#options.localNodeUrl ?? NETWORKS.local.defaultNodeUrl)
      : NETWORKS[network].defaultNodeUrl;
  }

  #decodeInvite(code: string): Invite {
    if (typeof code !== 'string') throw new TypeError('"code" expected a string');
    let invite: Invite;
    try {
      const parsed = parseInviteLink(code);
      // Short codes are looked up by `#readInvite` first; one reaching here is refused as such.
      if (parsed.kind === 'short')
        throw new AppApiError(
          'SHORT_INVITE',
          'This is a short invite link, which this app cannot open. Ask for the full invite link.',
        );
      invite = parsed.invite;
    } catch (cause) {
      if (cause instanceof AppApiError) throw cause;
      if (cause instanceof DecodeError && cause.code === 'UNKNOWN_VERSION')
        throw new AppApiError(
          'OLD_INVITE',
          'This invite was made by another version of p2pComm. Ask for a new invite link.',
          { cause },
        );
      throw new AppApiError('BAD_INVITE', 'This is not an invite', { cause });
    }
    const card = invite.card;
    const s = this.#session;
    if (s !== undefined && card.sameIdentity(s.card))
      throw new AppApiError('OWN_INVITE', 'This is your own invite');
    if (s !== undefined) this.#checkNetwork(s, card);
    return invite;
  }

  /** Refuses a card this client cannot reach: every address it lists is on another network. */
  #checkNetwork(s: Session, card: ContactCard): void {
    try {
      requireAddressOn(card, NETWORKS[s.settings.network].prefix);
    } catch (cause) {
      if (!(cause instanceof ContactCardError)) throw cause;
      throw new AppApiError(
        'WRONG_NETWORK',
        `This invite is for another network than this app uses (${s.settings.network}). Ask for an invite made on the same network.`,
        { cause },
      );
    }
  }

  #nameOf(card: ContactCard): string {
    const name = card.displayName.trim();
    return name === '' ? UNNAMED : name;
  }

  #contactSummary(s: Session, id: ContactId): ContactSummary {
    const card = s.cards.get(id);
    if (card === undefined) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    return {
      id,
      displayName: s.flags.get(id)?.nickname ?? this.#nameOf(card),
      ...(s.flags.get(id)?.nickname !== undefined && { cardName: this.#nameOf(card) }),
      fingerprint: fingerprint(card.peerId),
      connection: s.running?.engine.connection(id) ?? 'offline',
      ...trustView(s.trust.get(id), card.identityKey),
      ...(s.requests.isBlocked(id) && { blocked: true as const }),
    };
  }

  #safetyNumberOf(s: Session, id: ContactId): SafetyNumber {
    const card = s.cards.get(id);
    if (card === undefined) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    return SafetyNumber.of({ identityKey: s.identity.publicKey }, { identityKey: card.identityKey });
  }

  #summary(s: Session): IdentitySummary {
    return { displayName: s.displayName, fingerprint: fingerprint(s.identity.peerId) };
  }

  // --- attachments (issue 14) ---------------------------------------------------------------

  readonly #attachments = new WeakMap<Session, AttachmentService>();
  readonly #attachmentListeners = new Set<(a: AttachmentView) => void>();
  /** Parts of each outgoing attachment handed to the link (its sender-side progress). */
  readonly #sentParts = new Map<string, number>();

  #attachmentsOf(s: Session): AttachmentService {
    let service = this.#attachments.get(s);
    if (service === undefined) {
      const store = new AttachmentStore(s.db);
      service = new AttachmentService({
        store,
        sessions: s.port,
        // "Send now" asks for a direct link first: if the contact answers, the file goes free.
        connect: async (contact) => (await s.engine).engine.connect(contact),
        listener: (e) => {
          const id =
            e.type === 'status'
              ? e.status.id
              : e.type === 'progress'
                ? e.progress.id
                : e.type === 'error'
                  ? undefined
                  : e.id;
          if (e.type === 'sent')
            this.#sentParts.set(
              bytesToHex(e.id),
              Math.max(e.sent, this.#sentParts.get(bytesToHex(e.id)) ?? 0),
            );
          if (e.type === 'error') this.#report(e.error);
          if (id !== undefined) void this.#emitAttachment(store, id);
        },
      });
      this.#attachments.set(s, service);
    }
    return service;
  }

  /** The chain publications of `id` as its sender-side progress (pieces less the manifest). */
  #chainParts(service: AttachmentService, id: AttachmentId): number {
    const p = service.chain.published(id);
    return p === undefined ? 0 : Math.max(0, p.published - 1);
  }

  async #emitAttachment(store: AttachmentStore, id: AttachmentId): Promise<void> {
    const r = await store.record(id).catch(() => undefined);
    if (r === undefined) return;
    const view = this.#attachmentView(r);
    for (const l of this.#attachmentListeners) {
      try {
        l(view);
      } catch (e) {
        this.#report(e);
      }
    }
  }

  #attachmentView(r: AttachmentRecord): AttachmentView {
    const m = r.manifest;
    const id = bytesToHex(m.id);
    const service = this.#session === undefined ? undefined : this.#attachments.get(this.#session);
    const onChain = r.direction === 'out' && service !== undefined && service.chain.chosen(m.id);
    const chainParts = onChain && service ? this.#chainParts(service, m.id) : 0;
    const done =
      r.direction === 'in' || r.state === 'complete'
        ? r.direction === 'in'
          ? r.received
          : m.chunkCount
        : Math.min(Math.max(this.#sentParts.get(id) ?? 0, chainParts), m.chunkCount);
    return {
      id,
      contactId: r.contact as ContactId,
      direction: r.direction,
      kind: m.kind,
      name: m.name,
      mediaType: m.mediaType,
      size: m.size,
      state: r.state,
      done,
      parts: m.chunkCount,
      createdAt: r.createdAt,
      onChain,
      ...(m.kind === 'voice' ? { voice: { durationMs: m.durationMs, waveform: m.waveform } } : {}),
    };
  }

  #attachmentId(attachmentId: string): AttachmentId {
    if (typeof attachmentId !== 'string' || !/^[0-9a-f]{32}$/.test(attachmentId))
      throw new AttachmentError('UNKNOWN_ATTACHMENT', 'No such attachment');
    return hexToBytes(attachmentId) as AttachmentId;
  }

  attachmentLimits(): AttachmentLimitsView {
    const l = this.#session === undefined ? resolveLimits() : this.#attachmentsOf(this.#session).settings;
    return { maxBytes: l.maxBytes, maxOfflineBytes: l.maxChainBytes, maxVoiceMs: l.maxVoiceMs };
  }

  async attachments(id: ContactId): Promise<readonly AttachmentView[]> {
    const s = this.#requireSession();
    if (!s.cards.has(id)) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    return (await this.#attachmentsOf(s).list(id)).map((r) => this.#attachmentView(r));
  }

  async sendFile(id: ContactId, file: PickedFile): Promise<AttachmentView> {
    const s = this.#requireSession();
    if (!s.cards.has(id)) throw new AppApiError('UNKNOWN_CONTACT', 'No such contact');
    if (!(file.bytes instanceof Uint8Array)) throw new TypeError('"file.bytes" expected a Uint8Array');
    const service = this.#attachmentsOf(s);
    const m = await service.send(id, file.bytes, pickedFileInfo(file));
    const r = (await service.list(id)).find((x) => bytesToHex(x.manifest.id) === bytesToHex(m.id));
    if (r === undefined) throw new AttachmentError('UNKNOWN_ATTACHMENT', 'The attachment was not stored');
    return this.#attachmentView(r);
  }

  async cancelAttachment(attachmentId: string): Promise<void> {
    const s = this.#requireSession();
    const id = this.#attachmentId(attachmentId);
    await this.#attachmentsOf(s).cancel(id);
    await this.#emitAttachment(new AttachmentStore(s.db), id);
  }

  async attachmentCost(attachmentId: string): Promise<AttachmentCostView> {
    const s = this.#requireSession();
    const id = this.#attachmentId(attachmentId);
    const { engine } = await s.engine;
    const funds = await engine.funds();
    const plan = await this.#attachmentsOf(s).chainPlan(id, {
      costPerMessage: funds.costPerMessage > 0n ? funds.costPerMessage : 1n,
      spendable: funds.spendable,
    });
    return {
      secureMessages: plan.secureMessages,
      messagesLeft: plan.messagesLeft,
      insufficient: plan.insufficient,
      text: describePlan(plan),
    };
  }

  async sendAttachmentNow(attachmentId: string): Promise<AttachmentView> {
    const s = this.#requireSession();
    const id = this.#attachmentId(attachmentId);
    const service = this.#attachmentsOf(s);
    await service.sendNow(id);
    const r = await new AttachmentStore(s.db).record(id);
    if (r === undefined) throw new AttachmentError('UNKNOWN_ATTACHMENT', 'No such attachment');
    const view = this.#attachmentView(r);
    void this.#emitAttachment(new AttachmentStore(s.db), id);
    return view;
  }

  async attachmentBytes(attachmentId: string): Promise<Uint8Array> {
    const s = this.#requireSession();
    return this.#attachmentsOf(s).read(this.#attachmentId(attachmentId));
  }

  onAttachment(listener: (attachment: AttachmentView) => void): Unsubscribe {
    if (typeof listener !== 'function') throw new TypeError('"listener" expected a function');
    this.#attachmentListeners.add(listener);
    return () => this.#attachmentListeners.delete(listener);
  }

  #requireSession(): Session {
    const s = this.#session;
    if (s !== undefined) return s;
    if (this.#vaultBytes === undefined) throw new AppApiError('NO_IDENTITY', 'No identity on this device');
    throw new AppApiError('LOCKED', 'Unlock first');
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#transition.then(fn, fn);
    this.#transition = next.catch(() => undefined);
    return next;
  }

  #emitVault(): void {
    this.#emit({ type: 'vault', state: this.vaultState() });
  }

  #emit(event: AppEvent): void {
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch (e) {
        this.#report(e);
      }
    }
  }

  #report(error: unknown): void {
    const e = error instanceof Error ? error : new Error(String(error));
    (this.#options.onError ?? ((x: Error) => console.warn('p2pComm:', x)))(e);
  }
}
