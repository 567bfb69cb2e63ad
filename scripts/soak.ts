/**
 * `npm run soak -- --messages N --seed S [--seed S2 …] [--p2p] [--reorg-drop] [--receipt-delay-scale F]`:
 * the delivery soak of test/core/delivery/soak.test.ts at any size, one run per seed, printing a
 * Markdown table (messages, faults by kind, lost, duplicated, time to delivery after recovery).
 * `--receipt-delay-scale F` holds receipts back as production does (5-60 s) times F. Exits 1 when
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
    'receipt-delay-scale': { type: 'string', default: '0' },
    bound: { type: 'string', default: '30' },
    quiet: { type: 'boolean', default: false },
  },
});
const messages = Number(values.messages);
const bound = Number(values.bound) * 1000;
const receiptDelayScale = Number(values['receipt-delay-scale']);
if (!Number.isFinite(receiptDelayScale) || receiptDelayScale < 0 || receiptDelayScale > 1)
  throw new RangeError('"--receipt-delay-scale" expected a number in [0, 1]');
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
    receiptDelayScale,
    ...(values.quiet ? {} : { progress: (line: string) => console.error(`[soak seed ${seed}] ${line}`) }),
  });
  reports.push(r);
  console.log(formatSoakTable([r]).split('\n').at(-1));
  for (const line of r.diagnosis) console.log(`  ${line}`);
  if (r.lost + r.duplicated + r.unreceipted > 0 || r.afterRecovery.max > bound) ok = false;
}
console.log(`\n${formatSoakTable(reports)}`);
process.exit(ok ? 0 : 1);
