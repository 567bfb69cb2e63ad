/**
 * Which of a person's devices returns a contact's coins (docs/devices.md §8). Every device
 * watches the same addresses, so every device sees a contact's notification coin and owes the
 * delivered receipt whose publication returns it. Made by each, that would be one return per
 * device. Instead the devices are ranked by device key (lowest first); the first returns at
 * once, the one of rank r holds its receipts back r × `RETURN_STAGGER_MS`. The first one's
 * publication carries a copy of its delivered receipts to its siblings (sessions.ts), found on
 * chain by its change (branch.ts); a sibling that is still holding the same receipts records
 * them as returned by a sibling and publishes nothing. When the first device is offline, the
 * next one returns after its wait: nothing is left unreturned.
 */
import type { DeviceList } from './device-list.ts';

/** Orders byte strings lexicographically (device keys are all 32 bytes). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * Hold per rank: above the longest delay of a receipt publication after it is built (60 s,
 * docs/privacy.md "Timing"), with time for its acceptance and for the sibling to fetch it.
 */
export const RETURN_STAGGER_MS = 90_000;

/** The rank of device `self` among the devices of `list` (0: it returns first, or no list). */
export function returnRank(list: DeviceList | undefined, self: Uint8Array): number {
  if (list === undefined) return 0;
  const keys = list.devices.map((d) => d.key).sort(compareBytes);
  const i = keys.findIndex((k) => compareBytes(k, self) === 0);
  return i < 0 ? 0 : i;
}

/** How long device `self` holds back delivered receipts alone (DeliveryOptions `receiptWaitMs`). */
export function returnWaitMs(
  list: DeviceList | undefined,
  self: Uint8Array,
  staggerMs: number = RETURN_STAGGER_MS,
): number {
  return returnRank(list, self) * staggerMs;
}
