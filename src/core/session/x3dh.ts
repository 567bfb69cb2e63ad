/**
 * X3DH key agreement (Signal, "The X3DH Key Agreement Protocol", rev. 1) started from a
 * contact card alone: the card's signed pre-key stands in for the prekey bundle (§3.2)
 * and no one-time pre-key is used (§3.3 allows its absence), so a first message can be
 * published on chain while the recipient is offline.
 *
 *   DH1 = DH(IK_A, SPK_B)   DH2 = DH(EK_A, IK_B)   DH3 = DH(EK_A, SPK_B)          (§3.3)
 *   SK ‖ HKA ‖ NHKB = HKDF(F ‖ DH1 ‖ DH2 ‖ DH3), F = 32 × 0xFF, salt = 32 zero bytes  (§2.2)
 *   AD = IK_A ‖ IK_B (the Ed25519 identity keys)                                     (§3.3)
 *
 * The extra 64 bytes of HKDF output are the two shared header keys the Double Ratchet
 * with header encryption starts from (DR §4.2, "shared_hka" and "shared_nhkb").
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { SessionError } from '../errors.ts';
import { concatBytes, utf8ToBytes, wipe } from '../../util/bytes.ts';
import {
  x25519Shared,
  type Ed25519PublicKey,
  type X25519KeyPair,
  type X25519PublicKey,
} from '../identity/keys.ts';
import type { Identity } from '../identity/identity.ts';

const F = new Uint8Array(32).fill(0xff);
const SALT = new Uint8Array(32);
const INFO = utf8ToBytes('p2pcomm/v1/x3dh');

/** The secrets both sides derive from one X3DH run. */
export interface X3dhSecrets {
  readonly sk: Uint8Array;
  readonly hka: Uint8Array;
  readonly nhkb: Uint8Array;
  readonly ad: Uint8Array;
}

function kdf(dh1: Uint8Array, dh2: Uint8Array, dh3: Uint8Array, ad: Uint8Array): X3dhSecrets {
  const ikm = concatBytes(F, dh1, dh2, dh3);
  const out = hkdf(sha256, ikm, SALT, INFO, 96);
  wipe(ikm, dh1, dh2, dh3);
  return { sk: out.slice(0, 32), hka: out.slice(32, 64), nhkb: out.slice(64, 96), ad };
}

function dh(f: () => Uint8Array): Uint8Array {
  try {
    return f();
  } catch (e) {
    // noble refuses an all-zero result (low-order point, RFC 7748 §6.1): the card or the
    // first message carries a key no honest client makes.
    throw new SessionError('DECRYPT_FAILED', 'X3DH with an invalid public key', { cause: e });
  }
}

/** Initiator side (Alice, §3.3): our identity, our ephemeral key, the peer's card keys. */
export function x3dhInitiate(
  own: Identity,
  ephemeral: X25519KeyPair,
  peerIdentityKey: Ed25519PublicKey,
  peerIdentityDh: X25519PublicKey,
  peerPreKey: X25519PublicKey,
): X3dhSecrets {
  const dh1 = dh(() => own.agree(peerPreKey));
  const dh2 = dh(() => x25519Shared(ephemeral.secretKey, peerIdentityDh));
  const dh3 = dh(() => x25519Shared(ephemeral.secretKey, peerPreKey));
  return kdf(dh1, dh2, dh3, concatBytes(own.publicKey, peerIdentityKey));
}

/** Responder side (Bob, §3.4): our identity and signed pre-key, the initiator's keys. */
export function x3dhRespond(
  own: Identity,
  preKey: X25519KeyPair,
  peerIdentityKey: Ed25519PublicKey,
  peerIdentityDh: X25519PublicKey,
  peerEphemeral: X25519PublicKey,
): X3dhSecrets {
  const dh1 = dh(() => x25519Shared(preKey.secretKey, peerIdentityDh));
  const dh2 = dh(() => own.agree(peerEphemeral));
  const dh3 = dh(() => x25519Shared(preKey.secretKey, peerEphemeral));
  return kdf(dh1, dh2, dh3, concatBytes(peerIdentityKey, own.publicKey));
}
