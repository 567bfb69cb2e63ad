/**
 * Public API of the Kaspa transaction library: addresses, HD keys, transaction encoding, ids,
 * signature hashes, signing, mass, fees and the builder. No UI or messaging knowledge here.
 */
export * from './types.ts';
export {
  Address,
  AddressError,
  AddressVersion,
  NETWORK_PREFIXES,
  addressToScriptPublicKey,
  scriptPublicKeyToAddress,
  type NetworkPrefix,
} from './address.ts';
export {
  OP,
  P2PK_SIGNATURE_SCRIPT_LENGTH,
  STANDARD_SPK_VERSION,
  p2pkSignatureScript,
  payToPubKey,
  payToPubKeyEcdsa,
  payToScriptHash,
  scriptClass,
  scriptHash,
  scriptPayload,
  type ScriptClass,
} from './script.ts';
export {
  HdError,
  KASPA_COIN_TYPE,
  KASPA_MAINNET_VERSIONS,
  KASPA_TESTNET_VERSIONS,
  KaspaHdWallet,
  seedFromMnemonic,
} from './hd.ts';
export { assertTransaction, isCoinbase, isNativeSubnetwork, MAX_TRANSACTION_VERSION } from './transaction.ts';
export {
  decodeTransaction,
  encodeTransaction,
  transactionHash,
  transactionId,
  type EncodingOptions,
} from './txid.ts';
export {
  SIGHASH_TYPES,
  SigHashType,
  SighashReusedValues,
  ecdsaSignatureHash,
  isStandardSigHashType,
  schnorrSignatureHash,
  signatureHashPreimage,
} from './sighash.ts';
export { SignError, signTransaction, verifyInputSignature, type SignOptions } from './sign.ts';
export {
  MASS_LIMITS,
  P2PK_COMPUTE_BUDGET,
  P2PK_SIG_OP_COUNT,
  STORAGE_MASS_PARAMETER,
  computeMass,
  normalizedMass,
  normalizedTransientMass,
  storageMass,
  storageMassOf,
  transactionSerializedSize,
  transientMass,
} from './mass.ts';
export { MIN_RELAY_FEE_RATE, feeForMass, feeMass, minimumRelayFee } from './fee.ts';
export {
  BuildError,
  DEFAULT_MAX_PAYLOAD_BYTES,
  MAX_ABSORBED_CHANGE,
  MAX_TX_INPUTS,
  buildConsolidation,
  buildMirrorReturn,
  buildSweep,
  buildTransaction,
  notificationAmount,
  smallestSafeOutput,
  type BuildOptions,
  type BuildRequest,
  type BuiltTransaction,
  type CoinReturn,
  type PaymentOutput,
  type TransactionMasses,
} from './builder.ts';

// wRPC JSON client (FACTS §6), UTXO watching and payload fetching.
export { parseJson, stringifyJson, MAX_JSON_DEPTH } from './rpc/json.ts';
export type * from './rpc/wire.ts';
export { NOTIFICATION_METHODS } from './rpc/wire.ts';
export { RpcFieldError } from './rpc/fields.ts';
export {
  blockHashFromRpc,
  hashToRpc,
  mempoolEntryFromRpc,
  mempoolEntryToRpc,
  outpointFromRpc,
  outpointToRpc,
  scriptPublicKeyFromRpc,
  scriptPublicKeyToHex,
  transactionFromRpc,
  transactionToRpc,
  txIdFromRpc,
  u64ToRpc,
  utxoEntryFromRpc,
  utxoEntryToRpc,
  utxosByAddressesEntryFromRpc,
  utxosByAddressesEntryToRpc,
  type AddressedUtxo,
  type MempoolEntry,
} from './rpc/convert.ts';
export type {
  AcceptedTransaction,
  AcceptedTransactionIds,
  Block,
  BlockDagInfo,
  BlockHeader,
  FeeEstimate,
  FeerateBucket,
  MempoolEntriesByAddress,
  NodeInfo,
  ServerInfo,
  SubmitBlockReport,
  UtxosChanged,
  VerboseTransaction,
  VirtualChainChanged,
  VirtualChainV2,
} from './rpc/responses.ts';
export { RpcError, type RpcErrorCode } from './rpc/errors.ts';
export {
  DEFAULT_MAX_FRAME_BYTES,
  defaultWebSocketFactory,
  platformWebSocketFactory,
  systemTimers,
  type Timers,
  type WebSocketFactory,
  type WebSocketLike,
} from './rpc/socket.ts';
export {
  KaspaRpcClient,
  type CallOptions,
  type ChainPosition,
  type KaspaRpcClientEvents,
  type KaspaRpcClientOptions,
  type MempoolQueryOptions,
  type ReconnectGap,
  type ReconnectOptions,
  type Subscription,
} from './rpc/client.ts';
export type { KaspaNode } from './rpc/node.ts';
export {
  NodePool,
  NodePoolError,
  nodeAssignmentKey,
  type DecoyOptions,
  type NodePoolErrorCode,
  type NodePoolEvents,
  type NodePoolOptions,
  type NodeState,
  type NodeStatus,
} from './rpc/pool.ts';
export { UtxoWatcher, outpointKey, type UtxoChange, type UtxoWatcherEvents } from './utxo-watcher.ts';
export {
  PayloadFetcher,
  type PayloadFetchHints,
  type PayloadFetchResult,
  type PayloadFetcherOptions,
  type PayloadSource,
} from './payload-fetch.ts';
