/**
 * Block from the chat (issue 15) for attachments: a manifest, chunk or status a contact sent
 * while blocked is dropped like a chat message of that time, also when it is processed after
 * the unblock; one sent after the unblock reaches the attachment service. The time compared
 * is the carrying envelope's sender timestamp (docs/protocol.md "Envelope"), as for chat.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MessageRequests } from '../../../src/core/requests/requests.ts';
import type { AttachmentBody } from '../../../src/core/envelope/envelope.ts';
import type { DeliveryFrame } from '../../../src/core/delivery/frames.ts';
import type { AttachmentHook } from '../../../src/core/delivery/ports.ts';
import type { BatchOp } from '../../../src/storage/types.ts';
import { FakeNet } from './harness.ts';

/** The engine's frame intake, as the chain and direct paths call it after opening a message. */
type Intake = {
  processFrames(
    contact: string,
    frames: readonly DeliveryFrame[],
    route: 'chain' | 'direct',
    ops: BatchOp[],
  ): Promise<void>;
};

describe('an attachment from a contact blocked, then unblocked', () => {
  it('is dropped when sent during the block, whenever it is processed; one sent after the unblock is handed over', async () => {
    const net = new FakeNet(['carol', 'dave']);
    let requests: MessageRequests | undefined;
    const handed: AttachmentBody[] = [];
    const hook: AttachmentHook = {
      claim: () => false,
      frames: async (_c, bodies) => void handed.push(...bodies),
      linked: () => {},
    };
    const carol = await net.client('carol', {
      requests: async (db) => (requests = await MessageRequests.open({ db })),
      attachments: async () => hook,
    });
    const intake = carol.engine as unknown as Intake;
    const manifest = (tag: number): AttachmentBody => ({
      type: 'attachment-manifest',
      manifest: new Uint8Array([1, tag]),
    });
    try {
      await requests!.block('dave');
      const during = Date.now();
      // Arriving while blocked: dropped.
      await intake.processFrames(
        'dave',
        [{ type: 'attachment', body: manifest(1), sentAt: during }],
        'direct',
        [],
      );
      assert.equal(handed.length, 0, 'an attachment arriving while blocked is not handed over');
      while (Date.now() <= during) await new Promise((r) => setTimeout(r, 1));
      await requests!.unblock('dave');
      // Sent during the block, processed after the unblock (the chain was slow): still dropped.
      await intake.processFrames(
        'dave',
        [{ type: 'attachment', body: manifest(2), sentAt: during }],
        'chain',
        [],
      );
      assert.equal(handed.length, 0, 'an attachment sent while blocked stays dropped after the unblock');
      const later = Date.now() + 1;
      await intake.processFrames(
        'dave',
        [{ type: 'attachment', body: manifest(3), sentAt: later }],
        'chain',
        [],
      );
      assert.deepEqual(handed, [manifest(3)]);
    } finally {
      await net.stop();
    }
  });
});
