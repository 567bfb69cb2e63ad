/**
 * The observer table: how well an outside observer of the whole chain, and the operator of
 * the node the clients use, rebuild who talks to whom (test/privacy), beside a random guess
 * making the same number of claims.
 */
import { observerReport, strongest } from '../test/privacy/report.ts';
import { runScenario } from '../test/privacy/scenario.ts';
import type { Bench, BenchRow } from './table.ts';

const pct = (x: number): string => `${(x * 100).toFixed(0)} %`;

const bench: Bench = async () => {
  const run = await runScenario({ messages: 60, seed: 2026 });
  const rows = observerReport(run);
  const best = strongest(rows);
  const table: BenchRow[] = rows.map((r) => ({
    name: `${r.view === 'chain' ? 'chain observer' : 'node operator'}: ${r.heuristic}`,
    value: `precision ${pct(r.score.precision)} / recall ${pct(r.score.recall)} (${r.score.claims} claims)`,
    reference: `random: precision ${pct(r.score.baselinePrecision)} / recall ${pct(r.score.baselineRecall)}`,
  }));
  table.push({
    name: 'strongest',
    value: `${best.view} ${best.heuristic}: precision ${pct(best.score.precision)}`,
    reference: `random ${pct(best.score.baselinePrecision)}`,
    note: `5 clients, 6 conversations, ${run.messages} messages, ${run.txs.filter((t) => t.payloadBytes > 0 && t.inputOutpoints.length > 0).length} publications`,
  });
  return { title: 'observer (who talks to whom, rebuilt from the chain and the node)', rows: table };
};
export default bench;
