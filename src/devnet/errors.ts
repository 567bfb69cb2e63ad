/** Typed errors of the local network; callers branch on `code` (STYLE §6). */
import { P2pCommError } from '../util/errors.ts';

/** Codes raised by the local network's state machine and store. */
export type DevnetErrorCode =
  'TX_REJECTED' | 'NOT_FOUND' | 'PRUNED' | 'BAD_REQUEST' | 'STORE_CORRUPT' | 'STOPPED';

/** An error of the local network. `message` is the text a real node would put on the wire. */
export class DevnetError extends P2pCommError<DevnetErrorCode> {}

/**
 * A transaction the mempool refused. `reason` is the rule text of rusty-kaspa
 * (`mining/errors/src/mempool.rs`, `consensus/core/src/errors/tx.rs`); `message` is the RPC text
 * `Rejected transaction <txid>: <reason>` (`rpc/core/src/error.rs`).
 */
export class TxRejectedError extends DevnetError {
  readonly txId: string;
  readonly reason: string;
  /** Which rule failed, for tests and callers that must not parse text. */
  readonly rule: RejectRule;

  constructor(txId: string, rule: RejectRule, reason: string) {
    super('TX_REJECTED', `Rejected transaction ${txId}: ${reason}`);
    this.txId = txId;
    this.rule = rule;
    this.reason = reason;
  }
}

/** The rule a rejected transaction broke. */
export type RejectRule =
  | 'already-accepted'
  | 'duplicate'
  | 'isolation'
  | 'compute-mass'
  | 'transient-mass'
  | 'storage-mass'
  | 'storage-mass-incomputable'
  | 'non-standard'
  | 'orphan'
  | 'immature-spend'
  | 'spend-too-high'
  | 'not-finalized'
  | 'signature'
  | 'insufficient-fee'
  | 'double-spend';
