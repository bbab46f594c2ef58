/**
 * Parameter recovery: 50,000 customers simulated (seeded) from known parameters.
 *
 * Tolerance: each estimate must lie within 4 standard errors (from the Hessian) of the
 * true value. The MLE is asymptotically normal, and with 50,000 customers the Hessian SEs
 * are accurate (checked over 20 seeds: the z-scores average ≈ 0 with unit spread), so a
 * 4-SE band fails by chance with probability ≈ 6e-5 per parameter. We also require the
 * relative error to be under 10%, which the ≈1–5% SEs at this size easily allow but which
 * catches a systematically wrong likelihood or simulator.
 */
import { describe, expect, it } from 'vitest';
import { fitBgNbd, fitGammaGamma, holdoutComparison } from '../../shared/clv/index.ts';
import { simulate } from './helpers.ts';

const TRUE_BG = { r: 0.25, alpha: 4, a: 0.8, b: 2.5 };
const TRUE_GG = { p: 6, q: 4, gamma: 15 };
const data = simulate({ customers: 50_000, bgnbd: TRUE_BG, gammaGamma: TRUE_GG, seed: 20261123, calibrationPeriods: 39, cohortPeriods: 12, holdoutPeriods: 39 });

describe('parameter recovery (50,000 simulated customers)', () => {
  it('BG/NBD', () => {
    const f = fitBgNbd(data);
    for (const k of ['r', 'alpha', 'a', 'b'] as const) {
      expect(Math.abs(f[k] - TRUE_BG[k]), k).toBeLessThan(4 * f.standardErrors[k]);
      expect(Math.abs(f[k] - TRUE_BG[k]) / TRUE_BG[k], k).toBeLessThan(0.1);
    }
  });
  it('Gamma-Gamma', () => {
    const g = fitGammaGamma(data.frequency, data.monetary);
    for (const k of ['p', 'q', 'gamma'] as const) {
      expect(Math.abs(g[k] - TRUE_GG[k]), k).toBeLessThan(4 * g.standardErrors[k]);
      expect(Math.abs(g[k] - TRUE_GG[k]) / TRUE_GG[k], k).toBeLessThan(0.15);
    }
  });
  it('holdout predictions with the true parameters match the simulated holdout (total within 2%)', () => {
    const rep = holdoutComparison(TRUE_BG, { ...data, holdoutFrequency: data.holdoutFrequency! }, 39);
    expect(Math.abs(rep.relativeError)).toBeLessThan(0.02);
    for (const b of rep.buckets) expect(Math.abs(b.predictedMean - b.actualMean)).toBeLessThan(0.1 + 0.1 * b.actualMean);
  });
});
