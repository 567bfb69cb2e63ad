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
 * Asks the local faucet at `faucetUrl` to fund `address`. The control endpoint sends no CORS
 * headers, so this is a "simple" no-cors request (text/plain body, Fetch §3.2.3): the faucet
 * acts on it and the answer is opaque; success shows as funds arriving on the address.
 * Rejects RangeError for a non-loopback URL, TypeError when the browser refuses the request.
 */
export async function requestLocalFunds(faucetUrl: string, address: string): Promise<void> {
  if (!isLoopbackUrl(faucetUrl, ['http:']))
    throw new RangeError(`"faucetUrl" expected a loopback http:// URL, got ${faucetUrl}`);
  await fetch(faucetUrl, {
    method: 'POST',
    mode: 'no-cors',
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify({ address, amount: LOCAL_FAUCET_KAS }),
  });
}
