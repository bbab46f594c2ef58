/**
 * Routing by value (docs/triggers.md): a fired trigger carries the customer's CLV, value tier and
 * churn risk at that moment (the last nightly score, its risk raised by this trigger with the
 * scoring's own formula, shared/scoring/risk.ts), and customers at or above the configured tier
 * or CLV get a personal-outreach task (within the team's daily capacity) instead of the
 * automated email.
 */
import type { OutreachDesk, TriggerDecision, ValueSnapshot } from '../ports.ts';
import { defaultScoringConfig } from '../scoring/config.ts';
import { churnRiskWithTriggers, type TriggerDecay } from '../scoring/risk.ts';
import type { TriggerConfig } from './config.ts';

/**
 * The nightly run's trigger decay (half-life and maximum age). At the moment a trigger fires its
 * boost has not decayed at all, so the risk it carries does not depend on these; the next night
 * computes the decayed value with the deployment's own settings.
 */
export const scoringDecay: TriggerDecay = {
  halfLifeDays: defaultScoringConfig.churn.triggerHalfLifeDays,
  maxAgeDays: defaultScoringConfig.churn.triggerMaxAgeDays,
};

/** Whether a customer of this value goes to people: a listed tier, or a CLV at or above the threshold. */
export function wantsOutreach(score: ValueSnapshot | undefined, routing: TriggerConfig['routing']): boolean {
  if (!score) return false;
  return routing.outreachTiers.includes(score.valueTier) || (routing.outreachMinClv !== undefined && score.clv >= routing.outreachMinClv);
}

/**
 * The decision with the customer's value and risk at `now`, and its route: `outreach` when the
 * customer's value asks for it and the day's capacity has room (claimed once per trigger),
 * otherwise `email`.
 */
export async function routeDecision(decision: TriggerDecision, desk: OutreachDesk, routing: TriggerConfig['routing'], now: Date): Promise<TriggerDecision> {
  const score = await desk.score(decision.customerId);
  if (!score) return { ...decision, route: 'email' };
  const churnRisk = churnRiskWithTriggers(score.churnRisk, [{ rule: decision.rule, action: decision.action, churnRiskBoost: decision.churnRiskBoost, firedAt: now.toISOString() }], now, scoringDecay);
  const valued = { ...decision, clv: score.clv, valueTier: score.valueTier, churnRisk };
  if (!wantsOutreach(score, routing)) return { ...valued, route: 'email' };
  const claim = await desk.claimTask(now.toISOString().slice(0, 10), decision.triggerId, decision.customerId, routing.outreachTasksPerDay, now);
  return { ...valued, route: claim === 'claimed' ? 'outreach' : 'email' };
}
