/** Bad data gets a clear error. */
import { describe, expect, it } from 'vitest';
import {
  ConvergenceError,
  DataError,
  adHocChurnRisk,
  assignValueTiers,
  customerLifetimeValue,
  fitBgNbd,
  fitGammaGamma,
  minimizeBFGS,
  parseDay,
  prepareRfm,
  raiseChurnRisk,
  summarizeTransactions,
} from '../../shared/clv/index.ts';

const P = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };

describe('input validation', () => {
  it.each([
    [[-1], [0], [10], /frequency is negative/],
    [[1.5], [2], [10], /whole number/],
    [[NaN], [0], [10], /frequency is not a finite number/],
    [[2], [11], [10], /recency \(11\) is greater than T \(10\)/],
    [[2], [0], [10], /frequency is 2 but recency is 0/],
    [[0], [3], [10], /recency must be 0/],
    [[1], [-1], [10], /recency is negative/],
    [[0], [0], [-2], /T is negative/],
    [['3' as unknown as number], [1], [10], /not a finite number/],
  ])('rejects x=%s t_x=%s T=%s', (x, tx, T, msg) => {
    expect(() => prepareRfm(x, tx, T)).toThrow(DataError);
    expect(() => prepareRfm(x, tx, T)).toThrow(msg);
  });

  it('reports the record index', () => {
    try {
      prepareRfm([0, 1, 2], [0, 1, 30], [10, 10, 10]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DataError);
      expect((e as DataError).index).toBe(2);
      expect((e as Error).message).toMatch(/^record 2:/);
    }
  });

  it('rejects mismatched lengths and empty data', () => {
    expect(() => prepareRfm([1], [1, 2], [3])).toThrow(/same length/);
    expect(() => prepareRfm([], [], [])).toThrow(/no customers/);
  });

  it('BG/NBD needs repeat purchases', () => {
    expect(() => fitBgNbd({ frequency: [0, 0], recency: [0, 0], T: [5, 6] })).toThrow(/no customer has a repeat purchase/);
  });

  it('Gamma-Gamma rejects zero or negative spend of repeat buyers', () => {
    expect(() => fitGammaGamma([1, 2, 3], [10, 0, 5])).toThrow(/monetary value is 0/);
    expect(() => fitGammaGamma([1, 2, 3], [10, -1, 5])).toThrow(/negative/);
    expect(() => fitGammaGamma([1, 0], [10, 0])).toThrow(/at least 3 repeat buyers/);
  });

  it('a fit that cannot converge says so instead of returning garbage', () => {
    // every customer buys at the same constant rate and nobody drops out: no finite MLE
    const n = 200;
    const x = Array.from({ length: n }, () => 10);
    const tx = Array.from({ length: n }, () => 10);
    const T = Array.from({ length: n }, () => 10);
    let err: unknown;
    try {
      fitBgNbd({ frequency: x, recency: tx, T });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConvergenceError);
    expect((err as Error).message).toMatch(/did not converge/);
  });

  it('the optimizer reports non-convergence', () => {
    const res = minimizeBFGS((t, g) => {
      g[0] = -1;
      return -t[0];
    }, [0], { maxIterations: 5 });
    expect(res.converged).toBe(false);
  });

  it('CLV options and churn arguments are checked', () => {
    const d = { frequency: [1], recency: [1], T: [5], monetary: [10] };
    expect(() => customerLifetimeValue(P, { p: 6, q: 4, gamma: 15 }, d, { months: 0, discountRate: 0.01 })).toThrow(/horizon/);
    expect(() => customerLifetimeValue(P, { p: 6, q: 4, gamma: 15 }, d, { months: 12, discountRate: -1 })).toThrow(/discount/);
    expect(() => customerLifetimeValue(P, { p: 6, q: 4, gamma: 15 }, d, { months: 12, discountRate: 0.01, margin: -0.1 })).toThrow(/margin/);
    expect(() => adHocChurnRisk(P, 0, 1, 1, 5)).toThrow(/horizon/);
    expect(() => raiseChurnRisk(1.5)).toThrow(DataError);
    expect(() => raiseChurnRisk(0.5, -0.1)).toThrow(DataError);
    expect(() => assignValueTiers([1, 2], [1])).toThrow(DataError);
  });

  it('dates and transactions are checked', () => {
    expect(parseDay('1997-09-30')).toBe(parseDay('19970930'));
    expect(() => parseDay('1997-02-30')).toThrow(/invalid calendar date/);
    expect(() => parseDay('30/09/1997')).toThrow(/invalid date/);
    const cal = parseDay('2020-01-31');
    expect(() => summarizeTransactions({ customerId: ['a'], day: [cal], amount: [-5] }, { calibrationEnd: cal, period: 'day' })).toThrow(/negative/);
    expect(() => summarizeTransactions({ customerId: ['a'], day: [cal], amount: [NaN] }, { calibrationEnd: cal, period: 'day' })).toThrow(/finite/);
    expect(() => summarizeTransactions({ customerId: [''], day: [cal], amount: [1] }, { calibrationEnd: cal, period: 'day' })).toThrow(/empty/);
  });
});
