/**
 * Churn risk as the nightly run states it, and its bands.
 *
 * The model's own risk (a probability in [0, 1]):
 *  - ad-hoc buyers, BG/NBD: by default the probability of no purchase in the next
 *    `horizonMonths` (which combines 1 − P(alive) with the purchase rate of a customer who
 *    is still alive, so a one-time buyer of long ago is at risk too); or, configurable,
 *    1 − P(alive) alone;
 *  - subscribers, sBG: the probability of cancelling at one of the next `horizonMonths`
 *    monthly renewal decisions given the renewals made; 1 for a customer whose
 *    subscriptions all ended.
 * Active churn triggers raise it: each trigger's boost decays by half every
 * `triggerHalfLifeDays` since it fired (and is dropped after `triggerMaxAgeDays`), and the
 * boosts combine with the model's risk as independent signals (noisy-OR, shared/clv
 * `raiseChurnRisk`): risk = 1 − (1 − model)·Π(1 − boostᵢ·2^(−ageᵢ/halfLife)).
 * The result never falls below the model's risk and never exceeds 1.
 *
 * Bands: low below `bands.medium`, medium below `bands.high`, high from `bands.high` up.
 */
import { raiseChurnRisk } from '../clv/churn.ts';
import type { ChurnTriggerFired } from '../events/catalog.ts';

export const riskBands = ['low', 'medium', 'high'] as const;
export type RiskBand = (typeof riskBands)[number];

export type RiskBandCuts = { medium: number; high: number };

export function riskBand(risk: number, cuts: RiskBandCuts): RiskBand {
  return risk >= cuts.high ? 'high' : risk >= cuts.medium ? 'medium' : 'low';
}

/** A trigger recorded for the customer, as the scorer needs it. */
export type ActiveTrigger = Pick<ChurnTriggerFired, 'rule' | 'action' | 'churnRiskBoost' | 'firedAt'>;

export type TriggerDecay = { halfLifeDays: number; maxAgeDays: number };

const DAY_MS = 86_400_000;

/** The trigger's boost `at` a time: halved every half-life; 0 once older than the maximum age or before it fired. */
export function decayedBoost(trigger: Pick<ActiveTrigger, 'churnRiskBoost' | 'firedAt'>, at: Date, decay: TriggerDecay): number {
  const ageDays = (at.getTime() - Date.parse(trigger.firedAt)) / DAY_MS;
  if (!(ageDays >= 0) || ageDays > decay.maxAgeDays) return 0;
  return trigger.churnRiskBoost * Math.pow(2, -ageDays / decay.halfLifeDays);
}

/** Triggers that still count `at` a time. */
export function activeTriggers<T extends ActiveTrigger>(triggers: readonly T[], at: Date, decay: TriggerDecay): T[] {
  return triggers.filter((t) => decayedBoost(t, at, decay) > 0);
}

/** The model's risk raised by the triggers still active `at` a time. */
export function churnRiskWithTriggers(modelRisk: number, triggers: readonly ActiveTrigger[], at: Date, decay: TriggerDecay): number {
  return raiseChurnRisk(modelRisk, ...triggers.map((t) => decayedBoost(t, at, decay)));
}
