/**
 * Which sessions one message is encrypted under (docs/devices.md §4): Sesame's client-side
 * fan-out ("Sending messages": encrypt to every device of the recipient and to every other
 * device of the sender), computed from the two verified device lists alone, so the engine that
 * packs one chain publication can call it without knowing how lists arrive.
 *
 * Pure: no clock, no storage. A device that is not in the lists gets nothing; a removed
 * device is absent from the newest list, so from the next message on no session to it is used
 * (the removal guarantee of docs/devices.md §7).
 */
import { equalBytes } from '../../util/bytes.ts';
import { asEd25519PublicKey, type Ed25519PublicKey } from '../identity/keys.ts';
import { devicesOf, type DeviceKey, type DeviceList } from './device-list.ts';
import { DeviceError } from './errors.ts';

/** Whose device a target is: the conversation's other person, or one of our own. */
export type FanOutOwner = 'recipient' | 'own';

/** One session a message goes out under: a pair (our sending device, `device`). */
export interface FanOutTarget {
  readonly device: DeviceKey;
  readonly owner: FanOutOwner;
}

/** What the sender knows when it sends. */
export interface FanOutInput {
  /** Our identity key and our newest verified list (undefined: a single-device profile). */
  readonly ours: { readonly identityKey: Ed25519PublicKey; readonly list: DeviceList | undefined };
  /** The recipient's identity key and newest verified list (undefined: no list heard yet). */
  readonly theirs: { readonly identityKey: Ed25519PublicKey; readonly list: DeviceList | undefined };
  /** The device that sends (its device key). */
  readonly self: DeviceKey;
}

/**
 * The targets of one message, recipient devices first (in list order), then our other devices;
 * never `self`, never one device twice (a note to ourselves goes to our other devices only).
 * DeviceError NOT_LISTED when `self` is not in our own list: a removed device must not go on
 * sending as the person; WRONG_IDENTITY when a list is not the named identity's.
 */
export function fanOut(input: FanOutInput): FanOutTarget[] {
  const self = asEd25519PublicKey(input.self, 'self');
  const own = devicesOf(input.ours.list, input.ours.identityKey);
  if (!own.some((k) => equalBytes(k, self)))
    throw new DeviceError('NOT_LISTED', 'This device was removed from its own device list; it cannot send.');
  const theirs = devicesOf(input.theirs.list, input.theirs.identityKey);
  const out: FanOutTarget[] = [];
  const push = (device: DeviceKey, owner: FanOutOwner): void => {
    if (equalBytes(device, self) || out.some((t) => equalBytes(t.device, device))) return;
    out.push({ device, owner });
  };
  const toSelf = equalBytes(input.ours.identityKey, input.theirs.identityKey);
  if (!toSelf) for (const d of theirs) push(d, 'recipient');
  for (const d of own) push(d, 'own');
  return out;
}
