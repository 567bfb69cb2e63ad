/**
 * What the wallet-side code (UtxoWatcher, PayloadFetcher, the chain adapter, the app's status
 * line) uses of a node connection. Both one `KaspaRpcClient` and a `NodePool` over several
 * nodes provide it, so either can be passed wherever a `KaspaNode` is asked for.
 */
import type { KaspaRpcClient } from './client.ts';

/** Methods a wallet needs from "the node"; mining and node-administration calls are left out. */
export type KaspaNode = Pick<
  KaspaRpcClient,
  | 'on'
  | 'isConnected'
  | 'position'
  | 'connect'
  | 'close'
  | 'ping'
  | 'getServerInfo'
  | 'getBlockDagInfo'
  | 'getSink'
  | 'getFeeEstimate'
  | 'getUtxosByAddresses'
  | 'getBalancesByAddresses'
  | 'getMempoolEntriesByAddresses'
  | 'getMempoolEntry'
  | 'submitTransaction'
  | 'getBlock'
  | 'getVirtualChainFromBlockV2'
  | 'subscribeUtxosChanged'
  | 'subscribeBlockAdded'
  | 'subscribeVirtualChainChanged'
>;
