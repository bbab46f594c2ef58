/**
 * Value tiers. Customers whose P(alive) is below `lapsedBelow` (default 0.2) are "lapsed".
 * The rest are ranked by CLV against the CLV quantiles of the whole scored base:
 * top 10% → "top", next 20% → "high", next 30% → "medium", the remaining 40% → "low".
 * Ties at a boundary go to the higher tier.
 */
import { DataError } from './errors.ts';
import type { NumArray } from './rfm.ts';

export type ValueTier = 'top' | 'high' | 'medium' | 'low' | 'lapsed';

export interface TierOptions {
  lapsedBelow?: number;
  /** cumulative shares for top / high / medium (default 0.1, 0.3, 0.6) */
  cutoffs?: readonly [number, number, number];
}

export const DEFAULT_TIER_OPTIONS = { lapsedBelow: 0.2, cutoffs: [0.1, 0.3, 0.6] as const };

export function assignValueTiers(clv: NumArray, pAlive: NumArray, options: TierOptions = {}): ValueTier[] {
  const n = clv.length;
  if (pAlive.length !== n) throw new DataError('clv and pAlive must have the same length');
  const lapsedBelow = options.lapsedBelow ?? DEFAULT_TIER_OPTIONS.lapsedBelow;
  const cut = options.cutoffs ?? DEFAULT_TIER_OPTIONS.cutoffs;
  // value at or above which a customer is in the top `share`: the k-th value in ascending
  // order (NaN last), k = ⌊n(1 − share)⌋, found by selection instead of a full sort
  const ks = cut.map((share) => Math.max(0, Math.floor(n * (1 - share))));
  const kth = orderStatistics(clv, ks.filter((k) => k < n));
  const [tTop, tHigh, tMed] = ks.map((k) => (k >= n ? Infinity : kth.get(k)!));
  const out: ValueTier[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const v = clv[i];
    if (pAlive[i] < lapsedBelow) out[i] = 'lapsed';
    else if (v >= tTop) out[i] = 'top';
    else if (v >= tHigh) out[i] = 'high';
    else if (v >= tMed) out[i] = 'medium';
    else out[i] = 'low';
  }
  return out;
}

/**
 * The values that sorting `values` ascending (NaN last, as Float64Array.prototype.sort does)
 * would put at each index in `ks`, in O(n) per index: quickselect on one copy, largest index
 * first, each later search confined to the part below the previous one.
 */
export function orderStatistics(values: NumArray, ks: readonly number[]): Map<number, number> {
  const n = values.length;
  const a = new Float64Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === v) a[m++] = v; // NaN sorts last: leave them out of the selection
  }
  const out = new Map<number, number>();
  let hi = m;
  for (const k of [...new Set(ks)].sort((x, y) => y - x)) {
    if (k >= m) {
      out.set(k, NaN);
      continue;
    }
    select(a, 0, hi - 1, k);
    out.set(k, a[k]);
    hi = k + 1;
  }
  return out;
}

/** Rearrange a[l..r] so that a[k] holds the value sorting would put there (Hoare quickselect). */
function select(a: Float64Array, l: number, r: number, k: number): void {
  for (let rounds = 0; r > l; rounds++) {
    if (rounds > 64) {
      a.subarray(l, r + 1).sort(); // pathological pivots: finish by sorting what is left
      return;
    }
    const x = a[l];
    const y = a[(l + r) >>> 1];
    const z = a[r];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = l;
    let j = r;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    // a[l..j] ≤ pivot, a[i..r] ≥ pivot, everything between equals pivot
    if (k <= j) r = j;
    else if (k >= i) l = i;
    else return;
  }
}
