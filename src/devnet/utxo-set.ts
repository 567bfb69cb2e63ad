/**
 * The virtual UTXO set with the index `--utxoindex` maintains: coins by outpoint and by
 * script public key, so address queries and UtxosChanged filtering are lookups, not scans.
 */
import { bytesToHex } from '../util/bytes.ts';
import { outpointKey } from '../kaspa/utxo-watcher.ts';
import type { Outpoint, ScriptPublicKey, Utxo } from '../kaspa/types.ts';

/** Map key of a script public key: version, then script, in hex. */
export function spkKey(spk: ScriptPublicKey): string {
  return `${spk.version.toString(16).padStart(4, '0')}${bytesToHex(spk.script)}`;
}

/** What one block (or one reorganisation step) did to the UTXO set. */
export interface UtxoDiff {
  readonly added: readonly Utxo[];
  readonly removed: readonly Utxo[];
}

/** The inverse diff: applying it undoes `diff`. */
export function invertDiff(diff: UtxoDiff): UtxoDiff {
  return { added: diff.removed, removed: diff.added };
}

/** Coins by outpoint plus an index by script public key. */
export class UtxoSet {
  readonly #byOutpoint = new Map<string, Utxo>();
  readonly #bySpk = new Map<string, Set<string>>();

  /** Number of coins. */
  get size(): number {
    return this.#byOutpoint.size;
  }

  /** The coin at `outpoint`, if unspent. */
  get(outpoint: Outpoint): Utxo | undefined {
    return this.#byOutpoint.get(outpointKey(outpoint));
  }

  /** Adds a coin; an existing coin at the same outpoint is replaced. */
  add(utxo: Utxo): void {
    const key = outpointKey(utxo.outpoint);
    this.#byOutpoint.set(key, utxo);
    const s = spkKey(utxo.entry.scriptPublicKey);
    let set = this.#bySpk.get(s);
    if (set === undefined) this.#bySpk.set(s, (set = new Set()));
    set.add(key);
  }

  /** Removes and returns the coin at `outpoint`. */
  remove(outpoint: Outpoint): Utxo | undefined {
    const key = outpointKey(outpoint);
    const utxo = this.#byOutpoint.get(key);
    if (utxo === undefined) return undefined;
    this.#byOutpoint.delete(key);
    const s = spkKey(utxo.entry.scriptPublicKey);
    const set = this.#bySpk.get(s);
    set?.delete(key);
    if (set?.size === 0) this.#bySpk.delete(s);
    return utxo;
  }

  /** Applies a diff: removals first, then additions. */
  apply(diff: UtxoDiff): void {
    for (const u of diff.removed) this.remove(u.outpoint);
    for (const u of diff.added) this.add(u);
  }

  /** Every coin locked by `spk`. */
  byScript(spk: ScriptPublicKey): Utxo[] {
    const keys = this.#bySpk.get(spkKey(spk));
    if (keys === undefined) return [];
    const out: Utxo[] = [];
    for (const k of keys) out.push(this.#byOutpoint.get(k)!);
    return out;
  }

  /** Every coin, in insertion order. */
  values(): IterableIterator<Utxo> {
    return this.#byOutpoint.values();
  }
}
