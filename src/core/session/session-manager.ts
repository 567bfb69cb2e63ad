/**
 * Sessions with every contact, one per pair of devices, shared by every transport: the
 * same frame can travel over WebRTC or inside a Kaspa batch, and whichever copy arrives
 * second is reported as a duplicate.
 *
 * Simultaneous initiation. When both sides start a session before either has heard from
 * the other, each receives a first-contact frame while holding its own unconfirmed
 * initiator session. Rule: the session started by the peer with the lower peer ID (bytewise)
 * wins. Each side decides alone from the two peer IDs, so both converge on the same
 * session; the losing session is kept receive-only, so nothing already sent on it is lost.
 * A first-contact frame that arrives when our session is already confirmed means the peer
 * lost its state (reinstall, restore): its new session replaces ours, the old one is kept
 * receive-only. A bounded number (MAX_RETIRED) of receive-only sessions is kept per peer.
 *
 * Storage stays outside: `serialize()` gives versioned bytes, `SessionManager.deserialize`
 * takes them back. They contain secrets: store them in encrypted storage only.
 */
import { SessionError, ContactCardError } from '../errors.ts';
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { DecodeError, assertBytes } from '../../util/errors.ts';
import { bytesToHex, equalBytes } from '../../util/bytes.ts';
import { randomX25519KeyPair, asX25519PublicKey, type X25519PublicKey } from '../identity/keys.ts';
import type { Identity, SignedPreKey } from '../identity/identity.ts';
import type { PeerId } from '../identity/peer-id.ts';
import { ContactCard, MAX_CARD_BYTES } from '../contact/card.ts';
import { DEFAULT_RATCHET_LIMITS, Ratchet, type Framing, type RatchetLimits } from './ratchet.ts';
import { x3dhInitiate, x3dhRespond } from './x3dh.ts';
import { openFirstContact, sealFirstContact } from './first-contact.ts';
import { TAG_BYTES } from './kdf.ts';

/** Receive-only sessions kept per peer after a simultaneous start or a peer reset. */
export const MAX_RETIRED = 2;
const STATE_VERSION = 1;
const MAX_STATE_BYTES_PER_SESSION = 1 << 17;

/** Options of a SessionManager. */
export interface SessionManagerOptions {
  /** Signed pre-key ids whose first-contact frames are accepted (default [0]). */
  readonly preKeyIds?: readonly number[];
  /** Clock in Unix milliseconds (default Date.now), injectable for tests. */
  readonly now?: () => number;
  readonly limits?: RatchetLimits;
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
  /** Tags registered in the manager's index for this session. */
  indexed: string[];
}

interface PeerRecord {
  card: ContactCard;
  active: SessionEntry | null;
  retired: SessionEntry[];
}

/** Verified sender cards remembered (see `#verifiedCards`). */
const VERIFIED_CARDS_KEPT = 64;

/** All sessions of one identity. */
export class SessionManager {
  readonly #identity: Identity;
  readonly #preKeys: SignedPreKey[];
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

  private constructor(identity: Identity, options: SessionManagerOptions) {
    this.#identity = identity;
    const ids = options.preKeyIds ?? [0];
    if (ids.length === 0) throw new RangeError('"preKeyIds" expected at least one id');
    this.#preKeys = ids.map((id) => identity.signedPreKey(id));
    this.#now = options.now ?? Date.now;
    this.#limits = options.limits ?? DEFAULT_RATCHET_LIMITS;
  }

  /** An empty manager for `identity`. */
  static create(identity: Identity, options: SessionManagerOptions = {}): SessionManager {
    return new SessionManager(identity, options);
  }

  /** Our own card, sent sealed in first-contact frames so the peer can answer. */
  setOwnCard(card: ContactCard): void {
    if (!equalBytes(card.identityKey, this.#identity.publicKey)) {
      throw new ContactCardError('IDENTITY_MISMATCH', 'own card is for another identity');
    }
    this.#ownCard = card;
  }

  /**
   * Adds a contact or replaces its card with a newer one. A card with a lower or equal
   * version than the known one is refused (STALE_VERSION), so an old card replayed by
   * someone cannot roll back a pre-key or an address.
   */
  addContact(card: ContactCard): void {
    const key = bytesToHex(card.peerId);
    const rec = this.#peers.get(key);
    if (rec === undefined) {
      this.#peers.set(key, { card, active: null, retired: [] });
      return;
    }
    if (card.issuedAt < rec.card.issuedAt)
      throw new ContactCardError('STALE_VERSION', 'a newer card is already known');
    rec.card = card;
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
    if (rec.active === null) {
      const ek = randomX25519KeyPair();
      const s = x3dhInitiate(
        this.#identity,
        ek,
        rec.card.identityKey,
        rec.card.identityDhKey,
        rec.card.preKey,
      );
      const ratchet = Ratchet.initInitiator(s.sk, rec.card.preKey, s.hka, s.nhkb, s.ad, this.#limits);
      rec.active = {
        ratchet,
        initiator: true,
        ephemeralKey: ek.publicKey,
        peerPreKey: rec.card.preKey,
        indexed: [],
      };
    }
    const entry = rec.active;
    const frame = entry.ratchet.encrypt(plaintext);
    this.#reindex(key, entry);
    if (entry.initiator && !entry.ratchet.hasReceived) {
      if (this.#ownCard === null)
        throw new SessionError('BAD_STATE', 'setOwnCard() before the first message');
      return sealFirstContact(entry.peerPreKey, entry.ephemeralKey, this.#ownCard.serialize(), frame);
    }
    return frame;
  }

  /**
   * Decrypts a frame from any transport. SessionError UNKNOWN_SESSION when it belongs to
   * no session of ours, DECRYPT_FAILED when it was altered; state is unchanged on error.
   */
  decrypt(frame: Uint8Array): Received {
    const r = this.tryDecrypt(frame);
    if (r === undefined) throw new SessionError('UNKNOWN_SESSION', 'frame belongs to no session of ours');
    return r;
  }

  /**
   * Like `decrypt`, but undefined for a frame that is not for us (batch scanning).
   * A frame whose tag is ours but which fails authentication still throws. With `prefix`
   * framing the frame starts `frame` and ends where its encrypted header says (ratchet.ts).
   */
  tryDecrypt(frame: Uint8Array, framing: Framing = 'exact'): Received | undefined {
    assertBytes('frame', frame);
    if (frame.length < TAG_BYTES) throw new DecodeError('TRUNCATED', 'frame shorter than its tag');
    const hit = this.#index.get(bytesToHex(frame.subarray(0, TAG_BYTES)));
    if (hit !== undefined) return this.#decryptIn(hit.peer, hit.entry, frame, false, framing, 0);
    const opened = openFirstContact(frame, this.#preKeys);
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

    const s = x3dhRespond(
      this.#identity,
      opened.preKey,
      card.identityKey,
      card.identityDhKey,
      opened.ephemeralKey,
    );
    const ratchet = Ratchet.initResponder(s.sk, opened.preKey, s.hka, s.nhkb, s.ad, this.#limits);
    const entry: SessionEntry = {
      ratchet,
      initiator: false,
      ephemeralKey: opened.ephemeralKey,
      peerPreKey: opened.preKey.publicKey,
      indexed: [],
    };
    const result = entry.ratchet.decrypt(opened.inner, this.#now(), framing);
    // Only an authenticated first message creates or changes anything (X3DH §3.4).
    const target = rec ?? { card, active: null, retired: [] };
    if (rec === undefined) this.#peers.set(key, target);
    else if (card.issuedAt > target.card.issuedAt) target.card = card;
    this.#install(key, target, entry);
    if (result.kind === 'duplicate') return { kind: 'duplicate', sender: card.peerId };
    return {
      kind: 'message',
      sender: card.peerId,
      card: target.card,
      plaintext: result.plaintext,
      newSession: true,
      length: wrapper + result.length,
    };
  }

  #verifiedCard(bytes: Uint8Array): ContactCard {
    const key = bytesToHex(bytes);
    const known = this.#verifiedCards.get(key);
    if (known) return known;
    const card = ContactCard.deserialize(bytes);
    if (this.#verifiedCards.size >= VERIFIED_CARDS_KEPT) {
      this.#verifiedCards.delete(this.#verifiedCards.keys().next().value!);
    }
    this.#verifiedCards.set(key, card);
    return card;
  }

  /** Places a new responder session per the simultaneous-initiation rule (module doc). */
  #install(key: string, rec: PeerRecord, entry: SessionEntry): void {
    const current = rec.active;
    const weWin =
      current !== null &&
      current.initiator &&
      !current.ratchet.hasReceived &&
      compareBytes(this.#identity.peerId, rec.card.peerId) < 0;
    if (current === null) {
      rec.active = entry;
    } else if (weWin) {
      rec.retired.unshift(entry);
    } else {
      rec.retired.unshift(current);
      rec.active = entry;
    }
    for (const old of rec.retired.splice(MAX_RETIRED)) this.#unindex(old);
    this.#reindex(key, entry);
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
    let result;
    try {
      result = entry.ratchet.decrypt(frame, this.#now(), framing);
    } finally {
      // Expired skipped keys may have been pruned even when decryption failed.
      this.#reindex(key, entry);
    }
    const sender = rec.card.peerId;
    if (result.kind === 'duplicate') return { kind: 'duplicate', sender };
    return {
      kind: 'message',
      sender,
      card: rec.card,
      plaintext: result.plaintext,
      newSession,
      length: wrapper + result.length,
    };
  }

  /** Brings the tag index up to date with one session: only the tags that changed move. */
  #reindex(key: string, entry: SessionEntry): void {
    const next = new Set(entry.ratchet.expectedTags());
    for (const t of entry.indexed)
      if (!next.has(t) && this.#index.get(t)?.entry === entry) this.#index.delete(t);
    const ref = { peer: key, entry };
    for (const t of next) if (this.#index.get(t)?.entry !== entry) this.#index.set(t, ref);
    entry.indexed = [...next];
  }

  #unindex(entry: SessionEntry): void {
    for (const t of entry.indexed) if (this.#index.get(t)?.entry === entry) this.#index.delete(t);
    entry.indexed = [];
  }

  /** Versioned bytes of every contact and session. */
  serialize(): Uint8Array {
    const w = new ByteWriter(4096).u8(STATE_VERSION).varUint(this.#peers.size);
    const writeEntry = (e: SessionEntry): void => {
      w.u8(e.initiator ? 1 : 0)
        .bytes(e.ephemeralKey)
        .bytes(e.peerPreKey)
        .varBytes(e.ratchet.serialize());
    };
    for (const rec of this.#peers.values()) {
      w.varBytes(rec.card.serialize());
      w.u8(rec.active === null ? 0 : 1);
      if (rec.active !== null) writeEntry(rec.active);
      w.u8(rec.retired.length);
      for (const e of rec.retired) writeEntry(e);
    }
    return w.finish();
  }

  /** Restores `serialize()` output for `identity`. DecodeError or ContactCardError on bad bytes. */
  static deserialize(
    identity: Identity,
    bytes: Uint8Array,
    options: SessionManagerOptions = {},
  ): SessionManager {
    assertBytes('bytes', bytes);
    const m = new SessionManager(identity, options);
    const r = new ByteReader(bytes);
    const version = r.u8('session state version');
    if (version !== STATE_VERSION)
      throw new DecodeError('UNKNOWN_VERSION', `session state version ${version}`);
    const count = r.varUint('peer count');
    if (count > bytes.length) throw new DecodeError('MALFORMED', 'peer count exceeds input');
    const readEntry = (): SessionEntry => {
      const flag = r.u8('initiator');
      if (flag > 1) throw new DecodeError('MALFORMED', 'initiator flag');
      return {
        initiator: flag === 1,
        ephemeralKey: asX25519PublicKey(r.bytes(32, 'ephemeral key')),
        peerPreKey: asX25519PublicKey(r.bytes(32, 'peer pre-key')),
        ratchet: Ratchet.deserialize(r.varBytes(MAX_STATE_BYTES_PER_SESSION, 'ratchet'), m.#limits),
        indexed: [],
      };
    };
    for (let i = 0; i < count; i++) {
      const card = ContactCard.deserialize(r.varBytes(MAX_CARD_BYTES, 'card'));
      const hasActive = r.u8('active flag');
      if (hasActive > 1) throw new DecodeError('MALFORMED', 'active flag');
      const active = hasActive === 1 ? readEntry() : null;
      const nRetired = r.u8('retired count');
      if (nRetired > MAX_RETIRED) throw new DecodeError('MALFORMED', 'too many retired sessions');
      const retired: SessionEntry[] = [];
      for (let j = 0; j < nRetired; j++) retired.push(readEntry());
      const key = bytesToHex(card.peerId);
      if (m.#peers.has(key)) throw new DecodeError('MALFORMED', 'duplicate peer in session state');
      m.#peers.set(key, { card, active, retired });
      for (const e of [active, ...retired]) if (e !== null) m.#reindex(key, e);
    }
    r.end('session state');
    return m;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
