/**
 * Which of the wallet's addresses each device of a person hands out alone (docs/protocol.md
 * "Chain transactions and addresses", version 3; docs/devices.md §8). All devices share the
 * seed, so they share the wallet; what they must not share is a counter, since two devices
 * counting on their own hand the same index out twice. Each device therefore has:
 *
 *   - a change chain of its own: m/44'/111111'/0'/b/j with b = 1 (BIP-44's internal chain)
 *     for the first device, whose device key is the identity key, so a one-device profile is
 *     unchanged; for any other device b = 2 + (u32le(BLAKE3(label ‖ device key)[0..4]) mod
 *     (2^31 − 2)), a non-hardened BIP-32 index above the two BIP-44 chains;
 *   - a notification sequence of its own to each contact: the stealth tweak of the first
 *     device is as before, another device's tweak adds its device key to the HKDF info.
 *
 * A device list whose devices would share a chain is refused (device-list.ts), so two devices
 * of one person never collide; the odds for 8 random keys are 28 / 2^31.
 */
import { blake3 } from '@noble/hashes/blake3.js';
import { concatBytes, equalBytes, utf8ToBytes } from '../../util/bytes.ts';
import type { Ed25519PublicKey } from '../identity/keys.ts';
import type { DeviceList } from './device-list.ts';
import type { DeviceRoster } from './roster.ts';
import { returnWaitMs } from './returns.ts';

/** The change chain of the first device (BIP-44's internal chain). */
export const FIRST_DEVICE_BRANCH = 1;
const LABEL = utf8ToBytes('p2pcomm/v1/device-branch');
const SPAN = 2 ** 31 - 2;

/** The change chain `b` of device `deviceKey` of the person with `identityKey`. */
export function changeBranch(identityKey: Uint8Array, deviceKey: Uint8Array): number {
  if (equalBytes(identityKey, deviceKey)) return FIRST_DEVICE_BRANCH;
  const h = blake3(concatBytes(LABEL, deviceKey));
  const u = (h[0]! | (h[1]! << 8) | (h[2]! << 16) | (h[3]! << 24)) >>> 0;
  return 2 + (u % SPAN);
}

/** What the chain adapter needs to know of this device among its person's (KaspaChain `device`). */
export interface ChainDevice {
  /** This device's key when it is not the first device (its notifications carry it). */
  readonly key?: Uint8Array;
  /** Its change chain. */
  readonly branch: number;
}

/** This device's chain identity (`changeBranch`, and its key unless it is the first device). */
export function chainDevice(identityKey: Ed25519PublicKey, deviceKey: Ed25519PublicKey): ChainDevice {
  const branch = changeBranch(identityKey, deviceKey);
  return branch === FIRST_DEVICE_BRANCH ? { branch } : { key: deviceKey, branch };
}

/** The change chains of the devices of `list` other than `self` (the ones a sibling watches). */
export function siblingBranches(list: DeviceList | undefined, self: Uint8Array): number[] {
  if (list === undefined) return [];
  return list.devices
    .filter((d) => !equalBytes(d.key, self))
    .map((d) => changeBranch(list.identityKey, d.key));
}

/**
 * The devices of `person` other than the first whose notification sequences to us are watched
 * (the first device's sequence is the contact's own).
 */
export function notifyingDevices(list: DeviceList | undefined): Uint8Array[] {
  if (list === undefined) return [];
  return list.devices.filter((d) => !equalBytes(d.key, list.identityKey)).map((d) => d.key);
}

/**
 * What the chain adapter and the engine take from a roster: this device, its siblings'
 * chains, a contact's devices, and how long this device holds receipts back (returns.ts).
 */
export function rosterChainDevices(
  roster: DeviceRoster,
  staggerMs?: number,
): {
  readonly device: ChainDevice;
  readonly siblings: () => number[];
  readonly devicesOf: (person: Ed25519PublicKey) => Uint8Array[];
  readonly receiptWaitMs: () => number;
} {
  return {
    device: chainDevice(roster.person, roster.self),
    siblings: () => siblingBranches(roster.listOf(roster.person), roster.self),
    devicesOf: (person) => notifyingDevices(roster.listOf(person)),
    receiptWaitMs: () => returnWaitMs(roster.listOf(roster.person), roster.self, staggerMs),
  };
}
