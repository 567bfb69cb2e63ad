/**
 * This client's own signed transactions, kept until they are deep (docs/delivery.md
 * "Reorganisations"; stored format docs/protocol.md "Own transactions").
 *
 * A reorganisation can take an accepted transaction off the selected chain, and a node may
 * forget it instead of returning it to its mempool. Its id and signatures stay valid as long
 * as its inputs are unspent, so the adapter keeps every signed transaction it made, with the
 * outpoints it spends and the outputs that come back to it, until its acceptance is
 * `CONFIRMATION_DEPTH` DAA scores deep; then no reorganisation of the kind seen in practice can
 * remove it. A receipt-only transaction waiting for its time (docs/privacy.md "Timing") is kept
 * the same way, so a crash during the wait does not lose it.
 */
import type { KeyValueStore } from '../../storage/types.ts';
import { encodeKey } from '../../storage/keys.ts';
import type { Transaction } from '../../kaspa/types.ts';
import { transactionFromRpc, transactionToRpc } from '../../kaspa/rpc/convert.ts';
import { parseJson, stringifyJson } from '../../kaspa/rpc/json.ts';
import { bytesToUtf8, utf8ToBytes } from '../../util/bytes.ts';
import { transactionId } from '../../kaspa/txid.ts';
import { bytesToHex } from '../../util/bytes.ts';
import { DeliveryError } from './errors.ts';

/**
 * DAA scores after its acceptance that an own transaction is kept for: 1,000, the coinbase
 * maturity of every Kaspa network (FACTS §7.2, `Bps::coinbase_maturity`, 100 s at 10 BPS). The
 * protocol itself treats a block reward that deep as safe to spend; a reorganisation that
 * deep is far outside what GHOSTDAG with k = 124 produces without an attack (finality, at
 * 432,000, FACTS §6.6, bounds even those). Keeping longer costs one stored record per transaction.
 */
export const CONFIRMATION_DEPTH = 1_000n;

/**
 * The version of the stored record (docs/protocol.md "Own transaction record"). Version 1,
 * without the accepting block, is still read: its transactions are older than a restart.
 */
export const OWN_TX_VERSION = 2;

/** One own transaction as the adapter tracks it. */
export interface OwnTx {
  /** Transaction id, lowercase hex. */
  readonly txHex: string;
  readonly tx: Transaction;
  /** The outpoints it spends (outpointKey form). */
  readonly inputs: readonly string[];
  /** Its outputs to this client's own addresses (change, decoy). */
  readonly outputs: readonly { readonly index: number; readonly address: string }[];
  /** Deferred: when it is due for submission (ms since the epoch); absent once handed to the node. */
  readonly submitAt?: number;
  /** DAA score it was seen accepted at; absent while not on the selected chain. */
  readonly acceptedDaa?: bigint;
  /**
   * The chain block that accepted it, lowercase hex, once known (with `acceptedDaa`). Kept so
   * that a restart still sees the transaction leave with that block (VirtualChainChanged,
   * FACTS §6.5) when nothing of it shows in the UTXO set.
   */
  readonly acceptedBlock?: string;
}

interface StoredOwnTx {
  v: number;
  tx: unknown;
  inputs: string[];
  outputs: [number, string][];
  submitAt: number | null;
  acceptedDaa: string | null;
  /** From version 2. */
  acceptedBlock?: string | null;
}

/** Own transactions by id, with the index from spent outpoint to spender. */
export class OwnTransactions {
  private readonly byId = new Map<string, OwnTx>();
  private readonly byInput = new Map<string, string>();
  /** Accepted transactions in the order they were seen accepted, for pruning once deep. */
  private readonly acceptedOrder: { readonly txHex: string; readonly daa: bigint }[] = [];

  constructor(
    private readonly db: KeyValueStore,
    private readonly store: string,
  ) {}

  /** Loads every stored record; a malformed one throws CORRUPT_RECORD. */
  async load(): Promise<readonly OwnTx[]> {
    for (const [, value] of await this.db.scan(this.store, { prefix: encodeKey('own') })) {
      const t = decodeOwnTx(value);
      this.index(t);
    }
    return [...this.byId.values()];
  }

  get(txHex: string): OwnTx | undefined {
    return this.byId.get(txHex);
  }

  /** The own transaction spending `outpoint` (outpointKey form), if one is kept. */
  spenderOf(outpoint: string): OwnTx | undefined {
    const id = this.byInput.get(outpoint);
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** Whether `index` of `txHex` is one of our outputs of a kept transaction. */
  ownsOutput(txHex: string, index: number): boolean {
    return this.byId.get(txHex)?.outputs.some((o) => o.index === index) ?? false;
  }

  /** Keeps `t` (persisted before it is handed to the node). */
  async put(t: OwnTx): Promise<void> {
    await this.db.put(this.store, encodeKey('own', t.txHex), encodeOwnTx(t));
    this.index(t);
  }

  /**
   * Keeps several at once, in one atomic write: a refill and the publication that spends its
   * coin are stored together, so a crash leaves both or neither.
   */
  async putAll(ts: readonly OwnTx[]): Promise<void> {
    await this.db.batch(
      ts.map((t) => ({
        type: 'put',
        store: this.store,
        key: encodeKey('own', t.txHex),
        value: encodeOwnTx(t),
      })),
    );
    for (const t of ts) this.index(t);
  }

  /** Records a change of state of a kept transaction. */
  async update(
    txHex: string,
    change: { submitted?: true; acceptedDaa?: bigint | null; acceptedBlock?: string },
  ): Promise<void> {
    const t = this.byId.get(txHex);
    if (!t) return;
    const { submitAt: _s, acceptedDaa: _a, acceptedBlock: _b, ...rest } = t;
    const submitAt = change.submitted ? undefined : t.submitAt;
    const acceptedDaa = change.acceptedDaa === undefined ? t.acceptedDaa : (change.acceptedDaa ?? undefined);
    // Off the chain, the block that had accepted it means nothing any more.
    const acceptedBlock = acceptedDaa === undefined ? undefined : (change.acceptedBlock ?? t.acceptedBlock);
    if (submitAt === t.submitAt && acceptedDaa === t.acceptedDaa && acceptedBlock === t.acceptedBlock) return;
    const next: OwnTx = {
      ...rest,
      ...(submitAt !== undefined ? { submitAt } : {}),
      ...(acceptedDaa !== undefined ? { acceptedDaa } : {}),
      ...(acceptedBlock !== undefined ? { acceptedBlock } : {}),
    };
    this.index(next);
    await this.db.put(this.store, encodeKey('own', txHex), encodeOwnTx(next));
  }

  /** Forgets a transaction (deep, or given up on). */
  async forget(txHex: string): Promise<void> {
    const t = this.byId.get(txHex);
    if (!t) return;
    this.byId.delete(txHex);
    for (const k of t.inputs) if (this.byInput.get(k) === txHex) this.byInput.delete(k);
    await this.db.delete(this.store, encodeKey('own', txHex));
  }

  /**
   * Forgets every accepted transaction at least CONFIRMATION_DEPTH below `virtualDaa`;
   * returns their ids (lowercase hex).
   */
  async prune(virtualDaa: bigint, depth = CONFIRMATION_DEPTH): Promise<string[]> {
    const forgotten: string[] = [];
    while (this.acceptedOrder.length > 0 && this.acceptedOrder[0]!.daa + depth <= virtualDaa) {
      const { txHex, daa } = this.acceptedOrder.shift()!;
      // A stale entry: the transaction left the chain since, or was accepted again later.
      if (this.byId.get(txHex)?.acceptedDaa === daa) {
        await this.forget(txHex);
        forgotten.push(txHex);
      }
    }
    return forgotten;
  }

  get size(): number {
    return this.byId.size;
  }

  private index(t: OwnTx): void {
    const before = this.byId.get(t.txHex);
    this.byId.set(t.txHex, t);
    for (const k of t.inputs) this.byInput.set(k, t.txHex);
    if (t.acceptedDaa !== undefined && before?.acceptedDaa !== t.acceptedDaa)
      this.acceptedOrder.push({ txHex: t.txHex, daa: t.acceptedDaa });
  }
}

function encodeOwnTx(t: OwnTx): Uint8Array {
  const stored: StoredOwnTx = {
    v: OWN_TX_VERSION,
    tx: transactionToRpc(t.tx),
    inputs: [...t.inputs],
    outputs: t.outputs.map((o) => [o.index, o.address]),
    submitAt: t.submitAt ?? null,
    acceptedDaa: t.acceptedDaa?.toString() ?? null,
    acceptedBlock: t.acceptedBlock ?? null,
  };
  return utf8ToBytes(stringifyJson(stored));
}

function corrupt(why: string, cause?: unknown): DeliveryError {
  return new DeliveryError(
    'CORRUPT_RECORD',
    `own transaction record: ${why}`,
    cause === undefined ? undefined : { cause },
  );
}

/** Parses a stored record (version 1 or 2); anything malformed or of another version throws CORRUPT_RECORD. */
export function decodeOwnTx(bytes: Uint8Array): OwnTx {
  let json: unknown;
  try {
    json = parseJson(bytesToUtf8(bytes));
  } catch (error) {
    throw corrupt('not JSON', error);
  }
  if (typeof json !== 'object' || json === null) throw corrupt('not an object');
  const r = json as Partial<Record<keyof StoredOwnTx, unknown>>;
  if (r.v !== OWN_TX_VERSION && r.v !== 1)
    throw corrupt(`version ${String(r.v)} is not ${OWN_TX_VERSION} (nor 1)`);
  let tx: Transaction;
  try {
    tx = transactionFromRpc(r.tx, 'tx');
  } catch (error) {
    throw corrupt('bad transaction', error);
  }
  const isKey = (k: unknown): k is string => typeof k === 'string' && /^[0-9a-f]{64}:\d{1,10}$/.test(k);
  if (!Array.isArray(r.inputs) || r.inputs.length > tx.inputs.length || !r.inputs.every(isKey))
    throw corrupt('bad inputs');
  if (
    !Array.isArray(r.outputs) ||
    !r.outputs.every(
      (o: unknown) =>
        Array.isArray(o) &&
        o.length === 2 &&
        Number.isSafeInteger(o[0]) &&
        (o[0] as number) >= 0 &&
        (o[0] as number) < tx.outputs.length &&
        typeof o[1] === 'string' &&
        o[1].length <= 128,
    )
  )
    throw corrupt('bad outputs');
  if (r.submitAt !== null && !Number.isSafeInteger(r.submitAt)) throw corrupt('bad submitAt');
  if (r.acceptedDaa !== null && (typeof r.acceptedDaa !== 'string' || !/^\d{1,20}$/.test(r.acceptedDaa)))
    throw corrupt('bad acceptedDaa');
  const block = r.v === 1 ? null : r.acceptedBlock;
  if (
    block !== null &&
    (typeof block !== 'string' || !/^[0-9a-f]{64}$/.test(block) || r.acceptedDaa === null)
  )
    throw corrupt('bad acceptedBlock');
  return {
    txHex: bytesToHex(transactionId(tx)),
    tx,
    inputs: r.inputs,
    outputs: (r.outputs as [number, string][]).map(([index, address]) => ({ index, address })),
    ...(typeof r.submitAt === 'number' ? { submitAt: r.submitAt } : {}),
    ...(typeof r.acceptedDaa === 'string' ? { acceptedDaa: BigInt(r.acceptedDaa) } : {}),
    ...(typeof block === 'string' ? { acceptedBlock: block } : {}),
  };
}
