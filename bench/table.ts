/**
 * Benchmark tables: every figure is printed beside the floor or peer it is compared with,
 * measured in the same run (never against a number written down elsewhere).
 */
export interface BenchRow {
  /** What was measured, e.g. "tx build+sign (1 in, 2 out, 1 KB payload)". */
  readonly name: string;
  /** The measured figure with its unit, e.g. "12,345 /s" or "p50 3.1 ms / p99 9.8 ms". */
  readonly value: string;
  /** What it is compared with, measured in the same run, or the budget it must fit. */
  readonly reference?: string;
  readonly note?: string;
}

export interface BenchTable {
  readonly title: string;
  readonly rows: readonly BenchRow[];
}

/** A benchmark module's default export. */
export type Bench = () => Promise<BenchTable | BenchTable[]>;

export function formatTable(t: BenchTable): string {
  const head = ['measure', 'value', 'compared with', 'note'];
  const rows = t.rows.map((r) => [r.name, r.value, r.reference ?? '', r.note ?? '']);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    `### ${t.title}`,
    '',
    line(head),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
    '',
  ].join('\n');
}

/** Runs `fn` repeatedly for about `ms` milliseconds and returns operations per second. */
export async function opsPerSecond(fn: () => unknown, ms = 1000): Promise<number> {
  for (let i = 0; i < 3; i++) await fn(); // warm-up
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    await fn();
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

/** p-th percentile (0..100) of a list of samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export function fmtRate(perSecond: number, unit = '/s'): string {
  return `${Math.round(perSecond).toLocaleString('en-US')} ${unit}`;
}

export function fmtMs(ms: number): string {
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`;
}
