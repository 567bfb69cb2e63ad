/**
 * When the app looks for new messages: on open and unlock, when the tab regains focus or
 * becomes visible, and when the service worker relays a Periodic Background Sync tick. The
 * last exists only for installed apps in Chromium browsers; elsewhere there is no background
 * schedule at all, and the balance screen says so (NOTES §7).
 */
import type { AppApi } from './app-api.ts';

/** Tag of the periodic sync registration, shared with sw.ts. */
export const PERIODIC_TAG = 'p2pcomm-check';

/** Minimum interval asked of the browser; it may choose longer (Periodic Background Sync). */
const PERIODIC_MIN_INTERVAL_MS = 15 * 60_000;

/** Starts checking on the triggers above; returns a function that stops it. */
export function startChecking(api: AppApi): () => void {
  const check = (): void => {
    if (api.vaultState().kind === 'unlocked') api.checkForMessages().catch(() => undefined);
  };
  const onVisible = (): void => {
    if (document.visibilityState === 'visible') check();
  };
  const onWorker = (event: MessageEvent): void => {
    if ((event.data as { type?: unknown } | null)?.type === 'check-messages') check();
  };
  window.addEventListener('focus', check);
  document.addEventListener('visibilitychange', onVisible);
  navigator.serviceWorker?.addEventListener('message', onWorker);
  const unsubscribe = api.subscribe((event) => {
    if (event.type === 'vault' && event.state.kind === 'unlocked') check();
  });
  check();
  return () => {
    window.removeEventListener('focus', check);
    document.removeEventListener('visibilitychange', onVisible);
    navigator.serviceWorker?.removeEventListener('message', onWorker);
    unsubscribe();
  };
}

interface PeriodicSyncManagerLike {
  register(tag: string, options: { minInterval: number }): Promise<void>;
}

/** Asks for periodic background checks where the browser offers them; silently not elsewhere. */
export async function registerPeriodicCheck(registration: ServiceWorkerRegistration): Promise<boolean> {
  const periodic = (registration as { periodicSync?: PeriodicSyncManagerLike }).periodicSync;
  if (periodic === undefined) return false;
  try {
    await periodic.register(PERIODIC_TAG, { minInterval: PERIODIC_MIN_INTERVAL_MS });
    return true;
  } catch {
    // Refused unless the app is installed and the site has engagement; on-open checks remain.
    return false;
  }
}
