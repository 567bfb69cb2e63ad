/**
 * The identity of one user: a random 256-bit seed and everything derived from it.
 *
 *   seed ──HKDF-SHA256 "p2pcomm/v1/identity/ed25519"──────────> Ed25519 identity key
 *        ──BIP39 entropy → 24 words → PBKDF2 seed (FACTS §2.3)──> Kaspa HD wallet
 *
 * Signed pre-keys are not derived: they are random and live in the encrypted session state
 * (session/prekeys.ts), so that the seed alone cannot open first messages sent to pre-keys
 * that have been deleted (X3DH §4.6 key compromise, PQXDH §4.6).
 *
 * The seed is never derived from a password (NOTES §5); the password only locks the vault.
 * HKDF (RFC 5869) with distinct `info` labels keeps each derived key independent of the
 * others, so publishing one public key reveals nothing about another.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { entropyToMnemonic, mnemonicToSeedSync } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { assertBytes } from '../../util/errors.ts';
import { randomBytes, utf8ToBytes } from '../../util/bytes.ts';
import {
  ed25519ToX25519,
  x25519Shared,
  type Ed25519PublicKey,
  type X25519PublicKey,
  type X25519SecretKey,
} from './keys.ts';
import { peerIdFromPublicKey, type PeerId } from './peer-id.ts';

/** Length of the identity seed in bytes (256 bits). */
export const SEED_BYTES = 32;

const SALT = utf8ToBytes('p2pcomm/v1/identity');
const LABEL_ED25519 = utf8ToBytes('p2pcomm/v1/identity/ed25519');

function derive(seed: Uint8Array, info: Uint8Array): Uint8Array {
  return hkdf(sha256, seed, SALT, info, 32);
}

/** One user's long-term keys. Holds secrets: keep it in memory only, persist the vault. */
export class Identity {
  readonly #seed: Uint8Array;
  readonly #signingSecret: Uint8Array;
  readonly #dhSecret: X25519SecretKey;
  /** Ed25519 identity public key (RFC 8032). */
  readonly publicKey: Ed25519PublicKey;
  /** X25519 form of the identity key, used in X3DH (Signal X3DH §2.3). */
  readonly dhPublicKey: X25519PublicKey;
  /** BLAKE3 of `publicKey`. */
  readonly peerId: PeerId;

  private constructor(seed: Uint8Array) {
    this.#seed = seed.slice();
    this.#signingSecret = derive(seed, LABEL_ED25519);
    this.publicKey = ed25519.getPublicKey(this.#signingSecret) as Ed25519PublicKey;
    this.#dhSecret = ed25519.utils.toMontgomerySecret(this.#signingSecret) as X25519SecretKey;
    this.dhPublicKey = ed25519ToX25519(this.publicKey);
    this.peerId = peerIdFromPublicKey(this.publicKey);
  }

  /** A new identity from 32 fresh random bytes. */
  static generate(): Identity {
    return new Identity(randomBytes(SEED_BYTES));
  }

  /** The identity of a known seed (vault unlock, recovery key import). */
  static fromSeed(seed: Uint8Array): Identity {
    assertBytes('seed', seed, SEED_BYTES);
    return new Identity(seed);
  }

  /** A copy of the seed, for the vault and the recovery key only. */
  exportSeed(): Uint8Array {
    return this.#seed.slice();
  }

  /** Ed25519 signature (RFC 8032 §5.1.6) over `message`; callers prefix a domain label. */
  sign(message: Uint8Array): Uint8Array {
    return ed25519.sign(message, this.#signingSecret);
  }

  /** X25519 agreement between the identity key and `peer` (X3DH DH1/DH2). */
  agree(peer: X25519PublicKey): Uint8Array {
    return x25519Shared(this.#dhSecret, peer);
  }

  /**
   * The 64-byte BIP39 seed of the Kaspa wallet: the identity seed is the BIP39 entropy,
   * so the first 24 words of the recovery key restore the wallet in any Kaspa wallet
   * (FACTS §2.3: PBKDF2-HMAC-SHA512, 2048 rounds, empty passphrase).
   */
  walletSeed(): Uint8Array {
    return mnemonicToSeedSync(entropyToMnemonic(this.#seed, wordlist), '');
  }
}
