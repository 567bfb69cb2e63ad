/**
 * Signaling for the device link on chain (docs/devices.md §5.2): no server carries the WebRTC
 * offer and answer, a Kaspa payload does, as for links between contacts (NOTES §4). Both come
 * from the link secret alone, which only the two devices hold:
 *
 *   link address key = (HKDF-SHA256(secret, salt = identityKey, info "p2pcomm/v1/device-link/address", 48 B)
 *                       mod (n − 1)) + 1                      (secp256k1, the FIPS 186-4 B.4.1 reduction)
 *   link address     = Schnorr P2PK address of that key's x-only public key (FACTS §1.2, §1.4, §2.1)
 *   signal key       = HKDF-SHA256(secret, salt = identityKey, info "p2pcomm/v1/device-link/signal", 32 B)
 *   sealed signal    = u8 version=1 | u8 role (1 offer, 2 answer) | nonce[24]
 *                      | XChaCha20-Poly1305(signal key, nonce, aad = "p2pcomm/v1/device-link/signal"
 *                                          ‖ offerId ‖ version ‖ role)(u16le n | signal[n] | 0… to a multiple of 512)
 *
 * The existing device, which has funds, pays a coin to the link address with the sealed offer
 * as payload; the new device, which has none yet, finds it by address, and spends it back with
 * the sealed answer (it holds the address key, derived from the secret). The role is sealed in,
 * so an offer cannot be reflected as an answer; the padding keeps the SDP's size from telling
 * an observer much; the address is fresh per code, so it links nothing to the person's wallet
 * except the paying transaction, which is E's own.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { Address, AddressVersion, type NetworkPrefix } from '../../kaspa/address.ts';
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { DecodeError } from '../../util/errors.ts';
import { bytesToHex, concatBytes, hexToBytes, randomBytes, utf8ToBytes } from '../../util/bytes.ts';
import { DeviceError } from './errors.ts';
import { linkOfferId, type LinkCode } from './link-code.ts';

/** Sealed signal format version. */
export const LINK_SIGNAL_VERSION = 1;
/** Largest signal (an SDP with its candidates) sealed. */
export const MAX_LINK_SIGNAL_BYTES = 8 * 1024;
/** Signals are padded to a multiple of this many bytes. */
export const LINK_SIGNAL_PAD = 512;
const MAX_SEALED = 2 + 24 + Math.ceil((2 + MAX_LINK_SIGNAL_BYTES) / LINK_SIGNAL_PAD) * LINK_SIGNAL_PAD + 16;
const ADDRESS_INFO = utf8ToBytes('p2pcomm/v1/device-link/address');
const SIGNAL_INFO = utf8ToBytes('p2pcomm/v1/device-link/signal');

/** Who sends a signal: the existing device offers, the new device answers. */
export type LinkSignalRole = 'offer' | 'answer';
const ROLES: readonly LinkSignalRole[] = ['offer', 'answer'];

/** The secp256k1 key of the code's link address (both devices derive the same). */
export function linkAddressKey(code: LinkCode): {
  readonly secretKey: Uint8Array;
  readonly xOnly: Uint8Array;
} {
  const n = secp256k1.Point.Fn.ORDER;
  const wide = BigInt(`0x${bytesToHex(hkdf(sha256, code.secret, code.identityKey, ADDRESS_INFO, 48))}`);
  const secretKey = hexToBytes(((wide % (n - 1n)) + 1n).toString(16).padStart(64, '0'));
  return { secretKey, xOnly: schnorr.getPublicKey(secretKey) };
}

/** The code's link address on `prefix` (a Schnorr P2PK address). */
export function linkAddress(code: LinkCode, prefix: NetworkPrefix): Address {
  return new Address(prefix, AddressVersion.PubKey, linkAddressKey(code).xOnly);
}

function signalKey(code: LinkCode): Uint8Array {
  return hkdf(sha256, code.secret, code.identityKey, SIGNAL_INFO, 32);
}

function aad(code: LinkCode, role: number): Uint8Array {
  return concatBytes(SIGNAL_INFO, linkOfferId(code), Uint8Array.of(LINK_SIGNAL_VERSION, role));
}

/** Seals `signal` (at most `MAX_LINK_SIGNAL_BYTES`) for the payload of the link transaction. */
export function sealLinkSignal(code: LinkCode, role: LinkSignalRole, signal: Uint8Array): Uint8Array {
  if (!(signal instanceof Uint8Array)) throw new TypeError('"signal" expected Uint8Array');
  if (signal.length > MAX_LINK_SIGNAL_BYTES)
    throw new RangeError(`"signal" is ${signal.length} bytes, at most ${MAX_LINK_SIGNAL_BYTES}`);
  const r = ROLES.indexOf(role) + 1;
  if (r === 0) throw new RangeError(`"role" unknown: ${String(role)}`);
  const padded = new Uint8Array(Math.ceil((2 + signal.length) / LINK_SIGNAL_PAD) * LINK_SIGNAL_PAD);
  new DataView(padded.buffer).setUint16(0, signal.length, true);
  padded.set(signal, 2);
  const nonce = randomBytes(24);
  const sealed = xchacha20poly1305(signalKey(code), nonce, aad(code, r)).encrypt(padded);
  return new ByteWriter(sealed.length + 26).u8(LINK_SIGNAL_VERSION).u8(r).bytes(nonce).bytes(sealed).finish();
}

/**
 * Opens a sealed signal of the `expected` role. DecodeError on what is no sealed signal (another
 * version, too short or too long); DeviceError PROTOCOL for the other role (a reflected offer),
 * LINK_AUTH_FAILED when it does not open under this code (another code, altered).
 */
export function openLinkSignal(code: LinkCode, expected: LinkSignalRole, bytes: Uint8Array): Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('"bytes" expected Uint8Array');
  if (bytes.length > MAX_SEALED) throw new DecodeError('TOO_LARGE', `a link signal of ${bytes.length} bytes`);
  const rd = new ByteReader(bytes);
  const version = rd.u8('link signal version');
  if (version !== LINK_SIGNAL_VERSION)
    throw new DecodeError('UNKNOWN_VERSION', `link signal version ${version} is not read by this client`);
  const role = ROLES[rd.u8('link signal role') - 1];
  if (role === undefined) throw new DecodeError('MALFORMED', 'unknown link signal role');
  if (role !== expected)
    throw new DeviceError('PROTOCOL', `a link ${role} where an ${expected} was expected`);
  const nonce = rd.bytes(24, 'link signal nonce');
  const sealed = rd.rest();
  if (sealed.length < 16 + LINK_SIGNAL_PAD || (sealed.length - 16) % LINK_SIGNAL_PAD !== 0)
    throw new DecodeError('MALFORMED', 'a link signal of another length than its padding allows');
  let padded: Uint8Array;
  try {
    padded = xchacha20poly1305(signalKey(code), nonce, aad(code, ROLES.indexOf(role) + 1)).decrypt(sealed);
  } catch (e) {
    throw new DeviceError('LINK_AUTH_FAILED', 'This link signal was not made with this link code.', {
      cause: e,
    });
  }
  const n = new DataView(padded.buffer, padded.byteOffset).getUint16(0, true);
  if (n > MAX_LINK_SIGNAL_BYTES || 2 + n > padded.length || padded.subarray(2 + n).some((b) => b !== 0))
    throw new DecodeError('MALFORMED', 'a link signal with a bad length or padding');
  return padded.slice(2, 2 + n);
}
