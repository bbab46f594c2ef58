/**
 * Comparing two proportions (e.g. churn in the treated group against the control group):
 * the difference with its Wald interval, the relative risk with the log-scale (Katz) interval,
 * and the pooled two-proportion z test (whose square is Pearson's X² of the 2×2 table).
 * Agresti, An Introduction to Categorical Data Analysis (2nd ed., 2007), §2.2–2.4.
 */
import { twoSidedP, zOf } from './normal.ts';

export type Interval = { low: number; high: number };

export type TwoProportions = {
  /** the groups' proportions: x / n */
  p1: number;
  p2: number;
  n1: number;
  n2: number;
  /** p1 − p2, its standard error (unpooled) and Wald interval */
  difference: number;
  standardError: number;
  differenceInterval: Interval;
  /** p1 / p2 (NaN when p2 = 0) and its interval (undefined when a group has no events or all) */
  relativeRisk: number;
  relativeRiskInterval?: Interval;
  /** p1 / p2 − 1, the relative lift, and its interval (from the relative risk's) */
  relativeLift: number;
  relativeLiftInterval?: Interval;
  /** pooled z statistic and its two-sided p-value (NaN when both groups are all events or none) */
  z: number;
  pValue: number;
  confidence: number;
};

const check = (x: number, n: number, name: string) => {
  if (!(Number.isInteger(x) && Number.isInteger(n) && x >= 0 && n > 0 && x <= n)) throw new RangeError(`${name}: need whole counts 0 ≤ x ≤ n, n > 0 (x = ${x}, n = ${n})`);
};

/** Group 1 against group 2: x events out of n in each. */
export function compareProportions(x1: number, n1: number, x2: number, n2: number, confidence = 0.95): TwoProportions {
  check(x1, n1, 'group 1');
  check(x2, n2, 'group 2');
  const z = zOf(confidence);
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const difference = p1 - p2;
  const standardError = Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2);
  const pooled = (x1 + x2) / (n1 + n2);
  const pooledSe = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const zStat = pooledSe > 0 ? difference / pooledSe : NaN;
  const relativeRisk = p2 > 0 ? p1 / p2 : NaN;
  let relativeRiskInterval: Interval | undefined;
  if (x1 > 0 && x2 > 0) {
    const seLog = Math.sqrt((1 - p1) / x1 + (1 - p2) / x2);
    const log = Math.log(relativeRisk);
    relativeRiskInterval = { low: Math.exp(log - z * seLog), high: Math.exp(log + z * seLog) };
  }
  return {
    p1,
    p2,
    n1,
    n2,
    difference,
    standardError,
    differenceInterval: { low: difference - z * standardError, high: difference + z * standardError },
    relativeRisk,
    ...(relativeRiskInterval && { relativeRiskInterval }),
    relativeLift: relativeRisk - 1,
    ...(relativeRiskInterval && { relativeLiftInterval: { low: relativeRiskInterval.low - 1, high: relativeRiskInterval.high - 1 } }),
    z: zStat,
    pValue: Number.isNaN(zStat) ? NaN : twoSidedP(zStat),
    confidence,
  };
}

/**
 * The Wilson score interval of one proportion x / n (Wilson 1927; method 3 of Newcombe,
 * "Two-sided confidence intervals for the single proportion", Statistics in Medicine 17, 1998):
 * unlike the Wald interval it stays within [0, 1] and is not a point at x = 0 or x = n.
 */
export function wilsonInterval(x: number, n: number, confidence = 0.95): Interval {
  check(x, n, 'proportion');
  const z = zOf(confidence);
  const p = x / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n))) / (1 + z2n);
  return { low: x === 0 ? 0 : Math.max(0, centre - half), high: x === n ? 1 : Math.min(1, centre + half) };
}
