/**
 * The mempool: admission in the order and with the texts of rusty-kaspa
 * (`mining/src/mempool/validate_and_insert_transaction.rs`): acceptance and duplicate checks,
 * non-contextual mass limits, output standardness, UTXO population (chained mempool spends
 * allowed, orphans refused), consensus validation in isolation and in UTXO context (maturity,
 * amounts, finality, storage mass, signatures), contextual limits, input standardness and the
 * minimum relay fee, and last the double-spend check (replace-by-fee is not offered).
 */
import { bytesToHex } from '../util/bytes.ts';
import {
  MAX_SOMPI,
  NATIVE_SUBNETWORK_ID,
  type Transaction,
  type TxId,
  type UtxoEntry,
} from '../kaspa/types.ts';
import { TxRejectedError, type RejectRule } from './errors.ts';
import {
  BLOCK_MASS_LIMITS,
  COINBASE_SUBNETWORK_ID,
  MAX_GAS_PER_LANE,
  TX_LIMITS,
  UNACCEPTED_DAA_SCORE,
} from './params.ts';
import {
  checkInputScript,
  computeMass,
  isCoinbaseTransaction,
  minimumRelayFee,
  normalizedMass,
  normalizedTransientMass,
  standardClass,
  storageMass,
  transactionId,
  transientMass,
} from './rules.ts';
import { outpointKey } from '../kaspa/utxo-watcher.ts';
import { INITIAL_AVERAGE_MASS, nextAverageMass } from './fee-estimate.ts';

/** What the mempool needs to know about the virtual state. */
export interface MempoolContext {
  /** The virtual UTXO set's coin at an outpoint. */
  utxo(outpoint: { readonly transactionId: TxId; readonly index: number }): UtxoEntry | undefined;
  /** DAA score of the virtual block (the point of view of maturity, FACTS §7.2). */
  virtualDaaScore(): bigint;
  /** Past median time of the virtual block in ms (time-based lock times). */
  pastMedianTime(): bigint;
  /** Whether the virtual chain accepted a transaction with this id. */
  isAccepted(txIdHex: string): boolean;
  /** Coinbase maturity in DAA score (FACTS §7.2: 1,000 on every network). */
  readonly coinbaseMaturity: bigint;
}

/** A transaction admitted to the mempool, with what admission computed about it. */
export interface MempoolEntry {
  /** The transaction with its storage-mass commitment recomputed by the node (FACTS §4.3). */
  readonly tx: Transaction;
  readonly id: TxId;
  readonly idHex: string;
  readonly fee: bigint;
  /** The coins each input spends, in input order. */
  readonly spent: readonly UtxoEntry[];
  readonly computeMass: bigint;
  readonly transientMass: bigint;
  readonly storageMass: bigint;
  /** Normalized mass (FACTS §4.4): the block space the transaction takes. */
  readonly mass: bigint;
  /** fee / normalized mass, the template ordering key. */
  readonly feerate: number;
}

const LOCK_TIME_THRESHOLD = 500_000_000_000n;
const SEQUENCE_FINAL = (1n << 64n) - 1n;

function isZeroTail(id: Uint8Array, from: number): boolean {
  for (let i = from; i < id.length; i++) if (id[i] !== 0) return false;
  return true;
}

/** Transactions waiting for a block, indexed by id and by the outpoints they spend. */
export class Mempool {
  readonly #entries = new Map<string, MempoolEntry>();
  readonly #spentBy = new Map<string, string>();
  #averageMass = INITIAL_AVERAGE_MASS;

  constructor(private readonly ctx: MempoolContext) {}

  /** Number of transactions. */
  get size(): number {
    return this.#entries.size;
  }

  /** Entries in admission order (parents before the children that spend them). */
  entries(): MempoolEntry[] {
    return [...this.#entries.values()];
  }

  /** Entries that spend no other mempool transaction: the ones a block template can take now. */
  ready(): MempoolEntry[] {
    return this.entries().filter((e) =>
      e.tx.inputs.every((i) => !this.#entries.has(bytesToHex(i.previousOutpoint.transactionId))),
    );
  }

  /** Decayed average mass of every transaction admitted so far (the fee estimator's unit of block space). */
  get averageMass(): number {
    return this.#averageMass;
  }

  /** The entry with this id. */
  get(idHex: string): MempoolEntry | undefined {
    return this.#entries.get(idHex);
  }

  /** Id (hex) of the mempool transaction spending an outpoint, if any. */
  spenderOf(outpoint: { readonly transactionId: TxId; readonly index: number }): string | undefined {
    return this.#spentBy.get(outpointKey(outpoint));
  }

  /** Validates and admits a transaction; throws TxRejectedError with the node's text. */
  submit(tx: Transaction): MempoolEntry {
    const entry = this.validate(tx);
    this.insert(entry);
    return entry;
  }

  /** Runs every admission rule without inserting. */
  validate(submitted: Transaction): MempoolEntry {
    const id = transactionId(submitted);
    const idHex = bytesToHex(id);
    const reject = (rule: RejectRule, reason: string): never => {
      throw new TxRejectedError(idHex, rule, reason);
    };
    const nonStandard = (reason: string): never =>
      reject('non-standard', `transaction ${idHex} is not standard: ${reason}`);

    if (this.ctx.isAccepted(idHex))
      reject('already-accepted', `transaction ${idHex} was already accepted by the consensus`);
    if (this.#entries.has(idHex)) reject('duplicate', `transaction ${idHex} is already in the mempool`);

    // Non-contextual masses and their block limits (`validate_transaction_limits_in_isolation`).
    // The isolation checks bounding script sizes run first so the mass arithmetic stays bounded.
    this.#checkInIsolation(submitted, reject);
    const compute = computeMass(submitted);
    const transient = transientMass(submitted);
    if (compute > BLOCK_MASS_LIMITS.compute) {
      reject(
        'compute-mass',
        `transaction compute mass of ${compute} is larger than max allowed size of ${BLOCK_MASS_LIMITS.compute}`,
      );
    }
    if (transient > BLOCK_MASS_LIMITS.transient) {
      reject(
        'transient-mass',
        `transaction transient (storage) mass of ${transient} is larger than max allowed size of ${BLOCK_MASS_LIMITS.transient}`,
      );
    }
    if (submitted.gas > MAX_GAS_PER_LANE) {
      reject(
        'isolation',
        `transaction gas of ${submitted.gas} is larger than max allowed per-lane gas of ${MAX_GAS_PER_LANE}`,
      );
    }
    submitted.outputs.forEach((o, i) => {
      if (o.scriptPublicKey.version > 0) {
        nonStandard(
          `transaction output #${i}: the version of the scriptPublicKey is higher than the known version`,
        );
      }
      if (standardClass(o.scriptPublicKey) === 'NonStandard')
        nonStandard(`transaction output #${i}: non-standard script form`);
    });

    // Populate the spent coins from the UTXO set, then from outputs of mempool transactions.
    const spent: UtxoEntry[] = [];
    for (const input of submitted.inputs) {
      const op = input.previousOutpoint;
      const entry = this.ctx.utxo(op) ?? this.#mempoolOutput(bytesToHex(op.transactionId), op.index);
      if (entry === undefined)
        return reject('orphan', `transaction ${idHex} is an orphan where orphan is disallowed`);
      spent.push(entry);
    }

    // Consensus validation in UTXO context (`tx_validation_in_utxo_context.rs`).
    const povDaaScore = this.ctx.virtualDaaScore();
    spent.forEach((e, i) => {
      if (e.isCoinbase && e.blockDaaScore + this.ctx.coinbaseMaturity > povDaaScore) {
        const op = submitted.inputs[i]!.previousOutpoint;
        reject(
          'immature-spend',
          'one of the transaction inputs spends an immature UTXO: ' +
            `transaction input #${i} tried to spend coinbase outpoint (${bytesToHex(op.transactionId)}, ${op.index}) ` +
            `with daa score of ${e.blockDaaScore}\n    while the merging block daa score is ${povDaaScore} ` +
            `and the coinbase maturity period of ${this.ctx.coinbaseMaturity} hasn't passed yet`,
        );
      }
    });
    let totalIn = 0n;
    for (const e of spent) totalIn += e.amount;
    if (totalIn > MAX_SOMPI)
      reject(
        'spend-too-high',
        `transaction total inputs spending amount is higher than the max allowed of ${MAX_SOMPI}`,
      );
    let totalOut = 0n;
    for (const o of submitted.outputs) totalOut += o.value;
    if (totalIn < totalOut)
      reject(
        'spend-too-high',
        `transaction tries to spend ${totalOut} while its total inputs amount is ${totalIn}`,
      );
    this.#checkFinality(submitted, povDaaScore, reject);
    const storage = storageMass(submitted, spent);
    if (storage === undefined)
      reject('storage-mass-incomputable', 'contextual mass (including storage mass) is incomputable');
    // The node overwrites the submitted commitment with its own value (FACTS §4.3).
    const tx: Transaction = { ...submitted, storageMass: storage! };
    submitted.inputs.forEach((_, i) => {
      const result = checkInputScript(tx, i, spent);
      if (!result.ok) reject('signature', `failed to verify the signature script: ${result.error}`);
    });

    // Contextual limits and standardness (`validate_transaction_limits_in_context`, `check_transaction_standard_in_context`).
    if (storage! > BLOCK_MASS_LIMITS.storage) {
      reject(
        'storage-mass',
        `transaction storage mass of ${storage} is larger than max allowed size of ${BLOCK_MASS_LIMITS.storage}`,
      );
    }
    spent.forEach((e, i) => {
      if (standardClass(e.scriptPublicKey) === 'NonStandard')
        nonStandard(`transaction input ${i}: non-standard script form`);
    });
    const fee = totalIn - totalOut;
    const minimumFee = minimumRelayFee(tx);
    if (fee < minimumFee) {
      const normalizedTransient = normalizedTransientMass(tx);
      if (compute >= normalizedTransient) {
        nonStandard(
          `transaction has ${fee} fees which is under the required amount of ${minimumFee} for compute mass ${compute}`,
        );
      }
      nonStandard(
        `transaction has ${fee} fees which is under the required amount of ${minimumFee} for normalized transient mass ` +
          `${normalizedTransient} (proportional to transaction byte size)`,
      );
    }

    // Double spends against the mempool; replace-by-fee is not offered (`RbfPolicy::Forbidden`).
    for (const input of submitted.inputs) {
      const other = this.#spentBy.get(outpointKey(input.previousOutpoint));
      if (other !== undefined) {
        const op = input.previousOutpoint;
        reject(
          'double-spend',
          `output (${bytesToHex(op.transactionId)}, ${op.index}) already spent by transaction ${other} in the mempool`,
        );
      }
    }

    const normalized = normalizedMass(tx, spent) ?? 1n;
    const mass = normalized === 0n ? 1n : normalized;
    return {
      tx,
      id,
      idHex,
      fee,
      spent,
      computeMass: compute,
      transientMass: transient,
      storageMass: storage!,
      mass,
      feerate: Number(fee) / Number(mass),
    };
  }

  /** Inserts an already validated entry. */
  insert(entry: MempoolEntry): void {
    this.#entries.set(entry.idHex, entry);
    this.#averageMass = nextAverageMass(this.#averageMass, Number(entry.mass));
    for (const input of entry.tx.inputs) this.#spentBy.set(outpointKey(input.previousOutpoint), entry.idHex);
  }

  /** Removes a transaction (and, when `withRedeemers`, every mempool transaction spending its outputs). */
  remove(idHex: string, withRedeemers = true): MempoolEntry[] {
    const entry = this.#entries.get(idHex);
    if (entry === undefined) return [];
    this.#entries.delete(idHex);
    for (const input of entry.tx.inputs) {
      const key = outpointKey(input.previousOutpoint);
      if (this.#spentBy.get(key) === idHex) this.#spentBy.delete(key);
    }
    const removed = [entry];
    if (withRedeemers) {
      entry.tx.outputs.forEach((_, index) => {
        const child = this.#spentBy.get(`${idHex}:${index}`);
        if (child !== undefined) removed.push(...this.remove(child, true));
      });
    }
    return removed;
  }

  /**
   * After a block: drops the transactions it accepted and every transaction that now
   * conflicts with it (an input already spent on chain), as `handle_new_block_transactions` does.
   */
  handleAccepted(accepted: readonly Transaction[]): MempoolEntry[] {
    const dropped: MempoolEntry[] = [];
    for (const tx of accepted) {
      const idHex = bytesToHex(transactionId(tx));
      if (this.#entries.has(idHex)) this.remove(idHex, false);
      for (const input of tx.inputs) {
        const conflicting = this.#spentBy.get(outpointKey(input.previousOutpoint));
        if (conflicting !== undefined && conflicting !== idHex)
          dropped.push(...this.remove(conflicting, true));
      }
    }
    return dropped;
  }

  /** Removes everything; returns what was there, in admission order. */
  clear(): MempoolEntry[] {
    const all = this.entries();
    this.#entries.clear();
    this.#spentBy.clear();
    return all;
  }

  #mempoolOutput(txIdHex: string, index: number): UtxoEntry | undefined {
    const parent = this.#entries.get(txIdHex);
    const out = parent?.tx.outputs[index];
    if (out === undefined) return undefined;
    // Outputs of unaccepted transactions carry UNACCEPTED_DAA_SCORE (`mining/src/mempool/model/utxo_set.rs`).
    return {
      amount: out.value,
      scriptPublicKey: out.scriptPublicKey,
      blockDaaScore: UNACCEPTED_DAA_SCORE,
      isCoinbase: false,
    };
  }

  /** `validate_tx_in_isolation` (consensus), in the node's order. */
  #checkInIsolation(tx: Transaction, reject: (rule: RejectRule, reason: string) => never): void {
    const isCoinbase = isCoinbaseTransaction(tx);
    if (!isCoinbase && tx.inputs.length === 0) reject('isolation', 'transaction has no inputs');
    if (tx.inputs.length > TX_LIMITS.maxInputs) {
      reject(
        'isolation',
        `transaction has ${tx.inputs.length} inputs where the max allowed is ${TX_LIMITS.maxInputs}`,
      );
    }
    tx.inputs.forEach((input, i) => {
      if (input.signatureScript.length > TX_LIMITS.maxSignatureScriptLen) {
        reject(
          'isolation',
          `transaction input #${i} signature script is above ${TX_LIMITS.maxSignatureScriptLen} bytes`,
        );
      }
    });
    if (tx.outputs.length > TX_LIMITS.maxOutputs) {
      reject(
        'isolation',
        `transaction has ${tx.outputs.length} outputs where the max allowed is ${TX_LIMITS.maxInputs}`,
      );
    }
    // The next two texts reproduce the node's own wording verbatim (its TooManyOutputs names the input
    // limit and its TooBigScriptPublicKey reuses the signature-script message), so clients see the same.
    tx.outputs.forEach((o, i) => {
      if (o.scriptPublicKey.script.length > TX_LIMITS.maxScriptPublicKeyLen) {
        reject(
          'isolation',
          `transaction input #${i} signature script is above ${TX_LIMITS.maxScriptPublicKeyLen} bytes`,
        );
      }
    });
    // A coinbase is only valid inside a block; the mempool refuses it (`RejectInvalid`).
    if (isCoinbase) reject('isolation', `transaction ${bytesToHex(transactionId(tx))} is invalid`);
    let total = 0n;
    tx.outputs.forEach((o, i) => {
      if (o.value === 0n) reject('isolation', `transaction output ${i} has zero value`);
      if (o.value > MAX_SOMPI)
        reject('isolation', `transaction output ${i} value is higher than the max allowed of ${MAX_SOMPI}`);
      total += o.value;
      if (total > MAX_SOMPI)
        reject('isolation', `transaction total outputs value is higher than the max allowed of ${MAX_SOMPI}`);
    });
    const seen = new Set<string>();
    for (const input of tx.inputs) {
      const key = outpointKey(input.previousOutpoint);
      if (seen.has(key)) reject('isolation', 'transaction has duplicate inputs');
      seen.add(key);
    }
    const systemLane = isZeroTail(tx.subnetworkId, 1);
    if (tx.gas !== 0n) {
      if (tx.version < 1)
        reject(
          'isolation',
          'transaction has non-zero gas: gas is only allowed for Toccata-or-newer tx versions',
        );
      if (systemLane)
        reject('isolation', 'transaction has non-zero gas: native / system subnetworks must use zero gas');
    }
    const native = systemLane && tx.subnetworkId[0] === NATIVE_SUBNETWORK_ID[0];
    const userLane = !systemLane && tx.version >= 1 && isZeroTail(tx.subnetworkId, 4);
    if (!native && !userLane && !(systemLane && tx.subnetworkId[0] === COINBASE_SUBNETWORK_ID[0])) {
      reject(
        'isolation',
        `transaction subnetwork id ${bytesToHex(tx.subnetworkId)} is neither native nor coinbase`,
      );
    }
    if (tx.version > 1) reject('isolation', `transaction version ${tx.version} is unknown`);
    if (tx.version > 0) {
      tx.inputs.forEach((input, i) => {
        if (input.sigOpCount !== 0) {
          reject(
            'isolation',
            `transaction input #${i} has a sig op count field with value ${input.sigOpCount} in version 1 transaction`,
          );
        }
      });
    } else {
      tx.inputs.forEach((input, i) => {
        if (input.computeBudget !== 0) {
          reject(
            'isolation',
            `transaction input #${i} has a compute budget field with value ${input.computeBudget} in version 0 transaction`,
          );
        }
      });
      tx.outputs.forEach((o, i) => {
        if (o.covenant !== undefined)
          reject('isolation', `transaction output #${i} has covenant field but transaction version is 0`);
      });
    }
  }

  /** `check_transaction_finality` (`tx_validation_in_header_context.rs`). */
  #checkFinality(
    tx: Transaction,
    povDaaScore: bigint,
    reject: (rule: RejectRule, reason: string) => never,
  ): void {
    if (tx.lockTime === 0n) return;
    const reference = tx.lockTime < LOCK_TIME_THRESHOLD ? povDaaScore : this.ctx.pastMedianTime();
    if (tx.lockTime < reference) return;
    tx.inputs.forEach((input, i) => {
      if (input.sequence !== SEQUENCE_FINAL)
        reject('not-finalized', `transaction input #${i} is not finalized`);
    });
  }
}
