/**
 * Checked decoders from wRPC response and notification bodies (FACTS §6.4, §6.5) to typed
 * values: hashes become BlockHash/TxId bytes, u64 become bigint, transactions become the
 * data model. Every decoder fails only with RpcFieldError naming the field. The compressed
 * parents encoder sits beside its decoder so that one module owns that format.
 */
import { bytesToHex } from '../../util/bytes.ts';
import type { BlockHash, Transaction, TxId } from '../types.ts';
import type { RpcFeeEstimate, RpcFeerateBucket } from './wire.ts';
import {
  type AddressedUtxo,
  type MempoolEntry,
  blockHashFromRpc,
  mempoolEntryFromRpc,
  transactionFromRpc,
  txIdFromRpc,
  utxosByAddressesEntryFromRpc,
} from './convert.ts';
import {
  RpcFieldError,
  prop,
  readArray,
  readBool,
  readHex,
  readNumber,
  readObject,
  readOptional,
  readString,
  readU64,
  readUint,
} from './fields.ts';

/** getServerInfo. */
export interface ServerInfo {
  readonly rpcApiVersion: number;
  readonly rpcApiRevision: number;
  readonly serverVersion: string;
  readonly networkId: string;
  readonly hasUtxoIndex: boolean;
  readonly isSynced: boolean;
  readonly virtualDaaScore: bigint;
}

/** getInfo. */
export interface NodeInfo {
  readonly p2pId: string;
  readonly mempoolSize: bigint;
  readonly serverVersion: string;
  readonly isUtxoIndexed: boolean;
  readonly isSynced: boolean;
}

/** getBlockDagInfo. */
export interface BlockDagInfo {
  readonly network: string;
  readonly blockCount: bigint;
  readonly headerCount: bigint;
  readonly tipHashes: readonly BlockHash[];
  readonly difficulty: number;
  readonly pastMedianTime: bigint;
  readonly virtualParentHashes: readonly BlockHash[];
  readonly pruningPointHash: BlockHash;
  readonly virtualDaaScore: bigint;
  readonly sink: BlockHash;
}

/** One fee bucket, in sompi per gram (FACTS §4.6): f64 on the wire, so decoded as is. */
export type FeerateBucket = RpcFeerateBucket;

/** getFeeEstimate. */
export type FeeEstimate = RpcFeeEstimate;

/** getMempoolEntriesByAddresses, per address. */
export interface MempoolEntriesByAddress {
  readonly address: string;
  readonly sending: readonly MempoolEntry[];
  readonly receiving: readonly MempoolEntry[];
}

/**
 * A block header. Every field but `hash` is optional because getVirtualChainFromBlockV2
 * returns only what its verbosity level includes (FACTS §6.5 table).
 */
export interface BlockHeader {
  readonly hash: BlockHash;
  readonly version?: number;
  readonly parentsByLevel?: readonly (readonly BlockHash[])[];
  readonly hashMerkleRoot?: Uint8Array;
  readonly acceptedIdMerkleRoot?: Uint8Array;
  readonly utxoCommitment?: Uint8Array;
  /** Milliseconds since the epoch. */
  readonly timestamp?: bigint;
  readonly bits?: number;
  readonly nonce?: bigint;
  readonly daaScore?: bigint;
  readonly blueWork?: bigint;
  readonly blueScore?: bigint;
  readonly pruningPoint?: BlockHash;
}

/** A transaction with the node's verbose data: its id and, in blocks, where it sits. */
export interface VerboseTransaction {
  readonly transaction: Transaction;
  /** From `verboseData.transactionId`; absent when the node sent no verbose data. */
  readonly transactionId?: TxId;
  readonly blockHash?: BlockHash;
  /** Milliseconds since the epoch. */
  readonly blockTime?: bigint;
}

/** getBlock / getBlocks / BlockAdded. */
export interface Block {
  readonly header: BlockHeader;
  readonly transactions: readonly VerboseTransaction[];
  readonly isChainBlock?: boolean;
  readonly selectedParentHash?: BlockHash;
}

/** An accepted transaction from getVirtualChainFromBlockV2, as complete as the verbosity allows. */
export interface AcceptedTransaction {
  /** Low and above. */
  readonly transactionId?: TxId;
  /** High and above. */
  readonly payload?: Uint8Array;
  /** Full only: every field of the transaction was present. */
  readonly transaction?: Transaction;
}

/** getVirtualChainFromBlockV2. */
export interface VirtualChainV2 {
  readonly removedChainBlockHashes: readonly BlockHash[];
  readonly addedChainBlockHashes: readonly BlockHash[];
  readonly chainBlockAcceptedTransactions: readonly {
    readonly chainBlockHeader: BlockHeader;
    readonly acceptedTransactions: readonly AcceptedTransaction[];
  }[];
}

/** Accepted transaction ids per accepting chain block (getVirtualChainFromBlock, VirtualChainChanged). */
export interface AcceptedTransactionIds {
  readonly acceptingBlockHash: BlockHash;
  readonly acceptedTransactionIds: readonly TxId[];
}

/** getVirtualChainFromBlock and the VirtualChainChanged notification. */
export interface VirtualChainChanged {
  readonly removedChainBlockHashes: readonly BlockHash[];
  readonly addedChainBlockHashes: readonly BlockHash[];
  readonly acceptedTransactionIds: readonly AcceptedTransactionIds[];
}

/** UtxosChanged notification. */
export interface UtxosChanged {
  readonly added: readonly AddressedUtxo[];
  readonly removed: readonly AddressedUtxo[];
}

/** submitBlock outcome. */
export type SubmitBlockReport =
  { readonly type: 'success' } | { readonly type: 'reject'; readonly reason: string };

const hashList = (v: unknown, field: string): BlockHash[] => readArray(v, field, blockHashFromRpc);
const field = (o: Readonly<Record<string, unknown>>, key: string, path: string): [unknown, string] => [
  prop(o, key),
  `${path}.${key}`,
];

/** getServerInfo response. */
export function serverInfoFromRpc(json: unknown, path = 'getServerInfo'): ServerInfo {
  const o = readObject(json, path);
  return {
    rpcApiVersion: readUint(...field(o, 'rpcApiVersion', path), 0xffff),
    rpcApiRevision: readUint(...field(o, 'rpcApiRevision', path), 0xffff),
    serverVersion: readString(...field(o, 'serverVersion', path)),
    networkId: readString(...field(o, 'networkId', path)),
    hasUtxoIndex: readBool(...field(o, 'hasUtxoIndex', path)),
    isSynced: readBool(...field(o, 'isSynced', path)),
    virtualDaaScore: readU64(...field(o, 'virtualDaaScore', path)),
  };
}

/** getInfo response. */
export function nodeInfoFromRpc(json: unknown, path = 'getInfo'): NodeInfo {
  const o = readObject(json, path);
  return {
    p2pId: readString(...field(o, 'p2pId', path)),
    mempoolSize: readU64(...field(o, 'mempoolSize', path)),
    serverVersion: readString(...field(o, 'serverVersion', path)),
    isUtxoIndexed: readBool(...field(o, 'isUtxoIndexed', path)),
    isSynced: readBool(...field(o, 'isSynced', path)),
  };
}

/** getBlockDagInfo response. */
export function blockDagInfoFromRpc(json: unknown, path = 'getBlockDagInfo'): BlockDagInfo {
  const o = readObject(json, path);
  return {
    network: readString(...field(o, 'network', path)),
    blockCount: readU64(...field(o, 'blockCount', path)),
    headerCount: readU64(...field(o, 'headerCount', path)),
    tipHashes: hashList(...field(o, 'tipHashes', path)),
    difficulty: readNumber(...field(o, 'difficulty', path)),
    pastMedianTime: readU64(...field(o, 'pastMedianTime', path)),
    virtualParentHashes: hashList(...field(o, 'virtualParentHashes', path)),
    pruningPointHash: blockHashFromRpc(...field(o, 'pruningPointHash', path)),
    virtualDaaScore: readU64(...field(o, 'virtualDaaScore', path)),
    sink: blockHashFromRpc(...field(o, 'sink', path)),
  };
}

function bucketFromRpc(json: unknown, path: string): FeerateBucket {
  const o = readObject(json, path);
  return {
    feerate: readNumber(...field(o, 'feerate', path)),
    estimatedSeconds: readNumber(...field(o, 'estimatedSeconds', path)),
  };
}

/** getFeeEstimate response body `estimate`. */
export function feeEstimateFromRpc(json: unknown, path = 'estimate'): FeeEstimate {
  const o = readObject(json, path);
  return {
    priorityBucket: bucketFromRpc(...field(o, 'priorityBucket', path)),
    normalBuckets: readArray(...field(o, 'normalBuckets', path), bucketFromRpc),
    lowBuckets: readArray(...field(o, 'lowBuckets', path), bucketFromRpc),
  };
}

/** getMempoolEntriesByAddresses entry. */
export function mempoolEntriesByAddressFromRpc(json: unknown, path: string): MempoolEntriesByAddress {
  const o = readObject(json, path);
  return {
    address: readString(...field(o, 'address', path)),
    sending: readArray(...field(o, 'sending', path), mempoolEntryFromRpc),
    receiving: readArray(...field(o, 'receiving', path), mempoolEntryFromRpc),
  };
}

function blueWorkFromRpc(v: unknown, path: string): bigint {
  // Big-endian hex of a Uint192 (FACTS §6.2); leading zeros may or may not be trimmed.
  const s = readString(v, path);
  if (!/^[0-9a-fA-F]{1,48}$/.test(s)) throw new RpcFieldError(path, 'expected up to 48 hex digits');
  return BigInt(`0x${s}`);
}

function opt<T>(
  o: Readonly<Record<string, unknown>>,
  key: string,
  path: string,
  read: (v: unknown, p: string) => T,
): { [k: string]: T } {
  const v = readOptional(prop(o, key), `${path}.${key}`, read);
  return v === undefined ? {} : { [key]: v };
}

/** Most levels a header has parents at (consensus `max_block_level`, a u8 in the run counts). */
const MAX_PARENT_LEVELS = 255;

/**
 * Parents by level in either form a node sends: plain, one list per level (`getBlock`), or
 * compressed (`getVirtualChainFromBlockV2` headers since kaspad 2.1): runs of
 * `[cumulativeLevelCount, parents]`, where levels from the previous count up to this one
 * share `parents` (rusty-kaspa `CompressedParents`). Returned expanded, one list per level.
 */
export function parentsByLevelFromRpc(v: unknown, path: string): BlockHash[][] {
  const runs = readArray(v, path, (item) => item);
  if (runs.every((r) => Array.isArray(r) && (r.length === 0 || typeof r[0] === 'string'))) {
    return runs.map((r, i) => hashList(r, `${path}[${i}]`));
  }
  const levels: BlockHash[][] = [];
  for (const [i, run] of runs.entries()) {
    const p = `${path}[${i}]`;
    if (!Array.isArray(run) || run.length !== 2) throw new RpcFieldError(p, 'expected [levelCount, parents]');
    const upTo = readUint(run[0], `${p}[0]`, MAX_PARENT_LEVELS);
    if (upTo <= levels.length) throw new RpcFieldError(`${p}[0]`, 'level counts must increase');
    const parents = hashList(run[1], `${p}[1]`);
    while (levels.length < upTo) levels.push(parents);
  }
  return levels;
}

/**
 * Parents by level in the compressed form V2 headers carry, the inverse of
 * `parentsByLevelFromRpc`: runs of equal levels as `[cumulativeLevelCount, parents]`.
 */
export function compressedParents(levels: readonly (readonly Uint8Array[])[]): [number, string[]][] {
  const runs: [number, string[]][] = [];
  for (const level of levels) {
    const hashes = level.map((h) => bytesToHex(h));
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1].join() === hashes.join()) last[0]++;
    else runs.push([(last?.[0] ?? 0) + 1, hashes]);
  }
  return runs;
}

/** A header with `hash` required and every other field checked when present. */
export function blockHeaderFromRpc(json: unknown, path = 'header'): BlockHeader {
  const o = readObject(json, path);
  const hash32 = (v: unknown, p: string): Uint8Array => readHex(v, p, 32);
  return {
    hash: blockHashFromRpc(...field(o, 'hash', path)),
    ...opt(o, 'version', path, (v, p) => readUint(v, p, 0xffff)),
    ...opt(o, 'parentsByLevel', path, parentsByLevelFromRpc),
    ...opt(o, 'hashMerkleRoot', path, hash32),
    ...opt(o, 'acceptedIdMerkleRoot', path, hash32),
    ...opt(o, 'utxoCommitment', path, hash32),
    ...opt(o, 'timestamp', path, readU64),
    ...opt(o, 'bits', path, (v, p) => readUint(v, p, 0xffffffff)),
    ...opt(o, 'nonce', path, readU64),
    ...opt(o, 'daaScore', path, readU64),
    ...opt(o, 'blueWork', path, blueWorkFromRpc),
    ...opt(o, 'blueScore', path, readU64),
    ...opt(o, 'pruningPoint', path, blockHashFromRpc),
  } as BlockHeader;
}

/** A transaction plus its `verboseData` (ids and block placement) when present. */
export function verboseTransactionFromRpc(json: unknown, path = 'transaction'): VerboseTransaction {
  const transaction = transactionFromRpc(json, path);
  const vd = prop(readObject(json, path), 'verboseData');
  if (vd === undefined || vd === null) return { transaction };
  const vpath = `${path}.verboseData`;
  const v = readObject(vd, vpath);
  return {
    transaction,
    ...opt(v, 'transactionId', vpath, txIdFromRpc),
    ...opt(v, 'blockHash', vpath, blockHashFromRpc),
    ...opt(v, 'blockTime', vpath, readU64),
  } as VerboseTransaction;
}

/** getBlock / BlockAdded block. */
export function blockFromRpc(json: unknown, path = 'block'): Block {
  const o = readObject(json, path);
  const vd = prop(o, 'verboseData');
  const base: Block = {
    header: blockHeaderFromRpc(...field(o, 'header', path)),
    transactions: readArray(prop(o, 'transactions') ?? [], `${path}.transactions`, verboseTransactionFromRpc),
  };
  if (vd === undefined || vd === null) return base;
  const vpath = `${path}.verboseData`;
  const v = readObject(vd, vpath);
  return {
    ...base,
    ...opt(v, 'isChainBlock', vpath, readBool),
    ...opt(v, 'selectedParentHash', vpath, blockHashFromRpc),
  };
}

function acceptedTransactionFromRpc(json: unknown, path: string): AcceptedTransaction {
  const o = readObject(json, path);
  const vd = prop(o, 'verboseData');
  const id =
    vd === undefined || vd === null
      ? undefined
      : readOptional(
          prop(readObject(vd, `${path}.verboseData`), 'transactionId'),
          `${path}.verboseData.transactionId`,
          txIdFromRpc,
        );
  // Full verbosity carries every field; lower levels send version/lockTime/subnetworkId/gas
  // as null (RpcOptionalTransaction serialises absent options as null).
  const complete = ['version', 'lockTime', 'subnetworkId', 'gas'].every((k) => prop(o, k) != null);
  return {
    ...(id === undefined ? {} : { transactionId: id }),
    ...opt(o, 'payload', path, (v, p) => readHex(v, p)),
    ...(complete ? { transaction: transactionFromRpc(json, path) } : {}),
  };
}

/** getVirtualChainFromBlockV2 response. */
export function virtualChainV2FromRpc(json: unknown, path = 'getVirtualChainFromBlockV2'): VirtualChainV2 {
  const o = readObject(json, path);
  return {
    removedChainBlockHashes: hashList(...field(o, 'removedChainBlockHashes', path)),
    addedChainBlockHashes: hashList(...field(o, 'addedChainBlockHashes', path)),
    chainBlockAcceptedTransactions: readArray(...field(o, 'chainBlockAcceptedTransactions', path), (x, p) => {
      const c = readObject(x, p);
      return {
        chainBlockHeader: blockHeaderFromRpc(...field(c, 'chainBlockHeader', p)),
        acceptedTransactions: readArray(...field(c, 'acceptedTransactions', p), acceptedTransactionFromRpc),
      };
    }),
  };
}

/** getVirtualChainFromBlock response and VirtualChainChanged notification. */
export function virtualChainChangedFromRpc(json: unknown, path = 'VirtualChainChanged'): VirtualChainChanged {
  const o = readObject(json, path);
  return {
    removedChainBlockHashes: hashList(...field(o, 'removedChainBlockHashes', path)),
    addedChainBlockHashes: hashList(...field(o, 'addedChainBlockHashes', path)),
    acceptedTransactionIds: readArray(
      prop(o, 'acceptedTransactionIds') ?? [],
      `${path}.acceptedTransactionIds`,
      (x, p) => {
        const a = readObject(x, p);
        return {
          acceptingBlockHash: blockHashFromRpc(...field(a, 'acceptingBlockHash', p)),
          acceptedTransactionIds: readArray(...field(a, 'acceptedTransactionIds', p), txIdFromRpc),
        };
      },
    ),
  };
}

/** UtxosChanged notification body. */
export function utxosChangedFromRpc(json: unknown, path = 'UtxosChanged'): UtxosChanged {
  const o = readObject(json, path);
  return {
    added: readArray(...field(o, 'added', path), utxosByAddressesEntryFromRpc),
    removed: readArray(...field(o, 'removed', path), utxosByAddressesEntryFromRpc),
  };
}

/** submitBlock response `report`. */
export function submitBlockReportFromRpc(json: unknown, path = 'report'): SubmitBlockReport {
  const o = readObject(json, path);
  const type = readString(...field(o, 'type', path));
  if (type === 'success') return { type };
  if (type === 'reject') return { type, reason: readString(...field(o, 'reason', path)) };
  throw new RpcFieldError(`${path}.type`, `unknown report type ${JSON.stringify(type)}`);
}
