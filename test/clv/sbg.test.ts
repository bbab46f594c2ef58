/** sBG on the Fader & Hardie (2007) "regular" and "high end" data. */
import { describe, expect, it } from 'vitest';
import {
  DataError,
  fitSbgCohort,
  fitSbgTenures,
  sbgChurnProbability,
  sbgClv,
  sbgDerl,
  sbgRetentionRates,
  sbgSurvival,
  sbgSurvivalCurve,
  simulateTenures,
  subscriptionChurnRisk,
  type Tenure,
} from '../../shared/clv/index.ts';
import { agreesToSigFigs } from './helpers.ts';

// % active at the start of years 0..12 (README of the CDNOW folder / FH 2007 table)
const REGULAR = [100.0, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1, 22.3, 20.7, 19.4, 18.3, 17.3];
const HIGH_END = [100.0, 86.9, 74.3, 65.3, 59.3, 55.1, 51.7, 49.1, 46.8, 44.5, 42.7, 40.9, 39.4];
const counts = (pct: number[]) => pct.slice(0, 8).map((p) => Math.round(p * 10)); // 1,000-customer cohort, years 0–7

function tenuresFromCohort(surv: number[]): Tenure[] {
  const out: Tenure[] = [];
  for (let t = 1; t < surv.length; t++) for (let i = 0; i < surv[t - 1] - surv[t]; i++) out.push({ periods: t, churned: true });
  for (let i = 0; i < surv[surv.length - 1]; i++) out.push({ periods: surv.length - 1, churned: false });
  return out;
}

describe('sBG (Fader & Hardie 2007)', () => {
  it('regular: α=0.704, β=1.182, LL=−1680.27', () => {
    const f = fitSbgCohort(counts(REGULAR));
    expect(agreesToSigFigs(f.alpha, 0.704)).toBe(true);
    expect(agreesToSigFigs(f.beta, 1.182, 4)).toBe(true);
    expect(f.logLikelihood).toBeCloseTo(-1680.27, 1);
    expect(f.diagnostics.converged).toBe(true);
    expect(f.standardErrors.alpha).toBeGreaterThan(0);
  });
  it('high end: α=0.668, β=3.806, LL=−1611.16', () => {
    const f = fitSbgCohort(counts(HIGH_END));
    expect(agreesToSigFigs(f.alpha, 0.668)).toBe(true);
    expect(agreesToSigFigs(f.beta, 3.806, 4)).toBe(true);
    expect(f.logLikelihood).toBeCloseTo(-1611.16, 1);
  });
  it('individual right-censored tenures give the same fit as the cohort counts', () => {
    const c = fitSbgCohort(counts(REGULAR));
    const t = fitSbgTenures(tenuresFromCohort(counts(REGULAR)));
    expect(t.alpha).toBeCloseTo(c.alpha, 6);
    expect(t.beta).toBeCloseTo(c.beta, 6);
  });
  it('projects the holdout years 8–12 closely (within 2 points of the % active, as in the paper)', () => {
    for (const data of [REGULAR, HIGH_END]) {
      const f = fitSbgCohort(counts(data));
      const curve = sbgSurvivalCurve(f, 12);
      for (let t = 8; t <= 12; t++) expect(Math.abs(100 * curve[t] - data[t])).toBeLessThan(2);
    }
  });
  it('survival, retention rates and churn probabilities are consistent', () => {
    const p = { alpha: 0.704, beta: 1.182 };
    const curve = sbgSurvivalCurve(p, 10);
    const rates = sbgRetentionRates(p, 10);
    for (let t = 1; t <= 10; t++) {
      expect(curve[t]).toBeCloseTo(sbgSurvival(p, t), 12);
      expect(curve[t] / curve[t - 1]).toBeCloseTo(rates[t - 1], 12);
      // churn at the next decision after t−1 renewals
      expect(sbgChurnProbability(p, t - 1)).toBeCloseTo(1 - rates[t - 1], 12);
    }
    for (let t = 1; t < 10; t++) expect(rates[t]).toBeGreaterThan(rates[t - 1]);
    expect(sbgChurnProbability(p, 3, 4)).toBeCloseTo(1 - sbgSurvival(p, 7) / sbgSurvival(p, 3), 12);
    expect(subscriptionChurnRisk(p, 2)).toBe(sbgChurnProbability(p, 2));
  });
  it('DERL equals the brute-force discounted sum and CLV = margin × DERL', () => {
    const p = { alpha: 0.668, beta: 3.806 };
    for (const [n, d] of [[0, 0.1], [4, 0.1], [10, 0.05], [2, 0.01]] as const) {
      let s = 0;
      const s0 = sbgSurvival(p, n);
      for (let k = 0; k < 200_000; k++) {
        const term = (sbgSurvival(p, n + 1 + k) / s0) * Math.pow(1 + d, -k);
        s += term;
        if (term < 1e-16) break;
      }
      // the tail of a slowly-decaying series: accept 1e-6
      expect(Math.abs(sbgDerl(p, n, d) - s) / s).toBeLessThan(1e-6);
    }
    expect(sbgClv(p, 3, 0.1, 50)).toBeCloseTo(50 * sbgDerl(p, 3, 0.1), 10);
    // DERL(0) at d = 10% of the FH 2007 segments' parameters. Not a figure printed in the papers:
    // values from a direct summation of S(1+k)/(1+d)^k to 1e-18 done outside this code (Python, lgamma).
    expect(sbgDerl({ alpha: 0.704, beta: 1.182 }, 0, 0.1)).toBeCloseTo(2.96466214613, 9);
    expect(sbgDerl({ alpha: 0.668, beta: 3.806 }, 0, 0.1)).toBeCloseTo(5.41485604837, 9);
  });
  it('recovers parameters from simulated censored tenures', () => {
    const truth = { alpha: 0.7, beta: 1.2 };
    const f = fitSbgTenures(simulateTenures(truth, 20_000, 8, 7));
    expect(Math.abs(f.alpha - truth.alpha)).toBeLessThan(4 * f.standardErrors.alpha);
    expect(Math.abs(f.beta - truth.beta)).toBeLessThan(4 * f.standardErrors.beta);
  });
  it('rejects bad input', () => {
    expect(() => fitSbgCohort([1000, 1100])).toThrow(DataError);
    expect(() => fitSbgCohort([1000, -1])).toThrow(DataError);
    expect(() => fitSbgCohort([1000])).toThrow(DataError);
    expect(() => fitSbgCohort([1000, 1000, 1000])).toThrow(/no customer churned/);
    expect(() => fitSbgTenures([{ periods: 0, churned: true }])).toThrow(DataError);
    expect(() => sbgDerl({ alpha: 1, beta: 1 }, 1, 0)).toThrow(DataError);
  });
});
