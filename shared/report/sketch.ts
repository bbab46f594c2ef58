/**
 * Mergeable building blocks of the report's aggregates (Agarwal et al., "Mergeable
 * summaries", PODS 2012): moments (count, sum, sum of squares), fixed-bin histograms, and
 * counts by key. Their merges are associative and commutative with the empty value as
 * identity (sums of floating-point values up to rounding), so workers' parts combine in any
 * grouping and order to the same result; the bounded counts below do while they hold at most
 * `MAX_KEYS` keys, and keep their error bound in any order beyond.
 *
 * Counts keyed by free text from producers (a return reason) are bounded by a Misra–Gries
 * summary of `MAX_KEYS` counters: exact while there are at most that many distinct keys;
 * beyond, each kept count is low by at most total / (MAX_KEYS + 1) and rare keys drop out
 * (the dropped total is kept under `OTHER`). Merging adds counters, then subtracts the
 * (MAX_KEYS + 1)-th largest from all and drops those left at zero or below (the merge the
 * paper proves keeps that bound).
 */

export type Moments = { n: number; sum: number; sumSq: number };
export const emptyMoments = (): Moments => ({ n: 0, sum: 0, sumSq: 0 });
export const addValue = (m: Moments, x: number): Moments => (Number.isFinite(x) ? { n: m.n + 1, sum: m.sum + x, sumSq: m.sumSq + x * x } : m);
export const mergeMoments = (a: Moments, b: Moments): Moments => ({ n: a.n + b.n, sum: a.sum + b.sum, sumSq: a.sumSq + b.sumSq });
export const meanOf = (m: Moments): number => (m.n > 0 ? m.sum / m.n : NaN);
/** Sample variance (n − 1); NaN below two values. */
export function varianceOf(m: Moments): number {
  if (m.n < 2) return NaN;
  return Math.max(0, (m.sumSq - (m.sum * m.sum) / m.n) / (m.n - 1));
}

export type Counts = Record<string, number>;

const sortKeys = <T>(o: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(o).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));

export function addCount(c: Counts, key: string, by = 1): Counts {
  return sortKeys({ ...c, [key]: (c[key] ?? 0) + by });
}

export function mergeCounts(a: Counts, b: Counts): Counts {
  const out: Counts = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return sortKeys(out);
}

export const MAX_KEYS = 32;
export const OTHER = '(other)';

/** Counts of free-text keys, bounded (see the header). */
export function boundCounts(c: Counts, maxKeys = MAX_KEYS): Counts {
  const entries = Object.entries(c).filter(([k]) => k !== OTHER);
  if (entries.length <= maxKeys) return c;
  const sorted = entries.map(([, v]) => v).sort((x, y) => y - x);
  const cut = sorted[maxKeys]!;
  const out: Counts = {};
  let dropped = c[OTHER] ?? 0;
  for (const [k, v] of entries) {
    if (v > cut) out[k] = v - cut;
    dropped += Math.min(v, cut);
  }
  out[OTHER] = dropped;
  return sortKeys(out);
}

export const mergeBoundedCounts = (a: Counts, b: Counts): Counts => boundCounts(mergeCounts(a, b));

/** A key from producers' free text: the profile's normalisation (escaped wherever it is shown). */
export { reasonKey as textKey } from '../customers/profile.ts';

/** A histogram over fixed bin edges: counts[i] holds edges[i−1] ≤ x < edges[i] (counts has edges.length + 1 bins). */
export function addToHistogram(counts: readonly number[], edges: readonly number[], x: number): number[] {
  let i = 0;
  while (i < edges.length && x >= edges[i]!) i++;
  const out = counts.length === edges.length + 1 ? [...counts] : new Array<number>(edges.length + 1).fill(0);
  out[i]! += 1;
  return out;
}

export function mergeHistograms(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => (a[i] ?? 0) + (b[i] ?? 0));
}
