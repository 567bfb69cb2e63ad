import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { groupCostRows } from './group-cost.ts';

describe('group message cost', () => {
  it('one group message is one publication of the same bucket at 5, 20 and 100 members, within 1.5x of 1:1', () => {
    const [single, ...groups] = groupCostRows();
    assert.ok(single !== undefined && groups.length === 3);
    for (const r of groups) {
      assert.ok(
        Number(r.fee) <= 1.5 * Number(single.fee),
        `${r.members} members: fee ${r.fee} within 1.5x of ${single.fee}`,
      );
      assert.equal(r.fee, (groups[0] as typeof r).fee, 'the fee does not grow with the member count');
    }
    // A rotation after a removal grows with the members (one pairwise frame each) and rides in one
    // publication up to 100 members.
    assert.ok(groups.every((r) => r.rotationPayload !== undefined));
    console.log(
      groups
        .map((r) => `${r.members}: ${r.payloadBytes} B ${r.fee} sompi, rotation ${r.rotationBytes} B`)
        .join('\n'),
    );
  });
});
