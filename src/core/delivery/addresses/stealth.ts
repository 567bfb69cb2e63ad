/**
 * Per-message notification addresses both sides of a conversation derive (chain format 2,
 * docs/protocol.md "Chain transactions and addresses"). A stealth construction on secp256k1
 * in the manner of BIP-352's tweaked outputs:
 *
 *   secret   = HKDF-SHA256(ikm = X25519(identity A, identity B), salt = "p2pComm chain v2",
 *                          info = min(dhA, dhB) ‖ max(dhA, dhB))                (RFC 5869)
 *   t_k      = HKDF-SHA256(ikm = secret, info = "notify" ‖ recipient dh key ‖ k as u32 BE
 *                          [‖ sender device key, from a device that is not the first]),
 *              48 bytes reduced mod n (FIPS 186-5 A.2.1: the bias is below 2^-128), never 0
 *   P_k      = lift_x(base) + t_k·G    (base: the x-only key of the recipient's card address)
 *   address  = P2PK Schnorr address of x(P_k)                                (FACTS §2.1)
 *   spend    = (d + t_k) mod n with d the base private key negated when d·G has odd y
 *              (BIP-340 lift_x picks the even-y point; signing then handles P_k's parity).
 *
 * Only the two parties can compute the shared secret, so only they can link P_k to the
 * conversation; only the recipient knows d, so only it can spend.
 */
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '../../../util/bytes.ts';
import { P2pCommError } from '../../../util/errors.ts';

/** Why a stealth key could not be derived. */
export class StealthError extends P2pCommError<'BAD_KEY'> {}

const Point = secp256k1.Point;
const N = Point.Fn.ORDER;
const SALT = utf8ToBytes('p2pComm chain v2');
const NOTIFY = utf8ToBytes('notify');

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function toBig(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${bytesToHex(b)}`);
}

function toBytes32(x: bigint): Uint8Array {
  return hexToBytes(x.toString(16).padStart(64, '0'));
}

/**
 * The conversation secret of two identities from their X25519 agreement (the same on both
 * sides: the info orders the two public keys).
 */
export function conversationSecret(agreement: Uint8Array, dhA: Uint8Array, dhB: Uint8Array): Uint8Array {
  const [lo, hi] = compare(dhA, dhB) <= 0 ? [dhA, dhB] : [dhB, dhA];
  return hkdf(sha256, agreement, SALT, concatBytes(lo, hi), 32);
}

/**
 * The tweak of the k-th notification to the holder of `recipientDh`. `senderDevice`: the
 * sending device's key when it is not its person's first device; each such device counts k
 * on its own, so its key in the info keeps its sequence apart from its siblings'
 * (docs/protocol.md "Chain transactions and addresses", version 3).
 */
export function notificationTweak(
  secret: Uint8Array,
  recipientDh: Uint8Array,
  k: number,
  senderDevice?: Uint8Array,
): bigint {
  if (!Number.isInteger(k) || k < 0 || k > 0xffffffff) throw new RangeError(`index ${k} out of range`);
  if (senderDevice !== undefined && senderDevice.length !== 32)
    throw new RangeError('"senderDevice" expected a 32-byte device key');
  const index = new Uint8Array(4);
  new DataView(index.buffer).setUint32(0, k);
  const info = concatBytes(NOTIFY, recipientDh, index, senderDevice ?? new Uint8Array(0));
  const t = toBig(hkdf(sha256, secret, undefined, info, 48)) % N;
  // Zero has probability 2^-256; mapped to 1 so the derived point is never the base itself.
  return t === 0n ? 1n : t;
}

/** x-only key of lift_x(base) + t·G (BIP-340 `lift_x`). Throws StealthError for a key off the curve. */
export function tweakPublicKey(baseXOnly: Uint8Array, t: bigint): Uint8Array {
  let base;
  try {
    base = schnorr.utils.lift_x(toBig(baseXOnly));
  } catch (cause) {
    throw new StealthError('BAD_KEY', 'the base key is not an x-only secp256k1 key', { cause });
  }
  const p = base.add(Point.BASE.multiply(t));
  if (p.equals(Point.ZERO)) throw new StealthError('BAD_KEY', 'the tweak cancels the base key');
  return p.toBytes(true).slice(1);
}

/** The private key that spends from `tweakPublicKey(x(d·G), t)`. */
export function tweakPrivateKey(d: Uint8Array, t: bigint): Uint8Array {
  let x = toBig(d);
  if (x <= 0n || x >= N) throw new StealthError('BAD_KEY', 'the private key is out of range');
  const odd = (Point.BASE.multiply(x).toBytes(true)[0]! & 1) === 1;
  if (odd) x = N - x;
  const out = (x + t) % N;
  if (out === 0n) throw new StealthError('BAD_KEY', 'the tweak cancels the private key');
  return toBytes32(out);
}
