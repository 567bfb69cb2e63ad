/**
 * The local network's consensus state: a selected chain of blocks, each merging its
 * predecessor, the virtual UTXO set, the mempool and the events a node publishes.
 *
 * The DAG is kept to a chain on purpose (one parent per block, mergeset = {selected parent}),
 * but every RPC-visible consequence follows a real node: block B's transactions are applied to
 * the virtual UTXO set when B becomes the sink, with `blockDaaScore` = the virtual DAA score
 * (B.daaScore + 1), and they appear in the acceptance data of B's child, the chain block whose
 * DAA score that is (FACTS §6.4, §6.6). B's coinbase pays B's selected parent's miner
 * (`expected_coinbase_transaction`, FACTS §7.2).
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { ByteWriter } from '../util/binary.ts';
import { bytesToHex, concatBytes, randomBytes, utf8ToBytes } from '../util/bytes.ts';
import type { BlockHash, ScriptPublicKey, Transaction, TxId, Utxo, UtxoEntry } from '../kaspa/types.ts';
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
  /** Transactions of the selected parent that this chain block accepted (its acceptance data). */
  acceptedIds: readonly TxId[] | undefined;
  /** Who this block's reward goes to (read from its coinbase payload). */
  readonly minerScript: ScriptPublicKey;
  /** Total fees of this block's transactions, paid by the child's coinbase. */
  readonly fees: bigint;
  /** What merging this block did to the virtual UTXO set; kept within the pruning window. */
  diff: UtxoDiff | undefined;
  /** Whether the block is on the selected chain (false after a reorganisation removed it). */
  isChainBlock: boolean;
  /** Hash of the block that replaced this one as its parent's child on the chain, if any. */
  children: BlockHash[];
}

/** Published after every change of the virtual state. */
export interface VirtualChange {
  readonly removedChain: readonly Block[];
  readonly addedChain: readonly Block[];
  readonly utxoDiff: UtxoDiff;
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
  /** Ids (hex) of transactions accepted on the current chain, to answer RejectAlreadyAccepted. */
  readonly #accepted = new Set<string>();
  readonly #listeners = new Set<ChainListener>();
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
      isChainBlock: true,
      children: [],
    };
    this.#byHash.set(genesis.hashHex, genesis);
    this.#chain.push(genesis);
    this.mempool = new Mempool(this.#mempoolContext());
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

  /** DAA score of the virtual block: the sink's plus one in a chain. */
  get virtualDaaScore(): bigint {
    return this.sink.header.daaScore + 1n;
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
    if (!block.isChainBlock) return -1;
    const i = Number(block.header.blueScore);
    return this.#chain[i] === block ? i : -1;
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
   * coinbase, so no maturity). Used for prefunding and as the faucet's own reserve.
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
      entry: { amount, scriptPublicKey: spk, blockDaaScore: this.virtualDaaScore, isCoinbase: false },
    };
    this.utxos.add(utxo);
    this.#emitVirtual({ removedChain: [], addedChain: [], utxoDiff: { added: [utxo], removed: [] } });
    return utxo;
  }

  // ------------------------------------------------------------------ blocks

  /** A template on top of the sink paying `miner`, filled from the mempool within the block mass limits. */
  blockTemplate(
    miner: ScriptPublicKey,
    extraData: Uint8Array = new Uint8Array(0),
    includeMempool = true,
  ): BlockTemplate {
    return this.#template(miner, extraData, includeMempool ? this.#selectTransactions() : []);
  }

  #template(miner: ScriptPublicKey, extraData: Uint8Array, selected: readonly MempoolEntry[]): BlockTemplate {
    const parent = this.sink;
    const blueScore = parent.header.blueScore + 1n;
    const daaScore = parent.header.daaScore + 1n;
    const payload = coinbasePayload(blueScore, BLOCK_SUBSIDY, miner, extraData);
    if (payload.length > TX_LIMITS.maxCoinbasePayloadLen) {
      throw new DevnetError(
        'BAD_REQUEST',
        `coinbase payload of ${payload.length} bytes exceeds ${TX_LIMITS.maxCoinbasePayloadLen}`,
      );
    }
    const reward = parent === this.genesis ? 0n : BLOCK_SUBSIDY + parent.fees;
    const coinbase: Transaction = {
      version: 1,
      inputs: [],
      outputs:
        reward > 0n && parent.minerScript.script.length > 0
          ? [{ value: reward, scriptPublicKey: parent.minerScript }]
          : [],
      lockTime: 0n,
      subnetworkId: COINBASE_SUBNETWORK_ID,
      gas: 0n,
      payload,
      storageMass: 0n,
    };
    const txs: Transaction[] = [coinbase, ...selected.map((e) => e.tx)];
    const timestamp = BigInt(Math.max(this.#now(), Number(parent.header.timestamp) + 1));
    const header: BlockHeader = {
      version: BLOCK_VERSION,
      parentsByLevel: [[parent.hash]],
      hashMerkleRoot: merkleRoot(txs.map(transactionHash)),
      acceptedIdMerkleRoot: merkleRoot([...(parent.transactionIds ?? [])].sort(compareBytes)),
      utxoCommitment: this.#utxoCommitment,
      timestamp,
      bits: GENESIS_BITS,
      nonce: 0n,
      daaScore,
      blueWork: parent.header.blueWork + workForBits(GENESIS_BITS),
      blueScore,
      pruningPoint: this.pruningPoint.hash,
    };
    return { header, transactions: txs };
  }

  /** Mines one block on the sink (PoW is skipped on simnet, FACTS §7.2) and connects it. */
  mine(miner: ScriptPublicKey, opts: { extraData?: Uint8Array; includeMempool?: boolean } = {}): Block {
    const selected = opts.includeMempool === false ? [] : this.#selectTransactions();
    // Mined as a miner would through getBlockTemplate, with the node's version in the coinbase.
    const template = this.#template(miner, minerExtraData(opts.extraData ?? new Uint8Array(0)), selected);
    const nonce = new DataView(randomBytes(8).buffer).getBigUint64(0);
    // The node's own template holds only admitted transactions, so it is connected without re-validation.
    return this.#connect(
      { header: { ...template.header, nonce }, transactions: template.transactions },
      miner,
      selected,
    );
  }

  /**
   * Validates and connects a block (`submitBlock`). It must extend the sink, carry the expected
   * coinbase, a correct merkle root, and only transactions valid in the virtual context.
   */
  submitBlock(candidate: BlockTemplate): Block | { reason: BlockRejectReason; detail: string } {
    const invalid = (detail: string): { reason: BlockRejectReason; detail: string } => ({
      reason: 'blockInvalid',
      detail,
    });
    const parent = this.sink;
    const h = candidate.header;
    const parents = h.parentsByLevel[0];
    if (parents?.length !== 1 || bytesToHex(parents[0]!) !== parent.hashHex)
      return invalid('block does not extend the sink');
    if (h.daaScore !== parent.header.daaScore + 1n || h.blueScore !== parent.header.blueScore + 1n) {
      return invalid('wrong DAA or blue score');
    }
    const [coinbase, ...rest] = candidate.transactions;
    if (coinbase === undefined || !isCoinbaseTransaction(coinbase))
      return invalid('first transaction is not a coinbase');
    const miner = minerScriptFromCoinbasePayload(coinbase.payload);
    if (miner === undefined) return invalid('malformed coinbase payload');
    const expected = this.blockTemplate(miner, coinbase.payload.subarray(19 + miner.script.length), false)
      .transactions[0]!;
    if (bytesToHex(transactionHash(expected)) !== bytesToHex(transactionHash(coinbase)))
      return invalid('unexpected coinbase');
    if (
      bytesToHex(merkleRoot(candidate.transactions.map(transactionHash))) !== bytesToHex(h.hashMerkleRoot)
    ) {
      return invalid('bad merkle root');
    }
    // Every other transaction must be valid against the virtual UTXO set plus earlier ones in the block.
    const entries: MempoolEntry[] = [];
    const staged = new Mempool(this.#mempoolContext());
    const totals = { compute: 0n, storage: 0n, transient: 0n };
    for (const tx of rest) {
      // A transaction the mempool already admitted is not validated twice: only its identity is checked.
      const known = this.mempool.get(bytesToHex(transactionId(tx)));
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
    const block = this.#connect(candidate, miner, entries);
    return block;
  }

  /**
   * Replaces the last `depth` chain blocks by `replacement` new blocks that do not merge them
   * (a reorganisation). Their transactions leave the virtual state; each goes back to the mempool
   * if still valid there, unless `dropTransactions`, and is otherwise dropped.
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
    const removed: Block[] = [];
    const reverted: UtxoDiff[] = [];
    for (let i = 0; i < depth; i++) {
      const b = this.#chain.pop()!;
      b.isChainBlock = false;
      const inverse = invertDiff(b.diff!);
      this.utxos.apply(inverse);
      reverted.push(inverse);
      for (const id of b.transactionIds ?? []) this.#accepted.delete(bytesToHex(id));
      removed.push(b);
    }
    this.#utxoCommitment = this.sink.header.utxoCommitment;
    // The mempool was validated against the removed state; rebuild it on the restored one.
    const previous = this.mempool.clear();
    const returned = removed
      .slice()
      .reverse()
      .flatMap((b) => (b.transactions ?? []).filter((t) => !isCoinbaseTransaction(t)));
    const removedFromPool: MempoolEntry[] = [...previous];
    const addedToPool: MempoolEntry[] = [];
    for (const tx of [...(opts.dropTransactions === true ? [] : returned), ...previous.map((e) => e.tx)]) {
      try {
        addedToPool.push(this.mempool.submit(tx));
      } catch (err) {
        if (!(err instanceof TxRejectedError)) throw err;
      }
    }
    for (const l of this.#listeners) l.mempoolChanged?.(addedToPool, removedFromPool);
    const miner = opts.miner ?? removed[removed.length - 1]!.minerScript;
    const added: Block[] = [];
    const diffs: UtxoDiff[] = [...reverted];
    for (let i = 0; i < replacement; i++) {
      const template = this.blockTemplate(miner, utf8ToBytes(`reorg-${i}`), false);
      const nonce = new DataView(randomBytes(8).buffer).getBigUint64(0);
      const block = this.#connect(
        { header: { ...template.header, nonce }, transactions: template.transactions },
        miner,
        [],
        false,
      );
      added.push(block);
      diffs.push(block.diff!);
    }
    this.#emitVirtual({ removedChain: removed, addedChain: added, utxoDiff: mergeDiffs(diffs) });
    return { removed, added };
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

  /** Connects a validated block as the new sink and publishes the change. */
  #connect(
    candidate: BlockTemplate,
    miner: ScriptPublicKey,
    entries: readonly MempoolEntry[],
    emit = true,
  ): Block {
    const parent = this.sink;
    const hash = hashHeader(candidate.header);
    const txs = candidate.transactions;
    const ids = txs.map(transactionId);
    const virtualDaaScore = candidate.header.daaScore + 1n;
    const added: Utxo[] = [];
    const removed: Utxo[] = [];
    const createdHere = new Map<string, Utxo>();
    txs.forEach((tx, t) => {
      for (const input of tx.inputs) {
        const key = outpointKey(input.previousOutpoint);
        const local = createdHere.get(key);
        if (local !== undefined) {
          createdHere.delete(key);
          continue;
        }
        const coin = this.utxos.get(input.previousOutpoint);
        if (coin !== undefined) removed.push(coin);
      }
      const coinbase = t === 0;
      tx.outputs.forEach((o, index) => {
        const entry: UtxoEntry = {
          amount: o.value,
          scriptPublicKey: o.scriptPublicKey,
          blockDaaScore: virtualDaaScore,
          isCoinbase: coinbase,
        };
        const utxo: Utxo = { outpoint: { transactionId: ids[t]!, index }, entry };
        createdHere.set(outpointKey(utxo.outpoint), utxo);
      });
    });
    added.push(...createdHere.values());
    const diff: UtxoDiff = { added, removed };
    this.utxos.apply(diff);
    this.#utxoCommitment = blake2b(concatBytes(this.#utxoCommitment, hash), {
      dkLen: 32,
      key: UTXO_COMMITMENT_KEY,
    });
    let fees = 0n;
    for (const e of entries) fees += e.fee;
    const block: Block = {
      hash,
      hashHex: bytesToHex(hash),
      header: candidate.header,
      transactions: txs,
      transactionIds: ids,
      acceptedIds: parent.transactionIds ?? [],
      minerScript: miner,
      fees,
      diff,
      isChainBlock: true,
      children: [],
    };
    parent.children.push(hash);
    this.#byHash.set(block.hashHex, block);
    this.#chain.push(block);
    for (const id of ids) this.#accepted.add(bytesToHex(id));
    const dropped = this.mempool.handleAccepted(txs);
    const acceptedFromPool = entries.length > 0 ? entries : [];
    for (const l of this.#listeners) l.mempoolChanged?.([], [...acceptedFromPool, ...dropped]);
    this.#prune();
    for (const l of this.#listeners) l.blockAdded?.(block);
    if (emit) this.#emitVirtual({ removedChain: [], addedChain: [block], utxoDiff: diff });
    return block;
  }

  /** Drops bodies, acceptance data and diffs of chain blocks below the pruning point (FACTS §6.6). */
  #prune(): void {
    const target = this.#chain.length - 1 - this.pruningDepth;
    while (this.#pruningIndex < target) {
      const b = this.#chain[this.#pruningIndex]!;
      b.transactions = undefined;
      b.transactionIds = undefined;
      b.acceptedIds = undefined;
      b.diff = undefined;
      this.#pruningIndex++;
    }
  }

  /** Restores state loaded from a store (used by persistence only). */
  restore(state: RestoredState): void {
    if (this.#chain.length !== 1) throw new DevnetError('BAD_REQUEST', 'restore() needs a fresh chain');
    for (const b of state.chain) {
      this.#byHash.set(b.hashHex, b);
      this.#chain.push(b);
      for (const id of b.transactionIds ?? []) this.#accepted.add(bytesToHex(id));
    }
    for (const b of state.sideBlocks) this.#byHash.set(b.hashHex, b);
    for (const u of state.utxos) this.utxos.add(u);
    this.#pruningIndex = Math.max(0, this.#chain.length - 1 - this.pruningDepth);
    this.#utxoCommitment = this.sink.header.utxoCommitment;
    this.#allocations = state.allocations;
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
