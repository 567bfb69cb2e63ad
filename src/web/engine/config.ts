/**
 * Page-address parameters that point a fresh profile at a local network other than the
 * default ports (tests and `npm start` with another devnet port):
 *
 *   ?node=ws://127.0.0.1:PORT       node of the `local` network for a new profile
 *   ?faucet=http://127.0.0.1:PORT/devnet/fund   its faucet
 *
 * Without `faucet`, the app asks a faucet only where its own page says one is served: the
 * server of the local network's faucet (local-origin.ts) names its route in a
 * `<meta name="p2pcomm-local-faucet">` of the page it serves. Any other server of the same
 * files (the plain static server, a host on the web) has no such route, so the app does not
 * ask it (a POST there would only be refused, 405 in the console). Only loopback addresses
 * are taken, so a link someone sends cannot point the app at a node or faucet elsewhere;
 * other values are ignored. Settings saved in a profile win.
 */
import { LOCAL_FAUCET_META, isLoopbackUrl } from './network.ts';
import type { RealApiOptions } from './real-api.ts';

/** The faucet route the page names in its `p2pcomm-local-faucet` meta tag, or null. */
export function advertisedLocalFaucet(doc: Pick<Document, 'querySelector'>): string | null {
  return doc.querySelector(`meta[name="${LOCAL_FAUCET_META}"]`)?.getAttribute('content') ?? null;
}

/**
 * The `RealApi` options the page at `pageUrl` asks for (see the module comment);
 * `advertisedFaucet` is what `advertisedLocalFaucet` read from the page, if anything.
 */
export function realApiOptionsFromUrl(
  pageUrl: string,
  advertisedFaucet: string | null = null,
): RealApiOptions {
  const page = new URL(pageUrl);
  const params = page.searchParams;
  const node = params.get('node');
  let served: string | null = null;
  if (advertisedFaucet !== null) {
    try {
      const url = new URL(advertisedFaucet, page.origin);
      // The page's own origin only: that is all the CSP lets it reach (csp.ts connect-src).
      if (url.origin === page.origin) served = url.href;
    } catch {
      served = null;
    }
  }
  const faucet = params.get('faucet') ?? served;
  return {
    ...(node !== null && isLoopbackUrl(node, ['ws:']) ? { localNodeUrl: node } : {}),
    ...(faucet !== null && isLoopbackUrl(faucet, ['http:']) ? { localFaucetUrl: faucet } : {}),
  };
}
