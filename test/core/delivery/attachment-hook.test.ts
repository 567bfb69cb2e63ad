/**
 * The engine and the attachment chain hook (ports.ts AttachmentChainHook): the hook is told
 * where its frames went, and a failure of the hook is the hook's, not the publication's.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AttachmentBody } from '../../../src/core/envelope/envelope.ts';
import type { AttachmentHook, ContactDirectory, SessionPort } from '../../../src/core/delivery/ports.ts';
import { FakeNet, until } from './harness.ts';
import { FakeSessions, directory } from './fakes.ts';

/** The fake sessions, with attachment frames left out of what they seal (they carry none). */
function sessionsOf(self: string, names: readonly string[]): SessionPort & ContactDirectory {
  const inner = new FakeSessions(self);
  return {
    ...directory(self, names),
    seal: (c, frames) => inner.seal(c, frames),
    open: (c, m) => inner.open(c, m),
    sealBatch: (entries) =>
      inner.sealBatch(
        entries.map((e) => ({ contact: e.contact, frames: e.frames.filter((f) => f.type !== 'attachment') })),
      ),
    openBatch: (p) => inner.openBatch(p),
  };
}

describe('the attachment chain hook', () => {
  it('a hook that cannot record where its frames went does not undo the publication beside them', async () => {
    const net = new FakeNet(['alice', 'bob']);
    let wake: ((contact: string) => void) | undefined;
    let offered = false;
    const status: AttachmentBody = { type: 'attachment-status', status: new Uint8Array(17) };
    const hook: AttachmentHook = {
      claim: () => false,
      frames: async () => {},
      linked: () => {},
      chain: {
        start: async (w) => {
          wake = w;
        },
        take: async () => (offered ? [] : ((offered = true), [[status]])),
        settled: async () => {
          throw new Error('attachment store unavailable');
        },
        dropped: async () => {},
      },
    };
    // Two entries a transaction, so the message and the attachment frames share one.
    const alice = await net.client('alice', {
      settings: { batchWindowMs: 200, maxRecipientsPerTx: 2 },
      sessions: () => sessionsOf('alice', net.names),
      attachments: async () => hook,
    });
    const bob = await net.client('bob');
    try {
      const m = await alice.engine.send('bob', 'beside an attachment status');
      wake!('bob');
      await bob.waitInbox('alice', 1);
      const [out] = await alice.allOut('bob', ['delivered'], 1);
      assert.equal(out!.id, m.id);
      assert.ok(offered, 'the attachment frames rode the flush');
      await until('the failure reported', () =>
        alice.events.some((e) => e.type === 'error' && e.error.message === 'attachment store unavailable'),
      );
      // Published once: the message was marked published although the hook failed, so it
      // did not go out again in the next flush.
      const txs = net.ledger.sentBy('alice');
      assert.equal(txs.length, 1);
      assert.match(new TextDecoder().decode(txs[0]!.payload!), new RegExp(m.id));
    } finally {
      await net.stop();
    }
  });
});
