import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ContactCardError } from '../../../src/core/errors.ts';
import { RecipientError } from '../../../src/core/delivery/errors.ts';
import type { OutgoingMessage } from '../../../src/core/delivery/messages.ts';
import { ChainUser, SharedDevnet } from './kaspa.ts';
import { until } from './harness.ts';

describe('strangers on the local Kaspa network', () => {
  const network = new SharedDevnet();
  const url = network.url;
  const alice = new ChainUser('alice', url);
  const bob = new ChainUser('bob', url);
  // Mallory holds Alice's card; Alice has never heard of her.
  const mallory = new ChainUser('mallory', url);
  // Cards that list only an address of another network.
  const trudy = new ChainUser('trudy', url, { cardNetwork: 'kaspatest' });
  const tom = new ChainUser('tom', url, { cardNetwork: 'kaspatest' });
  alice.knows(bob);
  bob.knows(alice);
  mallory.knows(alice);
  trudy.knows(alice);
  tom.knows(alice);
  const users = [alice, bob, mallory, trudy, tom];

  network.around(users);

  it('a first message from a stranger waits as a request, and nothing goes back until it is accepted', async () => {
    await mallory.engine.send(alice.id, 'hello, it is mallory');
    const request = await until('alice has a request', () => alice.requests.get(mallory.id));
    assert.deepEqual(
      request.messages.map((m) => m.text),
      ['hello, it is mallory'],
    );
    assert.equal(request.card.displayName, 'mallory');
    assert.ok(!alice.port.has(mallory.id), 'a request is not a contact');
    // Bob's message is answered by Alice's next publication: by then a receipt or coin
    // return owed to Mallory would have gone too.
    await bob.engine.send(alice.id, 'after the stranger');
    await bob.allOut(alice, ['delivered'], 1);
    const [waiting] = (await mallory.outbox(alice)) as OutgoingMessage[];
    assert.equal(waiting!.status, 'published', 'no receipt and no coin back before Accept');
    assert.deepEqual(await alice.inbox(mallory), [], 'not in any conversation');

    assert.equal(await alice.accept(mallory), 1);
    assert.equal(alice.requests.get(mallory.id), undefined);
    const [shown] = await alice.inbox(mallory);
    assert.equal(shown!.text, 'hello, it is mallory');
    await mallory.allOut(alice, ['delivered'], 1);
  });

  it('a card that lists only an address of another network is refused at first sight', async () => {
    await trudy.engine.send(alice.id, 'from elsewhere');
    const error = await until('the card is refused', () => alice.refused[0]);
    assert.ok(error instanceof ContactCardError);
    assert.equal(error.code, 'WRONG_NETWORK');
    assert.equal(alice.requests.get(trudy.id), undefined);
  });

  it('a recipient that cannot be paid never holds up the others: 3 messages to a contact delivered', async () => {
    // Tom became a contact before this check existed (or before a network change): Alice owes
    // him a receipt that no transaction can carry.
    alice.addUnchecked(tom);
    await tom.engine.send(alice.id, 'receipt owed to another network');
    await alice.waitInbox(tom, 1);
    const before = (await bob.inbox(alice)).length;
    for (const t of ['one', 'two', 'three']) await alice.engine.send(bob.id, t);
    await alice.allOut(bob, ['delivered'], 3);
    assert.equal((await bob.inbox(alice)).length, before + 3);
    const refused = await until('the unpayable recipient is reported', () =>
      alice.events.find((e) => e.type === 'error' && e.error instanceof RecipientError),
    );
    assert.ok(refused.type === 'error' && refused.error instanceof RecipientError);
    assert.equal(refused.error.contact, tom.id);
    assert.equal(refused.error.code, 'BAD_RECIPIENT');
  });
});
