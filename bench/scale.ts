/**
 * The delivery-at-scale rows of docs/delivery.md alone (issue 17), without the rest of the
 * delivery bench: `npx tsx bench/scale.ts [catch-up|start-up]...`. Sizes come from
 * BENCH_CATCH_UP / BENCH_CATCH_UP_SENDERS and BENCH_BACKLOG as in delivery.bench.ts.
 * With BENCH_CPU_PROFILE=file.cpuprofile the catch-up itself (not its set-up) is profiled.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { backlogRows, catchUpRows } from './delivery.bench.ts';
import { formatTable, type BenchRow } from './table.ts';

const wanted = process.argv.slice(2);
const want = (name: string): boolean => wanted.length === 0 || wanted.includes(name);
const profileTo = process.env['BENCH_CPU_PROFILE'];

/** Profiles `fn` alone when a profile file was asked for. */
async function profiled(_label: string, fn: () => Promise<void>): Promise<void> {
  if (!profileTo) return fn();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  try {
    await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(profileTo, JSON.stringify(profile));
    session.disconnect();
  }
}

const rows: BenchRow[] = [];
if (want('catch-up')) {
  const total = Number(process.env['BENCH_CATCH_UP'] ?? 10_000);
  const from = Number(process.env['BENCH_CATCH_UP_SENDERS'] ?? 100);
  rows.push(...(await catchUpRows(total, from, profiled)));
}
if (want('start-up')) rows.push(...(await backlogRows()));
console.log(formatTable({ title: 'Delivery at scale (issue 17)', rows }));
