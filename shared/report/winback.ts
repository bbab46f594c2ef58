/**
 * The report's winback section (issue 11 part 5): the winback rate by leaving reason and by
 * offer, and the reasons by month, over the 12 months up to the run date's — the figures of
 * `clm winback-report` (shared/winback/report.ts), from the anonymous leaver facts
 * (`LEAVERS#<month>`, one Query a month: a month's leavers, not the customer base), read when
 * the report is built.
 */
import type { WinbackStore } from '../ports.ts';
import { type WinbackReport, winbackReport } from '../winback/report.ts';
import { reportPeriods } from './nightly.ts';

/** Months of leavers the report covers, up to the run date's. */
export const WINBACK_MONTHS = 12;

export type WinbackSection = { from: string; to: string } & WinbackReport;

/** The winback figures of the months up to the run date's. */
export async function readWinbackSection(leavers: Pick<WinbackStore, 'facts'>, runDate: string, months = WINBACK_MONTHS): Promise<WinbackSection> {
  const periods = reportPeriods(runDate, months);
  const facts = await leavers.facts(periods);
  return { from: periods[0]!, to: periods.at(-1)!, ...winbackReport(facts, { to: runDate }) };
}
