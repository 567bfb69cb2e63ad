/**
 * The key derivation functions of the Double Ratchet (Signal "The Double Ratchet Algorithm"
 * §5.2 recommended choices, with XChaCha20-Poly1305 in place of AES-CBC + HMAC) and the
 * per-message tag that lets a recipient find its messages without trial decryption.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '../../util/bytes.ts';

const INFO_RK = utf8ToBytes('p2pcomm/v1/ratchet/root');
const INFO_MSG = utf8ToBytes('p2pcomm/v1/ratchet/message');
const CK_MESSAGE = Uint8Array.of(0x01);
const CK_CHAIN = Uint8Array.of(0x02);

/** Bytes of the per-message tag that starts every frame. */
export const TAG_BYTES = 8;

/**
 * KDF_RK_HE (DR spec §4.2, §5.2): HKDF-SHA256 with the root key as salt and the DH output
 * as input key material; 96 bytes split into root key, chain key and next header key.
 */
export function kdfRoot(
  rk: Uint8Array,
  dhOut: Uint8Array,
): { rk: Uint8Array; ck: Uint8Array; nhk: Uint8Array } {
  const out = hkdf(sha256, dhOut, rk, INFO_RK, 96);
  return { rk: out.slice(0, 32), ck: out.slice(32, 64), nhk: out.slice(64, 96) };
}

/** KDF_CK (DR spec §5.2): HMAC-SHA256 of constant 0x01 gives the message key, 0x02 the next chain key. */
export function kdfChain(ck: Uint8Array): { ck: Uint8Array; mk: Uint8Array } {
  return { mk: hmac(sha256, ck, CK_MESSAGE), ck: hmac(sha256, ck, CK_CHAIN) };
}

/**
 * AEAD key and nonce of one message key. A message key encrypts exactly one message
 * (DR spec §5.2 notes a fixed nonce is then safe); deriving the nonce costs nothing.
 */
export function messageCipherKeys(mk: Uint8Array): { key: Uint8Array; nonce: Uint8Array } {
  const out = hkdf(sha256, mk, undefined, INFO_MSG, 56);
  return { key: out.slice(0, 32), nonce: out.slice(32, 56) };
}

/**
 * Tag and header nonce of message `n` under header key `hk`: HMAC-SHA256(hk, u32be(n)),
 * the first 8 bytes as tag, the next 24 as the XChaCha20 nonce of the encrypted header.
 * Both are pseudorandom to anyone without `hk`, so tags link nothing (NOTES §6), while the
 * recipient, who holds `hk`, precomputes the tags of the next messages and finds its own
 * entries in a batch by table lookup. The header of message (hk, n) is fixed by the state,
 * so a deterministic nonce never encrypts two different headers.
 */
export function headerTag(hk: Uint8Array, n: number): { tag: Uint8Array; nonce: Uint8Array } {
  return headerTagger(hk)(n);
}

/**
 * `headerTag` for many numbers under one header key: the key's HMAC state (RFC 2104 inner and
 * outer pads, one SHA-256 block each) is made once and cloned per number, so each tag costs the
 * two compressions of its own message instead of four.
 */
export function headerTagger(hk: Uint8Array): (n: number) => { tag: Uint8Array; nonce: Uint8Array } {
  const keyed = hmac.create(sha256, hk);
  const b = new Uint8Array(4);
  const view = new DataView(b.buffer);
  return (n) => {
    view.setUint32(0, n, false);
    const out = keyed.clone().update(b).digest();
    return { tag: out.slice(0, TAG_BYTES), nonce: out.slice(TAG_BYTES, TAG_BYTES + 24) };
  };
}
