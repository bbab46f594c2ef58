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
  const sorted = Float64Array.from(clv).sort(); // ascending
  // value at or above which a customer is in the top `share`
  const thr = (share: number) => {
    const k = Math.floor(n * (1 - share));
    return k >= n ? Infinity : sorted[Math.max(0, k)];
  };
  const tTop = thr(cut[0]);
  const tHigh = thr(cut[1]);
  const tMed = thr(cut[2]);
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
