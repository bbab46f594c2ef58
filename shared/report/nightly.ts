/**
 * What the nightly run's steps do for the report (kept here so the run's own modules change
 * by a few lines): a scoring worker looks up the outreach assignments of the periods the
 * report follows (one small Query per period and invocation: a month's assignments are at most
 * its capacity), and the finish step stores the merged part.
 */
import type { ReportStore, ScoringStore } from '../ports.ts';
import type { OutreachAssignment } from '../scoring/outreach.ts';
import { type ReportPart, emptyReportPart, mergeReportParts } from './aggregate.ts';

/**
 * The outreach periods (months) the report follows: the churn horizon + 2 months up to the run
 * date's (5 by default), so that an ad-hoc buyer's outcome, known `horizonMonths` after her plan,
 * is still counted with her period for at least a month.
 */
export const reportPeriodCount = (horizonMonths: number): number => horizonMonths + 2;

/** The `count` calendar months up to the run date's, oldest first (YYYY-MM). */
export function reportPeriods(runDate: string, count: number): string[] {
  const y = Number(runDate.slice(0, 4));
  const m = Number(runDate.slice(5, 7)) - 1;
  return Array.from({ length: count }, (_, k) => {
    const d = new Date(Date.UTC(y, m - (count - 1 - k), 1));
    return d.toISOString().slice(0, 7);
  });
}

/** The assignments of the followed periods, by customer. */
export async function followedAssignments(store: Pick<ScoringStore, 'outreachAssignments'>, experimentId: string, runDate: string, horizonMonths: number): Promise<Map<string, OutreachAssignment[]>> {
  const byCustomer = new Map<string, OutreachAssignment[]>();
  for (const period of reportPeriods(runDate, reportPeriodCount(horizonMonths))) {
    for (const a of await store.outreachAssignments(experimentId, period)) {
      const held = byCustomer.get(a.customerId);
      if (held) held.push(a);
      else byCustomer.set(a.customerId, [a]);
    }
  }
  return byCustomer;
}

/** Merges the workers' parts and stores the night's report part (when the run has a report store). */
export async function storeNightReport(reports: ReportStore | undefined, night: { runId: string; runDate: string }, parts: readonly (ReportPart | undefined)[], at: Date): Promise<ReportPart> {
  const part = parts.reduce<ReportPart>((acc, p) => (p ? mergeReportParts(acc, p) : acc), emptyReportPart());
  if (reports) await reports.putReportPart({ runId: night.runId, runDate: night.runDate, storedAt: at.toISOString(), part });
  return part;
}
