/**
 * Message actions: reply, reaction, edit, delete for everyone and forward, as carried by a
 * message of their own (envelope types 1, 10, 11, 12 and 14; docs/protocol.md "Envelope types
 * 10, 11, 12 and 14: message actions"). This module decides who may do what to which message;
 * `fold.ts` applies what is allowed to a conversation's stored records.
 *
 * Authority comes from the session alone: a frame opened under the session with a contact
 * was written by that contact, so "the sender wrote the target" is "the target is in the
 * same direction as the action" (both incoming from that contact, or both our own).
 */
import { P2pCommError } from '../../util/errors.ts';
import { MESSAGE_REACTIONS } from '../envelope/envelope.ts';

/** How long after writing a message its author may still edit it (Unix ms difference). */
export const EDIT_WINDOW_MS = 24 * 3600_000;

/** The reaction set in wire order: reaction `n` (1..6) is `REACTIONS[n - 1]`; 0 takes one back. */
export const REACTIONS: readonly string[] = MESSAGE_REACTIONS;

/**
 * - STRANGER: the action comes from someone who is not a contact (never applied).
 * - UNKNOWN_TARGET: no message with the target id is held in this conversation.
 * - NOT_SENDER: an edit or delete of a message its sender did not write.
 * - EDIT_WINDOW: an edit later than `EDIT_WINDOW_MS` after the message was written.
 * - DELETED: an edit of, or reaction to, a message deleted for everyone.
 * - NOT_A_MESSAGE: the target is itself an action (a reaction, edit or deletion).
 * - BAD_REACTION: a reaction outside 0..6.
 */
export type MessageActionErrorCode =
  'STRANGER' | 'UNKNOWN_TARGET' | 'NOT_SENDER' | 'EDIT_WINDOW' | 'DELETED' | 'NOT_A_MESSAGE' | 'BAD_REACTION';

/** A refused message action; nothing was changed. */
export class MessageActionError extends P2pCommError<MessageActionErrorCode> {}

/** What a stored message is, beyond plain text (absent: a plain chat message). */
export type MessageAction =
  | { readonly kind: 'reply'; readonly target: string }
  | { readonly kind: 'forwarded' }
  | { readonly kind: 'reaction'; readonly target: string; readonly reaction: number }
  | { readonly kind: 'edit'; readonly target: string }
  | { readonly kind: 'delete'; readonly target: string };

/** The part of a stored message record that actions read (the engine's records have it). */
export interface ActionRecord {
  readonly direction: 'in' | 'out';
  /** 32 hex characters. */
  readonly id: string;
  /** The writer's clock, Unix ms. */
  readonly sentAt: number;
  readonly text: string;
  readonly action?: MessageAction;
  /**
   * Set when the text was removed from storage: deleted for everyone (by its writer), or for
   * this device only (hidden from the conversation).
   */
  readonly redacted?: 'deleted' | 'hidden';
}

/** Whether a record is shown as a message of its own (reactions, edits, deletions are not). */
export function isShown(r: ActionRecord): boolean {
  const k = r.action?.kind;
  return (k === undefined || k === 'reply' || k === 'forwarded') && r.redacted !== 'hidden';
}

/**
 * Checks that the writer of `action` (direction `actor`, written at `at` by its clock) may
 * apply it to `target` (undefined when not held); throws MessageActionError otherwise.
 * `deleted` says whether the target was deleted for everyone already.
 */
export function checkAction(
  actor: 'in' | 'out',
  action: MessageAction,
  at: number,
  target: ActionRecord | undefined,
  deleted = false,
): void {
  if (action.kind === 'forwarded') return;
  if (
    action.kind === 'reaction' &&
    !(Number.isInteger(action.reaction) && action.reaction >= 0 && action.reaction <= REACTIONS.length)
  )
    throw new MessageActionError('BAD_REACTION', `reaction ${action.reaction} is not in the set`);
  if (target === undefined)
    throw new MessageActionError('UNKNOWN_TARGET', `no message ${action.target} here`);
  const k = target.action?.kind;
  if (k === 'reaction' || k === 'edit' || k === 'delete')
    throw new MessageActionError('NOT_A_MESSAGE', `message ${action.target} is a ${k}, not a message`);
  if (action.kind === 'reply') return;
  if ((action.kind === 'edit' || action.kind === 'delete') && target.direction !== actor)
    throw new MessageActionError('NOT_SENDER', `only the sender of ${action.target} may ${action.kind} it`);
  if (deleted || target.redacted === 'deleted') {
    if (action.kind === 'delete') return;
    throw new MessageActionError('DELETED', `message ${action.target} was deleted`);
  }
  if (action.kind === 'edit' && at - target.sentAt > EDIT_WINDOW_MS)
    throw new MessageActionError('EDIT_WINDOW', `message ${action.target} is too old to edit`);
}
