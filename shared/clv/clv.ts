/**
 * Customer lifetime value for non-contractual (ad-hoc) buyers, the standard way
 * (as in FHL 2005 and lifetimes' `customer_lifetime_value`):
 *   CLV = Σ_{m=1..H} margin × E[M] × (E[X(t_m)] − E[X(t_{m−1})]) / (1+d)^m,
 * with t_m = m months expressed in model periods, E[X(t)] the BG/NBD conditional
 * expectation and E[M] the Gamma-Gamma expected average spend.
 */
import { type BgNbdParams, assertBgNbdParams, expectedPurchasesNewCustomer, pairFunctionValues, probabilityAliveRows } from './bgnbd.ts';
import { DataError } from './errors.ts';
import { type GammaGammaParams, expectedAverageSpendBatch } from './gamma-gamma.ts';
import { type NumArray, type RfmTable, prepareRfm } from './rfm.ts';

/** Model periods per month for the supported time units (365.25/12 days). */
export const PERIODS_PER_MONTH = { day: 365.25 / 12, week: 365.25 / 12 / 7 } as const;

export interface ClvOptions {
  /** horizon in months (whole number ≥ 1) */
  months: number;
  /** monthly discount rate, e.g. 0.01 */
  discountRate: number;
  /** profit margin applied to spend, in [0, 1] (default 1 = revenue) */
  margin?: number;
  /** model periods per month (default: weeks, 365.25/12/7 ≈ 4.348) */
  periodsPerMonth?: number;
}

function checkOptions(o: ClvOptions): Required<ClvOptions> {
  if (!Number.isInteger(o.months) || o.months < 1) throw new DataError(`horizon must be a whole number of months ≥ 1 (${o.months})`);
  if (!(o.discountRate >= 0) || !Number.isFinite(o.discountRate)) throw new DataError(`discount rate must be ≥ 0 (${o.discountRate})`);
  const margin = o.margin ?? 1;
  if (!(margin >= 0) || !Number.isFinite(margin)) throw new DataError(`margin must be ≥ 0 (${margin})`);
  const ppm = o.periodsPerMonth ?? PERIODS_PER_MONTH.week;
  if (!(ppm > 0)) throw new DataError(`periods per month must be > 0 (${ppm})`);
  return { months: o.months, discountRate: o.discountRate, margin, periodsPerMonth: ppm };
}

/**
 * Per distinct (x, T) pair: Σ_m (G(t_m) − G(t_{m−1}))/(1+d)^m where G is the expected
 * number of purchases given alive. CLV of a row = margin × E[M] × P(alive) × this.
 */
export function discountedPurchaseFactorPairs(params: BgNbdParams, table: RfmTable, options: ClvOptions): Float64Array {
  const o = checkOptions(options);
  assertBgNbdParams(params);
  const H = o.months;
  const horizons = new Float64Array(H);
  const disc = new Float64Array(H);
  for (let m = 1; m <= H; m++) {
    horizons[m - 1] = m * o.periodsPerMonth;
    disc[m - 1] = Math.pow(1 + o.discountRate, -m);
  }
  // The discounted sum is itself an analytic function of ln(α+T) for each x, so it is
  // interpolated as one function (one series evaluation per (x, T) pair, not one per month).
  const factor = (post: BgNbdParams): number => {
    let prev = 0;
    let sum = 0;
    for (let m = 0; m < H; m++) {
      const cur = expectedPurchasesNewCustomer(post, horizons[m]);
      // E[X(t)] is non-decreasing in t; guard against rounding in the last digits
      if (cur > prev) {
        sum += (cur - prev) * disc[m];
        prev = cur;
      }
    }
    return sum;
  };
  return pairFunctionValues(params, table, [factor]);
}

export interface ClvResult {
  /** per customer */
  clv: Float64Array;
  expectedSpend: Float64Array;
  pAlive: Float64Array;
}

/**
 * CLV for every customer. `monetary` is the mean repeat spend (0 for x = 0).
 * Pass a prepared table to reuse compression across steps.
 */
export function customerLifetimeValue(
  bgnbd: BgNbdParams,
  gammaGamma: GammaGammaParams,
  data: { frequency: NumArray; recency: NumArray; T: NumArray; monetary: NumArray; table?: RfmTable },
  options: ClvOptions,
): ClvResult {
  const table = data.table ?? prepareRfm(data.frequency, data.recency, data.T);
  const o = checkOptions(options);
  const paRows = probabilityAliveRows(bgnbd, table);
  const fac = discountedPurchaseFactorPairs(bgnbd, table, o);
  const spend = expectedAverageSpendBatch(gammaGamma, data.frequency, data.monetary);
  const n = table.n;
  const clv = new Float64Array(n);
  const pAlive = new Float64Array(n);
  const { index, pairIndex } = table;
  for (let i = 0; i < n; i++) {
    const row = index[i];
    const pa = paRows[row];
    pAlive[i] = pa;
    clv[i] = o.margin * spend[i] * pa * fac[pairIndex[row]];
  }
  return { clv, expectedSpend: spend, pAlive };
}
