/**
 * Transaction mass (FACTS §4): compute and transient mass from the estimated serialized size,
 * KIP-9 storage mass from the values created and destroyed, and their normalization against
 * the per-block limits that Toccata set separately for each dimension.
 */
import { assertSpentEntries, assertTransaction, isCoinbase } from './transaction.ts';
import type { ScriptPublicKey, Transaction, UtxoEntry } from './types.ts';

/** Per-block mass limits at Toccata, one per dimension (FACTS §4.4). */
export const MASS_LIMITS: { readonly compute: bigint; readonly storage: bigint; readonly transient: bigint } =
  Object.freeze({ compute: 500_000n, storage: 500_000n, transient: 1_000_000n });

/** Mass parameters of FACTS §4.2, §4.3 (`consensus/core/src/config/params.rs`). */
export const MASS_PER_TX_BYTE = 1n;
export const MASS_PER_SCRIPT_PUB_KEY_BYTE = 10n;
export const GRAMS_PER_SIGOP_COUNT_UNIT = 1000n;
export const GRAMS_PER_COMPUTE_BUDGET_UNIT = 100n;
export const TRANSIENT_BYTE_TO_MASS_FACTOR = 4n;
/** KIP-9 storage mass parameter C = 10^12 (FACTS §4.3). */
export const STORAGE_MASS_PARAMETER = 10n ** 12n;

const U64_MAX = (1n << 64n) - 1n;

/** Sig-op count (v0) or compute budget (v1) a P2PK spend needs (FACTS §3.6). */
export const P2PK_SIG_OP_COUNT = 1;
export const P2PK_COMPUTE_BUDGET = 10;

/**
 * Estimated serialized size of FACTS §4.1 (`transaction_estimated_serialized_size`). It counts
 * a fixed 32 bytes for the payload hash and 34 per covenant, which the wire format does not.
 */
export function transactionSerializedSize(tx: Transaction): bigint {
  assertTransaction(tx);
  return serializedSize(tx);
}

function serializedSize(tx: Transaction): bigint {
  const v1 = tx.version >= 1;
  let size = 2 + 8;
  for (const i of tx.inputs) size += 32 + 4 + 8 + i.signatureScript.length + 8 + (v1 ? 2 : 0);
  size += 8;
  for (const o of tx.outputs) size += 8 + 2 + 8 + o.scriptPublicKey.script.length + (o.covenant ? 2 + 32 : 0);
  size += 8 + 20 + 8 + 32 + 8 + tx.payload.length;
  return BigInt(size);
}

/**
 * Compute mass (FACTS §4.2): size, plus 10 grams per output SPK byte (version included), plus
 * the committed script budget: 1000 grams per sig-op (v0) or 100 per compute-budget unit (v1).
 */
export function computeMass(tx: Transaction): bigint {
  assertTransaction(tx);
  if (isCoinbase(tx)) return 0n;
  let spkBytes = 0n;
  for (const o of tx.outputs) spkBytes += 2n + BigInt(o.scriptPublicKey.script.length);
  let script = 0n;
  for (const i of tx.inputs) {
    script +=
      tx.version >= 1
        ? BigInt(i.computeBudget) * GRAMS_PER_COMPUTE_BUDGET_UNIT
        : BigInt(i.sigOpCount) * GRAMS_PER_SIGOP_COUNT_UNIT;
  }
  return serializedSize(tx) * MASS_PER_TX_BYTE + spkBytes * MASS_PER_SCRIPT_PUB_KEY_BYTE + script;
}

/** Transient mass (KIP-13, FACTS §4.2): 4 grams per estimated byte. */
export function transientMass(tx: Transaction): bigint {
  assertTransaction(tx);
  if (isCoinbase(tx)) return 0n;
  return serializedSize(tx) * TRANSIENT_BYTE_TO_MASS_FACTOR;
}

/** KIP-9 plurality: storage units a UTXO occupies, 1 for every standard script (FACTS §4.3). */
export function plurality(spk: ScriptPublicKey, hasCovenantId: boolean): bigint {
  const bytes = 63 + spk.script.length + (hasCovenantId ? 32 : 0);
  return BigInt(Math.ceil(bytes / 100));
}

interface Plural {
  readonly amount: bigint;
  readonly plurality: bigint;
}

/**
 * KIP-9 storage mass (FACTS §4.3) from the raw values. Exported for planning a transaction
 * before its scripts are known. Returns undefined only where the node gets no number: an output
 * term that overflows u64 (its `checked_mul`/`checked_add`: incomputable, rejected), and the
 * divisions by zero that consensus rules out before mass is computed (a zero-value output or
 * input on the harmonic path, no inputs). A mean input amount below one sompi is not one of
 * them: the node floors it at 1 (`calc_storage_mass`, consensus/core/src/mass/mod.rs).
 */
export function storageMassOf(inputs: readonly Plural[], outputs: readonly Plural[]): bigint | undefined {
  let outsPlurality = 0n;
  let harmonicOuts = 0n;
  for (const o of outputs) {
    // Zero-value outputs are invalid before mass is computed; treat them as incomputable.
    if (o.amount === 0n) return undefined;
    const numerator = STORAGE_MASS_PARAMETER * o.plurality * o.plurality;
    if (numerator > U64_MAX) return undefined; // the node's checked_mul
    harmonicOuts += numerator / o.amount;
    outsPlurality += o.plurality;
    if (harmonicOuts > U64_MAX) return undefined;
  }
  let insPlurality = 0n;
  for (const i of inputs) insPlurality += i.plurality;
  const relaxed =
    outsPlurality === 1n ||
    (inputs.length <= 2 && (insPlurality === 1n || (outsPlurality === 2n && insPlurality === 2n)));
  if (relaxed) {
    // The node sums input terms with saturation, so a huge sum only lowers the mass to 0.
    let harmonicIns = 0n;
    for (const i of inputs) {
      if (i.amount === 0n) return undefined;
      harmonicIns += (STORAGE_MASS_PARAMETER * i.plurality * i.plurality) / i.amount;
    }
    return harmonicOuts > harmonicIns ? harmonicOuts - harmonicIns : 0n;
  }
  let sumIns = 0n;
  for (const i of inputs) sumIns += i.amount;
  if (sumIns > U64_MAX || insPlurality === 0n) return undefined;
  // mean = max(1, Σ amounts / Σ plurality), as the node takes it (`(sum_ins / ins_plurality).max(1)`
  // in consensus/core/src/mass/mod.rs `calc_storage_mass`): a mean below one sompi counts as one,
  // so such inputs free C per plurality unit and the result is a number, never incomputable.
  let mean = sumIns / insPlurality;
  if (mean === 0n) mean = 1n;
  // Saturating, like the node's `saturating_mul`: a larger subtrahend only clamps the result at 0.
  const arithmeticIns = insPlurality * (STORAGE_MASS_PARAMETER / mean);
  return harmonicOuts > arithmeticIns ? harmonicOuts - arithmeticIns : 0n;
}

/** Storage mass of a transaction spending `spent`; undefined = incomputable, so rejected. */
export function storageMass(tx: Transaction, spent: readonly UtxoEntry[]): bigint | undefined {
  assertTransaction(tx);
  assertSpentEntries(tx, spent);
  if (isCoinbase(tx)) return 0n;
  return storageMassOf(
    spent.map((e) => ({
      amount: e.amount,
      plurality: plurality(e.scriptPublicKey, e.covenantId !== undefined),
    })),
    tx.outputs.map((o) => ({
      amount: o.value,
      plurality: plurality(o.scriptPublicKey, o.covenant !== undefined),
    })),
  );
}

/** Normalization factors (FACTS §4.4): transient counts half, storage counts fully, at Toccata. */
function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

/** Transient mass scaled to the compute limit: ceil(transient × 500k / 1M). */
export function normalizedTransientMass(tx: Transaction): bigint {
  return ceilDiv(transientMass(tx) * MASS_LIMITS.compute, MASS_LIMITS.transient);
}

/**
 * The mass a feerate is priced on: max(compute, normalized transient, normalized storage)
 * (FACTS §4.4, `MutableTransaction::calculated_feerate`). Undefined when storage is incomputable.
 */
export function normalizedMass(tx: Transaction, spent: readonly UtxoEntry[]): bigint | undefined {
  const storage = storageMass(tx, spent);
  if (storage === undefined) return undefined;
  const normalizedStorage = ceilDiv(storage * MASS_LIMITS.compute, MASS_LIMITS.storage);
  const compute = computeMass(tx);
  const transient = normalizedTransientMass(tx);
  let m = compute;
  if (transient > m) m = transient;
  if (normalizedStorage > m) m = normalizedStorage;
  return m;
}
