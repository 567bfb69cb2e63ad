/**
 * Transaction builder with coin selection. It never returns a transaction a Toccata node would
 * refuse for mass or fee (FACTS §4.4, §4.5): every candidate is measured with placeholder
 * signature scripts of the final length, and the fee is max(minimum relay fee, feerate ×
 * normalized mass) so that storage mass is paid for too (FACTS §4.6). When it cannot build, it
 * says why with a BuildError code.
 */
import { P2pCommError, assertBigInt, assertBytes } from '../util/errors.ts';
import { Address, addressToScriptPublicKey } from './address.ts';
import { feeForMass, minimumRelayFee } from './fee.ts';
import {
  MASS_LIMITS,
  P2PK_COMPUTE_BUDGET,
  P2PK_SIG_OP_COUNT,
  STORAGE_MASS_PARAMETER,
  computeMass,
  normalizedMass,
  plurality,
  storageMass,
  storageMassOf,
  transientMass,
  transactionSerializedSize,
} from './mass.ts';
import { P2PK_SIGNATURE_SCRIPT_LENGTH, scriptClass } from './script.ts';
import { MAX_SOMPI, NATIVE_SUBNETWORK_ID } from './types.ts';
import { outpointKey } from './utxo-watcher.ts';
import type { ScriptPublicKey, Transaction, TxInput, TxOutput, Utxo, UtxoEntry } from './types.ts';

/** Why a transaction could not be built. */
export class BuildError extends P2pCommError<
  | 'INSUFFICIENT_FUNDS'
  | 'STORAGE_MASS_TOO_HIGH'
  | 'COMPUTE_MASS_TOO_HIGH'
  | 'TRANSIENT_MASS_TOO_HIGH'
  | 'PAYLOAD_TOO_LARGE'
  | 'TOO_MANY_INPUTS'
  | 'UNSPENDABLE_INPUT'
  | 'NO_OUTPUTS'
> {}

/** A payment: where and how much. */
export interface PaymentOutput {
  readonly to: Address | ScriptPublicKey;
  readonly amount: bigint;
}

/** Masses of a built transaction, as the node computes them (FACTS §4). */
export interface TransactionMasses {
  readonly size: bigint;
  readonly compute: bigint;
  readonly transient: bigint;
  readonly storage: bigint;
  readonly normalized: bigint;
}

/** An unsigned transaction ready for `signTransaction(tx, spent, keys)`. */
export interface BuiltTransaction {
  /** Unsigned (empty signature scripts), storage mass committed. */
  readonly tx: Transaction;
  /** The coins spent, in input order. */
  readonly utxos: readonly Utxo[];
  /** Their entries, in input order: the `spent` argument of the signer. */
  readonly spent: readonly UtxoEntry[];
  readonly fee: bigint;
  /** Change paid back, 0 when there is no change output (it is always the last output). */
  readonly change: bigint;
  /** Masses measured with final-length signature scripts. */
  readonly mass: TransactionMasses;
}

/** Options shared by every builder entry point. */
export interface BuildOptions {
  /** Transaction version; 0 like the reference wallet (FACTS §0). */
  readonly version?: 0 | 1;
  readonly payload?: Uint8Array;
  /** Largest payload accepted; 64 KiB by default (NOTES §2: keep a chunk well below 250 KB). */
  readonly maxPayloadBytes?: number;
  /** Live feerate in sompi/gram (`getFeeEstimate`); the relay floor alone when absent. */
  readonly feerate?: number;
  /** Ceiling on storage mass; the node limit by default (FACTS §4.4). */
  readonly maxStorageMass?: bigint;
  /** Ceiling on compute mass; the node limit by default. */
  readonly maxComputeMass?: bigint;
}

/** Default payload ceiling: NOTES §2 asks for chunks of tens of KB, well below 250 KB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024;
/** Consensus maximum number of inputs per transaction (FACTS §3.1). */
export const MAX_TX_INPUTS = 1000;

function spkOf(to: Address | ScriptPublicKey): ScriptPublicKey {
  return to instanceof Address ? addressToScriptPublicKey(to) : to;
}

/** The input a P2PK spend of `utxo` needs, with a placeholder signature of the final length. */
function inputFor(utxo: Utxo, version: 0 | 1, placeholder: boolean): TxInput {
  const cls = scriptClass(utxo.entry.scriptPublicKey);
  if (cls !== 'PubKey' && cls !== 'PubKeyECDSA') {
    throw new BuildError('UNSPENDABLE_INPUT', `coin ${utxo.outpoint.index} is locked by a ${cls} script`);
  }
  return {
    previousOutpoint: utxo.outpoint,
    signatureScript: placeholder ? new Uint8Array(P2PK_SIGNATURE_SCRIPT_LENGTH) : new Uint8Array(0),
    sequence: 0n,
    sigOpCount: version === 0 ? P2PK_SIG_OP_COUNT : 0,
    computeBudget: version === 1 ? P2PK_COMPUTE_BUDGET : 0,
  };
}

interface Resolved {
  readonly version: 0 | 1;
  readonly payload: Uint8Array;
  readonly feerate: number | undefined;
  readonly maxStorage: bigint;
  readonly maxCompute: bigint;
}

function resolve(opts: BuildOptions): Resolved {
  const version = opts.version ?? 0;
  if (version !== 0 && version !== 1)
    throw new RangeError(`"version" expected 0 or 1, got ${String(version)}`);
  const payload = opts.payload ?? new Uint8Array(0);
  assertBytes('payload', payload);
  const maxPayload = opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (payload.length > maxPayload) {
    throw new BuildError('PAYLOAD_TOO_LARGE', `payload of ${payload.length} bytes exceeds ${maxPayload}`);
  }
  if (opts.feerate !== undefined && (!Number.isFinite(opts.feerate) || opts.feerate < 0)) {
    throw new RangeError(`"feerate" expected a finite non-negative number`);
  }
  return {
    version,
    payload,
    feerate: opts.feerate,
    maxStorage: opts.maxStorageMass ?? MASS_LIMITS.storage,
    maxCompute: opts.maxComputeMass ?? MASS_LIMITS.compute,
  };
}

function assemble(
  r: Resolved,
  utxos: readonly Utxo[],
  outputs: readonly TxOutput[],
  placeholder: boolean,
): Transaction {
  return {
    version: r.version,
    inputs: utxos.map((u) => inputFor(u, r.version, placeholder)),
    outputs,
    lockTime: 0n,
    subnetworkId: NATIVE_SUBNETWORK_ID,
    gas: 0n,
    payload: r.payload,
    storageMass: 0n,
  };
}

/** Fee for a measured transaction: max(relay floor, feerate × normalized mass). */
function feeFor(r: Resolved, tx: Transaction, normalized: bigint): bigint {
  const floor = minimumRelayFee(tx);
  if (r.feerate === undefined) return floor;
  const byRate = feeForMass(normalized, r.feerate);
  return byRate > floor ? byRate : floor;
}

type Failure = { readonly ok: false; readonly code: BuildError['code']; readonly message: string };
type Measured = {
  readonly ok: true;
  readonly tx: Transaction;
  readonly spent: readonly UtxoEntry[];
  readonly mass: TransactionMasses;
  /** Fee this shape must pay: max(relay floor, feerate × normalized mass). */
  readonly needed: bigint;
};

/** Measures a candidate with final-length signature scripts and checks every mass limit. */
function measure(r: Resolved, utxos: readonly Utxo[], outputs: readonly TxOutput[]): Measured | Failure {
  if (utxos.length > MAX_TX_INPUTS) {
    return { ok: false, code: 'TOO_MANY_INPUTS', message: `${utxos.length} inputs exceed ${MAX_TX_INPUTS}` };
  }
  const spent = utxos.map((u) => u.entry);
  const measured = assemble(r, utxos, outputs, true);
  const size = transactionSerializedSize(measured);
  const compute = computeMass(measured);
  const transient = transientMass(measured);
  if (transient > MASS_LIMITS.transient) {
    return {
      ok: false,
      code: r.payload.length > 0 ? 'PAYLOAD_TOO_LARGE' : 'TRANSIENT_MASS_TOO_HIGH',
      message: `transient mass ${transient} exceeds ${MASS_LIMITS.transient}`,
    };
  }
  if (compute > r.maxCompute) {
    return {
      ok: false,
      code: 'COMPUTE_MASS_TOO_HIGH',
      message: `compute mass ${compute} exceeds ${r.maxCompute}`,
    };
  }
  const storage = storageMass(measured, spent);
  if (storage === undefined || storage > r.maxStorage) {
    return {
      ok: false,
      code: 'STORAGE_MASS_TOO_HIGH',
      message: `storage mass ${storage ?? 'incomputable'} exceeds ${r.maxStorage}`,
    };
  }
  const normalized = normalizedMass(measured, spent)!;
  const tx = { ...assemble(r, utxos, outputs, false), storageMass: storage };
  return {
    ok: true,
    tx,
    spent,
    mass: { size, compute, transient, storage, normalized },
    needed: feeFor(r, measured, normalized),
  };
}

function built(m: Measured, utxos: readonly Utxo[], fee: bigint, change: bigint): BuiltTransaction {
  return { tx: m.tx, utxos, spent: m.spent, fee, change, mass: m.mass };
}

const sum = (xs: readonly bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);

/**
 * Prices fixed inputs and outputs, with whatever is left after the fee as change to `changeTo`.
 * Fee and change depend on each other through storage mass, so this iterates to a fixed point
 * (the fee only grows, so it ends). A change that cannot stand on its own (storage mass of a
 * tiny output, or nothing left) is left to the fee when it is at most `maxAbsorbed`, or at
 * most the fee itself when `maxAbsorbed` is undefined (more coins could still be added).
 */
function priceWithChange(
  r: Resolved,
  utxos: readonly Utxo[],
  outputs: readonly TxOutput[],
  changeTo: ScriptPublicKey,
  maxAbsorbed: bigint | undefined,
): BuiltTransaction | Failure {
  const totalIn = sum(utxos.map((u) => u.entry.amount));
  const totalOut = sum(outputs.map((o) => o.value));
  let fee = 0n;
  let failure: Failure | undefined;
  for (let round = 0; round < 32; round++) {
    const change = totalIn - totalOut - fee;
    if (change <= 0n) {
      failure = {
        ok: false,
        code: 'INSUFFICIENT_FUNDS',
        message: `coins ${totalIn} < outputs ${totalOut} + fee ${fee}`,
      };
      break;
    }
    const m = measure(r, utxos, [...outputs, { value: change, scriptPublicKey: changeTo }]);
    if (!m.ok) {
      failure = m;
      break;
    }
    if (m.needed <= fee) return built(m, utxos, fee, change);
    fee = m.needed;
  }
  failure ??= { ok: false, code: 'INSUFFICIENT_FUNDS', message: 'fee did not converge' };
  if (failure.code !== 'STORAGE_MASS_TOO_HIGH' && failure.code !== 'INSUFFICIENT_FUNDS') return failure;
  const m = measure(r, utxos, outputs);
  if (!m.ok) return failure;
  const fee0 = totalIn - totalOut;
  if (fee0 >= m.needed && fee0 - m.needed <= (maxAbsorbed ?? m.needed)) return built(m, utxos, fee0, 0n);
  return failure;
}

/**
 * Prices fixed inputs whose outputs carry the fee themselves: `shape(fee)` gives the outputs
 * for a fee, and the fee grows until the shape pays for itself (sweeps and 2-coin returns).
 */
function priceFeeFromOutputs(
  r: Resolved,
  utxos: readonly Utxo[],
  shape: (fee: bigint) => TxOutput[] | undefined,
): BuiltTransaction {
  let fee = 0n;
  for (let round = 0; round < 32; round++) {
    const outputs = shape(fee);
    if (outputs === undefined) throw new BuildError('INSUFFICIENT_FUNDS', `coins do not cover fee ${fee}`);
    const m = measure(r, utxos, outputs);
    if (!m.ok) throw new BuildError(m.code, m.message);
    if (m.needed <= fee) return built(m, utxos, fee, 0n);
    fee = m.needed;
  }
  throw new BuildError('INSUFFICIENT_FUNDS', 'fee did not converge');
}

/**
 * Largest change that may be left to the fee instead of creating a change output: the value
 * whose own storage mass alone would be a fifth of the limit (C / 100,000 grams = 0.1 KAS).
 */
export const MAX_ABSORBED_CHANGE = STORAGE_MASS_PARAMETER / 100_000n;

function toOutputs(payments: readonly PaymentOutput[]): TxOutput[] {
  return payments.map((p, i) => {
    assertBigInt(`outputs[${i}].amount`, p.amount, 1n, MAX_SOMPI);
    return { value: p.amount, scriptPublicKey: spkOf(p.to) };
  });
}

/** Request of `buildTransaction`. */
export interface BuildRequest extends BuildOptions {
  /** Coins that may be spent. */
  readonly utxos: readonly Utxo[];
  /** Coins that must be spent (e.g. a notification coin being returned), first in input order. */
  readonly requiredUtxos?: readonly Utxo[];
  readonly outputs: readonly PaymentOutput[];
  /** Where change goes. */
  readonly changeAddress: Address;
}

/**
 * Pays `outputs` (and carries `payload`) from `utxos`, largest coins first: fewest inputs, so
 * the least compute mass, and the largest change, so the least storage mass (KIP-9 charges
 * C/value per output). Throws BuildError when no selection fits the limits.
 */
export function buildTransaction(req: BuildRequest): BuiltTransaction {
  const r = resolve(req);
  const outputs = toOutputs(req.outputs);
  if (outputs.length === 0 && req.payload === undefined) throw new BuildError('NO_OUTPUTS', 'nothing to pay');
  const change = addressToScriptPublicKey(req.changeAddress);
  const required = [...(req.requiredUtxos ?? [])];
  const requiredKeys = new Set(required.map((u) => outpointKey(u.outpoint)));
  const candidates = req.utxos
    .filter((u) => !requiredKeys.has(outpointKey(u.outpoint)))
    .sort((a, b) => (a.entry.amount < b.entry.amount ? 1 : a.entry.amount > b.entry.amount ? -1 : 0));
  const selected = [...required];
  let last: BuiltTransaction | Failure | undefined;
  // A leftover change may go to the fee in full (up to MAX_ABSORBED_CHANGE) only once no coin
  // is left to add; before that, only when it is no larger than the fee itself.
  if (selected.length > 0) {
    last = priceWithChange(
      r,
      selected,
      outputs,
      change,
      candidates.length === 0 ? MAX_ABSORBED_CHANGE : undefined,
    );
    if (!('code' in last)) return last;
  }
  for (const [i, coin] of candidates.entries()) {
    selected.push(coin);
    const isLast = i === candidates.length - 1;
    last = priceWithChange(r, selected, outputs, change, isLast ? MAX_ABSORBED_CHANGE : undefined);
    if (!('code' in last)) return last;
    // More inputs only make compute mass worse.
    if (last.code === 'COMPUTE_MASS_TOO_HIGH' || last.code === 'TOO_MANY_INPUTS') break;
    if (last.code === 'PAYLOAD_TOO_LARGE' || last.code === 'TRANSIENT_MASS_TOO_HIGH') break;
  }
  if (last === undefined) throw new BuildError('INSUFFICIENT_FUNDS', 'no coins to spend');
  if ('code' in last) throw new BuildError(last.code, last.message);
  return last;
}

/**
 * Spends every coin into one output (`to`), the fee taken from it. Consolidation and wallet
 * sweep: with a single output the relaxed KIP-9 formula applies, so storage mass is about
 * C/total − Σ C/coin, zero in practice.
 */
export function buildSweep(utxos: readonly Utxo[], to: Address, opts: BuildOptions = {}): BuiltTransaction {
  const r = resolve(opts);
  if (utxos.length === 0) throw new BuildError('INSUFFICIENT_FUNDS', 'no coins to sweep');
  const spk = addressToScriptPublicKey(to);
  const total = sum(utxos.map((u) => u.entry.amount));
  return priceFeeFromOutputs(r, utxos, (fee) =>
    total > fee ? [{ value: total - fee, scriptPublicKey: spk }] : undefined,
  );
}

/**
 * Consolidates many small coins into as few transactions as the compute ceiling allows
 * (default 100,000 grams each, the reference wallet's cap, about 88 P2PK inputs), each paying
 * to `to`. Coins are taken smallest first, the ones that cost most to spend later.
 */
export function buildConsolidation(
  utxos: readonly Utxo[],
  to: Address,
  opts: BuildOptions = {},
): BuiltTransaction[] {
  const maxCompute = opts.maxComputeMass ?? 100_000n;
  const sorted = utxos
    .slice()
    .sort((a, b) => (a.entry.amount < b.entry.amount ? -1 : a.entry.amount > b.entry.amount ? 1 : 0));
  const out: BuiltTransaction[] = [];
  let start = 0;
  while (start < sorted.length) {
    // Largest batch whose compute mass fits, found by bisection on the batch size.
    let lo = 1;
    let hi = Math.min(sorted.length - start, MAX_TX_INPUTS);
    let best: BuiltTransaction | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      try {
        best = buildSweep(sorted.slice(start, start + mid), to, { ...opts, maxComputeMass: maxCompute });
        lo = mid + 1;
      } catch (e) {
        if (e instanceof BuildError && e.code === 'COMPUTE_MASS_TOO_HIGH') hi = mid - 1;
        else throw e;
      }
    }
    if (best === undefined)
      throw new BuildError('COMPUTE_MASS_TOO_HIGH', 'a single input exceeds the compute ceiling');
    out.push(best);
    start += best.utxos.length;
  }
  return out;
}

/** A received coin to send back to whoever sent it (NOTES §1). */
export interface CoinReturn {
  readonly utxo: Utxo;
  readonly to: Address;
}

/**
 * Returns received notification coins to their senders in the 2-in/2-out mirror shape (NOTES
 * §1): one returned coin plus one own coin in; the returned value to its sender and the rest
 * of the own coin as change out. The outputs mirror the inputs, so the relaxed KIP-9 formula
 * gives a storage mass near zero and the return costs only the fee. Two returned coins and no
 * own coin also form a mirror; then the fee is split between the two returns.
 */
export function buildMirrorReturn(
  returns: readonly CoinReturn[],
  ownUtxos: readonly Utxo[],
  changeAddress: Address,
  opts: BuildOptions = {},
): BuiltTransaction {
  if (returns.length === 1) {
    const [ret] = returns as [CoinReturn];
    // The own coin that keeps the shape 2-in/2-out: the largest, so its change stays large.
    return buildTransaction({
      ...opts,
      utxos: ownUtxos
        .slice()
        .sort((a, b) => (a.entry.amount < b.entry.amount ? 1 : -1))
        .slice(0, 1),
      requiredUtxos: [ret.utxo],
      outputs: [{ to: ret.to, amount: ret.utxo.entry.amount }],
      changeAddress,
    });
  }
  if (returns.length === 2) {
    const r = resolve(opts);
    const [a, b] = returns as [CoinReturn, CoinReturn];
    const spkA = addressToScriptPublicKey(a.to);
    const spkB = addressToScriptPublicKey(b.to);
    return priceFeeFromOutputs(r, [a.utxo, b.utxo], (fee) => {
      const half = (fee + 1n) / 2n;
      const va = a.utxo.entry.amount - half;
      const vb = b.utxo.entry.amount - (fee - half);
      // At high feerates the fee taken from two small coins raises their storage mass faster
      // than it is paid, and this ends in INSUFFICIENT_FUNDS: return them one by one instead.
      if (va <= 0n || vb <= 0n) return undefined;
      return [
        { value: va, scriptPublicKey: spkA },
        { value: vb, scriptPublicKey: spkB },
      ];
    });
  }
  throw new RangeError('"returns" expected one or two coins');
}

/**
 * Smallest value an output to a fresh address can carry from a coin of `inputAmount` sompi,
 * with the rest (less `fee`) as change, so that the transaction's storage mass stays within
 * `storageLimit` (FACTS §4.7, NOTES §1). Undefined when no value works.
 */
export function smallestSafeOutput(
  inputAmount: bigint,
  opts: { readonly storageLimit?: bigint; readonly fee?: bigint } = {},
): bigint | undefined {
  assertBigInt('inputAmount', inputAmount, 1n, MAX_SOMPI);
  const limit = opts.storageLimit ?? MASS_LIMITS.storage;
  const fee = opts.fee ?? 0n;
  const p = plurality({ version: 0, script: new Uint8Array(34) }, false);
  const fits = (v: bigint): boolean => {
    const change = inputAmount - v - fee;
    const outs =
      change > 0n
        ? [
            { amount: v, plurality: p },
            { amount: change, plurality: p },
          ]
        : [{ amount: v, plurality: p }];
    const m = storageMassOf([{ amount: inputAmount, plurality: p }], outs);
    return m !== undefined && m <= limit;
  };
  // Storage mass falls as v grows toward the middle of the coin; search the lower half.
  let hi = (inputAmount - fee) / 2n;
  if (hi < 1n || !fits(hi)) return undefined;
  let lo = 1n;
  while (lo < hi) {
    const mid = (lo + hi) / 2n;
    if (fits(mid)) hi = mid;
    else lo = mid + 1n;
  }
  return lo;
}

/**
 * Value of each of `count` notification outputs that keeps a batch within `storageBudget`
 * grams of storage mass. Outputs of value v cost about C/v each whatever coins fund them
 * (NOTES §1), so v = ceil(count × C / budget), with a small reserve for the change output.
 */
export function notificationAmount(count: number, storageBudget: bigint = MASS_LIMITS.storage / 5n): bigint {
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError('"count" expected a positive integer');
  assertBigInt('storageBudget', storageBudget, 1n, MASS_LIMITS.storage);
  // A change output of at least 1 KAS costs at most C / 10^8 = 10,000 grams.
  const reserve = STORAGE_MASS_PARAMETER / 100_000_000n;
  if (storageBudget <= reserve) throw new RangeError('"storageBudget" leaves no room for the outputs');
  const perOutput = (storageBudget - reserve) / BigInt(count);
  return (STORAGE_MASS_PARAMETER + perOutput - 1n) / perOutput;
}
