/**
 * Typed errors of the several-devices core (docs/devices.md). Callers branch on `code`,
 * never on message text (STYLE §6); messages are written to be shown to the person as they
 * are, since linking is something a person does with two screens in hand.
 */
import { P2pCommError } from '../../util/errors.ts';

/** A device list, link code or device-to-device transfer was refused. */
export class DeviceError extends P2pCommError<
  /** A device list whose identity signature does not verify (forged or altered). */
  | 'BAD_SIGNATURE'
  /** A device list, link code or linking peer of another identity than the one expected. */
  | 'WRONG_IDENTITY'
  /** A device list not newer than the one kept (a replay), or a rival one of the same counter. */
  | 'STALE_COUNTER'
  /** The sending device is not in its own verified device list (it was removed). */
  | 'NOT_LISTED'
  /** A link code past its expiry time. */
  | 'LINK_EXPIRED'
  /** A link code that already linked a device. */
  | 'LINK_REPLAYED'
  /** A link code this device never showed, or one it no longer holds. */
  | 'LINK_UNKNOWN'
  /** A link code being used by another new device. */
  | 'LINK_IN_USE'
  /** A link code whose check bytes do not match (mistyped, badly scanned, altered). */
  | 'LINK_DAMAGED'
  /** The other end does not hold the link secret, or altered what it sent. */
  | 'LINK_AUTH_FAILED'
  /** The person has the most devices a list may hold. */
  | 'DEVICE_LIMIT'
  /** The other end broke the linking protocol (unexpected, oversized or malformed frame). */
  | 'PROTOCOL'
  /** The channel closed before the step finished (the transfer can be resumed). */
  | 'CHANNEL_CLOSED'
  /** The caller aborted the step. */
  | 'ABORTED'
> {}
