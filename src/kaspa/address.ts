/**
 * Kaspa addresses: `<prefix>:<payload>` in the CashAddr-style bech32 variant with a 40-bit
 * checksum (FACTS §1.3). Written here because no installed library implements this variant:
 * BIP-173/350 bech32 uses a 30-bit checksum and a different generator.
 */
import { P2pCommError, assertBytes } from '../util/errors.ts';
import { equalBytes } from '../util/bytes.ts';
import { payToPubKey, payToPubKeyEcdsa, payToScriptHash, scriptClass, scriptPayload } from './script.ts';
import type { ScriptPublicKey } from './types.ts';

/** Address prefix of each network (FACTS §1.1). */
export type NetworkPrefix = 'kaspa' | 'kaspatest' | 'kaspasim' | 'kaspadev';

/** Every known prefix, in the order of FACTS §1.1. */
export const NETWORK_PREFIXES: readonly NetworkPrefix[] = ['kaspa', 'kaspatest', 'kaspasim', 'kaspadev'];

/** Address version byte (FACTS §1.2). */
export enum AddressVersion {
  PubKey = 0,
  PubKeyECDSA = 1,
  ScriptHash = 8,
}

const PAYLOAD_LENGTH: Readonly<Record<AddressVersion, number>> = {
  [AddressVersion.PubKey]: 32,
  [AddressVersion.PubKeyECDSA]: 33,
  [AddressVersion.ScriptHash]: 32,
};

/** Why an address string was rejected. */
export class AddressError extends P2pCommError<
  | 'MISSING_PREFIX'
  | 'UNKNOWN_PREFIX'
  | 'WRONG_NETWORK'
  | 'BAD_CHECKSUM'
  | 'BAD_CHARACTER'
  | 'BAD_LENGTH'
  | 'UNKNOWN_VERSION'
> {}

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const REVERSE = new Int8Array(128).fill(-1);
for (let i = 0; i < CHARSET.length; i++) REVERSE[CHARSET.charCodeAt(i)] = i;

const GENERATOR = [0x98f2bc8e61n, 0x79b76d99e2n, 0xf33e5fb3c4n, 0xae2eabe2a8n, 0x1e4f43e470n] as const;
const CHECKSUM_CHARS = 8;

/** CashAddr polymod over 5-bit values (FACTS §1.3); 40-bit state needs bigint. */
function polymod(values: Iterable<number>): bigint {
  let c = 1n;
  for (const d of values) {
    const c0 = c >> 35n;
    c = ((c & 0x07ffffffffn) << 5n) ^ BigInt(d);
    for (let i = 0; i < 5; i++) if ((c0 >> BigInt(i)) & 1n) c ^= GENERATOR[i]!;
  }
  return c ^ 1n;
}

function checksum(prefix: string, data5: readonly number[]): bigint {
  const values: number[] = [];
  for (let i = 0; i < prefix.length; i++) values.push(prefix.charCodeAt(i) & 0x1f);
  values.push(0, ...data5, 0, 0, 0, 0, 0, 0, 0, 0);
  return polymod(values);
}

/** 8-bit bytes to 5-bit groups, MSB first, right-padding the last group with zeros. */
function to5(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xfff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push((acc >> bits) & 31);
    }
  }
  if (bits > 0) out.push((acc << (5 - bits)) & 31);
  return out;
}

/** 5-bit groups back to bytes; the right padding is dropped (FACTS §1.3). */
function to8(data5: readonly number[]): Uint8Array {
  const out = new Uint8Array(Math.floor((data5.length * 5) / 8));
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (const v of data5) {
    acc = ((acc << 5) | v) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

function isNetworkPrefix(p: string): p is NetworkPrefix {
  return (NETWORK_PREFIXES as readonly string[]).includes(p);
}

function isAddressVersion(v: number): v is AddressVersion {
  return v === AddressVersion.PubKey || v === AddressVersion.PubKeyECDSA || v === AddressVersion.ScriptHash;
}

/** A Kaspa address: network prefix, version and the key or script hash it pays to. */
export class Address {
  readonly prefix: NetworkPrefix;
  readonly version: AddressVersion;
  readonly payload: Uint8Array;

  constructor(prefix: NetworkPrefix, version: AddressVersion, payload: Uint8Array) {
    if (!isNetworkPrefix(prefix)) throw new RangeError(`"prefix" unknown network prefix ${String(prefix)}`);
    if (!isAddressVersion(version))
      throw new RangeError(`"version" unknown address version ${String(version)}`);
    assertBytes('payload', payload, PAYLOAD_LENGTH[version]);
    this.prefix = prefix;
    this.version = version;
    this.payload = payload.slice();
  }

  /** Parses `prefix:payload`; throws AddressError with a code saying what is wrong. */
  static decode(text: string, expectedPrefix?: NetworkPrefix): Address {
    if (typeof text !== 'string') throw new TypeError(`"text" expected a string, got ${typeof text}`);
    const colon = text.indexOf(':');
    if (colon < 0) throw new AddressError('MISSING_PREFIX', 'address has no "prefix:" part');
    const prefix = text.slice(0, colon);
    if (!isNetworkPrefix(prefix))
      throw new AddressError('UNKNOWN_PREFIX', `unknown address prefix "${prefix}"`);
    if (expectedPrefix !== undefined && prefix !== expectedPrefix) {
      throw new AddressError('WRONG_NETWORK', `address is for "${prefix}", expected "${expectedPrefix}"`);
    }
    const chars = text.slice(colon + 1);
    const data5: number[] = [];
    for (let i = 0; i < chars.length; i++) {
      const code = chars.charCodeAt(i);
      const v = code < 128 ? REVERSE[code]! : -1;
      // Uppercase is refused like the node does: its reverse table maps lowercase only.
      if (v < 0)
        throw new AddressError('BAD_CHARACTER', `invalid address character at position ${colon + 1 + i}`);
      data5.push(v);
    }
    // Shortest valid payload: version + 32 bytes = 33 bytes = 53 groups, + 8 checksum chars.
    if (data5.length < CHECKSUM_CHARS + 1) throw new AddressError('BAD_LENGTH', 'address is too short');
    const body = data5.slice(0, data5.length - CHECKSUM_CHARS);
    let expected = checksum(prefix, body);
    for (let i = data5.length - 1; i >= data5.length - CHECKSUM_CHARS; i--) {
      if (BigInt(data5[i]!) !== (expected & 31n))
        throw new AddressError('BAD_CHECKSUM', 'address checksum mismatch');
      expected >>= 5n;
    }
    const data8 = to8(body);
    const version = data8[0];
    if (version === undefined) throw new AddressError('BAD_LENGTH', 'address has no version byte');
    if (!isAddressVersion(version))
      throw new AddressError('UNKNOWN_VERSION', `unknown address version ${version}`);
    const payload = data8.subarray(1);
    if (payload.length !== PAYLOAD_LENGTH[version]) {
      throw new AddressError(
        'BAD_LENGTH',
        `address payload is ${payload.length} bytes, version ${version} needs ${PAYLOAD_LENGTH[version]}`,
      );
    }
    return new Address(prefix, version, payload);
  }

  /** True when `text` decodes (and is for `expectedPrefix` when given). */
  static validate(text: string, expectedPrefix?: NetworkPrefix): boolean {
    try {
      Address.decode(text, expectedPrefix);
      return true;
    } catch (e) {
      if (e instanceof AddressError) return false;
      throw e;
    }
  }

  /** The canonical lowercase text form. */
  toString(): string {
    const data8 = new Uint8Array(1 + this.payload.length);
    data8[0] = this.version;
    data8.set(this.payload, 1);
    const data5 = to5(data8);
    const sum = checksum(this.prefix, data5);
    let out = `${this.prefix}:`;
    for (const v of data5) out += CHARSET[v];
    for (let i = CHECKSUM_CHARS - 1; i >= 0; i--) out += CHARSET[Number((sum >> BigInt(5 * i)) & 31n)];
    return out;
  }

  /** Same network, version and payload. */
  equals(other: Address): boolean {
    return (
      this.prefix === other.prefix &&
      this.version === other.version &&
      equalBytes(this.payload, other.payload)
    );
  }
}

/** The script public key that pays to an address (FACTS §1.4). */
export function addressToScriptPublicKey(address: Address): ScriptPublicKey {
  switch (address.version) {
    case AddressVersion.PubKey:
      return payToPubKey(address.payload);
    case AddressVersion.PubKeyECDSA:
      return payToPubKeyEcdsa(address.payload);
    case AddressVersion.ScriptHash:
      return payToScriptHash(address.payload);
  }
}

/** The address a standard script pays to on a network; undefined for a non-standard script. */
export function scriptPublicKeyToAddress(spk: ScriptPublicKey, prefix: NetworkPrefix): Address | undefined {
  const payload = scriptPayload(spk);
  if (payload === undefined) return undefined;
  switch (scriptClass(spk)) {
    case 'PubKey':
      return new Address(prefix, AddressVersion.PubKey, payload);
    case 'PubKeyECDSA':
      return new Address(prefix, AddressVersion.PubKeyECDSA, payload);
    case 'ScriptHash':
      return new Address(prefix, AddressVersion.ScriptHash, payload);
    case 'NonStandard':
      return undefined;
  }
}
