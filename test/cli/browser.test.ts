/**
 * A CLI user and a browser user chatting: the web app in real Chromium (its own IndexedDB
 * profile, the built app served with its CSP) and `p2pcomm` child processes (SQLite profile,
 * werift), on one local Kaspa network. Through the chain while the CLI user is not running,
 * and in both directions; then directly once `p2pcomm chat` runs and the link is up; then
 * through the chain again while the browser tab is closed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  addByLink,
  openChat,
  received,
  send,
  startRealApp,
  unlock,
  type RealApp,
  type User,
} from '../web/e2e/real-app.ts';
import { initUser, startCliWorld, SLOW_MS, type CliUser, type CliWorld } from './helpers.ts';

describe('a CLI user and a browser user', { timeout: 1_200_000 }, () => {
  let app: RealApp;
  let world: CliWorld;
  let wendy: User;
  let carl: CliUser;

  before(async () => {
    app = await startRealApp();
    world = await startCliWorld({ devnet: app.devnet });
    wendy = await app.newUser('Wendy', 'wendy-password');
    carl = await world.newUser('Carl');
    await initUser(world, carl);
    // Each adds the other: the CLI takes the web invite link, the web app the p2pcomm: link.
    const added = await carl.run(['add', wendy.invite]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^Added Wendy \(/);
    await addByLink(wendy, { ...wendy, name: 'Carl', invite: carl.link });
  });

  after(async () => {
    await world?.close();
    await app?.close();
  });

  it('reaches the CLI user through the chain while no p2pcomm runs, and back', async () => {
    await send(wendy, 'hello from the browser');
    // Published: "sent securely" once the transaction that carries it is known; "verified
    // delivery" needs the receipt, which only a running p2pcomm sends.
    await wendy.page
      .locator('li.msg.out', { hasText: 'hello from the browser' })
      .locator('.badge', { hasText: 'sent securely' })
      .waitFor({ timeout: SLOW_MS });
    // Caught up from the chain as the profile opens.
    const history = await carl.run(['history', 'Wendy', '--json']);
    assert.equal(history.code, 0, history.stderr);
    const messages = JSON.parse(history.stdout) as { text: string; outgoing: boolean; route?: string }[];
    const got = messages.find((m) => m.text === 'hello from the browser');
    assert.ok(got !== undefined, history.stdout);
    assert.equal(got.outgoing, false);
    assert.equal(got.route, 'secure');
    const sent = await carl.run(['send', 'Wendy', 'hello from the terminal', '--json']);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal((JSON.parse(sent.stdout) as { status: string }).status, 'sent');
    await received(wendy, 'hello from the terminal');
  });

  it('chats directly once p2pcomm chat runs', async () => {
    const chat = carl.start(['chat', 'Wendy']);
    try {
      await chat.waitForLine((l) => l.includes('Wendy: hello from the browser'));
      // Traffic without a link asks for one (the offer rides the chain, docs/delivery.md).
      chat.child.stdin.write('asking for a link\n');
      await received(wendy, 'asking for a link');
      await chat.waitForLine((l) => l === '* Wendy: Connected', SLOW_MS);
      chat.child.stdin.write('now over the direct link\n');
      await chat.waitForLine(
        (l) =>
          l.includes('you: now over the direct link') && l.includes(' direct') && l.includes('Delivered'),
      );
      await received(wendy, 'now over the direct link');
      await send(wendy, 'and back, directly');
      const line = await chat.waitForLine((l) => l.includes('Wendy: and back, directly'));
      assert.match(line, / direct /);
      chat.child.stdin.end();
      assert.equal(await chat.exited, 0, chat.stderr.join(''));
    } finally {
      await chat.stop();
    }
    assert.deepEqual(wendy.problems, []);
  });

  it('reaches the browser user through the chain while the app is closed', async () => {
    await wendy.page.close();
    const sent = await carl.run(['send', 'Wendy', 'while your tab was closed', '--json']);
    assert.equal(sent.code, 0, sent.stderr);
    const m = JSON.parse(sent.stdout) as { status: string; route?: string };
    assert.equal(m.status, 'sent');
    assert.equal(m.route, 'secure');
    await app.openPage(wendy);
    await unlock(wendy);
    await openChat(wendy, 'Carl');
    await received(wendy, 'while your tab was closed');
    assert.deepEqual(wendy.problems, []);
  });
});
