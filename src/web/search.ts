/**
 * Search across conversations, on this device: what counts as a match and how many hits come
 * back. Shared by the real and the fake AppApi. Matching is by substring after Unicode
 * compatibility normalisation (NFKC, UAX #15) and lower-casing, so "\ufb01le" finds "file" and
 * "ÄRGER" finds "ärger"; messages never leave the device to be searched.
 *
 * The real engine keeps a `SearchIndex` of every conversation in memory after unlock, so a
 * search reads no history from storage; the fake engine scans its arrays (`collectHits`).
 */
import { isShown, type ActionRecord } from '../core/messages/actions.ts';
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

/** Whether `a` comes before `b` in a search's answer: newer first, then the smaller id. */
function newer(a: { readonly sentAt: number; readonly id: string }, b: typeof a): boolean {
  return a.sentAt > b.sentAt || (a.sentAt === b.sentAt && a.id < b.id);
}

/**
 * The `limit` newest items across conversations (each in its order, sentAt ascending) that
 * `matches` accepts, newest first. Bounded work: a conversation is read from its newest item
 * back only while it can still beat the `limit`-th kept so far.
 */
function newestMatching<T extends { readonly sentAt: number; readonly id: string }, C>(
  conversations: Iterable<{
    readonly tag: C;
    readonly items: readonly T[];
    readonly matches: (t: T) => boolean;
  }>,
  limit: number,
): { readonly item: T; readonly tag: C }[] {
  /** Newest first, at most `limit`. */
  const best: { readonly item: T; readonly tag: C }[] = [];
  for (const { tag, items, matches } of conversations) {
    for (let i = items.length - 1; i >= 0; i--) {
      const m = items[i]!;
      const last = best[limit - 1];
      if (last !== undefined && !newer(m, last.item)) {
        // Older messages cannot beat it; one of the same millisecond may, by a smaller id,
        // since a conversation's order within a millisecond is not by id (conversationOrder).
        if (m.sentAt < last.item.sentAt) break;
        continue;
      }
      if (!matches(m)) continue;
      let at = best.length;
      while (at > 0 && newer(m, best[at - 1]!.item)) at--;
      best.splice(at, 0, { item: m, tag });
      if (best.length > limit) best.pop();
    }
  }
  return best;
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
  const matches = (m: T): boolean => searchKey(textOf(m)).includes(key);
  const convs = [...conversations].map(({ contact, messages }) => ({
    tag: contact,
    items: messages,
    matches,
  }));
  return newestMatching(convs, limit).map(({ item, tag }) => ({
    contact: typeof tag === 'function' ? tag() : tag,
    message: view(item),
  }));
}

// --- the in-memory index ---------------------------------------------------------------------

/** A stored message as the index reads it (the engine's records have these fields). */
export interface SearchRecord extends ActionRecord {
  readonly contact: string;
}

/** Where the index reads what it keeps, and the hits it answers with. */
export interface SearchSource<M extends SearchRecord> {
  /** A conversation's records in its order (sentAt ascending), as the full scan reads them. */
  conversation(contact: string): Promise<readonly M[]>;
  /** One stored record by direction and id, as now stored; undefined when gone. */
  record(direction: 'in' | 'out', id: string): Promise<M | undefined>;
}

/** A message that matched, with its conversation. */
export interface SearchMatch<M> {
  readonly contact: string;
  readonly record: M;
}

/**
 * What the index keeps of one searchable message: its id and direction (to read the record
 * back for a hit), its time (the answer's order) and its text in search form. Nothing else of
 * the record is held, so a hit is shown as now stored (status, receipts).
 */
interface Entry {
  readonly id: string;
  readonly sentAt: number;
  readonly out: boolean;
  readonly key: string;
}

/**
 * One conversation: `stamp` changes with every change told (from the index's own counter),
 * so a history read that a change overtook is not taken; `entries` once built, sentAt
 * ascending (ties in any order, as `newestMatching` allows).
 */
interface Conversation {
  stamp: number;
  entries: Entry[] | undefined;
}

/** A conversation to build: its records when already read, else read by the worker. */
interface Job<M> {
  readonly contact: string;
  readonly stamp: number;
  readonly records?: readonly M[];
}

/** Options of a `SearchIndex`. */
export interface SearchIndexOptions {
  /** Whether the owner closed (the worker stops). @default never */
  readonly closed?: () => boolean;
  /** Gives the thread back between slices of the build. @default a macrotask (setTimeout 0) */
  readonly yieldNow?: () => Promise<void>;
  /** Longest slice of the build before it yields, in ms. @default 8 (half a 60 Hz frame) */
  readonly sliceMs?: number;
  /**
   * Told of a failed read of the build; that conversation stays unbuilt (its searches read
   * storage) until offered again. @default ignored
   */
  readonly onError?: (error: unknown) => void;
}

const macrotask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Whether a record can ever match a query: shown, with text (a query is never empty). */
function searchable(r: ActionRecord): boolean {
  return isShown(r) && r.text !== '';
}

function entryOf(r: ActionRecord): Entry {
  return { id: r.id, sentAt: r.sentAt, out: r.direction === 'out', key: searchKey(r.text) };
}

/** The first position in `entries` (sentAt ascending) whose sentAt is at least `at`. */
function lowerBound(entries: readonly Entry[], at: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.sentAt < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Every conversation's searchable messages in memory, in search form, so that a search reads
 * nothing from storage but its hits. Built after unlock in the background, a conversation per
 * step and yielding every `sliceMs`, from the history reads the chat list makes anyway
 * (`offer`) and its own reads for the rest (`start`); until a conversation is built, a search
 * reads it from storage as the full scan does. The owner tells it of every stored change
 * (`put`, `remove`, `forget`); a hit is read back from storage and checked before it is
 * answered, and a conversation whose entry did not hold is read again, so a change the index
 * missed never shows a message that is gone or no longer matches.
 *
 * Memory: one small object per shown message with text (id, time, direction, the text in
 * search form: about 150 bytes plus the text; bench/web-actions.bench.ts measures it).
 */
export class SearchIndex<M extends SearchRecord> {
  readonly #source: SearchSource<M>;
  readonly #closed: () => boolean;
  readonly #yield: () => Promise<void>;
  readonly #sliceMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #conversations = new Map<string, Conversation>();
  readonly #queue: Job<M>[] = [];
  #clock = 0;
  #working: Promise<void> | undefined;

  constructor(source: SearchSource<M>, options: SearchIndexOptions = {}) {
    this.#source = source;
    this.#closed = options.closed ?? (() => false);
    this.#yield = options.yieldNow ?? macrotask;
    this.#sliceMs = options.sliceMs ?? 8;
    this.#onError = options.onError ?? (() => undefined);
  }

  #conversation(contact: string): Conversation {
    let c = this.#conversations.get(contact);
    if (c === undefined) this.#conversations.set(contact, (c = { stamp: ++this.#clock, entries: undefined }));
    return c;
  }

  /** Whether `contact`'s conversation is built (its searches read nothing from storage). */
  isBuilt(contact: string): boolean {
    return this.#conversations.get(contact)?.entries !== undefined;
  }

  /**
   * The conversation's stamp now: taken before a history read, it lets `offer` tell whether
   * a change came while the read was under way.
   */
  stamp(contact: string): number {
    return this.#conversation(contact).stamp;
  }

  /**
   * A conversation's records as read after `stamp` was taken: the index builds it from them
   * once `start` (or a search) sets it to work, unless a change came since (then it reads
   * the conversation itself). Nothing is done meanwhile, so the reads of the chat list at
   * unlock, which offer, are not slowed by the build.
   */
  offer(contact: string, records: readonly M[], stamp: number): void {
    const c = this.#conversation(contact);
    if (c.entries !== undefined) return;
    this.#queue.push(c.stamp === stamp ? { contact, stamp, records } : { contact, stamp: c.stamp });
  }

  /** Builds in the background every conversation of `contacts` not built or on its way. */
  start(contacts: Iterable<string>): void {
    const queued = new Set(this.#queue.map((j) => j.contact));
    for (const contact of contacts) {
      const c = this.#conversation(contact);
      if (c.entries === undefined && !queued.has(contact)) this.#queue.push({ contact, stamp: c.stamp });
    }
    this.#work();
  }

  /** Resolves once nothing is left to build (for tests and benches). */
  async idle(): Promise<void> {
    while (this.#working !== undefined) await this.#working;
  }

  /** A stored record, new or changed (status, redaction): the index follows it. */
  put(r: M): void {
    const c = this.#conversation(r.contact);
    c.stamp = ++this.#clock;
    if (c.entries === undefined) return;
    this.#drop(c.entries, r);
    if (!searchable(r)) return;
    const e = entryOf(r);
    // After every entry of the same millisecond or earlier: a new message is last, O(1).
    let at = c.entries.length;
    while (at > 0 && c.entries[at - 1]!.sentAt > e.sentAt) at--;
    if (at === c.entries.length) c.entries.push(e);
    else c.entries.splice(lowerBound(c.entries, e.sentAt + 1), 0, e);
  }

  /** Records deleted from storage (expired, a deleted conversation). */
  remove(contact: string, records: Iterable<Pick<M, 'id' | 'sentAt' | 'direction'>>): void {
    const c = this.#conversation(contact);
    c.stamp = ++this.#clock;
    if (c.entries === undefined) return;
    for (const r of records) this.#drop(c.entries, r);
  }

  /** A conversation gone with its contact. */
  forget(contact: string): void {
    this.#conversations.delete(contact);
    for (let i = this.#queue.length - 1; i >= 0; i--)
      if (this.#queue[i]!.contact === contact) this.#queue.splice(i, 1);
  }

  /** The entry of `r`, if held, out of `entries`; found by its time, so O(log n). */
  #drop(entries: Entry[], r: Pick<M, 'id' | 'sentAt' | 'direction'>): void {
    const out = r.direction === 'out';
    for (let i = lowerBound(entries, r.sentAt); i < entries.length && entries[i]!.sentAt === r.sentAt; i++) {
      const e = entries[i]!;
      if (e.id === r.id && e.out === out) {
        entries.splice(i, 1);
        return;
      }
    }
  }

  /**
   * Forgets what it built of `contact`: the search that found it stale reads the
   * conversation from storage next and offers that read, which builds it again.
   */
  #unbuild(contact: string): void {
    const c = this.#conversation(contact);
    c.entries = undefined;
    c.stamp = ++this.#clock;
  }

  #work(): void {
    if (this.#working !== undefined || this.#queue.length === 0) return;
    this.#working = this.#drain()
      .catch((e: unknown) => this.#onError(e))
      .finally(() => {
        this.#working = undefined;
        // A job queued while the last step settled.
        if (!this.#closed()) this.#work();
      });
  }

  async #drain(): Promise<void> {
    let sliceStart = performance.now();
    for (let job = this.#queue.shift(); job !== undefined; job = this.#queue.shift()) {
      if (this.#closed()) {
        this.#queue.length = 0;
        return;
      }
      const c = this.#conversations.get(job.contact);
      if (c === undefined || c.entries !== undefined) continue;
      let { records, stamp } = job;
      if (records === undefined || c.stamp !== stamp) {
        stamp = c.stamp;
        try {
          records = await this.#source.conversation(job.contact);
        } catch (e) {
          this.#onError(e);
          continue;
        }
      }
      // A change told during the read: the read may predate it, so read again later.
      if (this.#conversations.get(job.contact) !== c || c.entries !== undefined) continue;
      if (c.stamp !== stamp) {
        this.#queue.push({ contact: job.contact, stamp: c.stamp });
        continue;
      }
      const entries: Entry[] = [];
      for (const r of records) if (searchable(r)) entries.push(entryOf(r));
      // The source's order is sentAt ascending already; a stable sort costs one pass then.
      entries.sort((a, b) => a.sentAt - b.sentAt);
      c.entries = entries;
      if (performance.now() - sliceStart >= this.#sliceMs) {
        await this.#yield();
        sliceStart = performance.now();
      }
    }
  }

  /**
   * The `limit` newest messages of `contacts` whose text holds `key` (a `queryKey`), newest
   * first, each read back from storage: the same as the full scan of every conversation.
   * A conversation not built yet is read from storage (and its read offered to the build).
   */
  async search(contacts: readonly string[], key: string, limit: number): Promise<SearchMatch<M>[]> {
    if (key === '') return [];
    for (;;) {
      const convs = await Promise.all(contacts.map((contact) => this.#items(contact, key)));
      const picked = newestMatching(convs, limit);
      const records = await Promise.all(
        picked.map(({ item, tag }) => {
          if (!tag.built) return Promise.resolve(item as M);
          const e = item as Entry;
          return this.#source.record(e.out ? 'out' : 'in', e.id);
        }),
      );
      const stale = new Set<string>();
      const out: SearchMatch<M>[] = [];
      picked.forEach(({ tag }, i) => {
        const r = records[i];
        // A record changed or gone without the index being told: that conversation is read
        // again, and the search answered from storage for it.
        if (
          r === undefined ||
          r.contact !== tag.contact ||
          !searchable(r) ||
          !searchKey(r.text).includes(key)
        )
          stale.add(tag.contact);
        else out.push({ contact: tag.contact, record: r });
      });
      this.#work();
      if (stale.size === 0) return out;
      for (const contact of stale) this.#unbuild(contact);
    }
  }

  async #items(
    contact: string,
    key: string,
  ): Promise<{
    tag: { readonly contact: string; readonly built: boolean };
    items: readonly (Entry | M)[];
    matches: (x: Entry | M) => boolean;
  }> {
    const built = this.#conversations.get(contact)?.entries;
    if (built !== undefined)
      // A copy: a change told while other conversations are read must not move this one.
      return {
        tag: { contact, built: true },
        items: built.slice(),
        matches: (e) => (e as Entry).key.includes(key),
      };
    const stamp = this.stamp(contact);
    const records = await this.#source.conversation(contact);
    this.offer(contact, records, stamp);
    return {
      tag: { contact, built: false },
      items: records.filter(isShown),
      matches: (r) => searchKey((r as M).text).includes(key),
    };
  }
}
