/**
 * Replay guard with bounded memory. An envelope is accepted once, and only inside a clock
 * window: older than `maxAgeMs` or further than `maxFutureMs` ahead of our clock is refused.
 * IDs are remembered until they leave the window, so memory is bounded by the window; a
 * hard `capacity` bounds it also under a flood. When the capacity is reached, the oldest
 * entries are dropped and the window's lower edge rises to their timestamp, so a dropped
 * ID can never be replayed: anything at or below the edge is refused as too old.
 */
import { EnvelopeError } from '../errors.ts';
import { assertBytes, assertInteger } from '../../util/errors.ts';
import { bytesToHex } from '../../util/bytes.ts';

/** Clock window and memory bound of a ReplayGuard. */
export interface ReplayGuardOptions {
  /**
   * Oldest accepted envelope age. Default 14 days: a message on chain may be republished
   * for a recipient who stays offline past the ~30 h pruning window (NOTES §3).
   */
  readonly maxAgeMs?: number;
  /** Largest accepted clock lead of the sender. Default 10 minutes. */
  readonly maxFutureMs?: number;
  /** Most IDs remembered. Default 100,000 (about 5 MB). */
  readonly capacity?: number;
}

/** Refuses replayed and out-of-window envelopes. */
export class ReplayGuard {
  readonly maxAgeMs: number;
  readonly maxFutureMs: number;
  readonly capacity: number;
  /** id hex → timestamp; Map keeps insertion order, which eviction relies on only loosely. */
  readonly #seen = new Map<string, number>();
  #floor = -Infinity;
  #checks = 0;

  constructor(options: ReplayGuardOptions = {}) {
    this.maxAgeMs = options.maxAgeMs ?? 14 * 24 * 3600 * 1000;
    this.maxFutureMs = options.maxFutureMs ?? 10 * 60 * 1000;
    this.capacity = options.capacity ?? 100_000;
    assertInteger('maxAgeMs', this.maxAgeMs, 0, Number.MAX_SAFE_INTEGER);
    assertInteger('maxFutureMs', this.maxFutureMs, 0, Number.MAX_SAFE_INTEGER);
    assertInteger('capacity', this.capacity, 1, 10_000_000);
  }

  /** Number of IDs currently remembered. */
  get size(): number {
    return this.#seen.size;
  }

  /**
   * Accepts (and remembers) an envelope's id and timestamp, or throws EnvelopeError
   * REPLAY / TOO_OLD / FROM_FUTURE. `now` is our clock in Unix ms.
   */
  check(id: Uint8Array, timestamp: number, now: number): void {
    assertBytes('id', id, 16);
    assertInteger('timestamp', timestamp, 0, Number.MAX_SAFE_INTEGER);
    if (typeof now !== 'number' || !Number.isFinite(now))
      throw new TypeError(`"now" expected a finite number`);
    const lowest = Math.max(now - this.maxAgeMs, this.#floor);
    if (timestamp <= lowest) throw new EnvelopeError('TOO_OLD', 'envelope is older than the accepted window');
    if (timestamp > now + this.maxFutureMs)
      throw new EnvelopeError('FROM_FUTURE', 'envelope timestamp is ahead of our clock');
    const key = bytesToHex(id);
    if (this.#seen.has(key)) throw new EnvelopeError('REPLAY', 'envelope already received');
    this.#seen.set(key, timestamp);
    this.#evict(now);
  }

  #evict(now: number): void {
    // Expired IDs are swept every 1024 checks, so a check costs O(1) amortised.
    if (++this.#checks % 1024 === 0) {
      const cutoff = now - this.maxAgeMs;
      for (const [k, t] of this.#seen) if (t <= cutoff) this.#seen.delete(k);
    }
    if (this.#seen.size <= this.capacity) return;
    // Drop the oldest tenth by timestamp (amortising the sort) and raise the floor to the
    // newest dropped, so none of them can come back.
    const sorted = [...this.#seen].sort((a, b) => a[1] - b[1]);
    const excess = sorted.slice(0, this.#seen.size - this.capacity + Math.floor(this.capacity / 10));
    for (const [k, t] of excess) {
      this.#seen.delete(k);
      this.#floor = Math.max(this.#floor, t);
    }
  }
}
