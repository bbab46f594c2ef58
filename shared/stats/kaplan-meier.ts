/**
 * The Kaplan–Meier product-limit estimate of a survival curve from counts at each time (the
 * nightly run merges counts, never rows): at each time with deaths, S(t) = Π (1 − dᵢ/nᵢ),
 * where nᵢ is the number still at risk just before tᵢ (those censored at tᵢ count as at risk,
 * the usual convention). Greenwood's standard error, a log-scale 95 % interval (R survfit's
 * default), and the median: the first time at which S(t) ≤ 0.5.
 * Kaplan & Meier (1958); Kleinbaum & Klein, Survival Analysis (3rd ed., 2012), ch. 2.
 */
import { zOf } from './normal.ts';

/** What happened at one time: `events` ended (churned), `censored` were still there when last seen. */
export type SurvivalCount = { time: number; events: number; censored: number };

export type SurvivalStep = { time: number; atRisk: number; events: number; censored: number; survival: number; standardError: number; low: number; high: number };

export type SurvivalCurve = { total: number; events: number; steps: SurvivalStep[]; median?: number };

/** Adds up counts at the same time and sorts by time. */
export function collapseCounts(counts: readonly SurvivalCount[]): SurvivalCount[] {
  const byTime = new Map<number, SurvivalCount>();
  for (const c of counts) {
    if (!(c.events >= 0 && c.censored >= 0 && Number.isFinite(c.time))) throw new RangeError(`bad survival count at time ${c.time}`);
    const held = byTime.get(c.time);
    byTime.set(c.time, held ? { time: c.time, events: held.events + c.events, censored: held.censored + c.censored } : { ...c });
  }
  return [...byTime.values()].sort((a, b) => a.time - b.time);
}

/** The curve's steps: one at each time with an event (the censored leave the risk set after their time). */
export function kaplanMeier(counts: readonly SurvivalCount[], confidence = 0.95): SurvivalCurve {
  const rows = collapseCounts(counts);
  const z = zOf(confidence);
  let atRisk = rows.reduce((s, r) => s + r.events + r.censored, 0);
  const total = atRisk;
  let survival = 1;
  let greenwood = 0;
  let events = 0;
  const steps: SurvivalStep[] = [];
  for (const r of rows) {
    if (r.events > 0) {
      survival *= 1 - r.events / atRisk;
      greenwood += atRisk > r.events ? r.events / (atRisk * (atRisk - r.events)) : Infinity;
      const standardError = survival * Math.sqrt(greenwood);
      const spread = z * Math.sqrt(greenwood);
      const low = survival > 0 && Number.isFinite(spread) ? survival * Math.exp(-spread) : 0;
      const high = survival > 0 && Number.isFinite(spread) ? Math.min(1, survival * Math.exp(spread)) : 1;
      steps.push({ time: r.time, atRisk, events: r.events, censored: r.censored, survival, standardError: Number.isFinite(standardError) ? standardError : 0, low, high });
      events += r.events;
    }
    atRisk -= r.events + r.censored;
  }
  const median = steps.find((s) => s.survival <= 0.5 + 1e-12)?.time;
  return { total, events, steps, ...(median !== undefined && { median }) };
}

/** S(t) of a curve: the survival after the last step at or before t (1 before the first). */
export function survivalAt(curve: SurvivalCurve, t: number): number {
  let s = 1;
  for (const step of curve.steps) {
    if (step.time > t) break;
    s = step.survival;
  }
  return s;
}
