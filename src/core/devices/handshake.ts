/**
 * The authenticated start of the device-to-device channel (docs/devices.md §5, docs/protocol.md
 * "Device link handshake"). Both ends prove they hold the one-time link secret; the new device
 * also proves it holds its device key. Then every frame is sealed in each direction.
 *
 *   N → E  HELLO   u8 0x01 | u8 version=1 | identityKey[32] | offerId[8] | eN[32]
 *   E → N  REPLY   u8 0x02 | eE[32] | macE[32]
 *   N → E  CONFIRM u8 0x03 | macN[32]
 *   either ERROR   u8 0x0f | varbytes code (ASCII, ≤ 32)          (then the channel is closed)
 *
 *   th  = SHA-256("p2pcomm/v1/device-link" ‖ identityKey ‖ u32 expiresAt ‖ offerId ‖ eN ‖ eE)
 *   kEN ‖ kNE ‖ mE ‖ mN = HKDF-SHA256(ikm = X25519(e, e'), salt = secret, info = th, 128 B)
 *   macE = HMAC-SHA256(mE, th), macN = HMAC-SHA256(mN, th)
 *   sealed frame = ChaCha20-Poly1305(k of its direction, nonce = u64 counter ‖ 0[4], aad = ∅)
 *
 * Why X25519 + HKDF with the secret as salt, not a PAKE: the code is a QR code or a pasted link,
 * so the secret can be 128 random bits; then the ephemeral X25519 gives forward secrecy (a code
 * photographed after the link reveals nothing of what was sent) and the secret, mixed in as HKDF
 * salt (RFC 5869 §3.1), authenticates: without it neither MAC can be made, and a MAC a
 * man-in-the-middle obtains is an offline oracle against 2^128 secrets. A typed code of a few
 * digits would need CPace or SPAKE2 instead (no audited implementation among our libraries).
 * The channel below (DTLS of WebRTC) is not trusted: its fingerprints came over the chain.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { DecodeError } from '../../util/errors.ts';
import { bytesToUtf8, concatBytes, equalBytes, utf8ToBytes, wipe } from '../../util/bytes.ts';
import type { Ed25519PublicKey } from '../identity/keys.ts';
import { sendOn, type DeviceChannel, type Inbox } from './channel.ts';
import { DeviceError } from './errors.ts';
import { linkOfferId, type LinkCode } from './link-code.ts';

/** Handshake format version. */
export const LINK_HANDSHAKE_VERSION = 1;
const DOMAIN = utf8ToBytes('p2pcomm/v1/device-link');
const HELLO = 0x01;
const REPLY = 0x02;
const CONFIRM = 0x03;
const ERROR = 0x0f;

/** Codes an ERROR frame may carry (anything else reads as PROTOCOL). */
const SENDABLE = new Set<DeviceError['code']>([
  'WRONG_IDENTITY',
  'LINK_EXPIRED',
  'LINK_REPLAYED',
  'LINK_UNKNOWN',
  'LINK_IN_USE',
  'LINK_AUTH_FAILED',
  'DEVICE_LIMIT',
  'PROTOCOL',
]);

/** A sealed, ordered, two-way channel after the handshake. */
export class SealedChannel {
  #sendCounter = 0n;
  #recvCounter = 0n;

  constructor(
    private readonly channel: DeviceChannel,
    private readonly inbox: Inbox,
    private readonly sendKey: Uint8Array,
    private readonly recvKey: Uint8Array,
    /** The handshake transcript hash, which later signatures bind to. */
    readonly transcript: Uint8Array,
  ) {}

  private static nonce(counter: bigint): Uint8Array {
    const n = new Uint8Array(12);
    new DataView(n.buffer).setBigUint64(0, counter, true);
    return n;
  }

  /** Seals and sends one frame. */
  async send(plain: Uint8Array): Promise<void> {
    const sealed = chacha20poly1305(this.sendKey, SealedChannel.nonce(this.#sendCounter++)).encrypt(plain);
    await sendOn(this.channel, sealed);
  }

  /**
   * The next frame, opened; DeviceError LINK_AUTH_FAILED when it was altered, reordered or forged,
   * or the error a sealed ERROR frame names.
   */
  async receive(): Promise<Uint8Array> {
    const sealed = await this.inbox.next();
    let plain: Uint8Array;
    try {
      plain = chacha20poly1305(this.recvKey, SealedChannel.nonce(this.#recvCounter++)).decrypt(sealed);
    } catch (e) {
      const err = new DeviceError('LINK_AUTH_FAILED', 'A frame from the other device did not authenticate.', {
        cause: e,
      });
      this.inbox.fail(err);
      throw err;
    }
    if (plain[0] === ERROR) readClear(plain, ERROR, 0);
    return plain;
  }

  /** Tells the other device why the link stops (sealed, so it is authentic), then closes. */
  async refuse(error: DeviceError): Promise<void> {
    try {
      await this.send(errorFrame(error));
    } catch {
      // The channel is already gone: the other side sees it close instead.
    } finally {
      this.channel.close();
    }
  }

  /** Forgets the keys (best effort). */
  wipe(): void {
    wipe(this.sendKey, this.recvKey);
  }
}

function transcriptOf(
  identityKey: Uint8Array,
  expiresAt: number,
  offerId: Uint8Array,
  eN: Uint8Array,
  eE: Uint8Array,
): Uint8Array {
  const w = new ByteWriter(160)
    .bytes(DOMAIN)
    .bytes(identityKey)
    .u32(expiresAt)
    .bytes(offerId)
    .bytes(eN)
    .bytes(eE);
  return sha256(w.finish());
}

/**
 * Both sides' keys from our ephemeral secret `e` and the other side's public key, named `other`
 * in the error: LINK_AUTH_FAILED when X25519 refuses it (a low-order point). `e` is wiped.
 */
function keysOf(e: Uint8Array, theirs: Uint8Array, secret: Uint8Array, th: Uint8Array, other: string) {
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(e, theirs);
  } catch (err) {
    throw new DeviceError('LINK_AUTH_FAILED', `The ${other} device sent an invalid key.`, { cause: err });
  } finally {
    wipe(e);
  }
  const okm = hkdf(sha256, shared, secret, th, 128);
  wipe(shared);
  return { kEN: okm.slice(0, 32), kNE: okm.slice(32, 64), mE: okm.slice(64, 96), mN: okm.slice(96, 128) };
}

function errorFrame(error: DeviceError): Uint8Array {
  const code = SENDABLE.has(error.code) ? error.code : 'PROTOCOL';
  return new ByteWriter(40).u8(ERROR).varBytes(utf8ToBytes(code)).finish();
}

/** Sends a clear ERROR frame for `error` (best effort; before the handshake ends) and closes. */
export async function refuse(channel: DeviceChannel, error: DeviceError): Promise<void> {
  try {
    await channel.send(errorFrame(error));
  } catch {
    // The channel is already gone: the other side sees it close instead.
  } finally {
    channel.close();
  }
}

/** Reads a clear frame; an ERROR frame becomes the DeviceError it names. */
function readClear(bytes: Uint8Array, type: number, length: number): ByteReader {
  const r = new ByteReader(bytes);
  const t = r.u8('link frame type');
  if (t === ERROR) {
    let code = 'PROTOCOL';
    try {
      code = bytesToUtf8(r.varBytes(32, 'error code'));
    } catch {
      // A malformed error frame is a protocol error like any other.
    }
    const known = SENDABLE.has(code as DeviceError['code']) ? (code as DeviceError['code']) : 'PROTOCOL';
    throw new DeviceError(known, `The other device refused the link (${known}).`);
  }
  if (t !== type || bytes.length !== length)
    throw new DeviceError(
      'PROTOCOL',
      `expected link frame ${type} of ${length} bytes, got ${t} of ${bytes.length}`,
    );
  return r;
}

/** The new device's side: HELLO, check REPLY, CONFIRM. Errors: DeviceError from the other end or LINK_AUTH_FAILED. */
export async function handshakeAsNew(
  channel: DeviceChannel,
  inbox: Inbox,
  code: LinkCode,
): Promise<SealedChannel> {
  const e = x25519.utils.randomSecretKey();
  const eN = x25519.getPublicKey(e);
  const offerId = linkOfferId(code);
  await sendOn(
    channel,
    new ByteWriter(74)
      .u8(HELLO)
      .u8(LINK_HANDSHAKE_VERSION)
      .bytes(code.identityKey)
      .bytes(offerId)
      .bytes(eN)
      .finish(),
  );
  const r = readClear(await inbox.next(), REPLY, 65);
  const eE = r.bytes(32, 'eE');
  const macE = r.bytes(32, 'macE');
  const th = transcriptOf(code.identityKey, code.expiresAt, offerId, eN, eE);
  const k = keysOf(e, eE, code.secret, th, 'other');
  if (!equalBytes(hmac(sha256, k.mE, th), macE)) {
    const err = new DeviceError(
      'LINK_AUTH_FAILED',
      'The other device does not hold this link code. Check that you scanned the code on your own device.',
    );
    await refuse(channel, err);
    throw err;
  }
  await sendOn(channel, concatBytes(Uint8Array.of(CONFIRM), hmac(sha256, k.mN, th)));
  wipe(k.mE, k.mN);
  return new SealedChannel(channel, inbox, k.kNE, k.kEN, th);
}

/** What the existing device learns from a HELLO before it answers. */
export interface Hello {
  readonly identityKey: Ed25519PublicKey;
  readonly offerId: Uint8Array;
  readonly eN: Uint8Array;
}

/** Reads the new device's HELLO. DecodeError/DeviceError PROTOCOL on a malformed one. */
export function readHello(bytes: Uint8Array): Hello {
  const r = readClear(bytes, HELLO, 74);
  const version = r.u8('link handshake version');
  if (version !== LINK_HANDSHAKE_VERSION)
    throw new DecodeError('UNKNOWN_VERSION', `link handshake version ${version} is not spoken here`);
  return {
    identityKey: r.bytes(32, 'identity key') as Ed25519PublicKey,
    offerId: r.bytes(8, 'offer id'),
    eN: r.bytes(32, 'eN'),
  };
}

/**
 * The existing device's side, after `readHello` and the offer lookup: REPLY, then check CONFIRM.
 * DeviceError LINK_AUTH_FAILED when the new device does not prove the secret.
 */
export async function handshakeAsExisting(
  channel: DeviceChannel,
  inbox: Inbox,
  code: LinkCode,
  hello: Hello,
): Promise<SealedChannel> {
  const e = x25519.utils.randomSecretKey();
  const eE = x25519.getPublicKey(e);
  const th = transcriptOf(code.identityKey, code.expiresAt, hello.offerId, hello.eN, eE);
  const k = keysOf(e, hello.eN, code.secret, th, 'new');
  await sendOn(channel, concatBytes(Uint8Array.of(REPLY), eE, hmac(sha256, k.mE, th)));
  const r = readClear(await inbox.next(), CONFIRM, 33);
  const ok = equalBytes(hmac(sha256, k.mN, th), r.bytes(32, 'macN'));
  wipe(k.mE, k.mN);
  if (!ok) throw new DeviceError('LINK_AUTH_FAILED', 'The new device does not hold this link code.');
  return new SealedChannel(channel, inbox, k.kEN, k.kNE, th);
}
