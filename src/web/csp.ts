/**
 * The app's Content-Security-Policy, one source for the meta tag (build) and the HTTP header
 * (dev server). No inline script or style, no eval, no plugins, no framing; Trusted Types
 * make any stray HTML-string sink (innerHTML and friends) throw instead of parsing markup.
 * connect-src allows ws:/wss: because the node addresses are the user's choice (settings).
 */
const DIRECTIVES: readonly (readonly [string, string])[] = [
  ['default-src', "'none'"],
  ['script-src', "'self'"],
  ['style-src', "'self'"],
  ['img-src', "'self' data: blob:"],
  ['media-src', "'self' blob: mediastream:"],
  ['font-src', "'self'"],
  ['connect-src', "'self' ws: wss:"],
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
