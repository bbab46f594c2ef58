/**
 * What outreach is worth (seed 002: "Does this justify the extra cost to perform this
 * outreach?"): the customers it kept — the churn reduction per contacted customer times the
 * contacted — valued at their CLV, against the cost of the contacts. The verdict is "pays"
 * only when the whole interval of the net value is above zero, "does not pay" when it is all
 * below, and "not yet measurable" otherwise (or with no one contacted).
 */
import type { Interval } from './proportions.ts';

export type Estimate = Interval & { estimate: number };
export type Verdict = 'pays' | 'does not pay' | 'not yet measurable';

export type BreakEven = {
  contacted: number;
  cost: number;
  /** customers kept: churn reduction × contacted */
  retained: Estimate;
  /** their value: retained × value per retained customer */
  valueRetained: Estimate;
  /** value retained − cost */
  net: Estimate;
  /** the churn reduction per contact at which outreach pays for itself: cost per contact / value per customer */
  breakEvenReduction: number;
  /** the cost per contact at which the measured reduction pays for itself */
  breakEvenCostPerContact: number;
  verdict: Verdict;
};

/**
 * `churnReduction`: control churn − treated churn (a proportion, with its interval);
 * `valuePerCustomer`: what a kept customer is worth (e.g. the treated group's mean CLV).
 */
export function breakEven(input: { contacted: number; churnReduction: Estimate; valuePerCustomer: number; costPerContact: number }): BreakEven {
  const { contacted, churnReduction: r, valuePerCustomer: v, costPerContact: c } = input;
  if (!(contacted >= 0 && c >= 0 && v >= 0)) throw new RangeError('contacted, value and cost must be ≥ 0');
  const scale = (e: Estimate, k: number): Estimate => ({ estimate: e.estimate * k, low: e.low * k, high: e.high * k });
  const retained = scale(r, contacted);
  const valueRetained = scale(retained, v);
  const cost = c * contacted;
  const net = { estimate: valueRetained.estimate - cost, low: valueRetained.low - cost, high: valueRetained.high - cost };
  const measurable = contacted > 0 && [r.estimate, r.low, r.high].every(Number.isFinite);
  const verdict: Verdict = !measurable ? 'not yet measurable' : net.low > 0 ? 'pays' : net.high < 0 ? 'does not pay' : 'not yet measurable';
  return { contacted, cost, retained, valueRetained, net, breakEvenReduction: v > 0 ? c / v : Infinity, breakEvenCostPerContact: r.estimate * v, verdict };
}
