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
 * Collects the newest `limit` matches from `conversations` (each oldest first, as stored),
 * newest first (ties by message id). Each conversation is read from its newest message back
 * and gives at most `limit` hits, and only hits are turned into views, so a query that
 * matches everything costs `limit` hits per conversation, not one view per message.
 */
export function collectHits<T>(
  conversations: Iterable<{ readonly contact: ContactSummary; readonly messages: readonly T[] }>,
  key: string,
  limit: number,
  textOf: (m: T) => string,
  view: (m: T) => ChatMessage,
): SearchHit[] {
  if (key === '') return [];
  const hits: SearchHit[] = [];
  for (const { contact, messages } of conversations) {
    let found = 0;
    for (let i = messages.length - 1; i >= 0 && found < limit; i--) {
      const m = messages[i]!;
      if (!searchKey(textOf(m)).includes(key)) continue;
      hits.push({ contact, message: view(m) });
      found++;
    }
  }
  const newer = (a: SearchHit, b: SearchHit): number =>
    b.message.sentAt - a.message.sentAt || (a.message.id < b.message.id ? -1 : 1);
  return hits.sort(newer).slice(0, limit);
}
