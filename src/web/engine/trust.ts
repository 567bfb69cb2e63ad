/**
 * What the user decided about each contact's key, and the rule that turns it into the
 * "verified" mark and the key warnings (docs/protocol.md "Safety number" and "Verification
 * record"). Shared by the real and the fake AppApi so both behave alike.
 *
 * Stored sealed, one record per contact, in the state store under the tuple key
 * `("trust", contact id)` (opaque on disk, storage/opaque.ts):
 *
 *     u8 version=1 | u8 flags | [identityKey[32] if flags & 1] | [varbytes otherId if flags & 2]
 *
 * flag 1: verified, with the identity key the safety number was confirmed for;
 * flag 2: added while another contact (otherId) had the same name and another key.
 */
import { encodeKey } from '../../storage/keys.ts';
import type { KeyValueStore } from '../../storage/types.ts';
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { bytesToUtf8, equalBytes, utf8ToBytes } from '../../util/bytes.ts';
import { DecodeError } from '../../util/errors.ts';
import type { ContactId, KeyWarning } from '../app-api.ts';
import { loadContactRecords } from '../contact-records.ts';

const VERSION = 1;
const F_VERIFIED = 1;
const F_SAME_NAME = 2;
const KEY_BYTES = 32;
const MAX_ID_BYTES = 256;

/** One contact's record; absent fields mean "never verified" / "no same-name warning". */
export interface TrustRecord {
  readonly verifiedKey?: Uint8Array;
  readonly sameNameAs?: ContactId;
}

/** The state-store key of a contact's record. */
export function trustKey(id: ContactId): Uint8Array {
  return encodeKey('trust', id);
}

/** The record in its stored form. */
export function encodeTrust(r: TrustRecord): Uint8Array {
  const flags =
    (r.verifiedKey !== undefined ? F_VERIFIED : 0) | (r.sameNameAs !== undefined ? F_SAME_NAME : 0);
  const w = new ByteWriter(64).u8(VERSION).u8(flags);
  if (r.verifiedKey !== undefined) w.bytes(r.verifiedKey);
  if (r.sameNameAs !== undefined) w.varBytes(utf8ToBytes(r.sameNameAs));
  return w.finish();
}

/** Parses a stored record; malformed bytes throw DecodeError. */
export function decodeTrust(bytes: Uint8Array): TrustRecord {
  const r = new ByteReader(bytes);
  const version = r.u8('trust record version');
  if (version !== VERSION) throw new DecodeError('UNKNOWN_VERSION', `trust record version ${version}`);
  const flags = r.u8('trust flags');
  const verifiedKey = flags & F_VERIFIED ? r.bytes(KEY_BYTES, 'verified key') : undefined;
  const sameNameAs =
    flags & F_SAME_NAME ? (bytesToUtf8(r.varBytes(MAX_ID_BYTES, 'other id')) as ContactId) : undefined;
  r.end('trust record');
  return { ...(verifiedKey && { verifiedKey }), ...(sameNameAs !== undefined && { sameNameAs }) };
}

/** Every contact's record, read once when the profile opens (`loadContactRecords`). */
export function loadTrust(
  db: KeyValueStore,
  store: string,
  onSkipped: (error: DecodeError) => void,
): Promise<Map<ContactId, TrustRecord>> {
  return loadContactRecords(db, store, 'trust', decodeTrust, onSkipped);
}

/**
 * The mark and warning of a contact whose identity key is now `currentKey`: verified only
 * while the verified key is the current one; "changed" once it is not; "same-name" until
 * the contact is verified.
 */
export function trustView(
  record: TrustRecord | undefined,
  currentKey: Uint8Array,
): { verified: boolean; keyWarning?: KeyWarning } {
  if (record?.verifiedKey !== undefined) {
    return equalBytes(record.verifiedKey, currentKey)
      ? { verified: true }
      : { verified: false, keyWarning: { kind: 'changed' } };
  }
  if (record?.sameNameAs !== undefined) {
    return { verified: false, keyWarning: { kind: 'same-name', otherId: record.sameNameAs } };
  }
  return { verified: false };
}

/** Names compared as people read them: case and surrounding spaces ignored. */
export function sameName(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}
