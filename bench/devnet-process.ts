/**
 * The local network in a process of its own (`src/devnet/main.ts`), for benches that time a
 * client: a Kaspa node never runs in its client's process, and in-process its block template,
 * verbose transactions and WebSocket framing took the same thread as the client being timed.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/devnet/main.ts', import.meta.url));
const START_TIMEOUT_MS = 60_000;

export interface DevnetProcess {
  /** wRPC JSON URL of the node. */
  readonly url: string;
  /** Stops the node and waits for its process to end. */
  stop(): Promise<void>;
}

/** Starts `npm run devnet` on a free port; `prefund` in sompi, whole KAS only. */
export async function startDevnetProcess(options: {
  readonly blocksPerSecond: number;
  readonly prefund: Readonly<Record<string, bigint>>;
}): Promise<DevnetProcess> {
  const KAS = 100_000_000n;
  const args = [
    MAIN,
    '--port=0',
    `--bps=${options.blocksPerSecond}`,
    ...Object.entries(options.prefund).map(([address, sompi]) => {
      if (sompi % KAS !== 0n) throw new RangeError(`prefund of ${address} is not whole KAS`);
      return `--prefund=${address}=${sompi / KAS}`;
    }),
  ];
  // The loader this process runs under (tsx) is passed on through execArgv.
  const child = spawn(process.execPath, [...process.execArgv, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ended = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('devnet process did not start')), START_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`devnet process exited (${code}) before serving`)));
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const m = /wRPC JSON on (ws:\/\/[^, ]+)/.exec(line);
      if (m === null) return;
      clearTimeout(timer);
      resolve(m[1]!);
    });
  }).catch((e: unknown) => {
    child.kill('SIGKILL');
    throw e;
  });
  return {
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await ended;
    },
  };
}
