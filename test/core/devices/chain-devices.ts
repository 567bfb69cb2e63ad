/**
 * People with several devices on the local Kaspa network: one person (identity, wallet,
 * addresses) and per device its own device identity, session state, device roster, database,
 * node connection, chain adapter and delivery engine, as docs/devices.md §2 has it. A device is
 * set up the way a finished link leaves it (the transfer itself is tested in link.test.ts):
 * the person's seed, the contacts' cards, the person's signed list and its siblings' cards.
 */
import type { ContactCard } from '../../../src/core/contact/card.ts';
import { Identity } from '../../../src/core/identity/identity.ts';
import { SessionManager } from '../../../src/core/session/session-manager.ts';
import { DeliveryEngine, type DeliveryEvent } from '../../../src/core/delivery/engine.ts';
import { EnvelopeSessions, contactIdOf } from '../../../src/core/delivery/sessions.ts';
import { KaspaChain } from '../../../src/core/delivery/kaspa-chain.ts';
import { ed25519ToX25519, type Ed25519PublicKey } from '../../../src/core/identity/keys.ts';
import type { Message } from '../../../src/core/delivery/messages.ts';
import { KaspaHdWallet } from '../../../src/kaspa/hd.ts';
import type { Address } from '../../../src/kaspa/address.ts';
import { KaspaRpcClient } from '../../../src/kaspa/rpc/client.ts';
import { DeviceList, DeviceRoster, type DeviceKind } from '../../../src/core/devices/index.ts';
import type { P2pCommError } from '../../../src/util/errors.ts';
import { MemoryDatabase, openDb } from '../delivery/fakes.ts';
import { until } from '../delivery/harness.ts';
import type { ChainHandler, ChainPort } from '../../../src/core/delivery/ports.ts';
import { randomBytes } from '../../../src/util/bytes.ts';

/** One person: the identity and wallet every device of theirs shares. */
export class Person {
  readonly identity = Identity.generate();
  readonly wallet = KaspaHdWallet.fromSeed(this.identity.walletSeed(), 'testnet');
  readonly address: Address = this.wallet.address('kaspasim', 0, 0, 0);
  readonly id = contactIdOf(this.identity.peerId);
  readonly devices: Device[] = [];
  list: DeviceList | undefined;

  constructor(readonly name: string) {}

  /** Adds a device (the first one's key is the identity key) and signs the list naming it. */
  addDevice(name: string, kind: DeviceKind, url: () => string): Device {
    const first = this.devices.length === 0;
    const device = new Device(this, name, first ? this.identity : Identity.generate(), url);
    const entry = { key: device.identity.publicKey, kind, addedAt: Date.now(), name };
    this.list =
      this.list === undefined
        ? DeviceList.create(this.identity, Date.now(), [entry])
        : this.list.add(this.identity, entry, Date.now());
    this.devices.push(device);
    return device;
  }

  /** The contact card others hold (the first device's, from the invite). */
  get card(): ContactCard {
    return this.devices[0]!.card;
  }
}

/** One device of a person. */
export class Device {
  readonly sessions: SessionManager;
  readonly card: ContactCard;
  readonly data = new MemoryDatabase();
  readonly events: DeliveryEvent[] = [];
  readonly refused: { person: Ed25519PublicKey; error: P2pCommError<string> }[] = [];
  roster: DeviceRoster;
  port!: EnvelopeSessions;
  engine!: DeliveryEngine;
  client!: KaspaRpcClient;
  chain!: KaspaChain;
  /** Every chain payload this device sealed, in order. */
  readonly payloads: Uint8Array[] = [];
  private readonly contacts: ContactCard[] = [];
  private handler: ChainHandler | undefined;

  constructor(
    readonly person: Person,
    readonly name: string,
    readonly identity: Identity,
    private readonly url: () => string,
  ) {
    this.sessions = SessionManager.create(identity);
    this.card = this.sessions.issueOwnCard({ displayName: person.name, addresses: [person.address] });
    this.roster = new DeviceRoster(person.identity.publicKey, identity.publicKey);
  }

  /** Knows `cards` as contacts from the start (an invite, or the link transfer). */
  knows(...cards: ContactCard[]): this {
    this.contacts.push(...cards);
    return this;
  }

  async start(): Promise<this> {
    const port = new EnvelopeSessions({
      self: this.person.identity.peerId,
      sessions: this.sessions,
      save: async () => undefined,
      devices: { roster: this.roster, save: async () => undefined },
      onDevicesRefused: (person, error) => this.refused.push({ person, error }),
    });
    this.port = port;
    const seal = port.sealBatch.bind(port);
    port.sealBatch = async (entries) => {
      const payload = await seal(entries);
      this.payloads.push(payload);
      return payload;
    };
    for (const c of this.contacts) port.add(c);
    const db = await openDb(this.data);
    this.client = new KaspaRpcClient({
      urls: this.url(),
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    });
    await this.client.connect();
    this.chain = new KaspaChain({
      client: this.client,
      wallet: this.person.wallet,
      prefix: 'kaspasim',
      identity: this.person.identity,
      peerOf: (c) => {
        const card = port.card(c);
        const base = card?.addresses[0];
        if (!card || !base) return undefined;
        return { dh: ed25519ToX25519(card.identityKey), base };
      },
      contacts: () => port.list(),
      db,
      receiptDelayMs: () => 0,
    });
    const chain = this.chain;
    const watched: ChainPort = {
      start: (handler, cursor) => {
        this.handler = handler;
        return chain.start(handler, cursor);
      },
      publish: (payload, recipients, options) => chain.publish(payload, recipients, options),
      funds: () => chain.funds(),
      stop: () => chain.stop(),
    };
    this.engine = await DeliveryEngine.open({
      db,
      sessions: port,
      contacts: port,
      chain: watched,
      listener: (e) => this.events.push(e),
      settings: { batchWindowMs: 50, backoffBaseMs: 200 },
    });
    return this;
  }

  /**
   * Hands this device's engine `payload` as its chain adapter hands a transaction it found
   * (the adapter watches the person's addresses; which of a sibling's addresses it must watch
   * to find the sibling's own publications is not wired yet, docs/devices.md §9).
   */
  async handOver(payload: Uint8Array): Promise<void> {
    await this.handler!.incoming({ txId: randomBytes(32), payload });
  }

  async stop(): Promise<void> {
    await this.engine.close();
    this.client.close();
  }

  async messages(with_: Person): Promise<Message[]> {
    return this.engine.messages(with_.id);
  }

  async waitMessages(
    with_: Person,
    direction: 'in' | 'out',
    n: number,
    timeoutMs = 60_000,
  ): Promise<Message[]> {
    return until(
      `${this.person.name}/${this.name} has ${n} ${direction} with ${with_.name}`,
      async () => {
        const m = (await this.messages(with_)).filter((x) => x.direction === direction);
        return m.length >= n && m;
      },
      timeoutMs,
    );
  }
}
