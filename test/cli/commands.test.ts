/**
 * The commands beyond chatting, each a real `p2pcomm` process on its own profile: `restore`
 * from the recovery words, `backup export` and `import` (and the files it refuses),
 * `settings set` for the network, node addresses and ICE servers, message `requests` from
 * strangers accepted, blocked and deleted, progress on a terminal (a pseudo-terminal made by
 * util-linux `script`) and none when piped, and bad arguments for every command.
 */
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BIN,
  EXIT,
  failed,
  initUser,
  ok,
  runCli,
  startCliWorld,
  type CliResult,
  type CliUser,
  type CliWorld,
} from './helpers.ts';

const { USAGE, NOT_FOUND, WRONG_PASSWORD, REFUSED } = EXIT;

/** A shell word for `script -c` (single-quoted). */
const sh = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * Runs `p2pcomm args` on a pseudo-terminal (util-linux `script`), `columns` wide: stdout and
 * stderr both go to the terminal, so the output holds both.
 */
function onTerminal(args: readonly string[], columns = 80): Promise<CliResult> {
  const command = `stty cols ${columns} rows 60; ${[process.execPath, BIN, ...args].map(sh).join(' ')}`;
  return runCli(['-q', '-e', '-c', command, '/dev/null'], {
    command: ['script'],
    env: { P2PCOMM_PASSWORD: '' },
  });
}

describe('p2pcomm commands beyond chatting', { timeout: 1_200_000 }, () => {
  let world: CliWorld;
  let alice: CliUser;
  let words: string[];

  before(async () => {
    world = await startCliWorld();
    alice = await world.newUser('Alice');
    const r = await alice.run([
      'init',
      '--name',
      'Alice',
      '--node',
      world.devnet.url,
      '--faucet',
      world.faucetUrl,
      '--json',
    ]);
    const created = JSON.parse(ok(r)) as { link: string; recoveryWords: string[]; fingerprint: string };
    alice.link = created.link;
    words = created.recoveryWords;
  });

  after(async () => {
    await world?.close();
  });

  it('restores an identity from its recovery words read from standard input', async () => {
    const copy = await world.newUser('Copy', 'another-password');
    const restored = JSON.parse(
      ok(await copy.run(['restore', '--name', 'Alice', '--json'], { input: `${words.join(' ')}\n` })),
    ) as { fingerprint: string; displayName: string };
    const card = JSON.parse(ok(await alice.run(['card', '--json']))) as { fingerprint: string };
    assert.equal(restored.fingerprint, card.fingerprint);
    assert.equal(restored.displayName, 'Alice');
    // Unlocked under the new password from now on.
    assert.equal(
      (JSON.parse(ok(await copy.run(['card', '--json']))) as { fingerprint: string }).fingerprint,
      card.fingerprint,
    );
    const other = await world.newUser('Other');
    failed(await other.run(['restore']), USAGE, /Missing --name/);
    failed(await other.run(['restore', '--name', 'X', 'extra']), USAGE, /Too many arguments/);
    const wrong = [...words];
    [wrong[0], wrong[1]] = [wrong[1] ?? '', wrong[0] ?? ''];
    failed(
      await other.run(['restore', '--name', 'X'], { input: wrong.join(' ') }),
      REFUSED,
      /recovery key|word/i,
    );
    failed(await other.run(['restore', '--name', 'X'], { input: 'a '.repeat(40_000) }), USAGE, /too long/);
  });

  it('exports a backup (mode 0600) and imports it into another profile; refuses files that are not one', async () => {
    const file = join(alice.dir, '..', 'alice.p2pcomm');
    assert.match(ok(await alice.run(['backup', 'export', file])), /^Backup written to .* \(\d+ bytes\)/);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    // Imported under the password it was made under (Alice's), into a new profile.
    const twin = await world.newUser('Twin', 'alice-password');
    const imported = JSON.parse(ok(await twin.run(['backup', 'import', file, '--json']))) as {
      fingerprint: string;
    };
    const card = JSON.parse(ok(await alice.run(['card', '--json']))) as { fingerprint: string };
    assert.equal(imported.fingerprint, card.fingerprint);

    const stranger = await world.newUser('Stranger', 'not-alices-password');
    failed(await stranger.run(['backup', 'import', file]), WRONG_PASSWORD, /Wrong password|password/i);
    const junk = join(alice.dir, '..', 'junk.p2pcomm');
    await writeFile(junk, new Uint8Array(300).fill(7));
    failed(await stranger.run(['backup', 'import', junk]), REFUSED, /backup/i);
    // A file from a newer p2pComm (backup version 5; docs/protocol.md knows 2 to 4): refused in words.
    const newer = join(alice.dir, '..', 'newer.p2pcomm');
    const bytes = await readFile(file);
    bytes[4] = 5;
    await writeFile(newer, bytes);
    failed(await stranger.run(['backup', 'import', newer]), REFUSED, /another version of p2pComm/);
    failed(
      await stranger.run(['backup', 'import', join(alice.dir, 'no such file')]),
      NOT_FOUND,
      /Cannot read/,
    );
    failed(await stranger.run(['backup']), USAGE, /Missing export or import/);
    failed(await stranger.run(['backup', 'export']), USAGE, /Missing the file/);
    failed(await stranger.run(['backup', 'copy', file]), USAGE, /backup expects export or import/);
    failed(await stranger.run(['backup', 'export', file, 'more']), USAGE, /Too many arguments/);
    // The file is unchanged by the refused commands.
    assert.ok((await readFile(file)).length > 0);
  });

  it('changes the network, node addresses and ICE servers, and refuses bad values', async () => {
    const u = await world.newUser('Settler');
    await initUser(world, u);
    const get = async (): Promise<{ network: string; nodeUrls: string[]; iceServers: object[] }> =>
      JSON.parse(ok(await u.run(['settings', '--json']))) as {
        network: string;
        nodeUrls: string[];
        iceServers: object[];
      };
    assert.deepEqual((await get()).nodeUrls, [world.devnet.url]);
    ok(await u.run(['settings', 'set', 'node', 'ws://127.0.0.1:1', 'wss://node.example/kaspa']));
    assert.deepEqual((await get()).nodeUrls, ['ws://127.0.0.1:1', 'wss://node.example/kaspa']);
    ok(
      await u.run(['settings', 'set', 'ice', 'stun:stun.example:3478', 'turn:turn.example:3478 tom s3cret']),
    );
    assert.deepEqual((await get()).iceServers, [
      { urls: 'stun:stun.example:3478' },
      { urls: 'turn:turn.example:3478', username: 'tom', credential: 's3cret' },
    ]);
    // Shown to people without the secret.
    const text = ok(await u.run(['settings']));
    assert.match(text, /ice +stun:stun\.example:3478, turn:turn\.example:3478 tom \*\*\*/);
    assert.doesNotMatch(text, /s3cret/);
    ok(await u.run(['settings', 'set', 'network', 'testnet-10']));
    const t = await get();
    assert.equal(t.network, 'testnet-10');
    assert.ok(t.nodeUrls.length > 0 && t.nodeUrls.every((x) => /^wss?:\/\//.test(x)), t.nodeUrls.join(' '));
    ok(await u.run(['settings', 'set', 'network', 'local']));
    ok(await u.run(['settings', 'set', 'node', world.devnet.url]));
    assert.deepEqual(await get(), { ...(await get()), network: 'local', nodeUrls: [world.devnet.url] });
    ok(await u.run(['settings', 'set', 'ice']));
    assert.deepEqual((await get()).iceServers, []);

    failed(await u.run(['settings', 'set', 'network', 'moon']), USAGE, /network expects one of local/);
    failed(await u.run(['settings', 'set', 'network']), USAGE, /network expects one of/);
    failed(await u.run(['settings', 'set', 'node', 'ftp://127.0.0.1']), USAGE, /ws:\/\/ or wss:\/\//);
    failed(
      await u.run(['settings', 'set', 'ice', 'http://stun.example']),
      USAGE,
      /^p2pcomm settings: ice: /m,
    );
    failed(await u.run(['settings', 'set', 'batching', 'maybe']), USAGE, /batching expects on or off/);
    failed(await u.run(['settings', 'set']), USAGE, /Missing the key/);
    failed(await u.run(['settings', 'change']), USAGE, /Unknown settings action change/);
    failed(await u.run(['settings', 'get', 'more']), USAGE, /Too many arguments/);
    assert.deepEqual((await get()).nodeUrls, [world.devnet.url], 'refused values change nothing');
  });

  it('holds first messages from strangers as requests: accepted, blocked, deleted', async () => {
    const strangers: CliUser[] = [];
    for (const name of ['Mallory', 'Nico', 'Oscar']) {
      const s = await world.newUser(name);
      await initUser(world, s);
      // An invite per person: its one-time pre-key serves one first contact (docs/crypto.md).
      const invite = JSON.parse(ok(await alice.run(['card', '--json']))) as { link: string };
      ok(await s.run(['add', invite.link]));
      const sent = JSON.parse(
        ok(await s.run(['send', 'Alice', `hello from ${name}`, '--wait', 'sent', '--json'])),
      ) as { status: string };
      assert.equal(sent.status, 'sent');
      strangers.push(s);
    }
    type Request = { id: string; displayName: string; messages: { text: string }[] };
    const list = async (): Promise<Request[]> =>
      JSON.parse(ok(await alice.run(['requests', '--json']))) as Request[];
    let requests = await list();
    for (let i = 0; requests.length < 3 && i < 60; i++) {
      await new Promise((r) => setTimeout(r, 1_000));
      requests = await list();
    }
    assert.deepEqual(requests.map((r) => r.displayName).sort(), ['Mallory', 'Nico', 'Oscar']);
    const id = (name: string): string => requests.find((r) => r.displayName === name)?.id ?? '';
    assert.deepEqual(
      requests.find((r) => r.displayName === 'Mallory')?.messages.map((m) => m.text),
      ['hello from Mallory'],
    );
    const text = ok(await alice.run(['requests']));
    assert.match(text, /Mallory {2}[0-9a-f ]+ {2}p2p/);
    assert.match(text, / {2}\[.*\] hello from Nico/);

    const accepted = JSON.parse(ok(await alice.run(['requests', 'accept', id('Mallory'), '--json']))) as {
      displayName: string;
    };
    assert.equal(accepted.displayName, 'Mallory');
    assert.equal(ok(await alice.run(['requests', 'block', id('Nico')])).trim(), 'Blocked');
    assert.equal(ok(await alice.run(['requests', 'delete', id('Oscar')])).trim(), 'Deleted');
    assert.deepEqual(await list(), []);
    const contacts = JSON.parse(ok(await alice.run(['contacts', '--json']))) as { displayName: string }[];
    assert.ok(contacts.some((c) => c.displayName === 'Mallory'));
    assert.ok(!contacts.some((c) => c.displayName === 'Nico' || c.displayName === 'Oscar'));
    const history = JSON.parse(ok(await alice.run(['history', 'Mallory', '--json']))) as { text: string }[];
    assert.deepEqual(
      history.map((m) => m.text),
      ['hello from Mallory'],
    );

    failed(await alice.run(['requests', 'accept', id('Nico')]), NOT_FOUND, /No such message request/);
    failed(await alice.run(['requests', 'accept']), USAGE, /Missing the request id/);
    failed(await alice.run(['requests', 'block', 'a', 'b']), USAGE, /Too many arguments/);
    failed(await alice.run(['requests', 'list', 'more']), USAGE, /Too many arguments/);
  });

  it('shows progress on a terminal and nothing when piped', async () => {
    const common = ['--data', alice.dir, '--password-file', alice.passwordFile];
    const tty = await onTerminal(['contacts', ...common]);
    assert.equal(tty.code, 0, tty.stdout);
    assert.match(tty.stdout, /Unlocking\.\.\./);
    assert.match(tty.stdout, /Checking for new messages\.\.\./);
    // The result itself after the progress lines (Alice's contacts, or none when run alone).
    assert.match(tty.stdout, /(No contacts yet: share .*| {2}p2p1\w+)\r?\n$/);
    const quiet = await onTerminal(['contacts', '--quiet', ...common]);
    assert.equal(quiet.code, 0, quiet.stdout);
    assert.doesNotMatch(quiet.stdout, /Unlocking|Checking/);
    const piped = await alice.run(['contacts']);
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stderr, '');
    assert.doesNotMatch(piped.stdout, /Unlocking/);
    assert.ok(!piped.stdout.includes('\u001b'), 'no terminal control sequences');
    // The QR code is drawn on a wide terminal only; piped, the link alone.
    const wide = await onTerminal(['card', ...common], 200);
    assert.equal(wide.code, 0, wide.stdout);
    assert.match(wide.stdout, /[\u2580\u2584\u2588]{10}/);
    const narrow = await onTerminal(['card', ...common], 60);
    assert.match(narrow.stdout, /The QR code needs a terminal \d+ columns wide; this one has 60/);
    // Each run hands out a fresh invite (its own one-time pre-key): one line, the link alone.
    assert.match(ok(await alice.run(['card'])), /^p2pcomm:[A-Za-z0-9_-]+\n$/);
  });

  it('refuses bad arguments for every command with exit 1 and its usage', async () => {
    const cases: [string[], RegExp][] = [
      [['init', 'extra'], /Too many arguments: p2pcomm init/],
      [['card', 'extra'], /Too many arguments: p2pcomm card/],
      [['add'], /Missing the invite link: p2pcomm add/],
      [['add', 'a', 'b'], /Too many arguments: p2pcomm add/],
      [['contacts', 'extra'], /Too many arguments: p2pcomm contacts/],
      [['send'], /Missing the contact: p2pcomm send/],
      [['send', 'Bob', 'hi', '--timeout', '0'], /--timeout/],
      [['chat'], /Missing the contact: p2pcomm chat/],
      [['chat', 'a', 'b'], /Too many arguments: p2pcomm chat/],
      [['listen', 'extra'], /Too many arguments: p2pcomm listen/],
      [['history'], /Missing the contact: p2pcomm history/],
      [['history', 'a', 'b'], /Too many arguments: p2pcomm history/],
      [['proof'], /Missing the message id: p2pcomm proof/],
      [['proof', 'a', 'b'], /Too many arguments: p2pcomm proof/],
      [['balance', 'extra'], /Too many arguments: p2pcomm balance/],
      [['requests', 'sort'], /Unknown requests action sort/],
      [['settings', 'set', 'p2p-only'], /p2p-only expects on or off/],
      [['backup', 'import'], /Missing the file/],
    ];
    for (const [args, words] of cases) {
      const r = await alice.run(args);
      failed(r, USAGE, words);
      assert.match(r.stderr, new RegExp(`\\(p2pcomm ${args[0]} --help\\)`), args.join(' '));
    }
  });
});
