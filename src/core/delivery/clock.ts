/**
 * The engine's only source of time (STYLE §9): batching windows, backoff and republication
 * deadlines all go through a `Clock`, so tests can drive time by hand and a CLI can run the
 * same engine at full speed.
 */

/** A pending timer; `cancel` is idempotent. */
export interface Timer {
  cancel(): void;
}

/** Wall time in milliseconds and one-shot timers. */
export interface Clock {
  /** Unix time in milliseconds. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds (0 or more). */
  after(ms: number, fn: () => void): Timer;
}

/** The platform clock: `Date.now` and `setTimeout` (timers do not keep a Node process alive). */
export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const handle = setTimeout(fn, Math.max(0, ms));
    // A pending batch or republication timer must not keep a CLI or test process alive.
    if (typeof handle === 'object' && handle !== null && 'unref' in handle) handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};

/**
 * A clock that moves only when told to: `advance(ms)` fires due timers in deadline order.
 * Used by tests of retention and backoff, where waiting 30 hours is not an option.
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  after(ms: number, fn: () => void): Timer {
    const id = this.seq++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return { cancel: () => this.timers.delete(id) };
  }

  /** Moves time forward by `ms`, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers)
        if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].fn();
    }
    this.time = target;
  }
}
