/**
 * The BLAKE3 hash of an incoming attachment, computed as its chunks arrive (issue 14: "verified
 * by hash before it is shown", without a second pass over the whole file when the last chunk
 * lands). BLAKE3 is a hash of the bytes in order, so a running hasher takes chunk i only after
 * chunks 0..i-1:
 *   - in order (a data channel is ordered, RFC 8831 §6.6): each chunk's plaintext is fed once,
 *     straight from the decryption that verified it;
 *   - out of order (chain order is not publication order): a chunk ahead of the gap waits as
 *     plaintext, up to `maxPendingBytes` per attachment, until the gap fills; past that bound
 *     it is read back from the store (and opened again) when its turn comes;
 *   - after a reload or restart the hasher is gone: the verified prefix is read back from the
 *     store once, then the transfer goes on as above.
 * The state is a cache: losing it (a failed write, a restart) only costs the read-back.
 */
import { blake3 } from '@noble/hashes/blake3.js';
import { bytesToHex } from '../../util/bytes.ts';
import type { Manifest } from './manifest.ts';

/** Plaintext kept per attachment for chunks ahead of the hashed prefix. @default 1 MiB */
export const MAX_PENDING_BYTES = 1 << 20;

interface State {
  readonly hasher: ReturnType<typeof blake3.create>;
  /** Chunks 0..next-1 are fed to the hasher. */
  next: number;
  readonly pending: Map<number, Uint8Array>;
  pendingBytes: number;
}

/** Running BLAKE3 hashers of the incoming attachments of one store. */
export class RunningHashes {
  private readonly states = new Map<string, State>();

  constructor(private readonly maxPendingBytes = MAX_PENDING_BYTES) {}

  /**
   * Takes verified plaintext chunk `index` of `m`: `held` says which chunks are stored
   * (`index` counted), `load` opens a stored one. Feeds every chunk that now continues the
   * hashed prefix; returns whether all of `m` is hashed.
   */
  async add(
    m: Manifest,
    index: number,
    plaintext: Uint8Array,
    held: (i: number) => boolean,
    load: (i: number) => Promise<Uint8Array>,
  ): Promise<boolean> {
    const key = bytesToHex(m.id);
    let s = this.states.get(key);
    if (s === undefined) {
      s = { hasher: blake3.create(), next: 0, pending: new Map(), pendingBytes: 0 };
      this.states.set(key, s);
    }
    if (index > s.next && s.pendingBytes + plaintext.length <= this.maxPendingBytes) {
      s.pending.set(index, plaintext);
      s.pendingBytes += plaintext.length;
    }
    while (s.next < m.chunkCount) {
      const j = s.next;
      const kept = s.pending.get(j);
      let bytes: Uint8Array;
      if (j === index) bytes = plaintext;
      else if (kept !== undefined) bytes = kept;
      else if (held(j)) bytes = await load(j);
      else break;
      if (kept !== undefined) {
        s.pending.delete(j);
        s.pendingBytes -= kept.length;
      }
      s.hasher.update(bytes);
      s.next += 1;
    }
    return s.next === m.chunkCount;
  }

  /** The hash of all of `m` (after `add` said so), and its state forgotten. */
  digest(m: Manifest): Uint8Array {
    const key = bytesToHex(m.id);
    const s = this.states.get(key);
    this.states.delete(key);
    if (s === undefined || s.next !== m.chunkCount) throw new RangeError('the attachment is not all hashed');
    return s.hasher.digest();
  }

  /** Forgets the state of `m` (cancelled, failed, or a write that may not have happened). */
  forget(m: Pick<Manifest, 'id'>): void {
    this.states.delete(bytesToHex(m.id));
  }
}
