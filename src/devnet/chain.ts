/**
 * The local network's consensus state: a block DAG, its selected chain, the virtual UTXO set,
 * the mempool and the events a node publishes.
 *
 * GHOSTDAG is simplified (docs/devnet.md "Parallel blocks"): every block is blue (no k bound),
 * the selected parent is the parent of most blue work, ties broken by the larger hash, and a
 * block's mergeset (its past minus its selected parent's past) is ordered selected parent
 * first, then by blue work and hash ascending, as `consensus_ordered_mergeset` orders it. Blue
 * score and DAA score both add the mergeset size, blue work adds the mergeset's work. A chain
 * block accepts the transactions of its mergeset in that order; one that spends a coin already
 * spent or names an id already accepted is left out, as kaspad's UTXO validation of a
 * mergeset leaves it out. The virtual block merges every tip (at most `max_block_parents`), so
 * a block's transactions enter the virtual UTXO set as soon as it is a tip, with
 * `blockDaaScore` = the virtual DAA score, and appear in the acceptance data of the next chain
 * block (FACTS §6.4, §6.6). A chain block's coinbase pays each merged block's miner its
 * subsidy plus the fees of what was accepted from it (`expected_coinbase_transaction`, FACTS §7.2).
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { ByteWriter } from '../util/binary.ts';
import { bytesToHex, concatBytes, randomBytes, utf8ToBytes } from '../util/bytes.ts';
import type {
  BlockHash,
  Outpoint,
  ScriptPublicKey,
  Transaction,
  TxId,
  Utxo,
  UtxoEntry,
} from '../kaspa/types.ts';
import { DevnetError, TxRejectedError } from './errors.ts';
import {
  difficultyForBits,
  hashHeader,
  merkleRoot,
  workForBits,
  ZERO_HASH,
  type BlockHeader,
} from './header.ts';
import { Mempool, type MempoolContext, type MempoolEntry } from './mempool.ts';
import {
  BLOCK_MASS_LIMITS,
  BLOCK_SUBSIDY,
  BLOCK_VERSION,
  COINBASE_MATURITY,
  COINBASE_SUBNETWORK_ID,
  DEFAULT_PRUNING_DEPTH,
  GENESIS_BITS,
  GENESIS_HASH,
  GENESIS_TIMESTAMP,
  MAX_BLOCK_PARENTS,
  NEARLY_SYNCED_MS,
  SERVER_VERSION,
  TX_LIMITS,
} from './params.ts';
import { isCoinbaseTransaction, transactionHash, transactionId } from './rules.ts';
import { UtxoSet, invertDiff, type UtxoDiff } from './utxo-set.ts';
import { outpointKey } from '../kaspa/utxo-watcher.ts';

/** A block as the node keeps it. */
export interface Block {
  readonly hash: BlockHash;
  readonly hashHex: string;
  readonly header: BlockHeader;
  /** Own transactions (coinbase first); undefined once the body is pruned. */
  transactions: readonly Transaction[] | undefined;
  /** Ids of `transactions`, kept as long as the body. */
  transactionIds: readonly TxId[] | undefined;
  /** Chain block: the transactions its mergeset contributed (its acceptance data), in order. */
  acceptedIds: readonly TxId[] | undefined;
  /** Who this block's reward goes to (read from its coinbase payload). */
  readonly minerScript: ScriptPublicKey;
  /** Fees of this block's transactions that were accepted, paid by the merging block's coinbase. */
  fees: bigint;
  /** What merging this block's transactions did to the virtual UTXO set; kept within the pruning window. */
  diff: UtxoDiff | undefined;
  /** Indices of the own transactions that were accepted when the block was merged. */
  accepted: readonly number[] | undefined;
  /** Whether the block is on the selected chain (false after a reorganisation removed it). */
  isChainBlock: boolean;
  /** Hashes of the blocks that name this one as a parent. */
  children: BlockHash[];
  /** The parent of most blue work (undefined for genesis). */
  selectedParent: Block | undefined;
  /** Past minus the selected parent's past, selected parent first, then by blue work and hash. */
  mergeset: readonly Block[];
  /** Position on its own selected chain (genesis = 0); its index in the chain when a chain block. */
  height: number;
  /** False once a reorganisation fault abandoned the block: no later block merges it. */
  mergeable: boolean;
}

/** Published after every change of the virtual state. */
export interface VirtualChange {
  readonly removedChain: readonly Block[];
  readonly addedChain: readonly Block[];
  readonly utxoDiff: UtxoDiff;
  /** Blocks whose merge data (diff, accepted transactions, fees, chain membership) changed. */
  readonly changedBlocks: readonly Block[];
  readonly virtualDaaScore: bigint;
  readonly sinkBlueScore: bigint;
}

/** Events a node publishes; the RPC layer turns them into notifications. */
export interface ChainListener {
  blockAdded?(block: Block): void;
  virtualChanged?(change: VirtualChange): void;
  mempoolChanged?(added: readonly MempoolEntry[], removed: readonly MempoolEntry[]): void;
}

/** Configuration of a chain. */
export interface ChainOptions {
  /** Blocks whose bodies are kept (FACTS §6.6); default 1,080,000. */
  readonly pruningDepth?: number;
  /** Coinbase maturity in DAA score; default 1,000 like every real network (FACTS §7.2). */
  readonly coinbaseMaturity?: bigint;
  /** Clock in ms; injectable for tests. */
  readonly now?: () => number;
}

/** A block template: a header without nonce-dependent hash, and its transactions. */
export interface BlockTemplate {
  readonly header: BlockHeader;
  readonly transactions: readonly Transaction[];
}

/** Why a submitted block was refused (`submitBlock` report reason). */
export type BlockRejectReason = 'blockInvalid';

const GENESIS_HEADER: BlockHeader = {
  version: 0,
  parentsByLevel: [],
  hashMerkleRoot: ZERO_HASH,
  acceptedIdMerkleRoot: ZERO_HASH,
  utxoCommitment: ZERO_HASH,
  timestamp: GENESIS_TIMESTAMP,
  bits: GENESIS_BITS,
  nonce: 2n,
  daaScore: 0n,
  blueWork: 0n,
  blueScore: 0n,
  pruningPoint: ZERO_HASH as BlockHash,
};

const UTXO_COMMITMENT_KEY = utf8ToBytes('MuHashFinalize');
const ALLOCATION_PAYLOAD_PREFIX = utf8ToBytes('devnet-allocation:');

/**
 * Coinbase payload (`consensus/src/processes/coinbase.rs` serialize_coinbase_payload):
 * u64 blue score ‖ u64 subsidy ‖ u16 SPK version ‖ u8 script length ‖ script ‖ extra data.
 */
function coinbasePayload(
  blueScore: bigint,
  subsidy: bigint,
  miner: ScriptPublicKey,
  extraData: Uint8Array,
): Uint8Array {
  const w = new ByteWriter(64 + miner.script.length + extraData.length);
  w.u64(blueScore)
    .u64(subsidy)
    .u16(miner.version)
    .u8(miner.script.length)
    .bytes(miner.script)
    .bytes(extraData);
  return w.finish();
}

/**
 * The extra data a node puts in the coinbase of a template it hands out: its version and a
 * slash, then the miner's own bytes (`rpc/service/src/service.rs` get_block_template), so a
 * kaspad 2.1.0 coinbase ends with "2.1.0/" when the miner adds nothing.
 */
export function minerExtraData(requested: Uint8Array): Uint8Array {
  return concatBytes(utf8ToBytes(`${SERVER_VERSION}/`), requested);
}

/** The miner script a coinbase payload names, or undefined when it is malformed. */
export function minerScriptFromCoinbasePayload(payload: Uint8Array): ScriptPublicKey | undefined {
  if (payload.length < 19) return undefined;
  const version = payload[16]! | (payload[17]! << 8);
  const len = payload[18]!;
  if (payload.length < 19 + len) return undefined;
  return { version, script: payload.slice(19, 19 + len) };
}

/** Orders blocks by blue work, then hash (GHOSTDAG's `SortableBlock`). */
function byWork(a: Block, b: Block): number {
  if (a.header.blueWork !== b.header.blueWork) return a.header.blueWork < b.header.blueWork ? -1 : 1;
  return compareBytes(a.hash, b.hash);
}

/** The UTXO set with changes layered on top: a candidate state evaluated without touching the set. */
class UtxoOverlay {
  readonly #base: UtxoSet;
  readonly #added = new Map<string, Utxo>();
  readonly #removed = new Set<string>();
  constructor(base: UtxoSet) {
    this.#base = base;
  }
  get(o: Outpoint): Utxo | undefined {
    const k = outpointKey(o);
    const a = this.#added.get(k);
    if (a !== undefined) return a;
    return this.#removed.has(k) ? undefined : this.#base.get(o);
  }
  add(u: Utxo): void {
    this.#added.set(outpointKey(u.outpoint), u);
  }
  remove(u: Utxo): void {
    const k = outpointKey(u.outpoint);
    if (!this.#added.delete(k)) this.#removed.add(k);
    else if (this.#base.get(u.outpoint) !== undefined) this.#removed.add(k);
  }
  apply(d: UtxoDiff): void {
    for (const u of d.removed) this.remove(u);
    for (const u of d.added) this.add(u);
  }
}

/** A set of accepted ids (hex) with additions and removals layered on top. */
class IdOverlay {
  readonly #base: ReadonlySet<string>;
  readonly #added = new Set<string>();
  readonly #removed = new Set<string>();
  constructor(base: ReadonlySet<string>) {
    this.#base = base;
  }
  has(id: string): boolean {
    return this.#added.has(id) || (this.#base.has(id) && !this.#removed.has(id));
  }
  add(id: string): void {
    this.#added.add(id);
  }
  delete(id: string): void {
    this.#added.delete(id);
    this.#removed.add(id);
  }
}

/** What merging one block did, before it is committed. */
interface Acceptance {
  readonly block: Block;
  readonly sp: boolean;
  readonly diff: UtxoDiff;
  readonly accepted: number[];
  readonly fees: bigint;
}

/** The state a block over `parents` (or the virtual over the tips) would see. */
interface DagContext {
  /** Selected parent first, then by blue work descending. */
  readonly parents: readonly Block[];
  readonly selectedParent: Block;
  readonly mergeset: readonly Block[];
  /** The chain block where the context's selected chain leaves the current one. */
  readonly fork: Block;
  /** Selected-chain blocks above `fork`, ascending, ending at the selected parent (empty when it is on the chain). */
  readonly path: readonly Block[];
  /** Merge order position the evaluation starts at, and how many entries from there are kept. */
  readonly from: number;
  readonly common: number;
  /** Current merge order entries undone, and the new ones evaluated in their place. */
  readonly reverted: readonly Block[];
  readonly evaluated: readonly Acceptance[];
  /** Inverse diffs of `reverted` (last first), then the diffs of `evaluated`. */
  readonly diffs: readonly UtxoDiff[];
  readonly view: UtxoOverlay;
  readonly ids: IdOverlay;
  readonly daaScore: bigint;
  readonly blueScore: bigint;
  readonly blueWork: bigint;
}

/** The local network's state machine. Single-threaded: every method runs to completion. */
export class Chain {
  readonly mempool: Mempool;
  readonly utxos = new UtxoSet();
  readonly pruningDepth: number;
  readonly coinbaseMaturity: bigint;
  readonly #now: () => number;
  readonly #byHash = new Map<string, Block>();
  /** The selected chain, genesis first. */
  readonly #chain: Block[] = [];
  readonly #chainPos = new Map<string, number>();
  /** Chain block → end of its acceptance segment in `#order`. */
  readonly #segEnd = new Map<Block, number>();
  /** Every merged block in acceptance order: each chain block's mergeset in turn, then the virtual's. */
  readonly #order: Block[] = [];
  /** Whether `#order[i]` is the selected parent of the block that merges it (only then is its coinbase accepted). */
  readonly #orderSp: boolean[] = [];
  /** Blocks no block names as a parent. */
  readonly #tips = new Set<Block>();
  /** Ids (hex) of transactions accepted in the merge order, to answer RejectAlreadyAccepted. */
  readonly #accepted = new Set<string>();
  readonly #listeners = new Set<ChainListener>();
  #virtual: DagContext;
  #pruningIndex = 0;
  #utxoCommitment: Uint8Array = ZERO_HASH;
  #allocations = 0;

  constructor(opts: ChainOptions = {}) {
    this.pruningDepth = opts.pruningDepth ?? DEFAULT_PRUNING_DEPTH;
    if (!Number.isSafeInteger(this.pruningDepth) || this.pruningDepth < 1) {
      throw new RangeError(`"pruningDepth" expected a positive integer, got ${String(opts.pruningDepth)}`);
    }
    this.coinbaseMaturity = opts.coinbaseMaturity ?? COINBASE_MATURITY;
    if (typeof this.coinbaseMaturity !== 'bigint' || this.coinbaseMaturity < 0n) {
      throw new RangeError(
        `"coinbaseMaturity" expected a non-negative bigint, got ${String(opts.coinbaseMaturity)}`,
      );
    }
    this.#now = opts.now ?? Date.now;
    const genesis: Block = {
      hash: GENESIS_HASH,
      hashHex: bytesToHex(GENESIS_HASH),
      header: GENESIS_HEADER,
      transactions: [],
      transactionIds: [],
      acceptedIds: [],
      minerScript: { version: 0, script: new Uint8Array(0) },
      fees: 0n,
      diff: { added: [], removed: [] },
      accepted: [],
      isChainBlock: true,
      children: [],
      selectedParent: undefined,
      mergeset: [],
      height: 0,
      mergeable: true,
    };
    this.#byHash.set(genesis.hashHex, genesis);
    this.#chain.push(genesis);
    this.#chainPos.set(genesis.hashHex, 0);
    this.#segEnd.set(genesis, 0);
    this.#tips.add(genesis);
    this.#order.push(genesis);
    this.#orderSp.push(true);
    this.mempool = new Mempool(this.#mempoolContext());
    this.#virtual = this.#context([genesis]);
  }

  // ------------------------------------------------------------------ queries

  /** The selected tip. */
  get sink(): Block {
    return this.#chain[this.#chain.length - 1]!;
  }

  /** The genesis block. */
  get genesis(): Block {
    return this.#chain[0]!;
  }

  /** DAA score of the virtual block: the sink's plus the size of the virtual's mergeset. */
  get virtualDaaScore(): bigint {
    return this.#virtual.daaScore;
  }

  /** Blocks without children, the virtual's parents among them. */
  get tips(): readonly Block[] {
    return [...this.#tips];
  }

  /** The virtual block's parents: the mergeable tips, selected parent (the sink) first. */
  get virtualParents(): readonly Block[] {
    return this.#virtual.parents;
  }

  /** The virtual's mergeset: blocks whose transactions the next chain block accepts, in order. */
  get virtualMergeset(): readonly Block[] {
    return this.#virtual.mergeset;
  }

  /**
   * Whether the node calls itself synced: on every network but mainnet, kaspad's
   * `is_nearly_synced` holds while the sink is younger than target time per block × 30,000 / 3
   * (1,000 s at 10 BPS); a fresh node's sink is the 2021 genesis, so it is not synced until it
   * has a block of its own. Simnet needs no peers for it (`has_sufficient_peer_connectivity`).
   */
  get isSynced(): boolean {
    return this.#now() < Number(this.sink.header.timestamp) + NEARLY_SYNCED_MS;
  }

  /** Median timestamp of the last 11 chain blocks (ms). */
  get pastMedianTime(): bigint {
    const ts = this.#chain.slice(-11).map((b) => b.header.timestamp);
    ts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return ts[Math.floor(ts.length / 2)]!;
  }

  /** The pruning point: the oldest chain block whose body is kept. */
  get pruningPoint(): Block {
    return this.#chain[this.#pruningIndex]!;
  }

  /** Number of blocks known, side blocks included. */
  get blockCount(): number {
    return this.#byHash.size;
  }

  /** Chain blocks from genesis to sink. */
  get chain(): readonly Block[] {
    return this.#chain;
  }

  /** The block with this hash (hex), chain or side. */
  block(hashHex: string): Block | undefined {
    return this.#byHash.get(hashHex);
  }

  /** Position of a chain block (genesis = 0), or -1 when it is not on the selected chain. */
  chainIndex(block: Block): number {
    return this.#chainPos.get(block.hashHex) ?? -1;
  }

  /** The last chain block whose DAA score is at most `daaScore`. */
  chainBlockAtDaaScore(daaScore: bigint): Block {
    let lo = 0;
    let hi = this.#chain.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#chain[mid]!.header.daaScore <= daaScore) lo = mid;
      else hi = mid - 1;
    }
    return this.#chain[lo]!;
  }

  /**
   * The transactions a chain block accepted, each with the merged block that holds it, in
   * acceptance order; undefined when a body is pruned or the block is not on the chain.
   */
  acceptanceOf(block: Block): { holder: Block; index: number }[] | undefined {
    if (this.chainIndex(block) < 0) return undefined;
    const out: { holder: Block; index: number }[] = [];
    for (const m of block.mergeset) {
      if (m.transactions === undefined || m.accepted === undefined) return undefined;
      for (const index of m.accepted) out.push({ holder: m, index });
    }
    return out;
  }

  /** Whether a transaction id (hex) was accepted on the current chain. */
  isAccepted(idHex: string): boolean {
    return this.#accepted.has(idHex);
  }

  /** Subscribes to events; returns the unsubscribe function. */
  listen(listener: ChainListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // ------------------------------------------------------------------ transactions

  /** Validates a transaction and admits it to the mempool (throws TxRejectedError). */
  submitTransaction(tx: Transaction): MempoolEntry {
    const entry = this.mempool.submit(tx);
    for (const l of this.#listeners) l.mempoolChanged?.([entry], []);
    return entry;
  }

  /**
   * Credits coins out of thin air, as entries of the network's initial UTXO set: a synthetic
   * allocation transaction that is in no block, so the coins are spendable at once (not a
   * coinbase, so no maturity). Used for prefunding and as the faucet's own reserve. They carry
   * the sink's DAA score, as if the sink had accepted them: a coin at the virtual's score is
   * one a chain block still to come will list (FACTS §6.4), and a client that looks for this
   * one's payload must be able to tell, once it has read the sink, that no block lists it.
   */
  allocate(spk: ScriptPublicKey, amount: bigint): Utxo {
    if (amount <= 0n) throw new RangeError(`"amount" expected a positive value, got ${amount}`);
    const payload = concatBytes(
      ALLOCATION_PAYLOAD_PREFIX,
      utf8ToBytes(String(this.#allocations++)),
      randomBytes(8),
    );
    const synthetic: Transaction = {
      version: 0,
      inputs: [],
      outputs: [{ value: amount, scriptPublicKey: spk }],
      lockTime: 0n,
      subnetworkId: new Uint8Array(20),
      gas: 0n,
      payload,
      storageMass: 0n,
    };
    const utxo: Utxo = {
      outpoint: { transactionId: transactionId(synthetic), index: 0 },
      entry: { amount, scriptPublicKey: spk, blockDaaScore: this.sink.header.daaScore, isCoinbase: false },
    };
    this.utxos.add(utxo);
    this.#emitVirtual({
      removedChain: [],
      addedChain: [],
      utxoDiff: { added: [utxo], removed: [] },
      changedBlocks: [],
    });
    return utxo;
  }

  // ------------------------------------------------------------------ blocks

  /** A template over the virtual's parents paying `miner`, filled from the mempool within the block mass limits. */
  blockTemplate(
    miner: ScriptPublicKey,
    extraData: Uint8Array = new Uint8Array(0),
    includeMempool = true,
  ): BlockTemplate {
    return this.#template(this.#virtual, miner, extraData, includeMempool ? this.#selectTransactions() : []);
  }

  #template(
    ctx: DagContext,
    miner: ScriptPublicKey,
    extraData: Uint8Array,
    selected: readonly MempoolEntry[],
  ): BlockTemplate {
    const coinbase = this.#coinbase(ctx, miner, extraData);
    const txs: Transaction[] = [coinbase, ...selected.map((e) => e.tx)];
    const timestamp = BigInt(Math.max(this.#now(), Number(ctx.selectedParent.header.timestamp) + 1));
    const header: BlockHeader = {
      version: BLOCK_VERSION,
      parentsByLevel: [ctx.parents.map((p) => p.hash)],
      hashMerkleRoot: merkleRoot(txs.map(transactionHash)),
      acceptedIdMerkleRoot: merkleRoot(this.#acceptedIdsOf(ctx).sort(compareBytes)),
      utxoCommitment: this.#utxoCommitment,
      timestamp,
      bits: GENESIS_BITS,
      nonce: 0n,
      daaScore: ctx.daaScore,
      blueWork: ctx.blueWork,
      blueScore: ctx.blueScore,
      pruningPoint: this.pruningPoint.hash,
    };
    return { header, transactions: txs };
  }

  /** The coinbase of a block in `ctx`: one output per merged block paying its miner subsidy and accepted fees. */
  #coinbase(ctx: DagContext, miner: ScriptPublicKey, extraData: Uint8Array): Transaction {
    const payload = coinbasePayload(ctx.blueScore, BLOCK_SUBSIDY, miner, extraData);
    if (payload.length > TX_LIMITS.maxCoinbasePayloadLen) {
      throw new DevnetError(
        'BAD_REQUEST',
        `coinbase payload of ${payload.length} bytes exceeds ${TX_LIMITS.maxCoinbasePayloadLen}`,
      );
    }
    const evaluated = new Map(ctx.evaluated.map((a) => [a.block, a]));
    const outputs = [];
    for (const m of ctx.mergeset) {
      if (m === this.genesis || m.minerScript.script.length === 0) continue;
      const fees = evaluated.get(m)?.fees ?? m.fees;
      outputs.push({ value: BLOCK_SUBSIDY + fees, scriptPublicKey: m.minerScript });
    }
    return {
      version: 1,
      inputs: [],
      outputs,
      lockTime: 0n,
      subnetworkId: COINBASE_SUBNETWORK_ID,
      gas: 0n,
      payload,
      storageMass: 0n,
    };
  }

  /** Ids a block in `ctx` accepts from its mergeset. */
  #acceptedIdsOf(ctx: DagContext): TxId[] {
    const evaluated = new Map(ctx.evaluated.map((a) => [a.block, a]));
    const ids: TxId[] = [];
    for (const m of ctx.mergeset) {
      const accepted = evaluated.get(m)?.accepted ?? m.accepted ?? [];
      for (const i of accepted) ids.push(m.transactionIds![i]!);
    }
    return ids;
  }

  /**
   * A template over chosen `parents` holding exactly `transactions` (not checked here;
   * `submitBlock` checks them): what a miner whose template went stale, or a rival miner,
   * would submit. For tests of parallel blocks.
   */
  templateOver(
    parents: readonly Block[],
    miner: ScriptPublicKey,
    transactions: readonly Transaction[],
  ): BlockTemplate {
    const ctx = this.#context(parents);
    const t = this.#template(ctx, miner, minerExtraData(new Uint8Array(0)), []);
    const txs = [t.transactions[0]!, ...transactions];
    return {
      header: { ...t.header, hashMerkleRoot: merkleRoot(txs.map(transactionHash)) },
      transactions: txs,
    };
  }

  /** Mines one block over the virtual's parents (PoW is skipped on simnet, FACTS §7.2) and connects it. */
  mine(miner: ScriptPublicKey, opts: { extraData?: Uint8Array; includeMempool?: boolean } = {}): Block {
    const selected = opts.includeMempool === false ? [] : this.#selectTransactions();
    // Mined as a miner would through getBlockTemplate, with the node's version in the coinbase.
    const ctx = this.#virtual;
    const template = this.#template(
      ctx,
      miner,
      minerExtraData(opts.extraData ?? new Uint8Array(0)),
      selected,
    );
    const nonce = new DataView(randomBytes(8).buffer).getBigUint64(0);
    // The node's own template holds only admitted transactions, so it is connected without re-validation.
    const block = this.#insert(
      { header: { ...template.header, nonce }, transactions: template.transactions },
      miner,
      ctx,
    );
    this.#publish(block, this.#updateVirtual());
    return block;
  }

  /**
   * Validates and connects a block (`submitBlock`). Its parents must be known, distinct and
   * none in another's past (at most 64 on simnet); its scores, coinbase and merkle root must be
   * those of its own context, and its transactions valid there: in the UTXO state its mergeset
   * leaves, so a block built on a template that went stale is accepted as a parallel block.
   */
  submitBlock(candidate: BlockTemplate): Block | { reason: BlockRejectReason; detail: string } {
    const invalid = (detail: string): { reason: BlockRejectReason; detail: string } => ({
      reason: 'blockInvalid',
      detail,
    });
    const h = candidate.header;
    const hashes = h.parentsByLevel[0] ?? [];
    if (hashes.length === 0 || hashes.length > MAX_BLOCK_PARENTS) return invalid('bad number of parents');
    const parents: Block[] = [];
    for (const p of hashes) {
      const b = this.#byHash.get(bytesToHex(p));
      if (b === undefined) return invalid('unknown parent');
      if (!b.mergeable) return invalid('parent abandoned by a reorganisation');
      if (parents.includes(b)) return invalid('duplicate parent');
      parents.push(b);
    }
    for (const a of parents)
      for (const b of parents)
        if (a !== b && this.#inPast(a, b)) return invalid('a parent is in the past of another');
    if (this.#byHash.has(bytesToHex(hashHeader(h)))) return invalid('block already known');
    const virtual = this.#virtual;
    const sameAsVirtual =
      parents.length === virtual.parents.length && parents.every((p) => virtual.parents.includes(p));
    const ctx = sameAsVirtual ? virtual : this.#context(parents);
    if (h.daaScore !== ctx.daaScore || h.blueScore !== ctx.blueScore)
      return invalid('wrong DAA or blue score');
    const [coinbase, ...rest] = candidate.transactions;
    if (coinbase === undefined || !isCoinbaseTransaction(coinbase))
      return invalid('first transaction is not a coinbase');
    const miner = minerScriptFromCoinbasePayload(coinbase.payload);
    if (miner === undefined) return invalid('malformed coinbase payload');
    const expected = this.#coinbase(ctx, miner, coinbase.payload.subarray(19 + miner.script.length));
    if (bytesToHex(transactionHash(expected)) !== bytesToHex(transactionHash(coinbase)))
      return invalid('unexpected coinbase');
    if (
      bytesToHex(merkleRoot(candidate.transactions.map(transactionHash))) !== bytesToHex(h.hashMerkleRoot)
    ) {
      return invalid('bad merkle root');
    }
    // Every other transaction must be valid in the block's context plus earlier ones in the block.
    const entries: MempoolEntry[] = [];
    const staged = new Mempool(
      sameAsVirtual
        ? this.#mempoolContext()
        : {
            utxo: (o) => ctx.view.get(o)?.entry,
            virtualDaaScore: () => ctx.daaScore,
            pastMedianTime: () => this.pastMedianTime,
            isAccepted: (id) => ctx.ids.has(id),
            coinbaseMaturity: this.coinbaseMaturity,
          },
    );
    const totals = { compute: 0n, storage: 0n, transient: 0n };
    for (const tx of rest) {
      // A transaction the mempool already admitted in this same context is not validated twice.
      const known = sameAsVirtual ? this.mempool.get(bytesToHex(transactionId(tx))) : undefined;
      if (known !== undefined && bytesToHex(transactionHash(known.tx)) === bytesToHex(transactionHash(tx))) {
        staged.insert(known);
        entries.push(known);
        totals.compute += known.computeMass;
        totals.storage += known.storageMass;
        totals.transient += known.transientMass;
        continue;
      }
      try {
        const e = staged.submit(tx);
        if (e.tx.storageMass !== tx.storageMass)
          return invalid(`wrong storage mass commitment in ${e.idHex}`);
        entries.push(e);
        totals.compute += e.computeMass;
        totals.storage += e.storageMass;
        totals.transient += e.transientMass;
      } catch (err) {
        if (err instanceof TxRejectedError) return invalid(err.message);
        throw err;
      }
    }
    if (
      totals.compute > BLOCK_MASS_LIMITS.compute ||
      totals.storage > BLOCK_MASS_LIMITS.storage ||
      totals.transient > BLOCK_MASS_LIMITS.transient
    ) {
      return invalid('block exceeds the mass limits');
    }
    const block = this.#insert(candidate, miner, ctx);
    this.#publish(block, this.#updateVirtual());
    return block;
  }

  /**
   * A reorganisation fault: abandons the last `depth` chain blocks and every tip, and builds
   * `replacement` (default depth + 1, so more blue work) new blocks on the chain block below
   * them. No later block merges the abandoned ones, so their transactions leave the virtual
   * state; each goes back to the mempool if still valid there, unless `dropTransactions`.
   */
  reorg(
    depth: number,
    opts: { replacement?: number; dropTransactions?: boolean; miner?: ScriptPublicKey } = {},
  ): {
    removed: Block[];
    added: Block[];
  } {
    const maxDepth = this.#chain.length - 1 - this.#pruningIndex;
    if (!Number.isSafeInteger(depth) || depth < 1 || depth > maxDepth) {
      throw new RangeError(`"depth" expected 1..${maxDepth} (blocks above the pruning point), got ${depth}`);
    }
    const replacement = opts.replacement ?? depth + 1;
    if (!Number.isSafeInteger(replacement) || replacement < 1)
      throw new RangeError(`"replacement" expected a positive integer, got ${replacement}`);
    const fork = this.#chain[this.#chain.length - 1 - depth]!;
    const abandoned = [...this.#chain.slice(this.#chain.length - depth), ...this.#tips];
    for (const b of abandoned) {
      b.mergeable = false;
      this.#tips.delete(b);
    }
    const miner = opts.miner ?? this.sink.minerScript;
    let prev = fork;
    for (let i = 0; i < replacement; i++) {
      const ctx = this.#context([prev]);
      const template = this.#template(ctx, miner, utf8ToBytes(`reorg-${i}`), []);
      const nonce = new DataView(randomBytes(8).buffer).getBigUint64(0);
      prev = this.#insert(
        { header: { ...template.header, nonce }, transactions: template.transactions },
        miner,
        ctx,
      );
    }
    const change = this.#updateVirtual({
      returnTransactions: opts.dropTransactions !== true,
      abandoned: [...new Set(abandoned)],
    });
    this.#publish(undefined, change);
    return { removed: [...change.removedChain], added: [...change.addedChain] };
  }

  // ------------------------------------------------------------------ internals

  #mempoolContext(): MempoolContext {
    return {
      utxo: (o) => this.utxos.get(o)?.entry,
      virtualDaaScore: () => this.virtualDaaScore,
      pastMedianTime: () => this.pastMedianTime,
      isAccepted: (id) => this.#accepted.has(id),
      coinbaseMaturity: this.coinbaseMaturity,
    };
  }

  #parentsOf(b: Block): Block[] {
    const out: Block[] = [];
    for (const h of b.header.parentsByLevel[0] ?? []) {
      const p = this.#byHash.get(bytesToHex(h));
      if (p !== undefined) out.push(p);
    }
    return out;
  }

  /**
   * Whether `y` is in the past of `of`. Every block being blue, blue score grows along every
   * edge, so the walk stops at blocks no higher than `y`.
   */
  #inPast(y: Block, of: Block): boolean {
    if (y.header.blueScore >= of.header.blueScore) return false;
    const stack = [of];
    const seen = new Set<Block>();
    while (stack.length > 0) {
      for (const p of this.#parentsOf(stack.pop()!)) {
        if (p === y) return true;
        if (!seen.has(p) && p.header.blueScore > y.header.blueScore) {
          seen.add(p);
          stack.push(p);
        }
      }
    }
    return false;
  }

  /** The mergeset of a block over `parents` (selected parent first): its past minus the selected parent's. */
  #mergesetOf(parents: readonly Block[], selected: Block): Block[] {
    const rest: Block[] = [];
    const seen = new Set<Block>([selected]);
    const queue = parents.filter((p) => p !== selected);
    while (queue.length > 0) {
      const y = queue.pop()!;
      if (seen.has(y)) continue;
      seen.add(y);
      if (this.#inPast(y, selected)) continue;
      rest.push(y);
      queue.push(...this.#parentsOf(y));
    }
    return [selected, ...rest.sort(byWork)];
  }

  /**
   * The context of a block over `parents`: its GHOSTDAG data, and the merge order it implies
   * evaluated against the current one (shared entries kept, the rest undone and redone on an
   * overlay of the UTXO set).
   */
  #context(parentsIn: readonly Block[]): DagContext {
    const parents = [...parentsIn].sort((a, b) => byWork(b, a));
    const selectedParent = parents[0]!;
    const mergeset = this.#mergesetOf(parents, selectedParent);
    let blueWork = selectedParent.header.blueWork;
    for (const m of mergeset) blueWork += workForBits(m.header.bits);
    const n = BigInt(mergeset.length);
    const daaScore = selectedParent.header.daaScore + n;
    const blueScore = selectedParent.header.blueScore + n;
    const path: Block[] = [];
    let fork = selectedParent;
    while (this.chainIndex(fork) < 0) {
      path.push(fork);
      fork = fork.selectedParent!;
    }
    path.reverse();
    const from = this.#segEnd.get(fork)!;
    const entries: { block: Block; pov: bigint; sp: boolean }[] = [];
    for (const c of path)
      c.mergeset.forEach((m, i) => entries.push({ block: m, pov: c.header.daaScore, sp: i === 0 }));
    mergeset.forEach((m, i) => entries.push({ block: m, pov: daaScore, sp: i === 0 }));
    let common = 0;
    while (
      common < entries.length &&
      from + common < this.#order.length &&
      this.#order[from + common] === entries[common]!.block &&
      this.#orderSp[from + common] === entries[common]!.sp
    ) {
      common++;
    }
    const reverted = this.#order.slice(from + common);
    const view = new UtxoOverlay(this.utxos);
    const ids = new IdOverlay(this.#accepted);
    const diffs: UtxoDiff[] = [];
    for (let i = reverted.length - 1; i >= 0; i--) {
      const b = reverted[i]!;
      if (b.diff === undefined)
        throw new DevnetError('BAD_REQUEST', `block ${b.hashHex} is below the pruning point`);
      const inverse = invertDiff(b.diff);
      view.apply(inverse);
      diffs.push(inverse);
      for (const t of b.accepted ?? []) ids.delete(bytesToHex(b.transactionIds![t]!));
    }
    const evaluated: Acceptance[] = [];
    for (const e of entries.slice(common)) {
      const a = this.#accept(e.block, e.sp, view, ids, e.pov);
      evaluated.push(a);
      diffs.push(a.diff);
    }
    return {
      parents,
      selectedParent,
      mergeset,
      fork,
      path,
      from,
      common,
      reverted,
      evaluated,
      diffs,
      view,
      ids,
      daaScore,
      blueScore,
      blueWork,
    };
  }

  /**
   * Merges one block's transactions into `view` in order: one whose id is already accepted or
   * that spends a coin not in the view (spent by an earlier merged block) is left out. Only the
   * selected parent's coinbase is accepted; the merging block's own coinbase pays the others'
   * miners (`calculate_utxo_state` skips every merged coinbase but the selected parent's).
   */
  #accept(block: Block, selectedParent: boolean, view: UtxoOverlay, ids: IdOverlay, pov: bigint): Acceptance {
    const txs = block.transactions ?? [];
    const created = new Map<string, Utxo>();
    const removed: Utxo[] = [];
    const accepted: number[] = [];
    let fees = 0n;
    txs.forEach((tx, t) => {
      const id = block.transactionIds![t]!;
      const idHex = bytesToHex(id);
      if ((t === 0 && !selectedParent) || ids.has(idHex)) return;
      const coins: Utxo[] = [];
      for (const input of tx.inputs) {
        const coin = view.get(input.previousOutpoint);
        if (coin === undefined) return;
        coins.push(coin);
      }
      let spent = 0n;
      for (const coin of coins) {
        spent += coin.entry.amount;
        view.remove(coin);
        const key = outpointKey(coin.outpoint);
        if (!created.delete(key)) removed.push(coin);
      }
      let paid = 0n;
      tx.outputs.forEach((o, index) => {
        paid += o.value;
        const entry: UtxoEntry = {
          amount: o.value,
          scriptPublicKey: o.scriptPublicKey,
          blockDaaScore: pov,
          isCoinbase: t === 0,
        };
        const utxo: Utxo = { outpoint: { transactionId: id, index }, entry };
        view.add(utxo);
        created.set(outpointKey(utxo.outpoint), utxo);
      });
      if (t > 0) fees += spent - paid;
      accepted.push(t);
      ids.add(idHex);
    });
    return { block, sp: selectedParent, diff: { added: [...created.values()], removed }, accepted, fees };
  }

  /** Adds a validated block to the DAG as a tip (the virtual is not moved yet). */
  #insert(candidate: BlockTemplate, miner: ScriptPublicKey, ctx: DagContext): Block {
    const hash = hashHeader(candidate.header);
    const block: Block = {
      hash,
      hashHex: bytesToHex(hash),
      header: candidate.header,
      transactions: candidate.transactions,
      transactionIds: candidate.transactions.map(transactionId),
      acceptedIds: undefined,
      minerScript: miner,
      fees: 0n,
      diff: undefined,
      accepted: undefined,
      isChainBlock: false,
      children: [],
      selectedParent: ctx.selectedParent,
      mergeset: ctx.mergeset,
      height: ctx.selectedParent.height + 1,
      mergeable: true,
    };
    for (const p of ctx.parents) {
      p.children.push(hash);
      this.#tips.delete(p);
    }
    this.#tips.add(block);
    this.#byHash.set(block.hashHex, block);
    return block;
  }

  /** The virtual's parents: mergeable tips by blue work, at most `max_block_parents`. */
  #virtualParents(): Block[] {
    return [...this.#tips]
      .filter((b) => b.mergeable)
      .sort((a, b) => byWork(b, a))
      .slice(0, MAX_BLOCK_PARENTS);
  }

  /**
   * Moves the virtual onto the current tips: commits the new merge order to the UTXO set, the
   * selected chain and the mempool, and returns the change to publish.
   */
  #updateVirtual(
    opts: { returnTransactions?: boolean; abandoned?: readonly Block[] } = {},
  ): VirtualChange & { mempoolAdded: MempoolEntry[]; mempoolRemoved: MempoolEntry[] } {
    const ctx = this.#context(this.#virtualParents());
    const utxoDiff = mergeDiffs(ctx.diffs);
    this.utxos.apply(utxoDiff);
    const unaccepted: Transaction[] = [];
    const before = new Set<string>();
    for (const b of ctx.reverted) {
      for (const t of b.accepted ?? []) {
        const idHex = bytesToHex(b.transactionIds![t]!);
        this.#accepted.delete(idHex);
        before.add(idHex);
        if (t > 0) unaccepted.push(b.transactions![t]!);
      }
      b.diff = undefined;
      b.accepted = undefined;
      b.fees = 0n;
    }
    const newlyAccepted: Transaction[] = [];
    for (const a of ctx.evaluated) {
      a.block.diff = a.diff;
      a.block.accepted = a.accepted;
      a.block.fees = a.fees;
      for (const t of a.accepted) {
        const idHex = bytesToHex(a.block.transactionIds![t]!);
        this.#accepted.add(idHex);
        if (!before.has(idHex) && t > 0) newlyAccepted.push(a.block.transactions![t]!);
      }
    }
    this.#order.length = ctx.from + ctx.common;
    this.#orderSp.length = ctx.from + ctx.common;
    for (const a of ctx.evaluated) {
      this.#order.push(a.block);
      this.#orderSp.push(a.sp);
    }

    const forkIndex = this.chainIndex(ctx.fork);
    // Listed from the old sink down, as kaspad lists removed chain blocks.
    const removedChain = this.#chain.splice(forkIndex + 1).reverse();
    for (const b of removedChain) {
      b.isChainBlock = false;
      b.acceptedIds = undefined;
      this.#chainPos.delete(b.hashHex);
      this.#segEnd.delete(b);
    }
    for (const c of ctx.path) {
      this.#chainPos.set(c.hashHex, this.#chain.length);
      this.#chain.push(c);
      c.isChainBlock = true;
      this.#segEnd.set(c, this.#segEnd.get(c.selectedParent!)! + c.mergeset.length);
      c.acceptedIds = c.mergeset.flatMap((m) => (m.accepted ?? []).map((t) => m.transactionIds![t]!));
    }
    this.#virtual = {
      ...ctx,
      from: this.#order.length - ctx.mergeset.length,
      common: ctx.mergeset.length,
      reverted: [],
      evaluated: [],
      diffs: [],
    };
    this.#utxoCommitment = blake2b(
      concatBytes(this.sink.header.utxoCommitment, ...ctx.mergeset.map((m) => m.hash)),
      { dkLen: 32, key: UTXO_COMMITMENT_KEY },
    );

    // The mempool follows: what is now accepted leaves it with its double spends; what a
    // reorganisation un-accepted returns to it (or is dropped), and then everything left is
    // validated again against the restored state.
    const mempoolAdded: MempoolEntry[] = [];
    let mempoolRemoved: MempoolEntry[] = [];
    const stillUnaccepted = unaccepted.filter((tx) => !this.#accepted.has(bytesToHex(transactionId(tx))));
    if (stillUnaccepted.length > 0 || opts.abandoned !== undefined) {
      const previous = this.mempool.clear();
      mempoolRemoved = previous;
      const again = [
        ...(opts.returnTransactions === false ? [] : stillUnaccepted),
        ...previous.map((e) => e.tx),
      ];
      for (const tx of again) {
        try {
          mempoolAdded.push(this.mempool.submit(tx));
        } catch (err) {
          if (!(err instanceof TxRejectedError)) throw err;
        }
      }
    } else if (newlyAccepted.length > 0) {
      const fromPool = newlyAccepted
        .map((tx) => this.mempool.get(bytesToHex(transactionId(tx))))
        .filter((e): e is MempoolEntry => e !== undefined);
      mempoolRemoved = [...fromPool, ...this.mempool.handleAccepted(newlyAccepted)];
    }
    const changedBlocks = [
      ...new Set([
        ...ctx.reverted,
        ...ctx.evaluated.map((a) => a.block),
        ...removedChain,
        ...(opts.abandoned ?? []),
      ]),
    ];
    return {
      removedChain,
      addedChain: ctx.path,
      utxoDiff,
      changedBlocks,
      virtualDaaScore: this.virtualDaaScore,
      sinkBlueScore: this.sink.header.blueScore,
      mempoolAdded,
      mempoolRemoved,
    };
  }

  /** Publishes a virtual change: mempool, the new block, then the virtual (the order kaspad notifies in). */
  #publish(
    block: Block | undefined,
    change: VirtualChange & { mempoolAdded: MempoolEntry[]; mempoolRemoved: MempoolEntry[] },
  ): void {
    const { mempoolAdded, mempoolRemoved, ...virtual } = change;
    if (mempoolAdded.length > 0 || mempoolRemoved.length > 0)
      for (const l of this.#listeners) l.mempoolChanged?.(mempoolAdded, mempoolRemoved);
    this.#prune();
    if (block !== undefined) for (const l of this.#listeners) l.blockAdded?.(block);
    for (const l of this.#listeners) l.virtualChanged?.(virtual);
  }

  /** Mempool transactions for a template: highest feerate first, parents before children, within the mass limits. */
  #selectTransactions(): MempoolEntry[] {
    const all = this.mempool.entries();
    const order = new Map(all.map((e, i) => [e.idHex, i]));
    const sorted = [...all].sort(
      (a, b) => b.feerate - a.feerate || order.get(a.idHex)! - order.get(b.idHex)!,
    );
    const chosen: MempoolEntry[] = [];
    const chosenIds = new Set<string>();
    const totals = { compute: 0n, storage: 0n, transient: 0n };
    let progress = true;
    // Repeat passes so a child skipped before its parent was chosen gets another chance.
    while (progress) {
      progress = false;
      for (const e of sorted) {
        if (chosenIds.has(e.idHex)) continue;
        const parentsReady = e.tx.inputs.every((i) => {
          const p = bytesToHex(i.previousOutpoint.transactionId);
          return !order.has(p) || chosenIds.has(p);
        });
        if (!parentsReady) continue;
        if (
          totals.compute + e.computeMass > BLOCK_MASS_LIMITS.compute ||
          totals.storage + e.storageMass > BLOCK_MASS_LIMITS.storage ||
          totals.transient + e.transientMass > BLOCK_MASS_LIMITS.transient
        ) {
          continue;
        }
        totals.compute += e.computeMass;
        totals.storage += e.storageMass;
        totals.transient += e.transientMass;
        chosen.push(e);
        chosenIds.add(e.idHex);
        progress = true;
      }
    }
    return chosen;
  }

  /**
   * Drops bodies and acceptance data of chain blocks below the pruning point, and the UTXO
   * diffs of what they merged, which no reorganisation can undo any more (FACTS §6.6).
   */
  #prune(): void {
    const target = this.#chain.length - 1 - this.pruningDepth;
    while (this.#pruningIndex < target) {
      const b = this.#chain[this.#pruningIndex]!;
      b.transactions = undefined;
      b.transactionIds = undefined;
      b.acceptedIds = undefined;
      for (const m of b.mergeset) m.diff = undefined;
      this.#pruningIndex++;
    }
  }

  /** Restores state loaded from a store (used by persistence only). */
  restore(state: RestoredState): void {
    if (this.#chain.length !== 1) throw new DevnetError('BAD_REQUEST', 'restore() needs a fresh chain');
    const blocks = [...state.chain, ...state.sideBlocks];
    for (const b of blocks) this.#byHash.set(b.hashHex, b);
    // GHOSTDAG data is derived from the headers, parents before children.
    blocks.sort((a, b) =>
      a.header.blueScore < b.header.blueScore ? -1 : a.header.blueScore > b.header.blueScore ? 1 : 0,
    );
    for (const b of blocks) {
      const parents = this.#parentsOf(b).sort((x, y) => byWork(y, x));
      const sp = parents[0];
      if (sp === undefined) throw new DevnetError('STORE_CORRUPT', `block ${b.hashHex} has no known parent`);
      b.selectedParent = sp;
      b.mergeset = this.#mergesetOf(parents, sp);
      b.height = sp.height + 1;
      for (const p of parents) {
        p.children.push(b.hash);
        this.#tips.delete(p);
      }
      this.#tips.add(b);
    }
    this.#order.length = 0;
    this.#orderSp.length = 0;
    for (const b of state.chain) {
      this.#chainPos.set(b.hashHex, this.#chain.length);
      this.#chain.push(b);
      b.isChainBlock = true;
    }
    for (const c of this.#chain) {
      c.mergeset.forEach((m, i) => {
        this.#order.push(m);
        this.#orderSp.push(i === 0);
      });
      this.#segEnd.set(c, this.#order.length);
    }
    for (const u of state.utxos) this.utxos.add(u);
    this.#pruningIndex = Math.max(0, this.#chain.length - 1 - this.pruningDepth);
    this.#allocations = state.allocations;
    const parents = this.#virtualParents();
    const sp = parents[0]!;
    const mergeset = this.#mergesetOf(parents, sp);
    mergeset.forEach((m, i) => {
      this.#order.push(m);
      this.#orderSp.push(i === 0);
    });
    for (const b of this.#order)
      for (const t of b.accepted ?? []) this.#accepted.add(bytesToHex(b.transactionIds![t]!));
    let blueWork = sp.header.blueWork;
    for (const m of mergeset) blueWork += workForBits(m.header.bits);
    const n = BigInt(mergeset.length);
    this.#virtual = {
      parents,
      selectedParent: sp,
      mergeset,
      fork: sp,
      path: [],
      from: this.#order.length - mergeset.length,
      common: mergeset.length,
      reverted: [],
      evaluated: [],
      diffs: [],
      view: new UtxoOverlay(this.utxos),
      ids: new IdOverlay(this.#accepted),
      daaScore: sp.header.daaScore + n,
      blueScore: sp.header.blueScore + n,
      blueWork,
    };
    this.#utxoCommitment = this.sink.header.utxoCommitment;
    for (const tx of state.mempool) {
      try {
        this.mempool.submit(tx);
      } catch (err) {
        if (!(err instanceof TxRejectedError)) throw err;
      }
    }
  }

  /** Number of allocations made (persisted so synthetic ids never repeat). */
  get allocations(): number {
    return this.#allocations;
  }

  #emitVirtual(change: Omit<VirtualChange, 'virtualDaaScore' | 'sinkBlueScore'>): void {
    const full: VirtualChange = {
      ...change,
      virtualDaaScore: this.virtualDaaScore,
      sinkBlueScore: this.sink.header.blueScore,
    };
    for (const l of this.#listeners) l.virtualChanged?.(full);
  }
}

/** State a store hands back to `Chain.restore`. */
export interface RestoredState {
  readonly chain: readonly Block[];
  readonly sideBlocks: readonly Block[];
  readonly utxos: readonly Utxo[];
  readonly mempool: readonly Transaction[];
  readonly allocations: number;
}

/** Difficulty of a header, as getBlock's verbose data reports it. */
export function blockDifficulty(header: BlockHeader): number {
  return difficultyForBits(header.bits);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Net effect of consecutive diffs: a coin added then removed (or the reverse) cancels out. */
function mergeDiffs(diffs: readonly UtxoDiff[]): UtxoDiff {
  const added = new Map<string, Utxo>();
  const removed = new Map<string, Utxo>();
  for (const d of diffs) {
    for (const u of d.removed) {
      const k = outpointKey(u.outpoint);
      if (added.has(k)) added.delete(k);
      else removed.set(k, u);
    }
    for (const u of d.added) {
      const k = outpointKey(u.outpoint);
      if (removed.has(k)) removed.delete(k);
      else added.set(k, u);
    }
  }
  return { added: [...added.values()], removed: [...removed.values()] };
}
