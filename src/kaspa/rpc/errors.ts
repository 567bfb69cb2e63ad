/** Typed failures of the Kaspa wRPC client; callers branch on `code`, never on text (STYLE §6). */
import { P2pCommError } from '../../util/errors.ts';
import { hexToBytes } from '../../util/bytes.ts';
import type { TxId } from '../types.ts';

/**
 * - TIMEOUT: no answer within the call's `timeoutMs`.
 * - ABORTED: the caller's AbortSignal fired.
 * - CONNECTION_CLOSED: the socket closed while the call was in flight, or the client was closed.
 * - NOT_CONNECTED: the client was never connected or has been closed.
 * - CONNECT_FAILED: no node URL could be reached (only from `connect()`).
 * - SERVER_ERROR: the node answered with an error; `serverMessage` is its text.
 * - REJECTED_TRANSACTION: the node refused a transaction; `rejectedTxId`/`rejectReason` are parsed.
 * - MALFORMED_RESPONSE: a frame or result that does not match FACTS §6.
 * - FRAME_TOO_LARGE: the node sent a frame over the client's `maxFrameBytes`; the calls in
 *   flight fail with it and the connection is replaced.
 */
export type RpcErrorCode =
  | 'TIMEOUT'
  | 'ABORTED'
  | 'CONNECTION_CLOSED'
  | 'NOT_CONNECTED'
  | 'CONNECT_FAILED'
  | 'SERVER_ERROR'
  | 'REJECTED_TRANSACTION'
  | 'MALFORMED_RESPONSE'
  | 'FRAME_TOO_LARGE';

/** A wRPC call or connection failure. */
export class RpcError extends P2pCommError<RpcErrorCode> {
  /** JSON method of the failed call, when there was one. */
  readonly method: string | undefined;
  /** The node's own error text (SERVER_ERROR, REJECTED_TRANSACTION). */
  readonly serverMessage: string | undefined;
  /** REJECTED_TRANSACTION only: the id named by the node. */
  readonly rejectedTxId: TxId | undefined;
  /** REJECTED_TRANSACTION only: the node's reason text after the id. */
  readonly rejectReason: string | undefined;

  constructor(
    code: RpcErrorCode,
    message: string,
    details: {
      method?: string;
      serverMessage?: string;
      rejectedTxId?: TxId;
      rejectReason?: string;
      cause?: unknown;
    } = {},
  ) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.method = details.method;
    this.serverMessage = details.serverMessage;
    this.rejectedTxId = details.rejectedTxId;
    this.rejectReason = details.rejectReason;
  }
}

// kaspad: RpcError::RejectedTransaction(id, reason) displays "Rejected transaction {id}: {reason}"
// (FACTS §6.2). Not anchored at the start: wrappers may prefix the text.
const REJECTED_RE = /Rejected transaction ([0-9a-fA-F]{64}): ?([\s\S]*)$/;

/** Builds the typed error for a node error frame, recognising transaction rejections. */
export function serverError(method: string, message: string): RpcError {
  const m = REJECTED_RE.exec(message);
  if (m) {
    return new RpcError('REJECTED_TRANSACTION', `${method}: ${message}`, {
      method,
      serverMessage: message,
      rejectedTxId: hexToBytes(m[1]!.toLowerCase()) as TxId,
      rejectReason: m[2]!,
    });
  }
  return new RpcError('SERVER_ERROR', `${method}: ${message}`, { method, serverMessage: message });
}
