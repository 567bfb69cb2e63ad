/**
 * `npm run soak -- --messages N --seed S [--seed S2 …] [--p2p] [--reorg-drop]`: the delivery soak of
 * test/core/delivery/soak.test.ts at any size, one run per seed, printing a Markdown table
 * (messages, faults by kind, lost, duplicated, time to delivery after recovery). Exits 1 when
 * a message was lost, duplicated or left without receipt, or took longer than `--bound` seconds
 * (default 30) after recovery.
 */
import { parseArgs } from 'node:util';
import { formatSoakTable, runSoak, type SoakReport } from '../test/core/delivery/soak.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    seed: { type: 'string', multiple: true, default: ['424242'] },
    p2p: { type: 'boolean', default: false },
    'reorg-drop': { type: 'boolean', default: false },
    bound: { type: 'string', default: '30' },
    quiet: { type: 'boolean', default: false },
  },
});
const messages = Number(values.messages);
const bound = Number(values.bound) * 1000;
if (!Number.isSafeInteger(messages) || messages < 1)
  throw new RangeError('"--messages" expected a positive integer');
const reports: SoakReport[] = [];
let ok = true;
for (const seed of values.seed.map(Number)) {
  if (!Number.isSafeInteger(seed)) throw new RangeError('"--seed" expected an integer');
  const r = await runSoak({
    messages,
    seed,
    p2p: values.p2p,
    reorgDrop: values['reorg-drop'],
    ...(values.quiet ? {} : { progress: (line: string) => console.error(`[soak seed ${seed}] ${line}`) }),
  });
  reports.push(r);
  console.log(formatSoakTable([r]).split('\n').at(-1));
  if (r.lost + r.duplicated + r.unreceipted > 0 || r.afterRecovery.max > bound) ok = false;
}
console.log(`\n${formatSoakTable(reports)}`);
process.exit(ok ? 0 : 1);
