/**
 * Named instants on the page's performance timeline (User Timing, W3C), so that a bench can
 * split a path it times from the outside (unlock to "Connected") into its parts without the
 * code under test knowing about the bench. A mark costs a timestamp; nothing is sent anywhere.
 */

/** Prefix of every mark this app sets. */
export const MARK_PREFIX = 'p2pcomm:';

/** Sets the mark `p2pcomm:<name>` where the runtime has a performance timeline; no-op elsewhere. */
export function mark(name: string): void {
  globalThis.performance?.mark?.(MARK_PREFIX + name);
}
