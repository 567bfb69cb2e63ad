/**
 * What each network means to the web app: its address prefix, wallet key versions, default
 * node, and whether a local faucet may be asked for coins. Only `local` (the devnet/simnet
 * of `npm start`) ever has a faucet: on testnet and mainnet coins come from the user.
 */
import type { NetworkPrefix } from '../../kaspa/address.ts';
import { TOP_UP_URL, type NetworkId } from '../app-api.ts';

/** Per-network constants. */
export interface NetworkProfile {
  /** Address prefix (FACTS §2.1). */
  readonly prefix: NetworkPrefix;
  /** Extended-key versions of the HD wallet (FACTS §2.3: testnet keys on every test network). */
  readonly wallet: 'mainnet' | 'testnet';
  /** Node tried when the user has not chosen one: the wRPC JSON port on this machine (FACTS §6.1 port table). */
  readonly defaultNodeUrl: string;
  /** What `getServerInfo` reports as `networkId` there; a node reporting another is refused (NodePool). */
  readonly networkId: string;
  /**
   * Public wRPC JSON nodes offered beside the user's own (docs/privacy.md "What a node
   * operator learns"): operated by third parties, not checked by this project, and left out
   * when the user chooses to use only their own node.
   */
  readonly publicNodeUrls: readonly string[];
  /** Whether the local faucet may be asked to fund a new identity. */
  readonly hasLocalFaucet: boolean;
  /** Where "Add funds" links out to buy coins: mainnet only, where coins have a price (NOTES §7). */
  readonly topUpUrl?: string;
  /** Public block explorer page of a transaction is this prefix plus the tx id in hex; none locally. */
  readonly explorerTxBase?: string;
}

/** Every network the app runs on. */
export const NETWORKS: Readonly<Record<NetworkId, NetworkProfile>> = {
  local: {
    prefix: 'kaspasim',
    wallet: 'testnet',
    defaultNodeUrl: 'ws://127.0.0.1:18510',
    networkId: 'simnet',
    publicNodeUrls: [],
    hasLocalFaucet: true,
  },
  'testnet-10': {
    prefix: 'kaspatest',
    wallet: 'testnet',
    defaultNodeUrl: 'ws://127.0.0.1:18210',
    networkId: 'testnet-10',
    // Nodes of the community Public Node Network with a fixed testnet-10 address.
    publicNodeUrls: [
      'wss://vector-10.kaspa.green/kaspa/testnet-10/wrpc/json',
      'wss://muon-10.kaspa.blue/kaspa/testnet-10/wrpc/json',
    ],
    hasLocalFaucet: false,
    explorerTxBase: 'https://explorer-tn10.kaspa.org/txs/',
  },
  mainnet: {
    prefix: 'kaspa',
    wallet: 'mainnet',
    defaultNodeUrl: 'ws://127.0.0.1:18110',
    networkId: 'mainnet',
    // None shipped: mainnet public nodes are handed out by resolvers, not at fixed addresses.
    publicNodeUrls: [],
    hasLocalFaucet: false,
    topUpUrl: TOP_UP_URL,
    explorerTxBase: 'https://explorer.kaspa.org/txs/',
  },
};

/**
 * Nodes for a profile on `network`: the user's own (`ownNodeUrls`, else this machine's
 * default port) first, then the public ones unless `ownNodesOnly`. Duplicates are dropped.
 */
export function defaultNodeUrls(
  network: NetworkId,
  opts: { readonly ownNodeUrls?: readonly string[]; readonly ownNodesOnly?: boolean } = {},
): string[] {
  const profile = NETWORKS[network];
  const own =
    opts.ownNodeUrls !== undefined && opts.ownNodeUrls.length > 0
      ? opts.ownNodeUrls
      : [profile.defaultNodeUrl];
  return [...new Set([...own, ...(opts.ownNodesOnly === true ? [] : profile.publicNodeUrls)])];
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Whether `url` parses and points at this machine (loopback only). */
export function isLoopbackUrl(url: string, protocols: readonly string[]): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return protocols.includes(u.protocol) && LOOPBACK_HOSTS.has(u.hostname);
}

/** Path of the local faucet on the app's own origin (served by local-origin.ts). */
export const LOCAL_FUND_PATH = '/devnet/fund';

/** Name of the meta tag by which a page served beside the local faucet names its route (config.ts). */
export const LOCAL_FAUCET_META = 'p2pcomm-local-faucet';
