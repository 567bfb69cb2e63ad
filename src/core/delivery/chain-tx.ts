/**
 * The transaction shapes of chain format 2 (docs/protocol.md "Chain transactions and
 * addresses"; docs/privacy.md "Coins"), priced by the Toccata rules: the relay floor of 100
 * sompi per gram of max(compute, normalized transient) mass (FACTS §4.5) and the KIP-9 storage
 * mass (FACTS §4.3) that sizes the notification coins. Shapes (`buildPayment`):
 *   - publication: [funding coins] → [a fresh coin per recipient, as many decoy coins, fresh
 *     change],
 *     outputs in random order;
 *   - without change: [coins received from contacts] → [the notifications only].
 * Format 1 (coins bounced between fixed addresses) is no longer built or read.
 */
import { addressToScriptPublicKey, type Address } from '../../kaspa/address.ts';
import { minimumRelayFee } from '../../kaspa/fee.ts';
import { notificationAmount } from '../../kaspa/builder.ts';
import { MASS_LIMITS, P2PK_SIG_OP_COUNT, storageMass } from '../../kaspa/mass.ts';
import { P2PK_SIGNATURE_SCRIPT_LENGTH } from '../../kaspa/script.ts';
import { signTransaction } from '../../kaspa/sign.ts';
import {
  NATIVE_SUBNETWORK_ID,
  type Transaction,
  type TxId,
  type TxOutput,
  type Utxo,
} from '../../kaspa/types.ts';
import { DeliveryError } from './errors.ts';

/**
 * Storage mass a first-contact transaction (one coin and the change) may have: a fifth of a
 * block's budget, which the reference wallet and pre-Toccata nodes also accept
 * (docs/kaspa-mass.md "What the notification amount must be").
 */
export const DEFAULT_NOTIFICATION_STORAGE_BUDGET = MASS_LIMITS.storage / 5n;

/**
 * The value of one conversation coin: the library's notification amount for one recipient
 * within `budget` grams, 11,111,112 sompi (about 0.11 KAS) at the default. Computed from the
 * storage-mass rule (FACTS §4.3), never hard-coded (NOTES §1).
 */
export function notificationValue(budget: bigint = DEFAULT_NOTIFICATION_STORAGE_BUDGET): bigint {
  return notificationAmount(1, budget);
}

/** A coin to spend, with whose key it is signed. */
export interface Spendable {
  readonly utxo: Utxo;
  readonly privateKey: Uint8Array;
}

/** A built, signed transaction and what it spends. */
export interface BuiltTransaction {
  readonly tx: Transaction;
  readonly spent: readonly Spendable[];
  readonly fee: bigint;
  /** Index of the change output, if any. */
  readonly changeIndex?: number;
  /** Value of new notification coins (not bounced ones): what this transaction locks. */
  readonly locked: bigint;
}

const PLACEHOLDER_SIG = new Uint8Array(P2PK_SIGNATURE_SCRIPT_LENGTH);

/** An unsigned transaction with signature scripts of the final length, to price and then sign. */
export function assemble(
  inputs: readonly Spendable[],
  outputs: readonly TxOutput[],
  payload: Uint8Array,
): Transaction {
  return {
    version: 0,
    inputs: inputs.map((s) => ({
      previousOutpoint: s.utxo.outpoint,
      // A signature script of the final length (FACTS §4.1) so the fee is priced on the real size.
      signatureScript: PLACEHOLDER_SIG,
      sequence: 0n,
      sigOpCount: P2PK_SIG_OP_COUNT,
      computeBudget: 0,
    })),
    outputs,
    lockTime: 0n,
    subnetworkId: NATIVE_SUBNETWORK_ID,
    gas: 0n,
    payload,
    storageMass: 0n,
  };
}

function finish(inputs: readonly Spendable[], outputs: TxOutput[], payload: Uint8Array): Transaction {
  const unsigned = assemble(inputs, outputs, payload);
  const spentEntries = inputs.map((s) => s.utxo.entry);
  const storage = storageMass(unsigned, spentEntries);
  if (storage === undefined || storage > MASS_LIMITS.storage) {
    throw new DeliveryError('PUBLISH_FAILED', `storage mass ${String(storage)} exceeds the node limit`);
  }
  return signTransaction(
    { ...unsigned, storageMass: storage },
    spentEntries,
    inputs.map((s) => s.privateKey),
  );
}

/**
 * The relay fee of a typical publication: one funding input, a notification coin and change,
 * one message of about 300 characters in a 1 KiB padded batch. For "messages left" figures.
 */
export function typicalPublicationFee(payloadBytes = 1024): bigint {
  const p2pk = { version: 0, script: new Uint8Array(34) };
  const coin: Spendable = {
    utxo: {
      outpoint: { transactionId: new Uint8Array(32) as TxId, index: 0 },
      entry: { amount: 1n, scriptPublicKey: p2pk, blockDaaScore: 0n, isCoinbase: false },
    },
    privateKey: new Uint8Array(32),
  };
  const outs: TxOutput[] = [
    { value: 1n, scriptPublicKey: p2pk },
    { value: 1n, scriptPublicKey: p2pk },
  ];
  return minimumRelayFee(assemble([coin], outs, new Uint8Array(payloadBytes)));
}

// ---- chain format 2 -----------------------------------------------------------------------

/** A funding candidate of format 2, tagged with where it came from. */
export interface Candidate extends Spendable {
  /**
   * The coin's origin ("own" for funding and change, or the contact whose notification it
   * was): coins of different origins are merged only when no origin alone can pay.
   */
  readonly origin: string;
}

/** One output of a format-2 publication. */
export interface Payment {
  readonly address: Address;
  readonly value: bigint;
}

/** What a format-2 publication needs. */
export interface PaymentRequest {
  readonly payload: Uint8Array;
  /** Notification coins, one per recipient, each to a fresh address. */
  readonly payments: readonly Payment[];
  readonly funding: readonly Candidate[];
  /** A fresh change address. */
  readonly changeAddress: Address;
  /**
   * Coins back to fresh addresses of ours in the notifications' value range, one per
   * recipient, so that an observer cannot tell which small outputs went to someone else
   * (docs/privacy.md "Coins"). Left out of the shape without change.
   */
  readonly decoys?: readonly Payment[];
  /** Uniform in [0, 1): the output order. */
  readonly random: () => number;
  /** Storage mass the transaction may have. @default DEFAULT_NOTIFICATION_STORAGE_BUDGET */
  readonly storageBudget?: bigint;
  /**
   * Whether the shape without change may be built when no selection pays with change.
   * @default true
   */
  readonly withoutChange?: boolean;
}

/**
 * The value of one of `count` format-2 notification coins: uniform in [v, 3v/2] with v the
 * library's notification amount for `count` outputs within `budget` (docs/kaspa-mass.md), so
 * the storage mass (C/value each, FACTS §4.3) stays within the budget beside a change of at
 * least 1 KAS, and values say nothing about which conversation or direction a coin is. With
 * `owed` (what the recipient's coins brought in) above 3v/2: uniform in [owed, owed + v/2).
 */
export function randomNotificationValue(
  random: () => number,
  budget: bigint = DEFAULT_NOTIFICATION_STORAGE_BUDGET,
  count = 1,
  owed = 0n,
): bigint {
  const v = notificationAmount(count, budget);
  // More owed than one coin of the range can repay (a run of arrivals answered by one
  // publication, e.g. an attachment's chunks): the coin repays all of it, uniform in
  // [owed, owed + v/2), so the recipient's coins do not stay with us for good
  // (docs/privacy.md "Coins", "Run repayments"). The caller draws the decoy the same way.
  const floor = owed > v + v / 2n ? owed : v;
  return floor + BigInt(Math.floor(random() * Number(v / 2n)));
}

function shuffled<T>(xs: readonly T[], random: () => number): T[] {
  const out = xs.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Inputs in the order they are tried: each origin alone (smallest coin that pays first), then merged. */
function selections(funding: readonly Candidate[], need: (n: number) => bigint): Candidate[][] {
  const asc = funding.slice().sort((a, b) => (a.utxo.entry.amount < b.utxo.entry.amount ? -1 : 1));
  const out: Candidate[][] = [];
  // One coin: the common-input heuristic has nothing to merge.
  for (const c of asc) if (c.utxo.entry.amount >= need(1)) out.push([c]);
  // Several coins of one origin, largest first.
  const byOrigin = new Map<string, Candidate[]>();
  for (const c of asc) byOrigin.set(c.origin, [...(byOrigin.get(c.origin) ?? []), c]);
  const greedy = (coins: readonly Candidate[]): Candidate[] | undefined => {
    const pick: Candidate[] = [];
    let sum = 0n;
    for (const c of coins.slice().reverse()) {
      pick.push(c);
      sum += c.utxo.entry.amount;
      if (pick.length > 1 && sum >= need(pick.length)) return pick;
    }
    return undefined;
  };
  for (const coins of byOrigin.values()) {
    const g = greedy(coins);
    if (g) out.push(g);
  }
  // Every coin, largest first: merging origins only when nothing else pays.
  const all = greedy(asc);
  if (all) out.push(all);
  return out;
}

/**
 * Builds and signs a format-2 publication: [funding coins] → [one fresh notification coin per
 * recipient, fresh change], outputs in random order. Funding is one coin whenever one coin
 * pays; else coins of one origin; else any (docs/privacy.md "Coins"). Throws DeliveryError
 * INSUFFICIENT_FUNDS when nothing pays within the storage budget.
 */
export function buildPayment(req: PaymentRequest): BuiltTransaction {
  const budget = req.storageBudget ?? DEFAULT_NOTIFICATION_STORAGE_BUDGET;
  const paid = req.payments.reduce((n, p) => n + p.value, 0n);
  const toOut = (p: Payment): TxOutput => ({
    value: p.value,
    scriptPublicKey: addressToScriptPublicKey(p.address),
  });
  const outs = req.payments.map(toOut);
  const decoy = (req.decoys ?? []).map(toOut);
  const decoyValue = (req.decoys ?? []).reduce((n, p) => n + p.value, 0n);
  const changeScript = addressToScriptPublicKey(req.changeAddress);
  const feeFor = (inputs: readonly Spendable[], withChange: boolean): bigint =>
    minimumRelayFee(
      assemble(
        inputs,
        withChange ? [...outs, ...decoy, { value: 1n, scriptPublicKey: changeScript }] : outs,
        req.payload,
      ),
    );
  const typical = feeFor([req.funding[0] ?? placeholderCoin()], true);
  // The change must be large enough that its storage mass leaves the notifications in budget.
  const minChange = notificationValue(budget) * 10n;
  const floor = notificationValue(budget) / 2n;
  const attempt = (inputs: readonly Candidate[], withChange: boolean): BuiltTransaction | string => {
    const total = inputs.reduce((n, s) => n + s.utxo.entry.amount, 0n);
    const fee = feeFor(inputs, withChange);
    let outputs: TxOutput[];
    let changeIndex: number | undefined;
    if (withChange) {
      const change = total - paid - decoyValue - fee;
      if (change < minChange) return 'change too small';
      outputs = shuffled([...outs, ...decoy, { value: change, scriptPublicKey: changeScript }], req.random);
      changeIndex = outputs.findIndex((o) => o.scriptPublicKey === changeScript);
    } else {
      // No change: the coins, less the fee, are the notifications (a return from a wallet
      // that holds nothing else). Values keep their proportions; each stays above v/2.
      const remaining = total - fee;
      if (remaining < floor * BigInt(outs.length)) return 'the coins do not cover the fee';
      if (remaining > paid * 2n) return 'the coins are too large to be spent without change';
      let left = remaining;
      outputs = shuffled(
        outs.map((o, i) => {
          const value = i === outs.length - 1 ? left : (remaining * o.value) / paid;
          left -= value;
          return { ...o, value };
        }),
        req.random,
      );
      if (outputs.some((o) => o.value < floor)) return 'a notification would fall below v/2';
    }
    const unsigned = assemble(inputs, outputs, req.payload);
    const storage = storageMass(
      unsigned,
      inputs.map((s) => s.utxo.entry),
    );
    if (storage === undefined || storage > budget) return `storage mass ${String(storage)} over ${budget}`;
    return {
      tx: finish(inputs, outputs, req.payload),
      spent: inputs,
      fee,
      ...(changeIndex !== undefined ? { changeIndex } : {}),
      locked: withChange ? paid : total - fee,
    };
  };
  let lastError = 'no coin pays';
  const withChange = selections(
    req.funding,
    (n) => paid + decoyValue + typical + BigInt(n - 1) * 11_000n + minChange,
  );
  const noChange = selections(
    req.funding,
    (n) => floor * BigInt(outs.length) + typical + BigInt(n - 1) * 11_000n,
  );
  const shapes: (readonly [Candidate[][], boolean])[] = [[withChange, true]];
  if (req.withoutChange !== false) shapes.push([noChange, false]);
  for (const [lists, change] of shapes) {
    for (const inputs of lists) {
      const r = attempt(inputs, change);
      if (typeof r !== 'string') return r;
      lastError = r;
    }
  }
  const have = req.funding.reduce((n, s) => n + s.utxo.entry.amount, 0n);
  throw new DeliveryError(
    'INSUFFICIENT_FUNDS',
    `${req.payments.length} notification(s) of ${paid} sompi and the fee from ${have} sompi in ${req.funding.length} coin(s): ${lastError}`,
  );
}

function placeholderCoin(): Spendable {
  return {
    utxo: {
      outpoint: { transactionId: new Uint8Array(32) as TxId, index: 0 },
      entry: {
        amount: 1n,
        scriptPublicKey: { version: 0, script: new Uint8Array(34) },
        blockDaaScore: 0n,
        isCoinbase: false,
      },
    },
    privateKey: new Uint8Array(32),
  };
}
