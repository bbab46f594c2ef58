/**
 * BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way:
 * An alternative to the Pareto/NBD model", Marketing Science 24(2)).
 *
 * While active, a customer buys as a Poisson process with rate λ ~ Gamma(r, α);
 * after each repeat purchase she drops out with probability p ~ Beta(a, b).
 * Data per customer: x repeat purchases, time of last purchase t_x, age T
 * (all measured from the first purchase, in periods).
 */
import gammaln from '@stdlib/math-base-special-gammaln';
import digamma from '@stdlib/math-base-special-digamma';
import betaln from '@stdlib/math-base-special-betaln';
import { ConvergenceError, DataError, unusableFit } from './errors.ts';
import { hyp2f1 } from './hyp2f1.ts';
import { type MinimizeResult, assertIdentified, minimizeBFGS, minimizeNewton, standardErrorsFromLogHessian, totalNegLogHessian, trigamma } from './optimize.ts';
import { type NumArray, type RfmTable, prepareRfm, validateRfmRecord } from './rfm.ts';

export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

export interface FitDiagnostics {
  converged: true;
  iterations: number;
  evaluations: number;
  /** max |∂(mean LL)/∂ log θ| at the optimum */
  gradientNorm: number;
  message: string;
  /** customers used / distinct rows after compression */
  customers: number;
  distinctRows: number;
  /** false when the Hessian is not positive definite (standard errors are then NaN) */
  hessianPositiveDefinite: boolean;
  /** final BFGS inverse-Hessian approximation of the mean negative LL in log-parameters (used to warm-start refits) */
  inverseHessian?: Float64Array;
}

export interface BgNbdFit extends BgNbdParams {
  logLikelihood: number;
  standardErrors: BgNbdParams;
  diagnostics: FitDiagnostics;
}

export interface FitOptions {
  /** starting values (natural scale) */
  start?: Partial<BgNbdParams>;
  maxIterations?: number;
  /** compute standard errors (exact Hessian of the log-likelihood at the optimum). Default true. */
  standardErrors?: boolean;
  /**
   * For tables with more than 200,000 distinct rows: start from a fit on a subsample and
   * polish with Newton's method on all rows (default true). false = plain BFGS from the
   * default starting values (slower; the same optimum).
   */
  warmStart?: boolean;
}

/** Throws DataError unless every parameter is a positive finite number. */
export function assertBgNbdParams(p: BgNbdParams): void {
  for (const k of ['r', 'alpha', 'a', 'b'] as const) {
    if (!(p[k] > 0) || !Number.isFinite(p[k])) throw new DataError(`BG/NBD parameter ${k} must be a positive finite number (${p[k]})`);
  }
}

/** Total weight (customers) per distinct x of a table, cached per table. */
const xWeightCache = new WeakMap<RfmTable, Float64Array>();
function xWeights(table: RfmTable): Float64Array {
  let w = xWeightCache.get(table);
  if (!w) {
    w = new Float64Array(table.xValues.length);
    for (let i = 0; i < table.rows; i++) w[table.xIndex[i]] += table.weight[i];
    xWeightCache.set(table, w);
  }
  return w;
}

/**
 * Total log-likelihood of the compressed data, its gradient with respect to log(r, α, a, b)
 * and optionally its exact Hessian with respect to log(r, α, a, b) (row-major 4×4), all in
 * one pass over the rows. The gamma-function terms depend on x only and are computed once per
 * distinct x (weighted by the customers with that x); the logarithms of α+T and α+t_x are
 * computed per distinct value when values repeat, per row otherwise.
 */
export function bgnbdLogLikelihood(table: RfmTable, params: BgNbdParams, gradLog?: Float64Array, hessLog?: Float64Array): number {
  const { r, alpha, a, b } = params;
  const nx = table.xValues.length;
  const nT = table.TValues.length;
  const ntx = table.txValues.length;
  const withHess = hessLog !== undefined;
  const withGrad = gradLog !== undefined || withHess;
  const Wx = xWeights(table);
  const lrX = new Float64Array(nx); // ln a − ln(b+x−1)
  const ibX = new Float64Array(nx); // 1/(b+x−1)
  const la = Math.log(a);
  // natural-parameter gradient (r, α, a, b) and Hessian entries h_ij
  let ll = 0;
  let g0 = 0, g1 = 0, g2 = 0, g3 = 0;
  let h00 = 0, h01 = 0, h11 = 0, h22 = 0, h23 = 0, h33 = 0, h03 = 0, h13 = 0;
  // sums whose Hessian entries share the factor 1/a: Σc, Σc·δr, Σc·δα, Σc/(b+x−1) with c = w·w3·w4
  let sc = 0, scr = 0, scA = 0, scb = 0;
  {
    const lgr = gammaln(r), lgab = gammaln(a + b), lgb = gammaln(b);
    const psr = digamma(r), psab = digamma(a + b), psb = digamma(b);
    const tgr = withHess ? trigamma(r) : 0, tgab = withHess ? trigamma(a + b) : 0, tgb = withHess ? trigamma(b) : 0;
    for (let k = 0; k < nx; k++) {
      const xv = table.xValues[k];
      lrX[k] = xv > 0 ? la - Math.log(b + xv - 1) : -Infinity;
      ibX[k] = xv > 0 ? 1 / (b + xv - 1) : 0;
      const W = Wx[k];
      if (xv === 0 || W === 0) continue;
      // lnΓ(r+x) − lnΓ(r) + ln B(a, b+x) − ln B(a, b)
      ll += W * (gammaln(r + xv) - lgr + lgab + gammaln(b + xv) - lgb - gammaln(a + b + xv));
      if (withGrad) {
        const psabx = digamma(a + b + xv);
        g0 += W * (digamma(r + xv) - psr);
        g2 += W * (psab - psabx);
        g3 += W * (psab + digamma(b + xv) - psb - psabx);
      }
      if (withHess) {
        const t = W * (tgab - trigamma(a + b + xv));
        h00 += W * (trigamma(r + xv) - tgr);
        h22 += t;
        h23 += t;
        h33 += t + W * (trigamma(b + xv) - tgb);
      }
    }
  }
  const { x, weight, xIndex, rows } = table;
  // Logarithms of α+T and α+t_x: per distinct value when values repeat (day-resolution data),
  // per row when almost every row has its own value (continuous times; no random access).
  const direct = ntx === 0 || nT + ntx > rows;
  const T = table.T;
  const txv = table.tx;
  let lTv: Float64Array | undefined, iTv: Float64Array | undefined, ltxv: Float64Array | undefined, itxv: Float64Array | undefined;
  if (!direct) {
    lTv = new Float64Array(nT);
    iTv = new Float64Array(nT);
    for (let k = 0; k < nT; k++) {
      lTv[k] = Math.log(alpha + table.TValues[k]);
      iTv[k] = 1 / (alpha + table.TValues[k]);
    }
    ltxv = new Float64Array(ntx);
    itxv = new Float64Array(ntx);
    for (let k = 0; k < ntx; k++) {
      ltxv[k] = Math.log(alpha + table.txValues[k]);
      itxv[k] = 1 / (alpha + table.txValues[k]);
    }
  }
  const { TIndex, txIndex } = table;
  let s4 = 0; // Σ w·w4 (∂A4/∂a = 1/a for every row)
  for (let i = 0; i < rows; i++) {
    const w = weight[i];
    const xi = x[i];
    let lT: number, iT: number;
    if (direct) {
      const sT = alpha + T[i];
      lT = Math.log(sT);
      iT = 1 / sT;
    } else {
      const kT = TIndex[i];
      lT = lTv![kT];
      iT = iTv![kT];
    }
    const rx = r + xi;
    if (xi === 0) {
      // tail = A3 = −r ln(α+T)
      ll -= w * rx * lT;
      if (withGrad) {
        g0 -= w * lT;
        g1 -= w * rx * iT;
        if (withHess) {
          h01 -= w * iT;
          h11 += w * rx * iT * iT;
        }
      }
      continue;
    }
    const kx = xIndex[i];
    let ltx: number, itx: number;
    if (direct) {
      const st = alpha + txv[i];
      ltx = Math.log(st);
      itx = 1 / st;
    } else {
      const kt = txIndex[i];
      ltx = ltxv![kt];
      itx = itxv![kt];
    }
    // tail = ln(e^A3 + e^A4), A3 = −(r+x) ln(α+T), A4 = ln a − ln(b+x−1) − (r+x) ln(α+t_x)
    const d = lrX[kx] + rx * (lT - ltx); // A4 − A3
    let w4: number; // e^A4 / (e^A3 + e^A4)
    let tail: number; // tail − A3
    if (d > 0) {
      const e = Math.exp(-d);
      tail = d + Math.log1p(e);
      w4 = 1 / (1 + e);
    } else {
      const e = Math.exp(d);
      tail = Math.log1p(e);
      w4 = e / (1 + e);
    }
    ll += w * (tail - rx * lT);
    if (withGrad) {
      const ib = ibX[kx];
      const ww4 = w * w4;
      const iMix = iT + w4 * (itx - iT); // w3/(α+T) + w4/(α+t_x)
      g0 -= w * lT + ww4 * (ltx - lT);
      g1 -= w * rx * iMix;
      s4 += ww4;
      g3 -= ww4 * ib;
      if (withHess) {
        // w3 ∂²A3 + w4 ∂²A4 + w3 w4 δδᵀ, δ = ∂A3 − ∂A4 = (ln(α+t_x) − ln(α+T), (r+x)(1/(α+t_x) − 1/(α+T)), −1/a, 1/(b+x−1))
        const w3 = 1 - w4;
        h01 -= w * iMix;
        h11 += w * rx * (w3 * iT * iT + w4 * itx * itx);
        h33 += ww4 * ib * ib;
        const c = ww4 * w3;
        const dr = ltx - lT;
        const dA = rx * (itx - iT);
        h00 += c * dr * dr;
        h01 += c * dr * dA;
        h11 += c * dA * dA;
        h03 += c * dr * ib;
        h13 += c * dA * ib;
        h33 += c * ib * ib;
        sc += c;
        scr += c * dr;
        scA += c * dA;
        scb += c * ib;
      }
    }
  }
  const N = table.n;
  const la0 = Math.log(alpha);
  ll += N * r * la0;
  if (withGrad) {
    g0 += N * la0;
    g1 += (N * r) / alpha;
    g2 += s4 / a;
    const p = [r, alpha, a, b];
    const g = [g0, g1, g2, g3];
    if (gradLog) for (let i = 0; i < 4; i++) gradLog[i] = g[i] * p[i];
    if (hessLog) {
      h01 += N / alpha;
      h11 -= (N * r) / (alpha * alpha);
      h22 += (sc - s4) / (a * a);
      const h02 = -scr / a;
      const h12 = -scA / a;
      h23 -= scb / a;
      const h = [h00, h01, h02, h03, h01, h11, h12, h13, h02, h12, h22, h23, h03, h13, h23, h33];
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) hessLog[i * 4 + j] = p[i] * p[j] * h[i * 4 + j] + (i === j ? p[i] * g[i] : 0);
      }
    }
  }
  return ll;
}

/** Log-likelihood of one customer (for checks). */
export function bgnbdCustomerLogLikelihood(params: BgNbdParams, x: number, tx: number, T: number): number {
  validateRfmRecord(x, tx, T);
  const { r, alpha, a, b } = params;
  const A1 = gammaln(r + x) - gammaln(r) + r * Math.log(alpha);
  const A2 = betaln(a, b + x) - betaln(a, b);
  const A3 = -(r + x) * Math.log(alpha + T);
  if (x === 0) return A1 + A2 + A3;
  const A4 = Math.log(a) - Math.log(b + x - 1) - (r + x) * Math.log(alpha + tx);
  const m = Math.max(A3, A4);
  return A1 + A2 + m + Math.log(Math.exp(A3 - m) + Math.exp(A4 - m));
}

const WARM_START_ROWS = 200_000;

function warmStart(table: RfmTable): { params: BgNbdParams; inverseHessian: Float64Array } | undefined {
  const step = Math.ceil(table.rows / 50_000);
  const xs: number[] = [];
  const ts: number[] = [];
  const Ts: number[] = [];
  for (let i = 0; i < table.rows; i += step) {
    for (let k = 0; k < Math.min(table.weight[i], 100); k++) {
      xs.push(table.x[i]);
      ts.push(table.tx[i]);
      Ts.push(table.T[i]);
    }
  }
  try {
    const f = fitBgNbd({ frequency: xs, recency: ts, T: Ts }, { standardErrors: false });
    return { params: { r: f.r, alpha: f.alpha, a: f.a, b: f.b }, inverseHessian: f.diagnostics.inverseHessian! };
  } catch {
    return undefined;
  }
}

const toParams = (t: ArrayLike<number>): BgNbdParams => ({ r: Math.exp(t[0]), alpha: Math.exp(t[1]), a: Math.exp(t[2]), b: Math.exp(t[3]) });

/** Maximum-likelihood fit. Accepts raw arrays or a prepared RfmTable. Throws ConvergenceError if no optimum is found. */
export function fitBgNbd(data: RfmTable | { frequency: NumArray; recency: NumArray; T: NumArray }, options: FitOptions = {}): BgNbdFit {
  const table = 'rows' in data ? data : prepareRfm(data.frequency, data.recency, data.T);
  let sumX = 0;
  let sumT = 0;
  for (let i = 0; i < table.rows; i++) {
    sumX += table.weight[i] * table.x[i];
    sumT += table.weight[i] * table.T[i];
  }
  if (sumX === 0) throw new DataError('BG/NBD cannot be fitted: no customer has a repeat purchase');
  if (!(sumT > 0)) throw new DataError('BG/NBD cannot be fitted: all customers have T = 0');
  const N = table.n;
  const rate = sumX / sumT;
  const objective = (theta: Float64Array, grad: Float64Array): number => {
    const ll = bgnbdLogLikelihood(table, toParams(theta), grad);
    for (let i = 0; i < 4; i++) grad[i] = -grad[i] / N;
    return -ll / N;
  };
  const starts: BgNbdParams[] = [];
  let warmH: Float64Array | undefined;
  let best: MinimizeResult | undefined;
  let last: MinimizeResult | undefined;
  /** exact Hessian of the mean negative LL at best.theta, when already computed */
  let bestHessian: Float64Array | undefined;
  if (options.start) starts.push({ r: 1, alpha: 1 / rate, a: 1, b: 1, ...options.start });
  else if (table.rows > WARM_START_ROWS && options.warmStart !== false) {
    // Many distinct rows (continuous times): start from a fit on a systematic subsample of the
    // distinct rows (repeated by weight), then polish on all rows with Newton's method (value,
    // gradient and exact Hessian in one pass; quadratic convergence, so ~3 passes over the data,
    // and the last pass's Hessian gives the standard errors). The end point is the full-data MLE
    // (gradient of the full-data mean LL below 1e-8); BFGS from the same start is the fallback.
    const warm = warmStart(table);
    if (warm) {
      const w = warm.params;
      const newton = minimizeNewton(
        (theta, grad, hess) => {
          const ll = bgnbdLogLikelihood(table, toParams(theta), grad, hess);
          for (let i = 0; i < 4; i++) grad[i] = -grad[i] / N;
          for (let i = 0; i < 16; i++) hess[i] = -hess[i] / N;
          return -ll / N;
        },
        [Math.log(w.r), Math.log(w.alpha), Math.log(w.a), Math.log(w.b)],
        { gradTol: 1e-8, maxIterations: 30 },
      );
      if (newton.converged && newton.theta.every((t) => Math.abs(t) < 14)) {
        best = newton;
        bestHessian = newton.hessian;
      } else {
        starts.push(w);
        warmH = warm.inverseHessian;
      }
    }
  }
  if (!best) starts.push({ r: 1, alpha: 1 / rate, a: 1, b: 1 }, { r: 0.5, alpha: 0.5 / rate, a: 0.5, b: 3 }, { r: 2, alpha: 2 / rate, a: 2, b: 5 });
  for (const [si, s] of (best ? [] : starts).entries()) {
    const res = minimizeBFGS(objective, [Math.log(s.r), Math.log(s.alpha), Math.log(s.a), Math.log(s.b)], {
      maxIterations: options.maxIterations ?? 400,
      gradTol: 1e-8,
      initialInverseHessian: si === 0 ? warmH : undefined,
    });
    last = res;
    const sane = res.theta.every((t) => Math.abs(t) < 14);
    if (res.converged && sane && (!best || res.value < best.value)) best = res;
    if (best) break;
  }
  if (!best) throw unusableFit('BG/NBD', last!, N);
  const params = toParams(best.theta);
  let se: number[] = [NaN, NaN, NaN, NaN];
  let pd = true;
  if (options.standardErrors !== false) {
    // exact Hessian of the total negative LL in log-parameters (one pass over the data)
    const H = totalNegLogHessian(4, bestHessian, N, (g, h) => bgnbdLogLikelihood(table, params, g, h));
    se = standardErrorsFromLogHessian(H, [params.r, params.alpha, params.a, params.b]);
    pd = se.every((v) => Number.isFinite(v));
    assertIdentified((reason) => {
      throw new ConvergenceError('BG/NBD', { iterations: best.iterations, gradientNorm: best.gradientNorm, logLikelihood: -best.value * N, params: [params.r, params.alpha, params.a, params.b], reason });
    }, se, [params.r, params.alpha, params.a, params.b]);
  }
  return {
    ...params,
    logLikelihood: -best.value * N,
    standardErrors: { r: se[0], alpha: se[1], a: se[2], b: se[3] },
    diagnostics: {
      converged: true,
      iterations: best.iterations,
      evaluations: best.evaluations,
      gradientNorm: best.gradientNorm,
      message: best.reason,
      customers: N,
      distinctRows: table.rows,
      hessianPositiveDefinite: pd,
      inverseHessian: best.inverseHessian,
    },
  };
}

// ---------------------------------------------------------------------------
// Per-customer quantities

/** log of a/(b+x−1) · ((α+T)/(α+t_x))^(r+x); P(alive) = 1/(1+exp(this)). −∞ when x = 0. */
function logDeathOdds(p: BgNbdParams, x: number, tx: number, T: number): number {
  if (x === 0) return -Infinity;
  return Math.log(p.a) - Math.log(p.b + x - 1) + (p.r + x) * (Math.log(p.alpha + T) - Math.log(p.alpha + tx));
}

/** P(customer still alive at T | x, t_x, T). */
export function probabilityAlive(params: BgNbdParams, x: number, tx: number, T: number): number {
  validateRfmRecord(x, tx, T);
  const d = logDeathOdds(params, x, tx, T);
  return d === -Infinity ? 1 : 1 / (1 + Math.exp(d));
}

/**
 * Expected purchases in (0, t] of a customer who is alive at time 0 with rate
 * λ ~ Gamma(r, α), dropout p ~ Beta(a, b):
 * (a+b−1)/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))].
 */
export function expectedPurchasesNewCustomer(params: BgNbdParams, t: number): number {
  const { r, alpha, a, b } = params;
  if (!(t >= 0)) throw new DataError(`horizon t must be ≥ 0 (${t})`);
  if (t === 0) return 0;
  if (Math.abs(a - 1) < 1e-7) {
    // removable singularity at a = 1: average the two sides
    const h = 1e-4;
    return (expectedPurchasesNewCustomer({ r, alpha, a: 1 + h, b }, t) + expectedPurchasesNewCustomer({ r, alpha, a: 1 - h, b }, t)) / 2;
  }
  const c = a + b - 1;
  const z = t / (alpha + t);
  // (α/(α+t))^r ₂F₁(r, b; c; z) rewritten with Euler's transformation (A&S 15.3.3) as
  // (α/(α+t))^(a−1) ₂F₁(c−r, a−1; c; z): the same value, but the numerator parameters no
  // longer grow with the customer's frequency, so nothing overflows for heavy buyers.
  const f = Math.pow(alpha / (alpha + t), a - 1) * hyp2f1(c - r, a - 1, c, z);
  return (c / (a - 1)) * (1 - f);
}

/** E[X(t)] for a randomly chosen new customer (unconditional). */
export function expectedPurchasesUnconditional(params: BgNbdParams, t: number): number {
  return expectedPurchasesNewCustomer(params, t);
}

/** E[X(T, T+t) | x, t_x, T]: expected purchases in the next t periods. */
export function expectedPurchases(params: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  const pa = probabilityAlive(params, x, tx, T);
  return pa * expectedPurchasesNewCustomer({ r: params.r + x, alpha: params.alpha + T, a: params.a, b: params.b + x }, t);
}

/**
 * P(X(t) = k) for a customer alive at time 0 (FHL 2005 eq. 8), parameters (r, α, a, b).
 */
export function probabilityOfPurchasesNewCustomer(params: BgNbdParams, k: number, t: number): number {
  if (!Number.isInteger(k) || k < 0) throw new DataError(`number of purchases must be a whole number ≥ 0 (${k})`);
  if (!(t >= 0)) throw new DataError(`horizon t must be ≥ 0 (${t})`);
  const { r, alpha, a, b } = params;
  const lq = Math.log(alpha / (alpha + t));
  const lz = t > 0 ? Math.log(t / (alpha + t)) : -Infinity;
  const lbab = betaln(a, b);
  const first = Math.exp(betaln(a, b + k) - lbab + gammaln(r + k) - gammaln(r) - gammaln(k + 1) + r * lq + (k > 0 ? k * lz : 0));
  if (k === 0) return Math.min(1, first);
  let sum = 0;
  for (let j = 0; j < k; j++) sum += Math.exp(gammaln(r + j) - gammaln(r) - gammaln(j + 1) + r * lq + (j > 0 ? j * lz : 0));
  const second = Math.exp(betaln(a + 1, b + k - 1) - lbab) * Math.max(0, 1 - sum);
  return Math.min(1, Math.max(0, first + second));
}

/** P(X(T, T+t) = k | x, t_x, T): probability of exactly k purchases in the next t periods. */
export function probabilityOfPurchases(params: BgNbdParams, k: number, t: number, x: number, tx: number, T: number): number {
  const pa = probabilityAlive(params, x, tx, T);
  const alive = probabilityOfPurchasesNewCustomer({ r: params.r + x, alpha: params.alpha + T, a: params.a, b: params.b + x }, k, t);
  return pa * alive + (k === 0 ? 1 - pa : 0);
}

// ---------------------------------------------------------------------------
// Batch scoring on a prepared table (per distinct row, then expanded)

/** P(alive) per distinct row of the table. */
export function probabilityAliveRows(params: BgNbdParams, table: RfmTable): Float64Array {
  assertBgNbdParams(params);
  const rows = table.rows;
  const out = new Float64Array(rows);
  const { r, alpha, a, b } = params;
  // per distinct x: ln a − ln(b+x−1)
  const nx = table.xValues.length;
  const lrX = new Float64Array(nx);
  const la = Math.log(a);
  for (let k = 0; k < nx; k++) lrX[k] = la - Math.log(b + table.xValues[k] - 1);
  // logarithms per distinct T / t_x when values repeat, per row otherwise (continuous times)
  const direct = table.txValues.length === 0 || table.TValues.length + table.txValues.length > rows;
  const lT = direct ? undefined : table.TValues.map((v) => Math.log(alpha + v));
  const ltx = direct ? undefined : table.txValues.map((v) => Math.log(alpha + v));
  const { x: xs, xIndex, T, tx, TIndex, txIndex } = table;
  for (let i = 0; i < rows; i++) {
    const x = xs[i];
    if (x === 0) {
      out[i] = 1;
      continue;
    }
    const diff = direct ? Math.log((alpha + T[i]) / (alpha + tx[i])) : lT![TIndex[i]] - ltx![txIndex[i]];
    const d = lrX[xIndex[i]] + (r + x) * diff;
    out[i] = 1 / (1 + Math.exp(d));
  }
  return out;
}

/**
 * For each distinct (x, T) pair, E[purchases in (T, T+t] | alive at T] at each horizon
 * in `horizons`. Returns a (pairs × horizons) row-major matrix.
 */
export function conditionalAliveExpectationPairs(params: BgNbdParams, table: RfmTable, horizons: readonly number[]): Float64Array {
  assertBgNbdParams(params);
  return pairFunctionValues(
    params,
    table,
    horizons.map((t) => (post: BgNbdParams) => expectedPurchasesNewCustomer(post, t)),
  );
}

/**
 * Evaluate functions of the posterior parameters (r+x, α+T, a, b+x) for every distinct
 * (x, T) pair; returns a (pairs × functions) row-major matrix. Each function must be an
 * analytic function of ln(α+T) for fixed x (the ₂F₁ expectations and sums of them are).
 *
 * Many distinct T for the same x (continuous-time data): the function is interpolated by a
 * Chebyshev series in u = ln(α+T) (nearest singularities at Im u = ±π, so it converges
 * geometrically), built from a few dozen direct evaluations per x, verified between the
 * nodes to 1e-11 of the largest value, and evaluated in one sequential pass over the pairs.
 * Otherwise (few T per x, or verification fails) the functions are evaluated directly.
 */
export function pairFunctionValues(params: BgNbdParams, table: RfmTable, fns: readonly ((post: BgNbdParams) => number)[]): Float64Array {
  const np = table.pairX.length;
  const nf = fns.length;
  const out = new Float64Array(np * nf);
  const nx = table.xValues.length;
  const { pairX, pairT, TValues } = table;
  // per x: number of pairs and range of T (ln is monotone, so the range of u follows)
  const count = new Int32Array(nx);
  const tMin = new Float64Array(nx).fill(Infinity);
  const tMax = new Float64Array(nx).fill(-Infinity);
  for (let p = 0; p < np; p++) {
    const k = pairX[p];
    const T = TValues[pairT[p]];
    count[k]++;
    if (T < tMin[k]) tMin[k] = T;
    if (T > tMax[k]) tMax[k] = T;
  }
  const alpha = params.alpha;
  const cheb: (ChebSeries | undefined)[] = new Array(nx);
  let any = false;
  for (let k = 0; k < nx; k++) {
    if (count[k] < CHEB_MIN_GROUP) continue;
    cheb[k] = chebyshevFit(params, table.xValues[k], Math.log(alpha + tMin[k]), Math.log(alpha + tMax[k]), count[k], fns);
    if (cheb[k]) any = true;
  }
  const post: BgNbdParams = { r: 0, alpha: 0, a: params.a, b: 0 };
  for (let p = 0; p < np; p++) {
    const k = pairX[p];
    const c = cheb[k];
    const T = TValues[pairT[p]];
    if (any && c !== undefined) {
      let y = (Math.log(alpha + T) - c.mid) / c.half;
      y = y < -1 ? -1 : y > 1 ? 1 : y;
      for (let f = 0; f < nf; f++) out[p * nf + f] = clenshaw(c.coef, f * c.N, c.N, y);
    } else {
      const x = table.xValues[k];
      post.r = params.r + x;
      post.alpha = alpha + T;
      post.b = params.b + x;
      for (let f = 0; f < nf; f++) out[p * nf + f] = fns[f](post);
    }
  }
  return out;
}

/** Below this many distinct T values for one x, evaluate directly. */
const CHEB_MIN_GROUP = 256;

interface ChebSeries {
  mid: number;
  half: number;
  N: number;
  /** functions × N coefficients */
  coef: Float64Array;
}

/** Chebyshev interpolants in u ∈ [uMin, uMax] of each function for frequency x, or undefined if they cannot be verified to 1e-11. */
function chebyshevFit(params: BgNbdParams, x: number, uMin: number, uMax: number, groupSize: number, fns: readonly ((post: BgNbdParams) => number)[]): ChebSeries | undefined {
  const nf = fns.length;
  const half = (uMax - uMin) / 2;
  const mid = (uMax + uMin) / 2;
  if (!(half > 1e-9)) return undefined;
  const sc = Math.PI / half;
  const rho = sc + Math.sqrt(1 + sc * sc);
  let N = Math.min(256, Math.max(12, Math.ceil(40 / Math.log(rho)) + 4));
  const post: BgNbdParams = { r: params.r + x, alpha: 0, a: params.a, b: params.b + x };
  const value = (u: number, f: number) => {
    post.alpha = Math.exp(u);
    return fns[f](post);
  };
  for (let attempt = 0; attempt < 2; attempt++, N *= 2) {
    if (N > 256 || N * 4 > groupSize) return undefined;
    const coef = new Float64Array(nf * N);
    const fv = new Float64Array(N);
    let ok = true;
    for (let f = 0; f < nf && ok; f++) {
      let vmax = 0;
      for (let j = 0; j < N; j++) {
        fv[j] = value(mid + half * Math.cos((Math.PI * (j + 0.5)) / N), f);
        if (!Number.isFinite(fv[j])) return undefined;
        vmax = Math.max(vmax, Math.abs(fv[j]));
      }
      for (let m = 0; m < N; m++) {
        let sum = 0;
        for (let j = 0; j < N; j++) sum += fv[j] * Math.cos((Math.PI * m * (j + 0.5)) / N);
        coef[f * N + m] = ((m === 0 ? 1 : 2) / N) * sum;
      }
      // verify between nodes
      for (const y of [-0.999, -0.71, -0.33, 0.05, 0.41, 0.77, 0.999]) {
        const direct = value(mid + half * y, f);
        const approx = clenshaw(coef, f * N, N, y);
        if (!(Math.abs(direct - approx) <= 1e-11 * Math.max(vmax, 1e-300))) {
          ok = false;
          break;
        }
      }
    }
    if (ok) return { mid, half, N, coef };
  }
  return undefined;
}

function clenshaw(c: Float64Array, off: number, n: number, y: number): number {
  let b1 = 0;
  let b2 = 0;
  const y2 = 2 * y;
  for (let k = n - 1; k >= 1; k--) {
    const t = y2 * b1 - b2 + c[off + k];
    b2 = b1;
    b1 = t;
  }
  return y * b1 - b2 + c[off];
}

/** E[X(T, T+t) | x, t_x, T] per distinct row. */
export function expectedPurchasesRows(params: BgNbdParams, table: RfmTable, t: number, pAliveRows?: Float64Array): Float64Array {
  const pa = pAliveRows ?? probabilityAliveRows(params, table);
  const g = conditionalAliveExpectationPairs(params, table, [t]);
  const out = new Float64Array(table.rows);
  for (let i = 0; i < table.rows; i++) out[i] = pa[i] * g[table.pairIndex[i]];
  return out;
}
