/**
 * Our signed pre-keys: random, kept in the encrypted session state (never derived from the
 * seed), rotated, and deleted after a grace window, so that the seed alone (recovery key,
 * or a stolen vault and its password) opens no first message sent to a deleted pre-key.
 *
 * Each pre-key is a pair, rotated together under one id: an X25519 key (X3DH §2.4 SPK) and
 * an ML-KEM-768 key, PQXDH's "last-resort" pqkem pre-key (PQXDH §2.5, §3.2). A pre-key is
 * current until it is `rotateAfterMs` old or has started `rotateAfterFirstContacts` sessions
 * (X3DH §4.6 / PQXDH §3.2: replace the signed pre-key at some interval); it is then retired,
 * still opens first-contact frames for `graceMs`, and is wiped.
 *
 * Replay (X3DH §4.2, PQXDH §4.2-4.3). Without a one-time pre-key a recorded first message
 * derives the same session keys again. Each pre-key therefore remembers the ephemeral keys
 * EK_A of the sessions it started; a first-contact frame whose EK_A is known but whose
 * session is gone is refused. The list is bounded by `rotateAfterFirstContacts` and leaves
 * with its pre-key, when every frame sealed to it stops opening at all.
 *
 * One-time pre-keys (X3DH §2.4 OPK, PQXDH §2.5 OPK). With no server to hand out a fresh key
 * per first message, a one-time X25519 pre-key is minted where one can be handed over: into
 * an invite link (card.ts, Invite), or into a batch handed to a contact in session traffic
 * (one-time-batch.ts; those secrets live with the contact's record, session-manager.ts, and
 * only their consumed ids here). An invite key's secret lives only here; the first session started
 * with it deletes it (`consumeOneTime`), so the seed plus any later copy of this state no
 * longer opens that first message (X3DH §4.4: a stolen SPK alone no longer suffices). Its id
 * is then remembered as consumed for the key's lifetime, so a second first-contact frame
 * naming it is refused (SessionError ONE_TIME_KEY_USED) rather than started without it.
 * Unclaimed one-time keys are bounded in number (`maxOneTime`, the oldest wiped first) and
 * in age (`oneTimeLifetimeMs`). No one-time ML-KEM key is minted: its public key is 1,184
 * bytes, which would grow an invite link by 1,579 characters (past what a QR code carries
 * well), and PQXDH §3.2 allows the last-resort pqkem pre-key alone; the one-time X25519 key
 * adds forward secrecy against a later theft of this state, while the signed ML-KEM pre-key
 * keeps an archive closed to a future quantum computer (docs/crypto.md §1).
 *
 * Binary layout (inside the session state; state versions 3 and 4, version 2 lacks the last part):
 *
 *   varuint n | n × (u32 id | u64 createdAt ms | u64 retiredAt ms (0 = current)
 *                    | x25519 secret[32] | ML-KEM seed[64] | varuint firstContacts
 *                    | varuint m | m × EK_A[32])
 *   | varuint k | k × (u32 id | u64 createdAt ms | x25519 secret[32])     unclaimed one-time
 *   | varuint c | c × (u32 id | u64 consumedAt ms)                        consumed one-time ids
 */
import type { ByteReader, ByteWriter } from '../../util/binary.ts';
import { DecodeError, assertInteger } from '../../util/errors.ts';
import { bytesToHex, equalBytes, hexToBytes, randomBytes, wipe } from '../../util/bytes.ts';
import {
  ML_KEM,
  mlKemKeyPair,
  randomX25519KeyPair,
  x25519KeyPair,
  type MlKemPublicKey,
  type PublicPreKey,
  type X25519KeyPair,
  type X25519PublicKey,
} from '../identity/keys.ts';

export type { PublicPreKey };

const DAY_MS = 86_400_000;

/** When pre-keys rotate and how long a retired one still opens first messages. */
export interface PreKeyPolicy {
  /** Age at which the current pre-key is replaced. @default 7 days */
  readonly rotateAfterMs: number;
  /** Sessions started under one pre-key before it is replaced. @default 50 */
  readonly rotateAfterFirstContacts: number;
  /**
   * How long a replaced pre-key still opens first-contact frames before it is wiped.
   * @default 14 days: a chain message is republished every 20 h, 4 times, and each copy is
   * readable for ~30 h (docs/delivery.md, NOTES §3), ~90 h in all; 14 days also covers a
   * sender whose message waits for funds, and equals the envelope replay window (older
   * envelopes are refused anyway).
   */
  readonly graceMs: number;
  /** How long an unclaimed one-time pre-key is kept. @default 21 days, an invite's useful life */
  readonly oneTimeLifetimeMs?: number;
  /** Most unclaimed one-time pre-keys kept (the oldest is wiped first). @default 100 */
  readonly maxOneTime?: number;
}

/** The defaults above. */
export const DEFAULT_PREKEY_POLICY: PreKeyPolicy = {
  rotateAfterMs: 7 * DAY_MS,
  rotateAfterFirstContacts: 50,
  graceMs: 14 * DAY_MS,
  oneTimeLifetimeMs: 21 * DAY_MS,
  maxOneTime: 100,
};

/** A one-time pre-key as an invite carries it. */
export interface PublicOneTimeKey {
  readonly id: number;
  readonly publicKey: X25519PublicKey;
}

interface OneTimeEntry {
  readonly id: number;
  readonly createdAt: number;
  readonly dh: X25519KeyPair;
}

/** Most consumed one-time ids remembered (each leaves after the one-time lifetime anyway). */
const MAX_CONSUMED = 1000;
/** Largest `maxOneTime` a policy may set (bounds the state). */
const MAX_ONE_TIME_LIMIT = 1000;

/** One of our pre-keys with its secrets. */
export interface PreKeyPair {
  readonly id: number;
  readonly dh: X25519KeyPair;
  readonly kemPublicKey: MlKemPublicKey;
  /** The expanded ML-KEM-768 decapsulation key. */
  readonly kemSecretKey: Uint8Array;
}

interface Entry {
  readonly id: number;
  readonly createdAt: number;
  retiredAt: number;
  readonly dh: X25519KeyPair;
  readonly kemSeed: Uint8Array;
  kem: { publicKey: MlKemPublicKey; secretKey: Uint8Array } | null;
  firstContacts: number;
  readonly seen: Set<string>;
}

/** Most pre-keys a state may hold: the current one and those in their grace window. */
const MAX_KEYS = 64;

function checkPolicy(p: PreKeyPolicy): Required<PreKeyPolicy> {
  assertInteger('rotateAfterMs', p.rotateAfterMs, 1, Number.MAX_SAFE_INTEGER);
  assertInteger('rotateAfterFirstContacts', p.rotateAfterFirstContacts, 1, 1_000_000);
  assertInteger('graceMs', p.graceMs, 0, Number.MAX_SAFE_INTEGER);
  const full = { ...DEFAULT_PREKEY_POLICY, ...p } as Required<PreKeyPolicy>;
  assertInteger('oneTimeLifetimeMs', full.oneTimeLifetimeMs, 1, Number.MAX_SAFE_INTEGER);
  assertInteger('maxOneTime', full.maxOneTime, 0, MAX_ONE_TIME_LIMIT);
  return full;
}

/** A random 31-bit pre-key id (signed and one-time pre-keys, and batch keys, session-manager.ts). */
export function randomId(): number {
  return new DataView(randomBytes(4).buffer).getUint32(0) >>> 1;
}

function newEntry(id: number, now: number): Entry {
  return {
    id,
    createdAt: now,
    retiredAt: 0,
    dh: randomX25519KeyPair(),
    kemSeed: randomBytes(ML_KEM.seed),
    kem: null,
    firstContacts: 0,
    seen: new Set(),
  };
}

/** Our pre-keys: one current, the retired ones still inside their grace window. */
export class PreKeyRing {
  readonly policy: Required<PreKeyPolicy>;
  readonly #keys: Entry[];
  /** Unclaimed one-time pre-keys, oldest first. */
  readonly #oneTime: OneTimeEntry[];
  /** Consumed one-time ids and when, oldest first. */
  readonly #consumed: Map<number, number>;

  private constructor(
    keys: Entry[],
    policy: PreKeyPolicy,
    oneTime: OneTimeEntry[] = [],
    consumed = new Map<number, number>(),
  ) {
    this.#keys = keys;
    this.policy = checkPolicy(policy);
    this.#oneTime = oneTime;
    this.#consumed = consumed;
  }

  /** A ring with one fresh pre-key; its id is random, later ids count up from it. */
  static create(now: number, policy: PreKeyPolicy = DEFAULT_PREKEY_POLICY): PreKeyRing {
    return new PreKeyRing([newEntry(randomId(), now)], policy);
  }

  /**
   * Mints `count` one-time pre-keys (fewer when the policy keeps fewer); the oldest unclaimed
   * ones are wiped to stay within `maxOneTime`. Save the state before handing them out.
   */
  mintOneTime(now: number, count: number): PublicOneTimeKey[] {
    assertInteger('count', count, 0, MAX_ONE_TIME_LIMIT);
    const n = Math.min(count, this.policy.maxOneTime);
    const out: PublicOneTimeKey[] = [];
    for (let i = 0; i < n; i++) {
      while (this.#oneTime.length >= this.policy.maxOneTime) this.#wipeOneTime(0);
      let id = randomId();
      while (this.#oneTime.some((e) => e.id === id) || this.#consumed.has(id)) id = randomId();
      const e: OneTimeEntry = { id, createdAt: now, dh: randomX25519KeyPair() };
      this.#oneTime.push(e);
      out.push({ id, publicKey: e.dh.publicKey });
    }
    return out;
  }

  /** The unclaimed one-time pre-key `id`, 'consumed' when a session already used it, else undefined. */
  oneTime(id: number): X25519KeyPair | 'consumed' | undefined {
    if (this.#consumed.has(id)) return 'consumed';
    return this.#oneTime.find((e) => e.id === id)?.dh;
  }

  /** True when one-time pre-key `id` is unclaimed. */
  holdsOneTime(id: number): boolean {
    return this.#oneTime.some((e) => e.id === id);
  }

  /** True when `id` names an unclaimed or a consumed one-time pre-key (a new key needs another id). */
  oneTimeIdTaken(id: number): boolean {
    return this.#consumed.has(id) || this.#oneTime.some((e) => e.id === id);
  }

  /** Deletes one-time pre-key `id` after a session started with it; its id is remembered. */
  consumeOneTime(id: number, now: number): void {
    const i = this.#oneTime.findIndex((e) => e.id === id);
    if (i < 0) return;
    this.#wipeOneTime(i);
    this.markConsumed(id, now);
  }

  /**
   * Remembers `id` as consumed, for a one-time pre-key kept elsewhere (a batch handed to a
   * contact, session-manager.ts), so a second first-contact frame naming it is refused.
   */
  markConsumed(id: number, now: number): void {
    this.#consumed.delete(id);
    this.#consumed.set(id, now);
    for (const old of this.#consumed.keys()) {
      if (this.#consumed.size <= MAX_CONSUMED) break;
      this.#consumed.delete(old);
    }
  }

  /** Forgets that ephemeral key `ek` started a session (its session was deleted with its sender). */
  unsee(ek: X25519PublicKey): boolean {
    const hex = bytesToHex(ek);
    let changed = false;
    for (const e of this.#keys) changed = e.seen.delete(hex) || changed;
    return changed;
  }

  #wipeOneTime(i: number): void {
    const [e] = this.#oneTime.splice(i, 1);
    if (e !== undefined) wipe(e.dh.secretKey);
  }

  /** The pre-key that cards announce now. */
  current(): PublicPreKey {
    return this.#public(this.#current());
  }

  /** Every pre-key that still opens first-contact frames, newest first. */
  active(): PreKeyPair[] {
    return this.#keys.map((e) => {
      const kem = this.#kem(e);
      return { id: e.id, dh: e.dh, kemPublicKey: kem.publicKey, kemSecretKey: kem.secretKey };
    });
  }

  /** True when `publicKey` is one of the pre-keys we hold. */
  holds(id: number, publicKey: X25519PublicKey): boolean {
    return this.#keys.some((e) => e.id === id && equalBytes(e.dh.publicKey, publicKey));
  }

  /** True when pre-key `id` already started a session from ephemeral key `ek`. */
  hasSeen(id: number, ek: X25519PublicKey): boolean {
    return this.#keys.find((e) => e.id === id)?.seen.has(bytesToHex(ek)) ?? false;
  }

  /**
   * False when pre-key `id` may start no more sessions: a retired key that has started four
   * times its quota (someone floods an old card), so its replay list stays bounded.
   */
  mayStart(id: number): boolean {
    const e = this.#keys.find((k) => k.id === id);
    if (e === undefined) return false;
    return e.retiredAt === 0 || e.seen.size < 4 * this.policy.rotateAfterFirstContacts;
  }

  /** Records a session started under pre-key `id` from `ek`; the caller then calls `refresh`. */
  accept(id: number, ek: X25519PublicKey): void {
    const e = this.#keys.find((k) => k.id === id);
    if (e === undefined) return;
    e.seen.add(bytesToHex(ek));
    e.firstContacts += 1;
  }

  /**
   * Rotates the current pre-key when it is due and wipes retired ones past their grace
   * window. True when anything changed (the card must then be re-issued and the state saved).
   */
  refresh(now: number): boolean {
    let changed = false;
    const cur = this.#current();
    if (
      now - cur.createdAt >= this.policy.rotateAfterMs ||
      cur.firstContacts >= this.policy.rotateAfterFirstContacts
    ) {
      cur.retiredAt = now;
      this.#keys.unshift(newEntry((cur.id + 1) >>> 0, now));
      changed = true;
    }
    for (let i = this.#keys.length - 1; i >= 1; i--) {
      const e = this.#keys[i]!;
      if (now - e.retiredAt >= this.policy.graceMs || i >= MAX_KEYS) {
        this.#keys.splice(i, 1);
        wipe(e.dh.secretKey, e.kemSeed, ...(e.kem ? [e.kem.secretKey] : []));
        changed = true;
      }
    }
    const life = this.policy.oneTimeLifetimeMs;
    for (let i = this.#oneTime.length - 1; i >= 0; i--) {
      if (now - this.#oneTime[i]!.createdAt < life) continue;
      this.#wipeOneTime(i);
      changed = true;
    }
    for (const [id, at] of this.#consumed) {
      if (now - at < life) continue;
      this.#consumed.delete(id);
      changed = true;
    }
    return changed;
  }

  #current(): Entry {
    return this.#keys[0]!;
  }

  #kem(e: Entry): { publicKey: MlKemPublicKey; secretKey: Uint8Array } {
    e.kem ??= mlKemKeyPair(e.kemSeed);
    return e.kem;
  }

  #public(e: Entry): PublicPreKey {
    return { id: e.id, publicKey: e.dh.publicKey, kemPublicKey: this.#kem(e).publicKey };
  }

  /** Writes the ring into `w` (part of the session state). */
  write(w: ByteWriter): void {
    w.varUint(this.#keys.length);
    for (const e of this.#keys) {
      w.u32(e.id).u64(e.createdAt).u64(e.retiredAt).bytes(e.dh.secretKey).bytes(e.kemSeed);
      w.varUint(e.firstContacts).varUint(e.seen.size);
      for (const ek of e.seen) w.bytes(hexToBytes(ek));
    }
    w.varUint(this.#oneTime.length);
    for (const e of this.#oneTime) w.u32(e.id).u64(e.createdAt).bytes(e.dh.secretKey);
    w.varUint(this.#consumed.size);
    for (const [id, at] of this.#consumed) w.u32(id).u64(at);
  }

  /**
   * Reads `write` output; DecodeError on anything else. `withOneTime` false reads the ring of
   * a version 2 state, which held no one-time pre-keys.
   */
  static read(r: ByteReader, policy: PreKeyPolicy = DEFAULT_PREKEY_POLICY, withOneTime = true): PreKeyRing {
    const n = r.varUint('pre-key count');
    if (n < 1 || n > MAX_KEYS) throw new DecodeError('MALFORMED', `session state holds ${n} pre-keys`);
    const keys: Entry[] = [];
    for (let i = 0; i < n; i++) {
      const id = r.u32('pre-key id');
      const createdAt = r.safeU64('pre-key creation');
      const retiredAt = r.safeU64('pre-key retirement');
      const dh = x25519KeyPair(r.bytes(32, 'pre-key secret'));
      const kemSeed = r.bytes(ML_KEM.seed, 'ML-KEM seed');
      const firstContacts = r.varUint('first contacts');
      const m = r.varUint('seen count');
      if (m > firstContacts)
        throw new DecodeError('MALFORMED', 'more seen ephemeral keys than first contacts');
      const seen = new Set<string>();
      for (let j = 0; j < m; j++) seen.add(bytesToHex(r.bytes(32, 'seen ephemeral key')));
      if ((i === 0) !== (retiredAt === 0)) throw new DecodeError('MALFORMED', 'pre-key retirement');
      if (keys.some((k) => k.id === id)) throw new DecodeError('MALFORMED', 'duplicate pre-key id');
      keys.push({ id, createdAt, retiredAt, dh, kemSeed, kem: null, firstContacts, seen });
    }
    const oneTime: OneTimeEntry[] = [];
    const consumed = new Map<number, number>();
    if (withOneTime) {
      const k = r.varUint('one-time pre-key count');
      if (k > MAX_ONE_TIME_LIMIT)
        throw new DecodeError('MALFORMED', `session state holds ${k} one-time pre-keys`);
      for (let i = 0; i < k; i++) {
        const id = r.u32('one-time pre-key id');
        const createdAt = r.safeU64('one-time pre-key creation');
        const dh = x25519KeyPair(r.bytes(32, 'one-time pre-key secret'));
        if (oneTime.some((e) => e.id === id))
          throw new DecodeError('MALFORMED', 'duplicate one-time pre-key id');
        oneTime.push({ id, createdAt, dh });
      }
      const c = r.varUint('consumed one-time count');
      if (c > MAX_CONSUMED)
        throw new DecodeError('MALFORMED', `session state holds ${c} consumed one-time ids`);
      for (let i = 0; i < c; i++) {
        const id = r.u32('consumed one-time id');
        const at = r.safeU64('consumption time');
        if (consumed.has(id) || oneTime.some((e) => e.id === id))
          throw new DecodeError('MALFORMED', 'duplicate consumed one-time id');
        consumed.set(id, at);
      }
    }
    return new PreKeyRing(keys, policy, oneTime, consumed);
  }
}
