/**
 * Seeded simulators for the BG/NBD + Gamma-Gamma and sBG models (used by property
 * tests, parameter-recovery tests and the benchmark). Deterministic for a given seed.
 */
import type { BgNbdParams } from './bgnbd.ts';
import type { GammaGammaParams } from './gamma-gamma.ts';
import type { SbgParams, Tenure } from './sbg.ts';

/** xoshiro128** PRNG with 53-bit uniform doubles. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare = NaN;
  constructor(seed: number) {
    // splitmix32 to fill the state
    let z = seed >>> 0;
    const next = () => {
      z = (z + 0x9e3779b9) >>> 0;
      let t = z ^ (z >>> 16);
      t = Math.imul(t, 0x21f0aaad);
      t ^= t >>> 15;
      t = Math.imul(t, 0x735a2d97);
      return (t ^ (t >>> 15)) >>> 0;
    };
    this.s0 = next(); this.s1 = next(); this.s2 = next(); this.s3 = next();
  }
  private nextU32(): number {
    const r = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0; this.s3 ^= this.s1; this.s1 ^= this.s2; this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r;
  }
  /** uniform in (0, 1) */
  uniform(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo + 0.5) / 9007199254740992;
  }
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const v = this.spare;
      this.spare = NaN;
      return v;
    }
    const u = this.uniform();
    const v = this.uniform();
    const rad = Math.sqrt(-2 * Math.log(u));
    this.spare = rad * Math.sin(2 * Math.PI * v);
    return rad * Math.cos(2 * Math.PI * v);
  }
  /** Gamma(shape, scale 1) by Marsaglia & Tsang (boosted for shape < 1). */
  gamma(shape: number): number {
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(this.uniform(), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }
  beta(a: number, b: number): number {
    const x = this.gamma(a);
    const y = this.gamma(b);
    return x / (x + y);
  }
  exponential(rate: number): number {
    return -Math.log(this.uniform()) / rate;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export interface SimulateOptions {
  customers: number;
  bgnbd: BgNbdParams;
  gammaGamma?: GammaGammaParams;
  seed: number;
  /** length of calibration in periods from the start of the first cohort (default 52) */
  calibrationPeriods?: number;
  /** first purchases spread uniformly over [0, cohortPeriods) (default 12) */
  cohortPeriods?: number;
  /** also simulate purchases in a holdout of this many periods */
  holdoutPeriods?: number;
  /**
   * Record times at day resolution with periods of `daysPerPeriod` days (7 = weeks): one
   * purchase per customer-day, like a real transaction log. Default: continuous time.
   */
  daysPerPeriod?: number;
}

export interface SimulatedCustomers {
  frequency: Float64Array;
  recency: Float64Array;
  T: Float64Array;
  monetary: Float64Array;
  holdoutFrequency?: Float64Array;
  /** true parameters of each customer (for checks) */
  lambda: Float64Array;
  aliveAtT: Uint8Array;
}

/** Simulate customers from the BG/NBD (and Gamma-Gamma spend) generative process. */
export function simulateCustomers(o: SimulateOptions): SimulatedCustomers {
  const rng = new Rng(o.seed);
  const n = o.customers;
  const cal = o.calibrationPeriods ?? 52;
  const cohort = o.cohortPeriods ?? 12;
  const H = o.holdoutPeriods ?? 0;
  const dpp = o.daysPerPeriod;
  const { r, alpha, a, b } = o.bgnbd;
  const frequency = new Float64Array(n);
  const recency = new Float64Array(n);
  const T = new Float64Array(n);
  const monetary = new Float64Array(n);
  const lambda = new Float64Array(n);
  const aliveAtT = new Uint8Array(n);
  const holdout = H > 0 ? new Float64Array(n) : undefined;
  for (let i = 0; i < n; i++) {
    const lam = rng.gamma(r) / alpha;
    const p = rng.beta(a, b);
    lambda[i] = lam;
    let Ti: number;
    if (dpp) {
      const calDays = Math.round(cal * dpp);
      const firstDay = Math.floor(rng.uniform() * cohort * dpp);
      Ti = (calDays - firstDay) / dpp;
    } else {
      Ti = cal - rng.uniform() * cohort;
    }
    let t = 0;
    let x = 0;
    let tx = 0;
    let lastDay = 0;
    let alive = true;
    let xh = 0;
    let lastDayH = -1;
    for (;;) {
      t += rng.exponential(lam);
      if (t > Ti + H) break;
      if (t <= Ti) {
        if (dpp) {
          const day = Math.floor(t * dpp);
          if (day > lastDay && day <= Math.round(Ti * dpp)) {
            x++;
            lastDay = day;
            tx = day / dpp;
          }
        } else {
          x++;
          tx = t;
        }
      } else {
        if (dpp) {
          const day = Math.floor(t * dpp);
          if (day > lastDayH && day > Math.round(Ti * dpp)) {
            xh++;
            lastDayH = day;
          }
        } else xh++;
      }
      if (rng.uniform() < p) {
        alive = false;
        break;
      }
    }
    // alive at T: did not drop out at or before T
    aliveAtT[i] = alive || t > Ti ? 1 : 0;
    frequency[i] = x;
    recency[i] = tx;
    T[i] = Ti;
    if (holdout) holdout[i] = xh;
    if (o.gammaGamma && x > 0) {
      const { p: pp, q, gamma } = o.gammaGamma;
      const nu = rng.gamma(q) / gamma;
      monetary[i] = rng.gamma(pp * x) / (nu * x);
    }
  }
  const out: SimulatedCustomers = { frequency, recency, T, monetary, lambda, aliveAtT };
  if (holdout) out.holdoutFrequency = holdout;
  return out;
}

/** Simulate subscription tenures from the sBG with right-censoring at `observedPeriods`. */
export function simulateTenures(params: SbgParams, customers: number, observedPeriods: number, seed: number): Tenure[] {
  const rng = new Rng(seed);
  const out: Tenure[] = [];
  for (let i = 0; i < customers; i++) {
    const theta = rng.beta(params.alpha, params.beta);
    let t = 0;
    let churned = false;
    while (t < observedPeriods) {
      t++;
      if (rng.uniform() < theta) {
        churned = true;
        break;
      }
    }
    out.push({ periods: t, churned });
  }
  return out;
}
