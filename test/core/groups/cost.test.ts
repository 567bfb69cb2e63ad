/**
 * What one group message costs on chain beside a 1:1 message (docs/groups.md §5): the payload
 * bucket of one publication and its relay fee, at 5, 20 and 100 members, and the pairwise
 * bytes of one key rotation after a removal. The publication shape (one notification coin, one
 * decoy, change) is the same for both, so only the payload differs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { batchSize } from '../../../src/core/envelope/batch.ts';
import { createEnvelope, encodeEnvelope } from '../../../src/core/envelope/envelope.ts';
import { pad } from '../../../src/core/envelope/padding.ts';
import { typicalPublicationFee } from '../../../src/core/delivery/chain-tx.ts';
import { DISTRIBUTION_BYTES, type GroupContent } from '../../../src/core/groups/index.ts';
import { makePair } from '../helpers.ts';
import { TestGroup, type Member } from './group-fixture.ts';

const TEXT = 'x'.repeat(100);
/** Bytes a ratchet frame adds to its padded plaintext (docs/protocol.md "Ratchet frame"). */
const RATCHET_OVERHEAD = 81;

function oneToOneFrame(): Uint8Array {
  const [a, b] = makePair();
  const env = () => pad(encodeEnvelope(createEnvelope({ type: 'chat', text: TEXT })));
  b.sessions.decrypt(a.sessions.encrypt(b.identity.peerId, env()));
  a.sessions.decrypt(b.sessions.encrypt(a.identity.peerId, env()));
  return a.sessions.encrypt(b.identity.peerId, env());
}

const bucket = (frame: Uint8Array): number => batchSize([{ bytes: frame, firstContact: false }]) ?? NaN;

describe('group message cost', () => {
  it('one group message is one publication of the same bucket at 5, 20 and 100 members, within 1.5x of 1:1', () => {
    const single = oneToOneFrame();
    const singleBucket = bucket(single);
    const singleFee = typicalPublicationFee(singleBucket);
    const rows = [
      `| members | group frame B | payload B | fee (sompi) | vs 1:1 | rotation after a removal: pairwise B | its payload B | its fee (sompi) |`,
    ];
    rows.push(`| 1:1 | ${single.length} | ${singleBucket} | ${singleFee} | 1.00x | - | - | - |`);
    const content: GroupContent = {
      kind: 'envelope',
      bytes: encodeEnvelope(createEnvelope({ type: 'chat', text: TEXT })),
    };
    const fees: bigint[] = [];
    for (const n of [5, 20, 100]) {
      const g = new TestGroup(n);
      const sealed = (g.members[0] as Member).session.seal(content);
      const payload = bucket(sealed.frame);
      const fee = typicalPublicationFee(payload);
      fees.push(fee);
      // A rotation: one distribution per remaining member device, each a ratchet frame of a
      // padded envelope (envelope header 26 B + varbytes of the distribution).
      const perDevice = RATCHET_OVERHEAD + pad(new Uint8Array(26 + 2 + DISTRIBUTION_BYTES)).length;
      const rotation = (n - 2) * perDevice;
      // It rides in the publication of the first message under the new key (docs/groups.md §5).
      const rotationPayload = batchSize([
        { bytes: sealed.frame, firstContact: false },
        ...Array.from({ length: n - 2 }, () => ({ bytes: new Uint8Array(perDevice), firstContact: false })),
      ]);
      rows.push(
        `| ${n} | ${sealed.frame.length} | ${payload} | ${fee} | ${(Number(fee) / Number(singleFee)).toFixed(2)}x | ${rotation} | ${rotationPayload ?? 'over 32 KiB'} | ${rotationPayload === undefined ? '-' : typicalPublicationFee(rotationPayload)} |`,
      );
      assert.ok(
        Number(fee) <= 1.5 * Number(singleFee),
        `${n} members: fee ${fee} within 1.5x of ${singleFee}`,
      );
    }
    assert.equal(new Set(fees).size, 1, 'the fee does not grow with the member count');
    console.log(rows.join('\n'));
  });
});
