/**
 * Recovery key: the identity seed as 25 words a person can write down and type back.
 *
 * Words 1-24 are the BIP39 encoding of the seed (BIP39 English list, 256-bit entropy), so
 * they also restore the Kaspa wallet in any standard Kaspa wallet (FACTS §2.3). BIP39 alone
 * misses a wrong word with probability 1/256 (its checksum is 8 bits for 24 words), too weak
 * for a key that may be typed years later. Word 25 is a check word: one Reed-Solomon-style
 * parity symbol over GF(2^11), c = Σ α^(i+1)·w_i for the 11-bit word indexes w_0..w_23.
 * Any single wrong word changes c by α^(i+1)·e ≠ 0 and any swap of two neighbouring words
 * by α^(i+1)(1+α)(w_i ⊕ w_(i+1)) ≠ 0, so both are always caught; other errors pass both
 * checks with probability about 2^-19. No installed library computes such a check, hence
 * the few lines of field arithmetic here.
 */
import { entropyToMnemonic, mnemonicToEntropy } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { RecoveryKeyError } from '../errors.ts';
import { assertBytes } from '../../util/errors.ts';
import { SEED_BYTES } from './identity.ts';

/** Number of words of a recovery key (24 BIP39 words + 1 check word). */
export const RECOVERY_KEY_WORDS = 25;
const BIP39_WORDS = 24;

/** x^11 + x^2 + 1, a primitive polynomial over GF(2): α = x has order 2047. */
const POLY = 0x805;

function gfMul(a: number, b: number): number {
  let r = 0;
  for (let i = 0; i < 11; i++) {
    if ((b >> i) & 1) r ^= a << i;
  }
  for (let bit = 21; bit >= 11; bit--) {
    if ((r >> bit) & 1) r ^= POLY << (bit - 11);
  }
  return r;
}

function checkWordIndex(indexes: readonly number[]): number {
  let c = 0;
  let weight = 1;
  for (const w of indexes) {
    weight = gfMul(weight, 2); // α^(i+1)
    c ^= gfMul(weight, w);
  }
  return c;
}

const INDEX = new Map<string, number>(wordlist.map((w, i) => [w, i]));

/** BIP39 words are unique in their first four letters, so a 4+ letter prefix is accepted. */
function lookup(word: string, position: number): number {
  const exact = INDEX.get(word);
  if (exact !== undefined) return exact;
  if (word.length >= 4) {
    const matches = wordlist.filter((w) => w.startsWith(word));
    if (matches.length === 1) return INDEX.get(matches[0]!)!;
  }
  throw new RecoveryKeyError(
    'UNKNOWN_WORD',
    `word ${position} ("${word}") is not a recovery key word`,
    position,
  );
}

/** The 25-word recovery key of a 32-byte seed, words separated by single spaces. */
export function encodeRecoveryKey(seed: Uint8Array): string {
  assertBytes('seed', seed, SEED_BYTES);
  const words = entropyToMnemonic(seed, wordlist).split(' ');
  const check = checkWordIndex(words.map((w) => INDEX.get(w)!));
  return [...words, wordlist[check]!].join(' ');
}

/**
 * The seed of a typed recovery key. Case, extra spaces and unambiguous 4-letter prefixes
 * are tolerated; an unknown word, a wrong count or a failed check is a RecoveryKeyError.
 * 24 words (a plain BIP39 phrase, e.g. from a Kaspa wallet) are accepted with BIP39's
 * weaker check only, since there is no check word to compare.
 */
export function decodeRecoveryKey(text: string): Uint8Array {
  if (typeof text !== 'string') throw new TypeError(`"text" expected a string, got ${typeof text}`);
  const typed = text
    .trim()
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w.length > 0);
  if (typed.length !== RECOVERY_KEY_WORDS && typed.length !== BIP39_WORDS) {
    throw new RecoveryKeyError(
      'WORD_COUNT',
      `a recovery key has ${RECOVERY_KEY_WORDS} words, got ${typed.length}`,
    );
  }
  const indexes = typed.map((w, i) => lookup(w, i + 1));
  const data = indexes.slice(0, BIP39_WORDS);
  if (indexes.length === RECOVERY_KEY_WORDS && checkWordIndex(data) !== indexes[BIP39_WORDS]) {
    throw new RecoveryKeyError('CHECKSUM', 'recovery key check failed: a word is mistyped or out of order');
  }
  try {
    return mnemonicToEntropy(data.map((i) => wordlist[i]!).join(' '), wordlist);
  } catch {
    // The only failure left for 24 known words is BIP39's own 8-bit checksum.
    throw new RecoveryKeyError('CHECKSUM', 'recovery key check failed: a word is mistyped');
  }
}
