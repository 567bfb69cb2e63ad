/**
 * HD wallet derivation as the reference wallet does it (FACTS §2.3): BIP39 seed, standard BIP32,
 * path m/44'/111111'/account'/change/index, x-only keys for P2PK addresses, and Kaspa's own
 * extended-key version bytes (kprv/kpub, ktrv/ktub). BIP32 itself comes from @scure/bip32.
 */
import { HDKey, type Versions } from '@scure/bip32';
import { validateMnemonic } from '@scure/bip39';
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { P2pCommError, assertBytes, assertInteger } from '../util/errors.ts';
import { utf8ToBytes } from '../util/bytes.ts';
import { Address, AddressVersion, type NetworkPrefix } from './address.ts';

/** Why a mnemonic or extended key was rejected. */
export class HdError extends P2pCommError<'BAD_MNEMONIC' | 'BAD_EXTENDED_KEY' | 'NOT_PRIVATE'> {}

/** Extended-key version bytes (`wallet/bip32/src/prefix.rs`). */
export const KASPA_MAINNET_VERSIONS: Versions = { private: 0x038f2ef4, public: 0x038f332e };
export const KASPA_TESTNET_VERSIONS: Versions = { private: 0x03909e07, public: 0x0390a241 };
const BITCOIN_MAINNET_VERSIONS: Versions = { private: 0x0488ade4, public: 0x0488b21e };
const BITCOIN_TESTNET_VERSIONS: Versions = { private: 0x04358394, public: 0x043587cf };

/** BIP44 coin type of Kaspa (SLIP-44 111111). */
export const KASPA_COIN_TYPE = 111111;
const HARDENED = 0x80000000;

/**
 * 64-byte BIP39 seed of a 12- or 24-word English phrase (FACTS §2.3); throws HdError on a bad phrase.
 * The passphrase is used as typed (its UTF-8 bytes), not NFKD-normalized as BIP39 says: Kaspa's
 * own wallet (`kaspa-bip32` 2.1.0 `Mnemonic::to_seed`) does not normalize it, and a wallet made
 * there with "ä" must restore to the same addresses here (FACTS §2.3, measured with the official
 * Python SDK). The phrase itself is English BIP39 words, so normalizing it changes nothing.
 */
export function seedFromMnemonic(phrase: string, passphrase = ''): Uint8Array {
  if (typeof phrase !== 'string') throw new TypeError('"phrase" expected a string');
  if (typeof passphrase !== 'string') throw new TypeError('"passphrase" expected a string');
  const words = phrase.normalize('NFKD').trim().split(/\s+/);
  if ((words.length !== 12 && words.length !== 24) || !validateMnemonic(words.join(' '), wordlist)) {
    throw new HdError('BAD_MNEMONIC', 'not a valid 12- or 24-word BIP39 English mnemonic');
  }
  return pbkdf2(sha512, utf8ToBytes(words.join(' ')), utf8ToBytes(`mnemonic${passphrase}`), {
    c: 2048,
    dkLen: 64,
  });
}

/** The versions a serialized key was written with, from its 4-byte prefix text. */
function versionsOf(text: string): Versions | undefined {
  switch (text.slice(0, 4)) {
    case 'kprv':
    case 'kpub':
      return KASPA_MAINNET_VERSIONS;
    case 'ktrv':
    case 'ktub':
      return KASPA_TESTNET_VERSIONS;
    case 'xprv':
    case 'xpub':
      return BITCOIN_MAINNET_VERSIONS;
    case 'tprv':
    case 'tpub':
      return BITCOIN_TESTNET_VERSIONS;
    default:
      return undefined;
  }
}

/** A BIP32 wallet on Kaspa's gen1 path; keys are derived on demand and accounts cached. */
export class KaspaHdWallet {
  private readonly accounts = new Map<number, HDKey>();
  /** Receive and change chains of each account (m/44'/111111'/account'/change), by "account/change". */
  private readonly chains = new Map<string, HDKey>();

  private constructor(private readonly master: HDKey) {}

  /**
   * From a 64-byte BIP39 seed (16..64 bytes accepted, as BIP32 allows). `network` only picks the
   * extended-key labels (kprv/kpub or ktrv/ktub); the keys are the same.
   */
  static fromSeed(seed64: Uint8Array, network: 'mainnet' | 'testnet' = 'mainnet'): KaspaHdWallet {
    assertBytes('seed64', seed64);
    if (seed64.length < 16 || seed64.length > 64) throw new RangeError('"seed64" expected 16..64 bytes');
    const versions = network === 'testnet' ? KASPA_TESTNET_VERSIONS : KASPA_MAINNET_VERSIONS;
    return new KaspaHdWallet(HDKey.fromMasterSeed(seed64, versions));
  }

  /** From a serialized master private key (kprv, ktrv, xprv or tprv). */
  static fromExtendedPrivateKey(kprvOrXprv: string): KaspaHdWallet {
    if (typeof kprvOrXprv !== 'string') throw new TypeError('"kprvOrXprv" expected a string');
    const versions = versionsOf(kprvOrXprv);
    if (versions === undefined) throw new HdError('BAD_EXTENDED_KEY', 'unknown extended key prefix');
    let key: HDKey;
    try {
      key = HDKey.fromExtendedKey(kprvOrXprv, versions);
    } catch (cause) {
      throw new HdError('BAD_EXTENDED_KEY', 'malformed extended key', { cause });
    }
    if (key.privateKey === null)
      throw new HdError('NOT_PRIVATE', 'extended key is public; a private key is needed');
    // Bitcoin-style keys are re-labelled with the Kaspa versions of the same network, so account
    // keys print as kpub (mainnet) or ktub (testnet) like the reference wallet's.
    const testnet = versions === KASPA_TESTNET_VERSIONS || versions === BITCOIN_TESTNET_VERSIONS;
    const kaspaVersions = testnet ? KASPA_TESTNET_VERSIONS : KASPA_MAINNET_VERSIONS;
    return new KaspaHdWallet(new HDKey({ ...keyFields(key), versions: kaspaVersions }));
  }

  /** The master key serialized as kprv. */
  extendedPrivateKey(): string {
    return this.master.privateExtendedKey;
  }

  private account(account: number): HDKey {
    assertInteger('account', account, 0, HARDENED - 1);
    let key = this.accounts.get(account);
    if (key === undefined) {
      key = this.master.derive(`m/44'/${KASPA_COIN_TYPE}'/${account}'`);
      this.accounts.set(account, key);
    }
    return key;
  }

  /**
   * `change` is BIP-44's 0 (receive) or 1 (internal); any other non-hardened index is a chain
   * of our own beside them (a device's change chain, docs/protocol.md "Chain transactions and
   * addresses"), which a plain BIP-44 wallet does not scan.
   */
  private leaf(account: number, change: number, index: number): HDKey {
    assertInteger('change', change, 0, HARDENED - 1);
    assertInteger('index', index, 0, HARDENED - 1);
    // Each BIP-32 step is a secp256k1 multiplication; the chain node is kept, so a leaf costs one.
    const id = `${account}/${change}`;
    let chain = this.chains.get(id);
    if (chain === undefined) {
      chain = this.account(account).deriveChild(change);
      this.chains.set(id, chain);
    }
    return chain.deriveChild(index);
  }

  /** The account's extended public key (kpub) at m/44'/111111'/account'. */
  accountExtendedPublicKey(account: number): string {
    return this.account(account).publicExtendedKey;
  }

  /** 32-byte private key at m/44'/111111'/account'/change/index. */
  privateKey(account: number, change: number, index: number): Uint8Array {
    return this.leaf(account, change, index).privateKey!.slice();
  }

  /** 32-byte x-only public key (BIP-340) at the same path. */
  publicKey(account: number, change: number, index: number): Uint8Array {
    return this.leaf(account, change, index).publicKey!.slice(1, 33);
  }

  /** P2PK (Schnorr) address of that key on a network. */
  address(prefix: NetworkPrefix, account: number, change: number, index: number): Address {
    return new Address(prefix, AddressVersion.PubKey, this.publicKey(account, change, index));
  }
}

function keyFields(key: HDKey): {
  depth: number;
  index: number;
  parentFingerprint: number;
  chainCode: Uint8Array;
  privateKey: Uint8Array;
} {
  return {
    depth: key.depth,
    index: key.index,
    parentFingerprint: key.parentFingerprint,
    chainCode: key.chainCode!,
    privateKey: key.privateKey!,
  };
}
