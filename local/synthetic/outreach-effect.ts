/**
 * The true effect of outreach in the synthetic world, so that the report's estimate can be
 * checked against it (issue 12): a customer planned for outreach churns in the follow-up of
 * the plan with her churn risk at planning as the probability, multiplied by
 * (1 − `relativeChurnReduction`) when she is in the treated group (staff reached out). The
 * draw is keyed by the seed and the plan id (the experiments' well-mixed hash), so it is the
 * same in any order and independent of the group assignment.
 *
 * The true effect on the churn rate of a set of planned customers is then
 * `relativeChurnReduction` × their mean churn risk at planning (`trueChurnReduction`): the
 * difference control − treated that the experiment estimates.
 *
 * `followUpEvents` turns the outcomes into what producers would send, on a day drawn in the
 * `horizonMonths` after the plan: each churning subscriber cancels her active subscriptions,
 * each ad-hoc buyer who does not churn buys again (an ad-hoc buyer churns by not buying in the
 * horizon: her churn risk is the chance of that).
 */
import { assignmentPoint } from '../../shared/experiments/assignment.ts';
import type { CustomerProfile } from '../../shared/customers/profile.ts';
import { activeSubscriptions } from '../../shared/customers/profile.ts';
import type { OutreachAssignment } from '../../shared/scoring/outreach.ts';
import { SOURCES, type GeneratedEntry } from './generate.ts';

export type OutreachEffect = {
  /** relative reduction of a contacted customer's chance of churning (0.2: a fifth fewer churn) */
  relativeChurnReduction: number;
};

/** Modest: outreach keeps one in five of the contacted customers who would have left. */
export const defaultOutreachEffect: OutreachEffect = { relativeChurnReduction: 0.2 };

type Planned = Pick<OutreachAssignment, 'planId' | 'group' | 'churnRisk'>;

const point = (a: Planned, seed: number, what: string) => assignmentPoint(a.planId, `outreach-follow-up:${seed}:${what}`);

/** The chance that a planned customer churns in the follow-up. */
export function followUpChurnProbability(a: Planned, effect: OutreachEffect = defaultOutreachEffect): number {
  const r = Math.min(1, Math.max(0, a.churnRisk));
  return a.group === 'treatment' ? r * (1 - effect.relativeChurnReduction) : r;
}

/** Whether the planned customer churns in the follow-up (deterministic for the seed). */
export function churnsAfterPlan(a: Planned, seed: number, effect: OutreachEffect = defaultOutreachEffect): boolean {
  return point(a, seed, 'churn') < followUpChurnProbability(a, effect);
}

/** The true churn reduction (control − treated) over these planned customers: reduction × their mean churn risk. */
export function trueChurnReduction(planned: readonly Pick<Planned, 'churnRisk'>[], effect: OutreachEffect = defaultOutreachEffect): number {
  if (planned.length === 0) return 0;
  return (effect.relativeChurnReduction * planned.reduce((s, a) => s + Math.min(1, Math.max(0, a.churnRisk)), 0)) / planned.length;
}

const DAY = 86_400_000;
const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The events of one planned customer's follow-up, on a day of the `days` after the plan (default
 * the `horizonMonths`), at 10:00 UTC: a churning subscriber cancels her active subscriptions; an
 * ad-hoc buyer who does not churn buys once more (her mean order, an order of 50 without one), and
 * one who churns buys nothing; a subscriber who does not churn stays as she is.
 */
export function followUpEvents(a: OutreachAssignment, profile: CustomerProfile, options: { seed: number; horizonMonths: number; effect?: OutreachEffect; days?: number }): GeneratedEntry[] {
  const churns = churnsAfterPlan(a, options.seed, options.effect);
  const subs = activeSubscriptions(profile);
  const planned = Date.parse(`${a.plannedOn}T00:00:00Z`) + DAY;
  const at = planned + Math.floor(point(a, options.seed, 'when') * (options.days ?? options.horizonMonths * 30.44)) * DAY + 10 * 3_600_000;
  const base = { customerId: a.customerId, occurredAt: iso(at) };
  if (subs.length === 0) {
    if (churns) return [];
    const amount = profile.orderCount > 0 ? Math.max(1, Math.round(profile.totalSpend / profile.orderCount)) : 50;
    const orderId = `fu-${a.planId.slice(3, 19)}`;
    return [{ Source: SOURCES.orders, DetailType: 'OrderPlaced', Detail: JSON.stringify({ eventId: orderId, ...base, orderId, amount, currency: 'EUR' }), Time: new Date(at) }];
  }
  if (!churns) return [];
  return subs.map((s, k) => ({
    Source: SOURCES.billing,
    DetailType: 'SubscriptionCancelled',
    Detail: JSON.stringify({
      eventId: `fu-${a.planId.slice(3, 19)}-${k}`,
      ...base,
      subscriptionId: s.subscriptionId,
      productId: s.productId?.value ?? 'unknown',
      reason: 'switching provider',
      allowWinbackContact: false,
    }),
    Time: new Date(at),
  }));
}
