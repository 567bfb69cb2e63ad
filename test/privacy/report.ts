/**
 * The observer's report: every heuristic of the chain observer, then the node operator's
 * view (the addresses each network address subscribed to or asked about, merged with the
 * chain clusters), each scored against the truth beside the random baseline.
 */
import {
  analyse,
  HEURISTICS,
  mergedConversations,
  score,
  type Heuristic,
  type Merged,
  type Score,
} from './observer.ts';
import type { ScenarioResult } from './scenario.ts';

export interface ObserverRow {
  readonly view: 'chain' | 'node';
  /** For the node view: which of the run's nodes (0-based). */
  readonly node?: number;
  readonly heuristic: Heuristic | 'union' | 'peel chain';
  readonly score: Score;
}

/** The run's response window: 3 s of app time, scaled as the run's receipt delays are. */
function windowOf(run: ScenarioResult): number {
  return 3_000 * run.timeScale;
}

export function observerReport(run: ScenarioResult): ObserverRow[] {
  const rows: ObserverRow[] = [];
  const responseWindowMs = windowOf(run);
  const chain = analyse(run.txs, { responseWindowMs });
  for (const h of [...HEURISTICS, 'union'] as const)
    rows.push({ view: 'chain', heuristic: h, score: score(chain, chain.claims.get(h)!, run.truth) });
  // The funding graph: value transfer once every funding coin is followed through its spends.
  const peel = analyse(run.txs, { responseWindowMs, peel: true });
  rows.push({
    view: 'chain',
    heuristic: 'peel chain',
    score: score(peel, peel.claims.get('value transfer')!, run.truth),
  });

  // Each node's view: every address one network address named to it belongs to one person.
  run.nodeView.forEach((clients, node) => {
    const linked = [...clients.values()].map((connections) =>
      [...new Set(connections.flatMap((c) => [...c.addresses]))].map(run.scriptOf),
    );
    const seen = analyse(run.txs, { responseWindowMs, sameOwner: linked });
    for (const h of [...HEURISTICS, 'union'] as const)
      rows.push({ view: 'node', node, heuristic: h, score: score(seen, seen.claims.get(h)!, run.truth) });
  });
  return rows;
}

/** How many of each client's conversations the funding graph joins (peel chain, then plain clustering). */
export function fundingGraph(run: ScenarioResult): {
  peel: Merged[];
  peelOneRecipient: Merged[];
  plain: Merged[];
} {
  const responseWindowMs = windowOf(run);
  const peel = analyse(run.txs, { responseWindowMs, peel: true });
  return {
    peel: mergedConversations(peel, run.txs, run.truth),
    peelOneRecipient: mergedConversations(peel, run.txs, run.truth, { oneRecipient: true }),
    plain: mergedConversations(analyse(run.txs, { responseWindowMs }), run.txs, run.truth),
  };
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

/** One address of a client paid by the publications of more than one other client. */
export interface SharedPayee {
  /** The client the address belongs to. */
  readonly owner: string;
  /** The other clients whose payload-carrying transactions paid it. */
  readonly payers: readonly string[];
}

/**
 * Addresses that link several of a client's contacts by themselves: each is paid by the
 * publications of two or more other clients (address reuse across senders). Format 2 before
 * per-invite addresses had one of each client's card address that anyone holding the card paid
 * for a first contact (docs/privacy.md "Invites"); funding payments carry no payload and do
 * not count.
 */
export function sharedPayees(run: ScenarioResult): SharedPayee[] {
  const payers = new Map<string, Set<string>>();
  for (const t of run.txs) {
    if (t.payloadBytes === 0) continue;
    const from = new Set(t.inputScripts.flatMap((s) => run.truth.ownerOf.get(s ?? '') ?? []));
    for (const out of t.outputs) {
      const owner = run.truth.ownerOf.get(out.script);
      if (owner === undefined) continue;
      const set = payers.get(out.script) ?? new Set<string>();
      for (const f of from) if (f !== owner) set.add(f);
      payers.set(out.script, set);
    }
  }
  return [...payers]
    .filter(([, p]) => p.size >= 2)
    .map(([script, p]) => ({ owner: run.truth.ownerOf.get(script)!, payers: [...p].sort() }));
}
