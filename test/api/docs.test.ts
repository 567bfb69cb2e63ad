/**
 * The examples of docs/api.md, run as written: each ```ts example block is written to a file
 * inside the checkout (so that `import ... from 'p2pcomm'` resolves through package.json
 * "exports", as in any script of the repository) and run as its own Node process. The first
 * creates the bot's profile and prints its invite link; the echo bot then answers a person
 * who writes to it, here a Messenger in this process, on a local Kaspa network.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Messenger, type MessengerEvent } from 'p2pcomm';
import { startDevnet, type DevnetHandle } from '../../src/devnet/index.ts';
import { startCli, type CliProcess } from '../cli/helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SLOW_MS = 240_000;

/** The ```ts example blocks of docs/api.md, in order. */
async function examples(): Promise<string[]> {
  const text = await readFile(join(ROOT, 'docs/api.md'), 'utf8');
  return [...text.matchAll(/```ts example\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
}

function runExample(
  file: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      env: { ...process.env, ...env },
      cwd: ROOT,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** Starts an example that keeps running, with its lines to wait on (the CLI tests' helper). */
function startExample(file: string, env: Record<string, string>): CliProcess {
  return startCli([], { command: [process.execPath, '--import', 'tsx', file], env, cwd: ROOT });
}

describe('docs/api.md examples', { timeout: 900_000 }, () => {
  let devnet: DevnetHandle;
  let work: string;
  let scratch: string;

  before(async () => {
    devnet = await startDevnet({ port: 0, blocksPerSecond: 10 });
    // Inside the checkout (ignored by git and lint) so that the package name resolves.
    await mkdir(join(ROOT, '.data'), { recursive: true });
    work = await mkdtemp(join(ROOT, '.data', 'api-examples-'));
    scratch = await mkdtemp(join(tmpdir(), 'p2pcomm-api-'));
  });

  after(async () => {
    await devnet?.stop();
    await rm(work, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
  });

  it('has the two examples', async () => {
    assert.equal((await examples()).length, 2);
  });

  it('runs the echo bot: a person writes, the bot answers', async () => {
    const [create, echo] = await examples();
    assert.ok(create !== undefined && echo !== undefined);
    const createFile = join(work, 'create.ts');
    const echoFile = join(work, 'echo-bot.ts');
    await writeFile(createFile, create);
    await writeFile(echoFile, echo);
    const env = {
      P2PCOMM_DATA: join(scratch, 'bot'),
      P2PCOMM_PASSWORD: 'echo-bot-password',
      P2PCOMM_NODE: devnet.url,
      P2PCOMM_FAUCET: `${devnet.controlUrl ?? ''}/fund`,
    };
    const created = await runExample(createFile, env);
    assert.equal(created.code, 0, created.stderr);
    const link = created.stdout.trim();
    assert.match(link, /^p2pcomm:[A-Za-z0-9_-]+$/);
    assert.match(created.stderr, /^created Echo bot \(/);

    const bot = startExample(echoFile, env);
    const person = await Messenger.open({
      dataDir: join(scratch, 'person'),
      nodeUrl: devnet.url,
      faucetUrl: `${devnet.controlUrl ?? ''}/fund`,
      hostAddresses: ['127.0.0.1'],
    });
    try {
      await bot.waitForLine((l) => l === 'ready', SLOW_MS);
      await person.create('Person', 'person-password');
      // Coins for the chain path arrive from the faucet (a real transaction).
      await waitUntil(async () => (await person.balance()).spendable > 0n);
      const contact = await person.addContact(link);
      assert.equal(contact.displayName, 'Echo bot');
      const echoed = nextMessage(person, (e) => !e.message.outgoing && e.message.text === 'echo: ping');
      await person.send('Echo bot', 'ping', { wait: 'sent' });
      const got = await echoed;
      assert.equal(got.contactId, contact.id);
    } finally {
      await person.close();
      assert.equal(await bot.stop(), 0, bot.stderr.join(''));
    }
  });
});

async function waitUntil(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + SLOW_MS;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

function nextMessage(
  m: Messenger,
  match: (e: Extract<MessengerEvent, { type: 'message' }>) => boolean,
): Promise<Extract<MessengerEvent, { type: 'message' }>['message']> {
  return new Promise((done, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error('no such message in time'));
    }, SLOW_MS);
    const stop = m.on((e) => {
      if (e.type === 'message' && match(e)) {
        clearTimeout(timer);
        stop();
        done(e.message);
      }
    });
  });
}
