/**
 * The report (issue 12): the nightly run's merged aggregate → figures (statistics in
 * shared/stats/) → HTML with SVG charts, JSON and the lookalike export. Pure but for the
 * chart rendering (vega in Node, no I/O).
 */
import type { StoredReportPart } from '../ports.ts';
import { type ReportFigures, type ReportSettings, reportFigures } from './figures.ts';
import { type ReportFiles, renderReport } from './render.ts';

export * from './aggregate.ts';
export * from './figures.ts';
export * from './render.ts';
export * from './settings.ts';

/** The report of a stored night: its figures and its files. */
export async function buildReport(stored: StoredReportPart, settings: Partial<ReportSettings>, generatedAt: Date): Promise<{ figures: ReportFigures; files: ReportFiles }> {
  const figures = reportFigures(stored.part, { runId: stored.runId, runDate: stored.runDate, generatedAt, settings });
  return { figures, files: await renderReport(figures) };
}
