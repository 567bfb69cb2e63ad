/**
 * The wRPC methods of the local node: request bodies are read with the shared checked readers
 * (a bad field is a "request deserialization error", FACTS §6.2), answers are built in the exact
 * JSON of FACTS §6.5 with the shared converters, and failures carry the node's error text.
 */
import { bytesToHex } from '../../util/bytes.ts';
import {
  Address,
  AddressError,
  addressToScriptPublicKey,
  scriptPublicKeyToAddress,
} from '../../kaspa/address.ts';
import {
  RpcFieldError,
  prop,
  readArray,
  readBool,
  readHex,
  readObject,
  readOptional,
  readString,
  readU64,
  readUint,
} from '../../kaspa/rpc/fields.ts';
import {
  hashToRpc,
  mempoolEntryToRpc,
  scriptPublicKeyToHex,
  transactionFromRpc,
  transactionToRpc,
  u64ToRpc,
  utxosByAddressesEntryToRpc,
} from '../../kaspa/rpc/convert.ts';
import { JsonF64 } from '../../kaspa/rpc/json.ts';
import type {
  RpcBlock,
  RpcBlockVerboseData,
  RpcDataVerbosityLevel,
  RpcMempoolEntry,
  RpcTransaction,
  RpcUtxosByAddressesEntry,
} from '../../kaspa/rpc/wire.ts';
import { MIN_RELAY_FEE_RATE } from '../../kaspa/fee.ts';
import { MAX_SOMPI, type ScriptPublicKey, type Transaction, type Utxo } from '../../kaspa/types.ts';
import type { Block, Chain } from '../chain.ts';
import { blockDifficulty, minerExtraData } from '../chain.ts';
import { compressedParents } from '../../kaspa/rpc/responses.ts';
import { headerFromRpc, headerToRpc, rawHeaderToRpc } from '../codec.ts';
import { DevnetError } from '../errors.ts';
import { estimateFeerates, type FeerateBucket } from '../fee-estimate.ts';
import type { MempoolEntry } from '../mempool.ts';
import {
  ADDRESS_PREFIX,
  BLOCK_MASS_LIMITS,
  MAX_CHAIN_BLOCKS_PER_CALL,
  NETWORK_ID,
  SERVER_VERSION,
  TARGET_TIME_PER_BLOCK_MS,
} from '../params.ts';
import {
  computeMass,
  isCoinbaseTransaction,
  standardClass,
  transactionHash,
  transactionId,
} from '../rules.ts';
import { spkKey } from '../utxo-set.ts';
import { outpointKey } from '../../kaspa/utxo-watcher.ts';

/** A method handler: checked request params in, response params out. */
export type MethodHandler = (params: Readonly<Record<string, unknown>>) => unknown;

/** What the methods need beyond the chain. */
export interface MethodContext {
  readonly chain: Chain;
  /** Node id reported by getInfo. */
  readonly p2pId: string;
  /** Open wRPC connections (getConnections). */
  connectionCount(): number;
}

/** Every method name kaspad registers on its wRPC router (FACTS §6.3). */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'ping',
  'addPeer',
  'ban',
  'unban',
  'shutdown',
  'estimateNetworkHashesPerSecond',
  'getBalanceByAddress',
  'getBalancesByAddresses',
  'getBlock',
  'getBlocks',
  'getBlockCount',
  'getBlockDagInfo',
  'getBlockTemplate',
  'getCurrentBlockColor',
  'getBlockRewardInfo',
  'getCoinSupply',
  'getConnectedPeerInfo',
  'getConnections',
  'getCurrentNetwork',
  'getDaaScoreTimestampEstimate',
  'getUtxoReturnAddress',
  'getFeeEstimate',
  'getFeeEstimateExperimental',
  'getHeaders',
  'getInfo',
  'getMempoolEntries',
  'getMempoolEntriesByAddresses',
  'getMempoolEntry',
  'getMetrics',
  'getPeerAddresses',
  'getServerInfo',
  'getSink',
  'getSinkBlueScore',
  'getSubnetwork',
  'getSyncStatus',
  'getSystemInfo',
  'getUtxosByAddresses',
  'getVirtualChainFromBlock',
  'getVirtualChainFromBlockV2',
  'getSeqCommitLaneProof',
  'resolveFinalityConflict',
  'submitBlock',
  'submitTransaction',
  'submitTransactionReplacement',
  'subscribe',
  'unsubscribe',
]);

/** Methods that need `--unsaferpc` on kaspad; this node never runs in unsafe mode. */
const UNSAFE_METHODS = new Set(['addPeer', 'ban', 'unban', 'shutdown', 'resolveFinalityConflict']);

const fail = (message: string): never => {
  throw new DevnetError('BAD_REQUEST', message);
};

/** A `kaspa…:` address; a malformed one fails deserialization, as the node's `Address` serde does. */
function readAddress(v: unknown, field: string): Address {
  const text = readString(v, field);
  try {
    return Address.decode(text);
  } catch (e) {
    if (e instanceof AddressError) throw new RpcFieldError(field, e.message);
    throw e;
  }
}

/**
 * An address list, each distinct text decoded once: a hostile request repeating one address
 * costs one decode, not one per copy.
 */
export function readAddresses(v: unknown, field: string): Address[] {
  const decoded = new Map<string, Address>();
  return readArray(v, field, (item, f) => {
    const text = readString(item, f);
    let a = decoded.get(text);
    if (a === undefined) {
      a = readAddress(text, f);
      decoded.set(text, a);
    }
    return a;
  });
}

/**
 * Address texts by script: every notification, chain page and UTXO reply names the address of
 * each output, and encoding it with its bech32 checksum (FACTS §2) was about 4 % of an
 * 800-message soak's CPU (node and three clients in one process), where the same few thousand
 * scripts recur. Bounded: emptied when it reaches ADDRESS_MEMO_LIMIT.
 */
const addressMemo = new Map<string, string | null>();
const ADDRESS_MEMO_LIMIT = 100_000;

function addressOf(spk: ScriptPublicKey): string | null {
  const key = spkKey(spk);
  const known = addressMemo.get(key);
  if (known !== undefined) return known;
  const text = scriptPublicKeyToAddress(spk, ADDRESS_PREFIX)?.toString() ?? null;
  if (addressMemo.size >= ADDRESS_MEMO_LIMIT) addressMemo.clear();
  addressMemo.set(key, text);
  return text;
}

function entryToRpc(u: Utxo): RpcUtxosByAddressesEntry {
  return utxosByAddressesEntryToRpc({ ...u, address: addressOf(u.entry.scriptPublicKey) });
}

const ZERO_HASH_HEX = '00'.repeat(32);

/**
 * A mempool entry as kaspad writes it: the transaction carries verbose data too, placed in no
 * block yet (the zero hash and time 0).
 */
function mempoolToRpc(e: MempoolEntry): RpcMempoolEntry {
  return {
    ...mempoolEntryToRpc({ fee: e.fee, transaction: e.tx, isOrphan: false }),
    transaction: withVerboseData(e.tx, { id: e.id, blockHash: ZERO_HASH_HEX, blockTime: 0n }),
  };
}

/**
 * `T` with the named fields written as f64 (`JsonF64`): a Rust node prints them with a fraction
 * (`1.0000001192093038`, `100.0`) where a bare number would print as an integer.
 */
export type WithF64<T, K extends keyof T> = Omit<T, K> & { readonly [P in K]: JsonF64 };

/** A block as this node writes it: RpcBlock with the verbose-data difficulty as an f64. */
export type DevnetRpcBlock = Omit<RpcBlock, 'verboseData'> & {
  readonly verboseData: WithF64<RpcBlockVerboseData, 'difficulty'>;
};

/**
 * A transaction as kaspad's serde writes it: every Option field is present, so an absent
 * verbose data or covenant is `null` rather than left out (`rpc/core/src/model/tx.rs` has no
 * `skip_serializing_if`). getBlockTemplate sends exactly this.
 */
function nodeTransactionToRpc(tx: Transaction): RpcTransaction {
  const base = transactionToRpc(tx);
  return {
    ...base,
    inputs: base.inputs.map((i) => ({ ...i, verboseData: null })),
    outputs: base.outputs.map((o) => ({ ...o, covenant: o.covenant ?? null, verboseData: null })),
    verboseData: null,
  };
}

/** Where a transaction sits, for its verbose data. */
interface TransactionPlace {
  readonly id: Uint8Array;
  readonly blockHash: string;
  readonly blockTime: bigint;
}

/**
 * Transaction `index` of a block with the verbose data getBlock and BlockAdded carry (FACTS §6.5);
 * the index names its id in `block.transactionIds` without a search through the block.
 */
function verboseTransactionToRpc(tx: Transaction, block: Block, index: number): RpcTransaction {
  return withVerboseData(tx, {
    id: block.transactionIds![index]!,
    blockHash: block.hashHex,
    blockTime: block.header.timestamp,
  });
}

function withVerboseData(tx: Transaction, place: TransactionPlace): RpcTransaction {
  const base = nodeTransactionToRpc(tx);
  return {
    ...base,
    outputs: base.outputs.map((o, i) => {
      const spk = tx.outputs[i]!.scriptPublicKey;
      const address = addressOf(spk);
      return {
        ...o,
        verboseData:
          address === null
            ? null
            : { scriptPublicKeyType: standardClass(spk), scriptPublicKeyAddress: address },
      };
    }),
    verboseData: {
      transactionId: hashToRpc(place.id),
      hash: hashToRpc(transactionHash(tx)),
      computeMass: u64ToRpc('computeMass', isCoinbaseTransaction(tx) ? 0n : computeMass(tx)),
      blockHash: place.blockHash,
      blockTime: u64ToRpc('blockTime', place.blockTime),
    },
  };
}

/** A block in the getBlock / BlockAdded shape, with verbose data. */
export function blockToRpc(chain: Chain, block: Block, includeTransactions: boolean): DevnetRpcBlock {
  const txs = block.transactions;
  const selectedParent = block.selectedParent?.hash;
  return {
    header: headerToRpc(block.hash, block.header),
    transactions:
      includeTransactions && txs !== undefined ? txs.map((t, i) => verboseTransactionToRpc(t, block, i)) : [],
    verboseData: {
      hash: block.hashHex,
      difficulty: new JsonF64(blockDifficulty(block.header)),
      selectedParentHash: selectedParent === undefined ? ZERO_HASH_HEX : bytesToHex(selectedParent),
      transactionIds: (block.transactionIds ?? []).map((id) => bytesToHex(id)),
      isHeaderOnly: txs === undefined,
      blueScore: u64ToRpc('blueScore', block.header.blueScore),
      childrenHashes: block.children.map((h) => bytesToHex(h)),
      // Every merged block is blue in this network's GHOSTDAG (docs/devnet.md).
      mergeSetBluesHashes: block.mergeset.map((m) => m.hashHex),
      mergeSetRedsHashes: [],
      isChainBlock: block.isChainBlock && chain.chainIndex(block) >= 0,
    },
  };
}

/** Resolves a hash to a known block or fails with the consensus text (an unknown hash has no header). */
function knownBlock(chain: Chain, hex: string): Block {
  return chain.block(hex) ?? fail(`cannot find header ${hex}`);
}

/** The chain path from `start` to the sink: removed side-chain hashes, then added chain blocks. */
function chainPath(chain: Chain, startHex: string): { removed: Block[]; added: Block[] } {
  let cursor = knownBlock(chain, startHex);
  const removed: Block[] = [];
  while (chain.chainIndex(cursor) < 0) {
    removed.push(cursor);
    const parent = cursor.selectedParent;
    if (parent === undefined) break;
    cursor = parent;
  }
  const from = chain.chainIndex(cursor);
  if (from < chain.chainIndex(chain.pruningPoint))
    fail(`block ${cursor.hashHex} is too deep (before the current pruning point)`);
  const added = chain.chain.slice(from + 1, from + 1 + MAX_CHAIN_BLOCKS_PER_CALL);
  return { removed, added };
}

function applyMinConfirmations(chain: Chain, added: Block[], min: bigint | undefined): void {
  if (min === undefined || min === 0n) return;
  const sinkBlueScore = chain.sink.header.blueScore;
  while (added.length > 0) {
    const last = added[added.length - 1]!;
    if (sinkBlueScore - last.header.blueScore > min) break;
    added.pop();
  }
}

/**
 * Transactions a chain block accepted from its mergeset, in acceptance order, each with the
 * merged block that holds it and the coins it spent (read from that block's UTXO diff).
 */
function acceptedTransactions(
  chain: Chain,
  block: Block,
): { holder: Block; index: number; tx: Transaction; spent: ReadonlyMap<string, Utxo> }[] | undefined {
  const acceptance = chain.acceptanceOf(block);
  if (acceptance === undefined) return undefined;
  const spentBy = new Map<Block, Map<string, Utxo>>();
  return acceptance.map(({ holder, index }) => {
    let spent = spentBy.get(holder);
    if (spent === undefined) spentBy.set(holder, (spent = removedCoins(holder)));
    return { holder, index, tx: holder.transactions![index]!, spent };
  });
}

const LEVELS: readonly RpcDataVerbosityLevel[] = ['None', 'Low', 'High', 'Full'];

/** The chain-block header of getVirtualChainFromBlockV2 at a verbosity level; absent fields are null. */
function optionalHeader(block: Block, level: number): Record<string, unknown> {
  const full = rawHeaderToRpc(block.header);
  const pick = <K extends keyof typeof full>(k: K, min: number): (typeof full)[K] | null =>
    level >= min ? full[k] : null;
  return {
    hash: block.hashHex,
    version: pick('version', 1),
    parentsByLevel: level >= 2 ? compressedParents(block.header.parentsByLevel) : null,
    hashMerkleRoot: pick('hashMerkleRoot', 2),
    acceptedIdMerkleRoot: pick('acceptedIdMerkleRoot', 2),
    utxoCommitment: pick('utxoCommitment', 3),
    timestamp: pick('timestamp', 1),
    bits: pick('bits', 1),
    nonce: pick('nonce', 1),
    daaScore: pick('daaScore', 1),
    blueWork: pick('blueWork', 1),
    blueScore: pick('blueScore', 1),
    pruningPoint: pick('pruningPoint', 3),
  };
}

/**
 * An accepted transaction at a verbosity level, shaped as kaspad 2.1.0 sends it (FACTS §6.5;
 * `rpc/core/src/convert/verbosity.rs`): every input and output is listed at every level, each
 * nested verbose object is present with its fields nulled below their level, and gas, payload,
 * subnetwork id and both masses come at every level.
 */
function optionalTransaction(
  tx: Transaction,
  index: number,
  holder: Block,
  removed: ReadonlyMap<string, Utxo>,
  level: number,
): Record<string, unknown> {
  const rpc = verboseTransactionToRpc(tx, holder, index);
  const spentCoins = tx.inputs.map((i) => removed.get(outpointKey(i.previousOutpoint)));
  const at = <T>(min: number, v: T): T | null => (level >= min ? v : null);
  const scriptVerbose = (spk: ScriptPublicKey | undefined) => {
    const address = spk === undefined ? null : addressOf(spk);
    return {
      scriptPublicKeyAddress: at(1, address),
      scriptPublicKeyType: at(1, spk === undefined || address === null ? null : standardClass(spk)),
    };
  };
  return {
    version: at(3, rpc.version),
    inputs: rpc.inputs.map((i, n) => {
      const coin = spentCoins[n];
      return {
        previousOutpoint: at(2, i.previousOutpoint),
        signatureScript: at(1, i.signatureScript),
        sequence: at(2, i.sequence),
        sigOpCount: at(2, i.sigOpCount),
        computeBudget: at(2, i.computeBudget ?? 0),
        verboseData: {
          utxoEntry: {
            amount: at(2, coin === undefined ? null : u64ToRpc('amount', coin.entry.amount)),
            scriptPublicKey: at(
              2,
              coin === undefined ? null : scriptPublicKeyToHex(coin.entry.scriptPublicKey),
            ),
            blockDaaScore: at(
              3,
              coin === undefined ? null : u64ToRpc('blockDaaScore', coin.entry.blockDaaScore),
            ),
            isCoinbase: at(2, coin === undefined ? null : coin.entry.isCoinbase),
            verboseData: scriptVerbose(coin?.entry.scriptPublicKey),
            covenantId: null,
          },
        },
      };
    }),
    outputs: rpc.outputs.map((o, n) => ({
      value: at(1, o.value),
      scriptPublicKey: at(1, o.scriptPublicKey),
      verboseData: scriptVerbose(tx.outputs[n]!.scriptPublicKey),
      covenant: at(1, o.covenant ?? null),
    })),
    lockTime: at(3, rpc.lockTime),
    subnetworkId: rpc.subnetworkId,
    gas: rpc.gas,
    payload: rpc.payload,
    storageMass: rpc.storageMass,
    mass: rpc.storageMass,
    verboseData: {
      transactionId: at(1, rpc.verboseData!.transactionId),
      hash: at(1, rpc.verboseData!.hash),
      computeMass: at(2, rpc.verboseData!.computeMass),
      blockHash: at(1, rpc.verboseData!.blockHash),
      blockTime: at(1, rpc.verboseData!.blockTime),
    },
  };
}

/**
 * The coins the transactions of `holder` spent, read back from its UTXO diff, by outpoint;
 * built once per block, not once per transaction.
 */
function removedCoins(holder: Block): Map<string, Utxo> {
  return new Map((holder.diff?.removed ?? []).map((u) => [outpointKey(u.outpoint), u]));
}

/**
 * About how many bytes of reply a paged query (getBlocks, getVirtualChainFromBlockV2) may fill
 * before it stops early: the client pages on from the last block it received, as it does at
 * the 2,480-block limit, so one request can neither build a reply near the 128 MiB frame limit
 * nor hold the node (single-threaded) for long while other clients wait.
 */
export const REPLY_BUDGET_BYTES = 4 * 1024 * 1024;

/** An upper estimate of a transaction's JSON with verbose data, without writing it. */
function transactionBytes(tx: Transaction): number {
  let n = 700 + tx.payload.length * 2;
  for (const i of tx.inputs) n += 600 + i.signatureScript.length * 2;
  for (const o of tx.outputs) n += 400 + o.scriptPublicKey.script.length * 2;
  return n;
}

function blockTransactionBytes(b: Block): number {
  let n = 0;
  for (const tx of b.transactions ?? []) n += transactionBytes(tx);
  return n;
}

/** The leading items whose estimated size fits the reply budget (at least one). */
function withinReplyBudget<T>(items: readonly T[], size: (item: T) => number): T[] {
  let budget = REPLY_BUDGET_BYTES;
  const out: T[] = [];
  for (const item of items) {
    budget -= 1_000 + size(item);
    if (budget < 0 && out.length > 0) break;
    out.push(item);
  }
  return out;
}

/** Builds the method table over a chain. */
export function createMethods(ctx: MethodContext): Map<string, MethodHandler> {
  const { chain } = ctx;
  const m = new Map<string, MethodHandler>();

  m.set('ping', () => ({}));
  m.set('getServerInfo', () => ({
    rpcApiVersion: 1,
    rpcApiRevision: 0,
    serverVersion: SERVER_VERSION,
    networkId: NETWORK_ID,
    hasUtxoIndex: true,
    isSynced: chain.isSynced,
    virtualDaaScore: u64ToRpc('virtualDaaScore', chain.virtualDaaScore),
  }));
  m.set('getInfo', () => ({
    p2pId: ctx.p2pId,
    mempoolSize: chain.mempool.size,
    serverVersion: SERVER_VERSION,
    isUtxoIndexed: true,
    isSynced: chain.isSynced,
    hasNotifyCommand: true,
    hasMessageId: true,
  }));
  m.set('getCurrentNetwork', () => ({ network: NETWORK_ID }));
  m.set('getSyncStatus', () => ({ isSynced: chain.isSynced }));
  m.set('getBlockCount', () => ({ headerCount: chain.blockCount, blockCount: chain.blockCount }));
  m.set('getSink', () => ({ sink: chain.sink.hashHex }));
  m.set('getSinkBlueScore', () => ({ blueScore: u64ToRpc('blueScore', chain.sink.header.blueScore) }));
  m.set('getBlockDagInfo', () => ({
    network: NETWORK_ID,
    blockCount: chain.blockCount,
    headerCount: chain.blockCount,
    tipHashes: chain.tips.map((b) => b.hashHex),
    difficulty: new JsonF64(blockDifficulty(chain.sink.header)),
    pastMedianTime: u64ToRpc('pastMedianTime', chain.pastMedianTime),
    virtualParentHashes: chain.virtualParents.map((b) => b.hashHex),
    pruningPointHash: chain.pruningPoint.hashHex,
    virtualDaaScore: u64ToRpc('virtualDaaScore', chain.virtualDaaScore),
    sink: chain.sink.hashHex,
  }));
  m.set('getCoinSupply', () => {
    let circulating = 0n;
    for (const u of chain.utxos.values()) circulating += u.entry.amount;
    return {
      maxSompi: u64ToRpc('maxSompi', MAX_SOMPI),
      circulatingSompi: u64ToRpc('circulatingSompi', circulating),
    };
  });
  m.set('getConnectedPeerInfo', () => ({ peerInfo: [] }));
  m.set('getPeerAddresses', () => ({ knownAddresses: [], bannedAddresses: [] }));
  m.set('getConnections', (p) => {
    const profile = readBool(prop(p, 'includeProfileData'), 'includeProfileData');
    return {
      clients: ctx.connectionCount(),
      peers: 0,
      profileData: profile ? processProfile() : null,
    };
  });
  m.set('getCurrentBlockColor', (p) => {
    const hash = bytesToHex(readHex(prop(p, 'hash'), 'hash', 32));
    // Every merged block is blue here; one no chain block has merged yet (the sink, a tip, an
    // abandoned or unknown block) has no merger.
    const block = chain.block(hash);
    const merged =
      block !== undefined &&
      block.children.some((h) => {
        const child = chain.block(bytesToHex(h));
        return child !== undefined && chain.chainIndex(child) >= 0 && child.mergeset.includes(block);
      });
    if (!merged) fail(`Block ${hash} doesn't have any merger block.`);
    return { blue: true };
  });
  m.set('estimateNetworkHashesPerSecond', (p) => {
    const windowSize = readUint(prop(p, 'windowSize'), 'windowSize', 0xffffffff);
    const start = readOptional(prop(p, 'startHash'), 'startHash', (v, f) => bytesToHex(readHex(v, f, 32)));
    // The blue work the window's blocks added over the time they span, as the node estimates it
    // (work per millisecond × 1000); a window without elapsed time has no rate yet.
    const end = start === undefined ? chain.sink : knownBlock(chain, start);
    const at = Math.max(0, chain.chainIndex(end));
    const first = chain.chain[Math.max(0, at + 1 - windowSize)]!;
    const ms = end.header.timestamp - first.header.timestamp;
    const work = end.header.blueWork - first.header.blueWork;
    return {
      networkHashesPerSecond: u64ToRpc('networkHashesPerSecond', ms > 0n ? (work * 1000n) / ms : 0n),
    };
  });
  m.set('getDaaScoreTimestampEstimate', (p) => {
    const scores = readArray(prop(p, 'daaScores'), 'daaScores', readU64);
    return {
      timestamps: scores.map((s) => {
        const b = chain.chainBlockAtDaaScore(s);
        const ahead = s > b.header.daaScore ? (s - b.header.daaScore) * BigInt(TARGET_TIME_PER_BLOCK_MS) : 0n;
        return u64ToRpc('timestamp', b.header.timestamp + ahead);
      }),
    };
  });

  m.set('getUtxosByAddresses', (p) => {
    // kaspad collects the scripts into a set before it asks the UTXO index, so a repeated
    // address names its coins once (and a request cannot multiply the reply).
    const entries: RpcUtxosByAddressesEntry[] = [];
    for (const a of new Set(readAddresses(prop(p, 'addresses'), 'addresses')))
      for (const u of chain.utxos.byScript(addressToScriptPublicKey(a))) entries.push(entryToRpc(u));
    return { entries };
  });
  const balanceOf = (a: Address): bigint => {
    let sum = 0n;
    for (const u of chain.utxos.byScript(addressToScriptPublicKey(a))) sum += u.entry.amount;
    return sum;
  };
  m.set('getBalanceByAddress', (p) => ({
    balance: u64ToRpc('balance', balanceOf(readAddress(prop(p, 'address'), 'address'))),
  }));
  m.set('getBalancesByAddresses', (p) => ({
    entries: readAddresses(prop(p, 'addresses'), 'addresses').map((a) => ({
      address: a.toString(),
      balance: u64ToRpc('balance', balanceOf(a)),
    })),
  }));

  m.set('submitTransaction', (p) => {
    const raw = readObject(prop(p, 'transaction'), 'transaction');
    readBool(prop(p, 'allowOrphan'), 'allowOrphan');
    checkComputeCommitVariant(raw);
    const tx = transactionFromRpc(raw);
    const entry = chain.submitTransaction(tx);
    return { transactionId: entry.idHex };
  });

  /** Checks a mempool query's pool flags (FACTS §6.5); true when the transaction pool is filtered out. */
  const mempoolQuery = (p: Readonly<Record<string, unknown>>): boolean => {
    const includeOrphanPool = readBool(prop(p, 'includeOrphanPool'), 'includeOrphanPool');
    const filterTransactionPool = readBool(prop(p, 'filterTransactionPool'), 'filterTransactionPool');
    if (filterTransactionPool && !includeOrphanPool)
      fail('transaction query must either not filter transactions or include orphans');
    return filterTransactionPool;
  };
  m.set('getMempoolEntry', (p) => {
    const id = bytesToHex(readHex(prop(p, 'transactionId'), 'transactionId', 32));
    const filter = mempoolQuery(p);
    const e = filter ? undefined : chain.mempool.get(id);
    if (e === undefined) return fail(`Transaction ${id} not found`);
    return { mempoolEntry: mempoolToRpc(e) };
  });
  m.set('getMempoolEntries', (p) => {
    const filter = mempoolQuery(p);
    return { mempoolEntries: filter ? [] : chain.mempool.entries().map(mempoolToRpc) };
  });
  m.set('getMempoolEntriesByAddresses', (p) => {
    const addresses = readAddresses(prop(p, 'addresses'), 'addresses');
    const filter = mempoolQuery(p);
    // One pass over the mempool indexes its entries by script, each written once; every
    // address asked is then a lookup, however many addresses a request names.
    const byScript = new Map<string, { sending: RpcMempoolEntry[]; receiving: RpcMempoolEntry[] }>();
    const slot = (key: string): { sending: RpcMempoolEntry[]; receiving: RpcMempoolEntry[] } => {
      let s = byScript.get(key);
      if (s === undefined) byScript.set(key, (s = { sending: [], receiving: [] }));
      return s;
    };
    for (const e of filter ? [] : chain.mempool.entries()) {
      const rpc = mempoolToRpc(e);
      for (const key of new Set(e.spent.map((c) => spkKey(c.scriptPublicKey)))) slot(key).sending.push(rpc);
      for (const key of new Set(e.tx.outputs.map((o) => spkKey(o.scriptPublicKey))))
        slot(key).receiving.push(rpc);
    }
    // One entry per requested address, as kaspad answers.
    return {
      entries: addresses.map((a) => {
        const found = byScript.get(spkKey(addressToScriptPublicKey(a)));
        return { address: a.toString(), sending: found?.sending ?? [], receiving: found?.receiving ?? [] };
      }),
    };
  });
  m.set('getFeeEstimate', () => ({ estimate: feeEstimate(chain) }));
  m.set('getFeeEstimateExperimental', (p) => {
    const verbose = readBool(prop(p, 'verbose'), 'verbose');
    return { estimate: feeEstimate(chain), verbose: verbose ? feeEstimateVerbose(chain) : null };
  });

  m.set('getBlock', (p) => {
    const hash = bytesToHex(readHex(prop(p, 'hash'), 'hash', 32));
    const include = readBool(prop(p, 'includeTransactions'), 'includeTransactions');
    return { block: blockToRpc(chain, knownBlock(chain, hash), include) };
  });
  m.set('getBlocks', (p) => {
    const low = readOptional(prop(p, 'lowHash'), 'lowHash', (v, f) => bytesToHex(readHex(v, f, 32)));
    const includeBlocks = readBool(prop(p, 'includeBlocks'), 'includeBlocks');
    const includeTransactions = readBool(prop(p, 'includeTransactions'), 'includeTransactions');
    if (includeTransactions && !includeBlocks)
      fail('If includeTransactions is set, then includeBlockVerboseData must be set as well.');
    const start = low === undefined ? chain.pruningPoint : knownBlock(chain, low);
    const from = Math.max(0, chain.chainIndex(start));
    const blocks = withinReplyBudget(chain.chain.slice(from, from + MAX_CHAIN_BLOCKS_PER_CALL), (b) =>
      includeTransactions ? blockTransactionBytes(b) : 0,
    );
    return {
      blockHashes: blocks.map((b) => b.hashHex),
      blocks: includeBlocks ? blocks.map((b) => blockToRpc(chain, b, includeTransactions)) : [],
    };
  });

  m.set('getVirtualChainFromBlock', (p) => {
    const start = bytesToHex(readHex(prop(p, 'startHash'), 'startHash', 32));
    const includeIds = readBool(prop(p, 'includeAcceptedTransactionIds'), 'includeAcceptedTransactionIds');
    const min = readOptional(prop(p, 'minConfirmationCount'), 'minConfirmationCount', readU64);
    const path = chainPath(chain, start);
    applyMinConfirmations(chain, path.added, min);
    return {
      removedChainBlockHashes: path.removed.map((b) => b.hashHex),
      addedChainBlockHashes: path.added.map((b) => b.hashHex),
      acceptedTransactionIds: includeIds
        ? path.added.map((b) => ({
            acceptingBlockHash: b.hashHex,
            acceptedTransactionIds: (b.acceptedIds ?? []).map((id) => bytesToHex(id)),
          }))
        : [],
    };
  });
  m.set('getVirtualChainFromBlockV2', (p) => {
    const start = bytesToHex(readHex(prop(p, 'startHash'), 'startHash', 32));
    const levelName = readOptional(prop(p, 'dataVerbosityLevel'), 'dataVerbosityLevel', (v, f) => {
      const s = readString(v, f);
      if (!(LEVELS as readonly string[]).includes(s)) throw new RpcFieldError(f, `unknown verbosity ${s}`);
      return s as RpcDataVerbosityLevel;
    });
    // The node's default is Full (`rpc/service/src/service.rs`).
    const level = LEVELS.indexOf(levelName ?? 'Full');
    const min = readOptional(prop(p, 'minConfirmationCount'), 'minConfirmationCount', readU64);
    const path = chainPath(chain, start);
    applyMinConfirmations(chain, path.added, min);
    const accepted = [];
    let budget = REPLY_BUDGET_BYTES;
    for (const b of path.added) {
      const acc = acceptedTransactions(chain, b);
      if (acc === undefined) break;
      for (const a of acc) budget -= transactionBytes(a.tx);
      if (budget < 0 && accepted.length > 0) break;
      accepted.push({
        chainBlockHeader: optionalHeader(b, level),
        acceptedTransactions: acc.map((a) => optionalTransaction(a.tx, a.index, a.holder, a.spent, level)),
      });
    }
    return {
      removedChainBlockHashes: path.removed.map((b) => b.hashHex),
      addedChainBlockHashes: path.added.slice(0, accepted.length).map((b) => b.hashHex),
      chainBlockAcceptedTransactions: accepted,
    };
  });
  m.set('getUtxoReturnAddress', (p) => {
    const txid = bytesToHex(readHex(prop(p, 'txid'), 'txid', 32));
    const daa = readU64(prop(p, 'acceptingBlockDaaScore'), 'acceptingBlockDaaScore');
    const candidate = chain.chainBlockAtDaaScore(daa);
    const accepting = candidate.header.daaScore === daa ? candidate : undefined;
    const acc = accepting === undefined ? undefined : acceptedTransactions(chain, accepting);
    const found = acc?.find((a) => bytesToHex(a.holder.transactionIds![a.index]!) === txid);
    if (found === undefined) {
      return fail(`utxo inquirer error: Did not find queried transactions in acceptance data: [${txid}]`);
    }
    const tx = found.tx;
    if (isCoinbaseTransaction(tx)) return fail('utxo inquirer error: transaction is a coinbase');
    const first = tx.inputs[0];
    const coin = first === undefined ? undefined : found.spent.get(outpointKey(first.previousOutpoint));
    const address = coin === undefined ? null : addressOf(coin.entry.scriptPublicKey);
    if (address === null) return fail('utxo inquirer error: non-standard script');
    return { returnAddress: address };
  });

  m.set('getBlockTemplate', (p) => {
    const payAddress = readAddress(prop(p, 'payAddress'), 'payAddress');
    const extraData = readArray(prop(p, 'extraData'), 'extraData', (v, f) => readUint(v, f, 0xff));
    if (payAddress.prefix !== ADDRESS_PREFIX) fail(`The address has an invalid prefix ${payAddress.prefix}`);
    const t = chain.blockTemplate(
      addressToScriptPublicKey(payAddress),
      minerExtraData(Uint8Array.from(extraData)),
    );
    return {
      block: { header: rawHeaderToRpc(t.header), transactions: t.transactions.map(nodeTransactionToRpc) },
      isSynced: chain.isSynced,
    };
  });
  m.set('submitBlock', (p) => {
    const block = readObject(prop(p, 'block'), 'block');
    const allow = prop(p, 'allowNonDaaBlocks') ?? prop(p, 'allowNonDAABlocks');
    readBool(allow, 'allowNonDaaBlocks');
    const header = headerFromRpc(prop(block, 'header'), 'block.header');
    const transactions = readArray(prop(block, 'transactions'), 'block.transactions', (x, f) =>
      transactionFromRpc(x, f),
    );
    const result = chain.submitBlock({ header, transactions });
    return 'reason' in result
      ? { report: { type: 'reject', reason: result.reason } }
      : { report: { type: 'success' } };
  });

  for (const name of UNSAFE_METHODS) {
    m.set(name, () => fail('Method unavailable in safe mode. Run the node with --unsaferpc argument.'));
  }
  for (const name of KNOWN_METHODS) {
    if (!m.has(name) && name !== 'subscribe' && name !== 'unsubscribe')
      m.set(name, () => fail('Not implemented'));
  }
  return m;
}

/**
 * The node's RPC converter refuses a compute commitment of the wrong variant for the version
 * before consensus sees the transaction (`rpc/core/src/convert/tx.rs`), with a general error.
 */
function checkComputeCommitVariant(raw: Readonly<Record<string, unknown>>): void {
  const version = prop(raw, 'version');
  const inputs = prop(raw, 'inputs');
  if (typeof version !== 'number' || !Array.isArray(inputs)) return;
  for (const input of inputs as unknown[]) {
    if (typeof input !== 'object' || input === null) return;
    const sigOpCount = prop(input as Record<string, unknown>, 'sigOpCount');
    const computeBudget = prop(input as Record<string, unknown>, 'computeBudget');
    if (version >= 1 && typeof sigOpCount === 'number' && sigOpCount !== 0) {
      fail(`RpcTransactionInput.sig_op_count is inconsistent with transaction version ${version}`);
    }
    if (version === 0 && typeof computeBudget === 'number' && computeBudget !== 0) {
      fail(`RpcTransactionInput.compute_budget is inconsistent with transaction version ${version}`);
    }
  }
}

/**
 * getConnections profile data: this process's share of one core since it started (kaspad samples
 * its own CPU use the same way, as an f64) and its resident memory in bytes.
 */
function processProfile(): { cpuUsage: JsonF64; memoryUsage: bigint } {
  const { user, system } = process.cpuUsage();
  const share = (user + system) / 1e6 / Math.max(process.uptime(), 1e-3);
  return { cpuUsage: new JsonF64(share), memoryUsage: BigInt(process.memoryUsage().rss) };
}

/**
 * The mempool figures getFeeEstimateExperimental adds (`FeeEstimateVerbose`): the ready set, the
 * network capacity, and the feerates of what the next template would take (−1 when nothing).
 */
function feeEstimateVerbose(chain: Chain): unknown {
  const ready = chain.mempool.ready();
  const template = chain.blockTemplate({ version: 0, script: new Uint8Array(0) });
  const feerates = template.transactions
    .slice(1)
    .map((t) => chain.mempool.get(bytesToHex(transactionId(t)))?.feerate)
    .filter((f) => f !== undefined)
    .sort((a, b) => a - b);
  const pick = (i: number) => new JsonF64(feerates[i] ?? -1);
  return {
    mempoolReadyTransactionsCount: ready.length,
    mempoolReadyTransactionsTotalMass: u64ToRpc(
      'mempoolReadyTransactionsTotalMass',
      ready.reduce((sum, e) => sum + e.mass, 0n),
    ),
    networkMassPerSecond: u64ToRpc(
      'networkMassPerSecond',
      (BLOCK_MASS_LIMITS.compute * 1000n) / BigInt(TARGET_TIME_PER_BLOCK_MS),
    ),
    nextBlockTemplateFeerateMin: pick(0),
    nextBlockTemplateFeerateMedian: pick(Math.floor(feerates.length / 2)),
    nextBlockTemplateFeerateMax: pick(feerates.length - 1),
  };
}

/**
 * getFeeEstimate (FACTS §4.6): the node's estimator over the ready transactions, at the
 * network's capacity (10 blocks per second of 500,000 grams) whatever pace this node mines at.
 * Every figure is an f64 on the wire.
 */
function feeEstimate(chain: Chain): unknown {
  const ready = chain.mempool.ready().map((e) => ({ feerate: e.feerate, mass: Number(e.mass) }));
  const e = estimateFeerates(
    ready,
    chain.mempool.averageMass,
    { blocksPerSecond: 1000 / TARGET_TIME_PER_BLOCK_MS, massPerBlock: Number(BLOCK_MASS_LIMITS.compute) },
    TARGET_TIME_PER_BLOCK_MS / 1000,
    Number(MIN_RELAY_FEE_RATE),
  );
  const bucket = (b: FeerateBucket) => ({
    feerate: new JsonF64(b.feerate),
    estimatedSeconds: new JsonF64(b.estimatedSeconds),
  });
  return {
    priorityBucket: bucket(e.priorityBucket),
    normalBuckets: e.normalBuckets.map(bucket),
    lowBuckets: e.lowBuckets.map(bucket),
  };
}
