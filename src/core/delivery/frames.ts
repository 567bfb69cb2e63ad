/**
 * Delivery frames: the plaintext the engine hands to the session layer for one contact, on
 * either path. A bundle holds several frames (chat messages, receipts, a WebRTC offer or
 * answer) so one session message, and on chain one batch entry, carries all that is due to
 * a contact at once.
 *
 * Layout (version 1), integers LEB128 unless noted:
 *   u8 version = 1 | varuint count | count × frame
 *   chat:    u8 1 | 16 id | varuint seq | varuint sentAt (ms) | varbytes text (UTF-8)
 *   receipt: u8 2 | u8 kind (1 delivered, 2 read) | varuint n | n × 16 id
 *   signal:  u8 3 | u8 kind (1 offer, 2 answer) | 16 linkId | varuint sentAt | varbytes description
 *
 * Every decoder failure is a DecodeError (STYLE §8); limits bound what a hostile peer can
 * make us allocate.
 */
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { bytesToUtf8, utf8ToBytes } from '../../util/bytes.ts';
import { DecodeError, assertBytes, assertInteger } from '../../util/errors.ts';

/** Bytes of a message id: 128 random bits (docs/delivery.md "Exactly once"). */
export const MESSAGE_ID_BYTES = 16;
/** Largest text of one chat frame, in UTF-8 bytes (the UI limit is 4,000 UTF-16 units). */
export const MAX_TEXT_BYTES = 16_384;
/** Most message ids in one receipt frame. */
export const MAX_RECEIPT_IDS = 1024;
/** Largest WebRTC session description (SDP with gathered candidates). */
export const MAX_SIGNAL_BYTES = 16_384;
/** Most frames in one bundle. */
export const MAX_FRAMES = 4096;

const VERSION = 1;
const T_CHAT = 1;
const T_RECEIPT = 2;
const T_SIGNAL = 3;

/** A text message as its sender wrote it. */
export interface ChatFrame {
  readonly type: 'chat';
  readonly id: Uint8Array;
  /** Per-conversation sequence number of the sender, from 1: orders messages (docs/delivery.md). */
  readonly seq: number;
  /** Sender's clock, Unix ms. */
  readonly sentAt: number;
  readonly text: string;
}

/** The recipient's signed (by its session) statement that messages arrived or were read. */
export interface ReceiptFrame {
  readonly type: 'receipt';
  readonly kind: 'delivered' | 'read';
  readonly ids: readonly Uint8Array[];
}

/** A WebRTC offer or answer with its candidates already gathered (NOTES §4). */
export interface SignalFrame {
  readonly type: 'signal';
  readonly kind: 'offer' | 'answer';
  /** Names one connection attempt, so a late answer cannot complete a newer attempt. */
  readonly linkId: Uint8Array;
  readonly sentAt: number;
  readonly description: Uint8Array;
}

/** Anything the engine sends a contact inside its session. */
export type DeliveryFrame = ChatFrame | ReceiptFrame | SignalFrame;

function checkFrame(f: DeliveryFrame, i: number): void {
  const name = `frames[${i}]`;
  switch (f.type) {
    case 'chat':
      assertBytes(`${name}.id`, f.id, MESSAGE_ID_BYTES);
      assertInteger(`${name}.seq`, f.seq, 1, Number.MAX_SAFE_INTEGER);
      assertInteger(`${name}.sentAt`, f.sentAt, 0, Number.MAX_SAFE_INTEGER);
      if (typeof f.text !== 'string') throw new TypeError(`"${name}.text" expected a string`);
      return;
    case 'receipt':
      if (f.ids.length === 0 || f.ids.length > MAX_RECEIPT_IDS) {
        throw new RangeError(`"${name}.ids" expected 1..${MAX_RECEIPT_IDS} ids, got ${f.ids.length}`);
      }
      f.ids.forEach((id, j) => assertBytes(`${name}.ids[${j}]`, id, MESSAGE_ID_BYTES));
      return;
    case 'signal':
      assertBytes(`${name}.linkId`, f.linkId, MESSAGE_ID_BYTES);
      assertInteger(`${name}.sentAt`, f.sentAt, 0, Number.MAX_SAFE_INTEGER);
      assertBytes(`${name}.description`, f.description);
      if (f.description.length > MAX_SIGNAL_BYTES) {
        throw new RangeError(`"${name}.description" exceeds ${MAX_SIGNAL_BYTES} bytes`);
      }
      return;
    default:
      throw new TypeError(`"${name}.type" is not a delivery frame type`);
  }
}

/** Serializes a bundle of frames (1..MAX_FRAMES). */
export function encodeFrames(frames: readonly DeliveryFrame[]): Uint8Array {
  if (!Array.isArray(frames)) throw new TypeError('"frames" expected an array');
  if (frames.length === 0 || frames.length > MAX_FRAMES) {
    throw new RangeError(`"frames" expected 1..${MAX_FRAMES} frames, got ${frames.length}`);
  }
  const w = new ByteWriter().u8(VERSION).varUint(frames.length);
  frames.forEach((f, i) => {
    checkFrame(f, i);
    switch (f.type) {
      case 'chat': {
        const text = utf8ToBytes(f.text);
        if (text.length > MAX_TEXT_BYTES)
          throw new RangeError(`"frames[${i}].text" exceeds ${MAX_TEXT_BYTES} bytes`);
        w.u8(T_CHAT).bytes(f.id).varUint(f.seq).varUint(f.sentAt).varBytes(text);
        break;
      }
      case 'receipt':
        w.u8(T_RECEIPT)
          .u8(f.kind === 'delivered' ? 1 : 2)
          .varUint(f.ids.length);
        for (const id of f.ids) w.bytes(id);
        break;
      case 'signal':
        w.u8(T_SIGNAL)
          .u8(f.kind === 'offer' ? 1 : 2)
          .bytes(f.linkId)
          .varUint(f.sentAt)
          .varBytes(f.description);
        break;
    }
  });
  return w.finish();
}

/** Parses a bundle; any malformed, oversized or unknown content throws DecodeError. */
export function decodeFrames(bytes: Uint8Array): DeliveryFrame[] {
  assertBytes('bytes', bytes);
  const r = new ByteReader(bytes);
  const version = r.u8('frames version');
  if (version !== VERSION)
    throw new DecodeError('UNKNOWN_VERSION', `unknown delivery frames version ${version}`);
  const count = r.varUint('frame count');
  if (count === 0 || count > MAX_FRAMES)
    throw new DecodeError('MALFORMED', `frame count ${count} out of range`);
  const frames: DeliveryFrame[] = [];
  for (let i = 0; i < count; i++) {
    const type = r.u8('frame type');
    if (type === T_CHAT) {
      const id = r.bytes(MESSAGE_ID_BYTES, 'message id');
      const seq = r.varUint('seq');
      if (seq === 0) throw new DecodeError('MALFORMED', 'chat seq must start at 1');
      const sentAt = r.varUint('sentAt');
      const raw = r.varBytes(MAX_TEXT_BYTES, 'text');
      let text: string;
      try {
        text = bytesToUtf8(raw);
      } catch (cause) {
        throw new DecodeError('MALFORMED', 'chat text is not valid UTF-8', { cause });
      }
      frames.push({ type: 'chat', id, seq, sentAt, text });
    } else if (type === T_RECEIPT) {
      const k = r.u8('receipt kind');
      if (k !== 1 && k !== 2) throw new DecodeError('UNKNOWN_TYPE', `unknown receipt kind ${k}`);
      const n = r.varUint('receipt id count');
      if (n === 0 || n > MAX_RECEIPT_IDS)
        throw new DecodeError('MALFORMED', `receipt id count ${n} out of range`);
      const ids: Uint8Array[] = [];
      for (let j = 0; j < n; j++) ids.push(r.bytes(MESSAGE_ID_BYTES, 'receipt id'));
      frames.push({ type: 'receipt', kind: k === 1 ? 'delivered' : 'read', ids });
    } else if (type === T_SIGNAL) {
      const k = r.u8('signal kind');
      if (k !== 1 && k !== 2) throw new DecodeError('UNKNOWN_TYPE', `unknown signal kind ${k}`);
      const linkId = r.bytes(MESSAGE_ID_BYTES, 'link id');
      const sentAt = r.varUint('sentAt');
      const description = r.varBytes(MAX_SIGNAL_BYTES, 'session description');
      frames.push({ type: 'signal', kind: k === 1 ? 'offer' : 'answer', linkId, sentAt, description });
    } else {
      throw new DecodeError('UNKNOWN_TYPE', `unknown delivery frame type ${type}`);
    }
  }
  r.end('delivery frames');
  return frames;
}
