/**
 * Issue 11's cost ceiling, as deterministic figures (no timings): a 100-character text of an
 * established session costs at most 1.25x the reference alone, by 10 and by 50, and the
 * builder pays the relay floor and nothing above it (FACTS §4.5). The first message of a
 * session is priced apart (docs/privacy.md "What it costs"): its handshake frame alone costs
 * more than the reference's whole fee, and its payload stays in the 2,048-byte bucket.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { minimumRelayFee } from '../../../src/kaspa/fee.ts';
import { ISSUE_11_REFERENCE, UNPADDED, priced, sealAs } from './costs.ts';

describe('what a message costs on chain', () => {
  for (const n of [1, 10, 50]) {
    it(`established session, ${n === 1 ? 'alone' : `batched by ${n}`}: within 1.25x of issue 11's figure, at the relay floor`, async () => {
      const { alice, bob, payload } = await sealAs('steady', n);
      const { built } = priced(alice, bob, payload, n);
      assert.equal(built.fee, minimumRelayFee(built.tx), 'the fee is the relay floor');
      const per = built.fee / BigInt(n);
      const ceiling = (ISSUE_11_REFERENCE[n]! * 125n) / 100n;
      assert.ok(per <= ceiling, `${per} sompi per message, ceiling ${ceiling}`);
      assert.equal(built.tx.outputs.length, 3, 'notification, decoy and change');
    });
  }

  it('the first message of a session pads its handshake to 2,048 bytes, and no bucket could bring it within 1.25x', async () => {
    const { alice, bob, payload } = await sealAs('first', 1);
    assert.equal(payload.length, 2_048);
    const unpadded = await sealAs('first', 1, UNPADDED);
    assert.ok(
      unpadded.payload.length > 1_536,
      `${unpadded.payload.length} B: a first contact needs the 2,048 B bucket`,
    );
    const { built } = priced(unpadded.alice, unpadded.bob, unpadded.payload, 1);
    assert.ok(
      built.fee > (ISSUE_11_REFERENCE[1]! * 125n) / 100n,
      `even unpadded the handshake costs ${built.fee} sompi`,
    );
    assert.equal(priced(alice, bob, payload, 1).built.fee, 483_200n);
  });
});
