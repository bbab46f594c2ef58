/**
 * Power of a comparison of two proportions (normal approximation, two-sided test): the
 * minimum detectable effect at given group sizes, and how many more periods of the same
 * size it takes until an effect of a given size becomes detectable.
 * Fleiss, Levin & Paik, Statistical Methods for Rates and Proportions (3rd ed., 2003), §4.2
 * (the same formula with the null variance taken at the baseline for both groups).
 */
import { normalQuantile, zOf } from './normal.ts';

export type PowerOptions = { confidence?: number; power?: number };

const multiplier = (o: PowerOptions) => zOf(o.confidence ?? 0.95) + normalQuantile(o.power ?? 0.8);

/**
 * The smallest absolute difference from `baseline` that a test at `confidence` detects with
 * probability `power` with n1 and n2 members: (z₁₋α/₂ + z_power)·√(p(1 − p)(1/n1 + 1/n2)).
 * Infinity when a group is empty.
 */
export function minimumDetectableEffect(baseline: number, n1: number, n2: number, options: PowerOptions = {}): number {
  if (!(baseline >= 0 && baseline <= 1)) throw new RangeError(`a baseline proportion is in [0, 1] (${baseline})`);
  if (!(n1 > 0 && n2 > 0)) return Infinity;
  return multiplier(options) * Math.sqrt(baseline * (1 - baseline) * (1 / n1 + 1 / n2));
}

/**
 * More periods (0: detectable now) until an effect of `effect` is detectable, when each period
 * adds `perPeriod` members to the groups that hold `sofar` now. Undefined when it never is
 * (no members coming) or not within `maxPeriods`.
 */
export function periodsUntilDetectable(
  effect: number,
  baseline: number,
  sofar: { n1: number; n2: number },
  perPeriod: { n1: number; n2: number },
  options: PowerOptions & { maxPeriods?: number } = {},
): number | undefined {
  if (!(effect > 0)) throw new RangeError(`the effect to detect must be > 0 (${effect})`);
  const max = options.maxPeriods ?? 1200;
  for (let m = 0; m <= max; m++) {
    const n1 = sofar.n1 + m * perPeriod.n1;
    const n2 = sofar.n2 + m * perPeriod.n2;
    if (minimumDetectableEffect(baseline, n1, n2, options) <= effect) return m;
    if (perPeriod.n1 <= 0 && perPeriod.n2 <= 0) return undefined;
  }
  return undefined;
}
