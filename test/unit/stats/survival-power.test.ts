import { describe, expect, it } from 'vitest';
import { kaplanMeier, survivalAt } from '../../../shared/stats/kaplan-meier.ts';
import { minimumDetectableEffect, periodsUntilDetectable } from '../../../shared/stats/power.ts';
import { breakEven } from '../../../shared/stats/break-even.ts';

describe('kaplanMeier', () => {
  // Freireich et al. (1963), the 6-MP group of the leukaemia remission trial (weeks; * censored):
  // 6 6 6 6* 7 9* 10 10* 11* 13 16 17* 19* 20* 22 23 25* 32* 32* 34* 35*.
  // Kleinbaum & Klein, Survival Analysis (3rd ed., 2012), ch. 2, and R's survfit give:
  // t 6: S 0.857 SE 0.0764 · 7: 0.807 0.0869 · 10: 0.753 0.0963 · 13: 0.690 0.1068 ·
  // 16: 0.627 0.1141 · 22: 0.538 0.1282 · 23: 0.448 0.1346; median 23 weeks.
  const weeks = [6, 6, 6, -6, 7, -9, 10, -10, -11, 13, 16, -17, -19, -20, 22, 23, -25, -32, -32, -34, -35];
  const counts = weeks.map((w) => ({ time: Math.abs(w), events: w > 0 ? 1 : 0, censored: w < 0 ? 1 : 0 }));
  const curve = kaplanMeier(counts);

  it('matches the textbook curve, its Greenwood errors and median', () => {
    const expected: [number, number, number, number][] = [
      [6, 21, 0.857, 0.0764],
      [7, 17, 0.807, 0.0869],
      [10, 15, 0.753, 0.0963],
      [13, 12, 0.69, 0.1068],
      [16, 11, 0.627, 0.1141],
      [22, 7, 0.538, 0.1282],
      [23, 6, 0.448, 0.1346],
    ];
    expect(curve.steps.map((s) => [s.time, s.atRisk, Number(s.survival.toFixed(3)), Number(s.standardError.toFixed(4))])).toEqual(expected);
    expect(curve.median).toBe(23);
    expect(curve.total).toBe(21);
    expect(curve.events).toBe(9);
    expect(survivalAt(curve, 5)).toBe(1);
    expect(survivalAt(curve, 12)).toBeCloseTo(0.753, 3);
  });

  it('gives a log-scale interval (R survfit conf.type "log"): at 6 weeks 0.857 · exp(±1.96 · 0.0891)', () => {
    // √(3 / (21 · 18)) = 0.0891 (hand computation): (0.720, 1.000).
    expect(curve.steps[0]!.low).toBeCloseTo(0.72, 2);
    expect(curve.steps[0]!.high).toBe(1);
  });

  it('gives the same curve from counts in any order or split', () => {
    const split = [...counts].reverse().flatMap((c) => [c, { time: c.time, events: 0, censored: 0 }]);
    expect(kaplanMeier(split)).toEqual(curve);
  });

  it('has no median when the curve stays above one half, and goes to zero when all end', () => {
    expect(kaplanMeier([{ time: 1, events: 1, censored: 9 }]).median).toBeUndefined();
    const all = kaplanMeier([{ time: 1, events: 2, censored: 0 }, { time: 2, events: 2, censored: 0 }]);
    expect(all.steps.at(-1)!.survival).toBe(0);
    expect(all.median).toBe(1);
  });
});

describe('power', () => {
  // Fleiss et al. (2003) §4.2 / Lehr's rule: 393 per group detect 0.5 → 0.4 (δ = 0.1) at α = 0.05, power 0.8:
  // n = (1.95996 + 0.84162)² · 2 · 0.25 / 0.01 = 392.4.
  it('gives the minimum detectable effect', () => {
    expect(minimumDetectableEffect(0.5, 393, 393)).toBeCloseTo(0.09993, 4);
    expect(minimumDetectableEffect(0.5, 392, 392)).toBeGreaterThan(0.1);
    expect(minimumDetectableEffect(0.2, 0, 100)).toBe(Infinity);
  });

  it('counts the periods until an effect is detectable', () => {
    expect(periodsUntilDetectable(0.1, 0.5, { n1: 393, n2: 393 }, { n1: 50, n2: 50 })).toBe(0);
    // 100 a group now, 50 more a period: 393 needs ceil(293 / 50) = 6 more periods.
    expect(periodsUntilDetectable(0.1, 0.5, { n1: 100, n2: 100 }, { n1: 50, n2: 50 })).toBe(6);
    expect(periodsUntilDetectable(0.1, 0.5, { n1: 10, n2: 10 }, { n1: 0, n2: 0 })).toBeUndefined();
  });
});

describe('breakEven', () => {
  const reduction = { estimate: 0.05, low: 0.01, high: 0.09 };
  it('values the customers kept against the cost (hand computation)', () => {
    // 200 contacted, 5 points less churn: 10 kept (2 to 18), at 400 each 4,000 (800 to 7,200), cost 200 × 5 = 1,000.
    const b = breakEven({ contacted: 200, churnReduction: reduction, valuePerCustomer: 400, costPerContact: 5 });
    expect(b.retained.estimate).toBeCloseTo(10, 10);
    expect(b.valueRetained.low).toBeCloseTo(800, 10);
    expect(b.net.estimate).toBeCloseTo(3000, 10);
    expect(b.net.low).toBeCloseTo(-200, 10);
    expect(b.breakEvenReduction).toBeCloseTo(0.0125, 10);
    expect(b.breakEvenCostPerContact).toBeCloseTo(20, 10);
    expect(b.verdict).toBe('not yet measurable');
  });

  it('pays when the whole interval is above the cost, does not when it is all below', () => {
    expect(breakEven({ contacted: 200, churnReduction: reduction, valuePerCustomer: 400, costPerContact: 1 }).verdict).toBe('pays');
    expect(breakEven({ contacted: 200, churnReduction: reduction, valuePerCustomer: 400, costPerContact: 40 }).verdict).toBe('does not pay');
    expect(breakEven({ contacted: 0, churnReduction: reduction, valuePerCustomer: 400, costPerContact: 1 }).verdict).toBe('not yet measurable');
    expect(breakEven({ contacted: 10, churnReduction: { estimate: NaN, low: NaN, high: NaN }, valuePerCustomer: 400, costPerContact: 1 }).verdict).toBe('not yet measurable');
  });
});
