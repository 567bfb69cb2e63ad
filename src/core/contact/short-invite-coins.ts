/**
 * The coins of published short invites, kept until they come back (docs/privacy.md "Short
 * invites", "Taking the coin back"). Each publication pays 0.22-0.33 KAS to its locator's
 * address; the invite's record says where, so that once the invite is used (its one-time
 * pre-key is gone) or replaced by a newer one, or when the person asks, the coin is swept back
 * into the invite pool (chain-invite-directory.ts `reclaim`) instead of staying there for ever.
 *
 * Stored sealed in the state store under the tuple key `("short-invite", locator)` (opaque on
 * disk, storage/opaque.ts):
 *
 *     u8 version=1 | u64 publishedAt (ms) | u8 flags | [u32 oneTimeId if flags & 1]
 */
import type { InviteReclaim } from './chain-invite-directory.ts';
import { decodeKey, encodeKey } from '../../storage/keys.ts';
import type { KeyValueStore } from '../../storage/types.ts';
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { DecodeError } from '../../util/errors.ts';

const VERSION = 1;
const F_ONE_TIME = 1;
const KEY_PART = 'short-invite';
/**
 * A record whose address is still empty this long after its publication is dropped: the coin
 * was taken by a holder of the link (who shares its key), or the publication never made it.
 * Before that, an empty address may only mean that the node has not accepted it yet.
 */
export const EMPTY_AFTER_MS = 60 * 60_000;

/** One published short invite whose coin has not come back yet. */
export interface ShortInviteCoin {
  readonly locator: Uint8Array;
  readonly publishedAt: number;
  /** The one-time pre-key its invite carries: once it is used, the invite is. */
  readonly oneTimeId?: number;
}

/** What taking coins back needs from the session. */
export interface ShortInviteCoinsPorts {
  readonly db: KeyValueStore;
  readonly store: string;
  /** Sweeps the coins at `locator` back to the wallet (ChainInviteDirectory.reclaim). */
  readonly reclaim: (locator: Uint8Array) => Promise<InviteReclaim | undefined>;
  /** True while the session still holds one-time pre-key `id` (session-manager.ts). */
  readonly holdsOneTimeKey: (id: number) => boolean;
  readonly now: () => number;
  readonly report: (error: unknown) => void;
}

/** The record in its stored form. */
export function encodeShortInviteCoin(c: ShortInviteCoin): Uint8Array {
  const w = new ByteWriter(16)
    .u8(VERSION)
    .u64(c.publishedAt)
    .u8(c.oneTimeId === undefined ? 0 : F_ONE_TIME);
  if (c.oneTimeId !== undefined) w.u32(c.oneTimeId);
  return w.finish();
}

/** Parses a stored record of `locator`; malformed bytes throw DecodeError. */
export function decodeShortInviteCoin(locator: Uint8Array, bytes: Uint8Array): ShortInviteCoin {
  const r = new ByteReader(bytes);
  const version = r.u8('short invite coin version');
  if (version !== VERSION) throw new DecodeError('UNKNOWN_VERSION', `short invite coin version ${version}`);
  const publishedAt = r.safeU64('published at');
  const flags = r.u8('short invite coin flags');
  const oneTimeId = flags & F_ONE_TIME ? r.u32('one-time key id') : undefined;
  r.end('short invite coin');
  return oneTimeId === undefined ? { locator, publishedAt } : { locator, publishedAt, oneTimeId };
}

/** The published short invites of one session and the sweeping of their coins. */
export class ShortInviteCoins {
  readonly #p: ShortInviteCoinsPorts;
  #running: Promise<number> | undefined;

  constructor(ports: ShortInviteCoinsPorts) {
    this.#p = ports;
  }

  /** Records a publication before it is made, so that a coin paid is never forgotten. */
  async published(coin: ShortInviteCoin): Promise<void> {
    await this.#p.db.put(this.#p.store, encodeKey(KEY_PART, coin.locator), encodeShortInviteCoin(coin));
  }

  /** Forgets a publication that paid nothing (the wallet could not pay it). */
  async forget(locator: Uint8Array): Promise<void> {
    await this.#p.db.delete(this.#p.store, encodeKey(KEY_PART, locator));
  }

  /** The records, oldest first; a damaged one is reported and left out. */
  async list(): Promise<ShortInviteCoin[]> {
    const out: ShortInviteCoin[] = [];
    for (const [key, value] of await this.#p.db.scan(this.#p.store, { prefix: encodeKey(KEY_PART) })) {
      try {
        const locator = decodeKey(key)[1];
        if (!(locator instanceof Uint8Array) || locator.length !== 32)
          throw new DecodeError('MALFORMED', 'short invite coin key');
        out.push(decodeShortInviteCoin(locator, value));
      } catch (e) {
        this.#p.report(e);
      }
    }
    return out.sort((a, b) => a.publishedAt - b.publishedAt);
  }

  /**
   * Takes back the coins of invites used or replaced (every one but the newest unused), or of
   * all with `all` (the person's choice: their short links stop working). One run at a time;
   * resolves with the number of coins that came back. A failed sweep is reported and its
   * record kept for the next run.
   */
  sweep(all = false): Promise<number> {
    const run = (this.#running ?? Promise.resolve(0)).then(() => this.#sweep(all));
    this.#running = run.catch(() => 0);
    return run;
  }

  async #sweep(all: boolean): Promise<number> {
    const coins = await this.list();
    const newest = coins.at(-1);
    let back = 0;
    for (const c of coins) {
      const used = c.oneTimeId !== undefined && !this.#p.holdsOneTimeKey(c.oneTimeId);
      if (!all && !used && c === newest) continue;
      let got: InviteReclaim | undefined;
      try {
        got = await this.#p.reclaim(c.locator);
      } catch (e) {
        this.#p.report(e);
        continue;
      }
      if (got === undefined && this.#p.now() - c.publishedAt < EMPTY_AFTER_MS) continue;
      if (got !== undefined) back++;
      await this.forget(c.locator);
    }
    return back;
  }
}
