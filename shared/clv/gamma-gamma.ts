/**
 * Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV:
 * Using iso-value curves for customer base analysis", JMR 42(4); Hardie note 025).
 *
 * Each transaction value z ~ Gamma(p, ν); across customers ν ~ Gamma(q, γ). Fitted on
 * repeat buyers' mean repeat spend z̄ with x repeat transactions. Assumes spend is
 * independent of purchase frequency — the fit reports the correlation as a warning.
 */
import gammaln from '@stdlib/math-base-special-gammaln';
import digamma from '@stdlib/math-base-special-digamma';
import { ConvergenceError, DataError, unusableFit } from './errors.ts';
import { type MinimizeResult, assertIdentified, minimizeBFGS, minimizeNewton, standardErrorsFromLogHessian, totalNegLogHessian, trigamma } from './optimize.ts';
import type { NumArray } from './rfm.ts';

export interface GammaGammaParams {
  p: number;
  q: number;
  gamma: number;
}

export interface GammaGammaFit extends GammaGammaParams {
  logLikelihood: number;
  standardErrors: GammaGammaParams;
  /** Pearson correlation between frequency and mean spend among repeat buyers */
  frequencySpendCorrelation: number;
  warnings: string[];
  diagnostics: {
    converged: true;
    iterations: number;
    evaluations: number;
    gradientNorm: number;
    message: string;
    repeatBuyers: number;
    hessianPositiveDefinite: boolean;
  };
}

/** |correlation| above this produces a warning. */
export const CORRELATION_WARNING_THRESHOLD = 0.3;

/** Repeat buyers' data in a compact form: grouped by x, with per-customer z̄. */
interface SpendTable {
  n: number;
  xValues: Float64Array;
  xIndex: Int32Array;
  xCount: Float64Array;
  x: Float64Array;
  z: Float64Array;
  sumLnZ: number;
  sumXLnZ: number;
  sumXLnX: number;
}

function prepareSpend(frequency: NumArray, monetary: NumArray): SpendTable {
  if (frequency.length !== monetary.length) throw new DataError(`frequency and monetary value must have the same length (${frequency.length}, ${monetary.length})`);
  let n = 0;
  for (let i = 0; i < frequency.length; i++) {
    const x = frequency[i];
    const m = monetary[i];
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || !Number.isInteger(x)) throw new DataError(`frequency must be a whole number ≥ 0 (${String(x)})`, i);
    if (typeof m !== 'number' || !Number.isFinite(m)) throw new DataError(`monetary value is not a finite number (${String(m)})`, i);
    if (m < 0) throw new DataError(`monetary value is negative (${m})`, i);
    if (x > 0) {
      if (m === 0) throw new DataError('monetary value is 0 for a repeat buyer; the Gamma-Gamma model needs positive spend (drop zero-value transactions first)', i);
      n++;
    }
  }
  const x = new Float64Array(n);
  const z = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < frequency.length; i++) {
    if (frequency[i] > 0) {
      x[j] = frequency[i];
      z[j] = monetary[i];
      j++;
    }
  }
  const map = new Map<number, number>();
  const xIndex = new Int32Array(n);
  const vals: number[] = [];
  const counts: number[] = [];
  let sumLnZ = 0, sumXLnZ = 0, sumXLnX = 0;
  for (let i = 0; i < n; i++) {
    let k = map.get(x[i]);
    if (k === undefined) {
      k = vals.length;
      vals.push(x[i]);
      counts.push(0);
      map.set(x[i], k);
    }
    counts[k]++;
    xIndex[i] = k;
    const lz = Math.log(z[i]);
    sumLnZ += lz;
    sumXLnZ += x[i] * lz;
    sumXLnX += x[i] * Math.log(x[i]);
  }
  return { n, xValues: Float64Array.from(vals), xIndex, xCount: Float64Array.from(counts), x, z, sumLnZ, sumXLnZ, sumXLnX };
}

/**
 * Log-likelihood, its gradient with respect to log(p, q, γ) and optionally its exact Hessian
 * with respect to log(p, q, γ) (row-major 3×3), in one pass over the repeat buyers.
 */
function logLik(t: SpendTable, par: GammaGammaParams, gradLog?: Float64Array, hessLog?: Float64Array): number {
  const { p, q, gamma } = par;
  const nx = t.xValues.length;
  const withHess = hessLog !== undefined;
  const withGrad = gradLog !== undefined || withHess;
  let ll = 0;
  let gp = 0, gq = 0, gg = 0;
  let hpp = 0, hpq = 0, hqq = 0, hpg = 0, hqg = 0, hgg = 0;
  const lgq = gammaln(q);
  const psq = digamma(q);
  const tgq = withHess ? trigamma(q) : 0;
  const lgam = Math.log(gamma);
  // per-x terms: lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln γ
  const coefX = new Float64Array(nx); // p x + q
  for (let k = 0; k < nx; k++) {
    const x = t.xValues[k];
    const c = t.xCount[k];
    const px = p * x;
    ll += c * (gammaln(px + q) - gammaln(px) - lgq + q * lgam);
    coefX[k] = px + q;
    if (withGrad) {
      const ps = digamma(px + q);
      gp += c * x * (ps - digamma(px));
      gq += c * (ps - psq + lgam);
    }
    if (withHess) {
      const tg = trigamma(px + q);
      hpp += c * x * x * (tg - trigamma(px));
      hpq += c * x * tg;
      hqq += c * (tg - tgq);
    }
  }
  // (px − 1) ln z + px ln x
  ll += p * t.sumXLnZ - t.sumLnZ + p * t.sumXLnX;
  if (withGrad) gp += t.sumXLnZ + t.sumXLnX;
  // −(px+q) ln(γ + x z)
  const { x, z, xIndex, n } = t;
  if (!withGrad) {
    for (let i = 0; i < n; i++) ll -= coefX[xIndex[i]] * Math.log(gamma + x[i] * z[i]);
    return ll;
  }
  let sxl = 0, sl = 0, scs = 0, sxs = 0, sis = 0, scs2 = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    const s = gamma + xi * z[i];
    const ls = Math.log(s);
    const is = 1 / s;
    const cf = coefX[xIndex[i]];
    ll -= cf * ls;
    sxl += xi * ls;
    sl += ls;
    const cis = cf * is;
    scs += cis;
    if (withHess) {
      sxs += xi * is;
      sis += is;
      scs2 += cis * is;
    }
  }
  gp -= sxl;
  gq -= sl;
  gg -= scs;
  gg += (n * q) / gamma;
  const g = [gp, gq, gg];
  const pv = [p, q, gamma];
  if (gradLog) for (let i = 0; i < 3; i++) gradLog[i] = g[i] * pv[i];
  if (hessLog) {
    // row terms: ∂²/∂p∂γ = −x/s, ∂²/∂q∂γ = −1/s, ∂²/∂γ² = (px+q)/s²; n q ln γ: ∂²/∂q∂γ = n/γ, ∂²/∂γ² = −n q/γ²
    hpg -= sxs;
    hqg += n / gamma - sis;
    hgg += scs2 - (n * q) / (gamma * gamma);
    const h = [hpp, hpq, hpg, hpq, hqq, hqg, hpg, hqg, hgg];
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) hessLog[i * 3 + j] = pv[i] * pv[j] * h[i * 3 + j] + (i === j ? pv[i] * g[i] : 0);
    }
  }
  return ll;
}

/**
 * Log-likelihood with its gradient and exact Hessian with respect to log(p, q, γ) (for checks
 * and for callers who need the observed information).
 */
export function gammaGammaLogLikelihoodDerivatives(params: GammaGammaParams, frequency: NumArray, monetary: NumArray, gradLog: Float64Array, hessLog: Float64Array): number {
  return logLik(prepareSpend(frequency, monetary), params, gradLog, hessLog);
}

/** Subsample of a spend table: every step-th repeat buyer. */
function subsampleSpend(t: SpendTable, step: number): SpendTable {
  const m = Math.ceil(t.n / step);
  const fx = new Float64Array(m);
  const fz = new Float64Array(m);
  for (let i = 0, j = 0; i < t.n; i += step, j++) {
    fx[j] = t.x[i];
    fz[j] = t.z[i];
  }
  return prepareSpend(fx, fz);
}

/** Above this many repeat buyers, fit a subsample first and polish on all with Newton's method. */
const WARM_START_BUYERS = 100_000;

/** Log-likelihood of the Gamma-Gamma model for the repeat buyers in the data. */
export function gammaGammaLogLikelihood(params: GammaGammaParams, frequency: NumArray, monetary: NumArray): number {
  return logLik(prepareSpend(frequency, monetary), params);
}

function pearson(x: Float64Array, y: Float64Array): number {
  const n = x.length;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
  mx /= n; my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}

const toParams = (t: ArrayLike<number>): GammaGammaParams => ({ p: Math.exp(t[0]), q: Math.exp(t[1]), gamma: Math.exp(t[2]) });

/**
 * Fit (p, q, γ) by maximum likelihood on customers with frequency > 0. Customers with
 * frequency 0 are ignored (their monetary value is not used).
 */
export function fitGammaGamma(
  frequency: NumArray,
  monetary: NumArray,
  /** warmStart: with more than 100,000 repeat buyers, fit a subsample first and polish on all with Newton's method (default true; false = BFGS from default starts, same optimum) */
  options: { standardErrors?: boolean; maxIterations?: number; warmStart?: boolean } = {},
): GammaGammaFit {
  const t = prepareSpend(frequency, monetary);
  if (t.n < 3) throw new DataError(`Gamma-Gamma needs at least 3 repeat buyers (got ${t.n})`);
  const n = t.n;
  let meanZ = 0;
  for (let i = 0; i < n; i++) meanZ += t.z[i];
  meanZ /= n;
  const objective = (theta: Float64Array, grad: Float64Array): number => {
    const ll = logLik(t, toParams(theta), grad);
    for (let i = 0; i < 3; i++) grad[i] = -grad[i] / n;
    return -ll / n;
  };
  let best: MinimizeResult | undefined;
  let last: MinimizeResult | undefined;
  let bestHessian: Float64Array | undefined;
  const starts = [
    [1, 2, meanZ],
    [5, 3, meanZ * 2],
    [0.5, 5, meanZ * 8],
  ];
  if (n > WARM_START_BUYERS && options.warmStart !== false) {
    // Many repeat buyers: fit every k-th (~50,000), then polish on all with Newton's method
    // (value, gradient and exact Hessian in one pass; the last pass gives the standard errors).
    try {
      const sub = subsampleSpend(t, Math.ceil(n / 50_000));
      const warm = fitGammaGamma(sub.x, sub.z, { standardErrors: false, warmStart: false });
      const newton = minimizeNewton(
        (theta, grad, hess) => {
          const ll = logLik(t, toParams(theta), grad, hess);
          for (let i = 0; i < 3; i++) grad[i] = -grad[i] / n;
          for (let i = 0; i < 9; i++) hess[i] = -hess[i] / n;
          return -ll / n;
        },
        [warm.p, warm.q, warm.gamma].map(Math.log),
        { gradTol: 1e-8, maxIterations: 30 },
      );
      if (newton.converged && newton.theta.every((v) => Math.abs(v) < 14)) {
        best = newton;
        bestHessian = newton.hessian;
      } else starts.unshift([warm.p, warm.q, warm.gamma]);
    } catch {
      // fall back to the default starts
    }
  }
  for (const s of best ? [] : starts) {
    const res = minimizeBFGS(objective, s.map(Math.log), { maxIterations: options.maxIterations ?? 400, gradTol: 1e-8 });
    last = res;
    if (res.converged && res.theta.every((v) => Math.abs(v) < 14)) {
      best = res;
      break;
    }
  }
  if (!best) throw unusableFit('Gamma-Gamma', last!, n);
  const params = toParams(best.theta);
  let se = [NaN, NaN, NaN];
  if (options.standardErrors !== false) {
    // exact Hessian of the total negative LL in log-parameters (one pass over the data)
    const H = totalNegLogHessian(3, bestHessian, n, (g, h) => logLik(t, params, g, h));
    se = standardErrorsFromLogHessian(H, [params.p, params.q, params.gamma]);
    const b = best;
    assertIdentified((reason) => {
      throw new ConvergenceError('Gamma-Gamma', { iterations: b.iterations, gradientNorm: b.gradientNorm, logLikelihood: -b.value * n, params: [params.p, params.q, params.gamma], reason });
    }, se, [params.p, params.q, params.gamma]);
  }
  const corr = pearson(t.x, t.z);
  const warnings: string[] = [];
  if (Math.abs(corr) > CORRELATION_WARNING_THRESHOLD) {
    warnings.push(
      `frequency and mean spend are correlated (Pearson r = ${corr.toFixed(3)}); the Gamma-Gamma model assumes independence, so expected spend may be biased`,
    );
  }
  if (params.q <= 1) warnings.push(`q = ${params.q.toPrecision(4)} ≤ 1: the population mean spend is infinite; customers without repeat purchases get the observed mean repeat spend`);
  return {
    ...params,
    logLikelihood: -best.value * n,
    standardErrors: { p: se[0], q: se[1], gamma: se[2] },
    frequencySpendCorrelation: corr,
    warnings,
    diagnostics: {
      converged: true,
      iterations: best.iterations,
      evaluations: best.evaluations,
      gradientNorm: best.gradientNorm,
      message: best.reason,
      repeatBuyers: n,
      hessianPositiveDefinite: se.every(Number.isFinite),
    },
  };
}

/** Population mean spend per transaction, γp/(q−1) (finite only when q > 1). */
export function populationMeanSpend(params: GammaGammaParams): number {
  return params.q > 1 ? (params.gamma * params.p) / (params.q - 1) : Infinity;
}

/**
 * E[M | x, z̄]: expected average spend per transaction of a customer with x repeat
 * purchases averaging z̄: (γ + x z̄) p / (p x + q − 1). For x = 0 the population mean,
 * or `fallbackMean` when q ≤ 1.
 */
export function expectedAverageSpend(params: GammaGammaParams, frequency: number, monetary: number, fallbackMean?: number): number {
  const { p, q, gamma } = params;
  if (!(frequency >= 0) || !Number.isFinite(frequency)) throw new DataError(`frequency must be ≥ 0 (${frequency})`);
  if (frequency === 0) {
    const m = populationMeanSpend(params);
    if (Number.isFinite(m)) return m;
    if (fallbackMean !== undefined) return fallbackMean;
    throw new DataError('q ≤ 1: population mean spend is infinite and no fallback was given');
  }
  if (!(monetary > 0) || !Number.isFinite(monetary)) throw new DataError(`monetary value must be > 0 for a repeat buyer (${monetary})`);
  return ((gamma + frequency * monetary) * p) / (p * frequency + q - 1);
}

/** Vectorised expected average spend. */
export function expectedAverageSpendBatch(params: GammaGammaParams, frequency: NumArray, monetary: NumArray): Float64Array {
  const out = new Float64Array(frequency.length);
  const pop = populationMeanSpend(params);
  let fallback = pop;
  if (!Number.isFinite(pop)) {
    let s = 0, c = 0;
    for (let i = 0; i < frequency.length; i++) if (frequency[i] > 0) { s += monetary[i]; c++; }
    fallback = c > 0 ? s / c : 0;
  }
  const { p, q, gamma } = params;
  for (let i = 0; i < out.length; i++) {
    const x = frequency[i];
    out[i] = x > 0 ? ((gamma + x * monetary[i]) * p) / (p * x + q - 1) : fallback;
  }
  return out;
}
