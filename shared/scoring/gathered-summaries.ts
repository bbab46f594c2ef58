/**
 * The fit's input, gathered from the workers: model summaries compressed to unique rows
 * with counts. Customers with the same (x, tₓ, T, mean spend) — many, since times are
 * whole days — share one row, and subscribers with the same tenure, outcome and monthly
 * value share one.
 * Each worker builds its part; parts merge by adding counts (associative, commutative,
 * order-independent: rows are kept sorted), so a final step can combine any number of them.
 */
import type { AdHocSummary, ModelSummary, SubscriptionSummary } from './profile-summary.ts';

export type AdHocRow = { frequency: number; recency: number; T: number; monetary: number; count: number };
/** `monthlyValue` (0 when unknown or ended) is kept for the CLVs behind the tier cut points. */
export type TenureRow = { periods: number; churned: boolean; monthlyValue: number; count: number };

export type GatheredSummaries = {
  adHoc: AdHocRow[];
  tenures: TenureRow[];
  /** Customers without purchases or subscriptions (not in any fit). */
  withoutHistory: number;
};

export const emptyGathered = (): GatheredSummaries => ({ adHoc: [], tenures: [], withoutHistory: 0 });

const adHocKey = (r: Omit<AdHocRow, 'count'>): string => `${r.frequency}|${r.recency}|${r.T}|${r.monetary}`;
const tenureKey = (r: Omit<TenureRow, 'count'>): string => `${r.periods}|${r.churned ? 1 : 0}|${r.monthlyValue}`;
const byKey = <R>(key: (r: R) => string) => (a: R, b: R): number => {
  const ka = key(a);
  const kb = key(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

function mergeRows<R extends { count: number }>(a: readonly R[], b: readonly R[], key: (r: R) => string): R[] {
  const out = new Map<string, R>();
  for (const r of [...a, ...b]) {
    const k = key(r);
    const held = out.get(k);
    out.set(k, held ? { ...held, count: held.count + r.count } : { ...r });
  }
  return [...out.values()].sort(byKey(key));
}

/** Merges two parts (either may be a single customer's). */
export function mergeGathered(a: GatheredSummaries, b: GatheredSummaries): GatheredSummaries {
  return {
    adHoc: mergeRows(a.adHoc, b.adHoc, adHocKey),
    tenures: mergeRows(a.tenures, b.tenures, tenureKey),
    withoutHistory: a.withoutHistory + b.withoutHistory,
  };
}

/**
 * Gathers many summaries into one part (one pass, a map per kind; use this in a worker,
 * and `mergeGathered` to combine the workers' parts).
 */
export function gatherSummaries(summaries: Iterable<ModelSummary>): GatheredSummaries {
  const adHoc = new Map<string, AdHocRow>();
  const tenures = new Map<string, TenureRow>();
  let withoutHistory = 0;
  const bump = <R extends { count: number }>(map: Map<string, R>, k: string, row: () => R) => {
    const held = map.get(k);
    if (held) held.count += 1;
    else map.set(k, row());
  };
  for (const s of summaries) {
    if (s.kind === 'adhoc') {
      const { frequency, recency, T, monetary } = s as AdHocSummary;
      bump(adHoc, adHocKey(s), () => ({ frequency, recency, T, monetary, count: 1 }));
    } else if (s.kind === 'subscription') {
      const sub = s as SubscriptionSummary;
      const { periods, churned } = sub.tenure;
      const monthlyValue = sub.active ? (sub.monthlyValue ?? 0) : 0;
      bump(tenures, tenureKey({ periods, churned, monthlyValue }), () => ({ periods, churned, monthlyValue, count: 1 }));
    } else withoutHistory += 1;
  }
  return {
    adHoc: [...adHoc.values()].sort(byKey(adHocKey)),
    tenures: [...tenures.values()].sort(byKey(tenureKey)),
    withoutHistory,
  };
}

export const gatheredCustomers = (g: GatheredSummaries): { adHoc: number; subscription: number } => ({
  adHoc: g.adHoc.reduce((s, r) => s + r.count, 0),
  subscription: g.tenures.reduce((s, r) => s + r.count, 0),
});
