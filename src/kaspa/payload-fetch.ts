/**
 * Fetches a received transaction (and so its payload) without a transaction index, which
 * Kaspa nodes do not have (FACTS §6.6). Routes, cheapest first:
 *   1. a bounded cache fed by BlockAdded (full blocks with payloads), VirtualChainChanged
 *      (which chain block accepted which ids) and earlier chain pages, while this client is online;
 *   2. the mempool (`getMempoolEntry`), before acceptance;
 *   3. `getBlock` when the caller knows the containing block;
 *   4. `getVirtualChainFromBlockV2` from a chain block the caller remembered (a persistable
 *      cursor), paging past the per-call limit of 2,480 chain blocks (FACTS §6.5).
 * Each candidate is checked against the requested id by recomputing the id (FACTS §3.4), so a
 * node cannot substitute another payload. Bodies exist only above the pruning point (about
 * 30 h on mainnet, NOTES §3); older transactions are reported as `pruned`.
 */
import { bytesToHex, equalBytes as equal } from '../util/bytes.ts';
import { assertBytes, assertInteger } from '../util/errors.ts';
import type { CallOptions, Subscription } from './rpc/client.ts';
import type { KaspaNode } from './rpc/node.ts';
import { RpcError } from './rpc/errors.ts';
import type { Block } from './rpc/responses.ts';
import type { VirtualChainChanged, VirtualChainV2 } from './rpc/responses.ts';
import { transactionId } from './txid.ts';
import type { BlockHash, Transaction, TxId } from './types.ts';

/** Where a transaction was found. */
export type PayloadSource = 'mempool' | 'block-cache' | 'block' | 'virtual-chain';

/** Outcome of a fetch. */
export type PayloadFetchResult =
  | {
      readonly status: 'found';
      readonly source: PayloadSource;
      readonly txId: TxId;
      readonly transaction: Transaction;
      readonly payload: Uint8Array;
      /** The chain block that accepted it, when known (not for the mempool). */
      readonly acceptingBlockHash?: BlockHash;
      /** That block's DAA score, which is also the UTXO's `blockDaaScore` (FACTS §6.4). */
      readonly acceptingDaaScore?: bigint;
      /** Last chain block scanned: persist it and pass it as the next `cursor`. */
      readonly cursor?: BlockHash;
    }
  | {
      /** `pruned`: older than the node keeps; `not-found`: no route had it. */
      readonly status: 'pruned' | 'not-found';
      readonly txId: TxId;
      readonly cursor?: BlockHash;
      /**
       * The scan read the chain block at `acceptingDaaScore`, or went past it, without the
       * transaction: it is not on this chain. Absent when the chain ended first or moved under
       * the scan: the UTXO set shows the coins of the virtual's own mergeset at the virtual's
       * DAA score (FACTS §6.4: the score of the accepting chain block, here one still to come),
       * so that miss is not final.
       */
      readonly reachedAcceptance?: boolean;
    };

/** What the caller knows about the transaction; every field narrows or speeds up the search. */
export interface PayloadFetchHints {
  /** A chain block at or before the acceptance, remembered from an earlier scan or taken before sending. */
  readonly cursor?: BlockHash;
  /** The UTXO's `blockDaaScore` (= accepting chain block DAA score): stops the scan past it and tells pruned from not found. */
  readonly acceptingDaaScore?: bigint;
  /** A block known to contain the transaction. */
  readonly blockHash?: BlockHash;
}

/** Cache and paging bounds of a PayloadFetcher. */
export interface PayloadFetcherOptions {
  /** Transactions kept from BlockAdded notifications. @default 20_000 */
  readonly cacheSize?: number;
  /** Upper bound on getVirtualChainFromBlockV2 pages per fetch. @default 500 (1.24 M chain blocks, beyond the pruning window) */
  readonly maxPages?: number;
}

interface CachedTx {
  readonly transaction: Transaction;
  readonly blockHash: BlockHash | undefined;
}

/** Transaction fetcher; `start()` enables the notification-fed cache. */
export class PayloadFetcher {
  private readonly cacheSize: number;
  private readonly maxPages: number;
  private readonly txs = new Map<string, CachedTx>();
  private readonly accepted = new Map<string, BlockHash>();
  private readonly blockDaa = new Map<string, bigint>();
  private subs: Subscription[] = [];

  constructor(
    private readonly client: KaspaNode,
    options: PayloadFetcherOptions = {},
  ) {
    this.cacheSize = options.cacheSize ?? 20_000;
    this.maxPages = options.maxPages ?? 500;
    assertInteger('cacheSize', this.cacheSize, 0, 10_000_000);
    assertInteger('maxPages', this.maxPages, 1, 1_000_000);
  }

  /** Subscribes to BlockAdded and VirtualChainChanged (with accepted ids) to fill the cache. */
  async start(opts?: CallOptions): Promise<void> {
    if (this.subs.length > 0) return;
    this.subs.push(await this.client.subscribeBlockAdded((b) => this.onBlock(b), opts));
    this.subs.push(await this.client.subscribeVirtualChainChanged(true, (n) => this.onChain(n), opts));
  }

  /** Drops the subscriptions; the cache stays readable. */
  async stop(opts?: CallOptions): Promise<void> {
    const subs = this.subs;
    this.subs = [];
    for (const s of subs) await s.unsubscribe(opts);
  }

  /** Finds `txId` by every route in turn; see the module comment. Network failures reject with RpcError. */
  async fetch(
    txId: TxId,
    hints: PayloadFetchHints = {},
    opts: CallOptions = {},
  ): Promise<PayloadFetchResult> {
    assertBytes('txId', txId, 32);
    const key = bytesToHex(txId);

    // The cache is checked before the mempool: it costs no round trip, and a transaction that
    // reached a block has left the mempool anyway (catch-up fetches are mostly cache hits).
    const cached = this.txs.get(key);
    if (cached !== undefined && matches(cached.transaction, txId)) {
      const acceptingBlockHash = this.accepted.get(key);
      const daa =
        (acceptingBlockHash === undefined ? undefined : this.blockDaa.get(bytesToHex(acceptingBlockHash))) ??
        hints.acceptingDaaScore;
      return found('block-cache', txId, cached.transaction, {
        ...(acceptingBlockHash === undefined ? {} : { acceptingBlockHash }),
        ...(daa === undefined ? {} : { acceptingDaaScore: daa }),
      });
    }

    const pooled = await this.fromMempool(txId, opts);
    if (pooled !== undefined) return found('mempool', txId, pooled, {});

    if (hints.blockHash !== undefined) {
      const inBlock = await this.fromBlock(txId, hints.blockHash, opts);
      if (inBlock !== undefined) {
        return found(
          'block',
          txId,
          inBlock,
          hints.acceptingDaaScore === undefined ? {} : { acceptingDaaScore: hints.acceptingDaaScore },
        );
      }
    }

    let cursor = hints.cursor;
    let reachedAcceptance = false;
    if (cursor !== undefined) {
      const scanned = await this.fromVirtualChain(txId, cursor, hints.acceptingDaaScore, opts);
      if (scanned.kind === 'found') return scanned.result;
      if (scanned.kind === 'cursor-gone') cursor = undefined;
      else ({ cursor, reachedAcceptance } = scanned);
      // The scan ended at the tip: final only if the accepting chain block is one it read, and
      // the chain has not moved since. A coin accepted by the virtual alone has the virtual's
      // DAA score, past the sink's, and no chain block lists it yet (FACTS §6.4): it is in a
      // block the virtual merges, one of its parents, the sink's own transactions among them.
      if (scanned.kind === 'exhausted' && !reachedAcceptance && hints.acceptingDaaScore !== undefined) {
        const dag = await this.client.getBlockDagInfo(opts);
        if (equal(dag.sink, scanned.cursor)) {
          reachedAcceptance = hints.acceptingDaaScore < dag.virtualDaaScore;
          if (!reachedAcceptance)
            for (const parent of dag.virtualParentHashes) {
              const inBlock = await this.fromBlock(txId, parent, opts);
              if (inBlock !== undefined)
                return found('block', txId, inBlock, { acceptingDaaScore: hints.acceptingDaaScore });
            }
        }
      }
    }

    // A cursor the node no longer knows means the gap reaches below its pruning point.
    const cursorGone = hints.cursor !== undefined && cursor === undefined;
    const pruned =
      cursorGone ||
      (hints.acceptingDaaScore !== undefined && (await this.isPruned(hints.acceptingDaaScore, opts)));
    return {
      status: pruned ? 'pruned' : 'not-found',
      txId,
      ...(cursor === undefined ? {} : { cursor }),
      ...(reachedAcceptance ? { reachedAcceptance } : {}),
    };
  }

  private async fromMempool(txId: TxId, opts: CallOptions): Promise<Transaction | undefined> {
    try {
      const entry = await this.client.getMempoolEntry(txId, opts);
      return matches(entry.transaction, txId) ? entry.transaction : undefined;
    } catch (e) {
      // "Transaction <id> not found" is the ordinary miss.
      if (e instanceof RpcError && e.code === 'SERVER_ERROR') return undefined;
      throw e;
    }
  }

  private async fromBlock(txId: TxId, hash: BlockHash, opts: CallOptions): Promise<Transaction | undefined> {
    let block: Block;
    try {
      block = await this.client.getBlock(hash, { ...opts, includeTransactions: true });
    } catch (e) {
      if (e instanceof RpcError && e.code === 'SERVER_ERROR') return undefined; // unknown or pruned block
      throw e;
    }
    this.onBlock(block);
    return block.transactions.find((t) => matches(t.transaction, txId))?.transaction;
  }

  private async fromVirtualChain(
    txId: TxId,
    start: BlockHash,
    acceptingDaaScore: bigint | undefined,
    opts: CallOptions,
  ): Promise<
    | { kind: 'found'; result: PayloadFetchResult }
    | { kind: 'exhausted'; cursor: BlockHash; reachedAcceptance: boolean }
    | { kind: 'cursor-gone' }
  > {
    let cursor = start;
    for (let page = 0; page < this.maxPages; page++) {
      let vc;
      try {
        vc = await this.client.getVirtualChainFromBlockV2(cursor, { ...opts, dataVerbosityLevel: 'Full' });
      } catch (e) {
        // The start block is unknown to the node: below its pruning point or never on this network.
        if (page === 0 && e instanceof RpcError && e.code === 'SERVER_ERROR') return { kind: 'cursor-gone' };
        throw e;
      }
      // A page carries up to 2,480 chain blocks with every accepted transaction; keeping them
      // lets the next coins of a catch-up be answered from the cache instead of re-paging the
      // same stretch of chain once per coin.
      this.rememberPage(vc.chainBlockAcceptedTransactions);
      for (const block of vc.chainBlockAcceptedTransactions) {
        const header = block.chainBlockHeader;
        for (const at of block.acceptedTransactions) {
          const tx = at.transaction;
          if (tx === undefined || (at.transactionId !== undefined && !equal(at.transactionId, txId)))
            continue;
          if (!matches(tx, txId)) continue;
          return {
            kind: 'found',
            result: found('virtual-chain', txId, tx, {
              acceptingBlockHash: header.hash,
              ...(header.daaScore === undefined ? {} : { acceptingDaaScore: header.daaScore }),
              cursor: header.hash,
            }),
          };
        }
        // Acceptance is at the UTXO's blockDaaScore: past it, the transaction is not on this chain.
        if (
          acceptingDaaScore !== undefined &&
          header.daaScore !== undefined &&
          header.daaScore > acceptingDaaScore
        ) {
          return { kind: 'exhausted', cursor: header.hash, reachedAcceptance: true };
        }
      }
      const last = vc.addedChainBlockHashes.at(-1);
      if (last === undefined || equal(last, cursor))
        return { kind: 'exhausted', cursor, reachedAcceptance: false };
      cursor = last;
    }
    return { kind: 'exhausted', cursor, reachedAcceptance: false };
  }

  /** True when `daaScore` lies below the node's pruning point, where bodies are gone. */
  private async isPruned(daaScore: bigint, opts: CallOptions): Promise<boolean> {
    const dag = await this.client.getBlockDagInfo(opts);
    const pp = await this.client.getBlock(dag.pruningPointHash, { ...opts, includeTransactions: false });
    return pp.header.daaScore !== undefined && daaScore < pp.header.daaScore;
  }

  private rememberPage(blocks: VirtualChainV2['chainBlockAcceptedTransactions']): void {
    for (const block of blocks) {
      const header = block.chainBlockHeader;
      if (header.daaScore !== undefined)
        this.remember(this.blockDaa, bytesToHex(header.hash), header.daaScore);
      for (const at of block.acceptedTransactions) {
        if (at.transactionId === undefined || at.transaction === undefined) continue;
        const key = bytesToHex(at.transactionId);
        this.remember(this.txs, key, { transaction: at.transaction, blockHash: undefined });
        this.remember(this.accepted, key, header.hash);
      }
    }
  }

  private onBlock(block: Block): void {
    if (block.header.daaScore !== undefined)
      this.remember(this.blockDaa, bytesToHex(block.header.hash), block.header.daaScore);
    for (const t of block.transactions) {
      const id = t.transactionId;
      if (id === undefined) continue;
      this.remember(this.txs, bytesToHex(id), { transaction: t.transaction, blockHash: block.header.hash });
    }
  }

  private onChain(n: VirtualChainChanged): void {
    for (const a of n.acceptedTransactionIds) {
      for (const id of a.acceptedTransactionIds)
        this.remember(this.accepted, bytesToHex(id), a.acceptingBlockHash);
    }
  }

  /** Bounded insertion-ordered map: the oldest entries go first. */
  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    map.set(key, value);
    while (map.size > this.cacheSize) {
      const oldest = map.keys().next().value;
      if (oldest === undefined) break;
      map.delete(oldest);
    }
  }
}

function found(
  source: PayloadSource,
  txId: TxId,
  transaction: Transaction,
  extra: { acceptingBlockHash?: BlockHash; acceptingDaaScore?: bigint; cursor?: BlockHash },
): PayloadFetchResult {
  return { status: 'found', source, txId, transaction, payload: transaction.payload, ...extra };
}

/** The transaction really has this id: recomputed, never taken from the node's verbose data. */
function matches(tx: Transaction, txId: TxId): boolean {
  try {
    return equal(transactionId(tx), txId);
  } catch {
    return false;
  }
}
