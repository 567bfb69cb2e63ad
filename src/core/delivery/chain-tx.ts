/**
 * The transaction shapes of chain delivery (docs/delivery.md "The notification coin"),
 * priced by the Toccata rules: the relay floor of 100 sompi per gram of max(compute,
 * normalized transient) mass (FACTS §4.5) and the KIP-9 storage mass (FACTS §4.3) that
 * sizes the notification coin. Shapes:
 *   - publication: [held coins of the recipients, funding coins] → [one coin per recipient
 *     (a bounced coin topped up to the notification value, or a new one), change];
 *   - return (receipt only): [held coins] → [the same coins, less the fee, to their senders].
 */
import { addressToScriptPublicKey, type Address } from '../../kaspa/address.ts';
import { minimumRelayFee } from '../../kaspa/fee.ts';
import { BuildError, buildTransaction, notificationAmount } from '../../kaspa/builder.ts';
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

/** One recipient of a publication: its address, and its coin in hand to bounce back, if any. */
export interface Notify {
  readonly address: Address;
  readonly held?: Spendable;
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

/** What the builder needs to know. */
export interface BuildRequest {
  readonly payload: Uint8Array;
  readonly recipients: readonly Notify[];
  /** Funding coins, any order (the largest are used first). */
  readonly funding: readonly Spendable[];
  readonly changeAddress: Address;
  /** @default DEFAULT_NOTIFICATION_STORAGE_BUDGET */
  readonly storageBudget?: bigint;
}

const PLACEHOLDER_SIG = new Uint8Array(P2PK_SIGNATURE_SCRIPT_LENGTH);

function assemble(
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
 * Builds and signs a publication. When every recipient's coin is in hand and no funding is
 * needed, it is a return: the fee comes out of the returned coins. Throws DeliveryError
 * INSUFFICIENT_FUNDS when the funding coins cannot pay.
 */
export function buildPublication(req: BuildRequest): BuiltTransaction {
  const budget = req.storageBudget ?? DEFAULT_NOTIFICATION_STORAGE_BUDGET;
  const v = notificationValue(budget);
  const held = req.recipients.flatMap((r) => (r.held ? [r.held] : []));
  const heldValue = held.reduce((n, s) => n + s.utxo.entry.amount, 0n);

  if (held.length === req.recipients.length) {
    // Return shape: each coin goes back to its sender less its share of the fee.
    const outs = (fee: bigint): TxOutput[] =>
      req.recipients.map((r, i) => ({
        value: r.held!.utxo.entry.amount - (i === 0 ? fee : 0n),
        scriptPublicKey: addressToScriptPublicKey(r.address),
      }));
    const fee = minimumRelayFee(assemble(held, outs(0n), req.payload));
    const first = req.recipients[0]!.held!.utxo.entry.amount;
    if (first - fee >= v / 2n) {
      return { tx: finish(held, outs(fee), req.payload), spent: held, fee, locked: 0n };
    }
  }

  const recipientOuts = req.recipients.map((r) => {
    const bounced = r.held?.utxo.entry.amount ?? 0n;
    return { to: addressToScriptPublicKey(r.address), amount: bounced > v ? bounced : v };
  });
  const needOut = recipientOuts.reduce((n, o) => n + o.amount, 0n);
  // The library's builder selects the funding coins (largest first) and prices each candidate
  // with final-length signature scripts; the held coins are spent whatever it selects.
  let built;
  try {
    built = buildTransaction({
      utxos: req.funding.map((s) => s.utxo),
      requiredUtxos: held.map((s) => s.utxo),
      outputs: recipientOuts,
      changeAddress: req.changeAddress,
      payload: req.payload,
      // The mass limits, not the builder's default payload ceiling, bound a chain batch.
      maxPayloadBytes: req.payload.length,
    });
  } catch (error) {
    if (!(error instanceof BuildError)) throw error;
    throw new DeliveryError(
      error.code === 'INSUFFICIENT_FUNDS' ? 'INSUFFICIENT_FUNDS' : 'PUBLISH_FAILED',
      `${req.recipients.length} notification(s) and the fee: ${error.message}`,
    );
  }
  const byUtxo = new Map([...held, ...req.funding].map((s) => [s.utxo, s]));
  const spent = built.utxos.map((utxo) => byUtxo.get(utxo)!);
  return {
    tx: signTransaction(
      built.tx,
      built.spent,
      spent.map((s) => s.privateKey),
    ),
    spent,
    fee: built.fee,
    ...(built.change > 0n ? { changeIndex: recipientOuts.length } : {}),
    locked: needOut - heldValue,
  };
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
