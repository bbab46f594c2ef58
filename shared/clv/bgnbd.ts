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
import { ConvergenceError, DataError } from './errors.ts';
import { hyp2f1 } from './hyp2f1.ts';
import { assertIdentified, minimizeBFGS, numericHessian, standardErrorsFromLogHessian } from './optimize.ts';
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
  /** compute standard errors (numeric Hessian of analytic gradient). Default true. */
  standardErrors?: boolean;
}

function assertParams(p: BgNbdParams): void {
  for (const k of ['r', 'alpha', 'a', 'b'] as const) {
    if (!(p[k] > 0) || !Number.isFinite(p[k])) throw new DataError(`BG/NBD parameter ${k} must be a positive finite number (${p[k]})`);
  }
}

/**
 * Total log-likelihood of the compressed data and its gradient with respect to
 * log(r, α, a, b). Per distinct x the gamma-function terms are computed once; per
 * distinct T / t_x the logarithms are computed once.
 */
export function bgnbdLogLikelihood(table: RfmTable, params: BgNbdParams, gradLog?: Float64Array): number {
  const { r, alpha, a, b } = params;
  const nx = table.xValues.length;
  const nT = table.TValues.length;
  const ntx = table.txValues.length;
  // per x
  const cX = new Float64Array(nx); // lnΓ(r+x) − lnΓ(r) + B-ratio
  const lrX = new Float64Array(nx); // ln a − ln(b+x−1)
  const dR = new Float64Array(nx);
  const dA = new Float64Array(nx);
  const dB = new Float64Array(nx);
  const lgr = gammaln(r);
  const lgab = gammaln(a + b);
  const lgb = gammaln(b);
  const psr = digamma(r);
  const psab = digamma(a + b);
  const psb = digamma(b);
  const la = Math.log(a);
  const withGrad = gradLog !== undefined;
  for (let k = 0; k < nx; k++) {
    const x = table.xValues[k];
    cX[k] = gammaln(r + x) - lgr + lgab + gammaln(b + x) - lgb - gammaln(a + b + x);
    lrX[k] = x > 0 ? la - Math.log(b + x - 1) : -Infinity;
    if (withGrad) {
      if (x === 0) {
        dR[k] = 0; dA[k] = 0; dB[k] = 0;
      } else {
        const psabx = digamma(a + b + x);
        dR[k] = digamma(r + x) - psr;
        dA[k] = psab - psabx;
        dB[k] = psab + digamma(b + x) - psb - psabx;
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
  let ll = 0;
  let gr = 0, gal = 0, ga = 0, gb = 0;
  for (let i = 0; i < rows; i++) {
    const w = weight[i];
    const xi = x[i];
    const kx = xIndex[i];
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
    const A3 = -rx * lT;
    let tail: number;
    if (xi === 0) {
      tail = A3;
      if (withGrad) {
        gr -= w * lT;
        gal -= w * rx * iT;
      }
    } else {
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
      const d = lrX[kx] + rx * (lT - ltx); // A4 − A3
      let w4: number;
      if (d > 0) {
        const e = Math.exp(-d);
        tail = A3 + d + Math.log1p(e);
        w4 = 1 / (1 + e);
      } else {
        const e = Math.exp(d);
        tail = A3 + Math.log1p(e);
        w4 = e / (1 + e);
      }
      if (withGrad) {
        const w3 = 1 - w4;
        gr += w * (dR[kx] - (w3 * lT + w4 * ltx));
        gal -= w * rx * (w3 * iT + w4 * itx);
        ga += w * (dA[kx] + w4 / a);
        gb += w * (dB[kx] - w4 / (b + xi - 1));
      }
    }
    ll += w * (cX[kx] + tail);
  }
  const N = table.n;
  const la0 = Math.log(alpha);
  ll += N * r * la0;
  if (withGrad) {
    gr += N * la0;
    gal += (N * r) / alpha;
    gradLog[0] = gr * r;
    gradLog[1] = gal * alpha;
    gradLog[2] = ga * a;
    gradLog[3] = gb * b;
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
  if (options.start) starts.push({ r: 1, alpha: 1 / rate, a: 1, b: 1, ...options.start });
  else if (table.rows > WARM_START_ROWS) {
    // Many distinct rows (continuous times): most BFGS iterations happen far from the optimum,
    // so start from a fit on a systematic subsample of the distinct rows (repeated by weight).
    const warm = warmStart(table);
    if (warm) {
      starts.push(warm.params);
      warmH = warm.inverseHessian;
    }
  }
  starts.push({ r: 1, alpha: 1 / rate, a: 1, b: 1 }, { r: 0.5, alpha: 0.5 / rate, a: 0.5, b: 3 }, { r: 2, alpha: 2 / rate, a: 2, b: 5 });
  let best: ReturnType<typeof minimizeBFGS> | undefined;
  let last: ReturnType<typeof minimizeBFGS> | undefined;
  for (const [si, s] of starts.entries()) {
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
  if (!best) {
    const res = last!;
    throw new ConvergenceError('BG/NBD', {
      iterations: res.iterations,
      gradientNorm: res.gradientNorm,
      logLikelihood: -res.value * N,
      params: Array.from(res.theta, Math.exp),
      reason: res.converged ? 'parameters diverged to a boundary' : res.reason,
    });
  }
  const params = toParams(best.theta);
  let se: number[] = [NaN, NaN, NaN, NaN];
  let pd = true;
  if (options.standardErrors !== false) {
    const H = numericHessian((th, out) => {
      bgnbdLogLikelihood(table, toParams(th), out);
      for (let i = 0; i < 4; i++) out[i] = -out[i];
    }, best.theta);
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
  assertParams(params);
  const out = new Float64Array(table.rows);
  const { r, alpha, a, b } = params;
  const lT = table.TValues.map((v) => Math.log(alpha + v));
  const ltx = table.txValues.map((v) => Math.log(alpha + v));
  const direct = table.txValues.length === 0;
  const la = Math.log(a);
  for (let i = 0; i < table.rows; i++) {
    const x = table.x[i];
    if (x === 0) {
      out[i] = 1;
      continue;
    }
    const lt = direct ? Math.log(alpha + table.tx[i]) : ltx[table.txIndex[i]];
    const d = la - Math.log(b + x - 1) + (r + x) * (lT[table.TIndex[i]] - lt);
    out[i] = 1 / (1 + Math.exp(d));
  }
  return out;
}

/**
 * For each distinct (x, T) pair, E[purchases in (T, T+t] | alive at T] at each horizon
 * in `horizons`. Returns a (pairs × horizons) row-major matrix.
 */
export function conditionalAliveExpectationPairs(params: BgNbdParams, table: RfmTable, horizons: readonly number[]): Float64Array {
  assertParams(params);
  const np = table.pairX.length;
  const nh = horizons.length;
  const out = new Float64Array(np * nh);
  // group the pairs by x (counting sort)
  const nx = table.xValues.length;
  const start = new Int32Array(nx + 1);
  for (let p = 0; p < np; p++) start[table.pairX[p] + 1]++;
  for (let k = 0; k < nx; k++) start[k + 1] += start[k];
  const fill = start.slice(0, nx);
  const order = new Int32Array(np);
  for (let p = 0; p < np; p++) order[fill[table.pairX[p]]++] = p;
  for (let k = 0; k < nx; k++) {
    const group = order.subarray(start[k], start[k + 1]);
    const x = table.xValues[k];
    if (group.length < CHEB_MIN_GROUP || !chebyshevGroup(params, table, x, group, horizons, out)) {
      for (const p of group) {
        const post = { r: params.r + x, alpha: params.alpha + table.TValues[table.pairT[p]], a: params.a, b: params.b + x };
        for (let h = 0; h < nh; h++) out[p * nh + h] = expectedPurchasesNewCustomer(post, horizons[h]);
      }
    }
  }
  return out;
}

/** Below this many distinct T values for one x, evaluate ₂F₁ directly. */
const CHEB_MIN_GROUP = 256;

/**
 * Many distinct T for the same x (continuous-time data): E[X(t) | alive] is an analytic
 * function of u = ln(α+T) whose nearest singularities are at Im u = ±π, so a Chebyshev
 * interpolant in u converges geometrically. Build it from N direct evaluations per horizon,
 * verify it at the midpoints between nodes (relative to the largest value, 1e-11), and
 * evaluate it for every pair. Returns false (caller evaluates directly) if it cannot verify.
 */
function chebyshevGroup(params: BgNbdParams, table: RfmTable, x: number, group: Int32Array, horizons: readonly number[], out: Float64Array): boolean {
  const nh = horizons.length;
  let uMin = Infinity;
  let uMax = -Infinity;
  for (const p of group) {
    const u = Math.log(params.alpha + table.TValues[table.pairT[p]]);
    if (u < uMin) uMin = u;
    if (u > uMax) uMax = u;
  }
  const half = (uMax - uMin) / 2;
  const mid = (uMax + uMin) / 2;
  if (!(half > 1e-9)) return false;
  const sc = Math.PI / half;
  const rho = sc + Math.sqrt(1 + sc * sc);
  let N = Math.min(256, Math.max(12, Math.ceil(40 / Math.log(rho)) + 4));
  if (N * 4 > group.length) return false;
  const value = (u: number, t: number) => expectedPurchasesNewCustomer({ r: params.r + x, alpha: Math.exp(u), a: params.a, b: params.b + x }, t);
  for (let attempt = 0; attempt < 2; attempt++, N *= 2) {
    if (N > 256 || N * 4 > group.length) return false;
    const coef = new Float64Array(nh * N);
    const fv = new Float64Array(N);
    let ok = true;
    for (let h = 0; h < nh && ok; h++) {
      let vmax = 0;
      for (let j = 0; j < N; j++) {
        fv[j] = value(mid + half * Math.cos((Math.PI * (j + 0.5)) / N), horizons[h]);
        if (!Number.isFinite(fv[j])) return false;
        vmax = Math.max(vmax, Math.abs(fv[j]));
      }
      for (let m = 0; m < N; m++) {
        let sum = 0;
        for (let j = 0; j < N; j++) sum += fv[j] * Math.cos((Math.PI * m * (j + 0.5)) / N);
        coef[h * N + m] = ((m === 0 ? 1 : 2) / N) * sum;
      }
      // verify between nodes
      for (const y of [-0.999, -0.71, -0.33, 0.05, 0.41, 0.77, 0.999]) {
        const direct = value(mid + half * y, horizons[h]);
        const approx = clenshaw(coef, h * N, N, y);
        if (!(Math.abs(direct - approx) <= 1e-11 * Math.max(vmax, 1e-300))) {
          ok = false;
          break;
        }
      }
    }
    if (!ok) continue;
    for (const p of group) {
      const y = (Math.log(params.alpha + table.TValues[table.pairT[p]]) - mid) / half;
      for (let h = 0; h < nh; h++) out[p * nh + h] = clenshaw(coef, h * N, N, Math.max(-1, Math.min(1, y)));
    }
    return true;
  }
  return false;
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
