/**
 * Page-address parameters that point a fresh profile at a local network other than the
 * default ports (tests and `npm start` with another devnet port):
 *
 *   ?node=ws://127.0.0.1:PORT       node of the `local` network for a new profile
 *   ?faucet=http://127.0.0.1:PORT/devnet/fund   its faucet
 *
 * Without `faucet`, a page served from this machine uses `/devnet/fund` on its own origin
 * (local-origin.ts serves it beside the app; the CSP allows only the page's own origin).
 * Only loopback addresses are taken, so a link someone sends cannot point the app at a
 * node or faucet elsewhere; other values are ignored. Settings saved in a profile win.
 */
import { LOCAL_FUND_PATH, isLoopbackUrl } from './network.ts';
import type { RealApiOptions } from './real-api.ts';

/** The `RealApi` options the page at `pageUrl` asks for (see the module comment). */
export function realApiOptionsFromUrl(pageUrl: string): RealApiOptions {
  const page = new URL(pageUrl);
  const params = page.searchParams;
  const node = params.get('node');
  const sameOrigin = new URL(LOCAL_FUND_PATH, page.origin).href;
  const faucet = params.get('faucet') ?? (isLoopbackUrl(sameOrigin, ['http:']) ? sameOrigin : null);
  return {
    ...(node !== null && isLoopbackUrl(node, ['ws:']) ? { localNodeUrl: node } : {}),
    ...(faucet !== null && isLoopbackUrl(faucet, ['http:']) ? { localFaucetUrl: faucet } : {}),
  };
}
