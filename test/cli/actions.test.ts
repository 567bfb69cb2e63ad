/**
 * Message actions from the command line (`Messenger` reply, react, edit, delete for everyone,
 * delete for me, forward), each a real `p2pcomm` process on its own SQLite profile, over the
 * local Kaspa network while the other side is not running: what one side does, the other's
 * `history --json` shows folded into the message it acts on. Refusals keep their types: exit
 * codes 1 (usage), 2 (no such message) and 6 (refused), with the reason in words.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EXIT, failed, initUser, ok, startCliWorld, type CliUser, type CliWorld } from './helpers.ts';

interface Shown {
  id: string;
  text: string;
  outgoing: boolean;
  replyTo?: { id: string; held: boolean; text?: string };
  reactions?: { emoji: string; count: number; mine: boolean }[];
  edited?: boolean;
  deleted?: boolean;
  forwarded?: boolean;
}

describe('message actions from the command line', { timeout: 1_200_000 }, () => {
  let world: CliWorld;
  let alice: CliUser;
  let bob: CliUser;
  let original = '';
  let reply = '';

  const history = async (u: CliUser, withName: string): Promise<Shown[]> =>
    JSON.parse(ok(await u.run(['history', withName, '--json']))) as Shown[];
  const byId = (all: Shown[], id: string): Shown => {
    const m = all.find((x) => x.id === id);
    assert.ok(m !== undefined, `message ${id} in ${JSON.stringify(all)}`);
    return m;
  };

  before(async () => {
    world = await startCliWorld();
    alice = await world.newUser('Alice');
    bob = await world.newUser('Bob');
    await initUser(world, alice);
    await initUser(world, bob);
    ok(await alice.run(['add', bob.link]));
    ok(await bob.run(['add', alice.link]));
    original = (JSON.parse(ok(await alice.run(['send', 'Bob', 'the original', '--json']))) as Shown).id;
  });

  after(async () => {
    await world?.close();
  });

  it('Bob replies with a quote and reacts; Alice sees both folded into the original', async () => {
    byId(await history(bob, 'Alice'), original);
    const r = JSON.parse(ok(await bob.run(['reply', 'Alice', original, 'the', 'reply', '--json']))) as Shown;
    reply = r.id;
    assert.equal(r.text, 'the reply');
    assert.deepEqual([r.replyTo?.id, r.replyTo?.held, r.replyTo?.text], [original, true, 'the original']);
    const reacted = JSON.parse(ok(await bob.run(['react', original, '👍', '--json']))) as Shown;
    assert.deepEqual(reacted.reactions, [{ emoji: '👍', count: 1, mine: true }]);

    const atAlice = await history(alice, 'Bob');
    assert.deepEqual(byId(atAlice, original).reactions, [{ emoji: '👍', count: 1, mine: false }]);
    assert.equal(byId(atAlice, reply).replyTo?.id, original);
    assert.equal(
      atAlice.filter((m) => m.text === '').length,
      0,
      'the reaction is folded, not a message of its own',
    );
    const plain = ok(await alice.run(['history', 'Bob']));
    assert.match(plain, /the original {2}\[👍\]/);
    assert.match(plain, /Bob: \(reply to you: "the original"\) the reply/);
  });

  it('Alice edits and then deletes her message for everyone; Bob sees each', async () => {
    const edited = JSON.parse(
      ok(await alice.run(['edit', original, 'the original, edited', '--json'])),
    ) as Shown;
    assert.deepEqual([edited.text, edited.edited], ['the original, edited', true]);
    const seen = byId(await history(bob, 'Alice'), original);
    assert.deepEqual([seen.text, seen.edited], ['the original, edited', true]);

    const deleted = JSON.parse(ok(await alice.run(['delete', original, '--everyone', '--json']))) as Shown;
    assert.deepEqual([deleted.deleted, deleted.text], [true, '']);
    const gone = await history(bob, 'Alice');
    assert.deepEqual([byId(gone, original).deleted, byId(gone, original).text], [true, '']);
    assert.deepEqual(byId(gone, reply).replyTo, {
      id: original,
      held: true,
      outgoing: false,
      text: '',
      deleted: true,
    });
  });

  it('forwards a message, and deletes one for this device only', async () => {
    const [fwd] = JSON.parse(ok(await alice.run(['forward', reply, 'Bob', '--json']))) as Shown[];
    assert.deepEqual([fwd?.text, fwd?.forwarded, fwd?.outgoing], ['the reply', true, true]);
    assert.equal(byId(await history(bob, 'Alice'), fwd!.id).forwarded, true);

    assert.deepEqual(JSON.parse(ok(await bob.run(['delete', reply, '--for-me', '--json']))), {
      removed: reply,
    });
    assert.equal(
      (await history(bob, 'Alice')).some((m) => m.id === reply),
      false,
    );
    byId(await history(alice, 'Bob'), reply);
  });

  it('refuses with typed reasons: not yours, not a reaction, no such message, whom for', async () => {
    const theirs = (JSON.parse(ok(await bob.run(['send', 'Alice', 'bob writes', '--json']))) as Shown).id;
    await history(alice, 'Bob');
    failed(await alice.run(['edit', theirs, 'not mine']), EXIT.REFUSED, /only|your/i);
    failed(await alice.run(['delete', theirs, '--everyone']), EXIT.REFUSED, /only|your/i);
    failed(await alice.run(['react', theirs, 'unicorn']), EXIT.REFUSED, /reaction/i);
    failed(await alice.run(['edit', '0'.repeat(32), 'nothing there']), EXIT.NOT_FOUND, /message/i);
    failed(await alice.run(['delete', theirs]), EXIT.USAGE, /--everyone or --for-me/);
    failed(
      await alice.run(['delete', theirs, '--everyone', '--for-me']),
      EXIT.USAGE,
      /--everyone or --for-me/,
    );
    failed(await alice.run(['react', theirs]), EXIT.USAGE, /reaction/);
    failed(await alice.run(['forward', theirs]), EXIT.USAGE, /contact/);
    failed(await alice.run(['forward', theirs, 'Nobody']), EXIT.NOT_FOUND, /contact/i);
    // Deleted for everyone: no more edits or reactions.
    failed(await alice.run(['edit', original, 'again']), EXIT.REFUSED, /deleted/i);
  });
});
