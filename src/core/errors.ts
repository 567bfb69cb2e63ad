/**
 * Typed errors of the messaging core. Callers branch on `code`, never on message text
 * (STYLE §6). Structural problems in bytes (truncated, trailing, unknown version) are the
 * shared `DecodeError`; the classes below say what is wrong with well-formed data.
 */
import { P2pCommError } from '../util/errors.ts';

/** The vault could not be opened: wrong password, or bytes that are not an intact vault. */
export class VaultError extends P2pCommError<
  'WRONG_PASSWORD' | 'CORRUPTED' | 'UNSUPPORTED_VERSION' | 'KDF_LIMIT' | 'EMPTY_PASSWORD'
> {}

/** A typed recovery key was rejected; `position` (1-based word index) when one word is at fault. */
export class RecoveryKeyError extends P2pCommError<'WORD_COUNT' | 'UNKNOWN_WORD' | 'CHECKSUM'> {
  readonly position: number | undefined;

  constructor(code: RecoveryKeyError['code'], message: string, position?: number) {
    super(code, message);
    this.position = position;
  }
}

/** A peer ID text could not be parsed. */
export class PeerIdError extends P2pCommError<'BAD_FORMAT' | 'BAD_CHECKSUM' | 'BAD_LENGTH'> {}

/** A contact card is well formed but not acceptable (signature, content rules, link form). */
export class ContactCardError extends P2pCommError<
  'BAD_SIGNATURE' | 'BAD_LINK' | 'INVALID_FIELD' | 'IDENTITY_MISMATCH' | 'STALE_VERSION' | 'WRONG_NETWORK'
> {}

/**
 * A session message could not be accepted. DUPLICATE is not here on purpose: a second copy
 * of a delivered message is a normal outcome (P2P and chain both deliver), not an error.
 */
export class SessionError extends P2pCommError<
  | 'UNKNOWN_SESSION'
  | 'DECRYPT_FAILED'
  | 'TOO_MANY_SKIPPED'
  | 'BAD_STATE'
  | 'SENDER_MISMATCH'
  | 'EXPIRED'
  /** A first-contact frame of a session this side already started once (X3DH §4.2). */
  | 'REPLAY'
  /** The contact's card lacks its post-quantum pre-key (a compact card): no session can start from it. */
  | 'NO_PREKEY'
  /** A first-contact frame of a format version this client does not speak. */
  | 'UNSUPPORTED_VERSION'
  /** A first-contact frame names a one-time pre-key another session already consumed. */
  | 'ONE_TIME_KEY_USED'
  /** A one-time pre-key batch whose signature does not verify (forged, altered, or for someone else). */
  | 'BAD_SIGNATURE'
> {}

/** An envelope was well formed but refused by policy (replay, clock window, size). */
export class EnvelopeError extends P2pCommError<'REPLAY' | 'TOO_OLD' | 'FROM_FUTURE' | 'TOO_LARGE'> {}
