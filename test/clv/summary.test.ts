import { describe, expect, it } from 'vitest';
import { assignValueTiers, customerLifetimeValue, expectedPurchases, parseDay, prepareRfm, probabilityAlive, scoreCustomers, summarizeTransactions } from '../../shared/clv/index.ts';

describe('summaries from a transaction log', () => {
  const d = parseDay;
  const tx = {
    customerId: ['a', 'a', 'a', 'a', 'b', 'c', 'c', 'd'],
    day: [d('2020-01-01'), d('2020-01-01'), d('2020-01-15'), d('2020-02-10'), d('2020-01-10'), d('2020-01-05'), d('2020-01-29'), d('2020-02-20')],
    amount: [10, 5, 20, 99, 7, 3, 9, 4],
  };
  it('counts one purchase per customer-day, excludes the first purchase from spend, and counts the holdout', () => {
    const s = summarizeTransactions(tx, { calibrationEnd: d('2020-01-31'), period: 'week', holdoutEnd: d('2020-02-29') });
    expect(s.customerId).toEqual(['a', 'b', 'c']);
    expect(s.customersAfterCalibration).toBe(1);
    expect(Array.from(s.frequency)).toEqual([1, 0, 1]);
    expect(s.recency[0]).toBeCloseTo(2, 12);
    expect(s.T[0]).toBeCloseTo(30 / 7, 12);
    expect(Array.from(s.monetary)).toEqual([20, 0, 9]);
    expect(Array.from(s.holdoutFrequency!)).toEqual([1, 0, 0]);
    expect(s.holdoutLength).toBeCloseTo(29 / 7, 12);
    expect(s.recency[2]).toBeCloseTo(24 / 7, 12);
  });
  it('day periods', () => {
    const s = summarizeTransactions(tx, { calibrationEnd: d('2020-01-31'), period: 'day' });
    expect(s.T[0]).toBe(30);
    expect(s.recency[0]).toBe(14);
  });
});

describe('compression', () => {
  it('merges identical (x, t_x, T) rows and expands back', () => {
    const t = prepareRfm([0, 0, 1, 1, 1], [0, 0, 2, 2, 3], [5, 5, 5, 5, 5]);
    expect(t.rows).toBe(3);
    expect(Array.from(t.weight)).toEqual([2, 2, 1]);
    expect(Array.from(t.index)).toEqual([0, 0, 1, 1, 2]);
    expect(t.pairX.length).toBe(2);
  });
});

describe('scores', () => {
  const P = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
  const G = { p: 6.25, q: 3.74, gamma: 15.44 };
  const data = { frequency: [0, 2, 5, 1, 10], recency: [0, 30.43, 10, 38, 38.5], T: [38.86, 38.86, 38.86, 38.86, 38.86], monetary: [0, 22.35, 40, 11.77, 30] };
  it('batch scores equal the single-customer functions', () => {
    const s = scoreCustomers(P, G, data, { months: 12, discountRate: 0.01, margin: 0.3 });
    for (let i = 0; i < 5; i++) {
      const [x, tx, T] = [data.frequency[i], data.recency[i], data.T[i]];
      expect(s.pAlive[i]).toBeCloseTo(probabilityAlive(P, x, tx, T), 12);
      expect(s.expectedPurchases[i]).toBeCloseTo(expectedPurchases(P, s.purchaseHorizon, x, tx, T), 10);
    }
    const c = customerLifetimeValue(P, G, data, { months: 12, discountRate: 0.01, margin: 0.3 });
    expect(Array.from(s.clv)).toEqual(Array.from(c.clv));
    // CLV with no discounting = margin × E[M] × E[X(12 months)]
    const c0 = customerLifetimeValue(P, G, data, { months: 12, discountRate: 0, margin: 1 });
    for (let i = 0; i < 5; i++) expect(c0.clv[i]).toBeCloseTo(c0.expectedSpend[i] * expectedPurchases(P, 12 * (365.25 / 12 / 7), data.frequency[i], data.recency[i], data.T[i]), 8);
  });
  it('value tiers: quantiles of CLV, lapsed by P(alive)', () => {
    const clv = Array.from({ length: 100 }, (_, i) => i);
    const pa = clv.map((i) => (i === 99 ? 0.1 : 0.9));
    const t = assignValueTiers(clv, pa);
    expect(t[99]).toBe('lapsed');
    expect(t.filter((x) => x === 'top').length).toBe(9);
    expect(t[90]).toBe('top');
    expect(t[89]).toBe('high');
    expect(t[70]).toBe('high');
    expect(t[69]).toBe('medium');
    expect(t[40]).toBe('medium');
    expect(t[39]).toBe('low');
  });
});

describe('batch expectations for continuous-time data', () => {
  it('the Chebyshev-in-ln(α+T) path agrees with direct ₂F₁ evaluation to 1e-10', async () => {
    const { simulateCustomers, conditionalAliveExpectationPairs, expectedPurchasesNewCustomer } = await import('../../shared/clv/index.ts');
    for (const P of [
      { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
      { r: 2, alpha: 0.05, a: 0.3, b: 5 },
      { r: 0.5, alpha: 30, a: 3, b: 0.5 },
    ]) {
      const data = simulateCustomers({ customers: 30_000, bgnbd: P, seed: 5, calibrationPeriods: 52, cohortPeriods: 52 });
      const table = prepareRfm(data.frequency, data.recency, data.T);
      const hs = [4.35, 13, 52, 104];
      const g = conditionalAliveExpectationPairs(P, table, hs);
      for (let p = 0; p < table.pairX.length; p += 7) {
        const x = table.xValues[table.pairX[p]];
        const T = table.TValues[table.pairT[p]];
        for (let h = 0; h < hs.length; h++) {
          const d = expectedPurchasesNewCustomer({ r: P.r + x, alpha: P.alpha + T, a: P.a, b: P.b + x }, hs[h]);
          expect(Math.abs(d - g[p * hs.length + h])).toBeLessThanOrEqual(1e-10 * Math.max(1, Math.abs(d)));
        }
      }
    }
  });
});
