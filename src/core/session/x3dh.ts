/**
 * The session start: X3DH (Signal, "The X3DH Key Agreement Protocol", rev. 1) extended to
 * PQXDH (Signal, "The PQXDH Key Agreement Protocol", rev. 3), started from a contact card
 * alone. The card's signed pre-key pair stands in for the prekey bundle (X3DH §3.2, PQXDH
 * §3.2): an X25519 signed pre-key SPK_B and an ML-KEM-768 pre-key PQSPK_B, PQXDH's
 * "last-resort" pqkem pre-key. A one-time X25519 pre-key OPK_B is used when one was handed
 * over with an invite (prekeys.ts); without one the start is signed-pre-key-only, as X3DH
 * §3.3 allows, so a first message can still be published while the recipient is offline.
 *
 *   DH1 = DH(IK_A, SPK_B)   DH2 = DH(EK_A, IK_B)   DH3 = DH(EK_A, SPK_B)        (X3DH §3.3)
 *   DH4 = DH(EK_A, OPK_B), only when a one-time pre-key is used                 (X3DH §3.3)
 *   (CT, SS) = ML-KEM-768.Encaps(PQSPK_B)                                       (PQXDH §3.3)
 *   SK ‖ HKA ‖ NHKB = HKDF(F ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4] ‖ SS), F = 32 × 0xFF, salt = 32 zero bytes
 *   AD = IK_A ‖ IK_B (the Ed25519 identity keys)
 *
 * With SS in the key material, an archive of the public chain stays closed to a future
 * quantum computer that breaks X25519 (PQXDH §4.7, passive quantum adversaries), as long as
 * ML-KEM holds; if ML-KEM fails, the X25519 part still holds (a hybrid). Authentication
 * stays classical (PQXDH §4.8). ML-KEM's shared secret already depends on the public key
 * (FIPS 203 K = G(m ‖ H(ek))), and it is IND-CCA, so neither key nor ciphertext needs to be
 * mixed in (the reasoning of X-Wing, draft-connolly-cfrg-xwing-kem, for ML-KEM-768).
 *
 * The extra 64 bytes of HKDF output are the two shared header keys the Double Ratchet with
 * header encryption starts from (DR §4.2, "shared_hka" and "shared_nhkb").
 * The classical form (no SS, info "p2pcomm/v1/x3dh") remains only as the benchmark's
 * reference; sessions always start with the hybrid.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { SessionError } from '../errors.ts';
import { concatBytes, utf8ToBytes, wipe } from '../../util/bytes.ts';
import {
  mlKemDecapsulate,
  mlKemEncapsulate,
  x25519Shared,
  type Ed25519PublicKey,
  type MlKemCiphertext,
  type MlKemPublicKey,
  type X25519KeyPair,
  type X25519PublicKey,
} from '../identity/keys.ts';
import type { Identity } from '../identity/identity.ts';

const F = new Uint8Array(32).fill(0xff);
const SALT = new Uint8Array(32);
const INFO_CLASSICAL = utf8ToBytes('p2pcomm/v1/x3dh');
const INFO_HYBRID = utf8ToBytes('p2pcomm/v2/pqxdh');

/** The secrets both sides derive from one run. */
export interface X3dhSecrets {
  readonly sk: Uint8Array;
  readonly hka: Uint8Array;
  readonly nhkb: Uint8Array;
  readonly ad: Uint8Array;
}

function kdf(dhs: Uint8Array[], ss: Uint8Array | null, ad: Uint8Array): X3dhSecrets {
  const ikm = concatBytes(F, ...dhs, ...(ss ? [ss] : []));
  const out = hkdf(sha256, ikm, SALT, ss ? INFO_HYBRID : INFO_CLASSICAL, 96);
  wipe(ikm, ...dhs, ...(ss ? [ss] : []));
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

/** The peer's card keys an initiator starts from. */
export interface PeerBundle {
  readonly identityKey: Ed25519PublicKey;
  readonly identityDh: X25519PublicKey;
  readonly preKey: X25519PublicKey;
  /** PQSPK_B; absent only in the classical benchmark reference. */
  readonly kemPreKey?: MlKemPublicKey;
  /** OPK_B, when the peer handed one over (invite link). */
  readonly oneTimePreKey?: X25519PublicKey;
}

/** Initiator side (Alice, X3DH §3.3 / PQXDH §3.3): also the KEM ciphertext CT to send. */
export function x3dhInitiate(
  own: Identity,
  ephemeral: X25519KeyPair,
  peer: PeerBundle,
): X3dhSecrets & { readonly kemCiphertext: MlKemCiphertext | null } {
  const dh1 = dh(() => own.agree(peer.preKey));
  const dh2 = dh(() => x25519Shared(ephemeral.secretKey, peer.identityDh));
  const dh3 = dh(() => x25519Shared(ephemeral.secretKey, peer.preKey));
  const opk = peer.oneTimePreKey;
  const dh4 = opk ? [dh(() => x25519Shared(ephemeral.secretKey, opk))] : [];
  const kem = peer.kemPreKey ? mlKemEncapsulate(peer.kemPreKey) : null;
  const s = kdf(
    [dh1, dh2, dh3, ...dh4],
    kem?.sharedSecret ?? null,
    concatBytes(own.publicKey, peer.identityKey),
  );
  return { ...s, kemCiphertext: kem?.cipherText ?? null };
}

/**
 * Responder side (Bob, X3DH §3.4 / PQXDH §3.4): our pre-key pair, the initiator's keys and
 * CT, and our one-time pre-key when the first message names one.
 */
export function x3dhRespond(
  own: Identity,
  preKey: X25519KeyPair,
  peerIdentityKey: Ed25519PublicKey,
  peerIdentityDh: X25519PublicKey,
  peerEphemeral: X25519PublicKey,
  kem?: { readonly ciphertext: MlKemCiphertext; readonly secretKey: Uint8Array },
  oneTimeKey?: X25519KeyPair,
): X3dhSecrets {
  const dh1 = dh(() => x25519Shared(preKey.secretKey, peerIdentityDh));
  const dh2 = dh(() => own.agree(peerEphemeral));
  const dh3 = dh(() => x25519Shared(preKey.secretKey, peerEphemeral));
  const dh4 = oneTimeKey ? [dh(() => x25519Shared(oneTimeKey.secretKey, peerEphemeral))] : [];
  const ss = kem ? mlKemDecapsulate(kem.ciphertext, kem.secretKey) : null;
  return kdf([dh1, dh2, dh3, ...dh4], ss, concatBytes(peerIdentityKey, own.publicKey));
}
