/**
 * Chain format 1, kept only to craft old transactions in tests and to price the old shape in
 * the cost bench (docs/protocol.md "Chain transactions and addresses", change log 1). src/
 * carries format 2 only; a format-1 notification that reaches a client is refused at the
 * batch decoder (`DecodeError UNKNOWN_VERSION`).
 *
 * Shapes of format 1:
 *   - publication: [held coins of the recipients, funding coins] → [one coin per recipient
 *     (a bounced coin topped up to the notification value, or a new one), change];
 *   - return (receipt only): [held coins] → [the same coins, less the fee, to their senders];
 *   - payload: "p2pc" | u8 1 | varuint n | n × varbytes(frame) | zeros to a size bucket.
 */
import { addressToScriptPublicKey, type Address } from '../../../src/kaspa/address.ts';
import { minimumRelayFee } from '../../../src/kaspa/fee.ts';
import { BuildError, buildTransaction } from '../../../src/kaspa/builder.ts';
import { MASS_LIMITS, storageMass } from '../../../src/kaspa/mass.ts';
import { signTransaction } from '../../../src/kaspa/sign.ts';
import type { TxOutput } from '../../../src/kaspa/types.ts';
import {
  DEFAULT_NOTIFICATION_STORAGE_BUDGET,
  assemble,
  notificationValue,
  type BuiltTransaction,
  type Spendable,
} from '../../../src/core/delivery/chain-tx.ts';
import { DeliveryError } from '../../../src/core/delivery/errors.ts';
import { utf8ToBytes } from '../../../src/util/bytes.ts';

/** One recipient of a format-1 publication: its address, and its coin in hand to bounce back. */
export interface Format1Recipient {
  readonly address: Address;
  readonly held?: Spendable;
}

/** What the format-1 builder needs. */
export interface Format1Request {
  readonly payload: Uint8Array;
  readonly recipients: readonly Format1Recipient[];
  /** Funding coins, any order (the largest are used first). */
  readonly funding: readonly Spendable[];
  readonly changeAddress: Address;
  /** @default DEFAULT_NOTIFICATION_STORAGE_BUDGET */
  readonly storageBudget?: bigint;
}

/**
 * Builds and signs a format-1 publication: the fixed-value coin (`notificationValue()`,
 * 11,111,112 sompi) to each recipient's address, change back to `changeAddress`; with every
 * recipient's coin in hand and no funding needed, the mirrored return.
 */
export function buildFormat1Publication(req: Format1Request): BuiltTransaction {
  const v = notificationValue(req.storageBudget ?? DEFAULT_NOTIFICATION_STORAGE_BUDGET);
  const held = req.recipients.flatMap((r) => (r.held ? [r.held] : []));
  const heldValue = held.reduce((n, s) => n + s.utxo.entry.amount, 0n);

  if (held.length === req.recipients.length && held.length > 0) {
    const outs = (fee: bigint): TxOutput[] =>
      req.recipients.map((r, i) => ({
        value: r.held!.utxo.entry.amount - (i === 0 ? fee : 0n),
        scriptPublicKey: addressToScriptPublicKey(r.address),
      }));
    const fee = minimumRelayFee(assemble(held, outs(0n), req.payload));
    if (req.recipients[0]!.held!.utxo.entry.amount - fee >= v / 2n) {
      const unsigned = assemble(held, outs(fee), req.payload);
      const entries = held.map((s) => s.utxo.entry);
      const storage = storageMass(unsigned, entries);
      if (storage === undefined || storage > MASS_LIMITS.storage)
        throw new DeliveryError('PUBLISH_FAILED', `storage mass ${String(storage)} exceeds the node limit`);
      const tx = signTransaction(
        { ...unsigned, storageMass: storage },
        entries,
        held.map((s) => s.privateKey),
      );
      return { tx, spent: held, fee, locked: 0n };
    }
  }

  const recipientOuts = req.recipients.map((r) => {
    const bounced = r.held?.utxo.entry.amount ?? 0n;
    return { to: addressToScriptPublicKey(r.address), amount: bounced > v ? bounced : v };
  });
  const needOut = recipientOuts.reduce((n, o) => n + o.amount, 0n);
  let built;
  try {
    built = buildTransaction({
      utxos: req.funding.map((s) => s.utxo),
      requiredUtxos: held.map((s) => s.utxo),
      outputs: recipientOuts,
      changeAddress: req.changeAddress,
      payload: req.payload,
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

function varuint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** The format-1 batch layout: `"p2pc" | u8 1 | varuint n | n × varbytes(frame) | zeros` to `size`. */
export function packFormat1Batch(frames: readonly Uint8Array[], size = 512): Uint8Array {
  const parts: number[] = [...utf8ToBytes('p2pc'), 1, ...varuint(frames.length)];
  for (const f of frames) parts.push(...varuint(f.length), ...f);
  if (parts.length > size) throw new RangeError(`"frames" take ${parts.length} bytes, more than ${size}`);
  const out = new Uint8Array(size);
  out.set(parts);
  return out;
}
