/**
 * A metric's recent datapoints, as the local alarm evaluator keeps them: a ring of fixed-width time buckets
 * (count, sum, minimum, maximum and, when a percentile is asked for, a log-scale histogram), so that recording
 * a value is O(1) and a statistic over a window reads at most `window / width` buckets.
 */

/** Growth factor of the histogram's buckets: a percentile is known within ±2.5%. */
const GROWTH = 1.05;
const LOG_GROWTH = Math.log(GROWTH);
/** Smallest value told apart from zero (below it, values share the first bucket). */
const SMALLEST = 1e-3;
/** Buckets cover SMALLEST .. SMALLEST × GROWTH^(BUCKETS-1): 0.001 to about 10^8.7 (ms: past a day). */
const BUCKETS = 600;

/**
 * A histogram of positive values in log-scale buckets (factor 1.05): O(1) to add, a percentile within ±2.5%.
 */
export class LogHistogram {
  readonly counts = new Uint32Array(BUCKETS);
  total = 0;
  /** The largest value added. */
  max = -Infinity;
  /** The lowest and highest buckets used: values cluster, and the loops stay within them. */
  private low = BUCKETS;
  private high = -1;

  /** Adds one value (at most zero and below 0.001 share the first bucket). */
  add(value: number): void {
    const bucket = bucketOf(value);
    this.counts[bucket]++;
    this.total++;
    if (value > this.max) this.max = value;
    if (bucket < this.low) this.low = bucket;
    if (bucket > this.high) this.high = bucket;
  }

  /** Adds every value of `other`. */
  merge(other: LogHistogram): void {
    for (let i = other.low; i <= other.high; i++) this.counts[i] += other.counts[i];
    this.total += other.total;
    if (other.max > this.max) this.max = other.max;
    if (other.low < this.low) this.low = other.low;
    if (other.high > this.high) this.high = other.high;
  }

  /**
   * The value below which `percent` % of the values fall (the upper bound of the bucket that holds it, at most
   * the largest value); undefined when empty.
   */
  percentile(percent: number): number | undefined {
    const max = this.max;
    if (this.total === 0) return undefined;
    const rank = Math.max(1, Math.ceil((percent / 100) * this.total));
    let seen = 0;
    for (let i = this.low; i <= this.high; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(max, i === 0 ? SMALLEST : SMALLEST * GROWTH ** i);
    }
    return max;
  }

  /**
   * How many values are in (`lower`, `upper`] (either bound may be left out); a value in the bucket of a bound
   * counts as at or below it (±2.5%).
   */
  countWithin(lower: number | undefined, upper: number | undefined): number {
    const first = Math.max(this.low, lower === undefined ? 0 : bucketOf(lower) + 1);
    const last = Math.min(this.high, upper === undefined ? BUCKETS - 1 : bucketOf(upper));
    let count = 0;
    for (let i = first; i <= last; i++) count += this.counts[i];
    return count;
  }
}

function bucketOf(value: number): number {
  if (!(value > SMALLEST)) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(value / SMALLEST) / LOG_GROWTH));
}

/** The datapoints of a window merged: what a statistic is computed from. */
export interface Aggregate {
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  /** Present when the series keeps percentiles. */
  readonly histogram?: LogHistogram;
}

/** Shape of a {@link MetricSeries}. */
export interface MetricSeriesOptions {
  /** Width of a time bucket, ms (the precision of a window's edges). */
  readonly bucketMs: number;
  /** The longest window asked of the series, ms (older buckets are reused). */
  readonly windowMs: number;
  /** Whether percentiles are asked of it (each time bucket that gets values keeps a histogram). */
  readonly percentiles: boolean;
}

/**
 * One metric's values over the last `windowMs` milliseconds, in buckets of `bucketMs`: {@link add} is O(1) and
 * allocates nothing (except a time bucket's histogram the first time it is used, for a percentile series).
 */
export class MetricSeries {
  readonly bucketMs: number;
  readonly percentiles: boolean;
  private readonly capacity: number;
  /** The absolute bucket number each slot holds (-1: never used). */
  private readonly epochs: Float64Array;
  private readonly counts: Float64Array;
  private readonly sums: Float64Array;
  private readonly mins: Float64Array;
  private readonly maxes: Float64Array;
  private readonly histograms: (LogHistogram | undefined)[];

  constructor(options: MetricSeriesOptions) {
    this.bucketMs = Math.max(1, Math.floor(options.bucketMs));
    this.percentiles = options.percentiles;
    this.capacity = Math.ceil(options.windowMs / this.bucketMs) + 2;
    this.epochs = new Float64Array(this.capacity).fill(-1);
    this.counts = new Float64Array(this.capacity);
    this.sums = new Float64Array(this.capacity);
    this.mins = new Float64Array(this.capacity);
    this.maxes = new Float64Array(this.capacity);
    this.histograms = options.percentiles ? new Array<LogHistogram | undefined>(this.capacity) : [];
  }

  /** Records one value at `now` (epoch ms). */
  add(value: number, now: number): void {
    const epoch = Math.floor(now / this.bucketMs);
    const slot = epoch % this.capacity;
    if (this.epochs[slot] !== epoch) {
      this.epochs[slot] = epoch;
      this.counts[slot] = 0;
      this.sums[slot] = 0;
      this.mins[slot] = Infinity;
      this.maxes[slot] = -Infinity;
      if (this.percentiles) this.histograms[slot] = undefined;
    }
    this.counts[slot]++;
    this.sums[slot] += value;
    if (value < this.mins[slot]) this.mins[slot] = value;
    if (value > this.maxes[slot]) this.maxes[slot] = value;
    if (this.percentiles) (this.histograms[slot] ??= new LogHistogram()).add(value);
  }

  /**
   * The values recorded in the window (`from`, `to`] (epoch ms) at the buckets' precision: from the bucket after
   * the one holding `from` to the one holding `to` (so consecutive windows share no bucket, and a window ending
   * now includes what was recorded now); undefined when there are none (CloudWatch has no datapoint).
   */
  aggregate(from: number, to: number): Aggregate | undefined {
    const first = Math.floor(from / this.bucketMs) + 1;
    const last = Math.floor(to / this.bucketMs);
    let count = 0;
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    let histogram: LogHistogram | undefined;
    for (let epoch = Math.max(first, last - this.capacity + 1); epoch <= last; epoch++) {
      const slot = epoch % this.capacity;
      if (this.epochs[slot] !== epoch || this.counts[slot] === 0) continue;
      count += this.counts[slot];
      sum += this.sums[slot];
      if (this.mins[slot] < min) min = this.mins[slot];
      if (this.maxes[slot] > max) max = this.maxes[slot];
      const bucket = this.histograms[slot];
      if (bucket) (histogram ??= new LogHistogram()).merge(bucket);
    }
    if (count === 0) return undefined;
    return {
      count,
      sum,
      min,
      max,
      ...(this.percentiles ? { histogram: histogram ?? new LogHistogram() } : {}),
    };
  }
}

/**
 * A CloudWatch statistic of an aggregate: `SampleCount`, `Sum`, `Average`, `Minimum`, `Maximum`, a percentile
 * `pNN` / `pNN.N` or a percentile rank `PR(a:b)`; undefined when there is no datapoint. Throws for a statistic
 * it does not compute.
 */
export function statisticOf(statistic: string, aggregate: Aggregate | undefined): number | undefined {
  if (!aggregate) return undefined;
  switch (statistic) {
    case 'SampleCount':
      return aggregate.count;
    case 'Sum':
      return aggregate.sum;
    case 'Average':
      return aggregate.sum / aggregate.count;
    case 'Minimum':
      return aggregate.min;
    case 'Maximum':
      return aggregate.max;
    default: {
      const percent = percentileOf(statistic);
      if (percent !== undefined) return aggregate.histogram?.percentile(percent);
      const rank = percentileRankOf(statistic);
      if (!rank || !aggregate.histogram) throw new Error(`statistic ${statistic} is not computed locally`);
      return (100 * aggregate.histogram.countWithin(rank.lower, rank.upper)) / aggregate.count;
    }
  }
}

/**
 * `PR(:1000)` → values at most 1000; `PR(10:1000)` → above 10 and at most 1000 (absolute bounds only, as
 * CloudWatch's percentile rank takes them); undefined for anything else.
 */
export function percentileRankOf(statistic: string): { lower?: number; upper?: number } | undefined {
  const match = /^PR\(\s*(-?[\d.]+)?\s*:\s*(-?[\d.]+)?\s*\)$/i.exec(statistic);
  if (!match || (match[1] === undefined && match[2] === undefined)) return undefined;
  return {
    ...(match[1] !== undefined ? { lower: Number(match[1]) } : {}),
    ...(match[2] !== undefined ? { upper: Number(match[2]) } : {}),
  };
}

/** Whether a statistic needs the values' distribution (a percentile or a percentile rank). */
export function needsHistogram(statistic: string): boolean {
  return percentileOf(statistic) !== undefined || percentileRankOf(statistic) !== undefined;
}

/** `p99` → 99, `p99.9` → 99.9; undefined for anything else. */
export function percentileOf(statistic: string): number | undefined {
  const match = /^p(\d{1,2}(?:\.\d+)?|100)$/i.exec(statistic);
  return match ? Number(match[1]) : undefined;
}

/** Whether the local evaluator computes `statistic`. */
export function isSupportedStatistic(statistic: string): boolean {
  return (
    ['SampleCount', 'Sum', 'Average', 'Minimum', 'Maximum'].includes(statistic) || needsHistogram(statistic)
  );
}
