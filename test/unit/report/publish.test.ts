import { describe, expect, it } from 'vitest';
import { InMemoryReportStore } from '../../../shared/pipeline/in-memory-ports.ts';
import type { ReportSink } from '../../../shared/ports.ts';
import { publishReport } from '../../../shared/report/publish.ts';
import { reportFixture } from '../../support/report-fixture.ts';

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
  });
});
