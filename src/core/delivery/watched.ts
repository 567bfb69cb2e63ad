/**
 * When the chain adapter stops watching an address (docs/delivery.md "Watched addresses").
 *
 * An address that held our coins and holds none now, or a notification address the window has
 * moved past with nothing on it, is not dropped at once: a reorganisation can take the
 * transaction that emptied it off the selected chain and bring its coin back, and the adapter
 * learns that only from the address's UtxosChanged (own-txs.ts, `leftChain`). It is marked
 * with the adapter's DAA score then, and dropped once that score is `depth` below the current
 * one, the depth own transactions are kept for (own-txs.ts `CONFIRMATION_DEPTH`), and once
 * the caller finds nothing unfinished on it. Until then the node keeps telling us about it;
 * afterwards it no longer learns that the address is ours from our subscription
 * (docs/privacy.md "What a node operator learns").
 */

/** What the caller says of a marked address whose time has come. */
export type Verdict =
  /** Drop it: nothing is on it, nothing can come back to it. */
  | 'unwatch'
  /** Something is still on it or on its way (a coin being processed): look again one depth later. */
  | 'later'
  /**
   * The transaction that emptied it is still kept, accepted at this DAA score: look again once
   * that is `depth` deep, when its record goes (own-txs.ts `prune`), not a whole depth later.
   */
  | { readonly after: bigint }
  /** It is needed again (a coin arrived, it is back in a window): forget the mark. */
  | 'keep';

interface Mark {
  readonly daa: bigint;
  /** The own transaction (id hex) that spent its last coin, when one is known. */
  readonly spender: string | undefined;
}

/** Addresses waiting to be dropped, oldest mark first. */
export class DrainedAddresses {
  /** In insertion order, which is DAA order: marks are made with a score that never falls. */
  private readonly marks = new Map<string, Mark>();
  private newest = 0n;

  constructor(private readonly depth: bigint) {}

  /** Marks `address` as emptied (or left behind) at DAA score `daa`, by `spender` when known. */
  mark(address: string, daa: bigint, spender?: string): void {
    if (daa < this.newest) daa = this.newest;
    this.newest = daa;
    this.marks.delete(address);
    this.marks.set(address, { daa, spender });
  }

  /** A coin arrived on `address`: it is in use again. */
  unmark(address: string): void {
    this.marks.delete(address);
  }

  has(address: string): boolean {
    return this.marks.has(address);
  }

  get size(): number {
    return this.marks.size;
  }

  /**
   * The addresses marked at least `depth` below `daa` that `judge` lets go. The scan stops at
   * the first mark not old enough, so a call with nothing due costs O(1); `judge` runs only
   * for due marks (once per call, it may build its view of what is unfinished lazily).
   */
  due(daa: bigint, judge: (address: string, spender: string | undefined) => Verdict): string[] {
    const out: string[] = [];
    const later: [string, bigint, Mark][] = [];
    for (const [address, m] of this.marks) {
      if (m.daa + this.depth > daa) break;
      this.marks.delete(address);
      const verdict = judge(address, m.spender);
      if (verdict === 'unwatch') out.push(address);
      else if (verdict === 'later') later.push([address, daa, m]);
      else if (verdict !== 'keep') later.push([address, verdict.after, m]);
    }
    // A mark never goes below the newest one (`mark`), so the order stays DAA order.
    for (const [address, at, m] of later) this.mark(address, at, m.spender);
    return out;
  }
}
