/**
 * Safety numbers: what two people compare, in person or over a channel they trust, to be
 * sure that no one sits between them (docs/protocol.md "Safety number").
 *
 * After Signal's numeric fingerprint (libsignal `NumericFingerprintGenerator`, version 0):
 * each side's identity key and peer ID go through an iterated SHA-512, 5200 rounds; the
 * first 30 bytes of the result give that side's 30 digits, and the two halves, the smaller
 * first, make one 60-digit number that both devices show identically. A scannable code
 * carries the first 32 bytes of both halves, so one device can confirm the other's in a
 * single scan.
 *
 * Security (docs/protocol.md): an attacker who wants to pass as one side must find an
 * identity key whose 30 digits equal that side's. 10^30 ≈ 2^99.7 values, each candidate
 * costing 5201 SHA-512 evaluations (≈ 2^12.3): about 2^112 hash evaluations for a second
 * preimage on one side, the figure libsignal documents for 5200 rounds.
 *
 * Only identity keys enter: signed pre-keys rotate and must not change the number.
 */
import { sha512 } from '@noble/hashes/sha2.js';
import { base64urlnopad } from '@scure/base';
import { P2pCommError } from '../../util/errors.ts';
import { assertBytes } from '../../util/errors.ts';
import { concatBytes, equalBytes, utf8ToBytes } from '../../util/bytes.ts';
import type { Ed25519PublicKey } from '../identity/keys.ts';
import { peerIdFromPublicKey, type PeerId } from '../identity/peer-id.ts';

/** Format version of the number and of the scannable code. */
export const SAFETY_NUMBER_VERSION = 1;
/** SHA-512 rounds per half (libsignal's figure for > 112 bits). */
export const SAFETY_NUMBER_ITERATIONS = 5200;
/** Text prefix of the scannable code (what the QR code holds). */
export const SAFETY_CODE_PREFIX = 'p2pcomm-verify:';

const DOMAIN = utf8ToBytes('p2pcomm/v1/safety-number');
const HALF_DIGITS = 30;
const CHUNK_BYTES = 5;
const CODE_HALF_BYTES = 32;
const CODE_BYTES = 1 + 2 * CODE_HALF_BYTES;

/**
 * - BAD_CODE: neither 60 digits nor a scannable safety code.
 * - UNSUPPORTED_VERSION: a scannable code of a version this code does not know.
 */
export class SafetyNumberError extends P2pCommError<'BAD_CODE' | 'UNSUPPORTED_VERSION'> {}

/** One side of a conversation: its identity key (the peer ID is derived from it). */
export interface SafetyParty {
  readonly identityKey: Ed25519PublicKey;
}

/** The outcome of comparing what the other device shows (scanned or typed) with ours. */
export type SafetyCheck = 'match' | 'mismatch';

interface Half {
  readonly digits: string;
  readonly code: Uint8Array;
}

/** The iterated hash of one side (version, identity key, peer ID) and its 30 digits. */
function half(identityKey: Ed25519PublicKey, peerId: PeerId): Half {
  let h = sha512(concatBytes(DOMAIN, Uint8Array.of(SAFETY_NUMBER_VERSION), identityKey, peerId));
  for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) h = sha512(concatBytes(h, identityKey));
  let digits = '';
  for (let i = 0; i < HALF_DIGITS / 5; i++) {
    // 5 bytes as a 40-bit big-endian integer, reduced mod 10^5 (bias below 10^-6).
    let v = 0;
    for (let j = 0; j < CHUNK_BYTES; j++) v = v * 256 + h[i * CHUNK_BYTES + j]!;
    digits += (v % 100_000).toString().padStart(5, '0');
  }
  return { digits, code: h.slice(0, CODE_HALF_BYTES) };
}

/** The safety number of a pair, as seen from `ours`; both sides compute the same digits. */
export class SafetyNumber {
  readonly #ours: Half;
  readonly #theirs: Half;

  private constructor(ours: Half, theirs: Half) {
    this.#ours = ours;
    this.#theirs = theirs;
  }

  /** Computes the number of `ours` and `theirs` (about 10 ms: 2 × 5200 SHA-512). */
  static of(ours: SafetyParty, theirs: SafetyParty): SafetyNumber {
    if (typeof ours !== 'object' || ours === null) throw new TypeError('"ours" expected an object');
    if (typeof theirs !== 'object' || theirs === null) throw new TypeError('"theirs" expected an object');
    assertBytes('ours.identityKey', ours.identityKey, 32);
    assertBytes('theirs.identityKey', theirs.identityKey, 32);
    if (equalBytes(ours.identityKey, theirs.identityKey)) {
      throw new RangeError('"theirs.identityKey" is our own identity key');
    }
    return new SafetyNumber(
      half(ours.identityKey, peerIdFromPublicKey(ours.identityKey)),
      half(theirs.identityKey, peerIdFromPublicKey(theirs.identityKey)),
    );
  }

  /** The 60 digits, the smaller half first, so both sides read the same string. */
  get digits(): string {
    const [a, b] = [this.#ours.digits, this.#theirs.digits];
    return a <= b ? a + b : b + a;
  }

  /** The digits in 12 groups of 5, as shown on screen. */
  get groups(): string[] {
    return this.digits.match(/\d{5}/g) ?? [];
  }

  /** The scannable code: `u8 version | our half[32] | their half[32]`. */
  scannable(): Uint8Array {
    return concatBytes(Uint8Array.of(SAFETY_NUMBER_VERSION), this.#ours.code, this.#theirs.code);
  }

  /** The scannable code as text, what the QR code carries. */
  scanText(): string {
    return SAFETY_CODE_PREFIX + base64urlnopad.encode(this.scannable());
  }

  /**
   * Compares what the other device shows with this number: its scanned code (text form)
   * or its 60 digits as typed (spaces and dashes ignored). Their code holds their half
   * first, so it matches when its halves are ours swapped. A code or number that does not
   * match returns 'mismatch'; input that is neither throws SafetyNumberError.
   */
  check(input: string): SafetyCheck {
    if (typeof input !== 'string') throw new TypeError(`"input" expected a string, got ${typeof input}`);
    const text = input.trim();
    if (text.toLowerCase().startsWith(SAFETY_CODE_PREFIX)) return this.#checkCode(text);
    const digits = text.replace(/[\s-]+/g, '');
    if (!/^\d{60}$/.test(digits)) {
      throw new SafetyNumberError('BAD_CODE', 'expected 60 digits or a scanned safety code');
    }
    return digits === this.digits ? 'match' : 'mismatch';
  }

  #checkCode(text: string): SafetyCheck {
    let bytes: Uint8Array;
    try {
      bytes = base64urlnopad.decode(text.slice(SAFETY_CODE_PREFIX.length));
    } catch (cause) {
      throw new SafetyNumberError('BAD_CODE', 'safety code is not valid base64url', { cause });
    }
    if (bytes.length < 1) throw new SafetyNumberError('BAD_CODE', 'safety code is empty');
    if (bytes[0] !== SAFETY_NUMBER_VERSION) {
      throw new SafetyNumberError('UNSUPPORTED_VERSION', `safety code version ${bytes[0]} is not known`);
    }
    if (bytes.length !== CODE_BYTES) {
      throw new SafetyNumberError(
        'BAD_CODE',
        `safety code has ${bytes.length} bytes, expected ${CODE_BYTES}`,
      );
    }
    const theirs = bytes.subarray(1, 1 + CODE_HALF_BYTES);
    const ours = bytes.subarray(1 + CODE_HALF_BYTES);
    return equalBytes(theirs, this.#theirs.code) && equalBytes(ours, this.#ours.code) ? 'match' : 'mismatch';
  }
}
