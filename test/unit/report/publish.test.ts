import { describe, expect, it } from 'vitest';
import { InMemoryReportStore } from '../../../shared/pipeline/in-memory-ports.ts';
import type { ReportSink } from '../../../shared/ports.ts';
import { publishReport } from '../../../shared/report/publish.ts';
import { winbackReport } from '../../../shared/winback/report.ts';
import { reportFixture, winbackFixture } from '../../support/report-fixture.ts';

class RecordingSink implements ReportSink {
  readonly files = new Map<string, { body: string; contentType: string }>();
  async putFile(key: string, body: string, contentType: string): Promise<void> {
    this.files.set(key, { body, contentType });
  }
}

describe('publishReport', () => {
  it('writes the latest night under reports/<run date>/ and latest/, the same keys when run again', async () => {
    const reports = new InMemoryReportStore();
    const sink = new RecordingSink();
    const now = () => new Date('2026-12-01T06:00:00Z');
    expect(await publishReport({ reports, sink, settings: {}, now })).toEqual({ status: 'no-report-yet' });
    expect(sink.files.size).toBe(0);
    await reports.putReportPart(reportFixture({ customers: 150 }));
    const first = await publishReport({ reports, sink, settings: { costPerContact: 9 }, now });
    const names = ['report.html', 'report.json', 'lookalike-segment.json', 'lookalike-top-decile.csv'];
    expect(first).toMatchObject({ status: 'written', runId: 'run-2026-11-30', runDate: '2026-11-30', keys: [...names.map((n) => `reports/2026-11-30/${n}`), ...names.map((n) => `latest/${n}`)] });
    expect(sink.files.get('latest/report.html')!.contentType).toBe('text/html; charset=utf-8');
    expect(sink.files.get('latest/lookalike-top-decile.csv')!.contentType).toBe('text/csv; charset=utf-8');
    expect(JSON.parse(sink.files.get('reports/2026-11-30/report.json')!.body).settings.costPerContact).toBe(9);
    const again = await publishReport({ reports, sink, settings: { costPerContact: 9 }, now });
    expect(again).toEqual(first);
    expect(sink.files.size).toBe(8);
    expect(JSON.parse(sink.files.get('latest/report.json')!.body).winback).toBeUndefined();
  });

  it('adds the winback section from the leaver facts of the 12 months up to the run date', async () => {
    const reports = new InMemoryReportStore();
    await reports.putReportPart(reportFixture({ customers: 150 }));
    const leavers = await winbackFixture();
    const asked: string[][] = [];
    const sink = new RecordingSink();
    await publishReport({ reports, sink, settings: {}, now: () => new Date('2026-12-01T06:00:00Z'), leavers: { facts: (months) => (asked.push([...months]), leavers.facts(months)) } });
    expect(asked).toEqual([['2025-12', '2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06', '2026-07', '2026-08', '2026-09', '2026-10', '2026-11']]);
    const json = JSON.parse(sink.files.get('latest/report.json')!.body);
    expect(json.winback).toEqual({ from: '2025-12', to: '2026-11', ...winbackReport(await leavers.facts(asked[0]!)) });
    expect(json.winback.leavers).toBeGreaterThan(100);
  });
});
