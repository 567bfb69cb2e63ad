/**
 * What each node operator learns about one client that watches 100 addresses and submits 20
 * transactions (docs/privacy.md "What a node operator learns"; figures in the `nodepool` bench).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { measureOperatorView } from './node-pool-helpers.ts';

describe('What a node operator learns', () => {
  it('one node sees every watched address and every submission beside the recipient', async () => {
    const one = await measureOperatorView({ nodes: 1 });
    assert.deepEqual(one.shares, [1]);
    assert.equal(one.submissions, 20);
    assert.equal(one.submitterSawRecipient, 20);
  });

  it('three nodes each see about a third, and no node sees more than half', async () => {
    const three = await measureOperatorView({ nodes: 3 });
    assert.equal(three.shares.length, 3);
    // Every address asked of exactly one node.
    assert.equal(Math.round(three.shares.reduce((a, b) => a + b, 0) * 100), 100);
    for (const s of three.shares) assert.ok(s > 0 && s <= 0.5, `one operator saw ${s * 100} %`);
    assert.equal(three.submissions, 20);
    // The recipient is watched at one node of its own choosing; a submission lands there only
    // when the spent coin's node happens to be that one.
    assert.ok(three.submitterSawRecipient < 20);
  });

  it('with decoy sets of 4 each node is asked about real and decoy addresses alike', async () => {
    const view = await measureOperatorView({ nodes: 3, setSize: 4 });
    for (const [i, s] of view.shares.entries()) {
      const real = Math.round(s * 100);
      assert.ok(view.asked[i]! >= 2 * real, `node ${i}: ${view.asked[i]} asked for ${real} real`);
    }
  });
});
