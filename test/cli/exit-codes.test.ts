/**
 * What scripts rely on: exit codes and words for bad arguments, missing or wrong passwords,
 * unknown contacts and messages, refused invites, and a second p2pcomm on a data directory
 * that another one has open (StorageError PROFILE_IN_USE, exit 3). Never a stack trace.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EXIT, failed, initUser, runCli, startCliWorld, type CliUser, type CliWorld } from './helpers.ts';

const { USAGE, NOT_FOUND, IN_USE, WRONG_PASSWORD, REFUSED } = EXIT;

describe('p2pcomm exit codes and error words', { timeout: 900_000 }, () => {
  let world: CliWorld;
  let alice: CliUser;

  before(async () => {
    world = await startCliWorld();
    alice = await world.newUser('Alice');
    await initUser(world, alice);
  });

  after(async () => {
    await world?.close();
  });

  it('refuses bad arguments with exit 1', async () => {
    failed(await runCli(['frobnicate']), USAGE, /unknown command frobnicate/);
    failed(await runCli(['contacts', '--colour']), USAGE, /Unknown option --colour/);
    failed(await runCli(['history', '--limit']), USAGE, /--limit needs a value/);
    failed(await runCli([]), USAGE, /^$/);
    failed(await alice.run(['send', 'Bob']), USAGE, /Missing the text/);
    failed(await alice.run(['history', 'Bob', '--limit', 'many']), USAGE, /--limit expects a whole number/);
    failed(await alice.run(['send', 'Bob', 'hi', '--wait', 'forever']), USAGE, /--wait expects/);
    failed(await alice.run(['settings', 'set', 'colour', 'red']), USAGE, /Unknown setting colour/);
    failed(await alice.run(['settings', 'set', 'node', 'http://example.org']), USAGE, /ws:\/\/ or wss:\/\//);
    failed(await alice.run(['requests', 'maybe']), USAGE, /Unknown requests action maybe/);
  });

  it('prints help for every command with exit 0', async () => {
    const all = await runCli(['--help']);
    assert.equal(all.code, 0);
    assert.match(all.stdout, /Exit codes: 0 ok, 1 usage, 2 not found, 3 profile in use/);
    for (const command of ['init', 'send', 'chat', 'listen', 'settings', 'backup']) {
      const r = await runCli([command, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: p2pcomm ${command}`));
    }
  });

  it('asks for a password it cannot prompt for, and refuses a wrong one', async () => {
    failed(await runCli(['contacts', '--data', alice.dir]), USAGE, /No password: give --password-file/);
    failed(
      await runCli(['contacts', '--data', alice.dir], { env: { P2PCOMM_PASSWORD: 'not the password' } }),
      WRONG_PASSWORD,
      /Wrong password/,
    );
  });

  it('says what is not there with exit 2', async () => {
    failed(await alice.run(['send', 'Nobody', 'hello']), NOT_FOUND, /No contact Nobody/);
    failed(await alice.run(['history', 'Nobody']), NOT_FOUND, /No contact Nobody/);
    failed(await alice.run(['proof', 'f'.repeat(32)]), NOT_FOUND, /no chain proof|No such message/);
    failed(await alice.run(['requests', 'accept', 'p2p1nobody']), NOT_FOUND, /No such message request/);
    const empty = await world.newUser('Nobody');
    failed(await empty.run(['contacts']), NOT_FOUND, /No identity in .*: run p2pcomm init first/);
  });

  it('refuses invalid input with exit 6', async () => {
    // Version byte 0: an invite of another version (invite links are version 3).
    failed(
      await alice.run(['add', 'p2pcomm:AAAAAAAAAAAAAAAA']),
      REFUSED,
      /This invite was made by another version/,
    );
    failed(await alice.run(['add', 'not a link at all']), REFUSED, /This is not an invite/);
    failed(await alice.run(['add', alice.link]), REFUSED, /This is your own invite/);
    failed(await alice.run(['init', '--name', 'Alice again']), REFUSED, /already holds an identity/);
    const weak = await world.newUser('Weak', 'short');
    failed(await weak.run(['init', '--name', 'Weak']), REFUSED, /at least 8 characters/);
  });

  it('refuses a second p2pcomm on a data directory in use with exit 3', async () => {
    const listen = alice.start(['listen']);
    try {
      await listen.waitForLine((l) => l.includes('"ready"'));
      failed(await alice.run(['contacts']), IN_USE, /open in another process: close the other p2pcomm first/);
      // A message sent meanwhile is refused before anything is queued: nothing half-written.
      failed(
        await alice.run(['send', 'Bob', 'while listen runs']),
        IN_USE,
        /open in another process: close the other p2pcomm first/,
      );
    } finally {
      assert.equal(await listen.stop(), 0, listen.stderr.join(''));
    }
    // Once it has ended, the directory is free again.
    const r = await alice.run(['contacts', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), []);
  });
});
