/**
 * The chain latency budget of docs/delivery.md: CPU profile of the bench's own set-up (carol
 * sends to dave on the in-process local network, 10 blocks/s, batch window 0), split at the
 * sender's submitTransaction, each sample given to the first part of `PARTS` its stack shows.
 * `npx tsx bench/latency-profile.ts [messages]` prints the mean per message of each part.
 */
import { Session } from 'node:inspector/promises';
import { startDevnet } from '../src/devnet/index.ts';
import { SOMPI_PER_KAS } from '../src/kaspa/types.ts';
import { ChainUser } from '../test/core/delivery/kaspa.ts';

/** Parts of the budget, in the order a sample is matched: `function@path fragment`. */
const PARTS: readonly (readonly [string, readonly string[]])[] = [
  ['sender: Schnorr signing', ['signTransaction@kaspa/sign']],
  ['sender: seal (ratchet encrypt, batch)', ['sealBatch@']],
  ['sender: build tx (mass, fee, txid)', ['buildPayment@']],
  ['sender: next addresses and keys (book.prepare)', ['prepare@addresses/book']],
  ['sender: publish bookkeeping', ['publish@kaspa-chain', 'publishAll@', 'flush@delivery/engine']],
  ['node: validation', ['validate@devnet/mempool', 'submitTransaction@devnet/chain']],
  ['node: mining, block template', ['mine@devnet', '#template@devnet']],
  ['node: RPC, notifications', ['#onFrame@devnet', '#publishVirtual@', '#publishUtxos@', '#broadcast@']],
  [
    'recipient: header-tag index',
    ['#reindex@', 'expectedTags@', '#slotMap@', '#moveSlots@', 'takeTagChanges@'],
  ],
  ['recipient: DH ratchet step', ['#dhRatchet@']],
  ['recipient: ratchet step rest, batch scan, session state', ['decrypt@session/ratchet', 'openBatch@']],
  ['recipient: address window move', ['arrived@addresses/book', 'windowOf@', 'noteArrival@']],
  ['recipient: store and show', ['onIncoming@', 'processFrames@']],
  [
    'clients: RPC parsing, payload fetch',
    ['onFrame@rpc/client', 'parseJson@', 'blockFromRpc@', 'fetch@payload-fetch'],
  ],
  ['garbage collector', ['(garbage collector)@']],
  ['idle', ['(idle)@']],
];

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
}
interface Profile {
  readonly nodes: readonly { id: number; callFrame: CallFrame; children?: number[] }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
}

const messages = Number(process.argv[2] ?? 40);
const box: { url?: string } = {};
const url = (): string => box.url!;
const carol = new ChainUser('carol', url, { settings: { batchWindowMs: 0 } });
const dave = new ChainUser('dave', url, { settings: { batchWindowMs: 0 } });
carol.knows(dave);
dave.knows(carol);
const devnet = await startDevnet({
  port: 0,
  controlPort: false,
  blocksPerSecond: 10,
  prefund: Object.fromEntries([carol, dave].map((u) => [u.address.toString(), 10_000n * SOMPI_PER_KAS])),
});
box.url = devnet.url;
await carol.start();
await dave.start();
const until = async (check: () => boolean): Promise<void> => {
  const deadline = Date.now() + 60_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('profile wait timed out');
    await new Promise((r) => setTimeout(r, 1));
  }
};
const submitted: number[] = [];
const submit = carol.client.submitTransaction.bind(carol.client);
carol.client.submitTransaction = (...args) => {
  submitted.push(performance.now());
  return submit(...args);
};
const shown: number[] = [];
dave.engine.subscribe((e) => {
  if (e.type === 'message' && e.message.direction === 'in') shown.push(performance.now());
});
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.setSamplingInterval', { interval: 100 });
const windows: [number, number, number][] = [];
// Three warm-up messages first (session start, pools), then the profiled ones.
for (let i = -3; i < messages; i++) {
  if (i === 0) await session.post('Profiler.start');
  const before = shown.length;
  submitted.length = 0;
  const t0 = performance.now();
  const sent = await carol.engine.send(dave.id, `chain ${i}`);
  await until(() => shown.length > before);
  const t1 = shown.at(-1)!;
  if (i >= 0) windows.push([t0, submitted.filter((t) => t <= t1).at(-1) ?? t0, t1]);
  await until(() => carol.deliveredAt.has(sent.id));
  await new Promise((r) => setTimeout(r, 100));
}
const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
// Profile times are microseconds of the monotonic clock process.hrtime reads.
const offset = Number(process.hrtime.bigint()) / 1e6 - performance.now();
await carol.stop();
await dave.stop();
await devnet.stop();

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const matches = (cf: CallFrame, pattern: string): boolean => {
  const [fn, path] = pattern.split('@') as [string, string];
  return cf.functionName === fn && cf.url.includes(path);
};
const totals = { send: new Map<string, number>(), rest: new Map<string, number>() };
let at = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  at += profile.timeDeltas[i]!;
  const next = at + (profile.timeDeltas[i + 1] ?? 0);
  const t = at / 1000 - offset;
  const w = windows.find(([a, , c]) => t >= a && t < c);
  if (w === undefined) continue;
  const stack: CallFrame[] = [];
  for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parent.get(id))
    stack.push(byId.get(id)!.callFrame);
  const part = PARTS.find(([, ps]) => stack.some((cf) => ps.some((p) => matches(cf, p))))?.[0] ?? 'other';
  const into = t < w[1] ? totals.send : totals.rest;
  into.set(part, (into.get(part) ?? 0) + (next - at) / 1000);
}
const n = windows.length;
const wall = (k: 0 | 1): number => windows.reduce((s, w) => s + w[k + 1]! - w[k]!, 0) / n;
for (const [label, parts, k] of [
  ['send → submitted', totals.send, 0],
  ['submitted → shown', totals.rest, 1],
] as const) {
  console.log(`${label}: wall ${wall(k).toFixed(1)} ms mean over ${n} messages`);
  for (const [part, ms] of [...parts].sort((a, b) => b[1] - a[1]))
    console.log(`  ${(ms / n).toFixed(1).padStart(6)} ms  ${part}`);
}
process.exit(0);
