/**
 * Search across conversations, on this device: what counts as a match and how many hits come
 * back. Shared by the real and the fake AppApi. Matching is by substring after Unicode
 * compatibility normalisation (NFKC, UAX #15) and lower-casing, so "\ufb01le" finds "file" and
 * "ÄRGER" finds "ärger"; messages never leave the device to be searched.
 */
import { AppApiError, type ChatMessage, type ContactSummary } from './app-api.ts';

/** Most hits one search returns (the newest). */
export const MAX_SEARCH_HITS = 200;
/** Hits when the caller names no limit. */
export const DEFAULT_SEARCH_HITS = 50;
/** Longest query accepted, in characters: longer is refused, not cut. */
export const MAX_QUERY_LENGTH = 200;

/** One message that matched, with its conversation's contact. */
export interface SearchHit {
  readonly contact: ContactSummary;
  readonly message: ChatMessage;
}

/** Printable ASCII: already in NFKC, so normalising it can be skipped (most texts, fast). */
const PLAIN = /^[\x20-\x7e]*$/;

/**
 * The form both sides of a comparison are brought to. Lower-casing is locale-independent
 * (toLowerCase, not toLocaleLowerCase), so a query finds the same on every device.
 */
export function searchKey(text: string): string {
  return PLAIN.test(text) ? text.toLowerCase() : text.normalize('NFKC').toLowerCase();
}

/**
 * The normalised query, or '' when there is nothing to search for. Rejects BAD_QUERY for one
 * over `MAX_QUERY_LENGTH` characters.
 */
export function queryKey(query: unknown): string {
  if (typeof query !== 'string') throw new TypeError('"query" expected a string');
  const trimmed = query.trim();
  if ([...trimmed].length > MAX_QUERY_LENGTH)
    throw new AppApiError('BAD_QUERY', `Search for at most ${MAX_QUERY_LENGTH} characters`);
  return searchKey(trimmed);
}

/** The hit limit of a call: `DEFAULT_SEARCH_HITS` by default, at most `MAX_SEARCH_HITS`. */
export function hitLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_SEARCH_HITS;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1)
    throw new RangeError('"options.limit" expected a positive integer');
  return Math.min(limit, MAX_SEARCH_HITS);
}

/**
 * The `limit` newest messages whose text holds `key`, across conversations (each in its
 * order, oldest first), newest first. Bounded work: a conversation is read from its newest
 * message back only while it can still beat the `limit`-th hit kept so far, and only the hits
 * returned are turned into views (a query found in every message of 100,000 builds `limit`
 * views, not one per conversation per hit).
 */
export function collectHits<T extends { readonly sentAt: number; readonly id: string }>(
  conversations: Iterable<{
    readonly contact: ContactSummary | (() => ContactSummary);
    readonly messages: readonly T[];
  }>,
  key: string,
  limit: number,
  textOf: (m: T) => string,
  view: (m: T) => ChatMessage,
): SearchHit[] {
  if (key === '') return [];
  /** Newest first, at most `limit`. */
  const best: { readonly m: T; readonly contact: ContactSummary | (() => ContactSummary) }[] = [];
  const newer = (a: T, b: T): boolean => a.sentAt > b.sentAt || (a.sentAt === b.sentAt && a.id < b.id);
  for (const { contact, messages } of conversations) {
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i]!;
      const last = best[limit - 1];
      if (last !== undefined && !newer(m, last.m)) {
        // Older messages cannot beat it; one of the same millisecond may, by a smaller id,
        // since a conversation's order within a millisecond is not by id (conversationOrder).
        if (m.sentAt < last.m.sentAt) break;
        continue;
      }
      if (!searchKey(textOf(m)).includes(key)) continue;
      let at = best.length;
      while (at > 0 && newer(m, best[at - 1]!.m)) at--;
      best.splice(at, 0, { m, contact });
      if (best.length > limit) best.pop();
    }
  }
  return best.map(({ m, contact }) => ({
    contact: typeof contact === 'function' ? contact() : contact,
    message: view(m),
  }));
}
