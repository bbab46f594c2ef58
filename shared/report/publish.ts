/**
 * The scheduled report: the latest night's merged aggregate (ReportStore) rendered and written
 * to the report sink under `reports/<runDate>/` and again under `latest/` (overwritten each
 * time), so the newest report has a fixed address. Writing a night again writes the same keys:
 * a retried or repeated invocation is idempotent (only `generatedAt` moves).
 */
import type { ReportSink, ReportStore, WinbackStore } from '../ports.ts';
import type { ReportSettings } from './figures.ts';
import { buildReport } from './index.ts';
import { readWinbackSection } from './winback.ts';

const CONTENT_TYPES: Record<string, string> = {
  'report.html': 'text/html; charset=utf-8',
  'report.json': 'application/json',
  'lookalike-segment.json': 'application/json',
  'lookalike-top-decile.csv': 'text/csv; charset=utf-8',
};

export type PublishResult = { status: 'written'; runId: string; runDate: string; keys: string[]; verdict: string } | { status: 'no-report-yet' };

/** `leavers`: the winback leaver facts (the report's winback section); without them the section says it was not read. */
export async function publishReport(deps: { reports: ReportStore; sink: ReportSink; settings: Partial<ReportSettings>; now: () => Date; leavers?: Pick<WinbackStore, 'facts'> }): Promise<PublishResult> {
  const stored = await deps.reports.latestReportPart();
  if (!stored) return { status: 'no-report-yet' };
  const winback = deps.leavers && (await readWinbackSection(deps.leavers, stored.runDate));
  const { figures, files } = await buildReport(stored, deps.settings, deps.now(), winback);
  const keys: string[] = [];
  for (const prefix of [`reports/${stored.runDate}/`, 'latest/']) {
    for (const [name, body] of Object.entries(files)) {
      await deps.sink.putFile(prefix + name, body, CONTENT_TYPES[name] ?? 'application/octet-stream');
      keys.push(prefix + name);
    }
  }
  return { status: 'written', runId: stored.runId, runDate: stored.runDate, keys, verdict: figures.outreach.verdict };
}
