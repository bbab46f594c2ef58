import { describe, expect, it } from 'vitest';
import { compareProportions } from '../../../shared/stats/proportions.ts';
import { binomialDraw, bootstrapDifferenceOfMeans, bootstrapDifferenceOfProportions } from '../../../shared/stats/bootstrap.ts';
import { Rng } from '../../../shared/clv/simulate.ts';

describe('compareProportions', () => {
  // Agresti, An Introduction to Categorical Data Analysis (2nd ed., 2007), Table 2.3 and §2.2:
  // the Physicians' Health Study, myocardial infarction in 189 of 11,034 on placebo and 104 of
  // 11,037 on aspirin. Agresti gives the difference 0.0077 with 95 % CI (0.005, 0.011) and the
  // relative risk 1.82 with 95 % CI (1.43, 2.30) (the log-scale interval, (1.433, 2.306) unrounded). The pooled z (hand computation):
  // p = 293/22071, SE = √(p(1 − p)(1/11034 + 1/11037)) = 0.0015408, z = 0.0077060 / 0.0015408 = 5.001
  // (z² = 25.01, Pearson's X² of the table).
  const r = compareProportions(189, 11034, 104, 11037);

  it('gives the difference and its Wald interval', () => {
    expect(r.difference).toBeCloseTo(0.0077, 4);
    expect(r.differenceInterval.low).toBeCloseTo(0.0047, 4);
    expect(r.differenceInterval.high).toBeCloseTo(0.0107, 4);
    expect(r.standardError).toBeCloseTo(0.00154, 5);
  });

  it('gives the relative risk, its log-scale interval and the relative lift', () => {
    expect(r.relativeRisk).toBeCloseTo(1.818, 3);
    expect(r.relativeRiskInterval!.low).toBeCloseTo(1.43, 2);
    expect(r.relativeRiskInterval!.high).toBeCloseTo(2.306, 3);
    expect(r.relativeLift).toBeCloseTo(0.818, 3);
    expect(r.relativeLiftInterval!.low).toBeCloseTo(0.43, 2);
  });

  it('gives the pooled z test and its p-value', () => {
    expect(r.z).toBeCloseTo(5.0014, 3);
    expect(r.z ** 2).toBeCloseTo(25.01, 1);
    expect(r.pValue).toBeGreaterThan(5e-7);
    expect(r.pValue).toBeLessThan(6e-7);
  });

  it('gives p = 1 for equal proportions and no relative interval without events', () => {
    expect(compareProportions(10, 100, 10, 100).pValue).toBeCloseTo(1, 12);
    const none = compareProportions(0, 50, 3, 50);
    expect(none.relativeRiskInterval).toBeUndefined();
    expect(none.relativeRisk).toBe(0);
    expect(Number.isNaN(compareProportions(0, 50, 0, 50).pValue)).toBe(true);
  });

  it('refuses impossible counts', () => {
    expect(() => compareProportions(5, 4, 1, 10)).toThrow(RangeError);
    expect(() => compareProportions(1, 0, 1, 10)).toThrow(RangeError);
    expect(() => compareProportions(1.5, 10, 1, 10)).toThrow(RangeError);
  });
});

describe('bootstrap intervals', () => {
  it('is the same for the same seed and close to the Wald interval for large groups', () => {
    const a = bootstrapDifferenceOfProportions(300, 2000, 360, 2000, { seed: 7 });
    expect(bootstrapDifferenceOfProportions(300, 2000, 360, 2000, { seed: 7 })).toEqual(a);
    expect(bootstrapDifferenceOfProportions(300, 2000, 360, 2000, { seed: 8 })).not.toEqual(a);
    const w = compareProportions(300, 2000, 360, 2000);
    expect(a.low).toBeCloseTo(w.differenceInterval.low, 2);
    expect(a.high).toBeCloseTo(w.differenceInterval.high, 2);
  });

  it('draws binomials with the right mean and variance', () => {
    const rng = new Rng(11);
    const draws = Array.from({ length: 20000 }, () => binomialDraw(rng, 200, 0.15));
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    const variance = draws.reduce((s, x) => s + (x - mean) ** 2, 0) / (draws.length - 1);
    // np = 30, np(1 − p) = 25.5; standard errors 0.036 and 0.26.
    expect(mean).toBeCloseTo(30, 0);
    expect(Math.abs(variance - 25.5)).toBeLessThan(1);
    expect(binomialDraw(rng, 50, 0)).toBe(0);
    expect(binomialDraw(rng, 50, 1)).toBe(50);
  });

  it('resamples values for a difference of means', () => {
    const a = Array.from({ length: 400 }, (_, i) => (i % 10) + 1); // mean 5.5, sd 2.87
    const b = Array.from({ length: 400 }, (_, i) => i % 10); // mean 4.5
    const ci = bootstrapDifferenceOfMeans(a, b, { seed: 3 });
    // Normal theory (hand computation): 1 ± 1.96·√(2·8.25/400) = 1 ± 0.398.
    expect(ci.low).toBeCloseTo(0.6, 1);
    expect(ci.high).toBeCloseTo(1.4, 1);
    expect(() => bootstrapDifferenceOfMeans([], b)).toThrow(RangeError);
  });
});
