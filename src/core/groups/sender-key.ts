/**
 * Sender key chains (docs/groups.md §4): Signal's sender keys (libsignal `SenderKeyState`,
 * the group half of the Signal protocol), one chain per sending device per key generation.
 *
 *   MK_i    = HMAC-SHA256(CK_i, 0x01)      CK_{i+1} = HMAC-SHA256(CK_i, 0x02)   (DR spec §5.2 KDF_CK)
 *   tag ‖ key ‖ nonce ‖ mask ‖ t = HKDF-SHA256(MK_i, salt = groupId, info "p2pcomm/v1/group-message", 116)
 *   notification key of message i = lift_x(notifyKey) + (OS2IP(t) mod n)·G   (docs/groups.md §5)
 *
 * The chain only moves forward, so whoever is handed CK_i (a member added at iteration i)
 * derives no earlier message key; a message key is deleted once used. The tag (8 bytes) lets a
 * member find a frame in a chain batch by table lookup, as ratchet tags do (docs/crypto.md §6).
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes, wipe } from '../../util/bytes.ts';
import type { GroupId } from './change.ts';

const CK_MESSAGE = Uint8Array.of(0x01);
const CK_CHAIN = Uint8Array.of(0x02);
const INFO_MESSAGE = utf8ToBytes('p2pcomm/v1/group-message');

/** Message keys kept per chain for frames that arrive out of order (the oldest go first). */
export const MAX_SKIPPED_KEYS = 1000;
/** Iterations ahead of the newest opened one whose tags a member looks for. */
export const TAG_WINDOW = 32;
/**
 * Iterations ahead whose notification addresses a member watches on chain, per held key: the
 * watched set is senders × this, so it is kept small (docs/groups.md §6, what limits 1,000).
 */
export const NOTIFY_WINDOW = 4;

/** What one message key gives: the frame's tag, AEAD key and nonce, and the length mask. */
export interface MessageKeys {
  readonly tag: Uint8Array;
  readonly key: Uint8Array;
  readonly nonce: Uint8Array;
  readonly mask: Uint8Array;
  /** 48 bytes whose value mod n tweaks the sender's notify key into this message's address. */
  readonly tweak: Uint8Array;
}

/** One step of the chain: the message key of CK and the next chain key. */
export function chainStep(ck: Uint8Array): { mk: Uint8Array; next: Uint8Array } {
  return { mk: hmac(sha256, ck, CK_MESSAGE), next: hmac(sha256, ck, CK_CHAIN) };
}

/** The frame keys of message key `mk` in group `groupId`. */
export function messageKeys(mk: Uint8Array, groupId: GroupId): MessageKeys {
  const out = hkdf(sha256, mk, groupId, INFO_MESSAGE, 116);
  return {
    tag: out.slice(0, 8),
    key: out.slice(8, 40),
    nonce: out.slice(40, 64),
    mask: out.slice(64, 68),
    tweak: out.slice(68, 116),
  };
}

/**
 * The receiving side of one sender's chain: the message keys of the next `TAG_WINDOW`
 * iterations past the newest opened, and of skipped ones (at most `MAX_SKIPPED_KEYS`).
 */
export class ReceivingChain {
  private ck: Uint8Array;
  /** Iteration of `ck`: every key below it has been derived. */
  private derived: number;
  /** One past the newest iteration opened (or the starting iteration). */
  private high: number;
  private readonly keys = new Map<number, MessageKeys>();
  private readonly byTag = new Map<string, number>();

  constructor(
    private readonly groupId: GroupId,
    chainKey: Uint8Array,
    iteration: number,
  ) {
    this.ck = chainKey.slice();
    this.derived = iteration;
    this.high = iteration;
    this.fill();
  }

  /** The iteration whose frame starts with `tag`, if this chain expects it. */
  find(tag: Uint8Array): number | undefined {
    return this.byTag.get(bytesToHex(tag));
  }

  /** Keys of the iterations this chain expects now (their tags for a batch reader's table). */
  expected(): MessageKeys[] {
    return [...this.keys.values()];
  }

  /** Keys of the next `n` iterations past the newest opened (the notification addresses to watch). */
  ahead(n: number): MessageKeys[] {
    const out: MessageKeys[] = [];
    for (let i = this.high; i < this.high + n; i++) {
      const k = this.keys.get(i);
      if (k !== undefined) out.push(k);
    }
    return out;
  }

  /** The keys of `iteration`, without using them up (a frame is checked before it counts). */
  peek(iteration: number): MessageKeys | undefined {
    return this.keys.get(iteration);
  }

  /** Deletes the keys of `iteration` (it opened) and moves the window past it. */
  consume(iteration: number): void {
    const k = this.keys.get(iteration);
    if (k === undefined) return;
    this.keys.delete(iteration);
    this.byTag.delete(bytesToHex(k.tag));
    wipe(k.key, k.nonce, k.mask);
    this.high = Math.max(this.high, iteration + 1);
    this.fill();
    for (const i of this.keys.keys()) {
      if (this.keys.size <= MAX_SKIPPED_KEYS + TAG_WINDOW) break;
      this.drop(i);
    }
  }

  private drop(i: number): void {
    const k = this.keys.get(i);
    if (k === undefined) return;
    this.keys.delete(i);
    this.byTag.delete(bytesToHex(k.tag));
  }

  private fill(): void {
    while (this.derived < this.high + TAG_WINDOW) {
      const { mk, next } = chainStep(this.ck);
      const keys = messageKeys(mk, this.groupId);
      wipe(mk, this.ck);
      this.keys.set(this.derived, keys);
      this.byTag.set(bytesToHex(keys.tag), this.derived);
      this.ck = next;
      this.derived++;
    }
  }
}

/** The sending side of one's own chain. */
export class SendingChain {
  private ck: Uint8Array;
  private n: number;

  constructor(chainKey: Uint8Array, iteration = 0) {
    this.ck = chainKey.slice();
    this.n = iteration;
  }

  /** The iteration the next message takes. */
  get iteration(): number {
    return this.n;
  }

  /** A copy of the chain key at the next iteration (what a distribution hands over). */
  chainKey(): Uint8Array {
    return this.ck.slice();
  }

  /** The keys of the next message; the chain moves past them and forgets them. */
  next(groupId: GroupId): { iteration: number; keys: MessageKeys } {
    const { mk, next } = chainStep(this.ck);
    const keys = messageKeys(mk, groupId);
    wipe(mk, this.ck);
    this.ck = next;
    return { iteration: this.n++, keys };
  }
}
