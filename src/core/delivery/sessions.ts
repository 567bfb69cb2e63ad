/**
 * The production `SessionPort` and `ContactDirectory`: delivery frames become envelopes
 * (`core/envelope/envelope.ts`), sealed by the Double Ratchet sessions of `SessionManager`
 * and packed into the padded batch container for the chain. Session state is persisted
 * after every change through `save` (secrets: give it encrypted storage only).
 *
 * Replays: the envelope replay guard refuses a second envelope with a known id, but the
 * engine must see a republished chat message again to receipt it again (its sender
 * evidently missed the first receipt), and it deduplicates by id durably itself. So a chat
 * refused as REPLAY is still handed over; every other refusal drops the frame.
 *
 * A frame that would start a new session is checked before the session exists: its envelope
 * must lie inside the replay guard's clock window, else nothing is installed (an archived
 * first-contact frame replayed months later cannot bring back a used session).
 *
 * Cards. When our pre-key has rotated (or the peer knows only our compact card), the next
 * traffic to a contact with a confirmed session carries our card as a `card` envelope; a
 * `card` envelope from a contact replaces its card when it is newer (`onContactCard`).
 * The same traffic carries a batch of our one-time pre-keys (session/one-time-batch.ts) when
 * the contact is believed to hold fewer than half a batch: over the direct link when that is
 * what carries the traffic, else inside the next chain batch, never in a transaction of its own.
 *
 * Strangers: holding this client's card is enough to write to it, never to become a contact.
 * Frames from someone not in the directory are handed over with the card they introduced
 * themselves with (`OpenedEntry.stranger`), and the engine keeps them as a message request
 * (src/core/requests) until the user accepts; only `add` puts a card in the directory.
 *
 * Several devices (docs/devices.md §3-§4, Sesame). With a `DeviceRoster`, sessions are per
 * device pair: the session manager runs on this device's own identity and keys its sessions by
 * the other device's key, while contact ids stay the person's. A chain batch carries one frame
 * per target of `fanOut`: every listed device of the recipient, and our own other devices,
 * which get the chats alone, opened by a `sent-to` envelope naming the recipient, and are
 * handed to the engine as sent by us (`OpenedEntry.sent`). Direct-link signals stay with the
 * device whose card is the contact card. Our newest list and device cards ride once to each
 * device as a `devices` envelope; a contact's is accepted by the list rules (a stranger's, a
 * forged or an older one is refused, `onDevicesRefused`), and a device it no longer lists is
 * forgotten with its sessions. Without a roster nothing here changes.
 */
import { ContactCard } from '../contact/card.ts';
import { ContactCardError, EnvelopeError } from '../errors.ts';
import { formatPeerId, parsePeerId, type PeerId } from '../identity/peer-id.ts';
import type { Received, SessionManager } from '../session/session-manager.ts';
import { findFrames, isBatch, packBatch, type BatchOptions } from '../envelope/batch.ts';
import {
  createEnvelope,
  decodeEnvelope,
  newMessageId,
  type Envelope,
  type EnvelopeBody,
  type MessageId,
} from '../envelope/envelope.ts';
import { sealEnvelope } from '../envelope/sealed.ts';
import { unpad } from '../envelope/padding.ts';
import { ReplayGuard } from '../envelope/replay-guard.ts';
import { P2pCommError } from '../../util/errors.ts';
import type { ChatFrame, DeliveryFrame } from './frames.ts';
import { peerIdFromPublicKey } from '../identity/peer-id.ts';
import type { Ed25519PublicKey } from '../identity/keys.ts';
import { bytesToHex, equalBytes } from '../../util/bytes.ts';
import type { DeviceRoster, DeviceUpdate } from '../devices/roster.ts';
import type { FanOutTarget } from '../devices/fan-out.ts';
import type { ContactDirectory, ContactId, OpenedEntry, SessionPort } from './ports.ts';

/** Everything the session adapter is built from. */
export interface EnvelopeSessionsOptions {
  /** This client's peer id (the contact id others know it by). */
  readonly self: PeerId;
  readonly sessions: SessionManager;
  /**
   * Persists `sessions.serialize()` output; called after every change, in order, and awaited
   * before any sealed frame is returned, so a frame never leaves unless its state is stored.
   * Give it `SessionStateStore.save` so that a second instance of the profile over the same
   * store is refused (DeliveryError SUPERSEDED) instead of reusing a message key.
   */
  readonly save: (state: Uint8Array) => Promise<void>;
  /** Refuses replays and out-of-window envelopes. @default new ReplayGuard() */
  readonly guard?: ReplayGuard;
  /** Clock for envelope timestamps and the replay window. @default Date.now */
  readonly now?: () => number;
  /** Batch size policy (NOTES §2). @default the container's defaults */
  readonly batch?: BatchOptions;
  /** Told when a known contact sent a newer card of its own (keep it with the contacts). */
  readonly onContactCard?: (card: ContactCard) => void;
  /**
   * Several devices per person: the kept device lists and device cards, and where their record
   * is saved (after every change, before sealed frames are returned). @default one device
   */
  readonly devices?: {
    readonly roster: DeviceRoster;
    readonly save: (record: Uint8Array) => Promise<void>;
  };
  /** Told when a device list or device card was refused (its typed error), nothing kept. */
  readonly onDevicesRefused?: (person: Ed25519PublicKey, error: P2pCommError<string>) => void;
}

/** What one opened session frame gave. */
interface Accepted {
  contact?: ContactId;
  frames: DeliveryFrame[];
  changed: boolean;
  stranger?: ContactCard;
  /** The frames are chats one of our own devices sent to `contact`. */
  sent?: true;
}

/** Whether a frame to a contact goes to our own other devices too: chats and delivered receipts. */
function siblingCopy(f: DeliveryFrame): boolean {
  return f.type === 'chat' || (f.type === 'receipt' && f.kind === 'delivered');
}

/** The contact id of a peer: its printable peer id. */
export function contactIdOf(peer: PeerId): ContactId {
  return formatPeerId(peer);
}

/** Bodies the engine takes as chat messages: republished until receipted, so replays pass. */
const CHAT_BODIES: ReadonlySet<EnvelopeBody['type']> = new Set([
  'chat',
  'reaction',
  'edit',
  'delete',
  'forwarded',
  'disappearing-timer',
]);

function toEnvelope(f: DeliveryFrame, now: number): Envelope {
  switch (f.type) {
    case 'chat':
      return { id: f.id as MessageId, timestamp: f.sentAt, body: chatBody(f) };
    case 'receipt':
      return {
        id: newMessageId(),
        timestamp: now,
        body: {
          type: f.kind === 'delivered' ? 'delivery-receipt' : 'read-receipt',
          ids: f.ids as MessageId[],
        },
      };
    case 'typing':
      return { id: newMessageId(), timestamp: now, body: { type: 'typing', active: f.active } };
    case 'attachment':
      return { id: newMessageId(), timestamp: now, body: f.body };
    case 'signal':
      return {
        id: newMessageId(),
        timestamp: f.sentAt,
        body: {
          type: f.kind === 'offer' ? 'webrtc-offer' : 'webrtc-answer',
          connectionId: f.linkId,
          sdp: f.description,
        },
      };
  }
}

/** A chat frame's envelope body: type 1, a message action's (types 10, 11, 12, 14), or a timer's (15). */
function chatBody(f: ChatFrame): EnvelopeBody {
  if (f.timer !== undefined) return { type: 'disappearing-timer', seconds: f.timer };
  const a = f.action;
  if (a === undefined) return { type: 'chat', text: f.text };
  switch (a.kind) {
    case 'reply':
      return { type: 'chat', text: f.text, replyTo: a.target as MessageId };
    case 'forwarded':
      return { type: 'forwarded', text: f.text };
    case 'reaction':
      return { type: 'reaction', target: a.target as MessageId, reaction: a.reaction };
    case 'edit':
      return { type: 'edit', target: a.target as MessageId, text: f.text };
    case 'delete':
      return { type: 'delete', target: a.target as MessageId };
  }
}

function toFrame(e: Envelope): DeliveryFrame | undefined {
  const b: EnvelopeBody = e.body;
  switch (b.type) {
    case 'chat':
      return {
        type: 'chat',
        id: e.id,
        sentAt: e.timestamp,
        text: b.text,
        ...(b.replyTo === undefined ? {} : { action: { kind: 'reply', target: b.replyTo } }),
      };
    case 'forwarded':
      return { type: 'chat', id: e.id, sentAt: e.timestamp, text: b.text, action: { kind: 'forwarded' } };
    case 'reaction':
      return {
        type: 'chat',
        id: e.id,
        sentAt: e.timestamp,
        text: '',
        action: { kind: 'reaction', target: b.target, reaction: b.reaction },
      };
    case 'edit':
      return {
        type: 'chat',
        id: e.id,
        sentAt: e.timestamp,
        text: b.text,
        action: { kind: 'edit', target: b.target },
      };
    case 'delete':
      return {
        type: 'chat',
        id: e.id,
        sentAt: e.timestamp,
        text: '',
        action: { kind: 'delete', target: b.target },
      };
    case 'disappearing-timer':
      return { type: 'chat', id: e.id, sentAt: e.timestamp, text: '', timer: b.seconds };
    case 'delivery-receipt':
    case 'read-receipt':
      return { type: 'receipt', kind: b.type === 'delivery-receipt' ? 'delivered' : 'read', ids: b.ids };
    case 'webrtc-offer':
    case 'webrtc-answer':
      return {
        type: 'signal',
        kind: b.type === 'webrtc-offer' ? 'offer' : 'answer',
        linkId: b.connectionId,
        sentAt: e.timestamp,
        description: b.sdp,
      };
    case 'typing':
      return { type: 'typing', active: b.active };
    case 'attachment-manifest':
    case 'attachment-chunk':
    case 'attachment-status':
      return { type: 'attachment', body: b, sentAt: e.timestamp };
    default:
      // Trickled candidates are not used: offers and answers carry them (NOTES §4).
      return undefined;
  }
}

/** Sessions, envelopes and the contact list of one client. */
export class EnvelopeSessions implements SessionPort, ContactDirectory {
  readonly self: string;
  private readonly cards = new Map<ContactId, ContactCard>();
  private readonly guard: ReplayGuard;
  private readonly now: () => number;
  private saving: Promise<void> = Promise.resolve();
  /** A received step not saved yet: `open`/`openBatch` leave saving to `commit`. */
  private uncommitted = false;
  private readonly setAside = new Set<ContactId>();
  /** The counter of our own list each device was last handed (devices envelope), by device key. */
  private readonly announced = new Map<string, number>();
  private devicesChanged = false;

  constructor(private readonly opts: EnvelopeSessionsOptions) {
    this.self = contactIdOf(opts.self);
    this.guard = opts.guard ?? new ReplayGuard();
    this.now = opts.now ?? Date.now;
  }

  /** Adds or updates a contact from its card (e.g. an invite the user accepted). */
  add(card: ContactCard): ContactId {
    if (!(card instanceof ContactCard)) throw new TypeError('"card" expected a ContactCard');
    this.opts.sessions.addContact(card);
    const id = contactIdOf(card.peerId);
    this.cards.set(id, this.opts.sessions.contact(card.peerId) ?? card);
    if (card.deviceList !== undefined && equalBytes(card.personKey, card.identityKey))
      this.takeDevices(card.identityKey, card.deviceList.serialize(), []);
    return id;
  }

  /**
   * Drops what the sessions keep of someone who is not a contact (a message request deleted
   * or blocked, src/core/requests) and saves the state; a contact is left alone.
   */
  async forget(contact: ContactId): Promise<void> {
    if (this.cards.has(contact)) return;
    if (this.opts.sessions.forget(parsePeerId(contact))) await this.persist();
  }

  /**
   * Takes a device list of `person` (a contact, or ourselves after a device was linked or
   * removed) with device cards, by the list rules, and saves it; from the next traffic on,
   * messages fan out to the listed devices and our own list is announced. Throws the typed
   * refusal (DeviceError, ContactCardError, DecodeError), nothing kept. RangeError without a roster.
   */
  async acceptDevices(
    person: Ed25519PublicKey,
    list: Uint8Array,
    cards: readonly Uint8Array[] = [],
  ): Promise<void> {
    const roster = this.opts.devices?.roster;
    if (roster === undefined) throw new RangeError('these sessions keep no device lists');
    this.applyDevices(person, roster.accept(person, list, cards));
    await this.persist();
  }

  /** The current card of a contact. */
  card(contact: ContactId): ContactCard | undefined {
    return this.cards.get(contact);
  }

  has(contact: ContactId): boolean {
    return this.cards.has(contact);
  }

  list(): readonly ContactId[] {
    return [...this.cards.keys()];
  }

  async seal(contact: ContactId, frames: readonly DeliveryFrame[]): Promise<Uint8Array[]> {
    const peer = parsePeerId(contact);
    const now = this.now();
    const out = frames.map((f) => sealEnvelope(this.opts.sessions, peer, toEnvelope(f, now)));
    for (const extra of this.extraEnvelopes(peer, now))
      out.push(sealEnvelope(this.opts.sessions, peer, extra));
    await this.persist();
    return out;
  }

  /**
   * What rides along with traffic to `peer` (module doc): our card when it has yet to be
   * handed it, and a batch of one-time pre-keys when it holds fewer than half a batch of ours.
   */
  private extraEnvelopes(peer: PeerId, now: number): Envelope[] {
    const out: Envelope[] = [];
    const card = this.opts.sessions.pendingCard(peer);
    if (card !== undefined) {
      this.opts.sessions.cardAnnounced(peer);
      out.push(createEnvelope({ type: 'card', card: card.serialize() }, now));
    }
    const batch = this.opts.sessions.oneTimeBatchFor(peer);
    if (batch !== undefined) out.push(createEnvelope({ type: 'one-time-keys', batch }, now));
    return out;
  }

  /**
   * The devices a chain batch to `contact` goes to (Sesame fan-out), or undefined when that is
   * the contact card's device alone with nothing to announce: the single-device path, unchanged.
   * DeviceError NOT_LISTED when this device was removed from our own list.
   */
  private fanOut(contact: ContactId): FanOutTarget[] | undefined {
    const roster = this.opts.devices?.roster;
    const card = this.cards.get(contact);
    if (roster === undefined || card === undefined) return undefined;
    const targets = roster.targets(card.identityKey);
    const only = targets[0];
    if (targets.length === 1 && only !== undefined && equalBytes(only.device, card.identityKey))
      if (this.announcement(only.device) === undefined) return undefined;
    return targets;
  }

  /** Our newest list and device cards, when `device` has not been handed this list yet. */
  private announcement(device: Ed25519PublicKey): { list: Uint8Array; cards: Uint8Array[] } | undefined {
    const roster = this.opts.devices?.roster;
    const list = roster?.listOf(roster.person);
    if (roster === undefined || list === undefined) return undefined;
    if (this.announced.get(bytesToHex(device)) === list.counter) return undefined;
    const own = this.opts.sessions.ownCard;
    const cards = roster.cardsOf(roster.person).filter((c) => !equalBytes(c.identityKey, device));
    if (own !== null && !equalBytes(own.identityKey, roster.person) && !equalBytes(own.identityKey, device))
      cards.push(own);
    return { list: list.serialize(), cards: cards.slice(0, 8).map((c) => c.serialize()) };
  }

  /**
   * The frame for one fan-out target: all frames to the contact card's device; chats, receipts
   * and attachments to its other devices; to our own devices the chats and delivered receipts
   * behind a `sent-to`.
   * Nothing for a device whose card has not arrived yet (it is reached once it has).
   */
  private sealForDevice(
    contact: ContactId,
    target: FanOutTarget,
    frames: readonly DeliveryFrame[],
    now: number,
  ): { bytes: Uint8Array; firstContact: boolean }[] {
    const card = this.cards.get(contact)!;
    const peer = peerIdFromPublicKey(target.device);
    const main = equalBytes(target.device, card.identityKey);
    if (!main && this.opts.sessions.contact(peer) === undefined) return [];
    const envelopes: Envelope[] = [];
    if (target.owner === 'recipient') {
      for (const f of frames)
        if (main || (f.type !== 'signal' && f.type !== 'typing')) envelopes.push(toEnvelope(f, now));
    } else {
      // Chats, shown as sent on the sibling, and delivered receipts, which tell it that this
      // publication returns the contact's coins so it does not return them too (docs/devices.md §8).
      const copies = frames.filter(siblingCopy);
      if (copies.length > 0)
        envelopes.push(
          createEnvelope({ type: 'sent-to', person: card.identityKey }, now),
          ...copies.map((f) => toEnvelope(f, now)),
        );
    }
    const news = this.announcement(target.device);
    if (envelopes.length === 0 && news === undefined) return [];
    envelopes.push(...this.extraEnvelopes(peer, now));
    if (news !== undefined) {
      envelopes.push(createEnvelope({ type: 'devices', ...news }, now));
      const list = this.opts.devices!.roster.listOf(this.opts.devices!.roster.person)!;
      this.announced.set(bytesToHex(target.device), list.counter);
    }
    const one =
      envelopes.length === 1 && target.owner === 'recipient'
        ? envelopes[0]!
        : createEnvelope({ type: 'bundle', envelopes }, now);
    const bytes = sealEnvelope(this.opts.sessions, peer, one);
    return [{ bytes, firstContact: this.opts.sessions.awaitsReply(peer) }];
  }

  /**
   * Takes a person's device list (and device cards) by the list rules, adds the new device
   * cards to the sessions and forgets the devices it no longer names; a refusal keeps nothing
   * and is told to `onDevicesRefused`. False when refused.
   */
  private takeDevices(person: Ed25519PublicKey, list: Uint8Array, cards: readonly Uint8Array[]): boolean {
    const roster = this.opts.devices?.roster;
    if (roster === undefined) return false;
    let update;
    try {
      update = roster.accept(person, list, cards);
    } catch (error) {
      if (!(error instanceof P2pCommError)) throw error;
      this.opts.onDevicesRefused?.(person, error);
      return false;
    }
    this.applyDevices(person, update);
    return true;
  }

  /** Adds the device cards an accepted list brought and forgets the devices it dropped. */
  private applyDevices(person: Ed25519PublicKey, update: DeviceUpdate): void {
    for (const c of update.added) {
      try {
        this.opts.sessions.addContact(c);
      } catch (error) {
        if (!(error instanceof ContactCardError)) throw error;
      }
    }
    // The device whose card is the contact card stays: the contact record is that card.
    for (const k of update.removed)
      if (!equalBytes(k, person) && !equalBytes(k, this.opts.devices!.roster.self))
        this.opts.sessions.forget(peerIdFromPublicKey(k));
    this.devicesChanged = true;
  }

  /**
   * The person whose listed device sent `r`, when it is ours or a contact's: known from the
   * kept lists, or from the list in the card of a first contact (docs/devices.md §3).
   */
  private ownerOf(r: Extract<Received, { kind: 'message' }>): Ed25519PublicKey | undefined {
    const roster = this.opts.devices?.roster;
    if (roster === undefined) return undefined;
    const known = roster.ownerOf(formatPeerId(r.sender));
    if (known !== undefined) return known;
    const list = r.card.deviceList;
    if (list === undefined || !equalBytes(r.card.peerId, r.sender)) return undefined;
    const person = list.identityKey;
    const ours = equalBytes(person, roster.person);
    if (!ours && !this.cards.has(contactIdOf(peerIdFromPublicKey(person)))) return undefined;
    if (!this.takeDevices(person, list.serialize(), [r.card.serialize()])) return undefined;
    return roster.ownerOf(formatPeerId(r.sender));
  }

  takeSetAside(): readonly ContactId[] {
    const out = [...this.setAside];
    this.setAside.clear();
    return out;
  }

  async open(contact: ContactId, message: Uint8Array): Promise<DeliveryFrame[]> {
    const got = this.openFrame(message);
    // Saved by `commit`, after the engine stored what the step carried (SessionPort.commit).
    this.uncommitted ||= got.changed;
    // A direct link exists only with a contact; a stranger's frame on one is not theirs to send.
    return got.contact === contact && got.stranger === undefined && got.sent === undefined ? got.frames : [];
  }

  async sealBatch(
    entries: readonly { contact: ContactId; frames: readonly DeliveryFrame[] }[],
  ): Promise<Uint8Array> {
    const now = this.now();
    // One session frame per contact: several frames ride in one bundle envelope, so the
    // ratchet step, its header and any first-contact seal are paid once per contact.
    const sealed = entries.flatMap((e) => {
      const targets = this.fanOut(e.contact);
      if (targets !== undefined)
        return targets.flatMap((t) => this.sealForDevice(e.contact, t, e.frames, now));
      const envelopes = e.frames.map((f) => toEnvelope(f, now));
      envelopes.push(...this.extraEnvelopes(parsePeerId(e.contact), now));
      const one = envelopes.length === 1 ? envelopes[0]! : createEnvelope({ type: 'bundle', envelopes }, now);
      const peer = parsePeerId(e.contact);
      const bytes = sealEnvelope(this.opts.sessions, peer, one);
      return [{ bytes, firstContact: this.opts.sessions.awaitsReply(peer) }];
    });
    await this.persist();
    return packBatch(sealed, this.opts.batch);
  }

  async openBatch(payload: Uint8Array): Promise<OpenedEntry[]> {
    // Anything that is not a batch costs one prefix check; a batch costs bounded work
    // whatever its bytes (envelope/batch.ts), frames for others no cryptography.
    if (!isBatch(payload)) return [];
    let found: Received[];
    try {
      found = findFrames(payload, this.opts.sessions, this.opts.batch, (plaintext) =>
        this.admitFirstContact(plaintext),
      ).found;
    } catch {
      return [];
    }
    const byContact = new Map<
      string,
      { contact: ContactId; frames: DeliveryFrame[]; stranger?: ContactCard; sent?: true }
    >();
    let changed = false;
    for (const r of found) {
      const got = this.accept(r);
      changed ||= got.changed;
      if (got.contact === undefined || got.frames.length === 0) continue;
      // A contact's frames and our own devices' copies of what we sent them stay apart.
      const key = (got.sent ? 'sent:' : '') + got.contact;
      const entry = byContact.get(key) ?? {
        contact: got.contact,
        frames: [],
        ...(got.stranger ? { stranger: got.stranger } : {}),
        ...(got.sent ? { sent: got.sent } : {}),
      };
      entry.frames.push(...got.frames);
      byContact.set(key, entry);
    }
    this.uncommitted ||= changed;
    return [...byContact.values()];
  }

  async commit(): Promise<void> {
    if (this.uncommitted) await this.persist();
  }

  /** Decrypts one session frame; no frames when it is not for us or is refused. */
  private openFrame(bytes: Uint8Array): Accepted {
    let r;
    try {
      r = this.opts.sessions.tryDecrypt(bytes, { admit: (plaintext) => this.admitFirstContact(plaintext) });
    } catch (error) {
      if (error instanceof P2pCommError) return { frames: [], changed: false };
      throw error;
    }
    if (r === undefined) return { frames: [], changed: false };
    return this.accept(r);
  }

  /** The delivery frames of one decrypted session frame. */
  private accept(r: Received): Accepted {
    let contact = contactIdOf(r.sender);
    if (r.kind === 'duplicate') return { frames: [], changed: false };
    // A listed device of a contact speaks for that contact; one of ours, for us (Sesame).
    let owner: Ed25519PublicKey | undefined;
    let sibling = false;
    if (this.cards.has(contact)) owner = this.cards.get(contact)!.identityKey;
    else {
      owner = this.ownerOf(r);
      const roster = this.opts.devices?.roster;
      if (owner !== undefined && roster !== undefined && equalBytes(owner, roster.person)) sibling = true;
      else if (owner !== undefined) contact = contactIdOf(peerIdFromPublicKey(owner));
    }
    if (r.resendUnanswered && !sibling) this.setAside.add(contact);
    // Not a contact: the frames go out tagged with the sender's card (a message request).
    const stranger = this.cards.has(contact) || sibling ? {} : { stranger: r.card };
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(unpad(r.plaintext));
    } catch {
      return { contact, frames: [], changed: true };
    }
    const now = this.now();
    const inner = envelope.body.type === 'bundle' ? envelope.body.envelopes : [envelope];
    if (envelope.body.type === 'bundle' && !this.admit(envelope, now))
      return { contact, frames: [], changed: true };
    let sentTo: Uint8Array | undefined;
    const frames = inner.flatMap((e) => {
      if (e.body.type === 'card') {
        if (this.admit(e, now) && !sibling) this.takeCard(contact, e.body.card);
        return [];
      }
      if (e.body.type === 'one-time-keys') {
        if (this.admit(e, now)) this.takeOneTimeKeys(r.sender, sibling ? undefined : contact, e.body.batch);
        return [];
      }
      if (e.body.type === 'devices') {
        if (this.admit(e, now) && owner !== undefined && stranger.stranger === undefined)
          this.takeDevices(owner, e.body.list, e.body.cards);
        return [];
      }
      if (e.body.type === 'sent-to') {
        if (sibling && this.admit(e, now)) sentTo = e.body.person;
        return [];
      }
      const frame = this.admit(e, now) ? toFrame(e) : undefined;
      return frame ? [frame] : [];
    });
    if (!sibling) return { contact, frames, changed: true, ...stranger };
    // What one of our own devices sent: its chats to the person the bundle names, if a contact.
    const to =
      sentTo === undefined ? undefined : contactIdOf(peerIdFromPublicKey(sentTo as Ed25519PublicKey));
    if (to === undefined || !this.cards.has(to)) return { frames: [], changed: true };
    return { contact: to, frames: frames.filter(siblingCopy), changed: true, sent: true };
  }

  /**
   * Refuses (throws) a frame that would start a session when its envelope is malformed or
   * outside the replay guard's clock window; runs before the session manager installs it.
   */
  private admitFirstContact(plaintext: Uint8Array): void {
    const envelope = decodeEnvelope(unpad(plaintext));
    const now = this.now();
    if (envelope.timestamp <= now - this.guard.maxAgeMs)
      throw new EnvelopeError('TOO_OLD', 'a first-contact frame older than the replay window');
    if (envelope.timestamp > now + this.guard.maxFutureMs)
      throw new EnvelopeError('FROM_FUTURE', 'a first-contact frame from the future');
  }

  /**
   * A card the contact sent about itself: kept when it is that contact's and newer. A
   * stranger's card stays with its request: only `add` makes a contact.
   */
  private takeCard(contact: ContactId, bytes: Uint8Array): void {
    if (!this.cards.has(contact)) return;
    let card: ContactCard;
    try {
      card = ContactCard.deserialize(bytes);
    } catch {
      return;
    }
    if (contactIdOf(card.peerId) !== contact) return;
    try {
      this.opts.sessions.addContact(card);
    } catch (error) {
      if (error instanceof ContactCardError) return;
      throw error;
    }
    const current = this.opts.sessions.contact(card.peerId) ?? card;
    if (this.cards.get(contact)?.sameCard(current) && this.cards.get(contact)?.kemPreKey) return;
    this.cards.set(contact, current);
    this.opts.onContactCard?.(current);
  }

  /**
   * A contact's one-time pre-keys for us (session/one-time-batch.ts): kept when they verify
   * and are newer than those kept; a stranger's are ignored, whatever they hold.
   */
  private takeOneTimeKeys(sender: PeerId, contact: ContactId | undefined, batch: Uint8Array): void {
    if (contact !== undefined && !this.cards.has(contact)) return;
    try {
      this.opts.sessions.acceptOneTimeBatch(sender, batch);
    } catch (error) {
      if (error instanceof P2pCommError) return;
      throw error;
    }
  }

  /** The replay guard's verdict, except that a replayed chat is let through (module doc). */
  private admit(envelope: Envelope, now: number): boolean {
    try {
      this.guard.check(envelope.id, envelope.timestamp, now);
      return true;
    } catch (error) {
      return error instanceof EnvelopeError && error.code === 'REPLAY' && CHAT_BODIES.has(envelope.body.type);
    }
  }

  private persist(): Promise<void> {
    // Saves run one after another and each serializes the state current at its turn, so a
    // slow save can never overwrite a newer state with an older one. Any save takes the
    // received steps with it.
    this.uncommitted = false;
    this.saving = this.saving.then(async () => {
      await this.opts.save(this.opts.sessions.serialize());
      const devices = this.opts.devices;
      if (devices === undefined || !this.devicesChanged) return;
      this.devicesChanged = false;
      await devices.save(devices.roster.serialize());
    });
    return this.saving;
  }
}
