/**
 * The keyed hash functions Kaspa uses for ids, signature hashes and payload digests
 * (FACTS §3.2). Each domain is a distinct keyed hasher so that a digest made for one purpose
 * can never be replayed as another.
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { blake3 } from '@noble/hashes/blake3.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '../util/bytes.ts';

/** BLAKE2b-256 keyed with the ASCII domain string as is (BLAKE2b pads the key internally). */
function blake2bDomain(domain: string): (data: Uint8Array) => Uint8Array {
  const key = utf8ToBytes(domain);
  return (data) => blake2b(data, { dkLen: 32, key });
}

/** BLAKE3 keyed with the ASCII domain string right-padded with zeros to 32 bytes. */
function blake3Domain(domain: string): (data: Uint8Array) => Uint8Array {
  const key = new Uint8Array(32);
  key.set(utf8ToBytes(domain));
  return (data) => blake3(data, { key });
}

/** BLAKE2b keyed "TransactionHash": the block-merkle hash of the full encoding (FACTS §3.4). */
export const transactionHashDigest = blake2bDomain('TransactionHash');
/** BLAKE2b keyed "TransactionID": the v0 transaction id (FACTS §3.4). */
export const transactionIdDigest = blake2bDomain('TransactionID');
/** BLAKE2b keyed "TransactionSigningHash": every sighash sub-hash and the digest (FACTS §3.5). */
export const transactionSigningDigest = blake2bDomain('TransactionSigningHash');
/** BLAKE3 keyed "PayloadDigest": the v1 payload commitment (FACTS §3.4). */
export const payloadDigest = blake3Domain('PayloadDigest');
/** BLAKE3 keyed "TransactionRest": the v1 commitment to everything but the payload (FACTS §3.4). */
export const transactionRestDigest = blake3Domain('TransactionRest');
/** BLAKE3 keyed "TransactionV1Id": the v1 id over payload and rest digests (FACTS §3.4). */
export const transactionV1IdDigest = blake3Domain('TransactionV1Id');

const ECDSA_DOMAIN = sha256(utf8ToBytes('TransactionSigningHashECDSA'));

/** SHA-256 of the 32-byte ECDSA domain hash followed by the Schnorr sighash (FACTS §2.2). */
export function ecdsaSigningDigest(schnorrSighash: Uint8Array): Uint8Array {
  return sha256.create().update(ECDSA_DOMAIN).update(schnorrSighash).digest();
}
