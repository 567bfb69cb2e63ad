/**
 * The shared transport suite, Chromium ↔ Chromium: two isolated browser contexts, with the
 * signaling relayed through this Node process (as the engine relays it through Kaspa).
 */
import { fileURLToPath } from 'node:url';
import { startBrowserHarness, type BrowserHarness } from '../harness/browser.ts';
import { WEBRTC_TEST_ARGS, pageEndpoint } from './endpoints.ts';
import { transportSuite } from './suite.ts';

let harness: BrowserHarness;

transportSuite('chromium ↔ chromium', {
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
    const a = await pageEndpoint('chromium-a', harness);
    let b = await pageEndpoint('chromium-b', harness);
    const pair = {
      a,
      b,
      async respawnB() {
        await b.dispose();
        b = await pageEndpoint('chromium-b', harness);
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
