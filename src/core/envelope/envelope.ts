/**
 * Envelopes: the plaintext inside every session frame, on every transport.
 *
 *   u8 version=1 | u8 type | id[16] | u64 timestamp (Unix ms) | body (by type)
 *
 *   1 chat             varbytes text (UTF-8) | u8 hasReplyTo | replyTo[16]?
 *   2 delivery receipt varuint n (1..256) | n × id[16]
 *   3 read receipt     same as 2
 *   4 WebRTC offer     connectionId[16] | varbytes sdp
 *   5 WebRTC answer    connectionId[16] | varbytes sdp
 *   6 ICE candidates   connectionId[16] | u8 complete | varuint n (0..64)
 *                      | n × (varbytes candidate | varbytes sdpMid | u8 sdpMLineIndex)
 *   7 bundle           varuint n (1..256) | n × varbytes envelope (no nested bundles)
 *   8 contact card     varbytes card (≤ 2,048 B): the sender's new card (rotated pre-key)
 *   9 one-time keys    varbytes batch (≤ 1,024 B): signed one-time pre-keys for the recipient
 *                      (session/one-time-batch.ts; the session layer verifies them)
 *  10 reaction         target[16] | u8 reaction (0 = none, 1..6 = MESSAGE_REACTIONS[n-1])
 *  11 edit             target[16] | varbytes text (UTF-8): the sender's new text of target
 *  12 delete           target[16]: the sender deletes target for everyone
 *  13 typing           u8 state (1 typing, 0 stopped): over a direct link only
 *  15 disappearing timer  u32 seconds (0 off, 300, 3600, 86400, 604800; others MALFORMED):
 *                      the sender changed the conversation's timer (core/disappearing)
 *  14 forwarded chat   varbytes text (UTF-8): a new message marked "Forwarded"
 *  16 attachment manifest  varbytes manifest (≤ 16,384 B, core/attachments/manifest.ts)
 *  17 attachment chunk     attachmentId[16] | varuint index | varbytes sealed (≤ 49,168 B)
 *  18 attachment status    varbytes status (≤ 1,024 B, core/attachments/status.ts)
 *  24 devices          varbytes list (≤ 954 B) | u8 n (0..8) | n × varbytes card (≤ 2,560 B):
 *                      the sender's newest signed device list and device cards (core/devices)
 *  25 sent-to          person[32]: inside a bundle, its chat envelopes are what the sending
 *                      device, one of the recipient's own, sent to that person (Sesame)
 *
 * Type numbers 19-23 and 26-255 are unassigned and refused with DecodeError UNKNOWN_TYPE; file chunks
 * and group key updates will take the next numbers (a new type never changes an old one).
 * The message ID is random (128 bits) and, with the timestamp, feeds the replay guard.
 * Binary, not JSON: on chain every byte is paid for (NOTES §2).
 */
import { ByteReader, ByteWriter, readText, writeText } from '../../util/binary.ts';
import { DecodeError, assertBytes, assertInteger } from '../../util/errors.ts';
import { randomBytes } from '../../util/bytes.ts';
import { decodeTimerBody, encodeTimerBody, type DisappearingSeconds } from '../disappearing/timer.ts';

/** 16 random bytes identifying one envelope. */
export type MessageId = Uint8Array & { readonly __brand: 'MessageId' };

const VERSION = 1;
/** Limits that bound every decoded field (and so every allocation). */
export const ENVELOPE_LIMITS = {
  text: 60_000,
  sdp: 16_384,
  candidate: 1024,
  sdpMid: 64,
  candidates: 64,
  receiptIds: 256,
  /** Envelopes in one bundle. */
  bundle: 256,
  /** Bytes of one envelope inside a bundle: the largest chat with its header. */
  bundled: 60_000 + 64,
  /** Bytes of a contact card (the full form is about 1,450; with the largest device list 2,520). */
  card: 2560,
  /** Device cards one devices envelope carries (the most devices a list names). */
  deviceCards: 8,
  /** Bytes of a device list (devices/device-list.ts MAX_DEVICE_LIST_BYTES). */
  deviceList: 954,
  /** Bytes of a one-time pre-key batch (16 keys at most: 650). */
  oneTimeBatch: 1024,
  /** Attachments (core/attachments): manifest, one sealed chunk, transfer status. */
  attachmentManifest: 16_384,
  attachmentChunk: 49_152 + 16,
  attachmentStatus: 1024,
} as const;

/** Envelope type codes (wire values). */
export const EnvelopeType = {
  chat: 1,
  deliveryReceipt: 2,
  readReceipt: 3,
  webrtcOffer: 4,
  webrtcAnswer: 5,
  webrtcIce: 6,
  bundle: 7,
  card: 8,
  oneTimeKeys: 9,
  // Everyday-use bodies (docs/protocol.md "Envelope type 13: typing" and "Envelope types 10,
  // 11, 12 and 14: message actions").
  reaction: 10,
  edit: 11,
  delete: 12,
  typing: 13,
  // Disappearing messages (docs/protocol.md "Envelope type 15: disappearing timer").
  disappearingTimer: 15,
  forwarded: 14,
  attachmentManifest: 16,
  attachmentChunk: 17,
  attachmentStatus: 18,
  // Several devices (docs/protocol.md "Envelope types 24 and 25: devices and sent-to").
  devices: 24,
  sentTo: 25,
} as const;

/** One ICE candidate as RTCIceCandidateInit carries it. */
export interface IceCandidate {
  readonly candidate: string;
  readonly sdpMid: string;
  readonly sdpMLineIndex: number;
}

/** What an envelope says. */
export type EnvelopeBody =
  | { readonly type: 'chat'; readonly text: string; readonly replyTo?: MessageId }
  | { readonly type: 'typing'; readonly active: boolean }
  /** The sender set the conversation's disappearing timer (core/disappearing/timer.ts). */
  | { readonly type: 'disappearing-timer'; readonly seconds: DisappearingSeconds }
  /**
   * Message actions (docs/protocol.md "Envelope types 10, 11, 12 and 14"): a reaction to,
   * an edit of or the deletion of an earlier message `target`, and a forwarded text. Each is
   * a message of its own (own id, receipted like a chat); core/messages checks who may act.
   */
  | { readonly type: 'reaction'; readonly target: MessageId; readonly reaction: number }
  | { readonly type: 'edit'; readonly target: MessageId; readonly text: string }
  | { readonly type: 'delete'; readonly target: MessageId }
  | { readonly type: 'forwarded'; readonly text: string }
  | { readonly type: 'delivery-receipt'; readonly ids: readonly MessageId[] }
  | { readonly type: 'read-receipt'; readonly ids: readonly MessageId[] }
  | { readonly type: 'webrtc-offer'; readonly connectionId: Uint8Array; readonly sdp: string }
  | { readonly type: 'webrtc-answer'; readonly connectionId: Uint8Array; readonly sdp: string }
  | {
      readonly type: 'webrtc-ice';
      readonly connectionId: Uint8Array;
      readonly candidates: readonly IceCandidate[];
      /** True when the sender's gathering is complete (end of candidates). */
      readonly complete: boolean;
    }
  /**
   * Several envelopes to one peer under one session frame: a chain batch pays one ratchet
   * step, one header and (before the first reply) one first-contact seal per contact instead
   * of one per message. Bundles do not nest.
   */
  | { readonly type: 'bundle'; readonly envelopes: readonly Envelope[] }
  /**
   * The sender's contact card, re-issued with a rotated pre-key (session/prekeys.ts): what a
   * peer needs to start a new session later. Bytes here; the session layer verifies them.
   */
  | { readonly type: 'card'; readonly card: Uint8Array }
  /**
   * One-time pre-keys of the sender for the recipient to start a later session with
   * (session/one-time-batch.ts). Bytes here; the session layer verifies them.
   */
  | { readonly type: 'one-time-keys'; readonly batch: Uint8Array }
  /**
   * Attachments (core/attachments): the manifest rides in the message, the sealed chunks
   * beside it, and the recipient's status drives progress, resume and cancel. Manifest and
   * status are bytes here, versioned and checked by their own decoders.
   */
  | { readonly type: 'attachment-manifest'; readonly manifest: Uint8Array }
  | {
      readonly type: 'attachment-chunk';
      readonly attachmentId: Uint8Array;
      readonly index: number;
      readonly sealed: Uint8Array;
    }
  | { readonly type: 'attachment-status'; readonly status: Uint8Array }
  /**
   * The sender's newest signed device list and the device cards of listed devices
   * (core/devices); the session layer verifies both.
   */
  | { readonly type: 'devices'; readonly list: Uint8Array; readonly cards: readonly Uint8Array[] }
  /** In a bundle from one of our own devices: its chats went to `person` (an identity key). */
  | { readonly type: 'sent-to'; readonly person: Uint8Array };

/**
 * The fixed reaction set, wire values 1..6 in this order (0 takes a reaction back). A fixed
 * set keeps the body one byte and leaves no room for text smuggled in as an "emoji".
 */
export const MESSAGE_REACTIONS = [
  '\u{1F44D}',
  '\u2764\uFE0F',
  '\u{1F602}',
  '\u{1F62E}',
  '\u{1F622}',
  '\u{1F64F}',
] as const;

/** The attachment bodies (types 16-18; core/attachments). */
export type AttachmentBody = Extract<
  EnvelopeBody,
  { readonly type: 'attachment-manifest' | 'attachment-chunk' | 'attachment-status' }
>;

/** An envelope: unique id, sender's timestamp, body. */
export interface Envelope {
  readonly id: MessageId;
  /** Sender clock, Unix milliseconds. */
  readonly timestamp: number;
  readonly body: EnvelopeBody;
}

/** A fresh random message ID. */
export function newMessageId(): MessageId {
  return randomBytes(16) as MessageId;
}

/** An envelope with a fresh ID, stamped `now` (default Date.now()). */
export function createEnvelope(body: EnvelopeBody, now: number = Date.now()): Envelope {
  return { id: newMessageId(), timestamp: now, body };
}

/** The bodies that are one bounded byte string, checked by their own decoders (types 8, 9, 16, 18). */
function blob(w: ByteWriter, code: number, e: Envelope, name: string, bytes: Uint8Array, max: number): void {
  assertBytes(name, bytes);
  if (bytes.length > max) throw new RangeError(`"${name}" is ${bytes.length} bytes, at most ${max}`);
  w.u8(code).bytes(e.id).u64(e.timestamp).varBytes(bytes);
}

function ids(w: ByteWriter, list: readonly MessageId[]): void {
  if (!Array.isArray(list) || list.length < 1 || list.length > ENVELOPE_LIMITS.receiptIds) {
    throw new RangeError(`"ids" expected 1..${ENVELOPE_LIMITS.receiptIds} message ids`);
  }
  w.varUint(list.length);
  for (const id of list) {
    assertBytes('ids[]', id, 16);
    w.bytes(id);
  }
}

function readIds(r: ByteReader): MessageId[] {
  const n = r.varUint('receipt count');
  if (n < 1 || n > ENVELOPE_LIMITS.receiptIds) throw new DecodeError('MALFORMED', `receipt lists ${n} ids`);
  const out: MessageId[] = [];
  for (let i = 0; i < n; i++) out.push(r.bytes(16, 'receipt id') as MessageId);
  return out;
}

/** Envelope bytes; RangeError/TypeError when a field breaks the limits above. */
export function encodeEnvelope(e: Envelope): Uint8Array {
  return encode(e, false);
}

function encode(e: Envelope, nested: boolean): Uint8Array {
  assertBytes('id', e.id, 16);
  assertInteger('timestamp', e.timestamp, 0, Number.MAX_SAFE_INTEGER);
  const w = new ByteWriter(64).u8(VERSION);
  const b = e.body;
  switch (b.type) {
    case 'chat':
      w.u8(EnvelopeType.chat).bytes(e.id).u64(e.timestamp);
      writeText(w, 'text', b.text, ENVELOPE_LIMITS.text);
      if (b.replyTo === undefined) w.u8(0);
      else {
        assertBytes('replyTo', b.replyTo, 16);
        w.u8(1).bytes(b.replyTo);
      }
      break;
    case 'delivery-receipt':
    case 'read-receipt':
      w.u8(b.type === 'delivery-receipt' ? EnvelopeType.deliveryReceipt : EnvelopeType.readReceipt)
        .bytes(e.id)
        .u64(e.timestamp);
      ids(w, b.ids);
      break;
    case 'webrtc-offer':
    case 'webrtc-answer':
      assertBytes('connectionId', b.connectionId, 16);
      w.u8(b.type === 'webrtc-offer' ? EnvelopeType.webrtcOffer : EnvelopeType.webrtcAnswer)
        .bytes(e.id)
        .u64(e.timestamp)
        .bytes(b.connectionId);
      writeText(w, 'sdp', b.sdp, ENVELOPE_LIMITS.sdp);
      break;
    case 'webrtc-ice':
      assertBytes('connectionId', b.connectionId, 16);
      if (!Array.isArray(b.candidates) || b.candidates.length > ENVELOPE_LIMITS.candidates) {
        throw new RangeError(`"candidates" expected at most ${ENVELOPE_LIMITS.candidates} candidates`);
      }
      w.u8(EnvelopeType.webrtcIce)
        .bytes(e.id)
        .u64(e.timestamp)
        .bytes(b.connectionId)
        .u8(b.complete ? 1 : 0)
        .varUint(b.candidates.length);
      for (const c of b.candidates) {
        writeText(w, 'candidate', c.candidate, ENVELOPE_LIMITS.candidate);
        writeText(w, 'sdpMid', c.sdpMid, ENVELOPE_LIMITS.sdpMid);
        assertInteger('sdpMLineIndex', c.sdpMLineIndex, 0, 255);
        w.u8(c.sdpMLineIndex);
      }
      break;
    case 'bundle':
      if (nested) throw new RangeError('a bundle cannot hold a bundle');
      if (
        !Array.isArray(b.envelopes) ||
        b.envelopes.length < 1 ||
        b.envelopes.length > ENVELOPE_LIMITS.bundle
      ) {
        throw new RangeError(`"envelopes" expected 1..${ENVELOPE_LIMITS.bundle} envelopes`);
      }
      w.u8(EnvelopeType.bundle).bytes(e.id).u64(e.timestamp).varUint(b.envelopes.length);
      for (const inner of b.envelopes) w.varBytes(encode(inner, true));
      break;
    case 'card':
      blob(w, EnvelopeType.card, e, 'card', b.card, ENVELOPE_LIMITS.card);
      break;
    case 'one-time-keys':
      blob(w, EnvelopeType.oneTimeKeys, e, 'batch', b.batch, ENVELOPE_LIMITS.oneTimeBatch);
      break;
    case 'typing':
      if (typeof b.active !== 'boolean') throw new TypeError('"active" expected a boolean');
      w.u8(EnvelopeType.typing)
        .bytes(e.id)
        .u64(e.timestamp)
        .u8(b.active ? 1 : 0);
      break;
    case 'disappearing-timer':
      encodeTimerBody(w.u8(EnvelopeType.disappearingTimer).bytes(e.id).u64(e.timestamp), b.seconds);
      break;
    case 'reaction':
      assertBytes('target', b.target, 16);
      assertInteger('reaction', b.reaction, 0, MESSAGE_REACTIONS.length);
      w.u8(EnvelopeType.reaction).bytes(e.id).u64(e.timestamp).bytes(b.target).u8(b.reaction);
      break;
    case 'edit':
      assertBytes('target', b.target, 16);
      w.u8(EnvelopeType.edit).bytes(e.id).u64(e.timestamp).bytes(b.target);
      writeText(w, 'text', b.text, ENVELOPE_LIMITS.text);
      break;
    case 'delete':
      assertBytes('target', b.target, 16);
      w.u8(EnvelopeType.delete).bytes(e.id).u64(e.timestamp).bytes(b.target);
      break;
    case 'forwarded':
      w.u8(EnvelopeType.forwarded).bytes(e.id).u64(e.timestamp);
      writeText(w, 'text', b.text, ENVELOPE_LIMITS.text);
      break;
    case 'attachment-manifest':
      blob(w, EnvelopeType.attachmentManifest, e, b.type, b.manifest, ENVELOPE_LIMITS.attachmentManifest);
      break;
    case 'attachment-status':
      blob(w, EnvelopeType.attachmentStatus, e, b.type, b.status, ENVELOPE_LIMITS.attachmentStatus);
      break;
    case 'attachment-chunk':
      assertBytes('attachmentId', b.attachmentId, 16);
      assertInteger('index', b.index, 0, 2 ** 31);
      assertBytes('sealed', b.sealed);
      if (b.sealed.length > ENVELOPE_LIMITS.attachmentChunk)
        throw new RangeError(
          `"sealed" is ${b.sealed.length} bytes, at most ${ENVELOPE_LIMITS.attachmentChunk}`,
        );
      w.u8(EnvelopeType.attachmentChunk)
        .bytes(e.id)
        .u64(e.timestamp)
        .bytes(b.attachmentId)
        .varUint(b.index)
        .varBytes(b.sealed);
      break;
    case 'devices':
      assertBytes('list', b.list);
      if (b.list.length > ENVELOPE_LIMITS.deviceList)
        throw new RangeError(`"list" is ${b.list.length} bytes, at most ${ENVELOPE_LIMITS.deviceList}`);
      if (!Array.isArray(b.cards) || b.cards.length > ENVELOPE_LIMITS.deviceCards)
        throw new RangeError(`"cards" expected at most ${ENVELOPE_LIMITS.deviceCards} cards`);
      w.u8(EnvelopeType.devices).bytes(e.id).u64(e.timestamp).varBytes(b.list).u8(b.cards.length);
      for (const c of b.cards) {
        assertBytes('cards[]', c);
        if (c.length > ENVELOPE_LIMITS.card)
          throw new RangeError(`"cards[]" is ${c.length} bytes, at most ${ENVELOPE_LIMITS.card}`);
        w.varBytes(c);
      }
      break;
    case 'sent-to':
      assertBytes('person', b.person, 32);
      w.u8(EnvelopeType.sentTo).bytes(e.id).u64(e.timestamp).bytes(b.person);
      break;
    default: {
      const never: never = b;
      throw new TypeError(`unknown envelope body ${JSON.stringify(never)}`);
    }
  }
  return w.finish();
}

/** Decodes envelope bytes; DecodeError on anything malformed, truncated or unknown. */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  assertBytes('bytes', bytes);
  return decode(bytes, false);
}

function decode(bytes: Uint8Array, nested: boolean): Envelope {
  const r = new ByteReader(bytes);
  const version = r.u8('envelope version');
  if (version !== VERSION)
    throw new DecodeError('UNKNOWN_VERSION', `envelope version ${version} is not supported`);
  const type = r.u8('envelope type');
  const id = r.bytes(16, 'message id') as MessageId;
  const timestamp = r.safeU64('timestamp');
  let body: EnvelopeBody;
  switch (type) {
    case EnvelopeType.chat: {
      const t = readText(r, 'chat text', ENVELOPE_LIMITS.text);
      const hasReply = r.u8('reply flag');
      if (hasReply > 1) throw new DecodeError('MALFORMED', 'reply flag');
      body =
        hasReply === 1
          ? { type: 'chat', text: t, replyTo: r.bytes(16, 'replyTo') as MessageId }
          : { type: 'chat', text: t };
      break;
    }
    case EnvelopeType.deliveryReceipt:
      body = { type: 'delivery-receipt', ids: readIds(r) };
      break;
    case EnvelopeType.readReceipt:
      body = { type: 'read-receipt', ids: readIds(r) };
      break;
    case EnvelopeType.webrtcOffer:
    case EnvelopeType.webrtcAnswer: {
      const connectionId = r.bytes(16, 'connection id');
      const sdp = readText(r, 'sdp', ENVELOPE_LIMITS.sdp);
      body = {
        type: type === EnvelopeType.webrtcOffer ? 'webrtc-offer' : 'webrtc-answer',
        connectionId,
        sdp,
      };
      break;
    }
    case EnvelopeType.webrtcIce: {
      const connectionId = r.bytes(16, 'connection id');
      const complete = r.u8('complete flag');
      if (complete > 1) throw new DecodeError('MALFORMED', 'complete flag');
      const n = r.varUint('candidate count');
      if (n > ENVELOPE_LIMITS.candidates) throw new DecodeError('TOO_LARGE', `${n} ICE candidates`);
      const candidates: IceCandidate[] = [];
      for (let i = 0; i < n; i++) {
        candidates.push({
          candidate: readText(r, 'candidate', ENVELOPE_LIMITS.candidate),
          sdpMid: readText(r, 'sdpMid', ENVELOPE_LIMITS.sdpMid),
          sdpMLineIndex: r.u8('sdpMLineIndex'),
        });
      }
      body = { type: 'webrtc-ice', connectionId, candidates, complete: complete === 1 };
      break;
    }
    case EnvelopeType.bundle: {
      if (nested) throw new DecodeError('MALFORMED', 'a bundle inside a bundle');
      const n = r.varUint('bundle count');
      if (n < 1 || n > ENVELOPE_LIMITS.bundle) throw new DecodeError('MALFORMED', `bundle of ${n} envelopes`);
      const envelopes: Envelope[] = [];
      for (let i = 0; i < n; i++)
        envelopes.push(decode(r.varBytes(ENVELOPE_LIMITS.bundled, 'bundled envelope'), true));
      body = { type: 'bundle', envelopes };
      break;
    }
    case EnvelopeType.card:
      body = { type: 'card', card: r.varBytes(ENVELOPE_LIMITS.card, 'contact card') };
      break;
    case EnvelopeType.oneTimeKeys:
      body = { type: 'one-time-keys', batch: r.varBytes(ENVELOPE_LIMITS.oneTimeBatch, 'one-time key batch') };
      break;
    case EnvelopeType.typing: {
      const state = r.u8('typing state');
      if (state > 1) throw new DecodeError('MALFORMED', `typing state ${state}`);
      body = { type: 'typing', active: state === 1 };
      break;
    }
    case EnvelopeType.disappearingTimer:
      body = { type: 'disappearing-timer', seconds: decodeTimerBody(r) };
      break;
    case EnvelopeType.reaction: {
      const target = r.bytes(16, 'reaction target') as MessageId;
      const reaction = r.u8('reaction');
      if (reaction > MESSAGE_REACTIONS.length) throw new DecodeError('MALFORMED', `reaction ${reaction}`);
      body = { type: 'reaction', target, reaction };
      break;
    }
    case EnvelopeType.edit: {
      const target = r.bytes(16, 'edit target') as MessageId;
      body = { type: 'edit', target, text: readText(r, 'edit text', ENVELOPE_LIMITS.text) };
      break;
    }
    case EnvelopeType.delete:
      body = { type: 'delete', target: r.bytes(16, 'delete target') as MessageId };
      break;
    case EnvelopeType.forwarded:
      body = { type: 'forwarded', text: readText(r, 'forwarded text', ENVELOPE_LIMITS.text) };
      break;
    case EnvelopeType.attachmentManifest:
      body = {
        type: 'attachment-manifest',
        manifest: r.varBytes(ENVELOPE_LIMITS.attachmentManifest, 'attachment manifest'),
      };
      break;
    case EnvelopeType.attachmentChunk: {
      const attachmentId = r.bytes(16, 'attachment id');
      const index = r.varUint('chunk index');
      if (index > 2 ** 31) throw new DecodeError('MALFORMED', `chunk index ${index}`);
      body = {
        type: 'attachment-chunk',
        attachmentId,
        index,
        sealed: r.varBytes(ENVELOPE_LIMITS.attachmentChunk, 'attachment chunk'),
      };
      break;
    }
    case EnvelopeType.attachmentStatus:
      body = {
        type: 'attachment-status',
        status: r.varBytes(ENVELOPE_LIMITS.attachmentStatus, 'attachment status'),
      };
      break;
    case EnvelopeType.devices: {
      const list = r.varBytes(ENVELOPE_LIMITS.deviceList, 'device list');
      const n = r.u8('device card count');
      if (n > ENVELOPE_LIMITS.deviceCards)
        throw new DecodeError('MALFORMED', `devices envelope with ${n} cards`);
      const cards: Uint8Array[] = [];
      for (let i = 0; i < n; i++) cards.push(r.varBytes(ENVELOPE_LIMITS.card, 'device card'));
      body = { type: 'devices', list, cards };
      break;
    }
    case EnvelopeType.sentTo:
      body = { type: 'sent-to', person: r.bytes(32, 'sent-to person') };
      break;
    default:
      throw new DecodeError('UNKNOWN_TYPE', `envelope type ${type} is not known to this version`);
  }
  r.end('envelope');
  return { id, timestamp, body };
}
