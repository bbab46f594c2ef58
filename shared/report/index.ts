/**
 * The report (issue 12): the nightly run's merged aggregate → figures (statistics in
 * shared/stats/) → HTML with SVG charts, JSON and the lookalike export. Pure but for the
 * chart rendering (vega in Node, no I/O).
 */
import type { StoredReportPart } from '../ports.ts';
import { type ReportFigures, type ReportSettings, reportFigures } from './figures.ts';
import { type ReportFiles, renderReport } from './render.ts';
import type { WinbackSection } from './winback.ts';

export * from './aggregate.ts';
export * from './figures.ts';
export * from './render.ts';
export * from './settings.ts';
export * from './winback.ts';

/** The report of a stored night: its figures and its files (with the winback section when it was read: readWinbackSection). */
export async function buildReport(stored: StoredReportPart, settings: Partial<ReportSettings>, generatedAt: Date, winback?: WinbackSection): Promise<{ figures: ReportFigures; files: ReportFiles }> {
  const figures = reportFigures(stored.part, { runId: stored.runId, runDate: stored.runDate, generatedAt, settings, ...(winback && { winback }) });
  return { figures, files: await renderReport(figures) };
}
