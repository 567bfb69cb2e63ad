/**
 * The vault: the identity seed encrypted at rest under the user's password.
 *
 * Layout (version 1), all integers little-endian:
 *
 *   "p2pv" | u8 version=1 | u8 kdf=1 (scrypt) | u8 log2(N) | u8 r | u8 p | salt[16] | nonce[24]
 *   | ciphertext = XChaCha20-Poly1305(key, nonce, aad = every byte before it)(plaintext)
 *   plaintext = u8 contentVersion=1 | seed[32]
 *
 * scrypt (RFC 7914) is memory-hard, so guessing passwords on GPUs is costly (NOTES §5). Its
 * parameters live in the header, so a later release can raise them on the next password
 * change while old vaults still open. The header is the AEAD's associated data: changing
 * a parameter or the salt fails authentication instead of silently deriving another key.
 * Only the seed is stored because every key is derived from it (identity.ts).
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { VaultError } from '../errors.ts';
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { DecodeError, assertBytes, assertInteger } from '../../util/errors.ts';
import { equalBytes, randomBytes, utf8ToBytes, wipe } from '../../util/bytes.ts';
import { Identity, SEED_BYTES } from '../identity/identity.ts';

/** scrypt cost parameters as stored in the vault header. */
export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

/**
 * Default cost: N = 2^16, r = 8, p = 1 (64 MiB). Measured at 0.53 s per derivation with
 * @noble/hashes on the 2-core development machine when lightly loaded (N = 2^17 took 0.92 s);
 * bench/core.bench.ts prints the figure of each run beside the 0.5-1 s target.
 */
export const DEFAULT_SCRYPT: ScryptParams = { logN: 16, r: 8, p: 1 };

/*
 * Bounds on the KDF cost a vault may ask for, checked before any work. Vault bytes come from
 * outside too (a backup file, a copied profile), so a crafted header must not make unlocking
 * hang the app or exhaust a phone's memory: before these bounds it could ask for 2 GiB and 512x
 * the default work (N = 2^18 alone took 4.3 s). The bounds leave room for the next raises of the
 * default, which is tuned to 0.5-1 s (NOTES §5) and measured in bench/core.bench.ts:
 *   memory 128·r·N ≤ 128 MiB: twice the default 64 MiB, what N = 2^17 (0.92 s) needs; more is
 *     where mobile browsers start killing tabs;
 *   work N·r·p ≤ 2^21: four times the default (about 2 s lightly loaded), e.g. N = 2^17 with
 *     p = 2, or p = 4 at the default memory;
 *   log2 N ≥ 10, 1 ≤ r ≤ 32, 1 ≤ p ≤ 16: the shapes RFC 7914 §2 allows, within one byte each.
 */
const MIN_LOG_N = 10;
const MAX_R = 32;
const MAX_P = 16;
/** Largest scrypt working memory (128·r·N bytes) a vault may ask for: 128 MiB. */
export const MAX_KDF_MEMORY = 2 ** 27;
/** Largest scrypt work N·r·p a vault may ask for: four times DEFAULT_SCRYPT. */
export const MAX_KDF_WORK = 4 * 2 ** DEFAULT_SCRYPT.logN * DEFAULT_SCRYPT.r * DEFAULT_SCRYPT.p;

const MAGIC = utf8ToBytes('p2pv');
const VERSION = 1;
const KDF_SCRYPT = 1;
const CONTENT_VERSION = 1;
const SALT_BYTES = 16;
const NONCE_BYTES = 24;
const HEADER_BYTES = MAGIC.length + 5 + SALT_BYTES;
const PLAINTEXT_BYTES = 1 + SEED_BYTES;
const SERIALIZED_BYTES = HEADER_BYTES + NONCE_BYTES + PLAINTEXT_BYTES + 16;

/** Why `params` is out of bounds, or undefined when they are within them. */
function kdfProblem(params: ScryptParams): string | undefined {
  const { logN, r, p } = params;
  if (logN < MIN_LOG_N || logN > 27 || r < 1 || r > MAX_R || p < 1 || p > MAX_P)
    return `scrypt log2 N = ${logN}, r = ${r}, p = ${p} is outside log2 N ${MIN_LOG_N}.., r 1..${MAX_R}, p 1..${MAX_P}`;
  const memory = 128 * r * 2 ** logN;
  if (memory > MAX_KDF_MEMORY)
    return `scrypt needs ${memory / 2 ** 20} MiB, over the ${MAX_KDF_MEMORY / 2 ** 20} MiB bound`;
  const work = 2 ** logN * r * p;
  if (work > MAX_KDF_WORK)
    return `scrypt work N·r·p = ${work} is over the bound ${MAX_KDF_WORK} (4x the default)`;
  return undefined;
}

/**
 * Checks scrypt parameters for a new vault: integers within the bounds a vault header may ask
 * for (MAX_KDF_MEMORY, MAX_KDF_WORK), since a vault beyond them could never be opened again.
 * TypeError for a non-integer, RangeError for a value out of bounds.
 */
export function checkScryptParams(params: ScryptParams): void {
  assertInteger('logN', params.logN, MIN_LOG_N, 27);
  assertInteger('r', params.r, 1, MAX_R);
  assertInteger('p', params.p, 1, MAX_P);
  const problem = kdfProblem(params);
  if (problem !== undefined) throw new RangeError(`"params" ${problem}`);
}

/** An empty password is no lock at all: refused (the app asks for at least 8 characters). */
function checkPassword(password: unknown): asserts password is string {
  if (typeof password !== 'string')
    throw new TypeError(`"password" expected a string, got ${typeof password}`);
  if (password.length === 0) throw new VaultError('EMPTY_PASSWORD', 'a vault password cannot be empty');
}

async function deriveKey(password: string, salt: Uint8Array, params: ScryptParams): Promise<Uint8Array> {
  // NFKC so the same password typed on two keyboards (composed vs decomposed accents) matches.
  const pw = utf8ToBytes(password.normalize('NFKC'));
  try {
    return await scryptAsync(pw, salt, {
      N: 2 ** params.logN,
      r: params.r,
      p: params.p,
      dkLen: 32,
      // The bounds were checked before (kdfProblem); this is what the library counts for them.
      maxmem: 128 * params.r * (2 ** params.logN + params.p + 1),
    });
  } finally {
    wipe(pw);
  }
}

function header(params: ScryptParams, salt: Uint8Array): Uint8Array {
  return new ByteWriter(HEADER_BYTES)
    .bytes(MAGIC)
    .u8(VERSION)
    .u8(KDF_SCRYPT)
    .u8(params.logN)
    .u8(params.r)
    .u8(params.p)
    .bytes(salt)
    .finish();
}

interface Parsed {
  readonly header: Uint8Array;
  readonly params: ScryptParams;
  readonly salt: Uint8Array;
  readonly nonce: Uint8Array;
  readonly ciphertext: Uint8Array;
}

function parse(bytes: Uint8Array): Parsed {
  try {
    const r = new ByteReader(bytes);
    if (!equalBytes(r.bytes(MAGIC.length, 'magic'), MAGIC))
      throw new VaultError('CORRUPTED', 'not a p2pComm vault');
    const version = r.u8('version');
    if (version !== VERSION)
      throw new VaultError('UNSUPPORTED_VERSION', `vault version ${version} is not supported`);
    const kdf = r.u8('kdf');
    if (kdf !== KDF_SCRYPT) throw new VaultError('UNSUPPORTED_VERSION', `vault KDF ${kdf} is not supported`);
    const params = { logN: r.u8('logN'), r: r.u8('r'), p: r.u8('p') };
    const problem = kdfProblem(params);
    if (problem !== undefined) throw new VaultError('KDF_LIMIT', `vault refused: ${problem}`);
    const salt = r.bytes(SALT_BYTES, 'salt');
    const nonce = r.bytes(NONCE_BYTES, 'nonce');
    const ciphertext = r.bytes(PLAINTEXT_BYTES + 16, 'ciphertext');
    r.end('vault');
    return { header: bytes.slice(0, HEADER_BYTES), params, salt, nonce, ciphertext };
  } catch (e) {
    if (e instanceof DecodeError)
      throw new VaultError('CORRUPTED', `vault is damaged: ${e.message}`, { cause: e });
    throw e;
  }
}

/** An unlocked vault. Holds the derived key so that `serialize()` needs no second KDF run. */
export class Vault {
  readonly #key: Uint8Array;
  readonly #seed: Uint8Array;
  /** KDF parameters this vault is locked with. */
  readonly params: ScryptParams;
  readonly #salt: Uint8Array;

  private constructor(key: Uint8Array, salt: Uint8Array, params: ScryptParams, seed: Uint8Array) {
    this.#key = key;
    this.#salt = salt;
    this.params = params;
    this.#seed = seed;
  }

  /**
   * A new vault for `seed` (a fresh random seed when omitted) locked with `password`.
   * VaultError EMPTY_PASSWORD for ''; RangeError for `params` beyond the bounds.
   */
  static async create(
    password: string,
    seed?: Uint8Array,
    params: ScryptParams = DEFAULT_SCRYPT,
  ): Promise<Vault> {
    checkPassword(password);
    if (seed !== undefined) assertBytes('seed', seed, SEED_BYTES);
    checkScryptParams(params);
    const salt = randomBytes(SALT_BYTES);
    const key = await deriveKey(password, salt, params);
    return new Vault(key, salt, { ...params }, seed?.slice() ?? randomBytes(SEED_BYTES));
  }

  /**
   * Opens serialized vault bytes. VaultError WRONG_PASSWORD when authentication fails
   * (a wrong password and a tampered ciphertext are indistinguishable by design),
   * CORRUPTED / UNSUPPORTED_VERSION / KDF_LIMIT when the bytes are not an intact vault,
   * EMPTY_PASSWORD for '' (no vault is locked with it: `create` refuses it).
   */
  static async unlock(bytes: Uint8Array, password: string): Promise<Vault> {
    assertBytes('bytes', bytes);
    checkPassword(password);
    const v = parse(bytes);
    const key = await deriveKey(password, v.salt, v.params);
    let plaintext: Uint8Array;
    try {
      plaintext = xchacha20poly1305(key, v.nonce, v.header).decrypt(v.ciphertext);
    } catch (e) {
      wipe(key);
      throw new VaultError('WRONG_PASSWORD', 'wrong password, or the vault was altered', { cause: e });
    }
    // Authenticated plaintext of the wrong shape means a writer bug, not an attacker.
    if (plaintext[0] !== CONTENT_VERSION) {
      throw new VaultError('UNSUPPORTED_VERSION', `vault content version ${plaintext[0]} is not supported`);
    }
    const seed = plaintext.slice(1);
    wipe(plaintext);
    return new Vault(key, v.salt, v.params, seed);
  }

  /**
   * Re-locks the vault in `bytes` under a new password (and optionally new KDF cost).
   * Returns new bytes; the caller replaces the stored copy only once they are saved.
   */
  static async changePassword(
    bytes: Uint8Array,
    oldPassword: string,
    newPassword: string,
    params: ScryptParams = DEFAULT_SCRYPT,
  ): Promise<Uint8Array> {
    // Checked first, so a refused new password costs no unlock.
    checkPassword(newPassword);
    checkScryptParams(params);
    const old = await Vault.unlock(bytes, oldPassword);
    const fresh = await Vault.create(newPassword, old.#seed, params);
    old.lock();
    const out = fresh.serialize();
    fresh.lock();
    return out;
  }

  /** The versioned vault bytes, with a fresh nonce each call. */
  serialize(): Uint8Array {
    const head = header(this.params, this.#salt);
    const nonce = randomBytes(NONCE_BYTES);
    const plaintext = new Uint8Array(PLAINTEXT_BYTES);
    plaintext[0] = CONTENT_VERSION;
    plaintext.set(this.#seed, 1);
    const ciphertext = xchacha20poly1305(this.#key, nonce, head).encrypt(plaintext);
    wipe(plaintext);
    const out = new ByteWriter(SERIALIZED_BYTES).bytes(head).bytes(nonce).bytes(ciphertext).finish();
    return out;
  }

  /** The identity whose seed this vault holds. */
  identity(): Identity {
    return Identity.fromSeed(this.#seed);
  }

  /** A copy of the seed (recovery key export). */
  exportSeed(): Uint8Array {
    return this.#seed.slice();
  }

  /** Overwrites the key and seed held in memory; the object is unusable afterwards. */
  lock(): void {
    wipe(this.#key, this.#seed);
  }
}
