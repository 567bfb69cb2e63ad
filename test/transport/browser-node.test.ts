/**
 * The shared transport suite, Chromium ↔ werift: the browser offers (as a p2pComm web client
 * would), a Node peer in a killable child process answers. Chromium runs without mDNS host
 * names so its host candidates carry addresses werift can reach; werift cannot resolve
 * `.local` names, which the link reports as MDNS_UNSUPPORTED instead of failing.
 */
import { fileURLToPath } from 'node:url';
import { startBrowserHarness, type BrowserHarness } from '../harness/browser.ts';
import { WEBRTC_TEST_ARGS, childEndpoint, pageEndpoint } from './endpoints.ts';
import { transportSuite } from './suite.ts';

let harness: BrowserHarness;

transportSuite('chromium ↔ werift', {
  async setUp() {
    harness = await startBrowserHarness(
      fileURLToPath(new URL('./driver-browser.ts', import.meta.url)),
      'testApi',
      {
        extraArgs: WEBRTC_TEST_ARGS,
      },
    );
  },
  async tearDown() {
    await harness.close();
  },
  async makePair() {
    const a = await pageEndpoint('chromium', harness);
    let b = await childEndpoint('werift');
    const pair = {
      a,
      b,
      async respawnB() {
        await b.dispose();
        b = await childEndpoint('werift');
        pair.b = b;
        return b;
      },
      async dispose() {
        await Promise.all([a.dispose(), pair.b.dispose()]);
      },
    };
    return pair;
  },
});
