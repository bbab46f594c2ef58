/** The standard normal's CDF and quantile (@stdlib), and the z of a two-sided confidence level. */
import cdf from '@stdlib/stats-base-dists-normal-cdf';
import quantile from '@stdlib/stats-base-dists-normal-quantile';

export const normalCdf = (z: number): number => cdf(z, 0, 1);
export const normalQuantile = (p: number): number => quantile(p, 0, 1);

/** z such that a two-sided interval of ± z standard errors has this coverage (0.95 → 1.95996…). */
export function zOf(confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`a confidence level is in (0, 1) (${confidence})`);
  return normalQuantile(1 - (1 - confidence) / 2);
}

/** Two-sided p-value of a z statistic. */
export const twoSidedP = (z: number): number => 2 * normalCdf(-Math.abs(z));
