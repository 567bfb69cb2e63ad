/**
 * The signed device list: which devices speak for one person (docs/devices.md §2).
 *
 *   u8 version=1 | identityKey[32] | u64 counter | u8 n (1..8)
 *   | n × (deviceKey[32] | u8 kind | u64 addedAt (Unix ms) | varbytes name (UTF-8, ≤ 64 B))
 *   | signature[64]
 *   signature = Ed25519(IK, "p2pcomm/v1/device-list" ‖ every byte before it)
 *   (integers little-endian, as `ByteWriter` writes them)
 *
 * The identity key signs the whole list, as Signal's Sesame has a user's devices vouched for
 * by one identity ("per-user identity keys"): a contact that trusts the identity key (safety
 * number, docs/crypto.md §8) trusts each listed device key without a second comparison.
 * A newer counter replaces an older list whole; a removed device is simply absent, so there
 * is no revocation record to lose. The counter is chosen as max(previous + 1, now in ms), so a
 * device restored from the recovery key that never saw the last list still outranks it, the
 * way the contact card uses its issue time as version (docs/crypto.md §4).
 *
 * The device whose key is the identity key itself is the profile's first device: a profile
 * that never linked a second device has the implicit one-device list `[identity key]`, so
 * today's single-device profiles, cards and sessions are unchanged (`devicesOf`).
 */
import { ByteReader, ByteWriter, readText, writeText } from '../../util/binary.ts';
import { DecodeError, assertInteger } from '../../util/errors.ts';
import { concatBytes, equalBytes, utf8ToBytes } from '../../util/bytes.ts';
import { asEd25519PublicKey, verifyEd25519, type Ed25519PublicKey } from '../identity/keys.ts';
import type { Identity } from '../identity/identity.ts';
import { DeviceError } from './errors.ts';
import { changeBranch } from './branch.ts';

/** Device list format version. */
export const DEVICE_LIST_VERSION = 1;
/**
 * Most devices one person may list. Each one is a frame in every chain publication of every
 * contact (Sesame fan-out), so the bound is a cost bound too; Signal allows five linked devices.
 */
export const MAX_DEVICES = 8;
/** Longest device name in UTF-8 bytes. */
export const MAX_DEVICE_NAME_BYTES = 64;
/** Largest device list in bytes; anything longer is refused before parsing. */
export const MAX_DEVICE_LIST_BYTES =
  1 + 32 + 8 + 1 + MAX_DEVICES * (32 + 1 + 8 + 1 + MAX_DEVICE_NAME_BYTES) + 64;
const DOMAIN = utf8ToBytes('p2pcomm/v1/device-list');

/** An Ed25519 device key (the public key a device's sessions and device card are signed with). */
export type DeviceKey = Ed25519PublicKey;

/** What kind of device an entry is, as shown in the device list. */
export const DEVICE_KINDS = ['unknown', 'browser', 'desktop', 'phone', 'tablet', 'cli'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/** One listed device. */
export interface DeviceEntry {
  readonly key: DeviceKey;
  readonly kind: DeviceKind;
  /** When the device was added (Unix ms). */
  readonly addedAt: number;
  readonly name: string;
}

function checkEntry(e: DeviceEntry): void {
  asEd25519PublicKey(e.key, 'device.key');
  if (!DEVICE_KINDS.includes(e.kind)) throw new RangeError(`"device.kind" unknown: ${String(e.kind)}`);
  assertInteger('device.addedAt', e.addedAt, 0, Number.MAX_SAFE_INTEGER);
}

/** A device list whose signature has been checked against its identity key. */
export class DeviceList {
  private constructor(
    /** The identity key that signed the list. */
    readonly identityKey: Ed25519PublicKey,
    /** Orders lists: a higher counter replaces a lower one. */
    readonly counter: number,
    readonly devices: readonly DeviceEntry[],
    private readonly signed: Uint8Array,
  ) {}

  /** Signs a list of `devices` with `identity`. RangeError on an empty, oversized or repeating list. */
  static create(identity: Identity, counter: number, devices: readonly DeviceEntry[]): DeviceList {
    assertInteger('counter', counter, 0, Number.MAX_SAFE_INTEGER);
    if (!Array.isArray(devices) || devices.length < 1 || devices.length > MAX_DEVICES)
      throw new RangeError(`"devices" expected 1..${MAX_DEVICES} devices, got ${devices.length}`);
    const w = new ByteWriter(MAX_DEVICE_LIST_BYTES)
      .u8(DEVICE_LIST_VERSION)
      .bytes(identity.publicKey)
      .u64(counter)
      .u8(devices.length);
    for (const [i, d] of devices.entries()) {
      checkEntry(d);
      if (devices.slice(0, i).some((o) => equalBytes(o.key, d.key)))
        throw new RangeError('"devices" lists one device key twice');
      w.bytes(d.key).u8(DEVICE_KINDS.indexOf(d.kind)).u64(d.addedAt);
      writeText(w, 'device.name', d.name, MAX_DEVICE_NAME_BYTES);
    }
    const body = w.finish();
    const bytes = concatBytes(body, identity.sign(concatBytes(DOMAIN, body)));
    return DeviceList.verify(bytes, identity.publicKey);
  }

  /** The first list of a profile: its first device, whose device key is the identity key. */
  static first(identity: Identity, device: { name: string; kind: DeviceKind }, now: number): DeviceList {
    return DeviceList.create(identity, now, [
      { key: identity.publicKey, kind: device.kind, addedAt: now, name: device.name },
    ]);
  }

  /**
   * Decodes and verifies a list that must be signed by `identityKey`. DecodeError on bytes that
   * are not a list (TOO_LARGE before parsing above `MAX_DEVICE_LIST_BYTES`, UNKNOWN_VERSION,
   * MALFORMED: no device, too many, a repeated key, an unknown kind); DeviceError WRONG_IDENTITY
   * for a list of another identity, BAD_SIGNATURE when the signature does not verify.
   */
  static verify(bytes: Uint8Array, identityKey: Ed25519PublicKey): DeviceList {
    if (!(bytes instanceof Uint8Array)) throw new TypeError('"bytes" expected Uint8Array');
    asEd25519PublicKey(identityKey, 'identityKey');
    if (bytes.length > MAX_DEVICE_LIST_BYTES)
      throw new DecodeError(
        'TOO_LARGE',
        `device list of ${bytes.length} bytes exceeds ${MAX_DEVICE_LIST_BYTES}`,
      );
    const r = new ByteReader(bytes);
    const version = r.u8('device list version');
    if (version !== DEVICE_LIST_VERSION)
      throw new DecodeError(
        'UNKNOWN_VERSION',
        `device list version ${version} is not read by this client (version ${DEVICE_LIST_VERSION})`,
      );
    const signer = r.bytes(32, 'device list identity key') as Ed25519PublicKey;
    const counter = r.safeU64('device list counter');
    const n = r.u8('device count');
    if (n < 1 || n > MAX_DEVICES)
      throw new DecodeError('MALFORMED', `device list of ${n} devices (1..${MAX_DEVICES})`);
    const devices: DeviceEntry[] = [];
    for (let i = 0; i < n; i++) {
      const key = r.bytes(32, 'device key') as DeviceKey;
      const kindIndex = r.u8('device kind');
      const kind = DEVICE_KINDS[kindIndex];
      if (kind === undefined) throw new DecodeError('MALFORMED', `unknown device kind ${kindIndex}`);
      const addedAt = r.safeU64('device added time');
      const name = readText(r, 'device name', MAX_DEVICE_NAME_BYTES);
      if (devices.some((d) => equalBytes(d.key, key)))
        throw new DecodeError('MALFORMED', 'device list names one device key twice');
      devices.push({ key, kind, addedAt, name });
    }
    // Each device hands out the change addresses of its own chain (branch.ts): two devices on
    // one chain would pay the same addresses, so such a list is not a list of this version.
    const branches = new Set(devices.map((d) => changeBranch(signer, d.key)));
    if (branches.size !== devices.length)
      throw new DecodeError('MALFORMED', 'device list names two devices with one change chain');
    const signedLength = r.offset;
    const signature = r.bytes(64, 'device list signature');
    r.end('device list');
    if (!equalBytes(signer, identityKey))
      throw new DeviceError('WRONG_IDENTITY', 'This device list belongs to another person.');
    if (!verifyEd25519(signature, concatBytes(DOMAIN, bytes.subarray(0, signedLength)), identityKey))
      throw new DeviceError('BAD_SIGNATURE', 'This device list is not signed by its identity key.');
    return new DeviceList(identityKey, counter, devices, bytes.slice());
  }

  /** The signed bytes (what the card announcement, the link transfer and storage carry). */
  serialize(): Uint8Array {
    return this.signed.slice();
  }

  /** Whether `key` is listed. */
  has(key: Uint8Array): boolean {
    return this.devices.some((d) => equalBytes(d.key, key));
  }

  /** The counter the next list must carry: above this one, and at least `now`. */
  nextCounter(now: number): number {
    assertInteger('now', now, 0, Number.MAX_SAFE_INTEGER);
    return Math.max(this.counter + 1, now);
  }

  /** A new list with `device` added (RangeError when it is listed already or the list is full). */
  add(identity: Identity, device: DeviceEntry, now: number): DeviceList {
    this.checkSigner(identity);
    if (this.has(device.key)) throw new RangeError('"device" is listed already');
    return DeviceList.create(identity, this.nextCounter(now), [...this.devices, device]);
  }

  /** A new list without the device `key` (RangeError when it is not listed or is the last one). */
  remove(identity: Identity, key: Uint8Array, now: number): DeviceList {
    this.checkSigner(identity);
    if (!this.has(key)) throw new RangeError('"key" is not a listed device');
    if (this.devices.length === 1) throw new RangeError('the last device of a list cannot be removed');
    return DeviceList.create(
      identity,
      this.nextCounter(now),
      this.devices.filter((d) => !equalBytes(d.key, key)),
    );
  }

  private checkSigner(identity: Identity): void {
    if (!equalBytes(identity.publicKey, this.identityKey))
      throw new DeviceError('WRONG_IDENTITY', 'Only the identity that signed a device list can change it.');
  }
}

/**
 * Accepts `bytes` as the newest list of `identityKey`, given the list kept so far. The same list
 * again returns the kept one; a higher counter replaces it; a lower counter (a replay of an
 * older list, which could bring a removed device back) or an equal counter with other content
 * is DeviceError STALE_COUNTER. Errors of `DeviceList.verify` otherwise. Nothing is kept by this
 * function: the caller stores the result.
 */
export function acceptDeviceList(
  kept: DeviceList | undefined,
  bytes: Uint8Array,
  identityKey: Ed25519PublicKey,
): DeviceList {
  const next = DeviceList.verify(bytes, identityKey);
  if (kept === undefined) return next;
  if (!equalBytes(kept.identityKey, identityKey))
    throw new DeviceError('WRONG_IDENTITY', 'The kept device list belongs to another person.');
  if (next.counter === kept.counter && equalBytes(next.serialize(), kept.serialize())) return kept;
  if (next.counter <= kept.counter)
    throw new DeviceError(
      'STALE_COUNTER',
      `This device list (counter ${next.counter}) is not newer than the one kept (counter ${kept.counter}).`,
    );
  return next;
}

/**
 * The device keys that speak for a person: those of its verified list, or, for a person whose
 * list we never received (every profile from before device lists), the identity key alone.
 */
export function devicesOf(list: DeviceList | undefined, identityKey: Ed25519PublicKey): readonly DeviceKey[] {
  if (list === undefined) return [identityKey];
  if (!equalBytes(list.identityKey, identityKey))
    throw new DeviceError('WRONG_IDENTITY', 'This device list belongs to another person.');
  return list.devices.map((d) => d.key);
}
