/**
 * Shifted-beta-geometric (sBG) model for contractual (subscription) customers
 * (Fader & Hardie 2007, "How to project customer retention", J. Interactive Marketing 21(1);
 * DERL from Fader & Hardie 2010, "Customer-base valuation in a contractual setting").
 *
 * At each renewal an active customer churns with probability θ ~ Beta(α, β).
 * T = number of periods a customer stays (churns at the T-th renewal decision):
 *   P(T = t) = B(α+1, β+t−1)/B(α, β),  S(t) = P(T > t) = B(α, β+t)/B(α, β).
 *
 * "Tenure" below is the number of renewals a customer has made so far (0 for a customer
 * in her first period); the next renewal decision is number tenure+1.
 */
import betaln from '@stdlib/math-base-special-betaln';
import digamma from '@stdlib/math-base-special-digamma';
import { ConvergenceError, DataError, unusableFit } from './errors.ts';
import { hyp2f1 } from './hyp2f1.ts';
import { assertIdentified, minimizeBFGS, numericHessian, standardErrorsFromLogHessian } from './optimize.ts';

export interface SbgParams {
  alpha: number;
  beta: number;
}

export interface SbgFit extends SbgParams {
  logLikelihood: number;
  standardErrors: SbgParams;
  diagnostics: { converged: true; iterations: number; gradientNorm: number; message: string; customers: number; hessianPositiveDefinite: boolean };
}

/** One customer's observed lifetime: `periods` renewal decisions observed; `churned` = left at the last of them. */
export interface Tenure {
  periods: number;
  churned: boolean;
}

/** Grouped observations: count customers who churned at decision t, or survived t decisions (censored). */
interface SbgObs {
  t: Float64Array;
  churned: Uint8Array;
  count: Float64Array;
  total: number;
}

function logLik(obs: SbgObs, par: SbgParams, gradLog?: Float64Array): number {
  const { alpha, beta } = par;
  const lb0 = betaln(alpha, beta);
  const psA = digamma(alpha);
  const psB = digamma(beta);
  const psAB = digamma(alpha + beta);
  let ll = 0, ga = 0, gb = 0;
  for (let i = 0; i < obs.t.length; i++) {
    const t = obs.t[i];
    const c = obs.count[i];
    if (c === 0) continue;
    if (obs.churned[i]) {
      // ln P(T=t) = lnB(α+1, β+t−1) − lnB(α, β)
      ll += c * (betaln(alpha + 1, beta + t - 1) - lb0);
      if (gradLog) {
        const ps = digamma(alpha + beta + t);
        ga += c * (digamma(alpha + 1) - ps - psA + psAB);
        gb += c * (digamma(beta + t - 1) - ps - psB + psAB);
      }
    } else {
      if (t === 0) continue;
      ll += c * (betaln(alpha, beta + t) - lb0);
      if (gradLog) {
        const ps = digamma(alpha + beta + t);
        ga += c * (psA - ps - psA + psAB);
        gb += c * (digamma(beta + t) - ps - psB + psAB);
      }
    }
  }
  if (gradLog) {
    gradLog[0] = ga * alpha;
    gradLog[1] = gb * beta;
  }
  return ll;
}

function fit(obs: SbgObs): SbgFit {
  if (obs.total <= 0) throw new DataError('sBG: no customers');
  let churns = 0;
  for (let i = 0; i < obs.t.length; i++) if (obs.churned[i]) churns += obs.count[i];
  if (churns === 0) throw new DataError('sBG cannot be fitted: no customer churned');
  const N = obs.total;
  const objective = (theta: Float64Array, grad: Float64Array): number => {
    const ll = logLik(obs, { alpha: Math.exp(theta[0]), beta: Math.exp(theta[1]) }, grad);
    grad[0] = -grad[0] / N;
    grad[1] = -grad[1] / N;
    return -ll / N;
  };
  let best: ReturnType<typeof minimizeBFGS> | undefined;
  let last: ReturnType<typeof minimizeBFGS> | undefined;
  for (const s of [[1, 1], [0.5, 3], [3, 10]]) {
    const res = minimizeBFGS(objective, s.map(Math.log), { gradTol: 1e-9 });
    last = res;
    if (res.converged && res.theta.every((v) => Math.abs(v) < 14)) {
      best = res;
      break;
    }
  }
  if (!best) throw unusableFit('sBG', last!, N, 'parameters diverged to a boundary (e.g. no heterogeneity in churn)');
  const alpha = Math.exp(best.theta[0]);
  const beta = Math.exp(best.theta[1]);
  const H = numericHessian((th, out) => {
    logLik(obs, { alpha: Math.exp(th[0]), beta: Math.exp(th[1]) }, out);
    out[0] = -out[0];
    out[1] = -out[1];
  }, best.theta);
  const se = standardErrorsFromLogHessian(H, [alpha, beta]);
  const b = best;
  assertIdentified((reason) => {
    throw new ConvergenceError('sBG', { iterations: b.iterations, gradientNorm: b.gradientNorm, logLikelihood: -b.value * N, params: [alpha, beta], reason });
  }, se, [alpha, beta]);
  return {
    alpha,
    beta,
    logLikelihood: -best.value * N,
    standardErrors: { alpha: se[0], beta: se[1] },
    diagnostics: { converged: true, iterations: best.iterations, gradientNorm: best.gradientNorm, message: best.reason, customers: N, hessianPositiveDefinite: se.every(Number.isFinite) },
  };
}

/**
 * Fit from cohort survival counts: survivors[0] is the cohort size, survivors[t] the
 * number still active after t renewal decisions (non-increasing). Percentages work too
 * (they are treated as counts).
 */
export function fitSbgCohort(survivors: readonly number[]): SbgFit {
  if (survivors.length < 2) throw new DataError('sBG needs at least two survival counts (cohort size and one later count)');
  survivors.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new DataError(`survivor count is not a finite number (${String(v)})`, i);
    if (v < 0) throw new DataError(`survivor count is negative (${v})`, i);
    if (i > 0 && v > survivors[i - 1]) throw new DataError(`survivor counts must not increase (${survivors[i - 1]} then ${v})`, i);
  });
  if (!(survivors[0] > 0)) throw new DataError('the cohort size (first survivor count) must be positive');
  const n = survivors.length - 1;
  const t = new Float64Array(n + 1);
  const churned = new Uint8Array(n + 1);
  const count = new Float64Array(n + 1);
  for (let k = 1; k <= n; k++) {
    t[k - 1] = k;
    churned[k - 1] = 1;
    count[k - 1] = survivors[k - 1] - survivors[k];
  }
  t[n] = n;
  churned[n] = 0;
  count[n] = survivors[n];
  return fit({ t, churned, count, total: survivors[0] });
}

/** Fit from individual tenures with right-censoring (active customers have churned = false). */
export function fitSbgTenures(tenures: readonly Tenure[]): SbgFit {
  const map = new Map<string, number>();
  const tv: number[] = [];
  const cv: number[] = [];
  const nv: number[] = [];
  tenures.forEach((o, i) => {
    if (!o || typeof o.periods !== 'number' || !Number.isInteger(o.periods) || o.periods < 0) throw new DataError(`tenure must be a whole number of periods ≥ 0 (${String(o?.periods)})`, i);
    if (o.churned && o.periods < 1) throw new DataError('a churned customer must have at least 1 period', i);
    const key = `${o.periods}:${o.churned ? 1 : 0}`;
    let k = map.get(key);
    if (k === undefined) {
      k = tv.length;
      tv.push(o.periods);
      cv.push(o.churned ? 1 : 0);
      nv.push(0);
      map.set(key, k);
    }
    nv[k]++;
  });
  return fit({ t: Float64Array.from(tv), churned: Uint8Array.from(cv), count: Float64Array.from(nv), total: tenures.length });
}

/** S(t) = P(T > t), the share of a new cohort still active after t renewal decisions. */
export function sbgSurvival(params: SbgParams, t: number): number {
  if (!(t >= 0) || !Number.isInteger(t)) throw new DataError(`t must be a whole number ≥ 0 (${t})`);
  return Math.exp(betaln(params.alpha, params.beta + t) - betaln(params.alpha, params.beta));
}

/** Projected survival curve S(0..periods). */
export function sbgSurvivalCurve(params: SbgParams, periods: number): number[] {
  const out = [1];
  let s = 1;
  for (let t = 1; t <= periods; t++) {
    s *= (params.beta + t - 1) / (params.alpha + params.beta + t - 1);
    out.push(s);
  }
  return out;
}

/** Retention rates r_t = S(t)/S(t−1) = (β+t−1)/(α+β+t−1) for t = 1..periods (they rise with t). */
export function sbgRetentionRates(params: SbgParams, periods: number): number[] {
  const out: number[] = [];
  for (let t = 1; t <= periods; t++) out.push((params.beta + t - 1) / (params.alpha + params.beta + t - 1));
  return out;
}

/**
 * Probability that a customer who has made `tenure` renewals churns within the next
 * `periods` renewal decisions: 1 − S(tenure+periods)/S(tenure).
 */
export function sbgChurnProbability(params: SbgParams, tenure: number, periods = 1): number {
  if (!(tenure >= 0) || !Number.isInteger(tenure)) throw new DataError(`tenure must be a whole number ≥ 0 (${tenure})`);
  if (!(periods >= 0) || !Number.isInteger(periods)) throw new DataError(`periods must be a whole number ≥ 0 (${periods})`);
  let s = 1;
  for (let j = 0; j < periods; j++) s *= (params.beta + tenure + j) / (params.alpha + params.beta + tenure + j);
  return Math.min(1, Math.max(0, 1 - s));
}

/**
 * Discounted expected residual lifetime (Fader & Hardie 2010, eq. 6) of a customer who
 * has made `tenure` renewals, evaluated just before her next renewal decision: the expected
 * number of future payments, the first at that renewal, each discounted by 1/(1+d) per period:
 * DERL = (β+n)/(α+β+n) · ₂F₁(1, β+n+1; α+β+n+1; 1/(1+d)),  n = tenure.
 */
export function sbgDerl(params: SbgParams, tenure: number, discountRate: number): number {
  if (!(tenure >= 0) || !Number.isFinite(tenure)) throw new DataError(`tenure must be ≥ 0 (${tenure})`);
  if (!(discountRate > 0) || !Number.isFinite(discountRate)) throw new DataError(`discount rate must be > 0 (${discountRate})`);
  const { alpha, beta } = params;
  const n = tenure;
  return ((beta + n) / (alpha + beta + n)) * hyp2f1(1, beta + n + 1, alpha + beta + n + 1, 1 / (1 + discountRate));
}

/** Residual CLV of a subscriber: margin per period × DERL. */
export function sbgClv(params: SbgParams, tenure: number, discountRate: number, marginPerPeriod: number): number {
  if (!(marginPerPeriod >= 0)) throw new DataError(`margin per period must be ≥ 0 (${marginPerPeriod})`);
  return marginPerPeriod * sbgDerl(params, tenure, discountRate);
}
