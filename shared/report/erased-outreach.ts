/**
 * Erased customers in the lift report (docs/erasure.md, docs/report.md): erasure replaces an
 * outreach assignment by an anonymous residue (shared/privacy/outreach-residue.ts) holding the
 * group, the CLV at planning and the outcome at erasure. The finish step adds the residues of the
 * periods the report follows to the night's part, so each group's size and outcomes still add up
 * after customers are erased. An erased customer has no CLV or churn risk now: she counts in
 * `assigned`, `observed`, `churned` and `clvAtPlan`, not in the changes since the plan or the value kept.
 */
import type { ScoringStore } from '../ports.ts';
import type { ErasedOutreach } from '../privacy/outreach-residue.ts';
import { type ReportPart, emptyReportPart } from './aggregate.ts';
import { reportPeriodCount, reportPeriods } from './nightly.ts';
import { addValue, emptyMoments } from './sketch.ts';

/** Adds the residues (of assignments planned before the run date) to the part's outreach groups; returns the part. */
export function addErasedOutreach(part: ReportPart, residues: readonly ErasedOutreach[], runDate: string): ReportPart {
  for (const r of residues) {
    if (r.plannedOn >= runDate) continue;
    const period = (part.outreach[r.period] ??= {});
    const g = (period[r.group] ??= { assigned: 0, observed: 0, churned: 0, riskChange: emptyMoments(), clvChange: emptyMoments(), clvAtPlan: emptyMoments(), clvKept: emptyMoments() });
    g.assigned += 1;
    if (r.outcome !== 'pending') g.observed += 1;
    if (r.outcome === 'churned') g.churned += 1;
    g.clvAtPlan = addValue(g.clvAtPlan, r.clvAtPlan);
  }
  return part;
}

/** The part of the night's report holding the residues of the followed periods (one small Query per period). */
export async function erasedOutreachPart(store: Pick<ScoringStore, 'erasedOutreach'>, experimentId: string, runDate: string, horizonMonths: number): Promise<ReportPart> {
  const residues: ErasedOutreach[] = [];
  for (const period of reportPeriods(runDate, reportPeriodCount(horizonMonths))) residues.push(...(await store.erasedOutreach(experimentId, period)));
  return addErasedOutreach(emptyReportPart(), residues, runDate);
}
