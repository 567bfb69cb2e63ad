/**
 * The shared transport suite, Chromium ↔ Chromium: two isolated browser contexts, with the
 * signaling relayed through this Node process (as the engine relays it through Kaspa).
 */
import { pageEndpoint, respawnablePair, withChromium } from './endpoints.ts';
import { transportSuite } from './suite.ts';

transportSuite(
  'chromium ↔ chromium',
  withChromium(async (harness) =>
    respawnablePair(await pageEndpoint('chromium-a', harness), () => pageEndpoint('chromium-b', harness)),
  ),
);
