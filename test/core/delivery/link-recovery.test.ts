/**
 * Links that must not stay down (docs/delivery.md "Links"): an offer answered by a process of
 * the contact that then exits, and again by the next one (a one-shot `p2pcomm send`, then
 * `p2pcomm chat`); an attempt that times out while messages flow. Real WebRTC (werift) on
 * loopback; each wait is far below the connect timeout, so only a fresh offer can pass it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { contactIdOf } from '../../../src/core/delivery/sessions.ts';
import { TransportLinks } from '../../../src/core/delivery/links.ts';
import { makeUser, type TestUser } from '../helpers.ts';
import { FakeNet, until } from './harness.ts';
import { FAST_HEARTBEAT, loopback, sessionsOf } from './real-links.ts';

/**
 * What `CountingLinks` has answered: how many, and the publications of their maker counted
 * when the last one was made (anything published after that may carry it).
 */
interface AnswerCounter {
  answers: number;
  publishedBefore: number;
  readonly published?: () => number;
}

/** Real links that count the answers they have made (to know when one is on its way). */
class CountingLinks extends TransportLinks {
  constructor(private readonly counter: AnswerCounter) {
    super(loopback(), FAST_HEARTBEAT);
  }

  override async answer(contact: string, linkId: Uint8Array, offer: string): Promise<string> {
    const sdp = await super.answer(contact, linkId, offer);
    // Counted here, before the engine has the answer: under load it can be on chain before
    // a poll of the test sees it made.
    this.counter.publishedBefore = this.counter.published?.() ?? 0;
    this.counter.answers++;
    return sdp;
  }
}

/**
 * Real links whose first answer is applied without its candidates: that attempt cannot connect
 * and fails in the transport (its connect deadline), not by the engine's timeout.
 */
class FirstAttemptFails extends TransportLinks {
  private spoiled = false;

  constructor() {
    super(loopback(), { ...FAST_HEARTBEAT, connectTimeoutMs: 3_000 });
  }

  override async complete(contact: string, linkId: Uint8Array, answer: string): Promise<void> {
    if (this.spoiled) return super.complete(contact, linkId, answer);
    this.spoiled = true;
    const bare = answer
      .split(/\r?\n/)
      .filter((line) => !line.startsWith('a=candidate'))
      .join('\r\n');
    return super.complete(contact, linkId, bare);
  }
}

const links =
  (counter: AnswerCounter = { answers: 0, publishedBefore: 0 }) =>
  (): TransportLinks =>
    new CountingLinks(counter);

/** Two users with sessions, the one with the smaller contact id first. */
function pair(): { small: TestUser; large: TestUser; s: string; l: string } {
  const x = makeUser('x', { now: Date.now });
  const y = makeUser('y', { now: Date.now });
  x.sessions.addContact(y.card);
  y.sessions.addContact(x.card);
  const [ix, iy] = [contactIdOf(x.identity.peerId), contactIdOf(y.identity.peerId)];
  return ix < iy ? { small: x, large: y, s: ix, l: iy } : { small: y, large: x, s: iy, l: ix };
}

const signalsFrom = (net: FakeNet, name: string): number => net.ledger.sentBy(name).length;

describe('a direct link does not stay down while the contact is there', () => {
  for (const offererIsSmall of [true, false]) {
    it(`an offer answered by a process that exited, then by the next one, gives way to a fresh link (offerer has the ${offererIsSmall ? 'smaller' : 'larger'} id)`, async () => {
      const p = pair();
      const [w, c] = offererIsSmall ? [p.small, p.large] : [p.large, p.small];
      const [wi, ci] = offererIsSmall ? [p.s, p.l] : [p.l, p.s];
      const net = new FakeNet([wi, ci]);
      // The connect timeout is far beyond every wait below: only a new offer can bring the link.
      const settings = { connectTimeoutMs: 600_000 };
      const answers: AnswerCounter = {
        answers: 0,
        publishedBefore: 0,
        published: () => signalsFrom(net, ci),
      };
      const cw = await net.client(wi, { sessions: sessionsOf(w, [c]), peers: links(), settings });
      const cc = await net.client(ci, { sessions: sessionsOf(c, [w]), peers: links(answers), settings });
      try {
        await cc.stop();
        await cw.engine.send(ci, 'hello while you are away');
        // A short-lived process reads the offer, answers it and exits once the answer is out.
        await cc.start();
        await cc.waitInbox(wi, 1);
        await until('answered', () => answers.answers > 0);
        await until('the answer is on chain', () => signalsFrom(net, ci) > answers.publishedBefore);
        await cc.stop();
        // The next process reads the same offer, answers it too, and has something to say.
        await cc.start();
        await cc.engine.send(wi, 'asking for a link');
        await cw.waitInbox(ci, 1);
        await until('linked', () => cw.engine.connection(ci) === 'connected', 30_000);
        await until('linked back', () => cc.engine.connection(wi) === 'connected', 30_000);
        await cc.engine.send(wi, 'over the link');
        await cw.waitInbox(ci, 2);
        const out = await cc.allOut(wi, ['delivered', 'read'], 2);
        assert.equal(out.at(-1)!.route, 'direct');
      } finally {
        await net.stop();
      }
    });
  }

  it('an attempt whose link fails before it is up offers again', async () => {
    const p = pair();
    const net = new FakeNet([p.s, p.l]);
    // The engine's timeout is far beyond every wait below: only the transport's failure ends
    // the first attempt, and only a new offer can bring the link.
    const settings = { connectTimeoutMs: 600_000 };
    const w = await net.client(p.s, {
      sessions: sessionsOf(p.small, [p.large]),
      peers: () => new FirstAttemptFails(),
      settings,
    });
    const c = await net.client(p.l, { sessions: sessionsOf(p.large, [p.small]), peers: links(), settings });
    try {
      await w.engine.send(p.l, 'hello');
      await c.waitInbox(p.s, 1);
      await until('linked', () => w.engine.connection(p.l) === 'connected', 30_000);
      await until('linked back', () => c.engine.connection(p.s) === 'connected', 30_000);
      await c.engine.send(p.s, 'over the link');
      await w.waitInbox(p.l, 1);
      const out = await c.allOut(p.s, ['delivered', 'read'], 1);
      assert.equal(out.at(-1)!.route, 'direct');
    } finally {
      await net.stop();
    }
  });

  it('an attempt that times out while messages flow offers again', async () => {
    const p = pair();
    const net = new FakeNet([p.s, p.l]);
    // The smaller side keeps its attempt in glare; the larger side reads that offer only once
    // it is stale, so the two attempts never meet until one of them is made again.
    const small = await net.client(p.s, {
      sessions: sessionsOf(p.small, [p.large]),
      peers: links(),
      settings: { connectTimeoutMs: 4_000, signalMaxAgeMs: 1_000 },
    });
    const large = await net.client(p.l, {
      sessions: sessionsOf(p.large, [p.small]),
      peers: links(),
      settings: { connectTimeoutMs: 4_000, signalMaxAgeMs: 1_000 },
    });
    try {
      await large.stop();
      await small.engine.send(p.l, 'hello while you are away');
      await until('the offer is on chain', () => signalsFrom(net, p.s) > 0);
      await new Promise((r) => setTimeout(r, 1_500));
      await large.start();
      await large.waitInbox(p.s, 1);
      await large.engine.send(p.s, 'and back');
      await small.waitInbox(p.l, 1);
      await until('linked', () => small.engine.connection(p.l) === 'connected', 30_000);
      await until('linked back', () => large.engine.connection(p.s) === 'connected', 30_000);
    } finally {
      await net.stop();
    }
  });
});
