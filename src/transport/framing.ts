/**
 * Frames carried on the p2pComm data channel.
 *
 * Why framing at all: an SCTP user message is bounded by the peer's `a=max-message-size`
 * (RFC 8841 §6; 64 KiB in werift, 256 KiB in Chromium) and large single sends stall the
 * association while they are fragmented (RFC 8831 §6.6 asks senders to keep messages
 * small). Envelopes can be larger, so they are cut into chunks and reassembled here.
 * The channel is reliable and ordered (RFC 8831 §6.1), so a message's chunks arrive
 * contiguously: one reassembly at a time, no sequence numbers.
 *
 * Layout, first byte = frame type:
 *   0x00 MESSAGE   payload (whole message in one frame)
 *   0x01 START     LEB128 total length, first chunk (total > chunk length)
 *   0x02 CONTINUE  next chunk (non-empty; never beyond the announced total)
 *   0x10 PING      (1 byte) liveness probe; the peer answers PONG
 *   0x11 PONG      (1 byte)
 *   0x12 CLOSE     (1 byte) deliberate close, so the peer reports `closed`, not a timeout
 * The version is carried by the data channel's sub-protocol name (FRAMING_PROTOCOL), which
 * both sides check when the channel opens.
 */
import { ByteReader, ByteWriter } from '../util/binary.ts';
import { DecodeError, assertBytes, assertInteger } from '../util/errors.ts';
import { TransportError } from './errors.ts';

/** Data channel sub-protocol naming this framing and its version (RFC 8832 §5.1 "Protocol"). */
export const FRAMING_PROTOCOL = 'p2pcomm-frames/1';

/** Frame type tags (first byte of every frame). */
export const FrameType = {
  MESSAGE: 0x00,
  START: 0x01,
  CONTINUE: 0x02,
  PING: 0x10,
  PONG: 0x11,
  CLOSE: 0x12,
} as const;

/** Smallest frame budget accepted: a START header (1 + up to 8 bytes) plus a useful chunk. */
export const MIN_FRAME_BYTES = 64;

/** A decoded inbound frame that completes something the link acts on. */
export type InboundEvent =
  | { readonly kind: 'message'; readonly bytes: Uint8Array }
  | { readonly kind: 'ping' }
  | { readonly kind: 'pong' }
  | { readonly kind: 'close' };

const CONTROL_PING = Uint8Array.of(FrameType.PING);
const CONTROL_PONG = Uint8Array.of(FrameType.PONG);
const CONTROL_CLOSE = Uint8Array.of(FrameType.CLOSE);

/** The one-byte control frames (shared constants: callers must not mutate them). */
export const controlFrame = {
  ping: (): Uint8Array => CONTROL_PING,
  pong: (): Uint8Array => CONTROL_PONG,
  close: (): Uint8Array => CONTROL_CLOSE,
} as const;

/**
 * Cuts `payload` into frames no larger than `maxFrameBytes` each. Small messages cost one
 * byte of overhead; large ones 1 + LEB128(total) bytes on the first frame and 1 per chunk.
 */
export function encodeMessageFrames(payload: Uint8Array, maxFrameBytes: number): Uint8Array[] {
  assertBytes('payload', payload);
  assertInteger('maxFrameBytes', maxFrameBytes, MIN_FRAME_BYTES, 2 ** 30);
  if (payload.length + 1 <= maxFrameBytes) {
    const frame = new Uint8Array(payload.length + 1);
    frame[0] = FrameType.MESSAGE;
    frame.set(payload, 1);
    return [frame];
  }
  const header = new ByteWriter(16).u8(FrameType.START).varUint(payload.length).finish();
  const firstLen = maxFrameBytes - header.length;
  const frames: Uint8Array[] = [];
  const first = new Uint8Array(maxFrameBytes);
  first.set(header, 0);
  first.set(payload.subarray(0, firstLen), header.length);
  frames.push(first);
  const chunk = maxFrameBytes - 1;
  for (let off = firstLen; off < payload.length; off += chunk) {
    const part = payload.subarray(off, Math.min(off + chunk, payload.length));
    const frame = new Uint8Array(part.length + 1);
    frame[0] = FrameType.CONTINUE;
    frame.set(part, 1);
    frames.push(frame);
  }
  return frames;
}

/**
 * Turns inbound frames back into messages and control events. Memory is bounded: a
 * message is only buffered after its announced total was checked against
 * `maxMessageBytes`, and a chunk can never write past that total. Any violation throws a
 * `TransportError` (PROTOCOL or MESSAGE_TOO_LARGE) and nothing else, whatever the input.
 */
export class FrameReassembler {
  private pending: Uint8Array | undefined;
  private filled = 0;

  constructor(private readonly maxMessageBytes: number) {
    assertInteger('maxMessageBytes', maxMessageBytes, 1, 2 ** 31);
  }

  /** True while a chunked message is partly received. */
  get inProgress(): boolean {
    return this.pending !== undefined;
  }

  /** Feeds one frame; returns the event it completes, or undefined for a partial message. */
  push(frame: Uint8Array): InboundEvent | undefined {
    if (frame.length === 0) throw protocol('empty frame');
    const type = frame[0]!;
    if (this.pending !== undefined && type !== FrameType.CONTINUE && !isControl(type)) {
      throw protocol(`frame type 0x${hex2(type)} inside a chunked message`);
    }
    switch (type) {
      case FrameType.MESSAGE: {
        if (frame.length - 1 > this.maxMessageBytes) throw tooLarge(frame.length - 1, this.maxMessageBytes);
        return { kind: 'message', bytes: frame.slice(1) };
      }
      case FrameType.START:
        return this.start(frame);
      case FrameType.CONTINUE:
        return this.continue(frame);
      case FrameType.PING:
      case FrameType.PONG:
      case FrameType.CLOSE:
        if (frame.length !== 1)
          throw protocol(`control frame 0x${hex2(type)} has ${frame.length - 1} extra bytes`);
        return { kind: type === FrameType.PING ? 'ping' : type === FrameType.PONG ? 'pong' : 'close' };
      default:
        throw protocol(`unknown frame type 0x${hex2(type)}`);
    }
  }

  private start(frame: Uint8Array): undefined {
    const reader = new ByteReader(frame);
    reader.u8();
    let total: number;
    try {
      total = reader.varUint('message length');
    } catch (e) {
      if (e instanceof DecodeError) throw protocol(`bad START header: ${e.message}`, e);
      throw e;
    }
    const chunk = frame.subarray(reader.offset);
    if (total > this.maxMessageBytes) throw tooLarge(total, this.maxMessageBytes);
    // A sender only chunks what does not fit one frame; a START that is already complete
    // (or empty) is malformed rather than a second way to say the same thing.
    if (chunk.length === 0 || chunk.length >= total) {
      throw protocol(`START chunk of ${chunk.length} bytes for a ${total}-byte message`);
    }
    this.pending = new Uint8Array(total);
    this.pending.set(chunk, 0);
    this.filled = chunk.length;
    return undefined;
  }

  private continue(frame: Uint8Array): InboundEvent | undefined {
    const pending = this.pending;
    if (pending === undefined) throw protocol('CONTINUE without START');
    const chunk = frame.subarray(1);
    if (chunk.length === 0) throw protocol('empty CONTINUE');
    if (this.filled + chunk.length > pending.length) {
      throw protocol(`chunks exceed the announced ${pending.length} bytes`);
    }
    pending.set(chunk, this.filled);
    this.filled += chunk.length;
    if (this.filled < pending.length) return undefined;
    this.pending = undefined;
    this.filled = 0;
    return { kind: 'message', bytes: pending };
  }
}

function isControl(type: number): boolean {
  return type === FrameType.PING || type === FrameType.PONG || type === FrameType.CLOSE;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function protocol(message: string, cause?: unknown): TransportError {
  return new TransportError('PROTOCOL', message, cause === undefined ? undefined : { cause });
}

function tooLarge(size: number, max: number): TransportError {
  return new TransportError('MESSAGE_TOO_LARGE', `peer sent a ${size}-byte message, limit is ${max}`);
}
