/** The X25519 function (RFC 7748 §5) as the key helpers need it, whichever code computes it. */
export interface X25519Backend {
  /** Which implementation this is, for figures and tests. */
  readonly name: 'native' | 'noble';
  /**
   * X25519(secret, peer). Throws on a low-order `peer` (all-zero output, RFC 7748 §6.1), as
   * both implementations do; the caller maps that to its own error.
   */
  shared(secret: Uint8Array, peer: Uint8Array): Uint8Array;
  /** X25519(secret, 9): the public key of `secret`. */
  publicKey(secret: Uint8Array): Uint8Array;
}
