/**
 * The fast path for many distinct rows (continuous purchase times): subsample warm start +
 * Newton polish with the exact Hessian must land on the full-data MLE (the same optimum as
 * plain BFGS on all rows), and the exact Hessians must agree with finite differences of the
 * analytic gradients.
 */
import { describe, expect, it } from 'vitest';
import {
  bgnbdLogLikelihood,
  fitBgNbd,
  fitGammaGamma,
  gammaGammaLogLikelihoodDerivatives,
  numericHessian,
  prepareRfm,
  simulateCustomers,
  trigamma,
} from '../../shared/clv/index.ts';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('trigamma', () => {
  it('matches known values and the recurrence', () => {
    expect(rel(trigamma(1), Math.PI ** 2 / 6)).toBeLessThan(1e-14);
    expect(rel(trigamma(0.5), Math.PI ** 2 / 2)).toBeLessThan(1e-14);
    for (const x of [1e-3, 0.243, 2.5, 9.99, 10, 37.2, 1e4]) expect(rel(trigamma(x), trigamma(x + 1) + 1 / (x * x))).toBeLessThan(1e-14);
  });
});

describe('exact Hessians agree with finite differences of the analytic gradient', () => {
  const data = simulateCustomers({
    customers: 20_000,
    bgnbd: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
    gammaGamma: { p: 6.25, q: 3.74, gamma: 15.44 },
    seed: 11,
    calibrationPeriods: 39,
    cohortPeriods: 12,
  });
  const maxRelDiff = (A: Float64Array, B: Float64Array) => {
    let m = 0;
    for (let i = 0; i < A.length; i++) m = Math.max(m, Math.abs(A[i] - B[i]) / Math.max(1, Math.abs(B[i])));
    return m;
  };
  it('BG/NBD (continuous and day-resolution data)', () => {
    for (const dpp of [undefined, 7]) {
      const d = dpp ? simulateCustomers({ customers: 20_000, bgnbd: { r: 0.5, alpha: 3, a: 1.3, b: 4 }, seed: 12, daysPerPeriod: dpp }) : data;
      const table = prepareRfm(d.frequency, d.recency, d.T);
      const P = { r: 0.3, alpha: 5, a: 0.7, b: 2.1 };
      const H = new Float64Array(16);
      const g = new Float64Array(4);
      const g0 = new Float64Array(4);
      expect(bgnbdLogLikelihood(table, P, g, H)).toBe(bgnbdLogLikelihood(table, P, g0));
      expect(Array.from(g)).toEqual(Array.from(g0));
      const Hn = numericHessian(
        (t, out) => bgnbdLogLikelihood(table, { r: Math.exp(t[0]), alpha: Math.exp(t[1]), a: Math.exp(t[2]), b: Math.exp(t[3]) }, out),
        [P.r, P.alpha, P.a, P.b].map(Math.log),
      );
      expect(maxRelDiff(H, Hn)).toBeLessThan(1e-7);
    }
  });
  it('Gamma-Gamma', () => {
    const P = { p: 5, q: 3, gamma: 12 };
    const H = new Float64Array(9);
    gammaGammaLogLikelihoodDerivatives(P, data.frequency, data.monetary, new Float64Array(3), H);
    const Hn = numericHessian(
      (t, out) => gammaGammaLogLikelihoodDerivatives({ p: Math.exp(t[0]), q: Math.exp(t[1]), gamma: Math.exp(t[2]) }, data.frequency, data.monetary, out, new Float64Array(9)),
      [P.p, P.q, P.gamma].map(Math.log),
    );
    expect(maxRelDiff(H, Hn)).toBeLessThan(1e-7);
  });
});

describe('many distinct rows: subsample warm start + Newton polish reaches the full-data MLE', () => {
  const data = simulateCustomers({
    customers: 300_000,
    bgnbd: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
    gammaGamma: { p: 6.25, q: 3.74, gamma: 15.44 },
    seed: 21,
    calibrationPeriods: 39,
    cohortPeriods: 12,
  });
  it('BG/NBD: same optimum as BFGS on all rows from the default starts', () => {
    const table = prepareRfm(data.frequency, data.recency, data.T);
    expect(table.rows).toBe(300_000); // continuous times: nothing merges
    const fast = fitBgNbd(table);
    const slow = fitBgNbd(table, { warmStart: false });
    expect(fast.diagnostics.evaluations).toBeLessThan(8); // Newton: a few passes over all rows
    expect(fast.diagnostics.gradientNorm).toBeLessThan(1e-8);
    // the Newton end point is at least as good as the BFGS one (both are the MLE within tolerance)
    expect(fast.logLikelihood).toBeGreaterThanOrEqual(slow.logLikelihood - 1e-6);
    for (const k of ['r', 'alpha', 'a', 'b'] as const) {
      expect(rel(fast[k], slow[k]), k).toBeLessThan(1e-5);
      expect(rel(fast.standardErrors[k], slow.standardErrors[k]), `se ${k}`).toBeLessThan(1e-4);
    }
  });
  it('Gamma-Gamma: same optimum as BFGS on all repeat buyers from the default starts', () => {
    const fast = fitGammaGamma(data.frequency, data.monetary);
    const slow = fitGammaGamma(data.frequency, data.monetary, { warmStart: false });
    expect(fast.diagnostics.repeatBuyers).toBeGreaterThan(100_000); // the warm-start path is taken
    expect(fast.diagnostics.evaluations).toBeLessThan(8);
    expect(fast.logLikelihood).toBeGreaterThanOrEqual(slow.logLikelihood - 1e-6);
    for (const k of ['p', 'q', 'gamma'] as const) {
      expect(rel(fast[k], slow[k]), k).toBeLessThan(1e-5);
      expect(rel(fast.standardErrors[k], slow.standardErrors[k]), `se ${k}`).toBeLessThan(1e-4);
    }
  });
});

describe('CLV factor on continuous-time data (one Chebyshev series for the discounted sum)', () => {
  it('agrees with the direct month-by-month ₂F₁ sum to 1e-10', async () => {
    const { discountedPurchaseFactorPairs, expectedPurchasesNewCustomer, PERIODS_PER_MONTH } = await import('../../shared/clv/index.ts');
    const P = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
    const data = simulateCustomers({ customers: 30_000, bgnbd: P, seed: 8, calibrationPeriods: 39, cohortPeriods: 12 });
    const table = prepareRfm(data.frequency, data.recency, data.T);
    const fac = discountedPurchaseFactorPairs(P, table, { months: 12, discountRate: 0.01 });
    for (let p = 0; p < table.pairX.length; p += 11) {
      const x = table.xValues[table.pairX[p]];
      const post = { r: P.r + x, alpha: P.alpha + table.TValues[table.pairT[p]], a: P.a, b: P.b + x };
      let prev = 0;
      let direct = 0;
      for (let m = 1; m <= 12; m++) {
        const cur = expectedPurchasesNewCustomer(post, m * PERIODS_PER_MONTH.week);
        if (cur > prev) {
          direct += (cur - prev) / 1.01 ** m;
          prev = cur;
        }
      }
      expect(Math.abs(fac[p] - direct)).toBeLessThanOrEqual(1e-10 * Math.max(1, direct));
    }
  });
});
