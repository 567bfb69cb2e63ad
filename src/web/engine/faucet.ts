/**
 * Coins for a new identity on the local network: the devnet's control endpoint funds any
 * address with a real transaction (src/devnet/control.ts, POST /devnet/fund). Local only: the
 * caller asks solely when the network is `local` and the URL is a loopback address, never on
 * testnet or mainnet, where coins come from the user.
 */
import { isLoopbackUrl } from './network.ts';

/** Amount asked of the local faucet, in KAS (enough for a few hundred offline messages). */
export const LOCAL_FAUCET_KAS = '100';

/**
 * Asks the local faucet at `faucetUrl` (on the page's own origin, local-origin.ts) to fund
 * `address`. The faucet pays only a JSON POST whose `Origin` is the app's page, so the request
 * is same-origin (refused by the browser otherwise) and sends its origin: the page's
 * `no-referrer` policy would replace it with `null` (Fetch §3.1), hence `same-origin` here.
 * Rejects RangeError for a non-loopback URL, TypeError when the browser refuses the request.
 */
export async function requestLocalFunds(faucetUrl: string, address: string): Promise<void> {
  if (!isLoopbackUrl(faucetUrl, ['http:']))
    throw new RangeError(`"faucetUrl" expected a loopback http:// URL, got ${faucetUrl}`);
  await fetch(faucetUrl, {
    method: 'POST',
    mode: 'same-origin',
    credentials: 'omit',
    referrerPolicy: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ address, amount: LOCAL_FAUCET_KAS }),
  });
}
