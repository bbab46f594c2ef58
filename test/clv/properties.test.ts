/** Property tests (fast-check) for the BG/NBD / Gamma-Gamma / CLV / churn functions. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  adHocChurnRisk,
  customerLifetimeValue,
  expectedAverageSpend,
  expectedPurchases,
  probabilityAlive,
  probabilityOfPurchases,
  raiseChurnRisk,
  sbgChurnProbability,
  sbgDerl,
} from '../../shared/clv/index.ts';

const params = fc.record({
  r: fc.double({ min: 0.05, max: 5, noNaN: true }),
  alpha: fc.double({ min: 0.1, max: 50, noNaN: true }),
  a: fc.double({ min: 0.05, max: 5, noNaN: true }),
  b: fc.double({ min: 0.05, max: 20, noNaN: true }),
});

/** a valid customer history (x, t_x, T) */
const customer = fc
  .record({ x: fc.integer({ min: 0, max: 60 }), T: fc.double({ min: 0.01, max: 200, noNaN: true }), u: fc.double({ min: 0.001, max: 1, noNaN: true }) })
  .map(({ x, T, u }) => ({ x, T, tx: x === 0 ? 0 : T * u }));

const ggParams = fc.record({
  p: fc.double({ min: 0.1, max: 20, noNaN: true }),
  q: fc.double({ min: 1.05, max: 20, noNaN: true }),
  gamma: fc.double({ min: 0.1, max: 100, noNaN: true }),
});

const inUnit = (v: number) => v >= 0 && v <= 1;

describe('BG/NBD properties', () => {
  it('P(alive) is in [0, 1] and 1 without repeat purchases', () => {
    fc.assert(
      fc.property(params, customer, (p, c) => {
        const v = probabilityAlive(p, c.x, c.tx, c.T);
        return inUnit(v) && (c.x > 0 || v === 1);
      }),
    );
  });

  it('expected purchases are ≥ 0 and never decrease with the horizon', () => {
    fc.assert(
      fc.property(params, customer, fc.double({ min: 0.01, max: 100, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), (p, c, t1, dt) => {
        const e1 = expectedPurchases(p, t1, c.x, c.tx, c.T);
        const e2 = expectedPurchases(p, t1 + dt, c.x, c.tx, c.T);
        return Number.isFinite(e1) && e1 >= 0 && e2 >= e1 * (1 - 1e-9) - 1e-12;
      }),
      { numRuns: 200 },
    );
  });

  it('P(k purchases in t) is in [0, 1], sums to ≤ 1 and its mean matches E[X(t)]', () => {
    fc.assert(
      fc.property(params, customer, fc.double({ min: 0.1, max: 20, noNaN: true }), (p, c, t) => {
        let total = 0;
        let mean = 0;
        for (let k = 0; k < 300; k++) {
          const pk = probabilityOfPurchases(p, k, t, c.x, c.tx, c.T);
          if (!inUnit(pk)) return false;
          total += pk;
          mean += k * pk;
          if (1 - total < 1e-12) break;
        }
        const ex = expectedPurchases(p, t, c.x, c.tx, c.T);
        // the mean can only be compared when the truncated tail is negligible
        return total <= 1 + 1e-9 && (1 - total > 1e-12 || Math.abs(mean - ex) <= 1e-6 * Math.max(1, ex));
      }),
      { numRuns: 60 },
    );
  });

  it('churn risk is in [0, 1], at least 1 − P(alive), and triggers only raise it', () => {
    fc.assert(
      fc.property(params, customer, fc.double({ min: 0.1, max: 52, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (p, c, h, s) => {
        const r1 = adHocChurnRisk(p, h, c.x, c.tx, c.T);
        const pa = probabilityAlive(p, c.x, c.tx, c.T);
        const raised = raiseChurnRisk(r1, s);
        return inUnit(r1) && r1 >= 1 - pa - 1e-12 && inUnit(raised) && raised >= r1 - 1e-15;
      }),
    );
  });
});

describe('CLV and spend properties', () => {
  it('expected spend is positive and CLV is never negative', () => {
    fc.assert(
      fc.property(params, ggParams, fc.array(customer, { minLength: 1, maxLength: 20 }), fc.double({ min: 0, max: 0.2, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (p, g, cs, d, m) => {
        const monetary = cs.map((c, i) => (c.x > 0 ? 1 + ((i * 37) % 100) : 0));
        const res = customerLifetimeValue(p, g, { frequency: cs.map((c) => c.x), recency: cs.map((c) => c.tx), T: cs.map((c) => c.T), monetary }, { months: 12, discountRate: d, margin: m });
        for (let i = 0; i < cs.length; i++) {
          if (!(res.clv[i] >= 0) || !Number.isFinite(res.clv[i])) return false;
          if (!(expectedAverageSpend(g, cs[i].x, monetary[i]) > 0)) return false;
          if (!inUnit(res.pAlive[i])) return false;
        }
        return true;
      }),
      { numRuns: 60 },
    );
  });
});

describe('sBG properties', () => {
  it('churn probability in [0, 1], DERL ≥ 0 and decreasing in the discount rate', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 10, noNaN: true }),
        fc.double({ min: 0.05, max: 20, noNaN: true }),
        fc.integer({ min: 0, max: 50 }),
        fc.double({ min: 0.01, max: 0.5, noNaN: true }),
        (alpha, beta, n, d) => {
          const p = { alpha, beta };
          const c = sbgChurnProbability(p, n, 3);
          const d1 = sbgDerl(p, n, d);
          const d2 = sbgDerl(p, n, d * 1.5);
          return inUnit(c) && d1 >= 0 && d2 <= d1 * (1 + 1e-9);
        },
      ),
    );
  });
});

it('churn risk (no purchase within the horizon) can only fall as the horizon grows', () => {
  fc.assert(
    fc.property(params, customer, fc.double({ min: 0.1, max: 52, noNaN: true }), (p, c, h) => {
      const r1 = adHocChurnRisk(p, h, c.x, c.tx, c.T);
      const r2 = adHocChurnRisk(p, 2 * h, c.x, c.tx, c.T);
      return inUnit(r1) && inUnit(r2) && r2 <= r1 + 1e-12;
    }),
  );
  expect(raiseChurnRisk(0.3, 0.5)).toBeCloseTo(0.65, 12);
});
