/**
 * Per-contact records of this device (trust marks, conversation flags) kept in the state
 * store under `encodeKey(kind, contactId)`, each read once when the profile opens.
 */
import { decodeKey, encodeKey } from '../storage/keys.ts';
import type { KeyValueStore } from '../storage/types.ts';
import { DecodeError } from '../util/errors.ts';
import type { ContactId } from './app-api.ts';

/**
 * Every record of `kind` in `store`, decoded. A record `decode` refuses (one a newer version
 * wrote from another tab, or damage) is passed to `onSkipped` and left out: these records
 * are conveniences of this device and must never keep the profile from opening.
 */
export async function loadContactRecords<T>(
  db: KeyValueStore,
  store: string,
  kind: string,
  decode: (bytes: Uint8Array) => T,
  onSkipped: (error: DecodeError) => void,
): Promise<Map<ContactId, T>> {
  const out = new Map<ContactId, T>();
  for (const [key, value] of await db.scan(store, { prefix: encodeKey(kind) })) {
    const [, id] = decodeKey(key);
    if (typeof id !== 'string') continue;
    try {
      out.set(id as ContactId, decode(value));
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      onSkipped(e);
    }
  }
  return out;
}
