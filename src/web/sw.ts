/**
 * Service worker: keeps the app shell (the built static files) available offline and
 * answers Periodic Background Sync where the browser grants it (Chromium, installed app;
 * NOTES §7) by waking open windows to check for messages. It never touches keys or messages.
 */

import { PERIODIC_TAG } from './checking.ts';

// The project compiles against the DOM library only; these are the few worker-scope members
// this file uses (Service Workers §4: ExtendableEvent, FetchEvent, Clients).
interface ExtendableEventLike extends Event {
  waitUntil(work: Promise<unknown>): void;
}
interface FetchEventLike extends ExtendableEventLike {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
}
interface PeriodicSyncEventLike extends ExtendableEventLike {
  readonly tag: string;
}
interface WorkerScope {
  readonly registration: { readonly scope: string };
  readonly location: Location;
  skipWaiting(): Promise<void>;
  readonly clients: {
    claim(): Promise<void>;
    matchAll(options: { type: 'window' }): Promise<readonly { postMessage(message: unknown): void }[]>;
  };
  addEventListener(type: string, listener: (event: Event) => void): void;
}
const scope = globalThis as unknown as WorkerScope;
/** Build id and shell file list, injected by the build so each release gets its own cache. */
declare const __P2PCOMM_BUILD__: string;
declare const __P2PCOMM_SHELL__: readonly string[];

const CACHE = `p2pcomm-shell-${__P2PCOMM_BUILD__}`;

scope.addEventListener('install', (event) => {
  (event as ExtendableEventLike).waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll(__P2PCOMM_SHELL__.map((p) => new URL(p, scope.registration.scope).href)))
      .then(() => scope.skipWaiting()),
  );
});

scope.addEventListener('activate', (event) => {
  (event as ExtendableEventLike).waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys.filter((k) => k.startsWith('p2pcomm-shell-') && k !== CACHE).map((k) => caches.delete(k)),
        ),
      )
      .then(() => scope.clients.claim()),
  );
});

// Shell files: cache first (they are versioned by CACHE). Navigations: network first so a new
// release shows, falling back to the cached index.html offline. Everything else: network.
scope.addEventListener('fetch', (e) => {
  const event = e as FetchEventLike;
  const req = event.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== scope.location.origin) return;
  if (req.mode === 'navigate') {
    event.respondWith(
      fetch(req).catch(
        async () =>
          (await caches.match(new URL('index.html', scope.registration.scope).href)) ?? Response.error(),
      ),
    );
    return;
  }
  event.respondWith(caches.match(req).then((hit) => hit ?? fetch(req)));
});

scope.addEventListener('periodicsync', (event: Event) => {
  const e = event as PeriodicSyncEventLike;
  if (e.tag !== PERIODIC_TAG) return;
  e.waitUntil(
    scope.clients.matchAll({ type: 'window' }).then((clients) => {
      for (const c of clients) c.postMessage({ type: 'check-messages' });
    }),
  );
});
