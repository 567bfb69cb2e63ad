/**
 * The real `p2pcomm` executable in tests: each call is a child process of `src/cli/bin.mjs`
 * (the file package.json `bin` names), with its own data directory, against a local network
 * started by the test. Long-running commands (`listen`, `chat`) are kept with their output
 * split into lines, to wait on. Every wait is bounded generously and nothing asserts a time.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startDevnet, type DevnetHandle } from '../../src/devnet/index.ts';

/** The executable. */
export const BIN = resolve(import.meta.dirname, '../../src/cli/bin.mjs');

/** Bound on a one-shot command (tsx start, scrypt, node connection on a loaded machine). */
export const COMMAND_MS = 120_000;
/** Bound on waits that involve the chain path or setting up a direct link. */
export const SLOW_MS = 240_000;

/** Exit codes of docs/api.md "Exit codes" (src/cli/exit.ts). */
export const EXIT = { USAGE: 1, NOT_FOUND: 2, IN_USE: 3, WRONG_PASSWORD: 5, REFUSED: 6 } as const;

/** A command that failed with `code` and said why in `words`: no stack frames, no error class dumps. */
export function failed(r: CliResult, code: number, words: RegExp): void {
  assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
  assert.match(r.stderr, words);
  assert.doesNotMatch(r.stderr, /\n\s+at |Error:|node:internal/);
}

/** A command that succeeded: its standard output. */
export function ok(r: CliResult): string {
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** What a finished command printed and returned. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running command: its lines so far, and waits on them. */
export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[];
  readonly stderr: string[];
  /** Resolves with the first line (from the start) that `match` accepts. */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Ends it with SIGINT and waits for its exit code. */
  stop(): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

/** One person with a data directory and a password file. */
export interface CliUser {
  readonly name: string;
  readonly dir: string;
  readonly passwordFile: string;
  /** Their invite link, once `init` has run. */
  link: string;
  /** Runs `p2pcomm <args> --data <dir> --password-file <file>`. */
  run(args: readonly string[], options?: { readonly input?: string }): Promise<CliResult>;
  /** Starts a long-running command of theirs. */
  start(args: readonly string[]): CliProcess;
}

/** A local network and a scratch directory for CLI users. */
export interface CliWorld {
  readonly devnet: DevnetHandle;
  readonly faucetUrl: string;
  newUser(name: string, password?: string): Promise<CliUser>;
  close(): Promise<void>;
}

/** The environment of a child: no password from the test runner's environment. */
function childEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['P2PCOMM_PASSWORD'];
  return { ...env, ...extra };
}

/** Runs the executable (or `options.command`, e.g. `script` around it) to its end. */
export function runCli(
  args: readonly string[],
  options: {
    readonly input?: string;
    readonly env?: Readonly<Record<string, string>>;
    readonly command?: readonly string[];
  } = {},
): Promise<CliResult> {
  const [file, ...pre] = options.command ?? [process.execPath, BIN];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file ?? process.execPath, [...pre, ...args], { env: childEnv(options.env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Starts the executable (or `options.command`, e.g. an example script) and keeps it running. */
export function startCli(
  args: readonly string[],
  options: {
    readonly command?: readonly string[];
    readonly env?: Readonly<Record<string, string>>;
    readonly cwd?: string;
  } = {},
): CliProcess {
  const [file, ...pre] = options.command ?? [process.execPath, BIN];
  const child = spawn(file ?? process.execPath, [...pre, ...args], {
    env: childEnv(options.env),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  child.stdout.on('data', (d: Buffer) => {
    partial += d.toString('utf8');
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const w of waiters) w();
  });
  child.stderr.on('data', (d: Buffer) => stderr.push(d.toString('utf8')));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return {
    child,
    lines,
    stderr,
    exited,
    waitForLine(match, timeoutMs = SLOW_MS) {
      return new Promise<string>((resolvePromise, reject) => {
        const check = (): void => {
          const hit = lines.find(match);
          if (hit === undefined) return;
          done();
          resolvePromise(hit);
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(`no such line within ${timeoutMs} ms; got:\n${lines.join('\n')}\n${stderr.join('')}`),
          );
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        void exited.then(() => {
          if (waiters.has(check)) {
            done();
            reject(new Error(`exited before the line; got:\n${lines.join('\n')}\n${stderr.join('')}`));
          }
        });
        check();
      });
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_MS);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Every stdout line of `text` parsed as JSON (a line that is not JSON fails the test). */
export function jsonLines(lines: readonly string[]): Record<string, unknown>[] {
  return lines
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        assert.fail(`not a JSON line: ${l}`);
      }
    });
}

/**
 * Starts a local network (10 blocks per second, FACTS §0) and a scratch directory; or uses
 * `devnet` (one started elsewhere), which `close` then leaves running.
 */
export async function startCliWorld(options: { readonly devnet?: DevnetHandle } = {}): Promise<CliWorld> {
  const devnet = options.devnet ?? (await startDevnet({ port: 0, blocksPerSecond: 10 }));
  const root = await mkdtemp(join(tmpdir(), 'p2pcomm-cli-'));
  const faucetUrl = `${devnet.controlUrl ?? ''}/fund`;
  return {
    devnet,
    faucetUrl,
    async newUser(name, password = `${name.toLowerCase()}-password`) {
      const dir = join(root, name);
      const passwordFile = join(root, `${name}.password`);
      await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
      const common = ['--data', dir, '--password-file', passwordFile, '--host-address', '127.0.0.1'];
      return {
        name,
        dir,
        passwordFile,
        link: '',
        run: (args, options) => runCli([...args, ...common], options ?? {}),
        start: (args) => startCli([...args, ...common]),
      };
    },
    async close() {
      if (options.devnet === undefined) await devnet.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** `init` for `u` on the world's network, funded by its faucet; keeps the invite link. */
export async function initUser(world: CliWorld, u: CliUser): Promise<void> {
  const r = await u.run([
    'init',
    '--name',
    u.name,
    '--node',
    world.devnet.url,
    '--faucet',
    world.faucetUrl,
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const created = JSON.parse(r.stdout) as { link: string; recoveryWords: string[] };
  assert.match(created.link, /^p2pcomm:[A-Za-z0-9_-]+$/);
  u.link = created.link;
}
