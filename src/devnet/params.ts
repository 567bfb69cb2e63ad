/**
 * Consensus and node parameters of the local network: the values `kaspad --simnet` runs with
 * (FACTS §7.2, `consensus/core/src/config/params.rs` SIMNET_PARAMS), so that whatever a client
 * computes against this network (prefixes, maturity, limits, ports) carries over unchanged.
 */
import { hexToBytes } from '../util/bytes.ts';
import type { BlockHash } from '../kaspa/types.ts';

/** Network id as `getServerInfo` / `getBlockDagInfo` report it (FACTS §6.2). */
export const NETWORK_ID = 'simnet';
/** Address prefix of the simulation network (FACTS §1.1). */
export const ADDRESS_PREFIX = 'kaspasim';
/** Server version string reported by getServerInfo/getInfo: the kaspad release this network answers like. */
export const SERVER_VERSION = '2.1.0';
/** Default wRPC JSON port of simnet (FACTS §6.1). */
export const DEFAULT_RPC_PORT = 18510;

/** Simnet genesis hash (FACTS §7.2). Its header is not re-hashed here: the constant is the identity. */
export const GENESIS_HASH = hexToBytes(
  '411f8cd26f3d41aea39e78573927da24d23995705b579f30959b9127e96b79e3',
) as BlockHash;
/** Genesis timestamp in ms (FACTS §7.2). */
export const GENESIS_TIMESTAMP = 0x17c5f62fbb6n;
/** Compact difficulty of every simnet block (FACTS §7.2; PoW is skipped on simnet). */
export const GENESIS_BITS = 0x207fffff;
/** Simnet `max_difficulty_target` (2^255 − 1): the target at difficulty 1. */
export const MAX_DIFFICULTY_TARGET = (1n << 255n) - 1n;

/** Target block interval at 10 BPS (FACTS §0, Crescendo). */
export const TARGET_TIME_PER_BLOCK_MS = 100;
/** Pre-deflationary subsidy per block at 10 BPS: 50 KAS (FACTS §7.2). */
export const BLOCK_SUBSIDY = 5_000_000_000n;
/** Coinbase maturity in DAA score, identical on every network (FACTS §7.2). */
export const COINBASE_MATURITY = 1000n;
/** Pruning depth in blocks (FACTS §6.6): bodies below this depth are discarded. */
export const DEFAULT_PRUNING_DEPTH = 1_080_000;
/** mergeset_size_limit; `10 ×` it bounds a virtual-chain reply (FACTS §6.5). */
export const MERGESET_SIZE_LIMIT = 248;
/** Chain blocks returned per getVirtualChainFromBlock(V2) call (FACTS §6.5). */
/** Most direct parents a block may name on simnet (`max_block_parents`, at least 64 there). */
export const MAX_BLOCK_PARENTS = 64;
/**
 * How long a sink may be old while the node still calls itself synced, on every network but
 * mainnet: target time per block × the difficulty window duration (30,000) / 3
 * (`consensus/core/src/config/params.rs` is_nearly_synced) = 1,000 s at 10 BPS.
 */
export const NEARLY_SYNCED_MS = (TARGET_TIME_PER_BLOCK_MS * 30_000) / 3;
export const MAX_CHAIN_BLOCKS_PER_CALL = 10 * MERGESET_SIZE_LIMIT;
/** Block header version at HEAD (FACTS §0, Toccata: BLOCK_VERSION = 2). */
export const BLOCK_VERSION = 2;

/** Per-block mass limits, each dimension summed separately (FACTS §4.4); also the per-transaction ceilings. */
export { MASS_LIMITS as BLOCK_MASS_LIMITS } from '../kaspa/mass.ts';

/** Consensus per-transaction limits (FACTS §3.1, §4.4). */
export const TX_LIMITS = {
  maxInputs: 1000,
  maxOutputs: 1000,
  maxSignatureScriptLen: 250_000,
  maxScriptPublicKeyLen: 10_000,
  maxCoinbasePayloadLen: 204,
} as const;

/** Maximum per-lane gas a mempool admits (FACTS §3.1). */
export const MAX_GAS_PER_LANE = 1_000_000_000n;

/** DAA score given to UTXO entries created by a transaction still in the mempool (`UNACCEPTED_DAA_SCORE`). */
export const UNACCEPTED_DAA_SCORE = (1n << 64n) - 1n;

/** Subnetwork id of coinbase transactions (FACTS §3.1). */
export const COINBASE_SUBNETWORK_ID: Uint8Array = Uint8Array.of(1, ...new Uint8Array(19));
