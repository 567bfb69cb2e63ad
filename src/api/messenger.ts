/**
 * `Messenger`: p2pComm for programs (bots, servers, the command-line client). It is the web
 * app's engine (`RealApi`, src/web/engine/real-api.ts) run over the Node platform: the same
 * vault, sessions, delivery engine and node connection, with the profile in a data directory
 * (SQLite, sealed at rest) and WebRTC links through werift. docs/api.md is its manual.
 *
 * Every call takes an optional AbortSignal: an aborted call rejects with the signal's reason
 * (an `AbortError` DOMException unless the caller gave another). Work already handed to the
 * engine (a message accepted for delivery) is not undone by an abort: it is in the queue,
 * and delivered like any other. Failures are typed: AppApiError (src/web/app-api.ts) for what
 * the user did, StorageError PROFILE_IN_USE when another process has the profile open.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ScryptParams } from '../core/vault/vault.ts';
import {
  AppApiError,
  type AppEvent,
  type AppSettings,
  type ChatMessage,
  type ContactId,
  type ContactSummary,
  type CreatedIdentity,
  type DeliveryBalance,
  type DeliveryProof,
  type IdentitySummary,
  type MessageId,
  type MessageRequestSummary,
  type MessageStatus,
  type NetworkState,
  type SafetyNumberView,
  type VaultState,
} from '../web/app-api.ts';
import { inviteCodeFrom } from '../web/format.ts';
import { RealApi } from '../web/engine/real-api.ts';
import { CARD_URI_PREFIX } from '../core/contact/card.ts';
import { DeliveryError } from '../core/delivery/errors.ts';
import type { Platform } from '../web/engine/platform.ts';
import { nodePlatform } from './node-platform.ts';

/** What `Messenger.open` takes. */
export interface MessengerOptions {
  /** The profile's data directory. @default defaultDataDir() */
  readonly dataDir?: string;
  /** Node of the `local` network for a new profile (loopback). @default ws://127.0.0.1:18510 */
  readonly nodeUrl?: string;
  /** Faucet of the local network (`http://127.0.0.1:PORT/devnet/fund`); a new identity asks it for coins. */
  readonly faucetUrl?: string;
  /** Extra local addresses offered for direct links, e.g. `['127.0.0.1']` when both ends share a machine. */
  readonly hostAddresses?: readonly string[];
  /** Vault KDF cost of a new identity. @default DEFAULT_SCRYPT (NOTES §5) */
  readonly scrypt?: ScryptParams;
  /** Told about failures of background work (node, faucet, engine); the messenger keeps going. */
  readonly onError?: (error: Error) => void;
  readonly signal?: AbortSignal;
}

/** The `signal` every call takes. */
export interface CallOptions {
  readonly signal?: AbortSignal;
}

/** Everything the messenger reports: messages (new and changed), connections, network, balance. */
export type MessengerEvent = AppEvent;

/** Options of a message action: `wait: 'sent'` returns once it left (default `queued`). */
export interface ActionOptions extends CallOptions {
  readonly wait?: 'queued' | 'sent';
}

/** How often an action's wait looks whether it left, in ms. */
const LEFT_POLL_MS = 100;

/** How far `send` waits: `queued` returns at once, `sent` once it left (direct or chain), `delivered` at the receipt. */
export type SendWait = 'queued' | 'sent' | 'delivered';

/** Statuses that satisfy each wait (a later status satisfies an earlier wait). */
const REACHED: Readonly<Record<SendWait, readonly MessageStatus[]>> = {
  queued: ['sending', 'sent', 'delivered', 'read', 'failed'],
  sent: ['sent', 'delivered', 'read', 'failed'],
  delivered: ['delivered', 'read', 'failed'],
};

/** Most events kept for an `events()` reader that has fallen behind (the oldest go first). */
const MAX_QUEUED_EVENTS = 10_000;

/** `$XDG_DATA_HOME/p2pcomm`, or `~/.local/share/p2pcomm` (XDG Base Directory specification). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_DATA_HOME'];
  // The specification ignores a relative value.
  const base = xdg !== undefined && xdg.startsWith('/') ? xdg : join(homedir(), '.local', 'share');
  return join(base, 'p2pcomm');
}

/** Runs `work`, rejecting as soon as `signal` aborts (the work itself runs to its end). */
async function abortable<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  if (signal === undefined) return work();
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const running = work();
  try {
    return await Promise.race([running, aborted]);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
    // A result nobody waits for any more must not become an unhandled rejection.
    running.catch(() => undefined);
  }
}

/** One profile, opened by `Messenger.open`. */
export class Messenger {
  readonly #api: RealApi;
  readonly #dataDir: string;
  #closed = false;

  readonly #funding: ReadonlySet<Promise<void>>;

  readonly #closing: { value: boolean };

  private constructor(
    api: RealApi,
    dataDir: string,
    funding: ReadonlySet<Promise<void>>,
    closing: { value: boolean },
  ) {
    this.#api = api;
    this.#dataDir = dataDir;
    this.#funding = funding;
    this.#closing = closing;
  }

  /**
   * Opens the profile in `dataDir` (created if missing) for this process alone. The identity
   * is still locked: `create`, `unlock`, `restore` or `importBackup` next. StorageError
   * PROFILE_IN_USE when another process (or another Messenger here) has it open.
   */
  static async open(options: MessengerOptions = {}): Promise<Messenger> {
    const dataDir = resolve(options.dataDir ?? defaultDataDir());
    return abortable(options.signal, async () => {
      const base = nodePlatform(
        options.hostAddresses === undefined
          ? {}
          : { transport: { additionalHostAddresses: options.hostAddresses } },
      );
      // The engine asks the faucet in the background; a program that exits right after
      // `create` (p2pcomm init) must not cut that request off, so `close` waits for it.
      const funding = new Set<Promise<void>>();
      const closing = { value: false };
      const platform: Platform = {
        ...base,
        requestLocalFunds(url, address) {
          const p = base.requestLocalFunds(url, address);
          const settled = p.catch(() => undefined).finally(() => funding.delete(settled));
          funding.add(settled);
          return p;
        },
      };
      const api = await RealApi.open({
        database: dataDir,
        platform,
        ...(options.nodeUrl === undefined ? {} : { localNodeUrl: options.nodeUrl }),
        ...(options.faucetUrl === undefined ? {} : { localFaucetUrl: options.faucetUrl }),
        ...(options.scrypt === undefined ? {} : { scrypt: options.scrypt }),
        onError: (e) => {
          // Background work cut short by `close` (an offer still being sent as the engine
          // stops) is expected, not a failure to report: what it carried is stored.
          if (closing.value && e instanceof DeliveryError && e.code === 'CLOSED') return;
          (options.onError ?? ((x: Error) => console.warn('p2pComm:', x.message)))(e);
        },
      });
      return new Messenger(api, dataDir, funding, closing);
    });
  }

  /** The data directory, absolute. */
  get dataDir(): string {
    return this.#dataDir;
  }

  /** `empty` (no identity yet), `locked` or `unlocked`. */
  get state(): VaultState {
    return this.#api.vaultState();
  }

  /** Reachability of the Kaspa node. */
  get network(): NetworkState {
    return this.#api.networkState();
  }

  // --- identity ----------------------------------------------------------------------------

  /** Creates the identity (and unlocks it); keep the recovery words somewhere safe. */
  create(displayName: string, password: string, options: CallOptions = {}): Promise<CreatedIdentity> {
    return this.#call(options, async () => {
      const created = await this.#api.createIdentity(displayName, password);
      await this.#keepSettings();
      return created;
    });
  }

  /** Unlocks the identity; messages that arrived meanwhile are caught up (within a bound). */
  unlock(password: string, options: CallOptions = {}): Promise<IdentitySummary> {
    return this.#call(options, () => this.#api.unlock(password));
  }

  /** Replaces this profile by the identity of `recoveryWords` under a new password. */
  restore(
    recoveryWords: string,
    displayName: string,
    newPassword: string,
    options: CallOptions = {},
  ): Promise<IdentitySummary> {
    return this.#call(options, async () => {
      const who = await this.#api.restore(recoveryWords, displayName, newPassword);
      await this.#keepSettings();
      return who;
    });
  }

  /** Locks (the engine stores its queues as it stops); `unlock` again to go on. */
  lock(options: CallOptions = {}): Promise<void> {
    return this.#call(options, () => this.#api.lock());
  }

  /** Locks and frees the data directory for another process. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.value = true;
    // Bounded by the faucet request's own timeout (node-platform.ts).
    await Promise.all([...this.#funding]);
    await this.#api.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Waits until the engine has caught up with the chain: messages published while this
   * profile was closed are in the conversations (and were announced as `message` events)
   * once it resolves. `unlock` waits only a bounded time for this, and not at all while the
   * node is unreachable; a program that reads once and exits (`p2pcomm history`) waits here.
   */
  sync(options: CallOptions = {}): Promise<void> {
    // The engine answers `funds` only once its chain adapter has started, and starting
    // includes the catch-up (core/delivery/engine.ts `funds`, `chainInBackground`).
    return this.#call(options, async () => {
      await this.#api.balance();
    });
  }

  // --- contacts ----------------------------------------------------------------------------

  /** Our invite link (`p2pcomm:…`), the same a web user pastes or scans. */
  card(options: CallOptions = {}): Promise<string> {
    return this.#call(options, async () => CARD_URI_PREFIX + (await this.#api.myInviteCode()));
  }

  /**
   * Adds a contact from an invite: a `p2pcomm:` link, a web invite link (`…#/add/…`) or the
   * bare code. BAD_INVITE, OWN_INVITE or WRONG_NETWORK otherwise.
   */
  addContact(invite: string, options: CallOptions = {}): Promise<ContactSummary> {
    return this.#call(options, () => this.#api.addContact(this.#code(invite)));
  }

  /** Who an invite names, without adding it. */
  previewInvite(
    invite: string,
    options: CallOptions = {},
  ): Promise<{ displayName: string; fingerprint: string }> {
    return this.#call(options, () => this.#api.previewInvite(this.#code(invite)));
  }

  /** Every contact, most recent conversation first. */
  contacts(options: CallOptions = {}): Promise<ContactSummary[]> {
    return this.#call(options, async () => (await this.#api.conversations()).map((c) => c.contact));
  }

  /**
   * The contact `ref` names: its id, its fingerprint (spaces optional), or its display name
   * (case-insensitive, when no other contact has it). UNKNOWN_CONTACT otherwise.
   */
  contact(ref: string, options: CallOptions = {}): Promise<ContactSummary> {
    return this.#call(options, () => this.#resolve(ref));
  }

  /** The safety number with `ref`, to compare in person. */
  safetyNumber(ref: string, options: CallOptions = {}): Promise<SafetyNumberView> {
    return this.#call(options, async () => this.#api.safetyNumber((await this.#resolve(ref)).id));
  }

  // --- messages ----------------------------------------------------------------------------

  /**
   * Sends `text` to `ref`. `wait` (default `queued`) is how far to wait: `sent` once it has
   * left on a direct link or in a published transaction, `delivered` at the receipt. A
   * `failed` status ends any wait (the message is returned with it).
   */
  send(
    ref: string,
    text: string,
    options: CallOptions & { readonly wait?: SendWait } = {},
  ): Promise<ChatMessage> {
    const wait = options.wait ?? 'queued';
    return this.#call(options, async () => {
      if (!Object.hasOwn(REACHED, wait))
        throw new TypeError('"options.wait" expected queued, sent or delivered');
      const contact = await this.#resolve(ref);
      // Listening before sending: the status may change before `send` returns.
      const latest = new Map<string, ChatMessage>();
      let notify: (() => void) | undefined;
      const stop = this.#api.subscribe((e) => {
        if (e.type !== 'message') return;
        latest.set(e.message.id, e.message);
        notify?.();
      });
      try {
        const sent = await this.#api.send(contact.id, text);
        let m = latest.get(sent.id) ?? sent;
        while (!REACHED[wait].includes(m.status)) {
          await new Promise<void>((r) => {
            notify = r;
            options.signal?.addEventListener('abort', () => r(), { once: true });
          });
          options.signal?.throwIfAborted();
          m = latest.get(sent.id) ?? m;
        }
        return m;
      } finally {
        stop();
      }
    });
  }

  /** The conversation with `ref`, oldest first; `limit` keeps the newest. */
  messages(
    ref: string,
    options: CallOptions & { readonly limit?: number } = {},
  ): Promise<readonly ChatMessage[]> {
    return this.#call(options, async () => {
      const { id } = await this.#resolve(ref);
      return this.#api.messages(id, options.limit === undefined ? {} : { limit: options.limit });
    });
  }

  /** Marks the conversation with `ref` read (read receipts go out if enabled). */
  markRead(ref: string, options: CallOptions = {}): Promise<void> {
    return this.#call(options, async () => this.#api.markRead((await this.#resolve(ref)).id));
  }

  // --- message actions (reply, react, edit, delete, forward; docs/api.md) -------------------

  /**
   * Sends `text` to `ref` as a reply quoting its message `replyTo`. Rejects like `send`, and
   * AppApiError UNKNOWN_MESSAGE when `replyTo` is not a message of that conversation.
   */
  reply(ref: string, text: string, replyTo: string, options: ActionOptions = {}): Promise<ChatMessage> {
    return this.#action(options, async () =>
      this.#api.reply((await this.#resolve(ref)).id, text, replyTo as MessageId),
    );
  }

  /**
   * Sets our reaction to a message (`emoji` one of the fixed set, `REACTIONS` in
   * src/web/app-api.ts), or takes it back (null). Resolves with the message as now shown.
   * Rejects UNKNOWN_MESSAGE, BAD_REACTION, DELETED.
   */
  react(messageId: string, emoji: string | null, options: ActionOptions = {}): Promise<ChatMessage> {
    return this.#action(options, () => this.#api.react(messageId as MessageId, emoji));
  }

  /**
   * Replaces the text of one of our messages, here and on the contact's device, within 24 hours
   * of sending it. Rejects UNKNOWN_MESSAGE, NOT_YOURS, EDIT_WINDOW, DELETED, EMPTY_MESSAGE,
   * MESSAGE_TOO_LONG.
   */
  edit(messageId: string, text: string, options: ActionOptions = {}): Promise<ChatMessage> {
    return this.#action(options, () => this.#api.edit(messageId as MessageId, text));
  }

  /**
   * Deletes one of our messages for everyone: both sides show it deleted and drop its text from
   * storage (an encrypted copy that went by chain stays on the ledger until pruned). Rejects
   * UNKNOWN_MESSAGE, NOT_YOURS.
   */
  deleteForEveryone(messageId: string, options: ActionOptions = {}): Promise<ChatMessage> {
    return this.#action(options, () => this.#api.deleteForEveryone(messageId as MessageId));
  }

  /** Removes a message (either direction) from this device only. Rejects UNKNOWN_MESSAGE. */
  deleteForMe(messageId: string, options: CallOptions = {}): Promise<void> {
    return this.#call(options, () => this.#api.deleteForMe(messageId as MessageId));
  }

  /**
   * Sends the current text of a message to each of `refs` as a new message marked forwarded.
   * Every contact is resolved before anything is sent. Rejects UNKNOWN_MESSAGE, DELETED,
   * UNKNOWN_CONTACT.
   */
  forward(
    messageId: string,
    refs: readonly string[],
    options: ActionOptions = {},
  ): Promise<readonly ChatMessage[]> {
    return this.#action(options, async () => {
      if (!Array.isArray(refs) || refs.length === 0) throw new TypeError('"refs" expected contacts');
      const to: ContactId[] = [];
      for (const ref of refs) to.push((await this.#resolve(ref)).id);
      return this.#api.forward(messageId as MessageId, to);
    });
  }

  /**
   * Runs one message action. `wait` is checked before anything is sent; with `wait: 'sent'`
   * the call then waits until nothing of ours to the conversations the result is in is still
   * queued (the action left on a direct link or in a published transaction), ending early on
   * `signal`.
   */
  #action<T extends ChatMessage | readonly ChatMessage[]>(
    options: ActionOptions,
    act: () => Promise<T>,
  ): Promise<T> {
    return this.#call(options, async () => {
      const wait = options.wait ?? 'queued';
      if (wait !== 'queued' && wait !== 'sent') throw new TypeError('"options.wait" expected queued or sent');
      const result = await act();
      if (wait === 'queued') return result;
      const shown: readonly ChatMessage[] = Array.isArray(result) ? result : [result as ChatMessage];
      for (const c of new Set(shown.map((m) => m.contactId))) {
        while ((await this.#api.unsent(c)) > 0) {
          options.signal?.throwIfAborted();
          await new Promise((r) => setTimeout(r, LEFT_POLL_MS));
        }
      }
      return result;
    });
  }

  /** Sends a failed message again. */
  retry(messageId: string, options: CallOptions = {}): Promise<void> {
    return this.#call(options, () => this.#api.retry(messageId as MessageId));
  }

  /** The chain evidence of a message that went by chain, or null (direct, or not yet published). */
  proof(messageId: string, options: CallOptions = {}): Promise<DeliveryProof | null> {
    return this.#call(options, () => this.#api.deliveryProof(messageId as MessageId));
  }

  // --- message requests (first messages from people not in the contacts) ---------------------

  requests(options: CallOptions = {}): Promise<readonly MessageRequestSummary[]> {
    return this.#call(options, () => this.#api.messageRequests());
  }

  /** Accepts a request: its sender becomes a contact and the messages join the conversation. */
  acceptRequest(id: string, options: CallOptions = {}): Promise<ContactSummary> {
    return this.#call(options, () => this.#api.acceptRequest(id as ContactId));
  }

  /** Blocks the sender of a request: nothing of theirs is shown again. */
  blockRequest(id: string, options: CallOptions = {}): Promise<void> {
    return this.#call(options, () => this.#api.blockRequest(id as ContactId));
  }

  deleteRequest(id: string, options: CallOptions = {}): Promise<void> {
    return this.#call(options, () => this.#api.deleteRequest(id as ContactId));
  }

  // --- balance, settings, backup ---------------------------------------------------------------

  balance(options: CallOptions = {}): Promise<DeliveryBalance> {
    return this.#call(options, () => this.#api.balance());
  }

  settings(options: CallOptions = {}): Promise<AppSettings> {
    return this.#call(options, () => this.#api.settings());
  }

  /** Changes settings; another network, node or ICE servers restart the engine. BAD_SETTING. */
  updateSettings(patch: Partial<AppSettings>, options: CallOptions = {}): Promise<AppSettings> {
    return this.#call(options, () => this.#api.updateSettings(patch));
  }

  /** Direct only: nothing goes by chain (nothing is spent); messages wait for a direct link. */
  setP2pOnly(on: boolean, options: CallOptions = {}): Promise<DeliveryBalance> {
    return this.#call(options, () => this.#api.setP2pOnly(on));
  }

  /** The encrypted backup file (docs/protocol.md "Backup file"). */
  exportBackup(options: CallOptions = {}): Promise<Uint8Array> {
    return this.#call(options, () => this.#api.exportBackup());
  }

  /** Replaces this profile by a backup, unlocked by the password it was made under. */
  importBackup(file: Uint8Array, password: string, options: CallOptions = {}): Promise<IdentitySummary> {
    return this.#call(options, async () => {
      const who = await this.#api.importBackup(file, password);
      await this.#keepSettings();
      return who;
    });
  }

  // --- events --------------------------------------------------------------------------------

  /** Calls `listener` for every event until the returned function is called. */
  on(listener: (event: MessengerEvent) => void): () => void {
    const stop = this.#api.subscribe(listener);
    return () => {
      stop();
    };
  }

  /**
   * Events as an async iterator, from now until `signal` aborts, `break`, or `close`. A
   * reader that falls more than 10,000 events behind loses the oldest.
   */
  events(options: CallOptions = {}): AsyncIterableIterator<MessengerEvent> {
    const queue: MessengerEvent[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const finish = (): void => {
      done = true;
      stop();
      wake?.();
    };
    const stop = this.#api.subscribe((e) => {
      queue.push(e);
      if (queue.length > MAX_QUEUED_EVENTS) queue.shift();
      wake?.();
    });
    const signal = options.signal;
    if (signal?.aborted === true) finish();
    signal?.addEventListener('abort', finish, { once: true });
    const iterator: AsyncIterableIterator<MessengerEvent> = {
      [Symbol.asyncIterator]: () => iterator,
      next: async (): Promise<IteratorResult<MessengerEvent>> => {
        for (;;) {
          const e = queue.shift();
          if (e !== undefined) return { value: e, done: false };
          if (done || this.#closed) {
            finish();
            return { value: undefined, done: true };
          }
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
        }
      },
      return: (): Promise<IteratorResult<MessengerEvent>> => {
        finish();
        signal?.removeEventListener('abort', finish);
        return Promise.resolve({ value: undefined, done: true });
      },
    };
    return iterator;
  }

  // --- helpers -------------------------------------------------------------------------------

  #call<T>(options: CallOptions, work: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new AppApiError('LOCKED', 'This messenger is closed'));
    return abortable(options.signal, work);
  }

  /**
   * Stores the settings a new profile starts with (its node among them): the web app is
   * told its node by the page address on every load, a program only when it opens the
   * profile for the first time, so the profile has to remember it.
   */
  async #keepSettings(): Promise<void> {
    await this.#api.updateSettings({});
  }

  #code(invite: string): string {
    if (typeof invite !== 'string') throw new TypeError('"invite" expected a string');
    const code = inviteCodeFrom(invite);
    if (code === undefined) throw new AppApiError('BAD_INVITE', 'This is not an invite');
    return code;
  }

  async #resolve(ref: string): Promise<ContactSummary> {
    if (typeof ref !== 'string') throw new TypeError('"contact" expected a string');
    const wanted = ref.trim();
    const all = (await this.#api.conversations()).map((c) => c.contact);
    const byId = all.find((c) => c.id === wanted);
    if (byId !== undefined) return byId;
    const compact = wanted.replace(/\s+/g, '').toLowerCase();
    if (/^[0-9a-f]{16}$/.test(compact)) {
      const byPrint = all.find((c) => c.fingerprint.replace(/\s+/g, '') === compact);
      if (byPrint !== undefined) return byPrint;
    }
    const byName = all.filter((c) => c.displayName.toLowerCase() === wanted.toLowerCase());
    if (byName.length === 1 && byName[0] !== undefined) return byName[0];
    if (byName.length > 1)
      throw new AppApiError(
        'UNKNOWN_CONTACT',
        `${byName.length} contacts are named ${wanted}: name one by its id or fingerprint`,
      );
    throw new AppApiError('UNKNOWN_CONTACT', `No contact ${wanted}`);
  }
}
