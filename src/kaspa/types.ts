/**
 * Kaspa transaction data model (FACTS §3.1), shared by the builder, the signer, the wRPC
 * JSON converters and the local network. Amounts, sequences, lock times, gas and DAA scores
 * are u64 on the wire and so are bigint here: MAX_SOMPI and u64::MAX exceed 2^53 (FACTS §6.2).
 */

declare const brand: unique symbol;
/** A 32-byte transaction id in stored byte order (FACTS §3.2: hex is not reversed). */
export type TxId = Uint8Array & { readonly [brand]: 'TxId' };
/** A 32-byte block hash. */
export type BlockHash = Uint8Array & { readonly [brand]: 'BlockHash' };

export interface Outpoint {
  readonly transactionId: TxId;
  readonly index: number;
}

/** Script public key; `version` is u16 (0 for every standard script, FACTS §1.4). */
export interface ScriptPublicKey {
  readonly version: number;
  readonly script: Uint8Array;
}

/** v1-only output covenant binding (Toccata). */
export interface Covenant {
  readonly authorizingInput: number;
  readonly covenantId: Uint8Array;
}

export interface TxInput {
  readonly previousOutpoint: Outpoint;
  readonly signatureScript: Uint8Array;
  readonly sequence: bigint;
  /** v0 only (u8); must be 0 in v1. */
  readonly sigOpCount: number;
  /** v1 only (u16); must be 0 in v0 (FACTS §3.6: 10 for a P2PK spend). */
  readonly computeBudget: number;
}

export interface TxOutput {
  readonly value: bigint;
  readonly scriptPublicKey: ScriptPublicKey;
  readonly covenant?: Covenant;
}

export interface Transaction {
  /** 0 or 1 (FACTS §0). */
  readonly version: number;
  readonly inputs: readonly TxInput[];
  readonly outputs: readonly TxOutput[];
  readonly lockTime: bigint;
  /** 20 bytes; native = all zero. */
  readonly subnetworkId: Uint8Array;
  readonly gas: bigint;
  readonly payload: Uint8Array;
  /** Storage-mass commitment (KIP-9); not part of the id nor the sighash (FACTS §3.1). */
  readonly storageMass: bigint;
}

export interface UtxoEntry {
  readonly amount: bigint;
  readonly scriptPublicKey: ScriptPublicKey;
  readonly blockDaaScore: bigint;
  readonly isCoinbase: boolean;
  readonly covenantId?: Uint8Array;
}

/** A spendable coin: where it is and what it holds. */
export interface Utxo {
  readonly outpoint: Outpoint;
  readonly entry: UtxoEntry;
}

export const SOMPI_PER_KAS = 100_000_000n;
/** 29e9 KAS (FACTS §3.1). */
export const MAX_SOMPI = 29_000_000_000n * SOMPI_PER_KAS;
export const NATIVE_SUBNETWORK_ID: Uint8Array = new Uint8Array(20);
