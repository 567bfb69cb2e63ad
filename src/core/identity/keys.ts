/**
 * Key types of the messaging core. Distinct brands keep an Ed25519 key from being passed
 * where an X25519 key or a peer ID belongs (STYLE §4, after libsignal's key classes).
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { x25519Backend } from './x25519-backend.ts';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { assertBytes } from '../../util/errors.ts';

/** 32-byte Ed25519 public key (RFC 8032 §5.1.5). */
export type Ed25519PublicKey = Uint8Array & { readonly __brand: 'Ed25519PublicKey' };
/** 32-byte X25519 public key, a Montgomery u-coordinate (RFC 7748 §5). */
export type X25519PublicKey = Uint8Array & { readonly __brand: 'X25519PublicKey' };
/** 32-byte X25519 secret key (clamped by the curve function, RFC 7748 §5). */
export type X25519SecretKey = Uint8Array & { readonly __brand: 'X25519SecretKey' };

/** 1,184-byte ML-KEM-768 encapsulation key (FIPS 203 §7, Table 3). */
export type MlKemPublicKey = Uint8Array & { readonly __brand: 'MlKemPublicKey' };
/** 1,088-byte ML-KEM-768 ciphertext (FIPS 203 Table 3). */
export type MlKemCiphertext = Uint8Array & { readonly __brand: 'MlKemCiphertext' };

/** ML-KEM-768 sizes in bytes: public key, ciphertext, key generation seed (d ‖ z). */
export const ML_KEM = { publicKey: 1184, ciphertext: 1088, seed: 64 } as const;

/** The public half of a signed pre-key pair, as a contact card announces it. */
export interface PublicPreKey {
  readonly id: number;
  /** X3DH SPK. */
  readonly publicKey: X25519PublicKey;
  /** PQXDH PQSPK (last-resort ML-KEM-768 pre-key). */
  readonly kemPublicKey: MlKemPublicKey;
}

/** An X25519 key pair, e.g. a signed pre-key or a ratchet key. */
export interface X25519KeyPair {
  readonly publicKey: X25519PublicKey;
  readonly secretKey: X25519SecretKey;
}

/** Brands 32 bytes as an Ed25519 public key after a length check. */
export function asEd25519PublicKey(bytes: Uint8Array, name = 'publicKey'): Ed25519PublicKey {
  assertBytes(name, bytes, 32);
  return bytes as Ed25519PublicKey;
}

/** Brands 32 bytes as an X25519 public key after a length check. */
export function asX25519PublicKey(bytes: Uint8Array, name = 'publicKey'): X25519PublicKey {
  assertBytes(name, bytes, 32);
  return bytes as X25519PublicKey;
}

/** Brands 1,184 bytes as an ML-KEM-768 public key after a length check. */
export function asMlKemPublicKey(bytes: Uint8Array, name = 'kemPublicKey'): MlKemPublicKey {
  assertBytes(name, bytes, ML_KEM.publicKey);
  return bytes as MlKemPublicKey;
}

/** Brands 1,088 bytes as an ML-KEM-768 ciphertext after a length check. */
export function asMlKemCiphertext(bytes: Uint8Array, name = 'kemCiphertext'): MlKemCiphertext {
  assertBytes(name, bytes, ML_KEM.ciphertext);
  return bytes as MlKemCiphertext;
}

/**
 * An ML-KEM-768 key pair from its 64-byte seed (FIPS 203 ML-KEM.KeyGen_internal(d, z)), so
 * storage keeps 64 bytes instead of the 2,400-byte expanded secret key.
 */
export function mlKemKeyPair(seed: Uint8Array): { publicKey: MlKemPublicKey; secretKey: Uint8Array } {
  assertBytes('seed', seed, ML_KEM.seed);
  const k = ml_kem768.keygen(seed);
  return { publicKey: k.publicKey as MlKemPublicKey, secretKey: k.secretKey };
}

/** FIPS 203 ML-KEM.Encaps: a fresh shared secret for `publicKey` and its ciphertext. */
export function mlKemEncapsulate(publicKey: MlKemPublicKey): {
  cipherText: MlKemCiphertext;
  sharedSecret: Uint8Array;
} {
  const r = ml_kem768.encapsulate(publicKey);
  return { cipherText: r.cipherText as MlKemCiphertext, sharedSecret: r.sharedSecret };
}

/**
 * FIPS 203 ML-KEM.Decaps. A wrong ciphertext does not throw: implicit rejection (FIPS 203
 * §6.3) yields an unrelated secret, and the message authenticated under it fails instead.
 */
export function mlKemDecapsulate(cipherText: MlKemCiphertext, secretKey: Uint8Array): Uint8Array {
  return ml_kem768.decapsulate(cipherText, secretKey);
}

/** X25519 key pair from 32 secret bytes (any 32 bytes are a valid secret, RFC 7748 §5). */
export function x25519KeyPair(secret: Uint8Array): X25519KeyPair {
  assertBytes('secret', secret, 32);
  return {
    secretKey: secret as X25519SecretKey,
    publicKey: x25519Backend.publicKey(secret) as X25519PublicKey,
  };
}

/** A fresh random X25519 key pair (ephemeral and ratchet keys). */
export function randomX25519KeyPair(): X25519KeyPair {
  return x25519KeyPair(x25519.utils.randomSecretKey());
}

/**
 * X25519 shared secret, by the runtime's own function where it has one (x25519-backend.ts).
 * Both implementations reject the all-zero output of low-order points, which RFC 7748 §6.1
 * allows implementations to check; the caller maps that to its own error.
 */
export function x25519Shared(secret: X25519SecretKey, peer: X25519PublicKey): Uint8Array {
  return x25519Backend.shared(secret, peer);
}

/**
 * The X25519 form of an Ed25519 identity key (the birational map of RFC 7748 §4.1).
 * One identity key both signs and agrees, as in Signal's X3DH §2.3 (XEdDSA); using one
 * key pair for Ed25519 and X25519 is analysed as safe by Thormarker (2021).
 */
export function ed25519ToX25519(publicKey: Ed25519PublicKey): X25519PublicKey {
  return ed25519.utils.toMontgomery(publicKey) as X25519PublicKey;
}

/** Ed25519 signature check (RFC 8032 §5.1.7); false on any bad input, never throws. */
export function verifyEd25519(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Ed25519PublicKey,
): boolean {
  try {
    // zip215: false = the strict RFC 8032 rules, so every implementation agrees on validity.
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
