/**
 * The transaction rules the local network enforces, each behind one function that delegates
 * to the shared Kaspa library (`src/kaspa`). The devnet never re-implements them: what the
 * wallet computes and what this node checks are the same code, and both follow FACTS §3–§5.
 */
import { transactionHash as txHash, transactionId as txId } from '../kaspa/txid.ts';
import { SignError, verifyInputSignature } from '../kaspa/sign.ts';
import {
  P2PK_COMPUTE_BUDGET,
  P2PK_SIG_OP_COUNT,
  computeMass as txComputeMass,
  normalizedMass as txNormalizedMass,
  normalizedTransientMass as txNormalizedTransientMass,
  storageMass as txStorageMass,
  transientMass as txTransientMass,
} from '../kaspa/mass.ts';
import { minimumRelayFee as txMinimumRelayFee } from '../kaspa/fee.ts';
import { scriptClass, type ScriptClass } from '../kaspa/script.ts';
import { isCoinbase } from '../kaspa/transaction.ts';
import type { ScriptPublicKey, Transaction, TxId, UtxoEntry } from '../kaspa/types.ts';

/** Transaction id (FACTS §3.4): v0 keyed BLAKE2b, v1 BLAKE3 over payload and rest digests. */
export function transactionId(tx: Transaction): TxId {
  return txId(tx);
}

/** Transaction hash (FACTS §3.4), the leaf of a block's hashMerkleRoot. */
export function transactionHash(tx: Transaction): Uint8Array {
  return txHash(tx);
}

/** Whether a transaction is a coinbase (subnetwork `01` ‖ 19×`00`, FACTS §3.1). */
export function isCoinbaseTransaction(tx: Transaction): boolean {
  return isCoinbase(tx);
}

/** Outcome of running an input's signature script against the coin it spends. */
export type ScriptResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

const SCRIPT_UNITS_PER_SIGOP = 100_000;
const SCRIPT_UNITS_PER_BUDGET_UNIT = 10_000;
const FREE_SCRIPT_UNITS = 9_999;

/**
 * Checks input `index` as the script engine would for the standard P2PK classes: the committed
 * execution budget must cover one signature check (FACTS §3.6), then the signature must verify
 * (FACTS §3.5). The error text is the node's `TxScriptError` display.
 */
export function checkInputScript(tx: Transaction, index: number, spent: readonly UtxoEntry[]): ScriptResult {
  const input = tx.inputs[index]!;
  const limit =
    tx.version === 0
      ? input.sigOpCount * SCRIPT_UNITS_PER_SIGOP + FREE_SCRIPT_UNITS
      : input.computeBudget * SCRIPT_UNITS_PER_BUDGET_UNIT + FREE_SCRIPT_UNITS;
  const committed =
    tx.version === 0 ? input.sigOpCount >= P2PK_SIG_OP_COUNT : input.computeBudget >= P2PK_COMPUTE_BUDGET;
  try {
    const valid = verifyInputSignature(tx, index, spent);
    if (!committed) {
      return {
        ok: false,
        error: `script units exceeded the amount committed in the input: used=${SCRIPT_UNITS_PER_SIGOP + 1}, limit=${limit}`,
      };
    }
    return valid ? { ok: true } : { ok: false, error: 'false stack entry at end of script execution' };
  } catch (e) {
    // P2SH and non-standard spends need a full script engine, which this network does not run.
    if (e instanceof SignError) return { ok: false, error: `unsupported script: ${e.message}` };
    throw e;
  }
}

/** Compute mass (FACTS §4.2). */
export function computeMass(tx: Transaction): bigint {
  return txComputeMass(tx);
}

/** Transient mass (FACTS §4.2, KIP-13). */
export function transientMass(tx: Transaction): bigint {
  return txTransientMass(tx);
}

/** Transient mass scaled to the compute limit (FACTS §4.4): the fee floor's transient term. */
export function normalizedTransientMass(tx: Transaction): bigint {
  return txNormalizedTransientMass(tx);
}

/** Storage mass (FACTS §4.3, KIP-9); undefined when incomputable. */
export function storageMass(tx: Transaction, spent: readonly UtxoEntry[]): bigint | undefined {
  return txStorageMass(tx, spent);
}

/** max(compute, normalized transient, normalized storage): what a feerate is priced on (FACTS §4.4). */
export function normalizedMass(tx: Transaction, spent: readonly UtxoEntry[]): bigint | undefined {
  return txNormalizedMass(tx, spent);
}

/** Minimum relay fee (FACTS §4.5): 100 sompi per gram of max(compute, ⌈transient/2⌉). */
export function minimumRelayFee(tx: Transaction): bigint {
  return txMinimumRelayFee(tx);
}

/** Standard script class of a script public key (FACTS §1.4, §4.5). */
export function standardClass(spk: ScriptPublicKey): ScriptClass {
  return scriptClass(spk);
}
