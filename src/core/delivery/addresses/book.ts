/**
 * Every address of chain format 2 that one client owns or pays, and which of them it watches
 * (docs/privacy.md "Addresses"; docs/protocol.md "Chain transactions and addresses"):
 *
 *   - card address: m/44'/111111'/0'/0/0, the one address put in cards and the base of the
 *     stealth keys; it receives funding, and first contacts only from holders of a card
 *     without an invite of its own (an invite of version 3, a card learnt from a first
 *     contact);
 *   - invite addresses: m/44'/111111'/0'/0/i, i >= 1, one per invite handed out (BIP-44
 *     receive chain: a first contact looks like any payment to a fresh receive address); the
 *     sender pays it until it has heard from the inviter on chain. Watched: the last
 *     `INVITE_WATCH` handed out and `INVITE_GAP` past the highest handed out or seen, so a
 *     restore from the seed finds them again as a BIP-44 wallet finds its receive addresses
 *     (BIP-44 "Address gap limit");
 *   - notification addresses: the stealth keys of stealth.ts, one per message and direction,
 *     never used twice; per contact the recipient watches the next `window` indices past the
 *     highest it has seen, as a BIP-44 wallet watches its gap limit (BIP-44 "Address gap
 *     limit"), and every coin that lands moves the window on, so a catch-up that finds coins
 *     scans again until a window comes back empty;
 *   - change addresses: m/44'/111111'/0'/b/j, a fresh j for every output back to us, on this
 *     device's own chain b (1, BIP-44's internal chain, on the first device; another device's
 *     chain is given by `device`, src/core/devices/branch.ts); the last `changeLookback` are
 *     watched after a restart, so change from a
 *     transaction submitted just before a crash is still found. Each may belong to a contact's
 *     coin pool (docs/privacy.md "Funding"): the coins that pay only that contact's
 *     notifications, so that no contact's sends spend another's change.
 *
 *   - sibling change: the change chains of the person's other devices (`siblings`), each
 *     watched from `changeLookback` below the highest index seen to `SIBLING_GAP` past it, as a
 *     BIP-44 wallet watches its gap limit: a sibling's publication pays its own change and
 *     decoy there, and that is how this device finds it (docs/devices.md §4). Their coins are
 *     the sibling's to spend;
 *   - notifications from a contact's other devices: each of its devices (`PeerKeys.devices`)
 *     counts its own sequence, watched like the contact's own.
 *
 * An address that holds a coin is remembered until the coin is spent, so coins below a window
 * are still watched after a restart.
 */
import { Address, AddressVersion, type NetworkPrefix } from '../../../kaspa/address.ts';
import type { KaspaHdWallet } from '../../../kaspa/hd.ts';
import { encodeKey } from '../../../storage/keys.ts';
import type { BatchOp, KeyValueStore } from '../../../storage/types.ts';
import {
  bytesToHex,
  bytesToUtf8,
  concatBytes,
  equalBytes,
  hexToBytes,
  utf8ToBytes,
} from '../../../util/bytes.ts';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { ContactCard } from '../../contact/card.ts';
import { addressOn } from '../../contact/network.ts';
import { ed25519ToX25519 } from '../../identity/keys.ts';
import type { ContactId } from '../ports.ts';
import { conversationSecret, notificationTweak, tweakPrivateKey, tweakPublicKey } from './stealth.ts';

/** What one contact's card and identity give for address derivation. */
export interface PeerKeys {
  /** The contact's identity key in X25519 form (ed25519ToX25519 of the card's identity key). */
  readonly dh: Uint8Array;
  /** The notification address of the card this client holds (the stealth base key). */
  readonly base: Address;
  /** The first-contact address of the contact's invite (Invite version 5), if it gave one. */
  readonly firstContact?: Address;
  /** The contact's listed devices other than its first, each with a notification sequence of its own. */
  readonly devices?: readonly Uint8Array[];
}

/** Where an owned address comes from. */
export type AddressOrigin =
  | { readonly kind: 'card' }
  | { readonly kind: 'invite'; readonly i: number }
  | {
      readonly kind: 'notify';
      readonly contact: ContactId;
      readonly k: number;
      /** The contact's sending device (hex key) when it is not its first device. */
      readonly device?: string;
    }
  | { readonly kind: 'change'; readonly j: number }
  | { readonly kind: 'sibling'; readonly branch: number; readonly j: number };

export interface ChainAddressesOptions {
  readonly wallet: KaspaHdWallet;
  readonly prefix: NetworkPrefix;
  /** @default 0 */
  readonly account?: number;
  /** This identity's X25519 public key. */
  readonly selfDh: Uint8Array;
  /** X25519 agreement of this identity with a contact's (Identity.agree). */
  readonly agree: (peerDh: Uint8Array) => Uint8Array;
  /** A contact's keys, or undefined when it has no card with a Schnorr address on this network. */
  readonly peerOf: (contact: ContactId) => PeerKeys | undefined;
  readonly db: KeyValueStore;
  /** The store that keeps the counters and remembered addresses. */
  readonly store: string;
  /** Notification indices watched past the highest seen, per contact. @default 8 */
  readonly window?: number;
  /** Change indices watched below the next one after a restart. @default 20 */
  readonly changeLookback?: number;
  /** This device's change chain, and its key unless it is the first device. @default the first device */
  readonly device?: { readonly key?: Uint8Array; readonly branch: number };
  /** The change chains of the person's other devices, watched for their publications. */
  readonly siblings?: () => readonly number[];
}

interface PeerState {
  /** Next notification index to send to the contact. */
  send: number;
  /** Lowest notification index from the contact not yet seen. */
  recv: number;
  /**
   * Indices above `recv` already seen: coins are submitted out of order (receipts wait a
   * random time), so a gap below the highest seen index stays watched until it fills.
   */
  seen: number[];
  /** Whether a coin from the contact arrived (it knows us: stealth addresses from now on). */
  heard: boolean;
  /** The first-contact address of the contact's invite (Invite version 5), until heard. */
  via?: string;
}

interface Owned {
  readonly origin: AddressOrigin;
  readonly key: () => Uint8Array;
}

const WINDOW = 8;
const CHANGE_LOOKBACK = 20;
/**
 * Sibling change indices watched past the highest seen: a publication hands out two (change
 * and decoy), so 20 lets a sibling publish ten times between two coins this device sees.
 */
export const SIBLING_GAP = 20;
/**
 * Invite addresses watched below the next one to hand out. The app shows one invite until
 * its one-time key is used or the card changes (pre-key rotation, 7 days), so 64 invites
 * span months of ordinary use; an older invite's first contact is found only while the
 * address is watched, the same bound as its signed pre-key's lifetime (21 days) would set
 * for its session start anyway. 64 bounds what a node sees and subscribes per client.
 */
export const INVITE_WATCH = 64;
/** Invite indices watched past the highest handed out or seen (BIP-44's gap limit of 20). */
export const INVITE_GAP = 20;
/** Indices a gap in one contact's notifications may lag the highest seen before it is given up. */
const MAX_GAP = 64;

export class ChainAddresses {
  readonly card: Address;
  private readonly account: number;
  private readonly window: number;
  private readonly owned = new Map<string, Owned>();
  private readonly peers = new Map<ContactId, PeerState>();
  private readonly secrets = new Map<ContactId, Uint8Array>();
  /** Remembered addresses holding coins (address → origin). */
  private readonly live = new Map<string, AddressOrigin>();
  /** The contact pool of change indices handed out for one (change index → contact). */
  private readonly pools = new Map<number, ContactId>();
  private changeNext = 0;
  /** Per sibling change chain, one past the highest index seen. */
  private readonly siblingNext = new Map<number, number>();
  private readonly branch: number;
  /** Next invite index to hand out (index 0 is the card address). */
  private inviteNext = 1;

  private constructor(private readonly opts: ChainAddressesOptions) {
    this.account = opts.account ?? 0;
    this.window = opts.window ?? WINDOW;
    this.branch = opts.device?.branch ?? 1;
    this.card = opts.wallet.address(opts.prefix, this.account, 0, 0);
    this.own(this.card.toString(), { kind: 'card' }, () => opts.wallet.privateKey(this.account, 0, 0));
  }

  /** Loads the counters and remembered addresses. */
  static async open(opts: ChainAddressesOptions): Promise<ChainAddresses> {
    const book = new ChainAddresses(opts);
    const change = await opts.db.get(opts.store, encodeKey('addr', 'change'));
    if (change) book.changeNext = Number(bytesToUtf8(change));
    const invite = await opts.db.get(opts.store, encodeKey('addr', 'invite'));
    if (invite) book.inviteNext = Math.max(1, Number(bytesToUtf8(invite)));
    for (const [, value] of await opts.db.scan(opts.store, { prefix: encodeKey('addr', 'peer') })) {
      const s = JSON.parse(bytesToUtf8(value)) as {
        c: string;
        send: number;
        recv: number;
        seen: number[];
        heard: boolean;
        via?: string;
      };
      book.peers.set(s.c, {
        send: s.send,
        recv: s.recv,
        seen: s.seen,
        heard: s.heard,
        ...(typeof s.via === 'string' ? { via: s.via } : {}),
      });
    }
    for (const [, value] of await opts.db.scan(opts.store, { prefix: encodeKey('addr', 'live') })) {
      const o = JSON.parse(bytesToUtf8(value)) as { a: string; o: AddressOrigin };
      book.live.set(o.a, o.o);
    }
    for (const [, value] of await opts.db.scan(opts.store, { prefix: encodeKey('addr', 'sib') })) {
      const p = JSON.parse(bytesToUtf8(value)) as { b: number; n: number };
      book.siblingNext.set(p.b, p.n);
    }
    for (const [, value] of await opts.db.scan(opts.store, { prefix: encodeKey('addr', 'pool') })) {
      const p = JSON.parse(bytesToUtf8(value)) as { j: number; c: string };
      book.pools.set(p.j, p.c);
    }
    // Derivations left behind (below a window, older change and invites than are watched)
    // are deleted as they are read, so the records, and this scan, stay bounded by what is
    // watched rather than growing with every message ever received.
    const stale: BatchOp[] = [];
    for (const [key, value] of await opts.db.scan(opts.store, {
      prefix: encodeKey('addr', 'drv', opts.prefix, String(book.account)),
    })) {
      const d = book.readDerivation(value);
      if (d !== undefined && book.watchedId(d.id)) book.stored.set(d.id, d.address);
      else if (d !== undefined) stale.push({ type: 'delete', store: opts.store, key });
    }
    if (stale.length > 0) await opts.db.batch(stale);
    // A live address is taken as stored, with its key derived when a coin on it is spent:
    // deriving each again was most of a start with many coins held (each a scalar
    // multiplication).
    for (const [address, origin] of book.live) book.adopt(address, origin);
    return book;
  }

  /** Every address to watch now: the card, each known contact's window, recent change, live coins. */
  watched(contacts: readonly ContactId[]): string[] {
    const out = new Set<string>([this.card.toString()]);
    for (const c of new Set([...contacts, ...[...this.peers.keys()].map(contactOf)]))
      for (const a of this.windowOf(c)) out.add(a);
    for (const a of this.siblingsWatched()) out.add(a);
    for (
      let j = Math.max(0, this.changeNext - (this.opts.changeLookback ?? CHANGE_LOOKBACK));
      j < this.changeNext;
      j++
    )
      out.add(this.derive({ kind: 'change', j }));
    for (const a of this.invitesWatched()) out.add(a);
    for (const a of this.live.keys()) out.add(a);
    return [...out];
  }

  /** The change addresses of the person's other devices watched now (see SIBLING_GAP). */
  siblingsWatched(): string[] {
    const out: string[] = [];
    for (const branch of this.opts.siblings?.() ?? []) {
      if (branch === this.branch) continue;
      const next = this.siblingNext.get(branch) ?? 0;
      const from = Math.max(0, next - (this.opts.changeLookback ?? CHANGE_LOOKBACK));
      for (let j = from; j < next + SIBLING_GAP; j++) out.push(this.derive({ kind: 'sibling', branch, j }));
    }
    return out;
  }

  /** The invite addresses watched now (see INVITE_WATCH, INVITE_GAP). */
  invitesWatched(): string[] {
    const out: string[] = [];
    for (let i = Math.max(1, this.inviteNext - INVITE_WATCH); i < this.inviteNext + INVITE_GAP; i++)
      out.push(this.derive({ kind: 'invite', i }));
    return out;
  }

  /**
   * A fresh first-contact address for one invite, recorded as handed out before it is
   * returned (a crash never hands the same index out twice).
   */
  async nextInvite(): Promise<Address> {
    const i = this.inviteNext;
    await this.setInviteNext(i + 1);
    return Address.decode(this.derive({ kind: 'invite', i }), this.opts.prefix);
  }

  private async setInviteNext(next: number): Promise<void> {
    if (next <= this.inviteNext) return;
    this.inviteNext = next;
    await this.opts.db.put(this.opts.store, encodeKey('addr', 'invite'), utf8ToBytes(String(next)));
  }

  /**
   * The addresses of `contact`'s window (derived, so their keys are known): one per sequence,
   * the contact's own and each of its other devices'.
   */
  windowOf(contact: ContactId): string[] {
    const peer = this.opts.peerOf(contact);
    if (peer === undefined) return [];
    const out: string[] = [];
    for (const device of [undefined, ...(peer.devices ?? []).map((d) => bytesToHex(d))]) {
      const st = this.peers.get(streamOf(contact, device)) ?? { send: 0, recv: 0, seen: [], heard: false };
      const top = Math.max(st.recv, ...st.seen.map((k) => k + 1));
      for (let k = st.recv; k < top + this.window; k++)
        if (!st.seen.includes(k))
          out.push(this.derive({ kind: 'notify', contact, k, ...(device === undefined ? {} : { device }) }));
    }
    return out;
  }

  /** Where an owned address comes from, or undefined when it is not ours. */
  originOf(address: string): AddressOrigin | undefined {
    return this.owned.get(address)?.origin;
  }

  /** The private key of an owned address. */
  keyOf(address: string): Uint8Array | undefined {
    return this.owned.get(address)?.key();
  }

  /**
   * A coin landed on `address`: it is remembered until spent, and a notification index moves
   * its contact's window on. Returns the addresses that are new to watch.
   */
  async arrived(address: string): Promise<string[]> {
    const origin = this.originOf(address);
    if (origin === undefined || origin.kind === 'card') return [];
    if (!this.live.has(address)) {
      this.live.set(address, origin);
      await this.opts.db.put(
        this.opts.store,
        encodeKey('addr', 'live', address),
        utf8ToBytes(JSON.stringify({ a: address, o: origin })),
      );
    }
    if (origin.kind === 'invite') {
      // After a restore nothing says how many invites were handed out: a coin on one moves
      // the counter past it, so the watched range moves on and no later invite reuses it.
      const before = new Set(this.invitesWatched());
      if (origin.i >= this.inviteNext) await this.setInviteNext(origin.i + 1);
      return this.invitesWatched().filter((a) => !before.has(a));
    }
    if (origin.kind === 'sibling') {
      // A sibling's publication: its chain moves on here as it did there.
      if (origin.j < (this.siblingNext.get(origin.branch) ?? 0)) return [];
      const before = new Set(this.siblingsWatched());
      this.siblingNext.set(origin.branch, origin.j + 1);
      await this.opts.db.put(
        this.opts.store,
        encodeKey('addr', 'sib', String(origin.branch)),
        utf8ToBytes(JSON.stringify({ b: origin.branch, n: origin.j + 1 })),
      );
      return this.siblingsWatched().filter((a) => !before.has(a));
    }
    if (origin.kind !== 'notify') return [];
    const stream = streamOf(origin.contact, origin.device);
    const st = this.state(stream);
    if (origin.k < st.recv || st.seen.includes(origin.k)) return [];
    const before = new Set(this.windowOf(origin.contact));
    st.seen.push(origin.k);
    st.seen.sort((a, b) => a - b);
    while (st.seen[0] === st.recv) {
      st.seen.shift();
      st.recv++;
    }
    // A gap that stays open this far below the highest index is a coin that never came (a
    // publication the node refused): it is given up on, so the state stays bounded.
    const top = st.seen.at(-1) ?? st.recv;
    if (top - st.recv > MAX_GAP) {
      st.recv = top - MAX_GAP;
      st.seen = st.seen.filter((k) => k > st.recv);
    }
    await this.savePeer(stream);
    return this.windowOf(origin.contact).filter((a) => !before.has(a));
  }

  /** The coins on `address` are spent: it need not be watched after a restart. */
  async emptied(address: string): Promise<void> {
    const origin = this.originOf(address);
    if (origin?.kind === 'change' && this.pools.delete(origin.j))
      await this.opts.db.delete(this.opts.store, encodeKey('addr', 'pool', String(origin.j)));
    if (!this.live.delete(address)) return;
    await this.opts.db.delete(this.opts.store, encodeKey('addr', 'live', address));
  }

  /** The contact whose coin pool an owned change address belongs to; '' for the main coins. */
  poolOf(address: string): string {
    const origin = this.originOf(address);
    return origin?.kind === 'change' ? (this.pools.get(origin.j) ?? '') : '';
  }

  /**
   * `contact` was added from an invite naming `address` (Invite version 5): first contacts
   * to it pay that address until it is heard from. Ignored for an address of another network.
   */
  async invitedBy(contact: ContactId, address: Address): Promise<void> {
    if (address.prefix !== this.opts.prefix || address.version !== AddressVersion.PubKey) return;
    const st = this.state(contact);
    if (st.heard || st.via === address.toString()) return;
    st.via = address.toString();
    await this.savePeer(contact);
  }

  /** A coin from `contact` was claimed: it holds our card and watches our window. */
  async heard(contact: ContactId): Promise<void> {
    const st = this.state(contact);
    if (st.heard) return;
    st.heard = true;
    await this.savePeer(contact);
  }

  /**
   * The address of the next notification to `contact`: its card address until it was heard
   * from on chain (it may not know us yet, so it watches no window for us), then a fresh
   * stealth address. `commit` records the index as used.
   */
  nextNotify(contact: ContactId): { address: Address; commit: () => Promise<void> } | undefined {
    const peer = this.opts.peerOf(contact);
    if (peer === undefined) return undefined;
    const st = this.state(contact);
    if (!st.heard || peer.base.version !== AddressVersion.PubKey) {
      const via = st.via === undefined ? undefined : Address.decode(st.via);
      return { address: via ?? peer.firstContact ?? peer.base, commit: async () => {} };
    }
    const k = st.send;
    const address = this.notifyAddress(contact, peer, k);
    return {
      address,
      commit: async () => {
        if (st.send > k) return;
        st.send = k + 1;
        await this.savePeer(contact);
      },
    };
  }

  /**
   * Derives ahead, off a publication's path, what the next publication needs: the next
   * `changes` change addresses and their keys, and the next notification address of each of
   * `contacts`. Each is a scalar multiplication or a BIP-32 step (two with the key); done
   * inside the next publication they were about 40 % of its time before submission
   * (docs/privacy.md "Latency per phase"). Nothing is recorded: an index counts as used only
   * when `nextChange` or `commit` hands it out.
   */
  prepare(contacts: readonly ContactId[], changes: number): void {
    for (let j = this.changeNext; j < this.changeNext + changes; j++)
      this.keyOf(this.derive({ kind: 'change', j }));
    for (const contact of contacts) {
      const peer = this.opts.peerOf(contact);
      const st = this.peers.get(contact);
      if (peer === undefined || st === undefined || !st.heard || peer.base.version !== AddressVersion.PubKey)
        continue;
      this.notifyAddress(contact, peer, st.send);
    }
  }

  /** Stealth address `k` of our notifications to `contact` (a scalar multiplication, so kept). */
  private notifyAddress(contact: ContactId, peer: PeerKeys, k: number): Address {
    const base = peer.base.toString();
    const kept = this.toPeers.get(contact);
    if (kept !== undefined && kept.k === k && kept.base === base) return kept.address;
    const t = notificationTweak(this.secret(contact, peer), peer.dh, k, this.opts.device?.key);
    const address = new Address(
      peer.base.prefix,
      AddressVersion.PubKey,
      tweakPublicKey(peer.base.payload, t),
    );
    // Only the next index is ever asked for again: one per contact replaces the last.
    this.toPeers.set(contact, { k, base, address });
    return address;
  }

  /** The next notification address of each contact, with the index and card address it is for. */
  private readonly toPeers = new Map<
    ContactId,
    { readonly k: number; readonly base: string; readonly address: Address }
  >();

  /**
   * A fresh change address, recorded as used before it is handed out; `pool` names the
   * contact whose coin pool it joins (none: the main coins).
   */
  async nextChange(pool?: ContactId): Promise<Address> {
    const j = this.changeNext++;
    await this.opts.db.put(
      this.opts.store,
      encodeKey('addr', 'change'),
      utf8ToBytes(String(this.changeNext)),
    );
    if (pool !== undefined && pool !== '') {
      this.pools.set(j, pool);
      await this.opts.db.put(
        this.opts.store,
        encodeKey('addr', 'pool', String(j)),
        utf8ToBytes(JSON.stringify({ j, c: pool })),
      );
    }
    return Address.decode(this.derive({ kind: 'change', j }), this.opts.prefix);
  }

  // ---- derivation -------------------------------------------------------------------------

  private state(contact: ContactId): PeerState {
    let st = this.peers.get(contact);
    if (!st) {
      st = { send: 0, recv: 0, seen: [], heard: false };
      this.peers.set(contact, st);
    }
    return st;
  }

  private async savePeer(contact: ContactId): Promise<void> {
    const st = this.state(contact);
    await this.opts.db.put(
      this.opts.store,
      encodeKey('addr', 'peer', contact),
      utf8ToBytes(
        JSON.stringify({
          c: contact,
          send: st.send,
          recv: st.recv,
          seen: st.seen,
          heard: st.heard,
          ...(st.via !== undefined ? { via: st.via } : {}),
        }),
      ),
    );
  }

  private secret(contact: ContactId, peer: PeerKeys): Uint8Array {
    let s = this.secrets.get(contact);
    if (!s) {
      s = conversationSecret(this.opts.agree(peer.dh), this.opts.selfDh, peer.dh);
      this.secrets.set(contact, s);
    }
    return s;
  }

  private own(address: string, origin: AddressOrigin, derive: () => Uint8Array): string {
    // Derived once: an HD child or a tweaked key costs a scalar multiplication, and coin
    // selection asks for the key of every spendable coin on every publication.
    let key: Uint8Array | undefined;
    if (!this.owned.has(address)) this.owned.set(address, { origin, key: () => (key ??= derive()).slice() });
    return address;
  }

  /**
   * Addresses already derived, by origin: every publication and every arrival lists the
   * windows again, and each stealth address costs a scalar multiplication (tweakPublicKey),
   * each HD address a BIP-32 derivation; without this they were most of a publication's time.
   * Grows with the addresses owned, as `owned` does.
   */
  private readonly derived = new Map<string, string>();

  /** Derives an owned address (and how to get its key); returns its text. */
  private derive(origin: AddressOrigin): string {
    if (origin.kind === 'card') return this.card.toString();
    const id = idOf(origin, this.branch);
    const known = this.derived.get(id);
    if (known !== undefined) return known;
    const stored = this.stored.get(id);
    if (stored !== undefined && this.adopt(stored, origin)) return stored;
    const a = this.deriveNew(origin);
    if (a !== '') {
      this.derived.set(id, a);
      this.record(id, a);
    }
    return a;
  }

  /**
   * Derivations read from the store (docs/protocol.md "Derived address record"), by the id
   * `derive` keys them with: a start derives none of the windows, change and invite addresses
   * it watches again (800 stealth addresses for 100 contacts, each a scalar multiplication).
   */
  private readonly stored = new Map<string, string>();
  /** Derivations not yet written, written together in one batch after the current turn. */
  private unrecorded: BatchOp[] = [];

  /** Stores derivation `id` → `address`, batched with the others of this turn; a cache: failures are ignored. */
  private record(id: string, address: string): void {
    this.stored.set(id, address);
    this.unrecorded.push({
      type: 'put',
      store: this.opts.store,
      key: encodeKey('addr', 'drv', this.opts.prefix, String(this.account), id),
      value: this.encodeDerivation(id, address),
    });
    if (this.unrecorded.length > 1) return;
    queueMicrotask(() => {
      const ops = this.unrecorded;
      this.unrecorded = [];
      this.opts.db.batch(ops).catch(() => undefined);
    });
  }

  private macKey: Uint8Array | undefined;

  /**
   * The tag that authenticates a stored derivation: HMAC-SHA256 (RFC 2104) under a key only
   * this wallet has, over the record's place and the address. A record altered, forged or
   * moved to another index (a damaged store, a hostile backup) fails it, and an address this
   * wallet did not derive is never watched or taken as ours.
   */
  private derivationTag(id: string, address: string): Uint8Array {
    this.macKey ??= hmac(
      sha256,
      (this.cardKey ??= this.opts.wallet.privateKey(this.account, 0, 0)),
      DERIVATION_LABEL,
    );
    const place = encodeKey('addr', 'drv', this.opts.prefix, String(this.account), id);
    return hmac(sha256, this.macKey, concatBytes(place, utf8ToBytes(address))).slice(0, DERIVATION_TAG_BYTES);
  }

  /**
   * Whether derivation `id` may still be watched: a notification index at or above its
   * contact's lowest unseen one, a change index within the lookback or ahead, an invite
   * within the watched range. Live addresses have records of their own.
   */
  private watchedId(id: string): boolean {
    const [kind, a, b] = id.split('/');
    if (kind === 'n' && a !== undefined && b !== undefined)
      return Number(b) >= (this.peers.get(a)?.recv ?? 0);
    if (kind === 'c') return Number(a) >= this.changeNext - (this.opts.changeLookback ?? CHANGE_LOOKBACK);
    if (kind === 's' && a !== undefined && b !== undefined)
      return (
        Number(b) >= (this.siblingNext.get(Number(a)) ?? 0) - (this.opts.changeLookback ?? CHANGE_LOOKBACK)
      );
    if (kind === 'i') return Number(a) >= this.inviteNext - INVITE_WATCH;
    return false;
  }

  /** u8 version | u8 n | id[n] (UTF-8) | tag[16] | address (UTF-8). */
  private encodeDerivation(id: string, address: string): Uint8Array {
    const idBytes = utf8ToBytes(id);
    return concatBytes(
      Uint8Array.of(DERIVATION_VERSION, idBytes.length),
      idBytes,
      this.derivationTag(id, address),
      utf8ToBytes(address),
    );
  }

  /**
   * A stored derivation, or undefined when it is of another version, malformed or fails its
   * tag: the record is a cache of what the wallet derives, so such a one is not used, and the
   * address is derived again and stored again in this version.
   */
  private readDerivation(value: Uint8Array): { id: string; address: string } | undefined {
    if (value.length < 2 || value[0] !== DERIVATION_VERSION) return undefined;
    const n = value[1]!;
    if (value.length <= 2 + n + DERIVATION_TAG_BYTES) return undefined;
    const text = new TextDecoder('utf-8', { fatal: true });
    let id: string;
    let address: string;
    try {
      id = text.decode(value.subarray(2, 2 + n));
      address = text.decode(value.subarray(2 + n + DERIVATION_TAG_BYTES));
    } catch {
      return undefined;
    }
    const tag = value.subarray(2 + n, 2 + n + DERIVATION_TAG_BYTES);
    return equalBytes(tag, this.derivationTag(id, address)) ? { id, address } : undefined;
  }

  /**
   * Owns `address` as the derivation of `origin` without deriving it again (it was derived
   * before and stored); its key is derived when first asked for. False for a notification
   * address of a contact with no keys now (such an address is not owned, as `deriveNew` says).
   */
  private adopt(address: string, origin: AddressOrigin): boolean {
    if (origin.kind === 'card') return address === this.card.toString();
    const { wallet } = this.opts;
    let key: () => Uint8Array;
    const id = idOf(origin, this.branch);
    if (origin.kind === 'invite') {
      key = () => wallet.privateKey(this.account, 0, origin.i);
    } else if (origin.kind === 'change') {
      key = () => wallet.privateKey(this.account, this.branch, origin.j);
    } else if (origin.kind === 'sibling') {
      key = () => wallet.privateKey(this.account, origin.branch, origin.j);
    } else {
      const peer = this.opts.peerOf(origin.contact);
      if (peer === undefined) return false;
      key = () => {
        const t = this.receivedTweak(origin, peer);
        return tweakPrivateKey((this.cardKey ??= wallet.privateKey(this.account, 0, 0)), t);
      };
    }
    this.own(address, origin, key);
    this.derived.set(id, address);
    return true;
  }

  private cardKey: Uint8Array | undefined;

  /** The tweak of a notification to us, from the contact's first device or another of its devices. */
  private receivedTweak(origin: AddressOrigin & { kind: 'notify' }, peer: PeerKeys): bigint {
    const device = origin.device === undefined ? undefined : hexToBytes(origin.device);
    return notificationTweak(this.secret(origin.contact, peer), this.opts.selfDh, origin.k, device);
  }

  private deriveNew(origin: AddressOrigin): string {
    const { wallet, prefix } = this.opts;
    if (origin.kind === 'card') return this.card.toString();
    if (origin.kind === 'invite') {
      const a = wallet.address(prefix, this.account, 0, origin.i).toString();
      return this.own(a, origin, () => wallet.privateKey(this.account, 0, origin.i));
    }
    if (origin.kind === 'change' || origin.kind === 'sibling') {
      const branch = origin.kind === 'change' ? this.branch : origin.branch;
      const a = wallet.address(prefix, this.account, branch, origin.j).toString();
      return this.own(a, origin, () => wallet.privateKey(this.account, branch, origin.j));
    }
    const peer = this.opts.peerOf(origin.contact);
    if (peer === undefined) return '';
    const t = this.receivedTweak(origin, peer);
    const a = new Address(prefix, AddressVersion.PubKey, tweakPublicKey(this.card.payload, t)).toString();
    // The card key is the base of every stealth key: derived once (a BIP-32 step each time).
    return this.own(a, origin, () =>
      tweakPrivateKey((this.cardKey ??= wallet.privateKey(this.account, 0, 0)), t),
    );
  }
}

/** The window state a notification sequence is kept under: the contact, or one of its devices. */
function streamOf(contact: ContactId, device: string | undefined): string {
  return device === undefined ? contact : `${contact}.${device}`;
}

/** The contact a window state belongs to. */
function contactOf(stream: string): ContactId {
  const dot = stream.indexOf('.');
  return dot < 0 ? stream : stream.slice(0, dot);
}

/** The id a derivation is kept under (docs/protocol.md "Derived address record"). */
function idOf(origin: Exclude<AddressOrigin, { kind: 'card' }>, branch: number): string {
  switch (origin.kind) {
    case 'notify':
      return `n/${streamOf(origin.contact, origin.device)}/${origin.k}`;
    case 'change':
      // The chain is named unless it is the first device's, whose records are as before.
      return branch === 1 ? `c/${origin.j}` : `c/${origin.j}/${branch}`;
    case 'sibling':
      return `s/${origin.branch}/${origin.j}`;
    case 'invite':
      return `i/${origin.i}`;
  }
}

/**
 * The keys a contact's card gives (its identity key in X25519 form and its address on
 * `prefix`), with the first-contact address of the invite it came by, when that is on `prefix`.
 */
export function peerKeysOf(
  card: ContactCard,
  prefix: NetworkPrefix,
  firstContact?: Address,
): PeerKeys | undefined {
  const base = addressOn(card, prefix);
  if (base === undefined) return undefined;
  let dh = cardDh.get(card);
  if (dh === undefined) {
    dh = ed25519ToX25519(card.identityKey);
    cardDh.set(card, dh);
  }
  return firstContact?.prefix === prefix ? { dh, base, firstContact } : { dh, base };
}

/**
 * Each card's X25519 key, converted once (RFC 7748 §4.1 birational map, a point decompression
 * and an inversion): `peerKeysOf` runs for every address a publication or a window move derives,
 * and a card is immutable, so the conversion is kept beside the card for as long as it lives.
 */
const cardDh = new WeakMap<ContactCard, Uint8Array>();

/** Version byte of the derived address record (docs/protocol.md "Derived address record"). */
export const DERIVATION_VERSION = 1;
const DERIVATION_TAG_BYTES = 16;
const DERIVATION_LABEL = utf8ToBytes('p2pcomm/v1/derived-address');
