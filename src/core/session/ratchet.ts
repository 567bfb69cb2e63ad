/**
 * Double Ratchet with header encryption (Signal, "The Double Ratchet Algorithm", rev. 1,
 * §3 and §4), one instance per session.
 *
 * Frame = tag[8] | encHeader | ciphertext
 *   tag        = headerTag(HKs, Ns).tag (kdf.ts): pseudorandom, different for every message
 *   encHeader  = XChaCha20-Poly1305(HKs, headerTag(HKs, Ns).nonce, aad = tag)(header)
 *   header     = u8 version=2 | DHs public[32] | u32 PN | u32 L   (DR §3.2 HEADER, §4.3)
 *   ciphertext = XChaCha20-Poly1305(mk)(plaintext, aad = AD | tag | encHeader)   (DR §3.4)
 *
 * L is the length of `ciphertext`. It sits in the encrypted header so that a frame delimits
 * itself for its recipient alone: inside a batch (envelope/batch.ts) frames carry no length
 * in clear, and the recipient, having found a frame by its tag, learns where it ends from the
 * header. Version 1 headers had no L; a version-1 frame no longer authenticates (the header
 * is four bytes shorter) and is refused as DECRYPT_FAILED.
 *
 * The message number N is not sent: it is implied by the tag, which the recipient looks up
 * among the tags it precomputed for HKr and NHKr (the two keys DR §4.4 DecryptHeader tries)
 * and for its skipped message keys. A lookup replaces the trial decryptions of §4.4 and is
 * what lets a device pick its entries out of a public batch (envelope/batch.ts). Nothing in
 * a frame is constant across messages, so an observer cannot link two frames (NOTES §6).
 *
 * State changes are made on a copy and kept only when the message authenticates (DR §3.5:
 * a forged message must not advance or corrupt the state).
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { SessionError } from '../errors.ts';
import { ByteReader, ByteWriter } from '../../util/binary.ts';
import { DecodeError, assertInteger } from '../../util/errors.ts';
import { bytesToHex, concatBytes, equalBytes, hexToBytes, wipe } from '../../util/bytes.ts';
import {
  asX25519PublicKey,
  randomX25519KeyPair,
  x25519KeyPair,
  x25519Shared,
  type X25519KeyPair,
  type X25519PublicKey,
} from '../identity/keys.ts';
import { TAG_BYTES, headerTag, headerTagger, kdfChain, kdfRoot, messageCipherKeys } from './kdf.ts';

/**
 * Bounds on what a session keeps for late messages, and so on the work a peer can cause.
 * One received frame costs at most `lookahead - 1 + maxSkipped` chain steps: a gap inside
 * the current chain is found only within the tag window (at most `lookahead - 1` skipped),
 * and the end of a previous chain announced by a header's PN may lie at most `maxSkipped`
 * ahead (DR §3.5 MAX_SKIP). Loading costs O(lookahead + maxSkipped) HMACs, whatever the
 * counters: a peer that pushes its counter up by a full window per frame gains nothing.
 */
export interface RatchetLimits {
  /** Messages ahead of the last received one whose tags are precomputed (and most a chain may skip). */
  readonly lookahead: number;
  /** Most skipped message keys kept; the oldest go first (DR §3.5 MAX_SKIP, §8.4). */
  readonly maxSkipped: number;
  /** Age after which a skipped key is deleted, so a late copy cannot be opened forever. */
  readonly maxSkippedAgeMs: number;
  /** Tags of delivered messages remembered to recognise duplicates. */
  readonly recentTags: number;
}

/** Defaults sized for the chain path: messages republished within the ~30 h pruning window (NOTES §3). */
export const DEFAULT_RATCHET_LIMITS: RatchetLimits = {
  lookahead: 128,
  maxSkipped: 1000,
  maxSkippedAgeMs: 30 * 24 * 3600 * 1000,
  recentTags: 256,
};

/** Refuses limits that would break the bounds above (RangeError names the field). */
function checkLimits(l: RatchetLimits): void {
  assertInteger('limits.lookahead', l.lookahead, 1, 4096);
  // The keys a window gap leaves behind must fit among the kept skipped keys.
  assertInteger('limits.maxSkipped', l.maxSkipped, l.lookahead, 100_000);
  assertInteger('limits.maxSkippedAgeMs', l.maxSkippedAgeMs, 0, 10 * 365 * 24 * 3600 * 1000);
  assertInteger('limits.recentTags', l.recentTags, 0, 65_536);
}

/**
 * State version 1: every DH ratchet step complete. Version 2: the same layout, with flag 32,
 * the sending half of the last step still to do (`prepareSend`). A state without it is
 * written as version 1, byte for byte as before.
 */
const STATE_VERSION = 1;
const PENDING_STATE_VERSION = 2;
/** Flag bit of version 2: the sending half of the last DH ratchet step is still to do. */
const SEND_PENDING = 32;
const HEADER_VERSION = 2;
const HEADER_BYTES = 1 + 32 + 4 + 4;
const ENC_HEADER_BYTES = HEADER_BYTES + 16;
/** Bytes a frame adds to its plaintext: tag, encrypted header, AEAD tag. */
export const FRAME_OVERHEAD = TAG_BYTES + ENC_HEADER_BYTES + 16;
const MAX_AD_BYTES = 256;
/** Largest plaintext of one frame (16 MiB): far above any transport's message limit. */
const MAX_PLAINTEXT_BYTES = 1 << 24;

interface SkippedKey {
  readonly hk: Uint8Array;
  readonly n: number;
  readonly mk: Uint8Array;
  readonly at: number;
  readonly tag: string;
}

type Slot =
  | { readonly kind: 'current'; readonly n: number; readonly nonce: Uint8Array }
  | { readonly kind: 'next'; readonly n: number; readonly nonce: Uint8Array }
  | { readonly kind: 'skipped'; readonly key: SkippedKey };

/** Tags that became expected or stopped being expected since they were last taken. */
export interface TagChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/** Outcome of `Ratchet.decrypt`. */
export type RatchetResult =
  | {
      readonly kind: 'message';
      readonly plaintext: Uint8Array;
      /** Bytes of the frame (tag, header, ciphertext): less than the input in `prefix` framing. */
      readonly length: number;
    }
  | { readonly kind: 'duplicate' };

/**
 * How `decrypt` reads its input: `exact`, the input is one frame (a transport message);
 * `prefix`, the frame starts the input and its header says where it ends (a batch, whose
 * frames are not delimited in clear).
 */
export type Framing = 'exact' | 'prefix';

function aead(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array): ReturnType<typeof xchacha20poly1305> {
  return xchacha20poly1305(key, nonce, aad);
}

/**
 * The last message number a sender may use: `encrypt` refuses to go past it, so a receiver
 * never looks for a tag beyond it (HMAC input is u32be(N), which would otherwise wrap to 0).
 */
const MAX_MESSAGE_NUMBER = 0xffff_fffe;

/** A precomputed tag (hex) and the header nonce from the same HMAC output (kdf.ts). */
interface CachedTag {
  readonly hex: string;
  readonly nonce: Uint8Array;
}

/**
 * Tags of the current windows, per header key. Each tag is HMAC(HK, N) for one N, computed
 * on its own: a window [N, N + lookahead) costs `lookahead` HMACs wherever N is, so loading
 * a session and moving a window cost O(lookahead) whatever the counter (never O(N)), and
 * memory holds the windows alone. When a window slides, only the new numbers are computed,
 * and a new chain's window reuses the tags computed for it as the next header key's.
 */
class TagWindows {
  readonly #byKey = new Map<
    string,
    { readonly tag: ReturnType<typeof headerTagger>; readonly cache: Map<number, CachedTag> }
  >();

  #of(hk: Uint8Array): {
    readonly tag: ReturnType<typeof headerTagger>;
    readonly cache: Map<number, CachedTag>;
  } {
    const id = bytesToHex(hk);
    let w = this.#byKey.get(id);
    if (w === undefined) {
      w = { tag: headerTagger(hk), cache: new Map() };
      this.#byKey.set(id, w);
    }
    return w;
  }

  get(hk: Uint8Array, n: number): CachedTag {
    const w = this.#of(hk);
    let c = w.cache.get(n);
    if (c === undefined) {
      const { tag, nonce } = w.tag(n);
      c = { hex: bytesToHex(tag), nonce };
      w.cache.set(n, c);
    }
    return c;
  }

  /** Forgets the tag of a number that left its window. */
  drop(hk: Uint8Array, n: number): void {
    this.#byKey.get(bytesToHex(hk))?.cache.delete(n);
  }

  retain(keys: readonly (Uint8Array | null)[]): void {
    const keep = new Set(keys.filter((k): k is Uint8Array => k !== null).map(bytesToHex));
    for (const id of this.#byKey.keys()) if (!keep.has(id)) this.#byKey.delete(id);
  }
}

/** The header key and first number of a tag window. */
interface Window {
  readonly hk: Uint8Array;
  readonly from: number;
}

const sameWindowKey = (a: Window | null, b: Window | null): boolean =>
  a !== null && b !== null && (a.hk === b.hk || equalBytes(a.hk, b.hk));

/** The Double Ratchet state of one session and its two operations. */
export class Ratchet {
  #ad: Uint8Array;
  #dhs: X25519KeyPair;
  #dhr: X25519PublicKey | null;
  #rk: Uint8Array;
  #cks: Uint8Array | null;
  #ckr: Uint8Array | null;
  #ns: number;
  #nr: number;
  #pn: number;
  #hks: Uint8Array | null;
  #hkr: Uint8Array | null;
  #nhks: Uint8Array;
  #nhkr: Uint8Array;
  #skipped: SkippedKey[];
  #recent: string[];
  /**
   * The sending half of the last DH ratchet step (DR §3.5: a new key pair, RK and CKs from
   * DH(new key, DHr)) is still to do. Nothing received needs it (the peer's next chain only
   * follows a message of ours under the new key), so `decrypt` leaves it to `prepareSend`,
   * in idle time, or to the next `encrypt`: a received message costs one X25519, not three.
   */
  #sendPending: boolean;
  #windows = new TagWindows();
  #slots: Map<string, Slot> | null = null;
  /** Tags whose membership in `expectedTags()` changed since `takeTagChanges` (true: now expected). */
  #changes = new Map<string, boolean>();
  /** `takeTagChanges` returns every expected tag (a fresh state, or after `retagAll`). */
  #changedAll = true;
  readonly limits: RatchetLimits;

  private constructor(
    s: {
      ad: Uint8Array;
      dhs: X25519KeyPair;
      dhr: X25519PublicKey | null;
      rk: Uint8Array;
      cks: Uint8Array | null;
      ckr: Uint8Array | null;
      ns: number;
      nr: number;
      pn: number;
      hks: Uint8Array | null;
      hkr: Uint8Array | null;
      nhks: Uint8Array;
      nhkr: Uint8Array;
      skipped: SkippedKey[];
      recent: string[];
      sendPending?: boolean;
    },
    limits: RatchetLimits,
  ) {
    this.#ad = s.ad;
    this.#dhs = s.dhs;
    this.#dhr = s.dhr;
    this.#rk = s.rk;
    this.#cks = s.cks;
    this.#ckr = s.ckr;
    this.#ns = s.ns;
    this.#nr = s.nr;
    this.#pn = s.pn;
    this.#hks = s.hks;
    this.#hkr = s.hkr;
    this.#nhks = s.nhks;
    this.#nhkr = s.nhkr;
    this.#skipped = s.skipped;
    this.#recent = s.recent;
    this.#sendPending = s.sendPending ?? false;
    checkLimits(limits);
    this.limits = limits;
  }

  /**
   * RatchetInitAliceHE (DR §4.2, §7.1): the initiator, holding the X3DH secret `sk`, the
   * recipient's signed pre-key as its first ratchet key, and the two shared header keys.
   */
  static initInitiator(
    sk: Uint8Array,
    peerRatchetKey: X25519PublicKey,
    sharedHka: Uint8Array,
    sharedNhkb: Uint8Array,
    ad: Uint8Array,
    limits: RatchetLimits = DEFAULT_RATCHET_LIMITS,
  ): Ratchet {
    const dhs = randomX25519KeyPair();
    const r = kdfRoot(sk, x25519Shared(dhs.secretKey, peerRatchetKey));
    return new Ratchet(
      {
        ad: ad.slice(),
        dhs,
        dhr: peerRatchetKey,
        rk: r.rk,
        cks: r.ck,
        ckr: null,
        ns: 0,
        nr: 0,
        pn: 0,
        hks: sharedHka.slice(),
        hkr: null,
        nhks: r.nhk,
        nhkr: sharedNhkb.slice(),
        skipped: [],
        recent: [],
      },
      limits,
    );
  }

  /** RatchetInitBobHE (DR §4.2): the responder, whose signed pre-key is the first ratchet key. */
  static initResponder(
    sk: Uint8Array,
    ownRatchetKey: X25519KeyPair,
    sharedHka: Uint8Array,
    sharedNhkb: Uint8Array,
    ad: Uint8Array,
    limits: RatchetLimits = DEFAULT_RATCHET_LIMITS,
  ): Ratchet {
    return new Ratchet(
      {
        ad: ad.slice(),
        dhs: ownRatchetKey,
        dhr: null,
        rk: sk.slice(),
        cks: null,
        ckr: null,
        ns: 0,
        nr: 0,
        pn: 0,
        hks: null,
        hkr: null,
        nhks: sharedNhkb.slice(),
        nhkr: sharedHka.slice(),
        skipped: [],
        recent: [],
      },
      limits,
    );
  }

  /** True once this side can send (the initiator at once, the responder after a first message). */
  get canSend(): boolean {
    return (this.#cks !== null || this.#sendPending) && this.#hks !== null;
  }

  /** True while the sending half of the last DH ratchet step waits for `prepareSend`. */
  get sendPending(): boolean {
    return this.#sendPending;
  }

  /**
   * Does the sending half of the last DH ratchet step now, if it waits (a session manager
   * calls this in idle time after a message arrived, so neither the arrival nor the next
   * send pays for it). Returns whether there was anything to do.
   */
  prepareSend(): boolean {
    if (!this.#sendPending) return false;
    this.#completeSend();
    return true;
  }

  /** True once a message from the peer has been decrypted in this session. */
  get hasReceived(): boolean {
    return this.#ckr !== null;
  }

  /** The X3DH associated data bound into every message (X3DH §3.3). */
  get associatedData(): Uint8Array {
    return this.#ad.slice();
  }

  /** RatchetEncryptHE (DR §4.3): one frame for `plaintext`. */
  encrypt(plaintext: Uint8Array): Uint8Array {
    if (plaintext.length > MAX_PLAINTEXT_BYTES)
      throw new RangeError(
        `"plaintext" expected at most ${MAX_PLAINTEXT_BYTES} bytes, got ${plaintext.length}`,
      );
    if (this.#sendPending) this.#completeSend();
    if (this.#cks === null || this.#hks === null) {
      throw new SessionError('BAD_STATE', 'this side cannot send before it has received a message');
    }
    if (this.#ns >= 0xffff_ffff) throw new SessionError('BAD_STATE', 'sending chain exhausted');
    const { ck, mk } = kdfChain(this.#cks);
    this.#cks = ck;
    const header = new ByteWriter(HEADER_BYTES)
      .u8(HEADER_VERSION)
      .bytes(this.#dhs.publicKey)
      .u32(this.#pn)
      .u32(plaintext.length + 16)
      .finish();
    const { tag, nonce } = headerTag(this.#hks, this.#ns);
    const encHeader = aead(this.#hks, nonce, tag).encrypt(header);
    this.#ns += 1;
    const keys = messageCipherKeys(mk);
    const ciphertext = aead(keys.key, keys.nonce, concatBytes(this.#ad, tag, encHeader)).encrypt(plaintext);
    wipe(mk, keys.key);
    return concatBytes(tag, encHeader, ciphertext);
  }

  /** Tags (hex) this session would accept now, plus those of delivered messages (duplicates). */
  expectedTags(): string[] {
    return [...this.#slotMap().keys(), ...this.#recent];
  }

  /**
   * What changed in `expectedTags()` since the last call: after a message, the tags that left
   * the windows and the ones that entered them, not the whole set, so an index kept beside the
   * session moves by as much as the windows did.
   */
  takeTagChanges(): TagChanges {
    const slots = this.#slotMap();
    if (this.#changedAll) {
      this.#changedAll = false;
      this.#changes.clear();
      return { added: [...slots.keys(), ...this.#recent], removed: [] };
    }
    const added: string[] = [];
    const removed: string[] = [];
    for (const [t, present] of this.#changes) (present ? added : removed).push(t);
    this.#changes.clear();
    return { added, removed };
  }

  /** The next `takeTagChanges` returns every expected tag again (an index that dropped them). */
  retagAll(): void {
    this.#changedAll = true;
    this.#changes.clear();
  }

  /** True when `tag` (hex) belongs to this session: an expected message or a duplicate. */
  recognises(tagHex: string): boolean {
    return this.#slotMap().has(tagHex) || this.#recent.includes(tagHex);
  }

  #currentWindow(): Window | null {
    return this.#hkr !== null && this.#ckr !== null ? { hk: this.#hkr, from: this.#nr } : null;
  }

  #windowEnd(from: number): number {
    return Math.min(from + this.limits.lookahead, MAX_MESSAGE_NUMBER + 1);
  }

  #slotMap(): Map<string, Slot> {
    if (this.#slots !== null) return this.#slots;
    const m = new Map<string, Slot>();
    const cur = this.#currentWindow();
    if (cur !== null)
      for (let n = cur.from; n < this.#windowEnd(cur.from); n++) {
        const c = this.#windows.get(cur.hk, n);
        m.set(c.hex, { kind: 'current', n, nonce: c.nonce });
      }
    for (let n = 0; n < this.#windowEnd(0); n++) {
      const c = this.#windows.get(this.#nhkr, n);
      m.set(c.hex, { kind: 'next', n, nonce: c.nonce });
    }
    for (const key of this.#skipped) m.set(key.tag, { kind: 'skipped', key });
    this.#windows.retain([this.#hkr, this.#nhkr]);
    this.#slots = m;
    this.#changedAll = true;
    return m;
  }

  /** Records that `tag` may have entered or left `expectedTags()`. */
  #touch(tag: string, recent: ReadonlySet<string>): void {
    if (this.#changedAll) return;
    this.#changes.set(tag, this.#slots!.has(tag) || recent.has(tag));
  }

  /**
   * RatchetDecryptHE (DR §4.4). Returns the plaintext, or `duplicate` for a message
   * already delivered. SessionError DECRYPT_FAILED when the frame is not from this session
   * or was altered; the state is then unchanged. DecodeError TRUNCATED or TRAILING_BYTES when
   * the input is shorter than the header says, or (`exact` framing) longer.
   */
  decrypt(input: Uint8Array, now: number, framing: Framing = 'exact'): RatchetResult {
    if (input.length < FRAME_OVERHEAD)
      throw new DecodeError('TRUNCATED', 'frame is shorter than its fixed overhead');
    const tag = input.subarray(0, TAG_BYTES);
    const encHeader = input.subarray(TAG_BYTES, TAG_BYTES + ENC_HEADER_BYTES);
    const tagHex = bytesToHex(tag);
    if (this.#recent.includes(tagHex)) return { kind: 'duplicate' };
    const expired = this.#slotMap().has(tagHex);
    this.#prune(now);
    const slot = this.#slotMap().get(tagHex);
    if (slot === undefined) {
      if (expired) throw new SessionError('EXPIRED', 'the key of this late message was deleted (too old)');
      throw new SessionError('UNKNOWN_SESSION', 'frame does not belong to this session');
    }

    const next = this.#copy();
    let mk: Uint8Array;
    let header: Header;
    if (slot.kind === 'skipped') {
      header = openHeader(slot.key.hk, headerTag(slot.key.hk, slot.key.n).nonce, tag, encHeader);
      mk = slot.key.mk;
      next.#skipped = next.#skipped.filter((k) => k !== slot.key);
    } else {
      const hk = slot.kind === 'current' ? next.#hkr! : next.#nhkr;
      header = openHeader(hk, slot.nonce, tag, encHeader);
      if (slot.kind === 'next') {
        // A peer's next chain before any message of ours under the pending key cannot come
        // from an honest peer; done in the order DR §3.5 gives, the step refuses it as before.
        if (next.#sendPending) next.#completeSend();
        next.#skipUntil(header.pn, now);
        next.#dhRatchet(header.dh);
      } else if (!equalBytes(header.dh, next.#dhr!)) {
        throw new SessionError('DECRYPT_FAILED', 'header ratchet key does not match the receiving chain');
      }
      next.#skipUntil(slot.n, now);
      const step = kdfChain(next.#ckr!);
      next.#ckr = step.ck;
      next.#nr += 1;
      mk = step.mk;
    }
    const length = TAG_BYTES + ENC_HEADER_BYTES + header.length;
    if (input.length < length)
      throw new DecodeError('TRUNCATED', `frame of ${length} bytes, ${input.length} given`);
    if (framing === 'exact' && input.length > length)
      throw new DecodeError('TRAILING_BYTES', `frame of ${length} bytes, ${input.length} given`);
    const ciphertext = input.subarray(TAG_BYTES + ENC_HEADER_BYTES, length);
    const keys = messageCipherKeys(mk);
    let plaintext: Uint8Array;
    try {
      plaintext = aead(keys.key, keys.nonce, concatBytes(this.#ad, tag, encHeader)).decrypt(ciphertext);
    } catch (e) {
      throw new SessionError('DECRYPT_FAILED', 'message authentication failed', { cause: e });
    }
    wipe(keys.key);
    next.#recent.push(tagHex);
    if (next.#recent.length > this.limits.recentTags)
      next.#recent.splice(0, next.#recent.length - this.limits.recentTags);
    this.#commit(next);
    return { kind: 'message', plaintext, length };
  }

  /**
   * SkipMessageKeysHE (DR §4.4): keeps the keys of messages up to `until` of the current
   * chain. Within a chain the tag window already bounds the gap by `lookahead`; the end of
   * a previous chain (header PN) may be further away and is bounded by `maxSkipped`, the
   * MAX_SKIP of DR §3.5, so a burst of lost messages does not stall the session.
   */
  #skipUntil(until: number, now: number): void {
    if (this.#ckr === null || this.#hkr === null) return;
    if (until - this.#nr > this.limits.maxSkipped) {
      throw new SessionError(
        'TOO_MANY_SKIPPED',
        `peer skipped ${until - this.#nr} messages, limit ${this.limits.maxSkipped}`,
      );
    }
    while (this.#nr < until) {
      const step = kdfChain(this.#ckr);
      this.#ckr = step.ck;
      this.#skipped.push({
        hk: this.#hkr,
        n: this.#nr,
        mk: step.mk,
        at: now,
        tag: this.#windows.get(this.#hkr, this.#nr).hex,
      });
      this.#nr += 1;
    }
    if (this.#skipped.length > this.limits.maxSkipped) {
      this.#skipped.splice(0, this.#skipped.length - this.limits.maxSkipped);
    }
  }

  /**
   * DHRatchetHE (DR §4.4), its receiving half; the sending half (`#completeSend`) waits for
   * `prepareSend` or the next `encrypt`, in the same order of KDF_RK steps.
   */
  #dhRatchet(dh: X25519PublicKey): void {
    this.#pn = this.#ns;
    this.#ns = 0;
    this.#nr = 0;
    this.#hks = this.#nhks;
    this.#hkr = this.#nhkr;
    this.#dhr = dh;
    const recv = kdfRoot(this.#rk, agree(this.#dhs, dh));
    this.#rk = recv.rk;
    this.#ckr = recv.ck;
    this.#nhkr = recv.nhk;
    // The old sending chain is over (DR §3.5): nothing more is sent on it.
    this.#cks = null;
    this.#sendPending = true;
  }

  /** The sending half of DHRatchetHE (DR §4.4): a new key pair, then RK, CKs and NHKs. */
  #completeSend(): void {
    this.#dhs = randomX25519KeyPair();
    const send = kdfRoot(this.#rk, agree(this.#dhs, this.#dhr!));
    this.#rk = send.rk;
    this.#cks = send.ck;
    this.#nhks = send.nhk;
    this.#sendPending = false;
  }

  #prune(now: number): void {
    const kept = this.#skipped.filter((k) => now - k.at <= this.limits.maxSkippedAgeMs);
    if (kept.length === this.#skipped.length) return;
    const gone = this.#skipped.filter((k) => now - k.at > this.limits.maxSkippedAgeMs);
    this.#skipped = kept;
    const slots = this.#slotMap();
    const recent = new Set(this.#recent);
    for (const k of gone) {
      const slot = slots.get(k.tag);
      if (slot?.kind === 'skipped' && slot.key === k) slots.delete(k.tag);
      this.#touch(k.tag, recent);
    }
  }

  #copy(): Ratchet {
    const copy = new Ratchet(
      {
        ad: this.#ad,
        dhs: this.#dhs,
        dhr: this.#dhr,
        rk: this.#rk,
        cks: this.#cks,
        ckr: this.#ckr,
        ns: this.#ns,
        nr: this.#nr,
        pn: this.#pn,
        hks: this.#hks,
        hkr: this.#hkr,
        nhks: this.#nhks,
        nhkr: this.#nhkr,
        skipped: [...this.#skipped],
        recent: [...this.#recent],
        sendPending: this.#sendPending,
      },
      this.limits,
    );
    // The tag cache is shared: the copy's skipped keys and new chain reuse computed tags.
    copy.#windows = this.#windows;
    return copy;
  }

  #commit(next: Ratchet): void {
    const before = {
      current: this.#currentWindow(),
      next: { hk: this.#nhkr, from: 0 },
      skipped: this.#skipped,
      recent: this.#recent,
    };
    // Old chain and message keys are dropped here; noble returns fresh arrays for every
    // derivation, so no other reference to them is kept (DR §6.2 deletion of used keys).
    this.#dhs = next.#dhs;
    this.#dhr = next.#dhr;
    this.#rk = next.#rk;
    this.#cks = next.#cks;
    this.#ckr = next.#ckr;
    this.#ns = next.#ns;
    this.#nr = next.#nr;
    this.#pn = next.#pn;
    this.#hks = next.#hks;
    this.#hkr = next.#hkr;
    this.#nhks = next.#nhks;
    this.#nhkr = next.#nhkr;
    this.#skipped = next.#skipped;
    this.#recent = next.#recent;
    this.#sendPending = next.#sendPending;
    this.#moveSlots(before);
  }

  /**
   * Moves the slot map from the windows of `before` to the current ones: only the numbers
   * that left or entered a window are looked at (one per message within a chain; a window
   * per new chain), and each change is recorded for `takeTagChanges`.
   */
  #moveSlots(before: {
    current: Window | null;
    next: Window;
    skipped: readonly SkippedKey[];
    recent: readonly string[];
  }): void {
    const m = this.#slots;
    if (m === null) return;
    const touched: string[] = [];
    const current = this.#currentWindow();
    const next: Window = { hk: this.#nhkr, from: 0 };
    const inWindow = (w: Window | null, other: Window | null, n: number): boolean =>
      sameWindowKey(w, other) && n >= other!.from && n < this.#windowEnd(other!.from);
    // Leaving: numbers of the old windows outside the new ones.
    const sameCurrent = sameWindowKey(before.current, current);
    if (before.current !== null)
      for (let n = before.current.from; n < this.#windowEnd(before.current.from); n++) {
        if (inWindow(before.current, current, n)) continue;
        const c = this.#windows.get(before.current.hk, n);
        if (m.get(c.hex)?.kind === 'current') m.delete(c.hex);
        touched.push(c.hex);
        if (sameCurrent) this.#windows.drop(before.current.hk, n);
      }
    const sameNext = sameWindowKey(before.next, next);
    if (!sameNext)
      for (let n = 0; n < this.#windowEnd(0); n++) {
        const c = this.#windows.get(before.next.hk, n);
        if (m.get(c.hex)?.kind === 'next') m.delete(c.hex);
        touched.push(c.hex);
      }
    const skippedNow = new Set(this.#skipped);
    for (const k of before.skipped) {
      if (skippedNow.has(k)) continue;
      const slot = m.get(k.tag);
      if (slot?.kind === 'skipped' && slot.key === k) m.delete(k.tag);
      touched.push(k.tag);
    }
    // Entering: numbers of the new windows outside the old ones (a new chain's window reuses
    // the tags computed when its key was the next header key).
    if (current !== null)
      for (let n = current.from; n < this.#windowEnd(current.from); n++) {
        if (inWindow(current, before.current, n)) continue;
        const c = this.#windows.get(current.hk, n);
        m.set(c.hex, { kind: 'current', n, nonce: c.nonce });
        touched.push(c.hex);
      }
    if (!sameNext)
      for (let n = 0; n < this.#windowEnd(0); n++) {
        const c = this.#windows.get(next.hk, n);
        m.set(c.hex, { kind: 'next', n, nonce: c.nonce });
        touched.push(c.hex);
      }
    const skippedBefore = new Set(before.skipped);
    for (const k of this.#skipped) {
      if (skippedBefore.has(k)) continue;
      m.set(k.tag, { kind: 'skipped', key: k });
      touched.push(k.tag);
    }
    this.#windows.retain([this.#hkr, this.#nhkr]);
    const recent = new Set(this.#recent);
    const recentBefore = new Set(before.recent);
    for (const t of before.recent) if (!recent.has(t)) touched.push(t);
    for (const t of this.#recent) if (!recentBefore.has(t)) touched.push(t);
    for (const t of touched) this.#touch(t, recent);
  }

  /** Versioned state bytes, for storage between runs. They hold secrets: store them encrypted. */
  serialize(): Uint8Array {
    const flags =
      (this.#dhr !== null ? 1 : 0) |
      (this.#cks !== null ? 2 : 0) |
      (this.#ckr !== null ? 4 : 0) |
      (this.#hks !== null ? 8 : 0) |
      (this.#hkr !== null ? 16 : 0) |
      (this.#sendPending ? SEND_PENDING : 0);
    const version = this.#sendPending ? PENDING_STATE_VERSION : STATE_VERSION;
    const w = new ByteWriter(512).u8(version).varBytes(this.#ad).bytes(this.#dhs.secretKey).u8(flags);
    if (this.#dhr !== null) w.bytes(this.#dhr);
    w.bytes(this.#rk);
    if (this.#cks !== null) w.bytes(this.#cks);
    if (this.#ckr !== null) w.bytes(this.#ckr);
    w.u32(this.#ns).u32(this.#nr).u32(this.#pn);
    if (this.#hks !== null) w.bytes(this.#hks);
    if (this.#hkr !== null) w.bytes(this.#hkr);
    w.bytes(this.#nhks).bytes(this.#nhkr);
    w.varUint(this.#skipped.length);
    for (const k of this.#skipped) w.bytes(k.hk).u32(k.n).bytes(k.mk).u64(k.at);
    w.varUint(this.#recent.length);
    for (const t of this.#recent) w.bytes(hexToBytes(t));
    return w.finish();
  }

  /** Reads `serialize()` output; DecodeError on anything else. */
  static deserialize(bytes: Uint8Array, limits: RatchetLimits = DEFAULT_RATCHET_LIMITS): Ratchet {
    const r = new ByteReader(bytes);
    const version = r.u8('ratchet state version');
    if (version !== STATE_VERSION && version !== PENDING_STATE_VERSION)
      throw new DecodeError('UNKNOWN_VERSION', `ratchet state version ${version}`);
    const ad = r.varBytes(MAX_AD_BYTES, 'associated data');
    const dhs = x25519KeyPair(r.bytes(32, 'DHs'));
    const flags = r.u8('flags');
    // Version 2 is exactly the states whose sending half waits; version 1 has no such flag.
    const sendPending = version === PENDING_STATE_VERSION;
    if ((flags & ~SEND_PENDING) > 31 || ((flags & SEND_PENDING) !== 0) !== sendPending)
      throw new DecodeError('MALFORMED', 'unknown ratchet state flags');
    if (sendPending && (flags & 1) === 0)
      throw new DecodeError('MALFORMED', 'a pending sending step without a peer ratchet key');
    const dhr = flags & 1 ? asX25519PublicKey(r.bytes(32, 'DHr')) : null;
    const rk = r.bytes(32, 'RK');
    const cks = flags & 2 ? r.bytes(32, 'CKs') : null;
    const ckr = flags & 4 ? r.bytes(32, 'CKr') : null;
    const ns = r.u32('Ns');
    const nr = r.u32('Nr');
    const pn = r.u32('PN');
    const hks = flags & 8 ? r.bytes(32, 'HKs') : null;
    const hkr = flags & 16 ? r.bytes(32, 'HKr') : null;
    const nhks = r.bytes(32, 'NHKs');
    const nhkr = r.bytes(32, 'NHKr');
    const skippedCount = r.varUint('skipped count');
    if (skippedCount > limits.maxSkipped)
      throw new DecodeError('TOO_LARGE', 'too many skipped keys in state');
    const skipped: SkippedKey[] = [];
    for (let i = 0; i < skippedCount; i++) {
      const hk = r.bytes(32, 'skipped HK');
      const n = r.u32('skipped N');
      const mk = r.bytes(32, 'skipped MK');
      const at = r.u64('skipped time');
      if (at > BigInt(Number.MAX_SAFE_INTEGER))
        throw new DecodeError('MALFORMED', 'skipped key time out of range');
      skipped.push({ hk, n, mk, at: Number(at), tag: bytesToHex(headerTag(hk, n).tag) });
    }
    const recentCount = r.varUint('recent count');
    if (recentCount > limits.recentTags) throw new DecodeError('TOO_LARGE', 'too many recent tags in state');
    const recent: string[] = [];
    for (let i = 0; i < recentCount; i++) recent.push(bytesToHex(r.bytes(TAG_BYTES, 'recent tag')));
    r.end('ratchet state');
    return new Ratchet(
      { ad, dhs, dhr, rk, cks, ckr, ns, nr, pn, hks, hkr, nhks, nhkr, skipped, recent, sendPending },
      limits,
    );
  }
}

function agree(own: X25519KeyPair, peer: X25519PublicKey): Uint8Array {
  try {
    return x25519Shared(own.secretKey, peer);
  } catch (e) {
    // A low-order ratchet key gives an all-zero secret (RFC 7748 §6.1): refuse the message.
    throw new SessionError('DECRYPT_FAILED', 'peer ratchet key is invalid', { cause: e });
  }
}

/** A decrypted message header: the sender's ratchet key, PN, and the ciphertext length. */
interface Header {
  readonly dh: X25519PublicKey;
  readonly pn: number;
  readonly length: number;
}

function openHeader(hk: Uint8Array, nonce: Uint8Array, tag: Uint8Array, encHeader: Uint8Array): Header {
  let header: Uint8Array;
  try {
    header = aead(hk, nonce, tag).decrypt(encHeader);
  } catch (e) {
    throw new SessionError('DECRYPT_FAILED', 'header authentication failed', { cause: e });
  }
  const r = new ByteReader(header);
  const version = r.u8('header version');
  if (version !== HEADER_VERSION)
    throw new DecodeError('UNKNOWN_VERSION', `message header version ${version}`);
  const dh = asX25519PublicKey(r.bytes(32, 'header DH'));
  const pn = r.u32('header PN');
  const length = r.u32('header ciphertext length');
  if (length < 16 || length > MAX_PLAINTEXT_BYTES + 16)
    throw new DecodeError('MALFORMED', `header declares a ciphertext of ${length} bytes`);
  r.end('header');
  return { dh, pn, length };
}
