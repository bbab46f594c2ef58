/**
 * What erasure keeps of a customer's outreach assignments (docs/erasure.md): the lift report
 * compares the treated and control groups of each month (shared/report/aggregate.ts), so an erased
 * customer must still count in her group's size and outcome, without anything that names or links
 * to her. Her assignment `OUTREACH#<experiment>#<month>` / `PLAN#<customerId>` is replaced by an
 * anonymous residue `ERASED#<random id>` in the same partition holding only:
 *
 * - the experiment, month and group (treatment or control), the ranking basis and the night it was planned;
 * - her CLV and churn risk at planning, coarsened (CLV to whole units, risk to two decimals), so
 *   a copy of a score or an OutreachPlanned event cannot be matched to the residue by its exact values;
 * - her outcome as it stood at erasure (churned since the plan, kept, or not yet known), by the
 *   report's own definition (`churnedSincePlan`), since her profile is gone afterwards.
 *
 * Not kept: the customer id, the plan id (a hash of the id anyone holding the id can recompute),
 * her rank, the run and the times the plan was stored and published.
 */
import type { CustomerProfile } from '../customers/profile.ts';
import { churnedSincePlan } from '../report/aggregate.ts';
import type { OutreachAssignment, OutreachGroup } from '../scoring/outreach.ts';

export type ErasedOutreach = {
  experimentId: string;
  /** YYYY-MM */
  period: string;
  group: OutreachGroup;
  rankBy: OutreachAssignment['rankBy'];
  /** the run date of the night that planned it */
  plannedOn: string;
  /** CLV at planning, rounded to whole units */
  clvAtPlan: number;
  /** churn risk at planning, rounded to two decimals */
  churnRiskAtPlan: number;
  /** the outreach outcome at erasure: churned since the plan, kept, or not yet known (an ad-hoc buyer within the churn horizon) */
  outcome: 'churned' | 'kept' | 'pending';
  /** the day of the erasure (YYYY-MM-DD) */
  erasedOn: string;
};

/** Where erasure looks for the customer's outreach assignments, and the churn horizon of their outcome. */
export type OutreachScope = {
  /** the outreach experiments whose assignments are looked for (the scoring config's, and any earlier ones still reported) */
  experimentIds: readonly string[];
  /** the scoring config's churn horizon (months), as the report uses it */
  horizonMonths: number;
};

/** The months (YYYY-MM) from `from`'s to `to`'s, oldest first. */
export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  let y = Number(from.slice(0, 4));
  let m = Number(from.slice(5, 7));
  const endY = Number(to.slice(0, 4));
  const endM = Number(to.slice(5, 7));
  while (y < endY || (y === endY && m <= endM)) {
    out.push(`${y}-${String(m).padStart(2, '0')}`);
    m += 1;
    if (m > 12) {
      m = 1;
      y += 1;
    }
  }
  return out;
}

/**
 * The months the customer can have an assignment in: a night plans only customers with a profile,
 * so from the month of her first event to this one. None without a profile (erasure deletes the
 * profile after the assignments, so a rerun of a half-done erasure finds them first).
 */
export function assignmentPeriods(profile: CustomerProfile | undefined, now: Date): string[] {
  // (a profile folded from events always has firstSeenAt; one loaded whole may only have its purchase days)
  const first = profile?.firstSeenAt ?? (profile ? Object.keys(profile.purchaseDays).sort()[0] : undefined);
  if (!first) return [];
  const today = now.toISOString();
  return monthsBetween(first < today ? first : today, today);
}

/** The anonymous residue of one assignment, with the customer's outcome as it stands at erasure. */
export function outreachResidue(a: OutreachAssignment, profile: CustomerProfile, now: Date, horizonMonths: number): ErasedOutreach {
  const erasedOn = now.toISOString().slice(0, 10);
  const churned = churnedSincePlan(profile, a, erasedOn, horizonMonths);
  return {
    experimentId: a.experimentId,
    period: a.period,
    group: a.group,
    rankBy: a.rankBy,
    plannedOn: a.plannedOn,
    clvAtPlan: Math.round(a.clv),
    churnRiskAtPlan: Math.round(a.churnRisk * 100) / 100,
    outcome: churned === undefined ? 'pending' : churned ? 'churned' : 'kept',
    erasedOn,
  };
}
