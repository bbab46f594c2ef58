/**
 * Seeded percentile bootstrap intervals (Efron & Tibshirani, An Introduction to the Bootstrap,
 * 1993, ch. 13). The nightly run keeps counts, not rows: a 0/1 sample of x events in n is
 * resampled as a binomial draw (exactly what resampling its rows does), so the interval of a
 * difference of two proportions needs only the four counts.
 */
import { Rng } from '../clv/simulate.ts';
import type { Interval } from './proportions.ts';

export type BootstrapOptions = { replicates?: number; seed?: number; confidence?: number };

/** The `confidence` percentile interval of `values` (sorted in place). Type 7 quantiles, as R's default. */
export function percentileInterval(values: Float64Array, confidence: number): Interval {
  values.sort();
  const q = (p: number) => {
    const h = (values.length - 1) * p;
    const lo = Math.floor(h);
    const hi = Math.min(values.length - 1, lo + 1);
    return values[lo]! + (h - lo) * (values[hi]! - values[lo]!);
  };
  const tail = (1 - confidence) / 2;
  return { low: q(tail), high: q(1 - tail) };
}

/** A Binomial(n, p) draw by skipping geometric gaps between successes: O(np) uniforms, exact. */
export function binomialDraw(rng: Rng, n: number, p: number): number {
  if (p <= 0) return 0;
  if (p >= 1) return n;
  const logQ = Math.log1p(-p);
  let x = 0;
  for (let trial = 0; ; x++) {
    trial += Math.floor(Math.log(rng.uniform()) / logQ) + 1;
    if (trial > n) return x;
  }
}

/** Percentile bootstrap interval of p1 − p2 from counts (x1 of n1 against x2 of n2). Same seed, same interval. */
export function bootstrapDifferenceOfProportions(x1: number, n1: number, x2: number, n2: number, options: BootstrapOptions = {}): Interval & { replicates: number; seed: number } {
  const replicates = options.replicates ?? 2000;
  const seed = options.seed ?? 1;
  if (!(n1 > 0 && n2 > 0)) throw new RangeError('both groups need at least one member');
  const rng = new Rng(seed);
  const diffs = new Float64Array(replicates);
  for (let b = 0; b < replicates; b++) diffs[b] = binomialDraw(rng, n1, x1 / n1) / n1 - binomialDraw(rng, n2, x2 / n2) / n2;
  return { ...percentileInterval(diffs, options.confidence ?? 0.95), replicates, seed };
}

/** Percentile bootstrap interval of mean(a) − mean(b), resampling each group's values. */
export function bootstrapDifferenceOfMeans(a: readonly number[], b: readonly number[], options: BootstrapOptions = {}): Interval & { replicates: number; seed: number } {
  const replicates = options.replicates ?? 2000;
  const seed = options.seed ?? 1;
  if (a.length === 0 || b.length === 0) throw new RangeError('both groups need at least one value');
  const rng = new Rng(seed);
  const mean = (xs: readonly number[]) => {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[Math.floor(rng.uniform() * xs.length)]!;
    return s / xs.length;
  };
  const diffs = new Float64Array(replicates);
  for (let k = 0; k < replicates; k++) diffs[k] = mean(a) - mean(b);
  return { ...percentileInterval(diffs, options.confidence ?? 0.95), replicates, seed };
}
