/**
 * The disappearing timer between two devices (envelope type 15, core/disappearing/timer.ts):
 * the engine carries a change of it like a message (by the chain while the contact is away,
 * receipted, republished), both devices agree on the newest by (time set, id), and a
 * stranger's timer is refused. Real sessions on the local Kaspa network.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { currentSetting, type TimerSetting } from '../../../src/core/disappearing/timer.ts';
import { decodeMessage, encodeMessage, type Message } from '../../../src/core/delivery/messages.ts';
import { DeliveryError } from '../../../src/core/delivery/errors.ts';
import { hexToBytes, utf8ToBytes } from '../../../src/util/bytes.ts';
import { ChainUser, SharedDevnet } from './kaspa.ts';
import { until } from './harness.ts';

/** The settings a device holds, from its stored records (as the app keeps them). */
function settingsOf(messages: readonly Message[]): TimerSetting[] {
  return messages.flatMap((m) =>
    m.timer === undefined
      ? []
      : [
          {
            id: hexToBytes(m.id),
            setAt: m.sentAt,
            seconds: m.timer,
            by: m.direction === 'out' ? 'me' : 'contact',
          },
        ],
  );
}

describe('the disappearing timer between two engines on the local Kaspa network', () => {
  const network = new SharedDevnet();
  const url = network.url;
  const alice = new ChainUser('alice', url);
  const bob = new ChainUser('bob', url);
  const mallory = new ChainUser('mallory', url);
  alice.knows(bob);
  bob.knows(alice);
  mallory.knows(alice);
  const users = [alice, bob, mallory];

  network.around(users);

  it('set while the contact is away: it goes by the chain, is receipted, and the contact holds it', async () => {
    await alice.engine.send(bob.id, 'hello');
    await bob.waitInbox(alice, 1);
    await bob.stop();
    const set = await alice.engine.setTimer(bob.id, 3600);
    assert.equal(set.timer, 3600);
    assert.equal(set.text, '');
    await until('published while bob is away', async () => {
      const m = (await alice.outbox(bob)).find((x) => x.id === set.id);
      return m?.direction === 'out' && m.status === 'published';
    });
    await bob.start();
    const got = await until('bob holds the timer', async () =>
      (await bob.inbox(alice)).find((m) => m.timer !== undefined),
    );
    assert.equal(got.id, set.id);
    assert.equal(got.timer, 3600);
    assert.equal(got.sentAt, set.sentAt, 'the setting is named by its sender’s (time set, id)');
    assert.equal(got.route, 'chain');
    await alice.allOut(bob, ['delivered', 'read'], 2);
    assert.equal(currentSetting(settingsOf(await bob.inbox(alice)))?.seconds, 3600);
  });

  it('changed on both sides at once: both devices agree on the newest by (time set, id)', async () => {
    const [fromAlice, fromBob] = await Promise.all([
      alice.engine.setTimer(bob.id, 86_400),
      bob.engine.setTimer(alice.id, 604_800),
    ]);
    await alice.allOut(bob, ['delivered', 'read'], 3);
    await bob.allOut(alice, ['delivered', 'read'], 1);
    const atAlice = currentSetting(settingsOf(await alice.engine.messages(bob.id)));
    const atBob = currentSetting(settingsOf(await bob.engine.messages(alice.id)));
    assert.ok(atAlice !== undefined && atBob !== undefined);
    assert.deepEqual([atAlice.setAt, atAlice.seconds], [atBob.setAt, atBob.seconds]);
    assert.deepEqual(atAlice.id, atBob.id);
    const newest = currentSetting(settingsOf([fromAlice, fromBob]))!;
    assert.equal(atAlice.seconds, newest.seconds);
    assert.equal(atAlice.by, newest.seconds === 86_400 ? 'me' : 'contact');
  });

  it('a stranger’s timer is refused: it is not kept with the request, nothing is set', async () => {
    await mallory.engine.setTimer(alice.id, 300);
    await mallory.engine.send(alice.id, 'hello, it is mallory');
    const request = await until('alice has a request', () => alice.requests.get(mallory.id));
    await until('both of mallory’s messages published', async () =>
      (await mallory.outbox(alice)).every((m) => m.direction === 'out' && m.status === 'published'),
    );
    assert.deepEqual(
      request.messages.map((m) => m.text),
      ['hello, it is mallory'],
    );
    assert.deepEqual(await alice.inbox(mallory), [], 'nothing in any conversation');
  });

  it('an engine refuses a timer outside the offered set (RangeError) and an unknown contact', async () => {
    await assert.rejects(async () => alice.engine.setTimer(bob.id, 60 as never), RangeError);
    await assert.rejects(
      async () => alice.engine.setTimer('p2p1nobody', 300),
      (e: unknown) => e instanceof DeliveryError && e.code === 'UNKNOWN_CONTACT',
    );
  });
});

describe('message record version 3: the timer field', () => {
  const base = {
    direction: 'in',
    id: 'ab'.repeat(16),
    contact: 'c',
    sentAt: 5,
    text: '',
    receivedAt: 6,
    route: 'chain',
    read: false,
  };
  const record = (o: object): Uint8Array => utf8ToBytes(JSON.stringify(o));

  it('round-trips; versions 1 and 2 read as no timer change', () => {
    const m = { ...base, timer: 300 } as Message;
    assert.deepEqual(decodeMessage(encodeMessage(m)), m);
    assert.equal(JSON.parse(new TextDecoder().decode(encodeMessage(m))).v, 4);
    assert.equal(decodeMessage(record({ v: 2, ...base, timer: 300 })).timer, undefined);
    assert.equal(decodeMessage(record({ v: 1, ...base })).timer, undefined);
  });

  it('refuses a timer outside the set, a timer with an action, and version 5 (CORRUPT_RECORD)', () => {
    for (const bad of [
      { v: 3, ...base, timer: 60 },
      { v: 3, ...base, timer: '300' },
      { v: 3, ...base, timer: 300, action: { kind: 'forwarded' } },
      { v: 5, ...base },
    ])
      assert.throws(
        () => decodeMessage(record(bad)),
        (e: unknown) => e instanceof DeliveryError && e.code === 'CORRUPT_RECORD',
        JSON.stringify(bad),
      );
  });
});
