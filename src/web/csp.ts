/**
 * The app's Content-Security-Policy, one source for the meta tag (build) and the HTTP header
 * (dev server). No inline script or style, no eval, no plugins, no framing; Trusted Types
 * make any stray HTML-string sink (innerHTML and friends) throw instead of parsing markup.
 *
 * connect-src, the directive that decides where a script may send data:
 * - 'self': the page's own origin (the local faucet, local-origin.ts);
 * - `ws://127.0.0.1:*`, `ws://localhost:*`: a node on this machine, any port. Every network's
 *   default node is there (network.ts: the wRPC JSON ports, FACTS §6.1), and so is the local
 *   network of `npm start` and the tests on whatever port they took;
 * - `wss:`: a node the user chooses in the settings, on any host, over TLS only. This one is
 *   deliberate: the node is the user's choice (there is no server of ours to trust instead),
 *   and a policy delivered with static files cannot be widened at run time to name the host
 *   chosen later (a second policy can only narrow, CSP3 §8.1). Cleartext `ws:` to another
 *   machine is not allowed at all: anyone on the path could read which addresses the user
 *   watches and lie about their coins.
 * `[::1]` is left out: CSP host sources cannot name IPv6 literals. The settings refuse a node
 * address this policy would block (`nodeUrlAllowed`), saying why, rather than let it fail as
 * "cannot reach the network".
 */
const DIRECTIVES: readonly (readonly [string, string])[] = [
  ['default-src', "'none'"],
  ['script-src', "'self'"],
  ['style-src', "'self'"],
  ['img-src', "'self' data: blob:"],
  ['media-src', "'self' blob: mediastream:"],
  ['font-src', "'self'"],
  ['connect-src', "'self' ws://127.0.0.1:* ws://localhost:* wss:"],
  ['worker-src', "'self'"],
  ['manifest-src', "'self'"],
  ['object-src', "'none'"],
  ['base-uri', "'none'"],
  ['form-action', "'none'"],
  ['require-trusted-types-for', "'script'"],
  // The only policy: main.ts vouches for the service worker URL through it.
  ['trusted-types', 'p2pcomm-sw'],
];

/** Directives a meta tag cannot carry (CSP3 §3.3): header only. */
const HEADER_ONLY: readonly (readonly [string, string])[] = [['frame-ancestors', "'none'"]];

const join = (d: readonly (readonly [string, string])[]): string => d.map(([k, v]) => `${k} ${v}`).join('; ');

/** The policy for the `<meta http-equiv="Content-Security-Policy">` tag. */
export const CSP_META = join(DIRECTIVES);

/** The policy for the HTTP header (adds what only headers may say). */
export const CSP_HEADER = join([...DIRECTIVES, ...HEADER_ONLY]);

/**
 * Whether connect-src lets the app reach a node at `url`: `wss://` anywhere, `ws://` only on
 * 127.0.0.1 or localhost (see the module comment).
 */
export function nodeUrlAllowed(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol === 'wss:') return u.host !== '';
  return u.protocol === 'ws:' && (u.hostname === '127.0.0.1' || u.hostname === 'localhost');
}
