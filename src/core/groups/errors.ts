/**
 * Typed errors of the group core (docs/groups.md). Callers branch on `code`, never on message
 * text (STYLE §6). Structural problems in bytes are the shared `DecodeError`; these say what is
 * wrong with a well-formed, possibly well-signed, change, distribution or group frame.
 */
import { P2pCommError } from '../../util/errors.ts';

/** A group change, sender key distribution or group message was refused. */
export class GroupError extends P2pCommError<
  /** A change or group frame whose signature does not verify (forged or altered). */
  | 'BAD_SIGNATURE'
  /** A change, distribution or frame of another group than the one it was given to. */
  | 'WRONG_GROUP'
  /** The author of a change, or the sender of a key or message, is not (or was never) a member. */
  | 'NOT_MEMBER'
  /** The author or sender was a member and has been removed or has left. */
  | 'REMOVED_MEMBER'
  /** A membership, admin or name change by a member who is not an admin. */
  | 'NOT_ADMIN'
  /** The change would leave members without an admin. */
  | 'LAST_ADMIN'
  /** An add naming a current member, a promotion of an admin, a demotion of a non-admin. */
  | 'NO_CHANGE'
  /** The group would exceed `MAX_GROUP_MEMBERS`. */
  | 'MEMBER_LIMIT'
  /** A change whose causal depth does not follow from its parents (a lie about its place). */
  | 'BAD_DEPTH'
  /** More changes wait for missing parents than a group keeps (`MAX_WAITING_CHANGES`). */
  | 'TOO_MANY_WAITING'
  /** A group frame whose sender key is further ahead than `MAX_SKIPPED_KEYS` allows. */
  | 'TOO_MANY_SKIPPED'
  /** A group frame whose tag matched but whose ciphertext does not open. */
  | 'DECRYPT_FAILED'
  /** A sender key distribution older than the one kept for that sender (a replay). */
  | 'STALE_KEY'
> {}
