/**
 * Two `p2pcomm` profiles chatting on a local Kaspa network, each command a real child process
 * over its own SQLite profile: directly while both run (`listen` on one side, `chat` on the
 * other, a werift data channel between them), and through the chain while the recipient is
 * not running (`send`, then `history` and `proof` once it runs again). `listen` output is
 * parsed line by line as JSON.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { initUser, jsonLines, startCliWorld, type CliUser, type CliWorld } from './helpers.ts';

interface MessageLine {
  type: 'message';
  id: string;
  contactId: string;
  contactName: string | null;
  outgoing: boolean;
  text: string;
  status: string;
  route?: string;
}

const isMessage = (text: string) => (l: string) => {
  try {
    const o = JSON.parse(l) as Partial<MessageLine>;
    return o.type === 'message' && o.text === text;
  } catch {
    return false;
  }
};

describe('two CLI profiles chatting', { timeout: 1_200_000 }, () => {
  let world: CliWorld;
  let alice: CliUser;
  let bob: CliUser;

  before(async () => {
    world = await startCliWorld();
    alice = await world.newUser('Alice');
    bob = await world.newUser('Bob');
    await initUser(world, alice);
    await initUser(world, bob);
    const added = await alice.run(['add', bob.link, '--json']);
    assert.equal(added.code, 0, added.stderr);
    assert.equal((JSON.parse(added.stdout) as { displayName: string }).displayName, 'Bob');
    const back = await bob.run(['add', alice.link]);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /^Added Alice \(/);
  });

  after(async () => {
    await world?.close();
  });

  it('lists the contact on both sides', async () => {
    const r = await alice.run(['contacts', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const contacts = JSON.parse(r.stdout) as { displayName: string; id: string }[];
    assert.deepEqual(
      contacts.map((c) => c.displayName),
      ['Bob'],
    );
  });

  it('chats directly while both run: chat on one side, listen as JSON lines on the other', async () => {
    const listen = bob.start(['listen']);
    const chat = alice.start(['chat', 'Bob']);
    try {
      const ready = JSON.parse(await listen.waitForLine((l) => l.includes('"ready"'))) as {
        displayName: string;
        contacts: { displayName: string }[];
      };
      assert.equal(ready.displayName, 'Bob');
      assert.deepEqual(
        ready.contacts.map((c) => c.displayName),
        ['Alice'],
      );
      // No link yet: the first message rides the chain, and asks for a link on the way
      // (its offer rides the same publication, docs/delivery.md "Links").
      chat.child.stdin.write('first, through the chain\n');
      const first = JSON.parse(
        await listen.waitForLine(isMessage('first, through the chain')),
      ) as MessageLine;
      assert.equal(first.outgoing, false);
      assert.equal(first.contactName, 'Alice');
      assert.equal(first.route, 'secure');
      // The answer comes back and the direct link is up on both sides.
      await listen.waitForLine((l) => l.includes('"type":"connection"') && l.includes('"state":"connected"'));
      await chat.waitForLine((l) => l === '* Bob: Connected');
      chat.child.stdin.write('hello over the direct link\n');
      const got = JSON.parse(
        await listen.waitForLine(isMessage('hello over the direct link')),
      ) as MessageLine;
      assert.equal(got.outgoing, false);
      assert.equal(got.route, 'direct');
      // Alice's view shows the ticks moving on to delivered.
      await chat.waitForLine((l) => l.includes('hello over the direct link') && l.includes('Delivered'));
      chat.child.stdin.write('/quit\n');
      assert.equal(await chat.exited, 0, chat.stderr.join(''));
    } finally {
      await chat.stop();
      assert.equal(await listen.stop(), 0, listen.stderr.join(''));
    }
    // Everything `listen` printed is JSON, one object per line, the first being "ready".
    const records = jsonLines(listen.lines);
    assert.equal(records[0]?.['type'], 'ready');
    for (const r of records)
      assert.ok(
        ['ready', 'message', 'connection', 'network', 'balance', 'requests'].includes(String(r['type'])),
      );
  });

  it('sends through the chain while the recipient is not running, and it is there when they are', async () => {
    const sent = await alice.run(['send', 'Bob', 'hello', 'while', 'you', 'were', 'away', '--json']);
    assert.equal(sent.code, 0, sent.stderr);
    const m = JSON.parse(sent.stdout) as { id: string; status: string; route?: string };
    assert.equal(m.status, 'sent');
    assert.equal(m.route, 'secure');
    // Bob was not running: the message is caught up from the chain when he unlocks.
    const history = await bob.run(['history', 'Alice', '--json']);
    assert.equal(history.code, 0, history.stderr);
    const messages = JSON.parse(history.stdout) as {
      id: string;
      text: string;
      outgoing: boolean;
      route?: string;
    }[];
    const got = messages.find((x) => x.id === m.id);
    assert.ok(got !== undefined, `Bob's history has the message: ${history.stdout}`);
    assert.equal(got.text, 'hello while you were away');
    assert.equal(got.route, 'secure');
    // The sender's proof names the transaction it was published in.
    const proof = await alice.run(['proof', m.id, '--json']);
    assert.equal(proof.code, 0, proof.stderr);
    const p = JSON.parse(proof.stdout) as { txId: string; network: string };
    assert.match(p.txId, /^[0-9a-f]{64}$/);
    assert.equal(p.network, 'local');
    const plain = await bob.run(['history', 'Alice', '--limit', '1']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /Alice: hello while you were away/);
  });

  it('listen goes on receiving through the chain after its node connection drops and comes back', async () => {
    const listen = bob.start(['listen']);
    const record = (l: string): Record<string, unknown> => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    };
    /** A line printed after the first `from` lines that `want` accepts. */
    const after =
      (from: number, want: (o: Record<string, unknown>) => boolean) =>
      (l: string): boolean =>
        listen.lines.indexOf(l, from) !== -1 && want(record(l));
    try {
      await listen.waitForLine((l) => {
        const o = record(l);
        return (
          (o['type'] === 'ready' && o['network'] === 'online') ||
          (o['type'] === 'network' && o['state'] === 'online')
        );
      });
      let from = listen.lines.length;
      await world.devnet.stopRpc(0);
      await listen.waitForLine(after(from, (o) => o['type'] === 'network' && o['state'] !== 'online'));
      from = listen.lines.length;
      await world.devnet.restartRpc(0);
      await listen.waitForLine(after(from, (o) => o['type'] === 'network' && o['state'] === 'online'));
      // Alice's send starts without a link to Bob: the message rides the chain, which Bob's
      // listen watches again over the new connection (the pool resubscribes, kaspa/rpc/client.ts).
      const sent = await alice.run(['send', 'Bob', 'after the node came back', '--json']);
      assert.equal(sent.code, 0, sent.stderr);
      const m = JSON.parse(sent.stdout) as { id: string; route?: string };
      assert.equal(m.route, 'secure');
      const got = JSON.parse(await listen.waitForLine(isMessage('after the node came back'))) as MessageLine;
      assert.equal(got.id, m.id);
      assert.equal(got.outgoing, false);
      assert.equal(got.contactName, 'Alice');
    } finally {
      assert.equal(await listen.stop(), 0, listen.stderr.join(''));
    }
  });
});
