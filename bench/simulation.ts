/** The simulated customer base of the benchmarks (CDNOW-like parameters, seeded). */
import { type SimulatedCustomers, simulateCustomers } from '../shared/clv/simulate.ts';

/** `day`: times on a 1/7-week grid, like a transaction log; `continuous`: every customer distinct. */
export function simulateBenchCustomers(n: number, mode: 'day' | 'continuous'): SimulatedCustomers {
  return simulateCustomers({
    customers: n,
    bgnbd: { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
    gammaGamma: { p: 6.25, q: 3.74, gamma: 15.44 },
    seed: 1,
    calibrationPeriods: 39,
    cohortPeriods: 12,
    daysPerPeriod: mode === 'day' ? 7 : undefined,
  });
}
