/**
 * Small-dimension quasi-Newton optimizer (BFGS with a Wolfe line search) for
 * maximum-likelihood fits on log-scale parameters, plus numeric Hessians for
 * standard errors. Pure and allocation-light.
 */
import stdlibTrigamma from '@stdlib/math-base-special-trigamma';

/** Objective: returns f(θ) and writes ∇f(θ) into grad. Minimized. */
export type ObjectiveWithGradient = (theta: Float64Array, grad: Float64Array) => number;

export interface MinimizeOptions {
  /** Stop when max |∇f| (per unit weight) falls below this. */
  gradTol?: number;
  /** Stop when relative change of f is below this for two consecutive iterations (and gradient is small-ish). */
  fTol?: number;
  maxIterations?: number;
  /** initial inverse Hessian (row-major n×n), e.g. from a fit on a subsample */
  initialInverseHessian?: Float64Array;
}

export interface MinimizeResult {
  theta: Float64Array;
  value: number;
  gradient: Float64Array;
  iterations: number;
  evaluations: number;
  converged: boolean;
  reason: string;
  gradientNorm: number;
  /** final BFGS inverse-Hessian approximation */
  inverseHessian: Float64Array;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]);
    if (v > m || Number.isNaN(v)) m = v;
  }
  return m;
}

/**
 * Minimize f with BFGS. The objective should be scaled to O(1) (e.g. a mean
 * negative log-likelihood) so that the default tolerances make sense.
 */
export function minimizeBFGS(f: ObjectiveWithGradient, theta0: ArrayLike<number>, opts: MinimizeOptions = {}): MinimizeResult {
  const n = theta0.length;
  const gradTol = opts.gradTol ?? 1e-7;
  const fTol = opts.fTol ?? 1e-13;
  const maxIt = opts.maxIterations ?? 500;
  let x = Float64Array.from(theta0);
  let g = new Float64Array(n);
  let fx = f(x, g);
  let evaluations = 1;
  if (!Number.isFinite(fx) || !g.every(Number.isFinite)) {
    return { theta: x, value: fx, gradient: g, iterations: 0, evaluations, converged: false, reason: 'objective not finite at the starting point', gradientNorm: maxAbs(g), inverseHessian: new Float64Array(n * n) };
  }
  // inverse Hessian approximation, row-major
  const H = new Float64Array(n * n);
  const resetH = () => {
    H.fill(0);
    for (let i = 0; i < n; i++) H[i * n + i] = 1;
  };
  resetH();
  let updated = false;
  if (opts.initialInverseHessian && opts.initialInverseHessian.length === n * n && opts.initialInverseHessian.every(Number.isFinite)) {
    H.set(opts.initialInverseHessian);
    updated = true;
  }
  const d = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  const s = new Float64Array(n);
  const y = new Float64Array(n);
  const Hy = new Float64Array(n);
  let smallSteps = 0;
  let reason = 'maximum iterations reached';
  let converged = false;
  let it = 0;
  for (; it < maxIt; it++) {
    const gn = maxAbs(g);
    if (gn < gradTol) {
      converged = true;
      reason = 'gradient below tolerance';
      break;
    }
    // d = -H g
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let j = 0; j < n; j++) v -= H[i * n + j] * g[j];
      d[i] = v;
    }
    let slope = dot(d, g);
    if (!(slope < 0)) {
      resetH();
      updated = false;
      for (let i = 0; i < n; i++) d[i] = -g[i];
      slope = dot(d, g);
    }
    // limit the step in log-parameter space to avoid overflow
    const dMax = maxAbs(d);
    let step = dMax > 5 ? 5 / dMax : 1;
    // Wolfe line search (bracketing + bisection/zoom)
    const c1 = 1e-4;
    const c2 = 0.9;
    let lo = 0;
    let hi = Infinity;
    let fNew = NaN;
    let accepted = false;
    let flat = false;
    for (let ls = 0; ls < 60; ls++) {
      // steps this small cannot be resolved in the objective: give up on this direction
      if (step * dMax < 1e-10) break;
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * d[i];
      fNew = f(xNew, gNew);
      evaluations++;
      // (the 1e-15·|f| slack accepts steps whose decrease is below rounding noise near the optimum)
      if (!Number.isFinite(fNew) || fNew > fx + c1 * step * slope + 1e-15 * Math.abs(fx) || !gNew.every(Number.isFinite)) {
        if (Number.isFinite(fNew) && Math.abs(fNew - fx) <= 1e-14 * Math.max(1, Math.abs(fx)) && maxAbs(g) < gradTol * 1e3) {
          // the objective no longer changes beyond rounding noise and the gradient is small: done
          flat = true;
          break;
        }
        hi = step;
        step = (lo + hi) / 2;
        continue;
      }
      const newSlope = dot(gNew, d);
      if (newSlope < c2 * slope) {
        lo = step;
        step = hi === Infinity ? step * 2 : (lo + hi) / 2;
        continue;
      }
      accepted = true;
      break;
    }
    if (flat) {
      converged = true;
      reason = 'objective flat within rounding (gradient small)';
      break;
    }
    if (!accepted) {
      // accept any decrease found at the lower bracket, else stop
      if (lo > 0) {
        for (let i = 0; i < n; i++) xNew[i] = x[i] + lo * d[i];
        fNew = f(xNew, gNew);
        evaluations++;
        accepted = Number.isFinite(fNew) && fNew <= fx;
      }
      if (!accepted) {
        converged = maxAbs(g) < gradTol * 1e3;
        reason = converged ? 'line search cannot improve further (gradient small)' : 'line search failed';
        break;
      }
    }
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i] - x[i];
      y[i] = gNew[i] - g[i];
    }
    const sy = dot(s, y);
    const rel = Math.abs(fx - fNew) / Math.max(1, Math.abs(fx));
    const tmpX = x;
    x = Float64Array.from(xNew);
    void tmpX;
    const tmpG = g;
    g = Float64Array.from(gNew);
    void tmpG;
    fx = fNew;
    if (sy > 1e-300) {
      if (!updated) {
        // scale the initial inverse Hessian (Nocedal & Wright eq. 6.20) before the first update
        const yy = dot(y, y);
        resetH();
        for (let i = 0; i < n; i++) H[i * n + i] = sy / yy;
        updated = true;
      }
      // BFGS inverse update: H = (I - ρ s yᵀ) H (I - ρ y sᵀ) + ρ s sᵀ
      const rho = 1 / sy;
      for (let i = 0; i < n; i++) {
        let v = 0;
        for (let j = 0; j < n; j++) v += H[i * n + j] * y[j];
        Hy[i] = v;
      }
      const yHy = dot(y, Hy);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          H[i * n + j] += -rho * (Hy[i] * s[j] + s[i] * Hy[j]) + (rho * rho * yHy + rho) * s[i] * s[j];
        }
      }
    }
    if (rel < fTol) {
      smallSteps++;
      if (smallSteps >= 3) {
        converged = maxAbs(g) < gradTol * 1e3;
        reason = converged ? 'objective stopped changing (gradient small)' : 'objective stopped changing but gradient is not small';
        it++;
        break;
      }
    } else smallSteps = 0;
  }
  return { theta: x, value: fx, gradient: g, iterations: it, evaluations, converged, reason, gradientNorm: maxAbs(g), inverseHessian: Float64Array.from(H) };
}

/**
 * Hessian of f at θ by central differences of the analytic gradient
 * (symmetrized). `grad` writes ∇f into its second argument.
 */
export function numericHessian(grad: (theta: Float64Array, out: Float64Array) => void, theta: ArrayLike<number>): Float64Array {
  const n = theta.length;
  const H = new Float64Array(n * n);
  const tp = Float64Array.from(theta);
  const gp = new Float64Array(n);
  const gm = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const h = 1e-5 * Math.max(1, Math.abs(theta[j]));
    tp[j] = theta[j] + h;
    grad(tp, gp);
    tp[j] = theta[j] - h;
    grad(tp, gm);
    tp[j] = theta[j];
    for (let i = 0; i < n; i++) H[i * n + j] = (gp[i] - gm[i]) / (2 * h);
  }
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = (H[i * n + j] + H[j * n + i]) / 2;
      H[i * n + j] = v;
      H[j * n + i] = v;
    }
  }
  return H;
}

/** Inverse of a small symmetric positive-definite matrix (Gauss-Jordan with pivoting). Returns null if singular. */
export function invertMatrix(A: Float64Array, n: number): Float64Array | null {
  const M = Float64Array.from(A);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r * n + c]) > Math.abs(M[p * n + c])) p = r;
    const piv = M[p * n + c];
    if (!Number.isFinite(piv) || Math.abs(piv) < 1e-300) return null;
    if (p !== c) {
      for (let k = 0; k < n; k++) {
        let t = M[c * n + k]; M[c * n + k] = M[p * n + k]; M[p * n + k] = t;
        t = inv[c * n + k]; inv[c * n + k] = inv[p * n + k]; inv[p * n + k] = t;
      }
    }
    for (let k = 0; k < n; k++) {
      M[c * n + k] /= piv;
      inv[c * n + k] /= piv;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const fct = M[r * n + c];
      if (fct === 0) continue;
      for (let k = 0; k < n; k++) {
        M[r * n + k] -= fct * M[c * n + k];
        inv[r * n + k] -= fct * inv[c * n + k];
      }
    }
  }
  return inv;
}

/**
 * Standard errors of natural-scale parameters p = exp(θ) from the Hessian of the
 * total negative log-likelihood with respect to θ (log parameters), evaluated at
 * the optimum: Cov(p) = J H⁻¹ J with J = diag(p). NaN when the Hessian is singular
 * or not positive definite.
 */
/**
 * The exact Hessian (n×n, row-major) of the total negative log-likelihood in log-parameters:
 * the optimizer's last mean Hessian scaled by the number of customers when it has one,
 * otherwise one pass of `logLikelihoodWithHessian` (which writes the LL's Hessian) negated.
 */
export function totalNegLogHessian(
  n: number,
  meanHessian: Float64Array | undefined,
  scale: number,
  logLikelihoodWithHessian: (grad: Float64Array, hess: Float64Array) => unknown,
): Float64Array {
  const H = new Float64Array(n * n);
  if (meanHessian) for (let i = 0; i < n * n; i++) H[i] = meanHessian[i] * scale;
  else {
    logLikelihoodWithHessian(new Float64Array(n), H);
    for (let i = 0; i < n * n; i++) H[i] = -H[i];
  }
  return H;
}

export function standardErrorsFromLogHessian(H: Float64Array, params: ArrayLike<number>): number[] {
  const n = params.length;
  const inv = invertMatrix(H, n);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = inv ? inv[i * n + i] : NaN;
    out.push(v > 0 ? Math.abs(params[i]) * Math.sqrt(v) : NaN);
  }
  return out;
}

/**
 * Throw a ConvergenceError-style failure when the Hessian at the end point is not positive
 * definite (the "optimum" is on a boundary / a flat ridge, so the estimates are meaningless).
 */
export function assertIdentified(
  fail: (reason: string) => never,
  standardErrors: readonly number[],
  params?: readonly number[],
): void {
  if (!standardErrors.every((v) => Number.isFinite(v) && v > 0)) {
    fail('the Hessian at the end point is not positive definite: the likelihood has no interior maximum (parameters run to a boundary), so the data do not identify the model');
  }
  if (params && standardErrors.some((v, i) => v > MAX_RELATIVE_SE * Math.abs(params[i]))) {
    fail(`a standard error is more than ${MAX_RELATIVE_SE}× its estimate: the likelihood is flat along a ridge towards a boundary, so the data do not identify the model`);
  }
}

/** Standard errors above this multiple of the estimate mean the parameter is not identified. */
export const MAX_RELATIVE_SE = 100;

/** Trigamma ψ₁(x) = d²/dx² ln Γ(x), from @stdlib (re-exported for the models' exact Hessians). */
export const trigamma: (x: number) => number = stdlibTrigamma;

/** Objective with gradient and Hessian (row-major n×n) written into grad and hess. Minimized. */
export type ObjectiveWithHessian = (theta: Float64Array, grad: Float64Array, hess: Float64Array) => number;

/** Cholesky solve of H d = −g for a small SPD matrix; false if H is not positive definite. */
function newtonDirection(H: Float64Array, g: Float64Array, d: Float64Array): boolean {
  const n = g.length;
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = H[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0) || !Number.isFinite(s)) return false;
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j];
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = -g[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * y[k];
    y[i] = s / L[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * d[k];
    d[i] = s / L[i * n + i];
  }
  return true;
}

export interface NewtonResult extends MinimizeResult {
  /** exact Hessian of f at theta (row-major) */
  hessian: Float64Array;
}

/**
 * Newton's method with a backtracking line search, for polishing a good starting point
 * (e.g. a fit on a subsample) with an objective whose exact Hessian is cheap (one pass over
 * the data gives value, gradient and Hessian). Converges quadratically near the optimum, so a
 * few passes replace the dozens of a quasi-Newton fit and the Hessian for standard errors comes
 * for free. Returns converged = false (caller falls back to BFGS) if the Hessian is not positive
 * definite along the way or no step decreases f.
 */
export function minimizeNewton(f: ObjectiveWithHessian, theta0: ArrayLike<number>, opts: { gradTol?: number; maxIterations?: number } = {}): NewtonResult {
  const n = theta0.length;
  const gradTol = opts.gradTol ?? 1e-7;
  const maxIt = opts.maxIterations ?? 20;
  let x = Float64Array.from(theta0);
  let g = new Float64Array(n);
  let H = new Float64Array(n * n);
  let fx = f(x, g, H);
  let evaluations = 1;
  let xNew = new Float64Array(n);
  let gNew = new Float64Array(n);
  let HNew = new Float64Array(n * n);
  const d = new Float64Array(n);
  let converged = false;
  let reason = 'maximum iterations reached';
  let it = 0;
  const finite = (a: Float64Array) => a.every(Number.isFinite);
  if (!Number.isFinite(fx) || !finite(g) || !finite(H)) reason = 'objective not finite at the starting point';
  else {
    for (; it < maxIt; it++) {
      const gn = maxAbs(g);
      if (gn < gradTol) {
        converged = true;
        reason = 'gradient below tolerance';
        break;
      }
      if (!newtonDirection(H, g, d)) {
        reason = 'Hessian not positive definite';
        break;
      }
      const dMax = maxAbs(d);
      let step = dMax > 2 ? 2 / dMax : 1;
      const slope = dot(d, g);
      let accepted = false;
      for (let ls = 0; ls < 30; ls++) {
        for (let i = 0; i < n; i++) xNew[i] = x[i] + step * d[i];
        const fNew = f(xNew, gNew, HNew);
        evaluations++;
        if (Number.isFinite(fNew) && finite(gNew) && finite(HNew)) {
          const decrease = fNew <= fx + 1e-4 * step * slope;
          // Near the optimum the change of f (a mean over up to millions of terms) is below its
          // rounding noise (~1e-13 relative): there, accept a step that shrinks the gradient.
          const noise = fNew - fx <= 1e-12 * Math.max(1, Math.abs(fx)) && maxAbs(gNew) < gn;
          if (decrease || noise) {
            accepted = true;
            fx = fNew;
            [x, xNew] = [xNew, x];
            [g, gNew] = [gNew, g];
            [H, HNew] = [HNew, H];
            break;
          }
        }
        step /= 2;
      }
      if (!accepted) {
        reason = 'line search failed';
        break;
      }
    }
  }
  const inv = invertMatrix(H, n) ?? new Float64Array(n * n);
  return { theta: x, value: fx, gradient: g, iterations: it, evaluations, converged, reason, gradientNorm: maxAbs(g), inverseHessian: inv, hessian: H };
}
