/**
 * The observer's report: every heuristic of the chain observer, then the node operator's
 * view (the addresses each network address subscribed to or asked about, merged with the
 * chain clusters), each scored against the truth beside the random baseline.
 */
import { analyse, HEURISTICS, score, type Heuristic, type Score } from './observer.ts';
import type { ScenarioResult } from './scenario.ts';

export interface ObserverRow {
  readonly view: 'chain' | 'node';
  readonly heuristic: Heuristic | 'union';
  readonly score: Score;
}

export function observerReport(run: ScenarioResult): ObserverRow[] {
  const rows: ObserverRow[] = [];
  const chain = analyse(run.txs);
  for (const h of [...HEURISTICS, 'union'] as const)
    rows.push({ view: 'chain', heuristic: h, score: score(chain, chain.claims.get(h)!, run.truth) });

  // The node's view: every address one network address named belongs to one person.
  const linked = [...run.nodeView.values()].map((connections) =>
    [...new Set(connections.flatMap((c) => [...c.addresses]))].map(run.scriptOf),
  );
  const node = analyse(run.txs, { sameOwner: linked });
  for (const h of [...HEURISTICS, 'union'] as const)
    rows.push({ view: 'node', heuristic: h, score: score(node, node.claims.get(h)!, run.truth) });
  return rows;
}

/** The observer's best showing: the row whose precision most exceeds its random baseline. */
export function strongest(rows: readonly ObserverRow[]): ObserverRow {
  return rows.reduce((best, r) =>
    r.score.claims > 0 &&
    r.score.precision - r.score.baselinePrecision > best.score.precision - best.score.baselinePrecision
      ? r
      : best,
  );
}
