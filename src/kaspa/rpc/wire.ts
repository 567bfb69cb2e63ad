/**
 * The exact JSON shapes of the Kaspa wRPC JSON protocol (FACTS §6), as they travel after
 * `parseJson`. Field names, casing exceptions (`is_orphan`, `include_accepted_transaction_ids`)
 * and encodings follow `rpc/core/src/model/*.rs` in rusty-kaspa. Nothing here is validated:
 * `convert.ts` turns untrusted JSON into checked values.
 */

/** A u64 on the wire: a bare integer, parsed as `number` up to 2^53 − 1 and as `bigint` above. */
export type RpcU64 = number | bigint;
/** Lowercase hex of bytes in stored order (hashes are not reversed, FACTS §3.2). */
export type RpcHex = string;
/** `"kaspa:…"`, `"kaspatest:…"`, `"kaspasim:…"`, `"kaspadev:…"`. */
export type RpcAddress = string;

// ---------------------------------------------------------------------------------------
// Envelope (FACTS §6.2)
// ---------------------------------------------------------------------------------------

/** Client → server request. `params` is `{}` for methods without arguments. */
export interface RpcRequestFrame {
  readonly id: number;
  readonly method: string;
  readonly params: unknown;
}

/** Server → client success: the result travels under `params`, not `result`. */
export interface RpcSuccessFrame {
  readonly id: number;
  readonly method: string;
  readonly params: unknown;
}

/** Server → client failure; `code` is always 0 on kaspad, `message` is the node's text. */
export interface RpcErrorFrame {
  readonly id: number;
  readonly method?: string;
  readonly error: { readonly code: number; readonly message: string; readonly data: unknown };
}

/** Server → client notification: no `id`, `params` is the externally tagged Notification enum. */
export interface RpcNotificationFrame {
  readonly method: string;
  readonly params: Readonly<Record<string, unknown>>;
}

// ---------------------------------------------------------------------------------------
// Transactions and UTXOs (FACTS §3.1, §6.4, §6.5)
// ---------------------------------------------------------------------------------------

/** `{"transactionId","index"}`. */
export interface RpcOutpoint {
  readonly transactionId: RpcHex;
  readonly index: number;
}

/** Output covenant binding (v1 only). */
export interface RpcCovenant {
  readonly authorizingInput: number;
  readonly covenantId: RpcHex;
}

/** A UTXO entry (FACTS §6.4); `covenantId` is null or absent before Toccata. */
export interface RpcUtxoEntry {
  readonly amount: RpcU64;
  /** 2-byte big-endian version ‖ script, as one hex string. */
  readonly scriptPublicKey: RpcHex;
  readonly blockDaaScore: RpcU64;
  readonly isCoinbase: boolean;
  readonly covenantId?: RpcHex | null;
}

/** Input verbose data: the spent entry, as complete as the verbosity allows. */
export interface RpcTransactionInputVerboseData {
  readonly utxoEntry?: Partial<RpcUtxoEntry> | null;
}

/** A transaction input; `computeBudget` defaults to 0 on input (FACTS §6.5). */
export interface RpcTransactionInput {
  readonly previousOutpoint: RpcOutpoint;
  readonly signatureScript: RpcHex;
  readonly sequence: RpcU64;
  readonly sigOpCount: number;
  readonly computeBudget?: number;
  readonly verboseData?: RpcTransactionInputVerboseData | null;
}

/** Output verbose data: script class and address. */
export interface RpcTransactionOutputVerboseData {
  readonly scriptPublicKeyType: string;
  readonly scriptPublicKeyAddress: RpcAddress;
}

/** A transaction output; `covenant` is v1 only. */
export interface RpcTransactionOutput {
  readonly value: RpcU64;
  readonly scriptPublicKey: RpcHex | { readonly version: number; readonly script: RpcHex };
  readonly covenant?: RpcCovenant | null;
  readonly verboseData?: RpcTransactionOutputVerboseData | null;
}

/** Transaction verbose data: id, hash and placement, filled in by the node. */
export interface RpcTransactionVerboseData {
  readonly transactionId: RpcHex;
  readonly hash: RpcHex;
  readonly computeMass: RpcU64;
  readonly blockHash: RpcHex;
  readonly blockTime: RpcU64;
}

/** A full transaction as submitted and as returned (FACTS §6.5). */
export interface RpcTransaction {
  readonly version: number;
  readonly inputs: readonly RpcTransactionInput[];
  readonly outputs: readonly RpcTransactionOutput[];
  readonly lockTime: RpcU64;
  readonly subnetworkId: RpcHex;
  readonly gas: RpcU64;
  readonly payload: RpcHex;
  /** Pre-Toccata name of the storage-mass commitment; responses carry both (FACTS §6.5). */
  readonly mass?: RpcU64;
  readonly storageMass?: RpcU64;
  readonly verboseData?: RpcTransactionVerboseData | null;
}

/**
 * A transaction in `getVirtualChainFromBlockV2`: which fields exist depends on the
 * requested verbosity level (FACTS §6.5 table), so every field is optional.
 */
export type RpcOptionalTransaction = {
  readonly [K in keyof RpcTransaction]?: K extends 'inputs'
    ? readonly Partial<RpcTransactionInput>[]
    : K extends 'outputs'
      ? readonly Partial<RpcTransactionOutput>[]
      : K extends 'verboseData'
        ? Partial<RpcTransactionVerboseData> | null
        : RpcTransaction[K];
};

/** A UTXO by address (getUtxosByAddresses, UtxosChanged). */
export interface RpcUtxosByAddressesEntry {
  /** null for non-standard scripts. */
  readonly address: RpcAddress | null;
  readonly outpoint: RpcOutpoint;
  readonly utxoEntry: RpcUtxoEntry;
}

/** A balance by address (getBalancesByAddresses). */
export interface RpcBalancesByAddressEntry {
  readonly address: RpcAddress;
  /** Absent/null when the node could not compute it. */
  readonly balance: RpcU64 | null;
}

// ---------------------------------------------------------------------------------------
// Blocks (FACTS §6.5 getBlock, getBlockTemplate)
// ---------------------------------------------------------------------------------------

/** A block header without its hash (block templates). */
export interface RpcRawHeader {
  readonly version: number;
  readonly parentsByLevel: readonly (readonly RpcHex[])[];
  readonly hashMerkleRoot: RpcHex;
  readonly acceptedIdMerkleRoot: RpcHex;
  readonly utxoCommitment: RpcHex;
  /** Milliseconds since the Unix epoch. */
  readonly timestamp: RpcU64;
  readonly bits: number;
  readonly nonce: RpcU64;
  readonly daaScore: RpcU64;
  /** 48-char big-endian hex. */
  readonly blueWork: RpcHex;
  readonly blueScore: RpcU64;
  readonly pruningPoint: RpcHex;
}

/** A block header with its hash. */
export interface RpcHeader extends RpcRawHeader {
  readonly hash: RpcHex;
}

/** A chain-block header in getVirtualChainFromBlockV2: `hash` plus what the verbosity adds. */
export type RpcOptionalHeader = { readonly hash: RpcHex } & Partial<RpcRawHeader>;

/** Block verbose data: DAG placement filled in by the node. */
export interface RpcBlockVerboseData {
  readonly hash: RpcHex;
  readonly difficulty: number;
  readonly selectedParentHash: RpcHex;
  readonly transactionIds: readonly RpcHex[];
  readonly isHeaderOnly: boolean;
  readonly blueScore: RpcU64;
  readonly childrenHashes: readonly RpcHex[];
  readonly mergeSetBluesHashes: readonly RpcHex[];
  readonly mergeSetRedsHashes: readonly RpcHex[];
  readonly isChainBlock: boolean;
}

/** A block with its own transactions (getBlock, BlockAdded). */
export interface RpcBlock {
  readonly header: RpcHeader;
  readonly transactions: readonly RpcTransaction[];
  readonly verboseData?: RpcBlockVerboseData | null;
}

/** A block template: header without `hash`; echo it back verbatim to submitBlock. */
export interface RpcRawBlock {
  readonly header: RpcRawHeader;
  readonly transactions: readonly RpcTransaction[];
}

// ---------------------------------------------------------------------------------------
// Node state
// ---------------------------------------------------------------------------------------

/** getServerInfo response. */
export interface RpcServerInfo {
  readonly rpcApiVersion: number;
  readonly rpcApiRevision: number;
  readonly serverVersion: string;
  /** `"mainnet"`, `"testnet-10"`, `"simnet"`, `"devnet"`. */
  readonly networkId: string;
  readonly hasUtxoIndex: boolean;
  readonly isSynced: boolean;
  readonly virtualDaaScore: RpcU64;
}

/** getInfo response. */
export interface RpcInfo {
  readonly p2pId: string;
  readonly mempoolSize: RpcU64;
  readonly serverVersion: string;
  readonly isUtxoIndexed: boolean;
  readonly isSynced: boolean;
  readonly hasNotifyCommand: boolean;
  readonly hasMessageId: boolean;
}

/** getBlockDagInfo response. */
export interface RpcBlockDagInfo {
  readonly network: string;
  readonly blockCount: RpcU64;
  readonly headerCount: RpcU64;
  readonly tipHashes: readonly RpcHex[];
  readonly difficulty: number;
  readonly pastMedianTime: RpcU64;
  readonly virtualParentHashes: readonly RpcHex[];
  readonly pruningPointHash: RpcHex;
  readonly virtualDaaScore: RpcU64;
  readonly sink: RpcHex;
}

/** One fee-estimate bucket. */
export interface RpcFeerateBucket {
  /** sompi per gram (FACTS §4.6). */
  readonly feerate: number;
  readonly estimatedSeconds: number;
}

/** getFeeEstimate `estimate`. */
export interface RpcFeeEstimate {
  readonly priorityBucket: RpcFeerateBucket;
  readonly normalBuckets: readonly RpcFeerateBucket[];
  readonly lowBuckets: readonly RpcFeerateBucket[];
}

/** Note the snake_case `is_orphan` (FACTS §6.2). */
export interface RpcMempoolEntry {
  readonly fee: RpcU64;
  readonly transaction: RpcTransaction;
  readonly is_orphan: boolean;
}

/** Mempool entries spending from (`sending`) and paying to (`receiving`) one address. */
export interface RpcMempoolEntryByAddress {
  readonly address: RpcAddress;
  readonly sending: readonly RpcMempoolEntry[];
  readonly receiving: readonly RpcMempoolEntry[];
}

/** Transaction ids accepted by one chain block. */
export interface RpcAcceptedTransactionIds {
  readonly acceptingBlockHash: RpcHex;
  readonly acceptedTransactionIds: readonly RpcHex[];
}

/** One chain block of getVirtualChainFromBlockV2 with the transactions it accepted. */
export interface RpcChainBlockAcceptedTransactions {
  readonly chainBlockHeader: RpcOptionalHeader;
  readonly acceptedTransactions: readonly RpcOptionalTransaction[];
}

/** getVirtualChainFromBlockV2 verbosity (FACTS §6.5); the node's default is `"Full"`. */
export type RpcDataVerbosityLevel = 'None' | 'Low' | 'High' | 'Full';

/** submitBlock outcome. */
export type RpcSubmitBlockReport =
  | { readonly type: 'success' }
  | { readonly type: 'reject'; readonly reason: 'blockInvalid' | 'isInIBD' | 'routeIsFull' | string };

// ---------------------------------------------------------------------------------------
// Methods: request and response bodies
// ---------------------------------------------------------------------------------------

/** Subscription scopes (the externally tagged `Scope` enum, FACTS §6.4). */
export type RpcScope =
  | { readonly UtxosChanged: { readonly addresses: readonly RpcAddress[] } }
  | { readonly BlockAdded: Record<string, never> }
  | { readonly VirtualChainChanged: { readonly include_accepted_transaction_ids: boolean } }
  | { readonly VirtualDaaScoreChanged: Record<string, never> }
  | { readonly SinkBlueScoreChanged: Record<string, never> }
  | { readonly PruningPointUtxoSetOverride: Record<string, never> }
  | { readonly NewBlockTemplate: Record<string, never> }
  | { readonly FinalityConflict: Record<string, never> }
  | { readonly FinalityConflictResolved: Record<string, never> };

type Empty = Record<string, never>;

/** Every method the client speaks: JSON name → request `params` and response `params`. */
export interface RpcMethods {
  ping: { request: Empty; response: Empty };
  getServerInfo: { request: Empty; response: RpcServerInfo };
  getInfo: { request: Empty; response: RpcInfo };
  getBlockDagInfo: { request: Empty; response: RpcBlockDagInfo };
  getSink: { request: Empty; response: { readonly sink: RpcHex } };
  getUtxosByAddresses: {
    request: { readonly addresses: readonly RpcAddress[] };
    response: { readonly entries: readonly RpcUtxosByAddressesEntry[] };
  };
  getBalanceByAddress: { request: { readonly address: RpcAddress }; response: { readonly balance: RpcU64 } };
  getBalancesByAddresses: {
    request: { readonly addresses: readonly RpcAddress[] };
    response: { readonly entries: readonly RpcBalancesByAddressEntry[] };
  };
  submitTransaction: {
    request: { readonly transaction: RpcTransaction; readonly allowOrphan: boolean };
    response: { readonly transactionId: RpcHex };
  };
  getMempoolEntry: {
    request: {
      readonly transactionId: RpcHex;
      readonly includeOrphanPool: boolean;
      readonly filterTransactionPool: boolean;
    };
    response: { readonly mempoolEntry: RpcMempoolEntry };
  };
  getMempoolEntries: {
    request: { readonly includeOrphanPool: boolean; readonly filterTransactionPool: boolean };
    response: { readonly mempoolEntries: readonly RpcMempoolEntry[] };
  };
  getMempoolEntriesByAddresses: {
    request: {
      readonly addresses: readonly RpcAddress[];
      readonly includeOrphanPool: boolean;
      readonly filterTransactionPool: boolean;
    };
    response: { readonly entries: readonly RpcMempoolEntryByAddress[] };
  };
  getFeeEstimate: { request: Empty; response: { readonly estimate: RpcFeeEstimate } };
  getBlock: {
    request: { readonly hash: RpcHex; readonly includeTransactions: boolean };
    response: { readonly block: RpcBlock };
  };
  getBlocks: {
    request: {
      readonly lowHash: RpcHex | null;
      readonly includeBlocks: boolean;
      readonly includeTransactions: boolean;
    };
    response: { readonly blockHashes: readonly RpcHex[]; readonly blocks: readonly RpcBlock[] };
  };
  getVirtualChainFromBlock: {
    request: {
      readonly startHash: RpcHex;
      readonly includeAcceptedTransactionIds: boolean;
      readonly minConfirmationCount?: RpcU64 | null;
    };
    response: {
      readonly removedChainBlockHashes: readonly RpcHex[];
      readonly addedChainBlockHashes: readonly RpcHex[];
      readonly acceptedTransactionIds: readonly RpcAcceptedTransactionIds[];
    };
  };
  getVirtualChainFromBlockV2: {
    request: {
      readonly startHash: RpcHex;
      readonly dataVerbosityLevel: RpcDataVerbosityLevel;
      readonly minConfirmationCount?: RpcU64 | null;
    };
    response: {
      readonly removedChainBlockHashes: readonly RpcHex[];
      readonly addedChainBlockHashes: readonly RpcHex[];
      readonly chainBlockAcceptedTransactions: readonly RpcChainBlockAcceptedTransactions[];
    };
  };
  getUtxoReturnAddress: {
    request: { readonly txid: RpcHex; readonly acceptingBlockDaaScore: RpcU64 };
    response: { readonly returnAddress: RpcAddress };
  };
  getBlockTemplate: {
    request: { readonly payAddress: RpcAddress; readonly extraData: readonly number[] };
    response: { readonly block: RpcRawBlock; readonly isSynced: boolean };
  };
  submitBlock: {
    request: { readonly block: RpcRawBlock; readonly allowNonDaaBlocks: boolean };
    response: { readonly report: RpcSubmitBlockReport };
  };
  subscribe: { request: RpcScope; response: { readonly id: RpcU64 } };
  unsubscribe: { request: RpcScope; response: Empty };
}

/** A JSON method name the client speaks. */
export type RpcMethod = keyof RpcMethods;

// ---------------------------------------------------------------------------------------
// Notifications (FACTS §6.3, §6.4): `{"method":"<name>","params":{"<Variant>":{…}}}`
// ---------------------------------------------------------------------------------------

/** UtxosChanged body. */
export interface RpcUtxosChangedNotification {
  readonly added: readonly RpcUtxosByAddressesEntry[];
  readonly removed: readonly RpcUtxosByAddressesEntry[];
}

/** BlockAdded body. */
export interface RpcBlockAddedNotification {
  readonly block: RpcBlock;
}

/** VirtualChainChanged body. */
export interface RpcVirtualChainChangedNotification {
  readonly removedChainBlockHashes: readonly RpcHex[];
  readonly addedChainBlockHashes: readonly RpcHex[];
  readonly acceptedTransactionIds: readonly RpcAcceptedTransactionIds[];
}

/** VirtualDaaScoreChanged body. */
export interface RpcVirtualDaaScoreChangedNotification {
  readonly virtualDaaScore: RpcU64;
}

/** SinkBlueScoreChanged body. */
export interface RpcSinkBlueScoreChangedNotification {
  readonly sinkBlueScore: RpcU64;
}

/** Notification variant → body, and the JSON `method` each arrives under. */
export interface RpcNotifications {
  UtxosChanged: RpcUtxosChangedNotification;
  BlockAdded: RpcBlockAddedNotification;
  VirtualChainChanged: RpcVirtualChainChangedNotification;
  VirtualDaaScoreChanged: RpcVirtualDaaScoreChangedNotification;
  SinkBlueScoreChanged: RpcSinkBlueScoreChangedNotification;
}

/** JSON `method` of each notification variant (FACTS §6.3). */
export const NOTIFICATION_METHODS = {
  UtxosChanged: 'utxosChangedNotification',
  BlockAdded: 'blockAddedNotification',
  VirtualChainChanged: 'virtualChainChangedNotification',
  VirtualDaaScoreChanged: 'virtualDaaScoreChangedNotification',
  SinkBlueScoreChanged: 'sinkBlueScoreChangedNotification',
} as const satisfies Record<keyof RpcNotifications, string>;
