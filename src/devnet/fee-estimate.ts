/**
 * The node's feerate estimator (`mining/src/feerate/mod.rs` and `Frontier::build_feerate_estimator`
 * in `mining/src/mempool/model/frontier.rs`), so that getFeeEstimate answers with the same
 * buckets and waiting times a kaspad with the same mempool gives (FACTS §4.6).
 *
 * The model: a ready transaction is picked for a block with probability proportional to
 * feerate^α, so the expected wait at feerate f is c1 · c2 / f^α + c1, where c1 is the time the
 * network needs to include one average transaction and c2 the total weight of the mempool.
 */

/** Exponent of the selection weight feerate^α (`selectors::ALPHA`). */
const ALPHA = 3;

/** First guess of the average transaction mass, before any transaction is seen (`INITIAL_AVG_MASS`). */
export const INITIAL_AVERAGE_MASS = 2036;

/** Weight of the past in the decaying average mass (`AVG_MASS_DECAY_FACTOR`). */
const AVERAGE_MASS_DECAY = 0.99999;

/** The decayed average mass after one more transaction of `mass` enters the ready set. */
export function nextAverageMass(average: number, mass: number): number {
  return average * AVERAGE_MASS_DECAY + mass * (1 - AVERAGE_MASS_DECAY);
}

/** One fee-estimate bucket: sompi per gram and the expected wait for it. */
export interface FeerateBucket {
  readonly feerate: number;
  readonly estimatedSeconds: number;
}

/** A getFeeEstimate `estimate`: one priority, two normal and one low bucket, as the node gives. */
export interface FeerateEstimations {
  readonly priorityBucket: FeerateBucket;
  readonly normalBuckets: readonly [FeerateBucket, FeerateBucket];
  readonly lowBuckets: readonly [FeerateBucket];
}

/** The throughput the estimate is made for. */
export interface NetworkCapacity {
  readonly blocksPerSecond: number;
  readonly massPerBlock: number;
}

/** A transaction of the ready set: its feerate and the mass it takes in a block. */
export interface ReadyTransaction {
  readonly feerate: number;
  readonly mass: number;
}

class Estimator {
  /**
   * @param totalWeight Σ feerate^α over the ready transactions (c2).
   * @param inclusionInterval Seconds per average transaction at full capacity (c1, below 1).
   */
  constructor(
    readonly totalWeight: number,
    readonly inclusionInterval: number,
    readonly targetTimePerBlockSeconds: number,
  ) {}

  feerateToTime(feerate: number): number {
    const c1 = this.inclusionInterval;
    return (c1 * this.totalWeight) / feerate ** ALPHA + c1;
  }

  timeToFeerate(time: number): number {
    const c1 = this.inclusionInterval;
    return ((c1 * this.totalWeight) / time / (1 - c1 / time)) ** (1 / ALPHA);
  }

  /** The feerate below which `frac` of the area under feerateToTime between lower and upper lies. */
  quantile(lower: number, upper: number, frac: number): number {
    if (lower === upper) return lower;
    const c = this.inclusionInterval * this.totalWeight;
    if (c === 0) return lower;
    const antiderivative = (f: number): number => c / (-2 * f ** (ALPHA - 1));
    const z = frac * antiderivative(upper) + (1 - frac) * antiderivative(lower);
    return (c / (-2 * z)) ** (1 / (ALPHA - 1));
  }

  estimations(minimumFeerate: number): FeerateEstimations {
    const min = minimumFeerate;
    // Priority: expected in the next block; low: within an hour and at least the 0.25 quantile;
    // normal: within a minute and the 0.66 quantile between low and priority; mid: half an hour.
    const high = Math.max(this.timeToFeerate(this.targetTimePerBlockSeconds), min);
    const low = Math.max(this.timeToFeerate(3600), this.quantile(min, high, 0.25));
    const normal = Math.max(this.timeToFeerate(60), this.quantile(low, high, 0.66));
    const mid = Math.max(this.timeToFeerate(1800), this.quantile(min, high, 0.5));
    const bucket = (feerate: number): FeerateBucket => ({
      feerate,
      estimatedSeconds: this.feerateToTime(feerate),
    });
    return {
      priorityBucket: bucket(high),
      normalBuckets: [bucket(normal), bucket(mid)],
      lowBuckets: [bucket(low)],
    };
  }
}

/**
 * The estimate over a ready set. Like the node, it drops extreme high-feerate outliers from the
 * weight while that shortens the wait at feerate 1, each dropped transaction taking its block
 * space out of the capacity.
 */
export function estimateFeerates(
  ready: readonly ReadyTransaction[],
  averageMass: number,
  capacity: NetworkCapacity,
  targetTimePerBlockSeconds: number,
  minimumFeerate: number,
): FeerateEstimations {
  const sorted = [...ready].sort((a, b) => b.feerate - a.feerate);
  // below[i] = weight of sorted[i..], summed from the light end for accuracy.
  const below = new Array<number>(sorted.length + 1).fill(0);
  for (let i = sorted.length - 1; i >= 0; i--) below[i] = below[i + 1]! + sorted[i]!.feerate ** ALPHA;
  const bps = capacity.blocksPerSecond;
  let massPerBlock = capacity.massPerBlock;
  let estimator = new Estimator(below[0]!, averageMass / (massPerBlock * bps), targetTimePerBlockSeconds);
  for (let i = 0; i < sorted.length; i++) {
    massPerBlock -= sorted[i]!.mass;
    if (massPerBlock <= averageMass) break;
    const pending = new Estimator(
      below[i + 1]!,
      averageMass / (massPerBlock * bps),
      targetTimePerBlockSeconds,
    );
    if (pending.feerateToTime(1) >= estimator.feerateToTime(1)) break;
    estimator = pending;
  }
  return estimator.estimations(minimumFeerate);
}
