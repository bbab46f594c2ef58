/**
 * Acceptance: the CDNOW sample (2,357 customers, 39-week calibration) reproduces the
 * published BG/NBD and Gamma-Gamma parameters and single-customer checks
 * (/work/shared/datasets/cdnow/README.md) to 3 significant figures.
 */
import { describe, expect, it } from 'vitest';
import {
  expectedAverageSpend,
  expectedPurchases,
  fitBgNbd,
  fitGammaGamma,
  holdoutComparison,
  parseDay,
  summarizeTransactions,
} from '../../shared/clv/index.ts';
import { readTransactions } from '../../cli/io.ts';
import { agreesToSigFigs, cdnowSampleAsCsv, loadCdnowSummary, rel, sig } from './helpers.ts';

const summary = loadCdnowSummary();

describe('CDNOW: BG/NBD', () => {
  const fit = fitBgNbd(summary);
  it('matches the published parameters r=0.243 α=4.414 a=0.793 b=2.426 to 3 s.f.', () => {
    const published = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
    for (const k of ['r', 'alpha', 'a', 'b'] as const) expect(agreesToSigFigs(fit[k], published[k]), k).toBe(true);
    expect(sig(fit.r)).toBe(0.243);
    expect(sig(fit.alpha)).toBe(4.41); // published 4.414
    expect(sig(fit.a)).toBe(0.793);
    expect(sig(fit.b)).toBe(2.43); // published 2.426
    expect(rel(fit.alpha, 4.414)).toBeLessThan(5e-4);
    expect(rel(fit.b, 2.426)).toBeLessThan(5e-4);
  });
  it('log-likelihood −9582.4', () => {
    expect(fit.logLikelihood).toBeCloseTo(-9582.43, 1);
  });
  it('reports convergence and standard errors (lifetimes: 0.0126, 0.378, 0.186, 0.705)', () => {
    expect(fit.diagnostics.converged).toBe(true);
    expect(fit.standardErrors.r).toBeCloseTo(0.0126, 3);
    expect(fit.standardErrors.alpha).toBeCloseTo(0.378, 2);
    expect(fit.standardErrors.a).toBeCloseTo(0.186, 2);
    expect(fit.standardErrors.b).toBeCloseTo(0.705, 2);
    expect(fit.diagnostics.distinctRows).toBeLessThan(summary.T.length);
  });
  it('E[X(39)] for x=2, t_x=30.43, T=38.86 is 1.226', () => {
    expect(sig(expectedPurchases(fit, 39, 2, 30.43, 38.86), 4)).toBe(1.226);
    // with the published (rounded) parameters too
    expect(expectedPurchases({ r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }, 39, 2, 30.43, 38.86)).toBeCloseTo(1.226, 2);
  });
});

describe('CDNOW: Gamma-Gamma', () => {
  const gg = fitGammaGamma(summary.frequency, summary.monetary);
  it('matches p=6.25 q=3.74 γ=15.44 to 3 s.f.', () => {
    expect(agreesToSigFigs(gg.p, 6.25)).toBe(true);
    expect(agreesToSigFigs(gg.q, 3.74)).toBe(true);
    expect(agreesToSigFigs(gg.gamma, 15.44)).toBe(true);
    expect(sig(gg.p)).toBe(6.25);
    expect(sig(gg.q)).toBe(3.74);
    expect(sig(gg.gamma)).toBe(15.4);
    expect(rel(gg.gamma, 15.44)).toBeLessThan(1e-3);
    expect(gg.diagnostics.repeatBuyers).toBe(946);
    expect(gg.logLikelihood).toBeCloseTo(-4055.92, 1);
  });
  it('E[M] for the first 10 customers matches Hardie note 025 to 3 s.f.', () => {
    const published = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17];
    for (let i = 0; i < 10; i++) {
      const m = expectedAverageSpend(gg, summary.frequency[i], summary.monetary[i]);
      expect(agreesToSigFigs(m, published[i])).toBe(true);
      expect(Math.abs(m - published[i])).toBeLessThan(0.015);
    }
  });
  it('reports the frequency/spend correlation (weak on CDNOW, no warning)', () => {
    expect(Math.abs(gg.frequencySpendCorrelation)).toBeLessThan(0.3);
    expect(gg.warnings).toEqual([]);
  });
});

describe('CDNOW: from the raw transaction log', () => {
  const file = cdnowSampleAsCsv();
  const tx = readTransactions(file, false);
  const s = summarizeTransactions(tx, { calibrationEnd: parseDay('1997-09-30'), period: 'week', holdoutEnd: parseDay('1998-06-30') });

  it('reproduces the published summary (x exactly, t_x, T and z̄ to the file rounding)', () => {
    expect(tx.day.length).toBe(6919);
    expect(s.customerId.length).toBe(2357);
    const byId = new Map(s.customerId.map((id, i) => [Number(id), i]));
    let repeat = 0;
    for (let k = 0; k < summary.id.length; k++) {
      const i = byId.get(summary.id[k])!;
      expect(s.frequency[i]).toBe(summary.frequency[k]);
      expect(Math.abs(s.recency[i] - summary.recency[k])).toBeLessThan(0.0051);
      expect(Math.abs(s.T[i] - summary.T[k])).toBeLessThan(0.0051);
      expect(Math.abs(s.monetary[i] - summary.monetary[k])).toBeLessThan(0.0051);
      repeat += s.frequency[i];
    }
    expect(repeat).toBe(2457);
    let hold = 0;
    for (const h of s.holdoutFrequency!) hold += h;
    expect(hold).toBe(1882);
    expect(s.holdoutLength).toBe(39);
  });

  it('fits the published parameters from transactions', () => {
    const fit = fitBgNbd(s);
    expect([sig(fit.r), sig(fit.alpha), sig(fit.a), sig(fit.b)]).toEqual([0.243, 4.41, 0.793, 2.43]);
    const gg = fitGammaGamma(s.frequency, s.monetary);
    expect([sig(gg.p), sig(gg.q), sig(gg.gamma)]).toEqual([6.25, 3.74, 15.4]);
  });

  it('holdout check: predictions per calibration-frequency bucket', () => {
    const fit = fitBgNbd(s);
    const rep = holdoutComparison(fit, { frequency: s.frequency, recency: s.recency, T: s.T, holdoutFrequency: s.holdoutFrequency! }, 39);
    expect(rep.actualTotal).toBe(1882);
    expect(rep.buckets.map((b) => b.bucket)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7+']);
    // the model tracks the bucket means (FHL 2005 fig. 4): within 0.4 purchases per customer
    for (const b of rep.buckets) expect(Math.abs(b.predictedMean - b.actualMean)).toBeLessThan(0.4);
    expect(Math.abs(rep.relativeError)).toBeLessThan(0.15);
  });
});
