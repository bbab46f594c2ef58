/**
 * The report after the local run's nights (`npm start -- --run-nightly` or `--nights N`): the
 * latest night's merged aggregate (and the winback leaver facts) read from DynamoDB Local, rendered as the scheduled report
 * function renders it in AWS, and written to `<state dir>/report/` (report.html, report.json
 * and the lookalike export).
 */
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { writeReportFiles } from '../cli/report.ts';
import { DynamoReportStore } from '../shared/adapters/dynamodb-report-store.ts';
import { DynamoWinbackStore } from '../shared/adapters/dynamodb-winback-store.ts';
import { buildReport, readWinbackSection } from '../shared/report/index.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './services.ts';

export const REPORT_DIR = 'report';

/** Writes the report of the latest stored night; undefined when no night stored one. */
export async function writeLocalReport(o: { endpoint: string; tableName: string; stateDir: string }): Promise<{ html: string; files: string[]; verdict: string } | undefined> {
  const client = new DynamoDBClient({ endpoint: o.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    const stored = await new DynamoReportStore(client, { tableName: o.tableName }).latestReportPart();
    if (!stored) return undefined;
    const winback = await readWinbackSection(new DynamoWinbackStore(client, { tableName: o.tableName }), stored.runDate);
    const { figures, files } = await buildReport(stored, {}, new Date(), winback);
    const written = writeReportFiles(path.join(o.stateDir, REPORT_DIR), files);
    return { html: written[0]!, files: written, verdict: figures.outreach.verdict };
  } finally {
    client.destroy();
  }
}
