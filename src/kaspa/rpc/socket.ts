/**
 * The runtime seam of the wRPC client (STYLE §9): a WebSocket factory and timers, both
 * injectable. The default factory uses the platform WebSocket (browsers, Node ≥ 22) and
 * falls back to the `ws` package in older Node through a dynamic import whose specifier is
 * not a literal, so browser bundles never contain `ws`.
 */

/** The subset of the WHATWG WebSocket the client uses; `ws` and browsers both provide it. */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { readonly data: unknown }) => void) | null;
  onclose: ((ev: { readonly code?: number; readonly reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** Opens a WebSocket to `url` (plain `ws://host:port`, no path, FACTS §6.1). */
export type WebSocketFactory = (url: string) => WebSocketLike | Promise<WebSocketLike>;

/** Timer functions, injectable so tests can drive backoff and timeouts. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Milliseconds since the epoch (for gap reports). */
  now(): number;
  /** Uniform in [0, 1) (for backoff jitter). */
  random(): number;
}

/** The platform's timers, clock and Math.random. */
export const systemTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>),
  now: () => Date.now(),
  random: () => Math.random(),
};

/** wRPC messages may reach 128 MiB (FACTS §5); `ws` defaults to 100 MiB. */
const MAX_MESSAGE_BYTES = 128 * 1024 * 1024;

type WebSocketConstructor = new (url: string, protocols?: unknown, options?: unknown) => WebSocketLike;

/** Platform WebSocket when there is one, else `ws` (Node 20/21). */
export const defaultWebSocketFactory: WebSocketFactory = async (url) => {
  const Native = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (Native !== undefined) return new Native(url);
  // A non-literal specifier keeps bundlers from pulling `ws` into browser builds; browsers
  // always take the branch above.
  const specifier = 'ws';
  const mod = (await import(/* @vite-ignore */ specifier)) as { default: WebSocketConstructor };
  return new mod.default(url, undefined, { maxPayload: MAX_MESSAGE_BYTES });
};

/** WebSocket readyState values (WHATWG). */
export const WS_OPEN = 1;
