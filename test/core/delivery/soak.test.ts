import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDevnet } from '../../../src/devnet/index.ts';
import { SOMPI_PER_KAS } from '../../../src/kaspa/types.ts';
import type { OutgoingMessage } from '../../../src/core/delivery/messages.ts';
import { ChainUser } from './kaspa.ts';
import { until } from './harness.ts';

/** Deterministic pseudo-random numbers (mulberry32), so a failing run can be replayed by seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MESSAGES = Number(process.env['SOAK_MESSAGES'] ?? 1_000);

describe('soak: three clients on the local Kaspa network under random faults', () => {
  it(`${MESSAGES} messages end with zero lost and zero duplicated`, async () => {
    const seed = Number(process.env['SOAK_SEED'] ?? 20261125);
    const random = rng(seed);
    const box: { url?: string } = {};
    const settings = { maxAttempts: 30, backoffBaseMs: 100 };
    const users = ['alice', 'bob', 'carol'].map((n) => new ChainUser(n, () => box.url!, { settings }));
    for (const u of users) u.knows(...users.filter((o) => o !== u));
    const devnet = await startDevnet({
      port: 0,
      controlPort: false,
      blocksPerSecond: 50,
      prefund: Object.fromEntries(users.map((u) => [u.address.toString(), 10_000n * SOMPI_PER_KAS])),
    });
    box.url = devnet.url;
    const faults: Record<string, number> = { drop: 0, restart: 0, delay: 0, withhold: 0 };
    try {
      for (const u of users) await u.start();
      const sent = new Map<string, Set<string>>(users.map((u) => [u.id, new Set()]));
      const down = new Set<ChainUser>();
      for (let i = 0; i < MESSAGES; i++) {
        const from = users[Math.floor(random() * 3)]!;
        if (down.has(from)) {
          await from.start();
          down.delete(from);
        }
        const to = users.filter((u) => u !== from)[Math.floor(random() * 2)]!;
        const m = await from.engine.send(to.id, `soak ${i} ${from.name}→${to.name}`);
        sent.get(to.id)!.add(m.id);
        if (i % 25 === 24) {
          const r = random();
          if (r < 0.3) {
            faults['drop']!++;
            devnet.faults.dropConnections();
          } else if (r < 0.6) {
            // A client is killed (its pending batch unsent) and comes back later.
            const victim = users[Math.floor(random() * 3)]!;
            if (!down.has(victim)) {
              faults['restart']!++;
              await victim.stop();
              down.add(victim);
            }
          } else if (r < 0.8) {
            faults['delay']!++;
            devnet.faults.delayNotifications(200);
            setTimeout(() => devnet.faults.delayNotifications(0), 500);
          } else {
            faults['withhold']!++;
            devnet.faults.withholdNotifications();
            setTimeout(() => devnet.faults.releaseNotifications(), 300);
          }
        }
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 20));
      }
      for (const u of down) await u.start();
      // Everything sent is delivered: each sender sees a receipt for every message.
      for (const from of users) {
        for (const to of users) {
          if (from === to) continue;
          await until(
            `${from.name} → ${to.name} all delivered`,
            async () => (await from.outbox(to)).every((m) => (m as OutgoingMessage).status === 'delivered'),
            240_000,
          ).catch(async (error: unknown) => {
            const stuck = ((await from.outbox(to)) as OutgoingMessage[]).filter(
              (m) => m.status !== 'delivered',
            );
            const got = new Set((await to.inbox(from)).map((m) => m.id));
            const detail = stuck
              .slice(0, 10)
              .map(
                (m) =>
                  `${m.text} ${m.status} pubs=${m.publications} att=${m.attempts} tx=${m.proof?.txId.slice(0, 8)} received=${got.has(m.id)}`,
              );
            const errors = from.events
              .flatMap((e) => (e.type === 'error' ? [String(e.error)] : []))
              .slice(-5);
            const funds = from.events.filter((e) => e.type === 'funds').slice(-2);
            errors.push(
              JSON.stringify(funds, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
            );
            throw new Error(
              `${String(error)}; ${stuck.length} stuck: ${detail.join(' | ')}; errors: ${errors.join(' | ')}`,
            );
          });
        }
      }
      let total = 0;
      for (const to of users) {
        const received = users.filter((u) => u !== to);
        const ids: string[] = [];
        for (const from of received) ids.push(...(await to.inbox(from)).map((m) => m.id));
        assert.equal(new Set(ids).size, ids.length, `${to.name} shows a message twice`);
        assert.deepEqual(new Set(ids), sent.get(to.id), `${to.name} lost or invented messages`);
        total += ids.length;
      }
      assert.equal(total, MESSAGES);
      assert.ok(
        Object.values(faults).reduce((a, b) => a + b, 0) >= 20,
        `faults injected: ${JSON.stringify(faults)}`,
      );
    } finally {
      for (const u of users) await u.stop().catch(() => undefined);
      await devnet.stop();
    }
  });
});
