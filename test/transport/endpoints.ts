/**
 * Where one side of a link under test runs: in this process, in a killable child process,
 * or in a Chromium page. All three speak the same `Driver` calls; two of them make a `Pair`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { startBrowserHarness, type BrowserHarness } from '../harness/browser.ts';
import type { Driver, DriverMethod } from './driver.ts';

/** Chromium flags for WebRTC tests: host candidates with IP addresses instead of mDNS names. */
export const WEBRTC_TEST_ARGS = ['--disable-features=WebRtcHideLocalIpsWithMdns'];

type Result<M extends DriverMethod> = Awaited<ReturnType<Driver[M]>>;

/** One side of a link under test. */
export interface Endpoint {
  readonly label: string;
  call<M extends DriverMethod>(method: M, ...args: Parameters<Driver[M]>): Promise<Result<M>>;
  /** Makes the endpoint vanish without a word to its peer. */
  kill(): Promise<void>;
  dispose(): Promise<void>;
}

/** Two endpoints to link, and a way to bring `b` back after it was killed. */
export interface Pair {
  a: Endpoint;
  b: Endpoint;
  /** Replaces `b` (after `kill`) by a fresh endpoint of the same kind. */
  respawnB(): Promise<Endpoint>;
  dispose(): Promise<void>;
}

/** Shared set-up of one implementation pair. */
export interface PairSource {
  setUp?(): Promise<void>;
  tearDown?(): Promise<void>;
  makePair(): Promise<Pair>;
}

/** A pair of `a` and a `b` from `spawnB`, which also brings `b` back after it was killed. */
export async function respawnablePair(a: Endpoint, spawnB: () => Promise<Endpoint>): Promise<Pair> {
  const pair: Pair = {
    a,
    b: await spawnB(),
    async respawnB() {
      await pair.b.dispose();
      pair.b = await spawnB();
      return pair.b;
    },
    async dispose() {
      await Promise.all([a.dispose(), pair.b.dispose()]);
    },
  };
  return pair;
}

/** An endpoint over a driver in this process (cannot be killed). */
export function inProcessEndpoint(label: string, driver: Driver): Endpoint {
  return {
    label,
    call: (method, ...args) => (driver[method] as (...a: unknown[]) => Promise<never>)(...args),
    kill: () => Promise.reject(new Error('an in-process endpoint cannot be killed')),
    dispose: () => driver.closeAll(),
  };
}

const CHILD_ENTRY = fileURLToPath(new URL('./driver-child.ts', import.meta.url));

/** An endpoint in a child Node process running werift; `kill` is SIGKILL. */
export async function childEndpoint(label: string): Promise<Endpoint> {
  const child: ChildProcess = fork(CHILD_ENTRY, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: never) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let dead = false;
  const ready = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.on('message', (msg: { ready?: true; id?: number; ok?: boolean; value?: never; error?: string }) => {
      if (msg.ready) return resolve();
      const p = pending.get(msg.id ?? -1);
      if (p === undefined) return;
      pending.delete(msg.id!);
      if (msg.ok === true) p.resolve(msg.value!);
      else p.reject(new Error(msg.error));
    });
  });
  child.once('exit', () => {
    dead = true;
    for (const p of pending.values()) p.reject(new Error(`${label} exited`));
    pending.clear();
  });
  await ready;
  const exited = new Promise<void>((resolve) => {
    if (dead) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    label,
    call: (method, ...args) =>
      new Promise((resolve, reject) => {
        if (dead) return reject(new Error(`${label} is not running`));
        const id = nextId++;
        pending.set(id, { resolve, reject });
        child.send({ id, method, args });
      }),
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async dispose() {
      if (!dead) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Set-up for pairs with a Chromium side: one browser serving the driver bundle for the whole
 * suite, with host candidates as IP addresses (WEBRTC_TEST_ARGS); `makePair` gets it.
 */
export function withChromium(makePair: (harness: BrowserHarness) => Promise<Pair>): PairSource {
  let harness: BrowserHarness | undefined;
  return {
    async setUp() {
      harness = await startBrowserHarness(
        fileURLToPath(new URL('./driver-browser.ts', import.meta.url)),
        'testApi',
        { extraArgs: WEBRTC_TEST_ARGS },
      );
    },
    async tearDown() {
      await harness?.close();
    },
    makePair() {
      if (harness === undefined) throw new Error('the Chromium harness is not started');
      return makePair(harness);
    },
  };
}

/** An endpoint in a fresh, isolated Chromium context; `kill` crashes its renderer. */
export async function pageEndpoint(label: string, harness: BrowserHarness): Promise<Endpoint> {
  const page: Page = await harness.newPage();
  return {
    label,
    call: (method, ...args) =>
      page.evaluate(
        ([m, a]) => {
          const api = (
            globalThis as unknown as { testApi: { driver: Record<string, (...x: unknown[]) => unknown> } }
          ).testApi;
          return api.driver[m as string]!(...(a as unknown[]));
        },
        [method, args] as const,
      ) as Promise<never>,
    async kill() {
      // A crashed renderer sends nothing more: WebRTC lives in the renderer, so no DTLS
      // alert or SCTP ABORT reaches the peer, which is exactly a vanished device.
      const cdp = await page.context().newCDPSession(page);
      const crashed = new Promise<void>((resolve) => page.once('crash', () => resolve()));
      // The crash cuts the CDP session, so the command itself never answers.
      cdp.send('Page.crash').catch(() => undefined);
      await crashed;
    },
    async dispose() {
      await page.context().close();
    },
  };
}
