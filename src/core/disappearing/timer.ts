/**
 * Disappearing messages (spec Phase 3): a per-conversation timer, set by either side, after
 * which the conversation's messages are deleted from both devices' stores.
 *
 * Agreement. A change of the timer is itself a message (envelope type 15, docs/protocol.md
 * "Envelope type 15: disappearing timer"), shown on both sides ("Bob set disappearing messages
 * to 1 hour"). Each setting is named by (setAt, id): the sender's clock at the change and the
 * envelope's 128-bit random id. The rule, the same on both devices: the setting with the
 * greatest (setAt, then id as unsigned bytes) is the conversation's timer, whatever order the
 * settings arrived in, so two devices that have seen the same settings agree, and a change
 * made on both sides at once resolves to the same one everywhere.
 *
 * Which timer a message gets: the setting in force when it was written, i.e. the greatest
 * setting with setAt <= the message's sentAt (sender's clock, as the conversation is
 * ordered). A message written before any setting, or under "off", never expires.
 *
 * When it expires: an outgoing message at sentAt + timer; an incoming one at receivedAt +
 * timer (the time it reached this device), so a recipient who was offline longer than the
 * timer still sees it once. Expired messages are deleted from the store, checked when the
 * profile opens (the app may have been closed at expiry) and on a timer while it is open
 * (`DisappearingSweeper`), and filtered out of every read in between.
 *
 * What it does not do: it cannot erase the encrypted copy of a message that went by secure
 * delivery from the public ledger, where nodes keep it until pruning (about 30 hours,
 * NOTES §3) and anyone may archive it (NOTES §6); nor a screenshot, a photo of the screen or
 * a copy the contact made.
 */
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { DecodeError } from '../../util/errors.ts';

/** The timers one may choose, in seconds: off, 5 minutes, 1 hour, 1 day, 1 week. */
export const DISAPPEARING_SECONDS = [0, 300, 3600, 86_400, 604_800] as const;
/** One of `DISAPPEARING_SECONDS`. */
export type DisappearingSeconds = (typeof DISAPPEARING_SECONDS)[number];

/** Whether `n` is one of the timers one may choose. */
export function isDisappearingSeconds(n: unknown): n is DisappearingSeconds {
  return typeof n === 'number' && (DISAPPEARING_SECONDS as readonly number[]).includes(n);
}

/** A timer in words: "off", "5 minutes", "1 hour", "1 day", "1 week". */
export function disappearingWords(seconds: DisappearingSeconds): string {
  switch (seconds) {
    case 0:
      return 'off';
    case 300:
      return '5 minutes';
    case 3600:
      return '1 hour';
    case 86_400:
      return '1 day';
    case 604_800:
      return '1 week';
  }
}

/** One change of a conversation's timer. */
export interface TimerSetting {
  /** The envelope id of the change (16 bytes). */
  readonly id: Uint8Array;
  /** The setter's clock at the change, Unix ms. */
  readonly setAt: number;
  readonly seconds: DisappearingSeconds;
  /** Who changed it: this device's user, or the contact. */
  readonly by: 'me' | 'contact';
}

/** Unsigned lexicographic order of two byte strings. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Orders settings by the agreement rule: (setAt, then id as unsigned bytes). */
export function compareSettings(a: TimerSetting, b: TimerSetting): number {
  return a.setAt - b.setAt || compareBytes(a.id, b.id);
}

/** The conversation's timer now: the newest setting by `compareSettings`, or undefined. */
export function currentSetting(settings: readonly TimerSetting[]): TimerSetting | undefined {
  let best: TimerSetting | undefined;
  for (const s of settings) if (best === undefined || compareSettings(s, best) > 0) best = s;
  return best;
}

/** The setting in force when a message was written at `sentAt`, or undefined. */
export function settingAt(settings: readonly TimerSetting[], sentAt: number): TimerSetting | undefined {
  return currentSetting(settings.filter((s) => s.setAt <= sentAt));
}

/** What the expiry of a message depends on. */
export interface TimedMessage {
  readonly direction: 'in' | 'out';
  readonly sentAt: number;
  /** Incoming only: when it reached this device. */
  readonly receivedAt?: number;
}

/** When a message expires (Unix ms), or undefined when it never does. */
export function expiresAt(settings: readonly TimerSetting[], m: TimedMessage): number | undefined {
  const s = settingAt(settings, m.sentAt);
  if (s === undefined || s.seconds === 0) return undefined;
  const base = m.direction === 'in' ? (m.receivedAt ?? m.sentAt) : m.sentAt;
  return base + s.seconds * 1000;
}

/** Most settings kept per conversation; the oldest goes first (see the record's doc). */
export const MAX_SETTINGS = 16;

/** Adds a setting (idempotent by id), keeping the newest `MAX_SETTINGS`, oldest first. */
export function addSetting(settings: readonly TimerSetting[], s: TimerSetting): TimerSetting[] {
  if (settings.some((x) => compareBytes(x.id, s.id) === 0)) return [...settings];
  return [...settings, s].sort(compareSettings).slice(-MAX_SETTINGS);
}

// ---- envelope type 15 body -----------------------------------------------------------------

/** The body of envelope type 15: u32 seconds (little-endian), one of `DISAPPEARING_SECONDS`. */
export function encodeTimerBody(w: ByteWriter, seconds: number): ByteWriter {
  if (!isDisappearingSeconds(seconds))
    throw new RangeError(`"seconds" expected one of ${DISAPPEARING_SECONDS.join(', ')}, got ${seconds}`);
  return w.u32(seconds);
}

/** Reads the body of envelope type 15; another value is refused with DecodeError MALFORMED. */
export function decodeTimerBody(r: ByteReader): DisappearingSeconds {
  const seconds = r.u32('disappearing timer');
  if (!isDisappearingSeconds(seconds))
    throw new DecodeError('MALFORMED', `disappearing timer of ${seconds} s is not one this version offers`);
  return seconds;
}

// ---- stored settings (docs/protocol.md "Disappearing timer record") -----------------------

const RECORD_VERSION = 1;

/**
 * A conversation's settings in stored form:
 *
 *     u8 version=1 | u8 n (0..16) | n × (id[16] | u64 setAt | u32 seconds | u8 by (0 me, 1 contact))
 */
export function encodeSettings(settings: readonly TimerSetting[]): Uint8Array {
  if (settings.length > MAX_SETTINGS) throw new RangeError(`at most ${MAX_SETTINGS} settings`);
  const w = new ByteWriter(2 + settings.length * 29).u8(RECORD_VERSION).u8(settings.length);
  for (const s of settings) {
    if (!(s.id instanceof Uint8Array) || s.id.length !== 16) throw new TypeError('"id" expected 16 bytes');
    w.bytes(s.id).u64(s.setAt);
    encodeTimerBody(w, s.seconds).u8(s.by === 'me' ? 0 : 1);
  }
  return w.finish();
}

/** Parses a stored record; malformed bytes throw DecodeError. */
export function decodeSettings(bytes: Uint8Array): TimerSetting[] {
  const r = new ByteReader(bytes);
  const version = r.u8('disappearing record version');
  if (version !== RECORD_VERSION)
    throw new DecodeError('UNKNOWN_VERSION', `disappearing timer record version ${version}`);
  const n = r.u8('setting count');
  if (n > MAX_SETTINGS) throw new DecodeError('MALFORMED', `${n} settings, at most ${MAX_SETTINGS}`);
  const out: TimerSetting[] = [];
  for (let i = 0; i < n; i++) {
    const id = r.bytes(16, 'setting id');
    const setAt = r.u64('setAt');
    if (setAt > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError('MALFORMED', 'setAt out of range');
    const seconds = decodeTimerBody(r);
    const by = r.u8('setter');
    if (by > 1) throw new DecodeError('MALFORMED', `setter ${by}`);
    out.push({ id, setAt: Number(setAt), seconds, by: by === 0 ? 'me' : 'contact' });
  }
  r.end('disappearing timer record');
  return out.sort(compareSettings);
}

// ---- enforcement ------------------------------------------------------------------------------

/** What the sweeper needs from the app: the stored messages with their expiry, and deletion. */
export interface DisappearingPort {
  /** The earliest expiry among stored messages (Unix ms), or undefined when none expires. */
  nextExpiry(): Promise<number | undefined>;
  /** Deletes every stored message expired at `now`; resolves with how many went. */
  deleteExpired(now: number): Promise<number>;
  /** Told of each sweep that deleted messages (the UI re-reads), and of failures. */
  onSwept?(count: number): void;
  onError?(error: Error): void;
}

/** Longest sleep between sweeps: a clock change or a missed timer is caught within it. */
export const MAX_SWEEP_INTERVAL_MS = 60_000;

/**
 * Deletes expired messages now (the app may have been closed when they expired) and then at
 * each next expiry while running, at least every `MAX_SWEEP_INTERVAL_MS`. One sweep runs at a
 * time; `stop` ends it.
 */
export class DisappearingSweeper {
  readonly #port: DisappearingPort;
  readonly #now: () => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(port: DisappearingPort, now: () => number = Date.now) {
    this.#port = port;
    this.#now = now;
  }

  /** Runs a sweep now and schedules the next; resolves when this sweep is done. */
  sweep(): Promise<void> {
    const run = this.#running.then(async () => {
      if (this.#stopped) return;
      clearTimeout(this.#timer);
      try {
        const count = await this.#port.deleteExpired(this.#now());
        if (count > 0) this.#port.onSwept?.(count);
        const next = await this.#port.nextExpiry();
        if (this.#stopped) return;
        const wait =
          next === undefined
            ? MAX_SWEEP_INTERVAL_MS
            : Math.min(MAX_SWEEP_INTERVAL_MS, Math.max(0, next - this.#now()));
        this.#timer = setTimeout(() => void this.sweep(), wait + 1);
      } catch (e) {
        this.#port.onError?.(e instanceof Error ? e : new Error(String(e)));
        if (!this.#stopped) this.#timer = setTimeout(() => void this.sweep(), MAX_SWEEP_INTERVAL_MS);
      }
    });
    this.#running = run;
    return run;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }
}
