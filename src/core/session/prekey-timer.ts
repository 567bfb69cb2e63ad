/**
 * Keeps pre-key rotation and deletion running in a live app (prekeys.ts). The session manager
 * rotates on traffic; an app that is open but quiet, or opened after weeks, must not wait for
 * a message: X3DH §4.6 / PQXDH §3.2 replace the signed pre-key at an interval, and a retired
 * one is only forward-secret once wiped. `check` runs once at unlock and then every `everyMs`.
 *
 * After a change the state is saved (compare-and-set in the web app) before anything else;
 * the new card then reaches each contact with a confirmed session in its next traffic, as a
 * `card` envelope (session-manager.ts `pendingCard`), which costs no transaction of its own.
 * Until then the retired pre-key still opens first messages for its grace window.
 */
import type { ContactCard } from '../contact/card.ts';
import type { SessionManager } from './session-manager.ts';

/** How often a running app checks its pre-keys. */
export const PREKEY_CHECK_MS = 3_600_000;

/** What the timer works on. */
export interface PreKeyTimerOptions {
  readonly sessions: SessionManager;
  /** Saves `sessions.serialize()` (the web app: SessionStateStore.save). */
  readonly save: (state: Uint8Array) => Promise<void>;
  /** Told after a change was saved, with our current card (re-issued when the pre-key rotated). */
  readonly onChange?: (card: ContactCard | null) => void;
  /** Told when a check failed (the next one tries again). */
  readonly onError?: (error: unknown) => void;
  /** @default PREKEY_CHECK_MS */
  readonly everyMs?: number;
}

/** A running pre-key check; `stop` ends it. */
export class PreKeyTimer {
  readonly #opts: PreKeyTimerOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<boolean> = Promise.resolve(false);

  constructor(opts: PreKeyTimerOptions) {
    const every = opts.everyMs ?? PREKEY_CHECK_MS;
    if (!Number.isSafeInteger(every) || every < 1)
      throw new RangeError('"everyMs" expected a positive integer');
    this.#opts = opts;
    this.#timer = setInterval(() => {
      this.check().catch((e: unknown) => this.#opts.onError?.(e));
    }, every);
  }

  /** Rotates and wipes what is due now; true when the state changed (and was saved). */
  check(): Promise<boolean> {
    // One check at a time, so two saves never race.
    const run = async (): Promise<boolean> => {
      if (this.#timer === undefined || !this.#opts.sessions.refreshPreKeys()) return false;
      await this.#opts.save(this.#opts.sessions.serialize());
      this.#opts.onChange?.(this.#opts.sessions.ownCard);
      return true;
    };
    const next = this.#running.then(run, run);
    this.#running = next.catch(() => false);
    return next;
  }

  /** Stops the timer; a check under way finishes. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
