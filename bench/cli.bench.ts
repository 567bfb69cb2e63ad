/**
 * The command-line client's figures, each beside its peer measured in the same run on the
 * local Kaspa network: a cold `p2pcomm send` (process start, vault unlock, node connection,
 * publication) beside the same send in an already open Messenger and beside the process start
 * alone; and the catch-up of 1,000 waiting messages through `p2pcomm contacts` (which waits
 * for the catch-up) beside the same catch-up in the delivery engine alone (as in
 * delivery.bench.ts, with its test client).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Messenger } from '../src/api/index.ts';
import { ContactCard, Invite } from '../src/core/contact/card.ts';
import { contactIdOf } from '../src/core/delivery/sessions.ts';
import { Vault } from '../src/core/vault/vault.ts';
import { startDevnet } from '../src/devnet/index.ts';
import { SOMPI_PER_KAS } from '../src/kaspa/types.ts';
import { ChainUser } from '../test/core/delivery/kaspa.ts';
import { fmtMs, percentile, type Bench, type BenchRow } from './table.ts';

const BIN = resolve(import.meta.dirname, '../src/cli/bin.mjs');
const CATCH_UP = Number(process.env['BENCH_CATCH_UP'] ?? 1_000);
const CATCH_UP_SENDERS = Number(process.env['BENCH_CATCH_UP_SENDERS'] ?? 10);
const SEND_SAMPLES = 3;
const PASSWORD = 'bench-password';

const progress = (what: string): void => {
  if (process.env['BENCH_PROGRESS']) console.error(`[cli bench] ${what}`);
};

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('benchmark wait timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Runs `p2pcomm args` to its end; the wall time from spawn to exit, in ms. `loader` runs the
 * sources through tsx (as bin.mjs did before it ran a prebuilt bundle), for the peer figure.
 */
function timeCli(args: readonly string[], options: { readonly loader?: boolean } = {}): Promise<number> {
  return new Promise((done, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], {
      env: {
        ...process.env,
        P2PCOMM_PASSWORD: PASSWORD,
        ...(options.loader === true ? { P2PCOMM_NO_BUNDLE: '1' } : {}),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) done(performance.now() - t0);
      else reject(new Error(`p2pcomm ${args[0]} exited ${code}: ${stderr}`));
    });
  });
}

const median = (xs: number[]): number => percentile(xs, 50);

/** `node -e ''`: the floor of any Node program's start, in ms. */
function timeNode(): Promise<number> {
  return new Promise((done, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', () => done(performance.now() - t0));
  });
}

const bench: Bench = async () => {
  const url = { value: '' };
  const senders = Array.from(
    { length: CATCH_UP_SENDERS },
    (_, i) => new ChainUser(`sender${i}`, () => url.value, { settings: { batchWindowMs: 20 } }),
  );
  // The engine-alone peer of the CLI's catch-up: a test client that receives the same load.
  const eve = new ChainUser('eve', () => url.value, { settings: { batchWindowMs: 20 } });
  const rows: BenchRow[] = [];
  eve.knows(...senders);
  for (const s of senders) s.knows(eve);
  const row = (r: BenchRow): void => {
    rows.push(r);
    progress(`${r.name}: ${r.value} (${r.reference ?? ''})`);
  };
  const devnet = await startDevnet({
    port: 0,
    blocksPerSecond: 10,
    prefund: Object.fromEntries(
      [...senders, eve].map((u) => [u.address.toString(), 10_000n * SOMPI_PER_KAS]),
    ),
  });
  url.value = devnet.url;
  const faucetUrl = `${devnet.controlUrl ?? ''}/fund`;
  const root = await mkdtemp(join(tmpdir(), 'p2pcomm-cli-bench-'));
  const dir = (name: string): string => join(root, name);
  try {
    progress('profiles');
    const links = new Map<string, string>();
    for (const name of ['Alice', 'Bob', 'Dave']) {
      const m = await Messenger.open({ dataDir: dir(name), nodeUrl: devnet.url, faucetUrl });
      await m.create(name, PASSWORD);
      links.set(name, await m.card());
      await waitFor(async () => (await m.balance()).spendable > 0n);
      await m.close();
    }
    const alice = await Messenger.open({ dataDir: dir('Alice') });
    await alice.unlock(PASSWORD);
    await alice.addContact(links.get('Bob') ?? '');
    await alice.close();

    progress('cold send');
    // The first run after a source change builds the bundle (src/cli/bin.mjs): not measured.
    await timeCli(['--help']);
    const start: number[] = [];
    const startLoader: number[] = [];
    const bare: number[] = [];
    const cold: number[] = [];
    const coldLoader: number[] = [];
    for (let i = 0; i < SEND_SAMPLES; i++) {
      bare.push(await timeNode());
      start.push(await timeCli(['--help']));
      startLoader.push(await timeCli(['--help'], { loader: true }));
      cold.push(await timeCli(['send', 'Bob', `cold ${i}`, '--wait', 'sent', '--data', dir('Alice')]));
      coldLoader.push(
        await timeCli(['send', 'Bob', `cold tsx ${i}`, '--wait', 'sent', '--data', dir('Alice')], {
          loader: true,
        }),
      );
    }
    row({
      name: 'CLI process start (`p2pcomm --help`: every module of the client loaded, nothing opened)',
      value: `median ${fmtMs(median(start))} (prebuilt bundle)`,
      reference: `sources through the tsx loader (as before the bundle) median ${fmtMs(median(startLoader))}; \`node -e ''\` median ${fmtMs(median(bare))}`,
      note: `${SEND_SAMPLES} samples each, interleaved`,
    });
    const warm: number[] = [];
    const open = await Messenger.open({ dataDir: dir('Alice') });
    const u0 = performance.now();
    await open.unlock(PASSWORD);
    const unlock = performance.now() - u0;
    await open.sync();
    for (let i = 0; i < SEND_SAMPLES; i++) {
      const t0 = performance.now();
      await open.send('Bob', `warm ${i}`, { wait: 'sent' });
      warm.push(performance.now() - t0);
    }
    await open.close();
    const vaultBytes = (await Vault.create(PASSWORD)).serialize();
    const k0 = performance.now();
    await Vault.unlock(vaultBytes, PASSWORD);
    const kdf = performance.now() - k0;
    row({
      name: 'CLI start to first message sent (`p2pcomm send --wait sent`, chain path)',
      value: `median ${fmtMs(median(cold))}`,
      reference: `through the tsx loader (as before the bundle) median ${fmtMs(median(coldLoader))}; same send in an open Messenger median ${fmtMs(median(warm))}; process start alone (--help) median ${fmtMs(median(start))}; Messenger unlock ${fmtMs(unlock)}, of which the vault KDF ${fmtMs(kdf)}`,
      note: `${SEND_SAMPLES} samples; 10 blocks/s; "sent" = published in a transaction`,
    });

    progress('catch-up');
    // Eve has run once before, as Dave has: the catch-up starts where she left.
    await eve.start();
    await eve.stop();
    const dave = await Messenger.open({ dataDir: dir('Dave') });
    await dave.unlock(PASSWORD);
    // Invite links of the current version (a bare card link is refused as another version).
    for (const s of senders) await dave.addContact(new Invite(s.card).toLink());
    await dave.close();
    const daveCard = ContactCard.fromLink(links.get('Dave') ?? '');
    const daveId = contactIdOf(daveCard.peerId);
    // The senders know Dave's card as they would from his invite.
    for (const s of senders) s.addUnchecked({ card: daveCard } as ChainUser);
    const each = Math.ceil(CATCH_UP / senders.length);
    for (const s of senders) await s.start();
    await Promise.all(
      senders.map(async (s) => {
        for (let i = 0; i < each; i++) {
          await s.engine.send(daveId, `waiting ${i}`);
          await s.engine.send(eve.id, `waiting ${i}`);
        }
      }),
    );
    for (const s of senders)
      await waitFor(async () =>
        (await s.engine.messages(daveId)).every((m) => m.direction !== 'out' || m.status !== 'queued'),
      );
    for (const s of senders)
      await waitFor(async () =>
        (await s.outbox(eve)).every((m) => m.direction !== 'out' || m.status !== 'queued'),
      );
    progress('catch-up: published');
    const cli = await timeCli(['contacts', '--data', dir('Dave')]);
    // Checked after the run: the CLI had every message stored when it printed.
    const check = await Messenger.open({ dataDir: dir('Dave') });
    await check.unlock(PASSWORD);
    let stored = 0;
    for (const s of senders) stored += (await check.messages(s.id)).length;
    await check.close();
    if (stored < each * senders.length)
      throw new Error(`the CLI profile holds ${stored} of ${each * senders.length}`);
    const shown = (): number =>
      eve.events.filter((e) => e.type === 'message' && e.message.direction === 'in').length;
    const e0 = performance.now();
    await eve.start();
    await waitFor(() => shown() >= each * senders.length);
    const engine = performance.now() - e0;
    row({
      name: `catch-up of ${(each * senders.length).toLocaleString('en-US')} waiting messages from ${senders.length} contacts through the CLI (\`p2pcomm contacts\`, process start to exit)`,
      value: fmtMs(cli),
      reference: `the same catch-up in the engine alone (test client, in memory) ${fmtMs(engine)}; process start alone ${fmtMs(median(start))}`,
      note: 'CLI: SQLite profile sealed at rest, vault unlock included',
    });
  } finally {
    for (const u of [...senders, eve]) await u.stop().catch(() => undefined);
    await devnet.stop();
    await rm(root, { recursive: true, force: true });
  }
  return { title: 'Command-line client (local Kaspa network)', rows };
};

export default bench;
