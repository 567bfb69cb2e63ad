/**
 * People with several devices on the local Kaspa network: one person (identity, wallet,
 * addresses) and per device its own device identity, session state, device roster, database,
 * node connection, chain adapter and delivery engine, as docs/devices.md §2 has it. A device is
 * set up the way a finished link leaves it (the transfer itself is tested in link.test.ts):
 * the person's seed, the contacts' cards, the person's signed list and its siblings' cards.
 * Each device's chain adapter has its own change chain and watches its siblings' (src/core/
 * devices/branch.ts), so nothing is handed from one device to another outside the chain.
 */
import type { ContactCard } from '../../../src/core/contact/card.ts';
import { startDevnet, type DevnetHandle } from '../../../src/devnet/index.ts';
import { SOMPI_PER_KAS } from '../../../src/kaspa/types.ts';
import { Identity } from '../../../src/core/identity/identity.ts';
import { SessionManager } from '../../../src/core/session/session-manager.ts';
import { DeliveryEngine, type DeliveryEvent } from '../../../src/core/delivery/engine.ts';
import { EnvelopeSessions, contactIdOf } from '../../../src/core/delivery/sessions.ts';
import { KaspaChain } from '../../../src/core/delivery/kaspa-chain.ts';
import { ed25519ToX25519, type Ed25519PublicKey } from '../../../src/core/identity/keys.ts';
import type { Message } from '../../../src/core/delivery/messages.ts';
import { KaspaHdWallet } from '../../../src/kaspa/hd.ts';
import type { Address } from '../../../src/kaspa/address.ts';
import type { Transaction } from '../../../src/kaspa/types.ts';
import { KaspaRpcClient } from '../../../src/kaspa/rpc/client.ts';
import {
  DeviceList,
  DeviceRoster,
  rosterChainDevices,
  type DeviceKind,
} from '../../../src/core/devices/index.ts';
import type { P2pCommError } from '../../../src/util/errors.ts';
import { MemoryDatabase, openDb } from '../delivery/fakes.ts';
import { until } from '../delivery/harness.ts';

/** A local network with 100 KAS on the card address of each of `people`. */
export function devnetFor(...people: readonly Person[]): Promise<DevnetHandle> {
  return startDevnet({
    port: 0,
    controlPort: false,
    blocksPerSecond: 20,
    prefund: Object.fromEntries(people.map((p) => [p.address.toString(), 100n * SOMPI_PER_KAS])),
  });
}

/** One person: the identity and wallet every device of theirs shares. */
export class Person {
  readonly identity = Identity.generate();
  readonly wallet = KaspaHdWallet.fromSeed(this.identity.walletSeed(), 'testnet');
  readonly address: Address = this.wallet.address('kaspasim', 0, 0, 0);
  readonly id = contactIdOf(this.identity.peerId);
  readonly devices: Device[] = [];
  list: DeviceList | undefined;
  /**
   * How long each rank of device holds receipts back (returns.ts): long enough, on a loaded
   * machine, for the first device's return to be accepted and found by its siblings.
   */
  staggerMs = 15_000;

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
  chain: KaspaChain | undefined;
  /** Every chain payload this device sealed, in order. */
  readonly payloads: Uint8Array[] = [];
  /** The id of every transaction its chain adapter published, in order. */
  readonly published: Uint8Array[] = [];
  /** Every transaction its client handed to the node (publications, refills, resubmissions). */
  readonly submitted: Transaction[] = [];
  private readonly contacts: ContactCard[] = [];

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
      // A list that changed brings new siblings' chains and a contact's new devices' sequences
      // into the watch (KaspaChain.watchDevices), as a device's profile store would on save.
      devices: { roster: this.roster, save: async () => void this.chain?.watchDevices() },
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
    const client = this.client;
    const submit = client.submitTransaction.bind(client);
    client.submitTransaction = async (tx, ...rest) => {
      this.submitted.push(tx);
      return submit(tx, ...rest);
    };
    const devices = rosterChainDevices(this.roster, this.person.staggerMs);
    this.chain = new KaspaChain({
      client: this.client,
      wallet: this.person.wallet,
      prefix: 'kaspasim',
      identity: this.person.identity,
      peerOf: (c) => {
        const card = port.card(c);
        const base = card?.addresses[0];
        if (!card || !base) return undefined;
        return { dh: ed25519ToX25519(card.identityKey), base, devices: devices.devicesOf(card.identityKey) };
      },
      device: devices.device,
      siblings: devices.siblings,
      contacts: () => port.list(),
      db,
      receiptDelayMs: () => 0,
    });
    const chain = this.chain;
    const publish = chain.publish.bind(chain);
    chain.publish = async (payload, recipients, options) => {
      const p = await publish(payload, recipients, options);
      this.published.push(p.txId);
      return p;
    };
    this.engine = await DeliveryEngine.open({
      db,
      sessions: port,
      contacts: port,
      chain,
      receiptWaitMs: devices.receiptWaitMs,
      listener: (e) => this.events.push(e),
      settings: { batchWindowMs: 50, backoffBaseMs: 200 },
    });
    return this;
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
