/**
 * Test clients: an engine per name over shared fakes (or real adapters), with its event log,
 * restart (reopen on the same database) and event waits with generous timeouts (no timed
 * assertions: a wait only bounds how long a broken build takes to fail).
 */
import {
  DeliveryEngine,
  type DeliveryEvent,
  type DeliveryOptions,
  type DeliverySettings,
} from '../../../src/core/delivery/engine.ts';
import type { Message } from '../../../src/core/delivery/messages.ts';
import type {
  AttachmentHook,
  ChainPort,
  ContactDirectory,
  PeerPort,
  RequestPort,
  SessionPort,
} from '../../../src/core/delivery/ports.ts';
import type { KeyValueStore } from '../../../src/storage/types.ts';
import { FakeLedger, FakeSessions, FakeSwitchboard, MemoryDatabase, directory, openDb } from './fakes.ts';

/** Waits until `check` returns a value other than undefined/false, re-checking on events. */
export async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface ClientOptions {
  /** Fake links (true), or a factory of real ones (made per start). */
  readonly peers?: boolean | (() => PeerPort);
  readonly settings?: Partial<DeliverySettings>;
  readonly funds?: bigint;
  /** Wraps the fake chain of each start (e.g. to hold its start back). */
  readonly chain?: (inner: ChainPort) => ChainPort;
  /** Opens the engine without waiting for the chain adapter (DeliveryOptions). */
  readonly chainInBackground?: boolean;
  /** Real sessions and contacts instead of the transparent fake (made per start). */
  readonly sessions?: () => SessionPort & ContactDirectory;
  /** Message requests over the client's database (made per start). */
  readonly requests?: (db: KeyValueStore) => Promise<RequestPort>;
  /** Narrows the fake directory of each start (e.g. leaves blocked contacts out, as the app does). */
  readonly contacts?: (inner: ContactDirectory) => ContactDirectory;
  /** Attachments over the start's sessions (made per start). */
  readonly attachments?: (sessions: SessionPort) => Promise<AttachmentHook>;
}

/** One client over the shared fakes. */
export class Client {
  engine!: DeliveryEngine;
  readonly events: DeliveryEvent[] = [];
  readonly data = new MemoryDatabase();

  constructor(
    readonly name: string,
    readonly net: FakeNet,
    private readonly options: ClientOptions,
  ) {}

  async start(): Promise<this> {
    const db = await openDb(this.data);
    const s = this.options.sessions?.();
    const sessions = s ?? new FakeSessions(this.name);
    const opts: DeliveryOptions = {
      db,
      sessions,
      contacts: s ?? (this.options.contacts ?? ((d) => d))(directory(this.name, this.net.names)),
      ...(this.options.attachments ? { attachments: await this.options.attachments(sessions) } : {}),
      chain: (this.options.chain ?? ((c) => c))(this.net.ledger.chain(this.name)),
      ...(this.options.requests ? { requests: await this.options.requests(db) } : {}),
      ...(this.options.chainInBackground ? { chainInBackground: true } : {}),
      ...(typeof this.options.peers === 'function'
        ? { peers: this.options.peers() }
        : this.options.peers
          ? { peers: this.net.board.peers(this.name) }
          : {}),
      listener: (e) => this.events.push(e),
      settings: { batchWindowMs: 20, backoffBaseMs: 20, directAckTimeoutMs: 2_000, ...this.options.settings },
    };
    this.engine = await DeliveryEngine.open(opts);
    return this;
  }

  async stop(): Promise<void> {
    await this.engine.close();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async inbox(from: string): Promise<Message[]> {
    return (await this.engine.messages(from)).filter((m) => m.direction === 'in');
  }

  async outbox(to: string): Promise<Message[]> {
    return (await this.engine.messages(to)).filter((m) => m.direction === 'out');
  }

  /** Waits until every outgoing message to `to` has reached one of `statuses`. */
  async allOut(to: string, statuses: readonly string[], count?: number): Promise<Message[]> {
    return until(`${this.name} → ${to} all ${statuses.join('/')}`, async () => {
      const out = await this.outbox(to);
      if (count !== undefined && out.length !== count) return false;
      return out.every((m) => m.direction === 'out' && statuses.includes(m.status)) && out;
    });
  }

  async waitInbox(from: string, count: number): Promise<Message[]> {
    return until(`${this.name} has ${count} from ${from}`, async () => {
      const inc = await this.inbox(from);
      return inc.length >= count && inc;
    });
  }
}

/** A set of clients on one fake ledger and switchboard. */
export class FakeNet {
  readonly ledger = new FakeLedger();
  readonly board = new FakeSwitchboard();
  readonly clients = new Map<string, Client>();

  constructor(readonly names: readonly string[]) {}

  async client(name: string, options: ClientOptions = {}): Promise<Client> {
    this.ledger.fund(name, options.funds ?? 10_000_000n);
    const c = await new Client(name, this, options).start();
    this.clients.set(name, c);
    return c;
  }

  async stop(): Promise<void> {
    for (const c of this.clients.values()) await c.stop();
  }
}
