/** The node's feerate estimator: its fixed points and the ordering every estimate keeps. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  INITIAL_AVERAGE_MASS,
  estimateFeerates,
  nextAverageMass,
  type FeerateEstimations,
} from '../../src/devnet/fee-estimate.ts';

const CAPACITY = { blocksPerSecond: 10, massPerBlock: 500_000 };
const MIN = 100;

function estimate(ready: { feerate: number; mass: number }[], averageMass = INITIAL_AVERAGE_MASS) {
  return estimateFeerates(ready, averageMass, CAPACITY, 0.1, MIN);
}

function ordered(e: FeerateEstimations) {
  return [e.priorityBucket, ...e.normalBuckets, ...e.lowBuckets];
}

describe('feerate estimator', () => {
  it('puts every bucket at the floor, one average transaction away, when the mempool is empty', () => {
    for (const b of ordered(estimate([]))) {
      assert.equal(b.feerate, MIN);
      assert.equal(b.estimatedSeconds, INITIAL_AVERAGE_MASS / 5_000_000);
    }
  });

  it('stays at the floor while the ready transactions fit in a block (outliers leave the weight)', () => {
    const ready = Array.from({ length: 200 }, () => ({ feerate: 10_000, mass: 2000 }));
    for (const b of ordered(estimate(ready))) assert.equal(b.feerate, MIN);
  });

  it('raises the priority bucket once the ready set outgrows the network capacity', () => {
    const ready = Array.from({ length: 5000 }, (_, i) => ({ feerate: 100 + (i % 500), mass: 2000 }));
    const e = estimate(ready);
    assert.ok(e.priorityBucket.feerate > MIN);
  });

  it('orders buckets by falling feerate and rising wait, never below the floor', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            feerate: fc.double({ min: 100, max: 1e6, noNaN: true }),
            mass: fc.integer({ min: 200, max: 100_000 }),
          }),
          { maxLength: 300 },
        ),
        (ready) => {
          const buckets = ordered(estimate(ready));
          for (let i = 1; i < buckets.length; i++) {
            assert.ok(buckets[i]!.feerate <= buckets[i - 1]!.feerate * (1 + 1e-12));
            assert.ok(buckets[i]!.estimatedSeconds >= buckets[i - 1]!.estimatedSeconds * (1 - 1e-12));
          }
          for (const b of buckets) {
            assert.ok(b.feerate >= MIN && Number.isFinite(b.estimatedSeconds) && b.estimatedSeconds > 0);
          }
        },
      ),
    );
  });

  it('moves the average mass by 1/100,000 of each new transaction', () => {
    assert.equal(nextAverageMass(2036, 2036), 2036);
    assert.ok(Math.abs(nextAverageMass(2036, 102_036) - 2037) < 1e-9);
  });
});
