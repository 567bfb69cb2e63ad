/**
 * What each network means to the web app: its address prefix, wallet key versions, default
 * node, and whether a local faucet may be asked for coins. Only `local` (the devnet/simnet
 * of `npm start`) ever has a faucet: on testnet and mainnet coins come from the user.
 */
import type { NetworkPrefix } from '../../kaspa/address.ts';
import type { NetworkId } from '../app-api.ts';

/** Per-network constants. */
export interface NetworkProfile {
  /** Address prefix (FACTS §2.1). */
  readonly prefix: NetworkPrefix;
  /** Extended-key versions of the HD wallet (FACTS §2.3: testnet keys on every test network). */
  readonly wallet: 'mainnet' | 'testnet';
  /** Node tried when the user has not chosen one: the wRPC JSON port on this machine (FACTS §6.1 port table). */
  readonly defaultNodeUrl: string;
  /** Whether the local faucet may be asked to fund a new identity. */
  readonly hasLocalFaucet: boolean;
}

/** Every network the app runs on. */
export const NETWORKS: Readonly<Record<NetworkId, NetworkProfile>> = {
  local: {
    prefix: 'kaspasim',
    wallet: 'testnet',
    defaultNodeUrl: 'ws://127.0.0.1:18510',
    hasLocalFaucet: true,
  },
  'testnet-10': {
    prefix: 'kaspatest',
    wallet: 'testnet',
    defaultNodeUrl: 'ws://127.0.0.1:18210',
    hasLocalFaucet: false,
  },
  mainnet: {
    prefix: 'kaspa',
    wallet: 'mainnet',
    defaultNodeUrl: 'ws://127.0.0.1:18110',
    hasLocalFaucet: false,
  },
};

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
