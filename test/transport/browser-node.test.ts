/**
 * The shared transport suite, Chromium ↔ werift: the browser offers (as a p2pComm web client
 * would), a Node peer in a killable child process answers. Chromium runs without mDNS host
 * names so its host candidates carry addresses werift can reach; werift cannot resolve
 * `.local` names, which the link reports as MDNS_UNSUPPORTED instead of failing.
 */
import { childEndpoint, pageEndpoint, respawnablePair, withChromium } from './endpoints.ts';
import { transportSuite } from './suite.ts';

transportSuite(
  'chromium ↔ werift',
  withChromium(async (harness) =>
    respawnablePair(await pageEndpoint('chromium', harness), () => childEndpoint('werift')),
  ),
);
