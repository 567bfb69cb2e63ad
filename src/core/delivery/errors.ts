/** Typed failures of the delivery engine; callers branch on `code` (STYLE §6). */
import { P2pCommError } from '../../util/errors.ts';
import type { ContactId } from './ports.ts';

/**
 * - UNKNOWN_CONTACT: no contact with that id is known to this client.
 * - UNKNOWN_MESSAGE: no outgoing message with that id exists.
 * - NOT_RETRYABLE: `retry` on a message that has not failed.
 * - INSUFFICIENT_FUNDS: the wallet cannot pay for a chain publication (messages stay queued).
 * - PUBLISH_FAILED: the node refused or could not take a transaction (retried with backoff).
 * - BAD_RECIPIENT: one recipient of a publication cannot be paid (no address on this
 *   network, or a malformed one); thrown as `RecipientError`, naming the contact.
 * - PAYLOAD_PRUNED: a received coin's payload is no longer kept by the node (NOTES §3).
 * - UNDELIVERABLE: a message ran out of republications without a receipt (NOTES §3).
 * - CORRUPT_RECORD: a stored delivery record is malformed.
 * - CLOSED: the engine was closed.
 * - SUPERSEDED: another instance of the same profile changed the stored session state since
 *   this one loaded it; this instance must stop (nothing sealed under the stale state is sent).
 */
export type DeliveryErrorCode =
  | 'UNKNOWN_CONTACT'
  | 'UNKNOWN_MESSAGE'
  | 'NOT_RETRYABLE'
  | 'INSUFFICIENT_FUNDS'
  | 'PUBLISH_FAILED'
  | 'BAD_RECIPIENT'
  | 'PAYLOAD_PRUNED'
  | 'UNDELIVERABLE'
  | 'CORRUPT_RECORD'
  | 'CLOSED'
  | 'SUPERSEDED';

/** Every delivery failure that is not caller misuse (misuse throws TypeError/RangeError). */
export class DeliveryError extends P2pCommError<DeliveryErrorCode> {}

/**
 * BAD_RECIPIENT: `contact` cannot be paid a notification (its card lists no address on this
 * network, or a malformed one). The engine drops that recipient from the publication and
 * publishes for the others: one recipient's failure never holds up another's.
 */
export class RecipientError extends DeliveryError {
  readonly contact: ContactId;

  constructor(contact: ContactId, message: string, options?: { cause?: unknown }) {
    super('BAD_RECIPIENT', message, options);
    this.contact = contact;
  }
}
