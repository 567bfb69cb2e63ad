/**
 * Sessions with every contact, one per pair of devices, shared by every transport: the
 * same frame can travel over WebRTC or inside a Kaspa batch, and whichever copy arrives
 * second is reported as a duplicate.
 *
 * Simultaneous initiation. When both sides start a session before either has heard from
 * the other, each receives a first-contact frame while holding its own unconfirmed
 * initiator session. Rule: the session started by the peer with the lower peer ID (bytewise)
 * wins, but only once the peer is known to hold it. Until our own start is answered we send
 * on the peer's session (it is authenticated and the peer holds it for certain), keeping ours
 * receive-only; the first answer on ours, if we have the lower ID, makes ours the active one
 * again. Each side decides alone from the two peer IDs and what it received, so both converge
 * on one session. Our own start may never be answered: the peer may have refused it (it named
 * a one-time pre-key already used, ONE_TIME_KEY_USED, which the peer can never open since
 * X3DH §3.4 deleted the key). So the frame that sets our unanswered start aside says
 * `resendUnanswered`: what we sent on it may not have arrived and is sent again, on the
 * peer's session, until receipted.
 * A first-contact frame that arrives when our session is already confirmed means the peer
 * lost its state (reinstall, restore): its new session replaces ours, the old one is kept
 * receive-only. A bounded number (MAX_RETIRED) of receive-only sessions is kept per peer.
 *
 * Pre-keys (prekeys.ts) live here, in the same state: random, rotated, wiped after their
 * grace window, never derivable from the seed. Our own card always announces the current
 * pre-key and is re-issued when it rotates; a contact with a confirmed session is handed the
 * new card once, in session traffic (`pendingCard` / `cardAnnounced`).
 *
 * One-time pre-keys (prekeys.ts). We mint them for invite links (`mintOneTimeKeys`); a peer's
 * keys from its invite are kept with its record (`addOneTimeKeys`, at most
 * MAX_PEER_ONE_TIME) and the next session we start with it uses one, which is then dropped.
 * With none left the start is signed-pre-key-only (X3DH §3.3). A first-contact frame naming
 * one of ours consumes it; a frame of another session naming a consumed one is refused
 * (ONE_TIME_KEY_USED), and one naming a key we no longer hold (expired) is refused (EXPIRED).
 *
 * One-time pre-key batches (one-time-batch.ts, envelope type 9). Once a session with a peer is
 * confirmed, we hand it a signed batch of our one-time keys (`oneTimeBatchFor`), and again
 * when it is believed to hold fewer than half a batch: the keys of our latest batch it has not
 * used. Their secrets stay in its record (`given`, the last two batches). Its batch for us is
 * kept in the same record (`acceptOneTimeBatch`; the newest replaces the older) and goes into
 * the backup file (`oneTimeBatchOf` / `restoreOneTimeBatch`), so that a session we must start
 * anew after losing our state uses one of its keys, after the invite's. A peer with a
 * confirmed session that starts anew has lost its state: its keys for us are dropped (they
 * belonged to that state). Unless it started with one of ours, it is believed to hold none
 * (`givenLost`) and its next traffic refills it, but our secrets stay under the same
 * two-batch rule: a backup it restores later may be older than that refill, and its keys
 * must still open (X3DH §3.4 deletes a one-time key once used, not before).
 *
 * Strangers. Whoever holds our card can start a session; `forget` drops all of it again (its
 * record, sessions, and the replay mark of its ephemeral key) when the user deletes or
 * blocks the message request (src/core/requests).
 *
 * Replays (X3DH §4.2). A session is started from a first-contact frame only once per
 * pre-key and ephemeral key, and only after the caller's `admit` check of the decrypted
 * plaintext (envelope age) passed: decryption runs on a fresh ratchet that is installed only
 * then. So an archived first-contact frame can never bring back a session whose header keys
 * and nonces were already used (a header key and nonce pair is never used twice).
 *
 * Storage stays outside: `serialize()` gives versioned bytes, `SessionManager.deserialize`
 * takes them back. They contain secrets: store them in encrypted storage only.
 */
import { SessionError, ContactCardError } from '../errors.ts';
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { DecodeError, assertBytes } from '../../util/errors.ts';
import { bytesToHex, equalBytes, wipe } from '../../util/bytes.ts';
import {
  ML_KEM,
  asMlKemCiphertext,
  randomX25519KeyPair,
  asX25519PublicKey,
  x25519KeyPair,
  type MlKemCiphertext,
  type PublicPreKey,
  type X25519KeyPair,
  type X25519PublicKey,
} from '../identity/keys.ts';
import type { Identity } from '../identity/identity.ts';
import type { PeerId } from '../identity/peer-id.ts';
import type { Address } from '../../kaspa/address.ts';
import { ContactCard, MAX_CARD_BYTES } from '../contact/card.ts';
import type { DeviceList } from '../devices/device-list.ts';
import { DEFAULT_RATCHET_LIMITS, Ratchet, type Framing, type RatchetLimits } from './ratchet.ts';
import { x3dhInitiate, x3dhRespond } from './x3dh.ts';
import { openFirstContact, sealFirstContact } from './first-contact.ts';
import { TAG_BYTES } from './kdf.ts';
import {
  DEFAULT_PREKEY_POLICY,
  PreKeyRing,
  randomId,
  type PreKeyPolicy,
  type PublicOneTimeKey,
} from './prekeys.ts';
import {
  MAX_ONE_TIME_BATCH,
  MAX_ONE_TIME_BATCH_BYTES,
  ONE_TIME_BATCH_SIZE,
  openOneTimeBatch,
  parseOneTimeBatch,
  signOneTimeBatch,
} from './one-time-batch.ts';

/** Receive-only sessions kept per peer after a simultaneous start or a peer reset. */
export const MAX_RETIRED = 2;
/** Session state format version (docs/protocol.md). */
export const SESSION_STATE_VERSION = 5;
/** Most one-time pre-keys of one peer kept (the newest). */
export const MAX_PEER_ONE_TIME = 8;
const MAX_STATE_BYTES_PER_SESSION = 1 << 17;
/** Our one-time secrets kept per contact: its latest two batches (module doc). */
const MAX_GIVEN = 2 * MAX_ONE_TIME_BATCH;

/** Options of a SessionManager. */
export interface SessionManagerOptions {
  /** When our pre-keys rotate and how long old ones still open first messages. */
  readonly preKeys?: PreKeyPolicy;
  /** Clock in Unix milliseconds (default Date.now), injectable for tests. */
  readonly now?: () => number;
  readonly limits?: RatchetLimits;
}

/** What our own card says besides its keys. */
/** Whether `own` carries the list `fields` asks for (none, or the same signed bytes). */
function sameList(own: ContactCard, fields: OwnCardFields): boolean {
  const a = own.deviceList?.serialize();
  const b = fields.deviceList?.serialize();
  return a === undefined || b === undefined ? a === b : equalBytes(a, b);
}

export interface OwnCardFields {
  readonly addresses: readonly Address[];
  readonly displayName: string;
  /** Issue time in Unix seconds (default: now); raised past the previous card's if needed. */
  readonly issuedAt?: number;
  /** The person's device list naming this device (docs/devices.md §3): the card is version 3. */
  readonly deviceList?: DeviceList;
}

/** Checks a first-contact frame's plaintext before its session is installed (may throw). */
export type AdmitFirstContact = (plaintext: Uint8Array) => void;

/** How `decrypt` / `tryDecrypt` read a frame. */
export interface DecryptOptions {
  /** `exact`: the frame is all of the bytes; `prefix`: it starts them (batch scanning). @default "exact" */
  readonly framing?: Framing;
  /** Checks a would-be first message before its session is installed. */
  readonly admit?: AdmitFirstContact;
}

/** Result of decrypting one frame. */
export type Received =
  | {
      readonly kind: 'message';
      readonly sender: PeerId;
      /** The sender's current contact card. */
      readonly card: ContactCard;
      readonly plaintext: Uint8Array;
      /** True when this frame started a session with a peer we had no session with. */
      readonly newSession: boolean;
      /**
       * True when this frame's session took the place of one we had started and the peer had
       * not answered (simultaneous start, module doc): what we sent on ours may never open,
       * so the caller sends again whatever the peer has not receipted.
       */
      readonly resendUnanswered: boolean;
      /** Bytes of the frame: where it ends when it was read with `prefix` framing. */
      readonly length: number;
    }
  | { readonly kind: 'duplicate'; readonly sender: PeerId };

interface SessionEntry {
  readonly ratchet: Ratchet;
  /** True when we started this session (X3DH initiator). */
  readonly initiator: boolean;
  /** The X3DH ephemeral key EK_A; recognises repeated first-contact frames. */
  readonly ephemeralKey: X25519PublicKey;
  /** The peer pre-key an initiator seals its first-contact frames to. */
  readonly peerPreKey: X25519PublicKey;
  /** PQXDH CT, repeated by an initiator in every frame until the first reply. */
  readonly kemCiphertext: MlKemCiphertext | null;
  /** The peer's one-time pre-key an initiator started with, named in every pre-reply frame. */
  readonly oneTimeKeyId: number | null;
}

/** One of our one-time pre-keys handed to a contact in a batch; `createdAt` is the batch's issue time. */
interface GivenKey {
  readonly id: number;
  readonly createdAt: number;
  readonly dh: X25519KeyPair;
}

/** The latest one-time batch a contact gave us, and which of its keys are still unused. */
interface PeerBatch {
  readonly bytes: Uint8Array;
  readonly issuedAt: number;
  unused: PublicOneTimeKey[];
}

interface PeerRecord {
  card: ContactCard;
  active: SessionEntry | null;
  retired: SessionEntry[];
  /** Issue time of the newest own card this peer is known to hold (0: none known). */
  announced: number;
  /** The peer's one-time pre-keys for the next session we start, oldest first. */
  oneTimeKeys: PublicOneTimeKey[];
  /** Our one-time pre-keys handed to this peer in batches (secrets), oldest first. */
  given: GivenKey[];
  /** The peer's latest batch of one-time pre-keys for us, null before the first. */
  batch: PeerBatch | null;
  /** The peer started anew without one of `given`: it holds none of them, a refill is due. */
  givenLost: boolean;
}

function newRecord(card: ContactCard): PeerRecord {
  return {
    card,
    active: null,
    retired: [],
    announced: 0,
    oneTimeKeys: [],
    given: [],
    batch: null,
    givenLost: false,
  };
}

/** Verified sender cards remembered (see `#verifiedCards`). */
const VERIFIED_CARDS_KEPT = 64;

/** All sessions of one identity. */
export class SessionManager {
  readonly #identity: Identity;
  readonly #ring: PreKeyRing;
  readonly #now: () => number;
  readonly #limits: RatchetLimits;
  readonly #peers = new Map<string, PeerRecord>();
  readonly #index = new Map<string, { peer: string; entry: SessionEntry }>();
  /**
   * Cards already verified, by their bytes. A sender repeats its card in every first-contact
   * frame until it hears back, so a backlog of such frames would otherwise pay one Ed25519
   * verification each, more than the rest of the decryption. Bounded; oldest dropped first.
   */
  readonly #verifiedCards = new Map<string, ContactCard>();
  #ownCard: ContactCard | null = null;
  /** Ratchets whose sending half waits (ratchet.ts `prepareSend`), done in the next idle turn. */
  readonly #toPrepare = new Set<Ratchet>();
  #prepareTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(identity: Identity, options: SessionManagerOptions, ring: PreKeyRing) {
    this.#identity = identity;
    this.#ring = ring;
    this.#now = options.now ?? Date.now;
    this.#limits = options.limits ?? DEFAULT_RATCHET_LIMITS;
  }

  /**
   * An empty manager for `identity`, with a fresh random pre-key. Save its `serialize()`
   * before handing out a card: the pre-key exists nowhere else.
   */
  static create(identity: Identity, options: SessionManagerOptions = {}): SessionManager {
    const now = options.now ?? Date.now;
    return new SessionManager(identity, options, PreKeyRing.create(now(), options.preKeys));
  }

  /** The pre-key our card announces now. */
  get preKey(): PublicPreKey {
    return this.#ring.current();
  }

  /** Our own card (full form), or null before `issueOwnCard` / `setOwnCard`. */
  get ownCard(): ContactCard | null {
    return this.#ownCard;
  }

  /**
   * Issues our card with the current pre-key, or returns the card we already have when it
   * says the same (so a restart does not make a new card version to announce).
   */
  issueOwnCard(fields: OwnCardFields): ContactCard {
    const own = this.#ownCard;
    const pre = this.#ring.current();
    if (
      own !== null &&
      fields.issuedAt === undefined &&
      own.preKeyId === pre.id &&
      own.displayName === fields.displayName.normalize('NFC') &&
      own.addresses.length === fields.addresses.length &&
      own.addresses.every((a, i) => a.toString() === fields.addresses[i]?.toString()) &&
      sameList(own, fields)
    ) {
      return own;
    }
    const wanted = fields.issuedAt ?? Math.floor(this.#now() / 1000);
    const issuedAt = own === null ? wanted : Math.max(wanted, own.issuedAt + 1);
    const card = ContactCard.create(this.#identity, {
      addresses: fields.addresses,
      displayName: fields.displayName,
      preKey: pre,
      issuedAt,
      ...(fields.deviceList === undefined ? {} : { deviceList: fields.deviceList }),
    });
    this.#ownCard = card;
    return card;
  }

  /**
   * Our own card, sent sealed in first-contact frames so the peer can answer. It must be
   * ours, in full form, and announce a pre-key we hold (INVALID_FIELD otherwise).
   */
  setOwnCard(card: ContactCard): void {
    if (!equalBytes(card.identityKey, this.#identity.publicKey)) {
      throw new ContactCardError('IDENTITY_MISMATCH', 'own card is for another identity');
    }
    if (card.kemPreKey === undefined || !this.#ring.holds(card.preKeyId, card.preKey)) {
      throw new ContactCardError('INVALID_FIELD', 'own card must announce a pre-key this manager holds');
    }
    this.#ownCard = card;
  }

  /**
   * Rotates our pre-key when due and wipes those past their grace window (prekeys.ts);
   * re-issues our card when the current pre-key changed. True when the state changed and
   * should be saved. Runs on every encrypt and decrypt too; call it at start-up and on a timer
   * so rotation and deletion do not wait for traffic.
   */
  refreshPreKeys(): boolean {
    if (!this.#ring.refresh(this.#now())) return false;
    const own = this.#ownCard;
    if (own !== null && own.preKeyId !== this.#ring.current().id) {
      this.issueOwnCard({ addresses: own.addresses, displayName: own.displayName });
    }
    return true;
  }

  /**
   * Our card when `peer` has a confirmed session but has not been handed our current card
   * yet (it rotated, or the peer knows only the compact form from a first-contact frame):
   * send it in session traffic, then call `cardAnnounced`. Not before the session is
   * confirmed, so pre-reply frames stay small.
   */
  pendingCard(peer: PeerId): ContactCard | undefined {
    const own = this.#ownCard;
    const rec = this.#peers.get(bytesToHex(peer));
    if (own === null || rec?.active == null || !rec.active.ratchet.hasReceived) return undefined;
    return rec.announced < own.issuedAt ? own : undefined;
  }

  /** Records that `peer` was handed our current card. */
  cardAnnounced(peer: PeerId): void {
    const own = this.#ownCard;
    const rec = this.#peers.get(bytesToHex(peer));
    if (own !== null && rec !== undefined) rec.announced = own.issuedAt;
  }

  /**
   * Adds a contact or replaces its card with a newer one. A card with a lower or equal
   * version than the known one is refused (STALE_VERSION), so an old card replayed by
   * someone cannot roll back a pre-key or an address, and two different cards of one issue
   * time cannot take turns. The known card itself again (a reload) changes nothing.
   */
  addContact(card: ContactCard): void {
    const key = bytesToHex(card.peerId);
    const rec = this.#peers.get(key);
    if (rec === undefined) {
      this.#peers.set(key, newRecord(card));
      return;
    }
    if (card.sameCard(rec.card)) {
      // The full form of a card known in compact form brings its ML-KEM pre-key.
      if (rec.card.kemPreKey === undefined && card.kemPreKey !== undefined) rec.card = card;
      return;
    }
    if (card.issuedAt <= rec.card.issuedAt)
      throw new ContactCardError('STALE_VERSION', 'a card of this or a later issue time is already known');
    rec.card = card;
  }

  /**
   * Mints `count` one-time pre-keys of ours to hand over (an invite link). Save `serialize()`
   * before handing them out: their secrets exist nowhere else.
   */
  mintOneTimeKeys(count: number): PublicOneTimeKey[] {
    return this.#ring.mintOneTime(this.#now(), count);
  }

  /** True while our one-time pre-key `id` is unclaimed (not used, not expired). */
  holdsOneTimeKey(id: number): boolean {
    return this.#ring.holdsOneTime(id);
  }

  /**
   * Keeps one-time pre-keys a contact handed over (its invite) for the next session we start
   * with it; the newest MAX_PEER_ONE_TIME are kept. The contact must be known (`addContact`).
   */
  addOneTimeKeys(peer: PeerId, keys: readonly PublicOneTimeKey[]): void {
    const rec = this.#peers.get(bytesToHex(peer));
    if (rec === undefined) throw new SessionError('UNKNOWN_SESSION', 'no contact card for this peer');
    for (const k of keys) {
      asX25519PublicKey(k.publicKey, 'publicKey');
      if (rec.oneTimeKeys.some((o) => o.id === k.id)) continue;
      rec.oneTimeKeys.push({ id: k.id, publicKey: k.publicKey.slice() as X25519PublicKey });
    }
    rec.oneTimeKeys.splice(0, Math.max(0, rec.oneTimeKeys.length - MAX_PEER_ONE_TIME));
  }

  /** How many of `peer`'s one-time pre-keys we hold for the next session with it (invite and batch). */
  oneTimeKeysOf(peer: PeerId): number {
    const rec = this.#peers.get(bytesToHex(peer));
    return (rec?.oneTimeKeys.length ?? 0) + (rec?.batch?.unused.length ?? 0);
  }

  /**
   * A signed batch of fresh one-time pre-keys of ours for `peer` (one-time-batch.ts), when it
   * has a confirmed session and is believed to hold fewer than half a batch of ours; else
   * undefined. Send it in session traffic and save the state before the frame leaves: the
   * secrets exist only here. Not before the session is confirmed, so pre-reply frames stay small.
   */
  oneTimeBatchFor(peer: PeerId): Uint8Array | undefined {
    const rec = this.#peers.get(bytesToHex(peer));
    if (rec?.active == null || !rec.active.ratchet.hasReceived) return undefined;
    if (!rec.givenLost && this.#believedHeld(rec) * 2 >= ONE_TIME_BATCH_SIZE) return undefined;
    const last = rec.given.at(-1)?.createdAt ?? 0;
    // Strictly increasing: the peer refuses a batch not newer than the one it keeps.
    const issuedAt = Math.max(this.#now(), last + 1);
    const fresh: GivenKey[] = [];
    for (let i = 0; i < ONE_TIME_BATCH_SIZE; i++) {
      let id = randomId();
      while (this.#oneTimeIdTaken(id) || fresh.some((k) => k.id === id)) id = randomId();
      fresh.push({ id, createdAt: issuedAt, dh: randomX25519KeyPair() });
    }
    // The previous batch stays usable while this one travels; older ones are wiped.
    const keep = new Set([last, issuedAt]);
    for (const k of rec.given) if (!keep.has(k.createdAt)) wipe(k.dh.secretKey);
    rec.given = [...rec.given.filter((k) => keep.has(k.createdAt)), ...fresh];
    rec.givenLost = false;
    return signOneTimeBatch(
      this.#identity,
      rec.card.identityKey,
      issuedAt,
      fresh.map((k) => ({ id: k.id, publicKey: k.dh.publicKey })),
    );
  }

  /** Our one-time keys of the latest batch to `peer` it has not used (believed held). */
  #believedHeld(rec: PeerRecord): number {
    const last = rec.given.at(-1)?.createdAt;
    return last === undefined ? 0 : rec.given.filter((k) => k.createdAt === last).length;
  }

  #oneTimeIdTaken(id: number): boolean {
    if (this.#ring.oneTimeIdTaken(id)) return true;
    for (const rec of this.#peers.values()) if (rec.given.some((k) => k.id === id)) return true;
    return false;
  }

  /**
   * Keeps a batch of one-time pre-keys `peer` sent us (envelope type 9), replacing the one
   * kept before; the next session we start with it uses one. Checks, with nothing stored on
   * failure: SessionError UNKNOWN_SESSION (no record of this peer), BAD_SIGNATURE (not signed
   * by the peer for us), REPLAY (not newer than the batch kept); DecodeError for malformed
   * bytes (too many keys, duplicate ids, another version).
   */
  acceptOneTimeBatch(peer: PeerId, bytes: Uint8Array): void {
    assertBytes('bytes', bytes);
    const rec = this.#peers.get(bytesToHex(peer));
    if (rec === undefined) throw new SessionError('UNKNOWN_SESSION', 'no contact card for this peer');
    const batch = openOneTimeBatch(bytes, rec.card.identityKey, this.#identity.publicKey);
    if (rec.batch !== null && batch.issuedAt <= rec.batch.issuedAt)
      throw new SessionError('REPLAY', 'a one-time key batch not newer than the one kept');
    rec.batch = { bytes: batch.bytes, issuedAt: batch.issuedAt, unused: [...batch.keys] };
  }

  /**
   * The peer's kept batch and the ids of its keys still unused, for a backup file; undefined
   * when none is kept.
   */
  oneTimeBatchOf(
    peer: PeerId,
  ): { readonly bytes: Uint8Array; readonly unused: readonly number[] } | undefined {
    const b = this.#peers.get(bytesToHex(peer))?.batch;
    return b == null ? undefined : { bytes: b.bytes.slice(), unused: b.unused.map((k) => k.id) };
  }

  /**
   * Takes back `oneTimeBatchOf` output from a backup file: the signature is checked again
   * (as `acceptOneTimeBatch`), and only the listed ids of the batch are kept as unused.
   */
  restoreOneTimeBatch(peer: PeerId, bytes: Uint8Array, unused: readonly number[]): void {
    this.acceptOneTimeBatch(peer, bytes);
    const rec = this.#peers.get(bytesToHex(peer))!;
    const keep = new Set(unused);
    rec.batch!.unused = rec.batch!.unused.filter((k) => keep.has(k.id));
  }

  /**
   * Drops everything kept for `peer`: its card, sessions, tags, and the replay marks of the
   * ephemeral keys its first-contact frames carried (a stranger whose request was deleted or
   * blocked). A one-time pre-key its first contact consumed stays consumed. True when
   * anything was dropped (save the state then).
   */
  forget(peer: PeerId): boolean {
    const key = bytesToHex(peer);
    const rec = this.#peers.get(key);
    let changed = false;
    if (rec !== undefined) {
      for (const e of [rec.active, ...rec.retired]) {
        if (e === null) continue;
        this.#unindex(e);
        if (!e.initiator) this.#ring.unsee(e.ephemeralKey);
      }
      for (const k of rec.given) wipe(k.dh.secretKey);
      this.#peers.delete(key);
      changed = true;
    }
    for (const [bytes, card] of this.#verifiedCards)
      if (equalBytes(card.peerId, peer)) this.#verifiedCards.delete(bytes);
    return changed;
  }

  /** The known card of a peer. */
  contact(peer: PeerId): ContactCard | undefined {
    return this.#peers.get(bytesToHex(peer))?.card;
  }

  /** True when a session with `peer` exists (it may still await the peer's first reply). */
  hasSession(peer: PeerId): boolean {
    return this.#peers.get(bytesToHex(peer))?.active != null;
  }

  /**
   * True when frames to `peer` go in the first-contact wrapper: no session yet, or ours
   * awaits the peer's first reply. A batch places such frames where first contacts are
   * looked for (envelope/batch.ts).
   */
  awaitsReply(peer: PeerId): boolean {
    const active = this.#peers.get(bytesToHex(peer))?.active;
    return active == null || (active.initiator && !active.ratchet.hasReceived);
  }

  /** True when an 8-byte frame tag belongs to one of our sessions (a table lookup, no cryptography). */
  recognises(tag: Uint8Array): boolean {
    return tag.length === TAG_BYTES && this.#index.has(bytesToHex(tag));
  }

  /**
   * Encrypts `plaintext` for `peer`, starting a session from its contact card if none
   * exists (X3DH §3.3). Until the peer has answered, frames carry the first-contact
   * wrapper, so whichever of them arrives first opens the session.
   */
  encrypt(peer: PeerId, plaintext: Uint8Array): Uint8Array {
    assertBytes('plaintext', plaintext);
    const key = bytesToHex(peer);
    const rec = this.#peers.get(key);
    if (rec === undefined) throw new SessionError('UNKNOWN_SESSION', 'no contact card for this peer');
    this.refreshPreKeys();
    if (rec.active === null) {
      const kemPreKey = rec.card.kemPreKey;
      if (kemPreKey === undefined) {
        throw new SessionError(
          'NO_PREKEY',
          "the contact's card lacks its post-quantum pre-key (compact form); its full card is needed",
        );
      }
      const ek = randomX25519KeyPair();
      // One of the peer's one-time pre-keys, used once; none left: signed pre-key only.
      const opk = rec.oneTimeKeys.shift() ?? rec.batch?.unused.shift();
      const s = x3dhInitiate(this.#identity, ek, {
        identityKey: rec.card.identityKey,
        identityDh: rec.card.identityDhKey,
        preKey: rec.card.preKey,
        kemPreKey,
        ...(opk ? { oneTimePreKey: opk.publicKey } : {}),
      });
      const ratchet = Ratchet.initInitiator(s.sk, rec.card.preKey, s.hka, s.nhkb, s.ad, this.#limits);
      rec.active = {
        ratchet,
        initiator: true,
        ephemeralKey: ek.publicKey,
        peerPreKey: rec.card.preKey,
        kemCiphertext: s.kemCiphertext,
        oneTimeKeyId: opk?.id ?? null,
      };
    }
    const entry = rec.active;
    const frame = entry.ratchet.encrypt(plaintext);
    this.#reindex(key, entry);
    if (entry.initiator && !entry.ratchet.hasReceived) {
      if (this.#ownCard === null)
        throw new SessionError('BAD_STATE', 'issueOwnCard() before the first message');
      if (entry.kemCiphertext === null) throw new SessionError('BAD_STATE', 'session start without CT');
      return sealFirstContact(
        entry.peerPreKey,
        entry.ephemeralKey,
        entry.kemCiphertext,
        this.#ownCard.serializeCompact(),
        frame,
        entry.oneTimeKeyId,
      );
    }
    return frame;
  }

  /**
   * Does the sending half of every DH ratchet step that waits for it (ratchet.ts
   * `prepareSend`): two X25519 operations per session that received a new chain. Called on
   * its own in the turn after a decryption, so the arrival does not wait for it and the
   * next send finds it done; a state saved before it is still complete (the step is done
   * again, with a new key, after a restart: nothing was sent under the first).
   */
  prepareSends(): void {
    clearTimeout(this.#prepareTimer);
    this.#prepareTimer = undefined;
    for (const r of this.#toPrepare) r.prepareSend();
    this.#toPrepare.clear();
  }

  #prepareLater(ratchet: Ratchet): void {
    if (!ratchet.sendPending) return;
    this.#toPrepare.add(ratchet);
    if (this.#prepareTimer !== undefined) return;
    this.#prepareTimer = setTimeout(() => this.prepareSends(), 0);
    if (typeof this.#prepareTimer === 'object' && 'unref' in this.#prepareTimer) this.#prepareTimer.unref();
  }

  /**
   * Decrypts a frame from any transport. SessionError UNKNOWN_SESSION when it belongs to
   * no session of ours, DECRYPT_FAILED when it was altered; state is unchanged on error.
   */
  decrypt(frame: Uint8Array, options: DecryptOptions = {}): Received {
    const r = this.tryDecrypt(frame, options);
    if (r === undefined) throw new SessionError('UNKNOWN_SESSION', 'frame belongs to no session of ours');
    return r;
  }

  /**
   * Like `decrypt`, but undefined for a frame that is not for us (batch scanning).
   * A frame whose tag is ours but which fails authentication still throws. With `prefix`
   * framing the frame starts `frame` and ends where its encrypted header says (ratchet.ts).
   *
   * `admit` sees the plaintext of a frame that would start a new session, before anything
   * is installed; when it throws, the error propagates and the state is unchanged. A
   * first-contact frame of a session already started once under our pre-key, whose session
   * is gone, is refused (REPLAY) without decryption.
   */
  tryDecrypt(frame: Uint8Array, options: DecryptOptions = {}): Received | undefined {
    const { framing = 'exact', admit } = options;
    assertBytes('frame', frame);
    if (frame.length < TAG_BYTES) throw new DecodeError('TRUNCATED', 'frame shorter than its tag');
    this.refreshPreKeys();
    const hit = this.#index.get(bytesToHex(frame.subarray(0, TAG_BYTES)));
    if (hit !== undefined) return this.#decryptIn(hit.peer, hit.entry, frame, false, framing, 0);
    const opened = openFirstContact(frame, this.#ring.active());
    if (opened === undefined) return undefined;

    let card: ContactCard;
    try {
      card = this.#verifiedCard(opened.senderCard);
    } catch (e) {
      if (e instanceof DecodeError || e instanceof ContactCardError) {
        throw new SessionError('SENDER_MISMATCH', 'first-contact frame carries an invalid card', {
          cause: e,
        });
      }
      throw e;
    }
    const key = bytesToHex(card.peerId);
    if (equalBytes(card.identityKey, this.#identity.publicKey)) {
      throw new SessionError('SENDER_MISMATCH', 'first-contact frame claims to come from ourselves');
    }
    const rec = this.#peers.get(key);
    const known =
      rec &&
      [rec.active, ...rec.retired].find((e) => e !== null && equalBytes(e.ephemeralKey, opened.ephemeralKey));
    // The wrapper's own bytes precede the inner frame, which says where the whole frame ends.
    const wrapper = frame.length - opened.inner.length;
    if (rec !== undefined && known) return this.#decryptIn(key, known, opened.inner, false, framing, wrapper);
    const preKeyId = opened.preKey.id;
    if (this.#ring.hasSeen(preKeyId, opened.ephemeralKey)) {
      throw new SessionError('REPLAY', 'first-contact frame of a session that was already started once');
    }
    if (!this.#ring.mayStart(preKeyId)) {
      throw new SessionError('EXPIRED', 'this retired pre-key starts no more sessions');
    }
    const otkId = opened.oneTimeKeyId;
    // A key handed to this very peer in a batch, else one minted for an invite.
    const givenIndex = otkId === null || rec === undefined ? -1 : rec.given.findIndex((k) => k.id === otkId);
    const otk =
      otkId === null ? undefined : givenIndex >= 0 ? rec!.given[givenIndex]!.dh : this.#ring.oneTime(otkId);
    if (otk === 'consumed') {
      throw new SessionError(
        'ONE_TIME_KEY_USED',
        'first-contact frame names a one-time pre-key already used',
      );
    }
    if (otkId !== null && otk === undefined) {
      throw new SessionError('EXPIRED', 'first-contact frame names a one-time pre-key no longer held');
    }

    const s = x3dhRespond(
      this.#identity,
      opened.preKey.dh,
      card.identityKey,
      card.identityDhKey,
      opened.ephemeralKey,
      { ciphertext: opened.kemCiphertext, secretKey: opened.preKey.kemSecretKey },
      otk,
    );
    const ratchet = Ratchet.initResponder(s.sk, opened.preKey.dh, s.hka, s.nhkb, s.ad, this.#limits);
    const entry: SessionEntry = {
      ratchet,
      initiator: false,
      ephemeralKey: opened.ephemeralKey,
      peerPreKey: opened.preKey.dh.publicKey,
      kemCiphertext: null,
      oneTimeKeyId: null,
    };
    // A fresh ratchet, not yet reachable: a failure below leaves the manager as it was.
    const result = entry.ratchet.decrypt(opened.inner, this.#now(), framing);
    if (result.kind === 'message') admit?.(result.plaintext);
    this.#prepareLater(entry.ratchet);
    // Only an authenticated, admitted first message creates or changes anything (X3DH §3.4).
    const own = this.#ownCard;
    const target = rec ?? newRecord(card);
    // A known peer with a confirmed session starting anew lost its state (module doc): the
    // one-time keys it gave us belonged to that state, and unless it started with one of our
    // batch keys (restored with its contacts), it holds none of ours now; an older backup of
    // it may still hold some, so their secrets are kept.
    const reset = rec?.active?.ratchet.hasReceived === true;
    if (reset && rec.batch !== null) rec.batch.unused = [];
    if (reset && givenIndex < 0) rec.givenLost = true;
    if (rec === undefined) this.#peers.set(key, target);
    else if (card.issuedAt > target.card.issuedAt) target.card = card;
    // The peer started from a card with our current pre-key: it holds that card already.
    if (own !== null && own.preKeyId === preKeyId)
      target.announced = Math.max(target.announced, own.issuedAt);
    const setAside = this.#install(key, target, entry);
    this.#ring.accept(preKeyId, opened.ephemeralKey);
    // Deleted once used (X3DH §3.4): a later copy of this state no longer opens this frame.
    if (givenIndex >= 0) {
      const [used] = target.given.splice(givenIndex, 1);
      wipe(used!.dh.secretKey);
      this.#ring.markConsumed(otkId!, this.#now());
    } else if (otkId !== null) this.#ring.consumeOneTime(otkId, this.#now());
    this.refreshPreKeys();
    if (result.kind === 'duplicate') return { kind: 'duplicate', sender: card.peerId };
    return {
      kind: 'message',
      sender: card.peerId,
      card: target.card,
      plaintext: result.plaintext,
      newSession: true,
      resendUnanswered: setAside,
      length: wrapper + result.length,
    };
  }

  #verifiedCard(bytes: Uint8Array): ContactCard {
    const key = bytesToHex(bytes);
    const known = this.#verifiedCards.get(key);
    if (known) return known;
    // The card a contact's session was made with was verified when it was taken in: a first
    // contact from a known person usually carries that same card again (compact), and an
    // Ed25519 check per contact was a tenth of a 100-contact catch-up (docs/delivery.md).
    const claimed = ContactCard.claimedPeerId(bytes);
    const rec = claimed === undefined ? undefined : this.#peers.get(bytesToHex(claimed));
    if (rec !== undefined && rec.card.matches(bytes)) return rec.card;
    const card = ContactCard.deserialize(bytes);
    if (this.#verifiedCards.size >= VERIFIED_CARDS_KEPT) {
      this.#verifiedCards.delete(this.#verifiedCards.keys().next().value!);
    }
    this.#verifiedCards.set(key, card);
    return card;
  }

  /**
   * Makes a new responder session the active one (module doc): the peer holds it for certain.
   * The session it replaces stays receive-only. True when that was our own unanswered start.
   */
  #install(key: string, rec: PeerRecord, entry: SessionEntry): boolean {
    const current = rec.active;
    if (current !== null) rec.retired.unshift(current);
    rec.active = entry;
    for (const old of rec.retired.splice(MAX_RETIRED)) this.#unindex(old);
    this.#reindex(key, entry);
    return current !== null && current.initiator && !current.ratchet.hasReceived;
  }

  /**
   * The first answer on our own start set aside for the peer's (simultaneous start): the peer
   * holds both now, and the one started by the lower peer ID becomes the active one (module doc).
   */
  #answered(rec: PeerRecord, entry: SessionEntry): void {
    const active = rec.active;
    const at = rec.retired.indexOf(entry);
    if (active === null || active.initiator || at < 0) return;
    if (compareBytes(this.#identity.peerId, rec.card.peerId) >= 0) return;
    rec.retired.splice(at, 1);
    rec.retired.unshift(active);
    rec.active = entry;
  }

  #decryptIn(
    key: string,
    entry: SessionEntry,
    frame: Uint8Array,
    newSession: boolean,
    framing: Framing,
    wrapper: number,
  ): Received {
    const rec = this.#peers.get(key)!;
    const unanswered = entry.initiator && !entry.ratchet.hasReceived;
    let result;
    try {
      result = entry.ratchet.decrypt(frame, this.#now(), framing);
    } finally {
      // Expired skipped keys may have been pruned even when decryption failed.
      this.#reindex(key, entry);
    }
    this.#prepareLater(entry.ratchet);
    if (unanswered && entry.ratchet.hasReceived) this.#answered(rec, entry);
    const sender = rec.card.peerId;
    if (result.kind === 'duplicate') return { kind: 'duplicate', sender };
    return {
      kind: 'message',
      sender,
      card: rec.card,
      plaintext: result.plaintext,
      newSession,
      resendUnanswered: false,
      length: wrapper + result.length,
    };
  }

  /**
   * Brings the tag index up to date with one session: only the tags that changed move (the
   * ratchet reports them, ratchet.ts `takeTagChanges`), not the whole window of each session.
   */
  #reindex(key: string, entry: SessionEntry): void {
    const { added, removed } = entry.ratchet.takeTagChanges();
    for (const t of removed) if (this.#index.get(t)?.entry === entry) this.#index.delete(t);
    const ref = { peer: key, entry };
    for (const t of added) if (this.#index.get(t)?.entry !== entry) this.#index.set(t, ref);
  }

  #unindex(entry: SessionEntry): void {
    const { removed } = entry.ratchet.takeTagChanges();
    for (const t of [...removed, ...entry.ratchet.expectedTags()])
      if (this.#index.get(t)?.entry === entry) this.#index.delete(t);
    // Indexed again later (a session brought back), it registers every tag anew.
    entry.ratchet.retagAll();
  }

  /** Versioned bytes of our pre-keys, our card, every contact and session (docs/protocol.md). */
  serialize(): Uint8Array {
    const w = new ByteWriter(8192).u8(SESSION_STATE_VERSION);
    this.#ring.write(w);
    w.varBytes(this.#ownCard?.serialize() ?? new Uint8Array(0));
    w.varUint(this.#peers.size);
    const writeEntry = (e: SessionEntry): void => {
      // CT is needed only until the first reply; then it is dropped.
      const ct = e.initiator && !e.ratchet.hasReceived ? e.kemCiphertext : null;
      const otk = ct !== null ? e.oneTimeKeyId : null;
      w.u8((e.initiator ? 1 : 0) | (ct !== null ? 2 : 0) | (otk !== null ? 4 : 0))
        .bytes(e.ephemeralKey)
        .bytes(e.peerPreKey);
      if (ct !== null) w.bytes(ct);
      if (otk !== null) w.u32(otk);
      w.varBytes(e.ratchet.serialize());
    };
    for (const rec of this.#peers.values()) {
      rec.card.writeTo(w);
      w.varUint(rec.announced);
      w.u8(rec.oneTimeKeys.length);
      for (const k of rec.oneTimeKeys) w.u32(k.id).bytes(k.publicKey);
      w.u8(rec.given.length);
      for (const k of rec.given) w.u32(k.id).u64(k.createdAt).bytes(k.dh.secretKey);
      w.u8(rec.givenLost ? 1 : 0);
      w.varBytes(rec.batch?.bytes ?? new Uint8Array(0));
      if (rec.batch !== null) {
        w.u8(rec.batch.unused.length);
        for (const k of rec.batch.unused) w.u32(k.id);
      }
      w.u8(rec.active === null ? 0 : 1);
      if (rec.active !== null) writeEntry(rec.active);
      w.u8(rec.retired.length);
      for (const e of rec.retired) writeEntry(e);
    }
    return w.finish();
  }

  /**
   * Restores `serialize()` output for `identity`, also of version 2 (which held no one-time
   * pre-keys). DecodeError or ContactCardError on bad bytes, DecodeError UNKNOWN_VERSION for
   * other versions.
   */
  static deserialize(
    identity: Identity,
    bytes: Uint8Array,
    options: SessionManagerOptions = {},
  ): SessionManager {
    assertBytes('bytes', bytes);
    const r = new ByteReader(bytes);
    const version = r.u8('session state version');
    if (version < 2 || version > SESSION_STATE_VERSION) {
      throw new DecodeError(
        'UNKNOWN_VERSION',
        `session state version ${version} is not read by this client (versions 2 to ${SESSION_STATE_VERSION})`,
      );
    }
    const v3 = version >= 3;
    const m = new SessionManager(
      identity,
      options,
      PreKeyRing.read(r, options.preKeys ?? DEFAULT_PREKEY_POLICY, v3),
    );
    const ownBytes = r.varBytes(MAX_CARD_BYTES, 'own card');
    if (ownBytes.length > 0) m.setOwnCard(ContactCard.deserialize(ownBytes));
    const count = r.varUint('peer count');
    if (count > bytes.length) throw new DecodeError('MALFORMED', 'peer count exceeds input');
    const readEntry = (): SessionEntry => {
      const flag = r.u8('session flags');
      // Bit 1 (CT) only for an initiator, bit 2 (one-time key id) only with CT, and only in v3.
      if (flag > (v3 ? 7 : 3) || ((flag & 2) !== 0 && (flag & 1) === 0) || flag === 4 || flag === 5)
        throw new DecodeError('MALFORMED', 'session flags');
      return {
        initiator: (flag & 1) === 1,
        ephemeralKey: asX25519PublicKey(r.bytes(32, 'ephemeral key')),
        peerPreKey: asX25519PublicKey(r.bytes(32, 'peer pre-key')),
        kemCiphertext: flag & 2 ? asMlKemCiphertext(r.bytes(ML_KEM.ciphertext, 'CT')) : null,
        oneTimeKeyId: flag & 4 ? r.u32('one-time pre-key id') : null,
        ratchet: Ratchet.deserialize(r.varBytes(MAX_STATE_BYTES_PER_SESSION, 'ratchet'), m.#limits),
      };
    };
    for (let i = 0; i < count; i++) {
      const card = ContactCard.deserialize(r.varBytes(MAX_CARD_BYTES, 'card'));
      const announced = r.varUint('announced card');
      const oneTime = readPeerOneTime(r, version);
      const hasActive = r.u8('active flag');
      if (hasActive > 1) throw new DecodeError('MALFORMED', 'active flag');
      const active = hasActive === 1 ? readEntry() : null;
      const nRetired = r.u8('retired count');
      if (nRetired > MAX_RETIRED) throw new DecodeError('MALFORMED', 'too many retired sessions');
      const retired: SessionEntry[] = [];
      for (let j = 0; j < nRetired; j++) retired.push(readEntry());
      const key = bytesToHex(card.peerId);
      if (m.#peers.has(key)) throw new DecodeError('MALFORMED', 'duplicate peer in session state');
      m.#peers.set(key, { card, active, retired, announced, ...oneTime });
      for (const e of [active, ...retired]) if (e !== null) m.#reindex(key, e);
    }
    r.end('session state');
    return m;
  }
}

/**
 * A peer record's one-time fields of session state `version` (docs/protocol.md "Session state
 * (stored)"): the peer's invite keys (v3), our keys given to it and `givenLost` (v4, v5), its
 * latest batch with the ids still unused (v4); absent fields of older versions read as empty.
 */
function readPeerOneTime(
  r: ByteReader,
  version: number,
): Pick<PeerRecord, 'oneTimeKeys' | 'given' | 'givenLost' | 'batch'> {
  const out: Pick<PeerRecord, 'oneTimeKeys' | 'given' | 'givenLost' | 'batch'> = {
    oneTimeKeys: [],
    given: [],
    givenLost: false,
    batch: null,
  };
  if (version < 3) return out;
  const nOneTime = r.u8('peer one-time count');
  if (nOneTime > MAX_PEER_ONE_TIME) throw new DecodeError('MALFORMED', 'too many peer one-time keys');
  for (let j = 0; j < nOneTime; j++) {
    const id = r.u32('peer one-time id');
    out.oneTimeKeys.push({ id, publicKey: asX25519PublicKey(r.bytes(32, 'peer one-time key')) });
  }
  if (version < 4) return out;
  const g = r.u8('given one-time count');
  if (g > MAX_GIVEN) throw new DecodeError('MALFORMED', 'too many given one-time keys');
  for (let j = 0; j < g; j++) {
    const id = r.u32('given one-time id');
    const createdAt = r.safeU64('given one-time time');
    out.given.push({ id, createdAt, dh: x25519KeyPair(r.bytes(32, 'given one-time secret')) });
  }
  const lost = version >= 5 ? r.u8('given keys lost') : 0;
  if (lost > 1) throw new DecodeError('MALFORMED', 'given keys lost flag');
  out.givenLost = lost === 1;
  const batchBytes = r.varBytes(MAX_ONE_TIME_BATCH_BYTES, 'peer one-time batch');
  if (batchBytes.length === 0) return out;
  // Our own sealed state: the signature was checked when the batch arrived.
  const parsed = parseOneTimeBatch(batchBytes);
  const u = r.u8('unused batch count');
  const unused: PublicOneTimeKey[] = [];
  for (let j = 0; j < u; j++) {
    const id = r.u32('unused batch id');
    const k = parsed.keys.find((x) => x.id === id);
    if (k === undefined || unused.some((x) => x.id === id))
      throw new DecodeError('MALFORMED', 'unused batch id');
    unused.push(k);
  }
  out.batch = { bytes: parsed.bytes, issuedAt: parsed.issuedAt, unused };
  return out;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
