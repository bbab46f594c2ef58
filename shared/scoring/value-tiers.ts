/**
 * Value tiers with cut points fixed by the fit step, so a customer scored alone gets the
 * tier that shared/clv `assignValueTiers` would give her within the fit sample: the CLV at
 * or above which a customer is in the top 10% (top), 30% (high) and 60% (medium) of the
 * sample; the rest is low; a customer with P(alive) below `lapsedBelow` is lapsed whatever
 * her CLV. Ties at a cut go to the higher tier.
 */
import type { ValueTier } from '../clv/tiers.ts';
import type { NumArray } from '../clv/rfm.ts';

export type TierCuts = { top: number; high: number; medium: number; lapsedBelow: number };

/** Cut points from a sample's CLVs (the same quantile rule as shared/clv assignValueTiers). */
export function tierCutPoints(clv: NumArray, shares: readonly [number, number, number], lapsedBelow: number): TierCuts | undefined {
  const n = clv.length;
  if (n === 0) return undefined;
  const sorted = Float64Array.from(clv).sort();
  const at = (share: number) => {
    const k = Math.floor(n * (1 - share));
    return k >= n ? Infinity : sorted[Math.max(0, k)]!;
  };
  return { top: at(shares[0]), high: at(shares[1]), medium: at(shares[2]), lapsedBelow };
}

export function valueTierOf(clv: number, pAlive: number, cuts: TierCuts): ValueTier {
  if (pAlive < cuts.lapsedBelow) return 'lapsed';
  if (clv >= cuts.top) return 'top';
  if (clv >= cuts.high) return 'high';
  if (clv >= cuts.medium) return 'medium';
  return 'low';
}
