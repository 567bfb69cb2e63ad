/**
 * Clients on the local Kaspa network: identity, wallet key, card with a `kaspasim:` address,
 * real sessions, the Kaspa chain adapter and (optionally) werift links, over a persistent
 * in-memory database so a client can be killed and restarted.
 */
import type { ContactCard } from '../../../src/core/contact/card.ts';
import { Identity } from '../../../src/core/identity/identity.ts';
import { SessionManager } from '../../../src/core/session/session-manager.ts';
import {
  DeliveryEngine,
  type DeliveryEvent,
  type DeliverySettings,
} from '../../../src/core/delivery/engine.ts';
import { EnvelopeSessions, contactIdOf } from '../../../src/core/delivery/sessions.ts';
import { KaspaChain } from '../../../src/core/delivery/kaspa-chain.ts';
import { peerKeysOf } from '../../../src/core/delivery/addresses/index.ts';
import { TransportLinks } from '../../../src/core/delivery/links.ts';
import type { Message } from '../../../src/core/delivery/messages.ts';
import { MessageRequests } from '../../../src/core/requests/requests.ts';
import { requireAddressOn } from '../../../src/core/contact/network.ts';
import { SOMPI_PER_KAS } from '../../../src/kaspa/types.ts';
import { KaspaHdWallet } from '../../../src/kaspa/hd.ts';
import { Address, type NetworkPrefix } from '../../../src/kaspa/address.ts';
import { KaspaRpcClient } from '../../../src/kaspa/rpc/client.ts';
import type { KaspaNode } from '../../../src/kaspa/rpc/node.ts';
import { createNodeTransport } from '../../../src/transport/index.ts';
import type { BatchOp, KeyValueStore } from '../../../src/storage/types.ts';
import type { AttachmentHook, SessionPort } from '../../../src/core/delivery/ports.ts';
import type { Clock } from '../../../src/core/delivery/clock.ts';
import { MemoryDatabase, openDb } from './fakes.ts';
import { until } from './harness.ts';
import { after, before } from 'node:test';
import { startDevnet, type DevnetHandle } from '../../../src/devnet/index.ts';

/** 100 KAS for each user's wallet address, for a devnet's `prefund`. */
export function prefund(...users: readonly ChainUser[]): Record<string, bigint> {
  return Object.fromEntries(users.map((u) => [u.address.toString(), 100n * SOMPI_PER_KAS]));
}

/**
 * A local network shared by one `describe` block: `url` is what its users are made with, and
 * `around(users)` starts the network (each user prefunded) and the users before the block's
 * tests, and stops them after.
 */
export class SharedDevnet {
  #devnet: DevnetHandle | undefined;
  readonly url = (): string => this.#devnet!.url;

  around(users: readonly ChainUser[], blocksPerSecond = 20): void {
    before(async () => {
      this.#devnet = await startDevnet({
        port: 0,
        controlPort: false,
        blocksPerSecond,
        prefund: prefund(...users),
      });
      for (const u of users) await u.start();
    });
    after(async () => {
      for (const u of users) await u.stop().catch(() => undefined);
      await this.#devnet?.stop();
    });
  }
}

/** One user of the local network. */

export class ChainUser {
  readonly identity = Identity.generate();
  readonly wallet = KaspaHdWallet.fromSeed(this.identity.walletSeed(), 'testnet');
  readonly address: Address = this.wallet.address('kaspasim', 0, 0, 0);
  readonly card: ContactCard;
  readonly id: string;
  readonly data = new MemoryDatabase();
  readonly events: DeliveryEvent[] = [];
  /** When each outgoing message was first seen delivered (or read), by id. */
  readonly deliveredAt = new Map<string, number>();
  engine!: DeliveryEngine;
  client!: KaspaNode & { connect(): Promise<void>; close(): void };
  /** The chain adapter of the running client. */
  chain!: KaspaChain;
  private readonly watchedEver = new Set<string>();
  /** Message requests: first messages from people this user does not know. */
  requests!: MessageRequests;
  /** Sessions and directory of the running client. */
  port!: EnvelopeSessions;
  /** Cards refused at first sight, with why. */
  readonly refused: Error[] = [];
  private sessionState: Uint8Array | undefined;
  private readonly contacts: ChainUser[] = [];
  private readonly learned: ContactCard[] = [];
  /** First-contact addresses of the invites this user holds, by contact. */
  private readonly invites = new Map<string, Address>();
  /**
   * Called once after each session-state save of the running client took effect (a test kills
   * the client there, between the ratchet step and what the engine stores after it).
   */
  onSessionSaved: (() => void) | undefined;
  /** Called before each storage batch of the running client is applied (a test may kill it there). */
  beforeBatch: ((ops: readonly BatchOp[]) => void) | undefined;
  /** This run of the client; a killed run's storage and session writes are refused. */
  private life = { dead: false };

  constructor(
    readonly name: string,
    private readonly url: () => string,
    private readonly options: {
      links?: boolean;
      settings?: Partial<DeliverySettings>;
      /** The database of each start; the in-memory `data` when absent. */
      openDb?: () => Promise<KeyValueStore>;
      /** The network of the one address the card lists. @default 'kaspasim' (this network) */
      cardNetwork?: NetworkPrefix;
      /** Delay of receipt-only publications. @default none (the tests here are about delivery) */
      receiptDelayMs?: () => number;
      /** Coin values and output order. @default the adapter's secure generator */
      random?: () => number;
      /** The node connection of each start (a NodePool, say). @default one client of `url` */
      node?: () => KaspaNode & { connect(): Promise<void>; close(): void };
      /** The attachment hook of each start, over that start's sessions. @default none */
      attachments?: (sessions: SessionPort) => Promise<AttachmentHook>;
      /** The engine's clock (its batch windows and retries). @default the system clock */
      clock?: Clock;
    } = {},
  ) {
    const listed =
      options.cardNetwork === undefined
        ? this.address
        : new Address(options.cardNetwork, this.address.version, this.address.payload);
    // The pre-keys the card announces exist only in the session state: it is kept from here on.
    const sessions = SessionManager.create(this.identity);
    this.card = sessions.issueOwnCard({ displayName: name, addresses: [listed] });
    this.sessionState = sessions.serialize();
    this.id = contactIdOf(this.identity.peerId);
  }

  /**
   * Accepts the message request of `from` (as the app does): their card becomes a contact,
   * then the engine takes in what the request kept.
   */
  async accept(from: ChainUser): Promise<number> {
    const request = this.requests.get(from.id);
    if (!request) throw new Error(`${this.name} has no request from ${from.name}`);
    this.learned.push(request.card);
    this.port.add(request.card);
    return this.engine.acceptRequest(from.id);
  }

  /** Adds a card to the directory without any check (a contact from before a network change). */
  addUnchecked(other: ChainUser): void {
    this.learned.push(other.card);
    this.port?.add(other.card);
  }

  /** Knows `others` (their cards came by invite). */
  knows(...others: ChainUser[]): this {
    this.contacts.push(...others);
    return this;
  }

  /** Holds an invite of `other` naming `firstContact` (Invite version 5): knows its card too. */
  holdsInvite(other: ChainUser, firstContact: Address): this {
    if (!this.contacts.includes(other)) this.contacts.push(other);
    this.invites.set(other.id, firstContact);
    this.port?.add(other.card);
    return this;
  }

  async start(): Promise<this> {
    const life = { dead: false };
    this.life = life;
    const sessions = this.sessionState
      ? SessionManager.deserialize(this.identity, this.sessionState)
      : SessionManager.create(this.identity);
    sessions.setOwnCard(this.card);
    const port = new EnvelopeSessions({
      self: this.identity.peerId,
      sessions,
      save: async (s) => {
        if (life.dead) throw new Error('the client was killed');
        this.sessionState = s;
        this.onSessionSaved?.();
      },
    });
    this.port = port;
    for (const card of this.learned) port.add(card);
    for (const c of this.contacts) port.add(c.card);
    const db = mortal(await (this.options.openDb ?? (() => openDb(this.data)))(), life, (ops) =>
      this.beforeBatch?.(ops),
    );
    this.requests = await MessageRequests.open({
      db,
      checkCard: (card) => requireAddressOn(card, 'kaspasim'),
      onRefused: (_c, error) => this.refused.push(error),
    });
    this.client =
      this.options.node?.() ??
      new KaspaRpcClient({
        urls: this.url(),
        reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
      });
    await this.client.connect();
    const chain = new KaspaChain({
      client: this.client,
      wallet: this.wallet,
      prefix: 'kaspasim',
      identity: this.identity,
      // As the app does (src/api): the card's X25519 key converted once per card, not per call
      // (the conversion ran for every address a catch-up derived, 81 of 1,650 ms at 1,000 messages).
      peerOf: (c) => {
        const card = port.card(c);
        return card ? peerKeysOf(card, 'kaspasim', this.invites.get(c)) : undefined;
      },
      contacts: () => port.list(),
      db,
      receiptDelayMs: this.options.receiptDelayMs ?? (() => 0),
      ...(this.options.random ? { random: this.options.random } : {}),
    });
    this.chain = chain;
    this.engine = await DeliveryEngine.open({
      db,
      sessions: port,
      contacts: port,
      chain,
      requests: this.requests,
      ...(this.options.attachments ? { attachments: await this.options.attachments(port) } : {}),
      ...(this.options.clock ? { clock: this.options.clock } : {}),
      ...(this.options.links
        ? {
            peers: new TransportLinks(createNodeTransport({ additionalHostAddresses: ['127.0.0.1'] }), {
              heartbeatIntervalMs: 200,
              heartbeatTimeoutMs: 1_500,
            }),
          }
        : {}),
      listener: (e) => {
        this.events.push(e);
        if (
          e.type === 'message' &&
          e.message.direction === 'out' &&
          (e.message.status === 'delivered' || e.message.status === 'read') &&
          !this.deliveredAt.has(e.message.id)
        ) {
          this.deliveredAt.set(e.message.id, Date.now());
        }
      },
      settings: { batchWindowMs: 50, backoffBaseMs: 200, ...this.options.settings },
    });
    return this;
  }

  /** Every address the chain adapter watched in any run of this client (its own addresses). */
  ownedAddresses(): ReadonlySet<string> {
    for (const a of this.chain?.watchedAddresses() ?? []) this.watchedEver.add(a);
    return this.watchedEver;
  }

  async stop(): Promise<void> {
    this.ownedAddresses();
    await this.engine.close();
    this.client.close();
  }

  /**
   * Kills the client as a crash would, wherever it is (mid-publication included): from now on
   * its storage and session writes fail and its connection is gone; nothing is closed in order.
   * `start` reopens it over the same storage.
   */
  kill(): void {
    this.life.dead = true;
    this.client.close();
    this.engine.close().catch(() => undefined);
  }

  async inbox(from: ChainUser): Promise<Message[]> {
    return (await this.engine.messages(from.id)).filter((m) => m.direction === 'in');
  }

  async outbox(to: ChainUser): Promise<Message[]> {
    return (await this.engine.messages(to.id)).filter((m) => m.direction === 'out');
  }

  async waitInbox(from: ChainUser, n: number, timeoutMs = 60_000): Promise<Message[]> {
    return until(
      `${this.name} has ${n} from ${from.name}`,
      async () => {
        const m = await this.inbox(from);
        return m.length >= n && m;
      },
      timeoutMs,
    );
  }

  async allOut(
    to: ChainUser,
    statuses: readonly string[],
    count?: number,
    timeoutMs = 60_000,
  ): Promise<Message[]> {
    return until(
      `${this.name} → ${to.name} all ${statuses.join('/')}`,
      async () => {
        const out = await this.outbox(to);
        if (count !== undefined && out.length !== count) return false;
        return out.every((m) => m.direction === 'out' && statuses.includes(m.status)) && out;
      },
      timeoutMs,
    );
  }
}

/** `db` until `life.dead`; then every call fails, as the storage of a killed process would. */
function mortal(
  db: KeyValueStore,
  life: { readonly dead: boolean },
  beforeBatch: (ops: readonly BatchOp[]) => void,
): KeyValueStore {
  const check = (): void => {
    if (life.dead) throw new Error('the client was killed');
  };
  return {
    stores: db.stores,
    get: async (store, key) => (check(), db.get(store, key)),
    put: async (store, key, value) => (check(), db.put(store, key, value)),
    delete: async (store, key) => (check(), db.delete(store, key)),
    scan: async (store, options) => (check(), db.scan(store, options)),
    count: async (store, range) => (check(), db.count(store, range)),
    batch: async (ops, options) => (beforeBatch(ops), check(), db.batch(ops, options)),
    close: () => db.close(),
  };
}
