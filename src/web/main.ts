/**
 * Browser entry: chooses the AppApi implementation (the one place the engine is wired in),
 * mounts the app, registers the service worker and starts notifications.
 */
import type { AppApi } from './app-api.ts';
import { mountApp } from './app.ts';
import { registerPeriodicCheck, startChecking } from './checking.ts';
import { advertisedLocalFaucet, realApiOptionsFromUrl } from './engine/config.ts';
import { RealApi } from './engine/real-api.ts';
import { FakeApi } from './fake-api.ts';
import { startNotifications } from './notify.ts';

/** Set by the build (`buildWeb({ demo: true })`); `?demo=1` in the URL does the same. */
declare const __P2PCOMM_DEMO__: boolean;

/** Query flags read once at start (demo data, the message count for memory benchmarks). */
const params = new URLSearchParams(location.search);
const demo = __P2PCOMM_DEMO__ || params.get('demo') === '1';

/**
 * The AppApi the app runs on: the real messenger core (vault in IndexedDB, delivery engine,
 * WebRTC, the Kaspa node); with `?demo=1` the in-memory FakeApi with demo data, and with
 * `?demo=empty` the FakeApi with nothing in it (UI tests of onboarding). The fake says so on
 * screen.
 */
async function createApi(): Promise<{ api: AppApi; notice?: string }> {
  const emptyDemo = params.get('demo') === 'empty';
  if (!demo && !emptyDemo)
    return { api: await RealApi.open(realApiOptionsFromUrl(location.href, advertisedLocalFaucet(document))) };
  const seedMessages = Math.min(100_000, Math.max(0, Number(params.get('messages') ?? 0) || 0));
  const fake = new FakeApi({ seed: demo, seedMessages, autoReply: demo });
  (globalThis as { p2pcommDemo?: FakeApi }).p2pcommDemo = fake;
  return { api: fake, notice: 'Preview: delivery is simulated in this tab; nothing is sent or kept.' };
}

const root = document.getElementById('app');
if (root === null) throw new Error('index.html has no #app element');
const { api, notice } = await createApi();
/** The service worker script, next to index.html. */
const SW_URL = './sw.js';
const appUrl = new URL('./', location.href).href;
mountApp(notice === undefined ? { api, root, appUrl } : { api, root, appUrl, notice });
startNotifications(api);
startChecking(api);

/** The one Trusted Types policy the CSP allows: it vouches for the worker's URL and nothing else. */
interface TrustedTypesLike {
  createPolicy(
    name: string,
    rules: { createScriptURL(url: string): string },
  ): { createScriptURL(url: string): unknown };
}

if ('serviceWorker' in navigator && params.get('sw') !== '0') {
  const tt = (globalThis as { trustedTypes?: TrustedTypesLike }).trustedTypes;
  const policy = tt?.createPolicy('p2pcomm-sw', {
    createScriptURL(url) {
      if (url !== SW_URL) throw new TypeError(`refusing worker script ${url}`);
      return url;
    },
  });
  const scriptUrl = (policy?.createScriptURL(SW_URL) ?? SW_URL) as string;
  navigator.serviceWorker
    .register(scriptUrl, { scope: './' })
    .then(registerPeriodicCheck)
    .catch(() => {
      // Without a worker the app still runs; it just has no offline shell.
    });
}
