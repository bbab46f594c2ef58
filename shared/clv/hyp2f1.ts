/**
 * Gauss hypergeometric function ₂F₁(a, b; c; z) for real parameters and real z ≤ 1.
 *
 * Strategy (Abramowitz & Stegun 15.3):
 *  - z < 0: Pfaff transformation 15.3.4, ₂F₁(a,b;c;z) = (1−z)^(−a) ₂F₁(a, c−b; c; z/(z−1)),
 *    which maps z onto (0, 1).
 *  - 0 ≤ z ≤ 0.5: the defining power series.
 *  - 0.5 < z < 1: the linear transformation to 1 − z (15.3.6), whose series converge at least
 *    like 0.5ⁿ. When c − a − b is (nearly) an integer the two terms of 15.3.6 have poles that
 *    cancel; there we evaluate at four nearby values of c with c − a − b kept 1e-3 or more away
 *    from the integer and interpolate (cubic Lagrange), which keeps ~1e-11 relative accuracy
 *    without the digamma series of 15.3.10–12.
 *  - z = 1: Gauss's theorem when c − a − b > 0, +∞ otherwise.
 * Special cases: a = 0 or b = 0 → 1; a = c → (1−z)^(−b); b = c → (1−z)^(−a); terminating
 * series (a or b a non-positive integer) are summed directly.
 * Tested against mpmath reference values in test/clv/hyp2f1.test.ts.
 */
import gammaln from '@stdlib/math-base-special-gammaln';

const MAX_TERMS = 200_000;

function isNonPositiveInteger(x: number): boolean {
  return x <= 0 && Number.isInteger(x);
}

/** Sign of Γ(x) (0 at poles). */
function gammaSign(x: number): number {
  if (x > 0) return 1;
  if (Number.isInteger(x)) return 0;
  return Math.floor(x) % 2 === 0 ? 1 : -1;
}

/** Γ(n1)Γ(n2) / (Γ(d1)Γ(d2)), computed in logs with signs; 0 when a denominator is at a pole. */
function gammaRatio(n1: number, n2: number, d1: number, d2: number): number {
  const sd = gammaSign(d1) * gammaSign(d2);
  if (sd === 0) return 0;
  const sn = gammaSign(n1) * gammaSign(n2);
  if (sn === 0) return NaN;
  return sn * sd * Math.exp(gammaln(n1) + gammaln(n2) - gammaln(d1) - gammaln(d2));
}

/** Direct power series Σ (a)ₙ(b)ₙ/((c)ₙ n!) zⁿ. */
function series(a: number, b: number, c: number, z: number): number {
  let term = 1;
  let sum = 1;
  // with c < 0 the terms are re-amplified when c + n passes through 0: never stop before that
  const nMin = Math.max(2, Math.ceil(-c) + 1);
  for (let n = 0; n < MAX_TERMS; n++) {
    term *= ((a + n) * (b + n)) / ((c + n) * (n + 1)) * z;
    sum += term;
    if (term === 0) return sum;
    if (Math.abs(term) <= 1e-17 * Math.abs(sum) && n > nMin) {
      // make sure the terms are decreasing from here on (ratio < 1)
      const ratio = Math.abs(((a + n + 1) * (b + n + 1)) / ((c + n + 1) * (n + 2)) * z);
      if (ratio < 1) return sum;
    }
    if (!Number.isFinite(sum)) return sum;
  }
  throw new RangeError(`hyp2f1 series did not converge for a=${a}, b=${b}, c=${c}, z=${z}`);
}

/** 15.3.6 for non-integer m = c − a − b, 0.5 < z < 1. */
function oneMinusZ(a: number, b: number, c: number, z: number, mag?: { v: number }): number {
  const m = c - a - b;
  const w = 1 - z;
  const t1 = gammaRatio(c, m, c - a, c - b);
  const t2 = gammaRatio(c, -m, a, b);
  let s1 = 0;
  let s2 = 0;
  if (t1 !== 0) s1 = t1 * series(a, b, 1 - m, w);
  if (t2 !== 0) s2 = t2 * Math.pow(w, m) * series(c - a, c - b, 1 + m, w);
  const s = s1 + s2;
  if (mag) mag.v = (Math.abs(s1) + Math.abs(s2)) / Math.abs(s);
  return s;
}

const DEGENERATE_EPS = 1e-4;

function positiveZ(a: number, b: number, c: number, z: number): number {
  if (z <= 0.5) return series(a, b, c, z);
  const m = c - a - b;
  // The power series still converges (geometrically, ratio z); use it when the
  // 1 − z transformation would cancel badly or is degenerate, as long as z is not too close to 1.
  const directOk = z <= 0.9;
  const m0 = Math.round(m);
  const delta = m - m0;
  if (Math.abs(delta) >= 2 * DEGENERATE_EPS) {
    const mag = { v: 1 };
    const v = oneMinusZ(a, b, c, z, mag);
    if (directOk && !(mag.v < 1e3)) return series(a, b, c, z);
    return v;
  }
  if (directOk) return series(a, b, c, z);
  // nearly-integer c − a − b: interpolate in c around the degenerate point
  const e = DEGENERATE_EPS;
  const nodes = [-3 * e, -2 * e, 2 * e, 3 * e];
  const base = c - delta; // value of c at which c − a − b is exactly integer
  const vals = nodes.map((o) => oneMinusZ(a, b, base + o, z));
  let result = 0;
  for (let i = 0; i < 4; i++) {
    let li = 1;
    for (let j = 0; j < 4; j++) if (j !== i) li *= (delta - nodes[j]) / (nodes[i] - nodes[j]);
    result += li * vals[i];
  }
  return result;
}

/**
 * ₂F₁(a, b; c; z) for real a, b, c and z ≤ 1. Throws RangeError for z > 1, for c a pole
 * (non-positive integer without an earlier terminating numerator), or non-finite input.
 */
export function hyp2f1(a: number, b: number, c: number, z: number): number {
  if (!(Number.isFinite(a) && Number.isFinite(b) && Number.isFinite(c) && Number.isFinite(z))) throw new RangeError('hyp2f1: non-finite argument');
  if (z > 1) throw new RangeError(`hyp2f1: z = ${z} > 1 is outside the supported domain`);
  if (z === 0 || a === 0 || b === 0) return 1;
  const aTerm = isNonPositiveInteger(a);
  const bTerm = isNonPositiveInteger(b);
  if (isNonPositiveInteger(c)) {
    const ok = (aTerm && a > c) || (bTerm && b > c);
    if (!ok) throw new RangeError(`hyp2f1: c = ${c} is a pole`);
  }
  if (aTerm || bTerm) {
    // terminating polynomial
    let term = 1;
    let sum = 1;
    const nMax = -(aTerm && bTerm ? Math.max(a, b) : aTerm ? a : b);
    for (let n = 0; n < nMax; n++) {
      term *= ((a + n) * (b + n)) / ((c + n) * (n + 1)) * z;
      sum += term;
    }
    return sum;
  }
  if (a === c) return Math.pow(1 - z, -b);
  if (b === c) return Math.pow(1 - z, -a);
  if (z === 1) {
    const m = c - a - b;
    if (m <= 0) return Infinity;
    return gammaRatio(c, m, c - a, c - b);
  }
  if (z < 0) {
    const w = z / (z - 1);
    // 15.3.4 / 15.3.5 — choose the variant whose new numerator terminates if any
    if (isNonPositiveInteger(c - a)) return Math.pow(1 - z, -b) * hyp2f1(c - a, b, c, w);
    return Math.pow(1 - z, -a) * hyp2f1(a, c - b, c, w);
  }
  return positiveZ(a, b, c, z);
}
