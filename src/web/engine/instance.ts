/**
 * One live instance of a profile per browser. Two windows that both unlock a profile load
 * the same ratchet state and would encrypt under the same message keys; so the window that
 * unlocks holds an exclusive Web Lock named after the profile for as long as it stays
 * unlocked, and every other window of the profile stays on the "open in another window"
 * screen. The lock is the browser's: it goes with the window that holds it, however that
 * window ends (closed, crashed, navigated away), so nothing stale is ever left behind.
 *
 * Windows of a profile talk over a BroadcastChannel of the same name:
 * - `take-over`: "Use here" in another window; the holder locks itself (its engine stops
 *   and its queue is flushed to storage), then releases the lock, which the asker awaits.
 * - `opened` / `released`: a window unlocked or locked, so the others update their screen.
 * - `invite`: an invite link opened in a window that is not the live one is passed to the
 *   live one, which shows it (a link never starts a second instance).
 * Messages are hints only: the lock alone decides who may unlock, and the session state's
 * compare-and-set (core/delivery/session-state.ts) stays the last line of defence.
 */

/** What windows of one profile tell each other. */
export type InstanceMessage =
  | { readonly type: 'take-over' }
  | { readonly type: 'opened' }
  | { readonly type: 'released' }
  | { readonly type: 'invite'; readonly code: string };

/** How long "Use here" waits for the live window to let go. @default 20_000 */
export const TAKE_OVER_TIMEOUT_MS = 20_000;

function parseMessage(data: unknown): InstanceMessage | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const o = data as { type?: unknown; code?: unknown };
  if (o.type === 'take-over' || o.type === 'opened' || o.type === 'released') return { type: o.type };
  if (o.type === 'invite' && typeof o.code === 'string' && o.code.length <= 4096)
    return { type: 'invite', code: o.code };
  return undefined;
}

/** The Web Lock and channel of one profile in this window. */
export class ProfileInstance {
  readonly #name: string;
  readonly #locks: LockManager | undefined;
  readonly #channel: BroadcastChannel | undefined;
  #release: (() => void) | undefined;

  /** `profile` names the profile (the database name); `onMessage` hears the other windows. */
  constructor(profile: string, onMessage: (m: InstanceMessage) => void) {
    if (typeof profile !== 'string' || profile.length === 0)
      throw new TypeError('"profile" expected a non-empty string');
    this.#name = `p2pcomm:profile:${profile}`;
    // Both exist in every browser the app supports (secure contexts); without them there is
    // no other window to coordinate with that could be told apart, and only the session
    // state's compare-and-set protects the keys.
    this.#locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    this.#channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(this.#name) : undefined;
    this.#channel?.addEventListener('message', (e: MessageEvent) => {
      const m = parseMessage(e.data);
      if (m !== undefined) onMessage(m);
    });
  }

  /** Whether this window holds the profile's lock. */
  get held(): boolean {
    return this.#release !== undefined;
  }

  /** Takes the lock if no other window holds it; false when one does. */
  acquire(): Promise<boolean> {
    const locks = this.#locks;
    if (this.#release !== undefined || locks === undefined) return Promise.resolve(true);
    return new Promise<boolean>((resolve, reject) => {
      locks
        .request(this.#name, { mode: 'exclusive', ifAvailable: true }, (lock) => {
          if (lock === null) {
            resolve(false);
            return undefined;
          }
          // Held until release() settles this promise.
          return new Promise<void>((release) => {
            this.#release = release;
            resolve(true);
          });
        })
        .catch(reject);
    });
  }

  /** Lets the lock go (idempotent). */
  release(): void {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  /** Whether another window holds the lock now. */
  async heldElsewhere(): Promise<boolean> {
    if (this.#locks === undefined || this.#release !== undefined) return false;
    const state = await this.#locks.query();
    return (state.held ?? []).some((l) => l.name === this.#name);
  }

  /**
   * Asks the live window to step aside and waits until it has released the lock. False
   * when it did not within `timeoutMs`.
   */
  async takeOver(timeoutMs = TAKE_OVER_TIMEOUT_MS): Promise<boolean> {
    const locks = this.#locks;
    if (locks === undefined || this.#release !== undefined) return true;
    this.post({ type: 'take-over' });
    try {
      // Granted once the holder has released; released again at once, so that whichever
      // window then unlocks first takes it for real (with `acquire`).
      await locks.request(
        this.#name,
        { mode: 'exclusive', signal: AbortSignal.timeout(timeoutMs) },
        () => undefined,
      );
      return true;
    } catch (e) {
      if (e instanceof DOMException && (e.name === 'TimeoutError' || e.name === 'AbortError')) return false;
      throw e;
    }
  }

  /** Tells the other windows of the profile. */
  post(message: InstanceMessage): void {
    this.#channel?.postMessage(message);
  }

  /** Releases the lock and closes the channel. */
  close(): void {
    this.release();
    this.#channel?.close();
  }
}
