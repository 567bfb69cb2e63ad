/**
 * Words and numbers as the screens show them: pure functions, no DOM, so they are tested in
 * Node and shared by every view. Main-screen words stay free of chain jargon (spec "No
 * Blockchain Exposure"); only `explorerTxUrl` and the proof view speak of transactions.
 */
import { CARD_URI_PREFIX } from '../core/contact/card.ts';
import type { ConnectionState, IceServer, MessageStatus, NetworkId, NetworkState } from './app-api.ts';
import { nodeUrlAllowed } from './csp.ts';
import { NETWORKS } from './engine/network.ts';

/**
 * Short words for a contact's reach (the dots and row labels of the chat list). A link being
 * set up counts as away: while the contact is away the engine keeps trying, and "connecting"
 * for as long as they are gone would not be true.
 */
export function connectionWords(state: ConnectionState): string {
  return state === 'connected' ? 'Connected' : 'Away';
}

/**
 * The conversation header in words that stay true: the contact is linked directly; this device
 * reaches neither the network nor the contact (`youOffline`); or the contact is away (or their
 * link is still being set up) and messages go by secure delivery, or wait in direct only mode.
 */
export function headerWords(
  state: ConnectionState,
  contactName: string,
  options: { readonly youOffline?: boolean; readonly p2pOnly?: boolean } = {},
): string {
  if (state === 'connected') return 'Connected';
  if (options.youOffline === true) return 'You are offline';
  return options.p2pOnly === true
    ? `Waiting for ${contactName}; messages will wait until you are both online`
    : `Waiting for ${contactName}; messages will be delivered securely`;
}

/** Words for whether the network is reachable (top bar and settings), free of jargon. */
export function networkStateWords(state: NetworkState): string {
  switch (state) {
    case 'online':
      return 'Online';
    case 'connecting':
      return 'Connecting to the network...';
    case 'unreachable':
      return 'Cannot reach the network - nothing is lost; queued messages go out once it is back';
  }
}

/** The same, short enough for the top bar (the full words are its tooltip and in settings). */
export function networkStateShort(state: NetworkState): string {
  switch (state) {
    case 'online':
      return 'Online';
    case 'connecting':
      return 'Connecting...';
    case 'unreachable':
      return 'Cannot reach the network';
  }
}

/**
 * Why outgoing messages wait in P2P-only mode while the contact is away, shown under the
 * conversation; undefined when nothing waits for that reason.
 */
export function waitingWords(waiting: number, contactName: string): string | undefined {
  if (waiting === 0) return undefined;
  const what = waiting === 1 ? '1 message waits' : `${waiting.toLocaleString('en-US')} messages wait`;
  return `${what}: direct only mode is on, so ${waiting === 1 ? 'it goes' : 'they go'} when ${contactName} is online. Nothing is spent.`;
}

/**
 * Tick glyphs for a message status: one tick sent, two delivered, two with the word "read"
 * once read, so delivered and read differ in shape and not by colour alone (WCAG 1.4.1).
 */
export function statusTicks(status: MessageStatus): string {
  switch (status) {
    case 'sending':
      return '\u00b7\u00b7\u00b7';
    case 'sent':
      return '\u2713';
    case 'delivered':
      return '\u2713\u2713';
    case 'read':
      return '\u2713\u2713 read';
    case 'failed':
      return '!';
  }
}

/**
 * The badge of a message that went by secure delivery: "verified delivery" only once the
 * recipient's signed receipt is there (or for a message this device received); before that
 * the proof shows publication, not delivery (NOTES §7), so it says "sent securely".
 */
export function secureBadgeWords(m: { readonly outgoing: boolean; readonly status: MessageStatus }): string {
  return !m.outgoing || m.status === 'delivered' || m.status === 'read'
    ? 'verified delivery'
    : 'sent securely';
}

/** What the composer says about a draft's length: nothing far from the limit, else a count. */
export function lengthWords(
  length: number,
  limit: number,
): { readonly text: string; readonly over: boolean } | undefined {
  if (length < limit - COUNTER_MARGIN) return undefined;
  const count = `${length.toLocaleString('en-US')} / ${limit.toLocaleString('en-US')}`;
  if (length <= limit) return { text: count, over: false };
  const by = (length - limit).toLocaleString('en-US');
  return {
    text: `${count}: too long by ${by} characters. Shorten it or send it as several messages.`,
    over: true,
  };
}

/** How close to the length limit the composer starts counting (a long paragraph's worth). */
export const COUNTER_MARGIN = 500;

/** Screen-reader words for a message status. */
export function statusWords(status: MessageStatus): string {
  switch (status) {
    case 'sending':
      return 'Sending';
    case 'sent':
      return 'Sent';
    case 'delivered':
      return 'Delivered';
    case 'read':
      return 'Read';
    case 'failed':
      return 'Not delivered';
  }
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** "14:05" in the viewer's local time. */
export function formatClock(at: number): string {
  const d = new Date(at);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

/** "14:05" today, "Mon 14:05" within a week, else "2026-11-02". */
export function formatWhen(at: number, now: number = Date.now()): string {
  const d = new Date(at);
  const today = new Date(now);
  if (d.toDateString() === today.toDateString()) return formatClock(at);
  if (now - at >= 0 && now - at < 6 * 86_400_000) {
    return `${d.toLocaleDateString('en-US', { weekday: 'short' })} ${formatClock(at)}`;
  }
  return formatDay(at);
}

/** "2026-11-02" in the viewer's local time (day separators in a conversation). */
export function formatDay(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

/** Full local date and time for tooltips and the proof view. */
export function formatFull(at: number): string {
  return `${formatDay(at)} ${formatClock(at)}:${pad2(new Date(at).getSeconds())}`;
}

/** "1 message" / "1,234 messages". */
export function countMessages(n: number): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? 'message' : 'messages'}`;
}

/** Below this many offline messages left the low-balance banner shows (spec "Low Balance Handling"). */
export const LOW_BALANCE_MESSAGES = 20;

/** Whether the low-balance banner shows (never in P2P-only mode, where nothing is spent). */
export function isLowBalance(messagesLeft: number, p2pOnly: boolean): boolean {
  return !p2pOnly && messagesLeft < LOW_BALANCE_MESSAGES;
}

/** Sompi per KAS (FACTS: 1 KAS = 10^8 sompi); only the proof and top-up paths use it. */
const SOMPI_PER_KAS = 100_000_000n;

/** "0.00223600 KAS" with exact digits (bigint, no float rounding); proof view only. */
export function formatKas(sompi: bigint): string {
  const neg = sompi < 0n;
  const abs = neg ? -sompi : sompi;
  const whole = abs / SOMPI_PER_KAS;
  const frac = String(abs % SOMPI_PER_KAS).padStart(8, '0');
  return `${neg ? '-' : ''}${whole.toLocaleString('en-US')}.${frac} KAS`;
}

/**
 * Public explorer page of a transaction, on networks that have one (`explorerTxBase` of
 * engine/network.ts; a local node has none).
 * The link carries only the public tx id.
 */
export function explorerTxUrl(network: NetworkId, txId: string): string | undefined {
  if (!/^[0-9a-f]{64}$/.test(txId)) return undefined;
  const base = NETWORKS[network].explorerTxBase;
  return base === undefined ? undefined : `${base}${txId}`;
}

/** Names shown for networks in settings and the proof view. */
export function networkWords(network: NetworkId): string {
  switch (network) {
    case 'local':
      return 'Local test network';
    case 'testnet-10':
      return 'Test network (testnet-10)';
    case 'mainnet':
      return 'Main network';
  }
}

/**
 * Extracts an invite code from what the user pasted or scanned: a full invite link
 * (`https://host/path#/add/<code>`), a `#/add/<code>` fragment, the card link
 * `p2pcomm:<code>` (also after `#`), or the bare code, with surrounding whitespace. Returns
 * undefined when nothing code-shaped is there; the engine still validates the code itself.
 */
export function inviteCodeFrom(input: string): string | undefined {
  const text = input.trim();
  // The invite URL carries the code after "#/add/"; a card link may also sit after a bare
  // "#" (docs/crypto.md §4: "fits an invite link fragment").
  const marker = '#/add/';
  const at = text.indexOf(marker);
  const hash = text.lastIndexOf('#');
  const code = at >= 0 ? text.slice(at + marker.length) : hash >= 0 ? text.slice(hash + 1) : text;
  let decoded: string;
  try {
    decoded = decodeURIComponent(code);
  } catch {
    return undefined;
  }
  // The card's own text form, `p2pcomm:<base64url>` (CARD_URI_PREFIX).
  if (decoded.toLowerCase().startsWith(CARD_URI_PREFIX)) decoded = decoded.slice(CARD_URI_PREFIX.length);
  return /^[A-Za-z0-9_-]{8,4096}$/.test(decoded) ? decoded : undefined;
}

/** The invite link for `code` under the app's own address (what the QR code carries). */
export function inviteLink(appUrl: string, code: string): string {
  const url = new URL(appUrl);
  url.search = '';
  url.hash = `/add/${code}`;
  return url.href;
}

/** Thrown by the settings parsers with the line at fault; the view shows it beside the field. */
export class SettingsInputError extends RangeError {
  constructor(
    readonly field: 'nodeUrls' | 'iceServers',
    message: string,
  ) {
    super(message);
    this.name = 'SettingsInputError';
  }
}

/** Node addresses from a textarea: one `ws://` or `wss://` URL per line, blank lines ignored. */
export function parseNodeUrls(text: string): string[] {
  const out: string[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '') continue;
    let url: URL;
    try {
      url = new URL(line);
    } catch {
      throw new SettingsInputError('nodeUrls', `Line ${i + 1}: not an address`);
    }
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
      throw new SettingsInputError('nodeUrls', `Line ${i + 1}: must start with ws:// or wss://`);
    }
    if (!nodeUrlAllowed(line)) {
      throw new SettingsInputError(
        'nodeUrls',
        `Line ${i + 1}: ws:// is only for a node on this device; use wss:// for another machine`,
      );
    }
    out.push(line);
  }
  return out;
}

/**
 * ICE servers from a textarea, one per line: `stun:host:port` or
 * `turn:host:port username credential` (RFC 7064/7065 URI schemes).
 */
export function parseIceServers(text: string): IceServer[] {
  const out: IceServer[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const parts = raw
      .trim()
      .split(/\s+/)
      .filter((p) => p !== '');
    if (parts.length === 0) continue;
    const [urls, username, credential, ...rest] = parts as [string, ...string[]];
    if (!/^(stun|stuns|turn|turns):[^\s]+$/.test(urls) || rest.length > 0) {
      throw new SettingsInputError(
        'iceServers',
        `Line ${i + 1}: expected "stun:host:port" or "turn:host:port user secret"`,
      );
    }
    const isTurn = urls.startsWith('turn');
    if (isTurn !== (username !== undefined && credential !== undefined)) {
      throw new SettingsInputError(
        'iceServers',
        `Line ${i + 1}: TURN servers need a user and secret, STUN servers none`,
      );
    }
    out.push(username !== undefined && credential !== undefined ? { urls, username, credential } : { urls });
  }
  return out;
}

/** The textarea form of ICE servers (inverse of `parseIceServers`). */
export function formatIceServers(servers: readonly IceServer[]): string {
  return servers
    .map((s) =>
      s.username !== undefined && s.credential !== undefined
        ? `${s.urls} ${s.username} ${s.credential}`
        : s.urls,
    )
    .join('\n');
}
