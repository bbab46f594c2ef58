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
 */
import type { ScoringConfig } from './config.ts';
import type { CustomerScore } from './score-customer.ts';

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
