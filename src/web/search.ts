/**
 * Search across conversations, on this device: what counts as a match and how many hits come
 * back. Shared by the real and the fake AppApi. Matching is by substring after Unicode
 * compatibility normalisation (NFKC, UAX #15) and lower-casing, so "ﬁle" finds "file" and
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

/** The form both sides of a comparison are brought to. */
export function searchKey(text: string): string {
  return text.normalize('NFKC').toLocaleLowerCase();
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
 * Collects the newest `limit` matches from `conversations`, newest first (ties by message
 * id). Work is one pass over the messages; only `limit` hits are kept at any time.
 */
export function collectHits(
  conversations: Iterable<{ readonly contact: ContactSummary; readonly messages: Iterable<ChatMessage> }>,
  key: string,
  limit: number,
): SearchHit[] {
  if (key === '') return [];
  const hits: SearchHit[] = [];
  const newer = (a: SearchHit, b: SearchHit): number =>
    b.message.sentAt - a.message.sentAt || (a.message.id < b.message.id ? -1 : 1);
  for (const { contact, messages } of conversations) {
    for (const message of messages) {
      if (!searchKey(message.text).includes(key)) continue;
      hits.push({ contact, message });
      // Keep the list bounded: sort and cut once it holds twice the limit.
      if (hits.length >= 2 * limit) hits.sort(newer).length = limit;
    }
  }
  return hits.sort(newer).slice(0, limit);
}
