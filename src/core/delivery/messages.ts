/**
 * Message records as the engine keeps and shows them: statuses, routes and the chain proof.
 * Stored as versioned JSON values under the `KeyValueStore` (the encrypted-at-rest wrapper
 * encrypts values; keys hold no secret: contact id, sequence number, random message id).
 */
import { bytesToUtf8, utf8ToBytes } from '../../util/bytes.ts';
import type { MessageAction } from '../messages/actions.ts';
import { isDisappearingSeconds, type DisappearingSeconds } from '../disappearing/timer.ts';
import { DeliveryError } from './errors.ts';
import type { ContactId } from './ports.ts';

/**
 * Progress of an outgoing message:
 * queued = not yet handed to a path (or waiting for funds); sent = written to a direct link;
 * published = in a Kaspa transaction (proof kept); delivered = the recipient's receipt
 * arrived; read = its read receipt arrived; failed = gave up (the user can retry).
 */
export type OutgoingStatus = 'queued' | 'sent' | 'published' | 'delivered' | 'read' | 'failed';

/** The path that carried a message (last one used, for outgoing). */
export type Route = 'direct' | 'chain';

/** Why an outgoing message failed. */
export type FailureReason =
  /** Publication kept failing (node refused or unreachable) past the retry budget. */
  | 'publish'
  /** Republished until the retry budget ran out without a receipt (NOTES §3). */
  | 'undeliverable'
  /**
   * No transaction can pay the recipient: its card lists no usable address on this client's
   * network. Failed at once (retrying cannot help) and never holds up other recipients.
   */
  | 'unreachable';

/** Chain evidence of a published message (NOTES §7). */
export interface ChainProof {
  /** Transaction id, 64 hex characters (the latest publication). */
  readonly txId: string;
  /** Unix ms when the node took the transaction. */
  readonly publishedAt: number;
  /** Accepting chain block, 64 hex, once accepted. */
  readonly acceptingBlockHash?: string;
  /** DAA score of the accepting block, once accepted. */
  readonly acceptingDaaScore?: bigint;
}

/** A message this client wrote. */
export interface OutgoingMessage {
  readonly direction: 'out';
  /** 128-bit random id, 32 hex characters. */
  readonly id: string;
  readonly contact: ContactId;
  /** Sequence number in this conversation, from 1. */
  readonly seq: number;
  /** Unix ms when written. */
  readonly sentAt: number;
  readonly text: string;
  /** A reply, forward, reaction, edit or deletion (core/messages); absent: a plain message. */
  readonly action?: MessageAction;
  /** A change of the disappearing timer to these seconds (envelope type 15); `text` is "". */
  readonly timer?: DisappearingSeconds;
  /**
   * An attachment (core/attachments) whose id is this message's id; `text` is "". Its bytes
   * and manifest are the attachment store's; the attachment service moves its status.
   */
  readonly attachment?: true;
  /** Set once the text was removed from storage (deleted for everyone, or for this device). */
  readonly redacted?: 'deleted' | 'hidden';
  readonly status: OutgoingStatus;
  readonly route?: Route;
  readonly proof?: ChainProof;
  /** Chain publications made so far (first one and republications). */
  readonly publications: number;
  /** Failed publication attempts since the last success (drives the backoff). */
  readonly attempts: number;
  /** When the next publication or republication is due (Unix ms), if one is planned. */
  readonly dueAt?: number;
  readonly failure?: FailureReason;
}

/** A message a contact wrote. */
export interface IncomingMessage {
  readonly direction: 'in';
  readonly id: string;
  readonly contact: ContactId;
  /** The sender's clock, Unix ms (orders the conversation with `id`). */
  readonly sentAt: number;
  readonly text: string;
  /** A reply, forward, reaction, edit or deletion (core/messages); absent: a plain message. */
  readonly action?: MessageAction;
  /** A change of the disappearing timer to these seconds (envelope type 15); `text` is "". */
  readonly timer?: DisappearingSeconds;
  /** An attachment whose id is this message's id (as `OutgoingMessage.attachment`). */
  readonly attachment?: true;
  /** Set once the text was removed from storage (deleted for everyone, or for this device). */
  readonly redacted?: 'deleted' | 'hidden';
  /** Unix ms when this client first stored it. */
  readonly receivedAt: number;
  /** The path it first arrived by. */
  readonly route: Route;
  /** Whether the user has seen it (markRead). */
  readonly read: boolean;
}

/** Either direction, as a conversation lists them. */
export type Message = OutgoingMessage | IncomingMessage;

/**
 * 2 adds `action` and `redacted`, 3 adds `timer`, 4 adds `attachment` (docs/protocol.md
 * "Message record"); a version-1 record reads as a plain, unredacted message, a version-2 one
 * as no timer change, a version-3 one as no attachment.
 */
const RECORD_VERSION = 4;
const READABLE_VERSIONS: readonly unknown[] = [1, 2, 3, 4];
const HEX_ID = /^[0-9a-f]{32}$/;

/** Serializes a record for storage. */
export function encodeMessage(m: Message): Uint8Array {
  const proof =
    m.direction === 'out' && m.proof
      ? { ...m.proof, acceptingDaaScore: m.proof.acceptingDaaScore?.toString() }
      : undefined;
  return utf8ToBytes(JSON.stringify({ v: RECORD_VERSION, ...m, proof }));
}

function fail(what: string): never {
  throw new DeliveryError('CORRUPT_RECORD', `stored message record: ${what}`);
}

function str(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  if (typeof v !== 'string') fail(`"${k}" is not a string`);
  return v;
}

function int(o: Record<string, unknown>, k: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`"${k}" is not a count`);
  return v;
}

function oneOf<T extends string>(o: Record<string, unknown>, k: string, values: readonly T[]): T {
  const v = o[k];
  if (!values.includes(v as T)) fail(`"${k}" has an unknown value`);
  return v as T;
}

/** The version-2 fields, from version 3 `timer` and from version 4 `attachment`, checked. */
function extras(r: Record<string, unknown>): Pick<Message, 'action' | 'redacted' | 'timer' | 'attachment'> {
  const out: {
    action?: MessageAction;
    redacted?: 'deleted' | 'hidden';
    timer?: DisappearingSeconds;
    attachment?: true;
  } = {};
  if (r['redacted'] !== undefined) out.redacted = oneOf(r, 'redacted', ['deleted', 'hidden'] as const);
  if (r['v'] === 4 && r['attachment'] !== undefined) {
    if (r['attachment'] !== true) fail('"attachment" is not true');
    if (r['action'] !== undefined || r['timer'] !== undefined) fail('"attachment" with an action or timer');
    if (r['text'] !== '') fail('"attachment" with a text');
    out.attachment = true;
  }
  if ((r['v'] === 3 || r['v'] === 4) && r['timer'] !== undefined) {
    const t = r['timer'];
    if (!isDisappearingSeconds(t)) fail('"timer" is not a disappearing timer');
    if (r['action'] !== undefined) fail('"timer" with an "action"');
    out.timer = t;
  }
  const a = r['action'];
  if (a === undefined) return out;
  if (typeof a !== 'object' || a === null) fail('"action" is not an object');
  const o = a as Record<string, unknown>;
  const kind = oneOf(o, 'kind', ['reply', 'forwarded', 'reaction', 'edit', 'delete'] as const);
  if (kind === 'forwarded') out.action = { kind };
  else {
    const target = str(o, 'target');
    if (!HEX_ID.test(target)) fail('"action.target" is not a message id');
    if (kind === 'reaction') {
      const reaction = int(o, 'reaction');
      if (reaction > 6) fail('"action.reaction" is out of range');
      out.action = { kind, target, reaction };
    } else out.action = { kind, target };
  }
  return out;
}

/** Parses a stored record; anything malformed is DeliveryError CORRUPT_RECORD. */
export function decodeMessage(bytes: Uint8Array): Message {
  let o: unknown;
  try {
    o = JSON.parse(bytesToUtf8(bytes));
  } catch (cause) {
    throw new DeliveryError('CORRUPT_RECORD', 'stored message record is not JSON', { cause });
  }
  if (typeof o !== 'object' || o === null) fail('not an object');
  const r = o as Record<string, unknown>;
  if (!READABLE_VERSIONS.includes(r['v'])) fail(`unknown version ${String(r['v'])}`);
  const base = {
    id: str(r, 'id'),
    contact: str(r, 'contact'),
    sentAt: int(r, 'sentAt'),
    text: str(r, 'text'),
    ...(r['v'] === 1 ? {} : extras(r)),
  };
  if (r['direction'] === 'in') {
    return {
      direction: 'in',
      ...base,
      receivedAt: int(r, 'receivedAt'),
      route: oneOf(r, 'route', ['direct', 'chain'] as const),
      read: r['read'] === true,
    };
  }
  if (r['direction'] !== 'out') fail('unknown direction');
  const out: {
    -readonly [K in keyof OutgoingMessage]: OutgoingMessage[K];
  } = {
    direction: 'out',
    ...base,
    seq: int(r, 'seq'),
    status: oneOf(r, 'status', ['queued', 'sent', 'published', 'delivered', 'read', 'failed'] as const),
    publications: int(r, 'publications'),
    attempts: int(r, 'attempts'),
  };
  if (r['route'] !== undefined) out.route = oneOf(r, 'route', ['direct', 'chain'] as const);
  if (r['dueAt'] !== undefined) out.dueAt = int(r, 'dueAt');
  if (r['failure'] !== undefined)
    out.failure = oneOf(r, 'failure', ['publish', 'undeliverable', 'unreachable'] as const);
  const p = r['proof'];
  if (p !== undefined) {
    if (typeof p !== 'object' || p === null) fail('"proof" is not an object');
    const pr = p as Record<string, unknown>;
    const proof: { -readonly [K in keyof ChainProof]: ChainProof[K] } = {
      txId: str(pr, 'txId'),
      publishedAt: int(pr, 'publishedAt'),
    };
    if (pr['acceptingBlockHash'] !== undefined) proof.acceptingBlockHash = str(pr, 'acceptingBlockHash');
    if (pr['acceptingDaaScore'] !== undefined) {
      const s = str(pr, 'acceptingDaaScore');
      if (!/^\d{1,20}$/.test(s)) fail('"acceptingDaaScore" is not an integer');
      proof.acceptingDaaScore = BigInt(s);
    }
    out.proof = proof;
  }
  return out;
}
