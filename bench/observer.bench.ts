/**
 * The observer table: how well an outside observer of the whole chain, and the operator of
 * the node the clients use, rebuild who talks to whom (test/privacy), beside a random guess
 * making the same number of claims.
 */
import { fundingGraph, observerReport, strongest } from '../test/privacy/report.ts';
import { NODES, runScenario } from '../test/privacy/scenario.ts';
import type { Bench, BenchRow } from './table.ts';

const pct = (x: number): string => `${(x * 100).toFixed(0)} %`;

const bench: Bench = async () => {
  const run = await runScenario({ messages: 60, seed: 2026 });
  const rows = observerReport(run);
  const best = strongest(rows);
  const table: BenchRow[] = rows.map((r) => ({
    name: `${r.view === 'chain' ? 'chain observer' : `node operator ${r.node! + 1} of ${NODES}`}: ${r.heuristic}`,
    value: `precision ${pct(r.score.precision)} / recall ${pct(r.score.recall)} (${r.score.claims} claims)`,
    reference: `random: precision ${pct(r.score.baselinePrecision)} / recall ${pct(r.score.baselineRecall)}`,
  }));
  const funding = fundingGraph(run);
  const merged = (ms: typeof funding.peel): string =>
    `${ms.reduce((n, m) => n + m.merged, 0)} of ${ms.reduce((n, m) => n + m.conversations, 0)} (${ms.map((m) => `${m.client} ${m.merged}/${m.conversations}`).join(', ')})`;
  table.push({
    name: "funding graph: a client's conversations joined under one sender, peel chain",
    value: merged(funding.peel),
    reference: `without following funding coins: ${merged(funding.plain)}`,
    note: 'largest group of conversations one observer entity pays, per client',
  });
  table.push({
    name: 'funding graph, peel chain, publications to one contact only',
    value: merged(funding.peelOneRecipient),
    reference: `all publications: ${merged(funding.peel)}`,
    note: 'what following funding coins adds, with per-contact coin pools',
  });
  table.push({
    name: 'strongest',
    value: `${best.view} ${best.heuristic}: precision ${pct(best.score.precision)}`,
    reference: `random ${pct(best.score.baselinePrecision)}`,
    note: `5 clients, 6 conversations, ${run.messages} messages, ${run.txs.filter((t) => t.payloadBytes > 0 && t.inputOutpoints.length > 0).length} publications`,
  });
  return { title: 'observer (who talks to whom, rebuilt from the chain and the node)', rows: table };
};
export default bench;
