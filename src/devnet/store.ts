/**
 * The data directory: the chain, the UTXO set and the mempool kept in SQLite through the
 * project's storage layer (`src/storage`), so a restarted node resumes where it stopped, as a
 * kaspad with `--appdir` does. Every change of the virtual state is written as one atomic
 * batch, in the order the chain produced it.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { bytesToHex, bytesToUtf8, concatBytes, hexToBytes, utf8ToBytes } from '../util/bytes.ts';
import type { BlockHash, Transaction, TxId, Utxo } from '../kaspa/types.ts';
import { parseJson, stringifyJson } from '../kaspa/rpc/json.ts';
import { prop, readArray, readBool, readHex, readObject, readU64, readUint } from '../kaspa/rpc/fields.ts';
import {
  scriptPublicKeyFromRpc,
  scriptPublicKeyToHex,
  transactionFromRpc,
  transactionToRpc,
  u64ToRpc,
} from '../kaspa/rpc/convert.ts';
import { migrate, type BatchOp, type KeyValueStore } from '../storage/index.ts';
import { openSqliteStore } from '../storage/node.ts';
import type { Block, Chain, ChainListener, RestoredState } from './chain.ts';
import { coinFromRpc, diffFromRpc, diffToRpc, headerFromRpc, headerToRpc } from './codec.ts';
import { DevnetError } from './errors.ts';
import { hashHeader } from './header.ts';
import type { MempoolEntry } from './mempool.ts';
import { GENESIS_HASH } from './params.ts';
import {
  decodeBlockRecord,
  decodeCoinRow,
  encodeBlockRecord,
  encodeCoinRow,
  type BlockRecordRejection,
} from './block-record.ts';
import { transactionId } from './rules.ts';
import type { UtxoDiff } from './utxo-set.ts';

/**
 * The data directory's schema (docs/protocol.md "Local network data directory"). Version 2 adds
 * `decoded`, the decoded-block records (`block-record.ts`), and writes coins in binary: a
 * directory of version 1 has its coin rows rewritten by the migration and no records, so its
 * blocks are decoded from their rows once and their records written then.
 */
export const DEVNET_SCHEMA = {
  version: 2,
  stores: ['blocks', 'chain', 'utxos', 'mempool', 'meta', 'decoded'],
  migrations: {
    2: async (db: KeyValueStore): Promise<BatchOp[]> =>
      (await db.scan('utxos')).map(([key, v]) => ({
        type: 'put' as const,
        store: 'utxos',
        key,
        value: encodeCoinRow(decodeJsonCoin(v)),
      })),
  },
};
const SCHEMA = DEVNET_SCHEMA;
const META_ALLOCATIONS = utf8ToBytes('allocations');
const META_GENESIS = utf8ToBytes('genesis');
const META_MEMPOOL_SEQ = utf8ToBytes('mempoolSeq');

function u64Key(n: number | bigint): Uint8Array {
  const k = new Uint8Array(8);
  new DataView(k.buffer).setBigUint64(0, BigInt(n));
  return k;
}

function outpointStoreKey(u: Utxo): Uint8Array {
  const idx = new Uint8Array(4);
  new DataView(idx.buffer).setUint32(0, u.outpoint.index);
  return concatBytes(u.outpoint.transactionId, idx);
}

function json(value: unknown): Uint8Array {
  return utf8ToBytes(stringifyJson(value));
}

/** How the last `load` read its blocks: from their decoded records, or from their rows and why. */
export interface LoadReport {
  readonly fromRecords: number;
  readonly fromRows: number;
  readonly rejected: Readonly<Record<BlockRecordRejection | 'missing', number>>;
}

/** Persists a chain into a data directory and loads it back. */
export class DevnetStore {
  readonly #db: KeyValueStore;
  #queue: Promise<void> = Promise.resolve();
  #failure: unknown;
  #persistedPruningIndex = 0;
  #mempoolSeq = 0;
  readonly #mempoolKeys = new Map<string, Uint8Array>();
  #lastLoad: LoadReport | undefined;

  private constructor(db: KeyValueStore) {
    this.#db = db;
  }

  /** Opens (creating if needed) `<dir>/devnet.sqlite`. */
  static async open(dir: string): Promise<DevnetStore> {
    if (typeof dir !== 'string' || dir.length === 0) throw new TypeError('"dir" expected a non-empty path');
    mkdirSync(dir, { recursive: true });
    // The chain can be rebuilt by mining again, so a commit that survives a process crash is enough.
    const db = await openSqliteStore(join(dir, 'devnet.sqlite'), SCHEMA, { synchronous: 'normal' });
    await migrate(db, SCHEMA);
    return new DevnetStore(db);
  }

  /** Reads the saved state, or undefined for an empty directory. Throws DevnetError STORE_CORRUPT. */
  async load(pruningDepth: number): Promise<RestoredState | undefined> {
    const genesis = await this.#db.get('meta', META_GENESIS);
    if (genesis === undefined) return undefined;
    if (bytesToHex(genesis) !== bytesToHex(GENESIS_HASH)) {
      throw new DevnetError('STORE_CORRUPT', 'the data directory belongs to another network');
    }
    try {
      const chainRows = await this.#db.scan('chain');
      // One scan of the blocks instead of one read per chain block: a restart of a node with a
      // long chain (a soak's node restarts) must not pay a round trip per block.
      const rows = new Map<string, Uint8Array>();
      for (const [k, v] of await this.#db.scan('blocks')) rows.set(bytesToHex(k), v);
      const records = new Map<string, Uint8Array>();
      for (const [k, v] of await this.#db.scan('decoded')) records.set(bytesToHex(k), v);
      // A block comes from its decoded record when that is whole and derived from this very
      // row; otherwise from the row (hashes recomputed), and its record is written again.
      const rejected = { version: 0, damaged: 0, stale: 0, missing: 0 };
      const repairs: BatchOp[] = [];
      const decode = (key: string, row: Uint8Array): Block => {
        const record = records.get(key);
        const r = record === undefined ? { rejected: 'missing' as const } : decodeBlockRecord(record, row);
        if ('block' in r) return r.block;
        rejected[r.rejected]++;
        const b = decodeBlock(row);
        repairs.push({ type: 'put', store: 'decoded', key: b.hash, value: encodeBlockRecord(b, row) });
        return b;
      };
      const chain: Block[] = [];
      const onChain = new Set<string>();
      for (const [, hash] of chainRows) {
        const key = bytesToHex(hash);
        const raw = rows.get(key);
        if (raw === undefined) throw new DevnetError('STORE_CORRUPT', `chain block ${key} is missing`);
        chain.push(decode(key, raw));
        onChain.add(key);
      }
      const sideBlocks = [...rows].filter(([k]) => !onChain.has(k)).map(([k, v]) => decode(k, v));
      for (const [key] of records) {
        if (!rows.has(key)) repairs.push({ type: 'delete', store: 'decoded', key: hexToBytes(key) });
      }
      if (repairs.length > 0) await this.#db.batch(repairs);
      const fromRows = repairs.filter((op) => op.type === 'put').length;
      this.#lastLoad = { fromRecords: rows.size - fromRows, fromRows, rejected };
      const utxos = (await this.#db.scan('utxos')).map(([, v]) => decodeCoinRow(v));
      const mempoolRows = await this.#db.scan('mempool');
      const mempool: Transaction[] = mempoolRows.map(([, v]) =>
        transactionFromRpc(parseJson(bytesToUtf8(v))),
      );
      const allocations = await this.#db.get('meta', META_ALLOCATIONS);
      const seq = await this.#db.get('meta', META_MEMPOOL_SEQ);
      this.#mempoolSeq =
        seq === undefined ? 0 : Number(new DataView(seq.buffer, seq.byteOffset).getBigUint64(0));
      // The store keeps the rows it loaded; `attach` re-keys the mempool as the chain re-admits it.
      await this.#db.batch(mempoolRows.map(([k]) => ({ type: 'delete', store: 'mempool', key: k })));
      this.#persistedPruningIndex = Math.max(0, chain.length - pruningDepth);
      return {
        chain,
        sideBlocks,
        utxos,
        mempool,
        allocations: allocations === undefined ? 0 : Number(bytesToUtf8(allocations)),
      };
    } catch (e) {
      if (e instanceof DevnetError) throw e;
      throw new DevnetError(
        'STORE_CORRUPT',
        `unreadable data directory: ${e instanceof Error ? e.message : String(e)}`,
        {
          cause: e,
        },
      );
    }
  }

  /** How the last `load` read its blocks (undefined before a load of a non-empty directory). */
  get lastLoad(): LoadReport | undefined {
    return this.#lastLoad;
  }

  /** Starts writing the chain's changes; returns the detach function. */
  attach(chain: Chain): () => void {
    const ops: BatchOp[] = [{ type: 'put', store: 'meta', key: META_GENESIS, value: GENESIS_HASH }];
    for (const e of chain.mempool.entries()) ops.push(...this.#mempoolAdd(e));
    this.#write(ops);
    const listener: ChainListener = {
      virtualChanged: (change) => {
        const batch: BatchOp[] = [];
        const written = new Set<Block>([
          ...change.changedBlocks,
          ...change.removedChain,
          ...change.addedChain,
        ]);
        for (const b of written) batch.push(...this.#putBlock(b));
        // Chain rows are keyed by position (a block's height on its selected chain).
        const newLength = chain.chain.length;
        for (const b of change.removedChain) {
          if (b.height >= newLength) batch.push({ type: 'delete', store: 'chain', key: u64Key(b.height) });
        }
        for (const b of change.addedChain) {
          batch.push({ type: 'put', store: 'chain', key: u64Key(b.height), value: b.hash });
        }
        batch.push(...this.#putDiff(change.utxoDiff));
        batch.push(...this.#prunedBodies(chain));
        batch.push({
          type: 'put',
          store: 'meta',
          key: META_ALLOCATIONS,
          value: utf8ToBytes(String(chain.allocations)),
        });
        this.#write(batch);
      },
      mempoolChanged: (added, removed) => {
        const batch: BatchOp[] = [];
        for (const e of removed) {
          const key = this.#mempoolKeys.get(e.idHex);
          if (key === undefined) continue;
          this.#mempoolKeys.delete(e.idHex);
          batch.push({ type: 'delete', store: 'mempool', key });
        }
        for (const e of added) batch.push(...this.#mempoolAdd(e));
        this.#write(batch);
      },
    };
    return chain.listen(listener);
  }

  /** Waits until every change so far is on disk; rethrows a write failure. */
  async flush(): Promise<void> {
    await this.#queue;
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Flushes and closes the database. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.#db.close();
    }
  }

  #write(ops: BatchOp[]): void {
    if (ops.length === 0) return;
    this.#queue = this.#queue.then(async () => {
      if (this.#failure !== undefined) return;
      try {
        await this.#db.batch(ops);
      } catch (e) {
        this.#failure = e;
      }
    });
  }

  #mempoolAdd(e: MempoolEntry): BatchOp[] {
    const key = u64Key(++this.#mempoolSeq);
    this.#mempoolKeys.set(e.idHex, key);
    return [
      { type: 'put', store: 'mempool', key, value: json(transactionToRpc(e.tx)) },
      { type: 'put', store: 'meta', key: META_MEMPOOL_SEQ, value: u64Key(this.#mempoolSeq) },
    ];
  }

  /** The block's row and, in the same batch, its decoded record bound to that row. */
  #putBlock(b: Block): BatchOp[] {
    const row = encodeBlock(b);
    return [
      { type: 'put', store: 'blocks', key: b.hash, value: row },
      { type: 'put', store: 'decoded', key: b.hash, value: encodeBlockRecord(b, row) },
    ];
  }

  #putDiff(d: UtxoDiff): BatchOp[] {
    const ops: BatchOp[] = [];
    for (const u of d.removed) ops.push({ type: 'delete', store: 'utxos', key: outpointStoreKey(u) });
    for (const u of d.added) {
      ops.push({
        type: 'put',
        store: 'utxos',
        key: outpointStoreKey(u),
        value: encodeCoinRow(u),
      });
    }
    return ops;
  }

  /** Rewrites blocks the chain pruned since the last write, now without bodies. */
  #prunedBodies(chain: Chain): BatchOp[] {
    const ops: BatchOp[] = [];
    const target = chain.chainIndex(chain.pruningPoint);
    for (; this.#persistedPruningIndex < target; this.#persistedPruningIndex++) {
      const b = chain.chain[this.#persistedPruningIndex];
      if (b !== undefined && this.#persistedPruningIndex > 0) ops.push(...this.#putBlock(b));
    }
    return ops;
  }
}

function encodeBlock(b: Block): Uint8Array {
  return json({
    header: headerToRpc(b.hash, b.header),
    minerScript: scriptPublicKeyToHex(b.minerScript),
    fees: u64ToRpc('fees', b.fees),
    isChainBlock: b.isChainBlock,
    mergeable: b.mergeable,
    body:
      b.transactions === undefined
        ? null
        : {
            transactions: b.transactions.map(transactionToRpc),
            acceptedIds: (b.acceptedIds ?? []).map((id) => bytesToHex(id)),
            diff: b.diff === undefined ? null : diffToRpc(b.diff),
            accepted: b.accepted ?? null,
          },
  });
}

function decodeBlock(raw: Uint8Array): Block {
  const o = readObject(parseJson(bytesToUtf8(raw)), 'block');
  const header = headerFromRpc(prop(o, 'header'), 'block.header');
  const hash = hashHeader(header);
  const bodyJson = prop(o, 'body');
  const body = bodyJson === null ? undefined : readObject(bodyJson, 'block.body');
  const transactions =
    body === undefined
      ? undefined
      : readArray(prop(body, 'transactions'), 'block.body.transactions', (x, p) => transactionFromRpc(x, p));
  const diffJson = body === undefined ? null : prop(body, 'diff');
  const acceptedJson = body === undefined ? null : prop(body, 'accepted');
  // Stores written before parallel blocks have no list: every transaction of a merged block was accepted.
  const accepted =
    transactions === undefined || diffJson === null || diffJson === undefined
      ? undefined
      : acceptedJson === null || acceptedJson === undefined
        ? transactions.map((_t, i) => i)
        : readArray(acceptedJson, 'block.body.accepted', (x, p) => readUint(x, p, transactions.length - 1));
  return {
    hash,
    hashHex: bytesToHex(hash),
    header,
    transactions,
    transactionIds: transactions?.map(transactionId),
    acceptedIds:
      body === undefined
        ? undefined
        : readArray(prop(body, 'acceptedIds'), 'block.body.acceptedIds', (x, p) => readHex(x, p, 32) as TxId),
    minerScript: scriptPublicKeyFromRpc(prop(o, 'minerScript'), 'block.minerScript'),
    fees: readU64(prop(o, 'fees'), 'block.fees'),
    diff: diffJson === null || diffJson === undefined ? undefined : diffFromRpc(diffJson, 'block.body.diff'),
    isChainBlock: readBool(prop(o, 'isChainBlock'), 'block.isChainBlock'),
    children: [] as BlockHash[],
    accepted,
    // GHOSTDAG data is derived again from the headers by Chain.restore.
    selectedParent: undefined,
    mergeset: [],
    height: 0,
    mergeable: prop(o, 'mergeable') === undefined ? true : readBool(prop(o, 'mergeable'), 'block.mergeable'),
  };
}

/** A coin row of schema version 1 (JSON), read by the migration to version 2. */
function decodeJsonCoin(raw: Uint8Array): Utxo {
  return coinFromRpc(parseJson(bytesToUtf8(raw)));
}
