/**
 * Reconnection after unlock (issue 15 item 1): the real app in headless Chromium on the local
 * network (10 blocks/s), Bob linked to Alice, who stays online. Bob reloads and unlocks; timed
 * from the click on "Unlock" to "Connected" in his conversation with Alice, beside the same
 * unlock to the conversation on screen (what unlocking costs with no link at all), with the
 * chain transactions and fees each reconnection took, and the path split into its steps by the
 * app's page marks (src/util/marks.ts).
 */
import type { Page } from 'playwright-core';
import type { MempoolEntry } from '../src/devnet/mempool.ts';
import { MARK_PREFIX } from '../src/util/marks.ts';
import {
  addByLink,
  batchesPublished,
  openChat,
  received,
  send,
  startRealApp,
  unlock,
  UI,
} from '../test/web/e2e/real-app.ts';
import { fmtMs, percentile, type Bench } from './table.ts';

const RUNS = 5;
/** Issue 15: unlock to "Connected" with an online contact. */
const TARGET_MS = 2_000;

/** The app's marks on the unlock path (src/util/marks.ts), in the order they are reached. */
const STEPS: readonly (readonly [string, string])[] = [
  ['unlock-kdf-done', 'vault key derived (scrypt, docs/crypto.md)'],
  ['unlock-session', 'identity, contacts and sessions read'],
  ['node-connected', 'node connected'],
  ['engine-open', 'delivery engine open'],
  ['unlock-done', 'unlock returned to the screen'],
  ['chat-list', 'chat list shown (its first render after unlock)'],
  ['chat-shown', 'conversation history shown'],
  ['offer-made', 'offer made (ICE gathered)'],
  ['chain-ready', 'chain caught up (coins and payloads since the cursor)'],
  ['signal-published', 'offer published'],
  ['answer-received', 'answer received'],
  ['link-open', 'link open'],
];

/** Bob's page marks of the last unlock, in ms from the start of its KDF. */
async function marksOf(page: Page): Promise<Map<string, number>> {
  const marks = await page.evaluate((prefix) => {
    return performance
      .getEntriesByType('mark')
      .filter((m) => m.name.startsWith(prefix))
      .map((m) => [m.name.slice(prefix.length), m.startTime] as const);
  }, MARK_PREFIX);
  const firsts = new Map<string, number>();
  for (const [name, at] of marks) if (!firsts.has(name)) firsts.set(name, at);
  const zero = firsts.get('unlock-kdf') ?? 0;
  return new Map([...firsts].map(([name, at]) => [name, at - zero]));
}

const bench: Bench = async () => {
  const app = await startRealApp();
  try {
    const alice = await app.newUser('Alice', 'alice password 1');
    const bob = await app.newUser('Bob', 'bob password 1');
    await addByLink(alice, bob);
    await addByLink(bob, alice);
    await send(bob, 'hello');
    await received(alice, 'hello');
    await bob.page.locator('.conn.connected').waitFor({ timeout: 180_000 });
    const toConnected: number[] = [];
    const toChat: number[] = [];
    const txs: number[] = [];
    const fees: bigint[] = [];
    const parts: Map<string, number>[] = [];
    for (let i = 0; i < RUNS; i++) {
      // Receipts of earlier runs (5-60 s later, docs/privacy.md) are not this run's cost.
      await new Promise((r) => setTimeout(r, 61_000));
      const watch = batchesPublished(app);
      let during: MempoolEntry[];
      try {
        await bob.page.reload();
        await bob.page.getByRole('heading', { name: /Welcome back/ }).waitFor({ timeout: UI });
        await bob.page.getByLabel('Password').fill(bob.password);
        const t0 = performance.now();
        await unlock(bob);
        await openChat(bob, 'Alice');
        toChat.push(performance.now() - t0);
        await bob.page.locator('.conn.connected').waitFor({ timeout: 60_000 });
        toConnected.push(performance.now() - t0);
        await alice.page.locator('.conn.connected').waitFor({ timeout: 60_000 });
        during = [...watch.entries];
        parts.push(await marksOf(bob.page));
      } finally {
        watch.stop();
      }
      txs.push(during.length);
      fees.push(during.reduce((n, e) => n + e.fee, 0n));
    }
    const p = (s: number[]): string => `p50 ${fmtMs(percentile(s, 50))} / max ${fmtMs(Math.max(...s))}`;
    return {
      title: `Reconnection after unlock (real app, headless Chromium, local network at 10 blocks/s, ${RUNS} runs)`,
      rows: [
        {
          name: 'unlock to "Connected" with an online contact, nothing sent',
          value: p(toConnected),
          reference: `target ${fmtMs(TARGET_MS)} (issue 15); unlock to the conversation on screen ${p(toChat)}`,
          note: `${toConnected.filter((t) => t <= TARGET_MS).length}/${RUNS} within target`,
        },
        {
          name: 'of which: conversation on screen to "Connected" (the reconnection itself)',
          value: p(toConnected.map((t, i) => t - toChat[i]!)),
          reference: `target ${fmtMs(TARGET_MS)}; the unlock before it is the vault KDF (docs/crypto.md)`,
          note: `${toConnected.filter((t, i) => t - toChat[i]! <= TARGET_MS).length}/${RUNS} within target`,
        },
        ...STEPS.map(([mark, what]) => {
          const at = parts.map((m) => m.get(mark)).filter((t): t is number => t !== undefined);
          return {
            name: `  ${what}`,
            value: at.length === 0 ? '-' : `p50 ${fmtMs(percentile(at, 50))}`,
            reference: `from the KDF's start, page mark ${MARK_PREFIX}${mark}`,
            note: `${at.length}/${RUNS} runs`,
          };
        }),
        {
          name: 'chain transactions per reconnection (offer, answer; each alone)',
          value: txs.join(' / '),
          reference: 'floor 2 (one offer, one answer: no server between two browsers)',
        },
        {
          name: 'fees per reconnection, both sides',
          value: fees.map((f) => `${f.toLocaleString('en-US')} sompi`).join(' / '),
          reference: 'notification coins not counted: they are owed back (docs/privacy.md "Coins")',
        },
      ],
    };
  } finally {
    await app.close();
  }
};

export default bench;
