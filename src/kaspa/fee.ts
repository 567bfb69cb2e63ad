/**
 * Fees (FACTS §4.5, §4.6). The node's floor is 100 sompi per gram of max(compute, normalized
 * transient) mass; storage mass is not in the floor but is in the feerate a block template
 * ranks by, so a builder pays max(floor, feerate × normalized mass).
 */
import { MAX_SOMPI } from './types.ts';
import type { Transaction } from './types.ts';
import { computeMass, normalizedTransientMass } from './mass.ts';

/** Minimum relay feerate at Toccata, in sompi per gram (FACTS §4.5). */
export const MIN_RELAY_FEE_RATE: bigint = 100n;

/** The node's minimum-fee unit is sompi per kilogram (`minimum_relay_transaction_fee` = 100,000). */
const MIN_RELAY_FEE_PER_KILOGRAM = MIN_RELAY_FEE_RATE * 1000n;

/** The mass the relay floor is priced on: max(compute, ceil(transient / 2)) (FACTS §4.5). */
export function feeMass(tx: Transaction): bigint {
  const compute = computeMass(tx);
  const transient = normalizedTransientMass(tx);
  return compute > transient ? compute : transient;
}

/** Smallest fee the mempool relays `tx` for: floor(feeMass × 100,000 / 1000), at least 100,000 if 0. */
export function minimumRelayFee(tx: Transaction): bigint {
  let fee = (feeMass(tx) * MIN_RELAY_FEE_PER_KILOGRAM) / 1000n;
  if (fee === 0n) fee = MIN_RELAY_FEE_PER_KILOGRAM;
  return fee > MAX_SOMPI ? MAX_SOMPI : fee;
}

/** Feerate resolution: node estimates are f64 sompi/gram, kept here to 1/1000 sompi per gram. */
const FEERATE_SCALE = 1000n;

/**
 * Fee for `mass` grams at `feerate` sompi/gram (a live `getFeeEstimate` bucket), rounded up so
 * the resulting feerate is never below the requested one.
 */
export function feeForMass(mass: bigint, feerate: number): bigint {
  if (typeof mass !== 'bigint' || mass < 0n) throw new RangeError(`"mass" expected a non-negative bigint`);
  if (typeof feerate !== 'number' || !Number.isFinite(feerate) || feerate < 0) {
    throw new RangeError(`"feerate" expected a finite non-negative number, got ${String(feerate)}`);
  }
  const scaled = BigInt(Math.ceil(feerate * Number(FEERATE_SCALE)));
  return (mass * scaled + FEERATE_SCALE - 1n) / FEERATE_SCALE;
}
