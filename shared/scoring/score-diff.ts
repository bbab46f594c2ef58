/**
 * Write only what changed. The new score is compared with the stored one (the last one
 * written, not last night's), so small nightly drifts add up until one crosses its threshold
 * and the stored value is never further than a threshold from the model's.
 *
 * A number moved when |new − old| > max(absolute, relative × |old|), per field. A change of
 * value tier, risk band, next best action or customer kind always counts, and so does a
 * potential spend that appears or disappears. The model id alone never counts (it changes
 * every night). `CustomerRescored` is emitted only when the tier or the risk band changed
 * (or the customer is scored for the first time, unless configured off).
 *
 * The scorer keeps a stored tier and band while their values are within these thresholds of
 * them (`keptValueTier`, `keptRiskBand`), so a category changes only when its value is past the
 * boundary by more than the threshold.
 */
import type { ScoringConfig } from './config.ts';
import type { ValueTier } from '../clv/tiers.ts';
import type { RiskBand, RiskBandCuts } from './risk.ts';
import type { CustomerScore } from './score-customer.ts';
import type { TierCuts } from './value-tiers.ts';

export type StoredScore = Pick<CustomerScore, 'kind' | 'clv' | 'pAlive' | 'churnRisk' | 'riskBand' | 'valueTier' | 'nextBestAction' | 'potentialSpend'>;
export type ScoreField = 'kind' | 'clv' | 'pAlive' | 'churnRisk' | 'potentialSpend' | 'valueTier' | 'riskBand' | 'nextBestAction';
export type WriteThresholds = ScoringConfig['writeThresholds'];
export type ScoreChange = { write: boolean; emit: boolean; changed: ScoreField[] };

type Threshold = { absolute: number; relative: number };

export function moved(old: number, now: number, t: Threshold): boolean {
  return Math.abs(now - old) > Math.max(t.absolute, t.relative * Math.abs(old));
}

export function diffScore(stored: StoredScore | undefined, next: StoredScore, thresholds: WriteThresholds): ScoreChange {
  if (!stored) return { write: true, emit: thresholds.emitOnFirstScore, changed: ['kind', 'clv', 'pAlive', 'churnRisk', 'potentialSpend', 'valueTier', 'riskBand', 'nextBestAction'] };
  const changed: ScoreField[] = [];
  if (stored.kind !== next.kind) changed.push('kind');
  for (const f of ['clv', 'pAlive', 'churnRisk'] as const) if (moved(stored[f], next[f], thresholds[f])) changed.push(f);
  const [ps, pn] = [stored.potentialSpend, next.potentialSpend];
  if ((ps === undefined) !== (pn === undefined) || (ps !== undefined && pn !== undefined && moved(ps, pn, thresholds.potentialSpend))) changed.push('potentialSpend');
  for (const f of ['valueTier', 'riskBand', 'nextBestAction'] as const) if (stored[f] !== next[f]) changed.push(f);
  return { write: changed.length > 0, emit: changed.includes('valueTier') || changed.includes('riskBand'), changed };
}

/**
 * The margin of a boundary: how far past it a value must be for a category on its other side
 * to be left, the value's own write threshold at the boundary (none at an infinite one).
 */
const margin = (bound: number, t: Threshold): number => (Number.isFinite(bound) ? Math.max(t.absolute, t.relative * Math.abs(bound)) : 0);

/** Whether `value` is within the threshold of the range [lo, hi). */
const nearRange = (value: number, lo: number, hi: number, t: Threshold): boolean => value >= lo - margin(lo, t) && value < hi + margin(hi, t);

/**
 * The value tier, keeping the stored one while the CLV (and P(alive), for `lapsed`) is within its
 * write threshold of that tier's range under tonight's cut points: a tier changes only when
 * the value is past the boundary by more than the threshold by which a value itself counts as
 * moved. Without it, a quiet night flips customers whose CLV sits at a cut (the cuts are
 * refitted every night, and customers ageing at different rates swap ranks across them).
 */
export function keptValueTier(stored: ValueTier | undefined, tier: ValueTier, clv: number, pAlive: number, cuts: TierCuts, thresholds: WriteThresholds): ValueTier {
  if (stored === undefined || stored === tier) return tier;
  const lapsedNear = pAlive < cuts.lapsedBelow + margin(cuts.lapsedBelow, thresholds.pAlive);
  if (stored === 'lapsed') return lapsedNear ? stored : tier;
  const aliveNear = pAlive >= cuts.lapsedBelow - margin(cuts.lapsedBelow, thresholds.pAlive);
  const range = { top: [cuts.top, Infinity], high: [cuts.high, cuts.top], medium: [cuts.medium, cuts.high], low: [-Infinity, cuts.medium] }[stored];
  return aliveNear && nearRange(clv, range[0]!, range[1]!, thresholds.clv) ? stored : tier;
}

/** The risk band, keeping the stored one while the churn risk is within its write threshold of that band's range. */
export function keptRiskBand(stored: RiskBand | undefined, band: RiskBand, risk: number, cuts: RiskBandCuts, thresholds: WriteThresholds): RiskBand {
  if (stored === undefined || stored === band) return band;
  const range = { low: [-Infinity, cuts.medium], medium: [cuts.medium, cuts.high], high: [cuts.high, Infinity] }[stored];
  return nearRange(risk, range[0]!, range[1]!, thresholds.churnRisk) ? stored : band;
}
