import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FAULT_KINDS, formatSoakTable, runSoak } from './soak.ts';

// Larger runs: `npm run soak -- --messages 10000 --seed 424242 [--p2p] [--reorg-drop]` (docs/delivery.md).
// The short runs here include reorganisations that remove accepted transactions for good
// (every other reorganisation drawn): their senders must publish them again.
const MESSAGES = Number(process.env['SOAK_MESSAGES'] ?? 1_000);
const SEED = Number(process.env['SOAK_SEED'] ?? 20261125);

describe('soak: three clients on the local Kaspa network under random faults', () => {
  it(`${MESSAGES} messages end with zero lost, zero duplicated, every one receipted`, async () => {
    const r = await runSoak({ messages: MESSAGES, seed: SEED, reorgDrop: true });
    const table = [formatSoakTable([r]), ...r.diagnosis].join('\n');
    assert.equal(r.lost, 0, table);
    assert.equal(r.duplicated, 0, table);
    assert.equal(r.unreceipted, 0, table);
    for (const k of FAULT_KINDS) assert.ok(r.faults[k] > 0, `no ${k} fault injected: ${table}`);
  });

  it('200 messages with direct links coming up and dropping: zero lost, zero duplicated', async () => {
    const r = await runSoak({ messages: 200, seed: 7, p2p: true, reorgDrop: true });
    const table = [formatSoakTable([r]), ...r.diagnosis].join('\n');
    assert.equal(r.lost, 0, table);
    assert.equal(r.duplicated, 0, table);
    assert.equal(r.unreceipted, 0, table);
  });
});
