/**
 * A customer's value under the fitted models, shared by the fit step (for the tier cut
 * points) and the scorer, so both compute CLV the same way.
 *
 * Ad-hoc buyers: shared/clv's CLV (BG/NBD × Gamma-Gamma, discounted monthly over the
 * horizon, periods in weeks). Subscribers: the sBG expected payments over the horizon,
 *   CLV = margin × monthly value × Σ_{k=1..H} S(n+k)/S(n) / (1+d)^k,
 * where n is the renewals made, S the sBG survival and d the monthly discount rate
 * (the payment at the k-th coming renewal is made if the customer renews k times).
 */
import { type BgNbdParams, expectedPurchasesNewCustomer } from '../clv/bgnbd.ts';
import { PERIODS_PER_MONTH, customerLifetimeValue } from '../clv/clv.ts';
import type { GammaGammaParams } from '../clv/gamma-gamma.ts';
import type { NumArray } from '../clv/rfm.ts';
import { type SbgParams, sbgChurnProbability } from '../clv/sbg.ts';
import type { ScoringConfig } from './config.ts';

/** Model periods (weeks) per month for ad-hoc buyers. */
export const WEEKS_PER_MONTH = PERIODS_PER_MONTH.week;

export type AdHocData = { frequency: NumArray; recency: NumArray; T: NumArray; monetary: NumArray };

/** CLV, P(alive) and expected spend per purchase day for each customer. */
export function adHocValues(bgnbd: BgNbdParams, gammaGamma: GammaGammaParams, data: AdHocData, clv: ScoringConfig['clv']) {
  return customerLifetimeValue(bgnbd, gammaGamma, data, {
    months: clv.months,
    discountRate: clv.monthlyDiscountRate,
    margin: clv.margin,
    periodsPerMonth: WEEKS_PER_MONTH,
  });
}

/**
 * What an ad-hoc buyer would spend over the horizon if she stays (undiscounted, before
 * margin): expected purchases of a customer alive today (BG/NBD posterior) × expected spend.
 */
export function adHocRetainedSpend(bgnbd: BgNbdParams, frequency: number, T: number, expectedSpend: number, months: number): number {
  const post = { r: bgnbd.r + frequency, alpha: bgnbd.alpha + T, a: bgnbd.a, b: bgnbd.b + frequency };
  return expectedSpend * expectedPurchasesNewCustomer(post, months * WEEKS_PER_MONTH);
}

/** Expected discounted payments over the horizon of a subscriber who has made `renewals` renewals (per unit of monthly value). */
export function subscriberPaymentFactor(sbg: SbgParams, renewals: number, clv: ScoringConfig['clv']): number {
  let sum = 0;
  for (let k = 1; k <= clv.months; k++) sum += (1 - sbgChurnProbability(sbg, renewals, k)) / Math.pow(1 + clv.monthlyDiscountRate, k);
  return sum;
}

export function subscriberClv(sbg: SbgParams, renewals: number, monthlyValue: number, clv: ScoringConfig['clv']): number {
  return clv.margin * monthlyValue * subscriberPaymentFactor(sbg, renewals, clv);
}
