/**
 * The address a group message's one notification coin goes to (docs/groups.md §5): a stealth
 * key of the sender's own (its notify key, handed out with its sender key), tweaked by a value
 * only holders of the sender key can derive, so members find the coin by watching a few
 * addresses per sender while nobody else can tell it from any other fresh address, and only the
 * sender can spend it back. The construction of docs/protocol.md "Chain transactions and
 * addresses" (P_k = lift_x(D) + t·G), with t from the sender chain instead of a pairwise secret.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToHex } from '../../util/bytes.ts';
import { tweakPrivateKey, tweakPublicKey } from '../delivery/addresses/stealth.ts';
import type { MessageKeys } from './sender-key.ts';

const N = secp256k1.Point.Fn.ORDER;

function tweakOf(keys: MessageKeys): bigint {
  const t = BigInt(`0x${bytesToHex(keys.tweak)}`) % N;
  // Zero has probability 2^-256; mapped to 1 as the pairwise notification tweak is.
  return t === 0n ? 1n : t;
}

/** The x-only key of the address message `keys` notifies on, for the sender's `notifyKey`. */
export function notificationKey(notifyKey: Uint8Array, keys: MessageKeys): Uint8Array {
  return tweakPublicKey(notifyKey, tweakOf(keys));
}

/** The private key that spends the notification coin, for the holder of the notify key's secret. */
export function notificationSecret(notifySecret: Uint8Array, keys: MessageKeys): Uint8Array {
  return tweakPrivateKey(notifySecret, tweakOf(keys));
}
