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

/**
 * Largest frame the client reads by default: 64 MiB. A reply as large as a hostile node
 * likes would freeze the app however fast the parser is, and kaspad itself writes frames up
 * to 128 MiB (FACTS §5), so the limit sits between what real replies need and that cap:
 * - getBlock of a full block: a block carries at most 250,000 transaction bytes (transient
 *   mass ≤ 1,000,000 at 4 grams per byte, FACTS §4.2, §4.4); as JSON (hex doubles the bytes,
 *   field names and verbose data of a smallest 118-byte input add about 3x more) that is
 *   under 2 MB, 30 times below the limit;
 * - getVirtualChainFromBlockV2: one page holds up to 2,480 chain blocks (FACTS §6.5), at
 *   verbosity High with the payloads of every transaction they accepted. 64 MiB is about
 *   30 full blocks' worth, far above the chain's load so far; a node that sends more is
 *   refused with FRAME_TOO_LARGE (the caller can ask again from a later block), and
 *   `maxFrameBytes` raises the limit.
 * `ws` defaults to 100 MiB.
 */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

type WebSocketConstructor = new (url: string, protocols?: unknown, options?: unknown) => WebSocketLike;

/**
 * The platform WebSocket when there is one, else `ws` (Node 20/21) refusing frames over
 * `maxFrameBytes` before buffering them (it closes with 1009). Browsers have no such option:
 * the client checks the size of every frame before parsing it.
 */
export function platformWebSocketFactory(maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES): WebSocketFactory {
  return async (url) => {
    const Native = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (Native !== undefined) return new Native(url);
    // A non-literal specifier keeps bundlers from pulling `ws` into browser builds; browsers
    // always take the branch above.
    const specifier = 'ws';
    const mod = (await import(/* @vite-ignore */ specifier)) as { default: WebSocketConstructor };
    return new mod.default(url, undefined, { maxPayload: maxFrameBytes });
  };
}

/** Platform WebSocket when there is one, else `ws` (Node 20/21), with the default frame limit. */
export const defaultWebSocketFactory: WebSocketFactory = platformWebSocketFactory();

/** Close code of a WebSocket refusing a message as too big (RFC 6455 §7.4.1). */
export const WS_MESSAGE_TOO_BIG = 1009;

/** WebSocket readyState values (WHATWG). */
export const WS_OPEN = 1;
