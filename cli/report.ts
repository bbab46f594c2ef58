/**
 * clm report — the report of the latest nightly run: reads the night's merged aggregate from
 * the stack's table (the ReportStore port, shared/adapters/dynamodb-report-store.ts) with the
 * winback leaver facts of its last 12 months, or from a file (no winback section), and writes
 * report.html, report.json and the lookalike export into a directory.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoReportStore } from '../shared/adapters/dynamodb-report-store.ts';
import { DynamoWinbackStore } from '../shared/adapters/dynamodb-winback-store.ts';
import { tableName as tableNameFor } from '../shared/data-model/table.ts';
import type { ReportStore, StoredReportPart, WinbackStore } from '../shared/ports.ts';
import { type WinbackSection, buildReport, parseReportSettings, readWinbackSection } from '../shared/report/index.ts';
import { reportPartSchema } from '../shared/report/part-schema.ts';
import { ENV } from '../shared/wiring.ts';
import { commandArgs } from './command-args.ts';
import { TABLE_OPTIONS } from './table-target.ts';
import type { Io } from './main.ts';

export const REPORT_HELP = `clm report — the report of the latest nightly run: outreach experiment with its verdict, campaign
response, best customers and the lookalike export, relationship length, returns and service, winback.

  --out DIR               where to write report.html, report.json, lookalike-segment.json and
                          lookalike-top-decile.csv (default: ./report)
  --endpoint URL          DynamoDB endpoint, e.g. the local stack's http://127.0.0.1:<port> (default: AWS)
  --table NAME            the table: the deployed stack's TableName output (default: $${ENV.tableName};
                          with --endpoint, the local stack's ${tableNameFor('local-')})
  --region REGION         AWS region (default: $AWS_REGION; with --endpoint, eu-west-1)
  --part FILE             read the night's stored aggregate from a JSON file ({ runId, runDate, storedAt, part })
                          instead of the table (the report then has no winback figures)
  --cost-per-contact N    what one outreach contact costs (default 15)
  --currency CODE         ISO 4217 currency of the money figures (default EUR)
  --target-reduction R    the churn reduction the business wants to detect, e.g. 0.05 (default)
  --confidence C          confidence level of the intervals (default 0.95)

  Against AWS it needs dynamodb:Query on the table. It prints the files' paths and the verdict.
`;

export type ReportCommandDeps = {
  store?: (o: { endpoint?: string; table: string; region?: string }) => { store: ReportStore; leavers?: Pick<WinbackStore, 'facts'>; close: () => void };
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
};

function dynamoStore(o: { endpoint?: string; table: string; region?: string }, env: NodeJS.ProcessEnv) {
  const local = o.endpoint !== undefined && !env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE;
  const client = new DynamoDBClient({ endpoint: o.endpoint, region: o.region, ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}) });
  return { store: new DynamoReportStore(client, { tableName: o.table }), leavers: new DynamoWinbackStore(client, { tableName: o.table }), close: () => client.destroy() };
}

const number = (name: string, raw: string | undefined): number | undefined => {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name} must be a number (${JSON.stringify(raw)})`);
  return n;
};

/** Writes the report's files into `dir`; returns their paths. */
export function writeReportFiles(dir: string, files: Record<string, string>): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(files).map(([name, content]) => {
    const file = path.join(dir, name);
    writeFileSync(file, content);
    return file;
  });
}

/** Runs `clm report`; returns the exit code. */
export async function reportCommand(argv: string[], io: Io, deps: ReportCommandDeps = {}): Promise<number> {
  const env = deps.env ?? process.env;
  const parsed = commandArgs(argv, io, REPORT_HELP, {
    out: { type: 'string' },
    ...TABLE_OPTIONS,
    part: { type: 'string' },
    'cost-per-contact': { type: 'string' },
    currency: { type: 'string' },
    'target-reduction': { type: 'string' },
    confidence: { type: 'string' },
  }, false);
  if ('exit' in parsed) return parsed.exit;
  const { values } = parsed;
  let settingsInput;
  try {
    settingsInput = Object.fromEntries(
      Object.entries({
        costPerContact: number('cost-per-contact', values['cost-per-contact']),
        currency: values.currency,
        targetReduction: number('target-reduction', values['target-reduction']),
        confidence: number('confidence', values.confidence),
      }).filter(([, v]) => v !== undefined),
    );
  } catch (e) {
    io.stderr(`clm: ${(e as Error).message}\n`);
    return 2;
  }
  const settings = parseReportSettings(settingsInput);
  if (!settings.ok) {
    io.stderr(`clm: invalid report settings: ${settings.issues.join('; ')}\n`);
    return 2;
  }

  let stored: StoredReportPart | undefined;
  let winback: WinbackSection | undefined;
  if (values.part) {
    try {
      const raw = JSON.parse(readFileSync(values.part, 'utf8')) as StoredReportPart;
      const part = reportPartSchema.safeParse(raw?.part);
      if (!part.success || typeof raw.runId !== 'string' || typeof raw.runDate !== 'string') throw new Error(`not a stored report part: ${part.error?.issues[0]?.message ?? 'runId and runDate are required'}`);
      stored = { runId: raw.runId, runDate: raw.runDate, storedAt: String(raw.storedAt ?? ''), part: part.data };
    } catch (e) {
      io.stderr(`clm: could not read ${values.part}: ${(e as Error).message}\n`);
      return 1;
    }
  } else {
    const endpoint = values.endpoint;
    const table = values.table ?? env[ENV.tableName] ?? (endpoint ? tableNameFor('local-') : undefined);
    if (!table) {
      io.stderr(`clm: report needs the table: --table NAME (the deployed stack's TableName output) or $${ENV.tableName}, or --part FILE\n`);
      return 2;
    }
    const region = values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? (endpoint ? 'eu-west-1' : undefined);
    const { store, leavers, close } = (deps.store ?? ((o) => dynamoStore(o, env)))({ endpoint, table, region });
    try {
      stored = await store.latestReportPart();
      if (stored && leavers) winback = await readWinbackSection(leavers, stored.runDate);
    } catch (e) {
      const err = e as Error;
      io.stderr(`clm: could not read the report aggregate from table ${table}${endpoint ? ` at ${endpoint}` : ''}: ${err.name}: ${err.message}\n`);
      return 1;
    } finally {
      close();
    }
    if (!stored) {
      io.stderr(`clm: no nightly run has stored a report aggregate in table ${table} yet (run the nightly run first)\n`);
      return 1;
    }
  }
  const { figures, files } = await buildReport(stored, settings.settings, (deps.now ?? (() => new Date()))(), winback);
  const written = writeReportFiles(values.out ?? 'report', files);
  io.stdout(`${written.join('\n')}\n${figures.outreach.verdict}\n`);
  return 0;
}
