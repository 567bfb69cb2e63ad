/**
 * The soak run shared by `npm test` (short, fixed seeds) and `npm run soak` (any size): three
 * clients on the local Kaspa network send messages to each other while random faults hit the
 * connections, the clients, the node and the chain. When the last fault has ended and every
 * client is up, it waits until every message is delivered and receipted, then counts what was
 * lost or shown twice and how long delivery took after recovery.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevnet, type DevnetHandle } from '../../../src/devnet/index.ts';
import { SOMPI_PER_KAS } from '../../../src/kaspa/types.ts';
import { RpcError, type RpcErrorCode } from '../../../src/kaspa/rpc/errors.ts';
import type { OutgoingMessage } from '../../../src/core/delivery/messages.ts';
import { ChainUser } from './kaspa.ts';
import { defaultReceiptDelayMs } from '../../../src/core/delivery/kaspa-chain.ts';
import { until } from './harness.ts';

/** Deterministic pseudo-random numbers (mulberry32), so a failing run can be replayed by seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Faults drawn at random, in the order of the draw (a seed's faults depend on this list). */
const DRAWN = ['drop', 'kill', 'restart', 'node-restart', 'delay', 'withhold', 'reorg'] as const;
/**
 * Fault kinds, in the order the table lists them: the drawn ones, and the reorganisations that
 * removed their transactions for good (`reorgDrop`: every other drawn reorganisation), counted
 * apart so that a run shows it had some.
 */
export const FAULT_KINDS = [...DRAWN, 'reorg-drop'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface SoakOptions {
  readonly messages: number;
  readonly seed: number;
  /** Direct links too: messages switch between the data channel and the chain. */
  readonly p2p?: boolean;
  /** Every other reorganisation drops the removed transactions instead of returning them to the mempool. */
  readonly reorgDrop?: boolean;
  /**
   * Receipt-only publications wait as in production (uniform 5-60 s, docs/privacy.md
   * "Timing"), times this factor; 0 or absent: no wait.
   */
  readonly receiptDelayScale?: number;
  /** How long to wait for everything after recovery before counting the rest as lost. @default 240_000 */
  readonly settleTimeoutMs?: number;
  /** Told what the run is doing (progress lines). */
  readonly progress?: (line: string) => void;
}

export interface SoakReport {
  readonly messages: number;
  readonly seed: number;
  readonly p2p: boolean;
  readonly faults: Readonly<Record<FaultKind, number>>;
  /** Sent but never shown to the recipient. */
  readonly lost: number;
  /** Shown to a recipient more than once, or shown without having been sent. */
  readonly duplicated: number;
  /** Shown but never receipted back to the sender. */
  readonly unreceipted: number;
  /** Messages still undelivered when the last fault ended. */
  readonly outstanding: number;
  /** Time from recovery to the receipt of each outstanding message, ms (p50, p99, max). */
  readonly afterRecovery: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Client starts that failed (the node did not answer in time) and were made again. */
  readonly startRetries: number;
  /** How long the whole run took, ms. */
  readonly durationMs: number;
  /**
   * One line per lost or unreceipted message (at most 20): the sender's record of it, the
   * faults around its send, and the errors its two clients reported, so a failing seed says
   * where to look.
   */
  readonly diagnosis: readonly string[];
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Runs one soak; resolves with its report (it does not judge it). */
export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const t0 = Date.now();
  const random = rng(opts.seed);
  const progress = opts.progress ?? (() => undefined);
  const box: { devnet?: DevnetHandle } = {};
  const settings = { maxAttempts: 30, backoffBaseMs: 100 };
  const scale = opts.receiptDelayScale ?? 0;
  // Its own generator, so the faults of a seed are the same with and without the delay.
  const delays = rng(opts.seed ^ 0x5eed);
  const users = ['alice', 'bob', 'carol'].map(
    (n) =>
      new ChainUser(n, () => box.devnet!.url, {
        settings,
        links: opts.p2p === true,
        ...(scale > 0 ? { receiptDelayMs: () => Math.round(defaultReceiptDelayMs(delays) * scale) } : {}),
      }),
  );
  for (const u of users) u.knows(...users.filter((o) => o !== u));
  // A data directory, so the node can be restarted with its chain, UTXO set and mempool.
  const dir = mkdtempSync(join(tmpdir(), 'p2pcomm-soak-'));
  const nodeOptions = { controlPort: false as const, blocksPerSecond: 50, dataDir: dir };
  box.devnet = await startDevnet({
    ...nodeOptions,
    port: 0,
    prefund: Object.fromEntries(users.map((u) => [u.address.toString(), 10_000n * SOMPI_PER_KAS])),
  });
  const port = Number(new URL(box.devnet.url).port);
  const faults = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  /** Drawn reorganisations so far, dropping or not: `reorgDrop` makes every other one drop. */
  let reorgs = 0;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const sent = new Map<string, Set<string>>(users.map((u) => [u.id, new Set()]));
  /** When each message was sent, by id (for the diagnosis). */
  const sentAt = new Map<string, number>();
  /** Every fault injected, in order: when, what, on whom. */
  const faultLog: { at: number; kind: FaultKind; victim: string }[] = [];
  const down = new Set<ChainUser>();
  let startRetries = 0;
  // A start can fail when the node does not answer in time (an RPC timeout while the machine is
  // saturated): the client is then killed and started again, as a person reopens the app; the
  // failure is counted, not hidden. Only a node that did not answer is retried: any other
  // failure of a start is the client's own and ends the run.
  const start = async (u: ChainUser): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await u.start();
        return;
      } catch (e) {
        if (attempt >= 5 || !nodeDidNotAnswer(e)) throw e;
        startRetries++;
        progress(`${u.name} did not start (${e instanceof Error ? e.message : String(e)}); again`);
        try {
          u.kill();
        } catch {
          // A first start that failed before its engine existed has nothing else to close.
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  };
  try {
    for (const u of users) await start(u);
    for (let i = 0; i < opts.messages; i++) {
      const from = users[Math.floor(random() * 3)]!;
      if (down.has(from)) {
        await start(from);
        down.delete(from);
      }
      const to = users.filter((u) => u !== from)[Math.floor(random() * 2)]!;
      const m = await from.engine.send(to.id, `soak ${i} ${from.name}→${to.name}`);
      sent.get(to.id)!.add(m.id);
      sentAt.set(m.id, Date.now());
      if (i % 25 === 24) await inject(random(), i);
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 20));
      if (i % 1000 === 999) progress(`${i + 1} sent; faults ${JSON.stringify(faults)}`);
    }

    // Recovery: every fault ends, every client is up.
    for (const t of timers) clearTimeout(t);
    timers.clear();
    box.devnet.faults.delayNotifications(0);
    box.devnet.faults.releaseNotifications();
    for (const u of down) await start(u);
    down.clear();
    const recoveredAt = Date.now();
    const outstanding = new Map<ChainUser, string[]>();
    for (const from of users) {
      const open: string[] = [];
      for (const to of users) {
        if (to === from) continue;
        for (const m of await from.outbox(to)) {
          const o = m as OutgoingMessage;
          if (o.status !== 'delivered' && o.status !== 'read' && !from.deliveredAt.has(o.id)) open.push(o.id);
        }
      }
      outstanding.set(from, open);
    }
    progress(`recovered; ${[...outstanding.values()].flat().length} messages outstanding`);
    const deadline = recoveredAt + (opts.settleTimeoutMs ?? 240_000);
    for (const from of users) {
      for (const to of users) {
        if (from === to) continue;
        await until(
          `${from.name} → ${to.name} all delivered`,
          async () =>
            (await from.outbox(to)).every(
              (m) => m.direction === 'out' && (m.status === 'delivered' || m.status === 'read'),
            ),
          Math.max(0, deadline - Date.now()),
        ).catch(() => undefined);
      }
    }

    let lost = 0;
    let duplicated = 0;
    let unreceipted = 0;
    for (const to of users) {
      const ids: string[] = [];
      for (const from of users) if (from !== to) ids.push(...(await to.inbox(from)).map((m) => m.id));
      const shown = new Set(ids);
      const expected = sent.get(to.id)!;
      duplicated += ids.length - shown.size;
      for (const id of shown) if (!expected.has(id)) duplicated++;
      for (const id of expected) if (!shown.has(id)) lost++;
    }
    for (const from of users) {
      for (const to of users) {
        if (from === to) continue;
        const shown = new Set((await to.inbox(from)).map((m) => m.id));
        for (const m of await from.outbox(to)) {
          if (m.direction === 'out' && m.status !== 'delivered' && m.status !== 'read' && shown.has(m.id))
            unreceipted++;
        }
      }
    }
    const waits: number[] = [];
    for (const [from, ids] of outstanding) {
      for (const id of ids) {
        const at = from.deliveredAt.get(id);
        if (at !== undefined) waits.push(Math.max(0, at - recoveredAt));
      }
    }
    waits.sort((a, b) => a - b);
    const diagnosis = await diagnose(users, sent, sentAt, faultLog);
    return {
      messages: opts.messages,
      seed: opts.seed,
      p2p: opts.p2p === true,
      faults,
      lost,
      duplicated,
      unreceipted,
      outstanding: [...outstanding.values()].reduce((n, ids) => n + ids.length, 0),
      afterRecovery: { p50: percentile(waits, 50), p99: percentile(waits, 99), max: waits.at(-1) ?? 0 },
      startRetries,
      durationMs: Date.now() - t0,
      diagnosis,
    };
  } finally {
    for (const t of timers) clearTimeout(t);
    for (const u of users) await u.stop().catch(() => undefined);
    await box.devnet.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  async function inject(r: number, i: number): Promise<void> {
    const devnet = box.devnet!;
    let kind: FaultKind = DRAWN[Math.floor(r * DRAWN.length)]!;
    const victim = users[i % 3]!;
    switch (kind) {
      case 'drop':
        devnet.faults.dropConnections();
        break;
      case 'kill':
        // Killed at a random instant of its publication: a batch may be sealed, submitted or
        // half recorded. It comes back when it next sends.
        if (down.has(victim)) return;
        await victim.engine.send(users.find((u) => u !== victim)!.id, `soak kill ${i}`).then((m) => {
          sent.get(users.find((u) => u !== victim)!.id)!.add(m.id);
          sentAt.set(m.id, Date.now());
        });
        await new Promise((r) => setTimeout(r, Math.floor(random() * 80)));
        victim.kill();
        down.add(victim);
        break;
      case 'restart':
        if (down.has(victim)) return;
        await victim.stop();
        down.add(victim);
        break;
      case 'node-restart':
        await devnet.stop();
        box.devnet = await startDevnet({ ...nodeOptions, port });
        break;
      case 'delay':
        devnet.faults.delayNotifications(200);
        later(500, () => box.devnet!.faults.delayNotifications(0));
        break;
      case 'withhold':
        devnet.faults.withholdNotifications();
        later(300, () => box.devnet!.faults.releaseNotifications());
        break;
      case 'reorg':
        // The last chain blocks are replaced by a heavier branch; their transactions go back to
        // the mempool and are accepted again in other blocks (coins disappear, then reappear).
        // With `reorgDrop`, every other time they are dropped instead and must be published again.
        if (opts.reorgDrop === true && reorgs % 2 === 1) kind = 'reorg-drop';
        reorgs++;
        devnet.faults.reorg(1 + Math.floor(random() * 3), { dropTransactions: kind === 'reorg-drop' });
        break;
    }
    faults[kind]++;
    faultLog.push({ at: Date.now(), kind, victim: victim.name });
  }
}

/**
 * A line for each message (at most 20) that was lost or left without receipt: the sender's
 * record (status, publications, attempts, last transaction, failure), the faults from 2 s before
 * its send to 10 s after, and the distinct errors the sender and recipient reported.
 */
async function diagnose(
  users: readonly ChainUser[],
  sent: ReadonlyMap<string, ReadonlySet<string>>,
  sentAt: ReadonlyMap<string, number>,
  faultLog: readonly { at: number; kind: FaultKind; victim: string }[],
): Promise<string[]> {
  const lines: string[] = [];
  const errorsOf = (u: ChainUser): string => {
    const seen = new Map<string, number>();
    for (const e of u.events)
      if (e.type === 'error') {
        const k = `${e.error.name}: ${e.error.message}`.slice(0, 120);
        seen.set(k, (seen.get(k) ?? 0) + 1);
      }
    return [...seen].map(([k, n]) => `${n}× ${k}`).join('; ') || 'none';
  };
  for (const from of users) {
    for (const to of users) {
      if (from === to) continue;
      const shown = new Set((await to.inbox(from)).map((m) => m.id));
      for (const m of await from.outbox(to)) {
        if (m.direction !== 'out' || m.status === 'delivered' || m.status === 'read') continue;
        if (!sent.get(to.id)?.has(m.id)) continue;
        const at = sentAt.get(m.id) ?? m.sentAt;
        const near = faultLog
          .filter((f) => f.at >= at - 2_000 && f.at <= at + 10_000)
          .map((f) => `${f.kind}(${f.victim})@${((f.at - at) / 1000).toFixed(1)}s`);
        lines.push(
          `${shown.has(m.id) ? 'unreceipted' : 'lost'} "${m.text}" ${m.status} route=${m.route ?? '-'}` +
            ` pubs=${m.publications} attempts=${m.attempts} tx=${m.proof?.txId.slice(0, 12) ?? '-'}` +
            `${m.proof?.acceptingBlockHash ? ' accepted' : ''}${m.failure ? ` failure=${m.failure}` : ''}` +
            `${m.dueAt ? ` due in ${((m.dueAt - Date.now()) / 1000).toFixed(0)}s` : ''}` +
            ` faults near: ${near.join(' ') || 'none'}`,
        );
        if (lines.length >= 20) break;
      }
    }
  }
  if (lines.length > 0) for (const u of users) lines.push(`${u.name} errors: ${errorsOf(u)}`);
  return lines;
}

/** RPC failures that mean the node did not answer or could not be reached, not that it refused. */
const NO_ANSWER: ReadonlySet<RpcErrorCode> = new Set([
  'TIMEOUT',
  'CONNECT_FAILED',
  'CONNECTION_CLOSED',
  'NOT_CONNECTED',
]);

/** Whether `e`, or an error it was raised from, is one of the NO_ANSWER failures. */
function nodeDidNotAnswer(e: unknown): boolean {
  for (let c = e; c instanceof Error; c = c.cause)
    if (c instanceof RpcError && NO_ANSWER.has(c.code)) return true;
  return false;
}

/** The report as a Markdown table. */
export function formatSoakTable(reports: readonly SoakReport[]): string {
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  const lines = [
    `| messages | seed | p2p | faults (${FAULT_KINDS.join(' / ')}) | lost | duplicated | unreceipted | outstanding at recovery | after recovery p50 / p99 / max | start retries | run |`,
    '|---:|---:|:-:|---|---:|---:|---:|---:|---|---:|---:|',
  ];
  for (const r of reports) {
    lines.push(
      `| ${r.messages.toLocaleString('en-US')} | ${r.seed} | ${r.p2p ? 'yes' : 'no'} | ${FAULT_KINDS.map((k) => r.faults[k]).join(' / ')} | ${r.lost} | ${r.duplicated} | ${r.unreceipted} | ${r.outstanding} | ${s(r.afterRecovery.p50)} / ${s(r.afterRecovery.p99)} / ${s(r.afterRecovery.max)} | ${r.startRetries} | ${s(r.durationMs)} |`,
    );
  }
  return lines.join('\n');
}
