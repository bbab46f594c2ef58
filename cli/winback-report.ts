/**
 * clm winback-report --from YYYY-MM --to YYYY-MM — the winback rate by leaving reason and by
 * offer, and the reasons by month, as JSON (shared/winback/report.ts), from the anonymous leaver
 * facts of those months (`LEAVERS#<month>`, one Query each). The lift report includes the same JSON.
 */
import { DynamoWinbackStore } from '../shared/adapters/dynamodb-winback-store.ts';
import { winbackReport } from '../shared/winback/report.ts';
import type { WinbackStore } from '../shared/ports.ts';
import { commandArgs } from './command-args.ts';
import type { Io } from './main.ts';
import { TABLE_HELP, TABLE_OPTIONS, dynamoClient, tableTarget, type TableTarget } from './table-target.ts';

export const WINBACK_REPORT_HELP = `clm winback-report --from YYYY-MM [--to YYYY-MM] — winback rate by leaving reason (in and out of the
winback sequence) and by offer, and the reasons customers gave by month, as JSON, for customers
who left in those months (--to defaults to --from; at most 36 months).

${TABLE_HELP}

  Against AWS it needs dynamodb:Query on the table.
`;

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/** The months from `from` to `to`, both included. */
export function monthsBetween(from: string, to: string): string[] {
  const out: string[] = [];
  let [y, m] = from.split('-').map(Number) as [number, number];
  for (let key = from; key <= to; key = `${y}-${String(m).padStart(2, '0')}`) {
    out.push(key);
    if (++m > 12) (m = 1), y++;
  }
  return out;
}

export type WinbackReportDeps = { store?: (o: TableTarget) => { store: Pick<WinbackStore, 'facts'>; close: () => void }; env?: NodeJS.ProcessEnv };

export async function winbackReportCommand(argv: string[], io: Io, deps: WinbackReportDeps = {}): Promise<number> {
  const env = deps.env ?? process.env;
  const parsed = commandArgs(argv, io, WINBACK_REPORT_HELP, { ...TABLE_OPTIONS, from: { type: 'string' }, to: { type: 'string' } }, false);
  if ('exit' in parsed) return parsed.exit;
  const { values } = parsed;
  const from = values.from;
  const to = values.to ?? from;
  if (!from || !MONTH.test(from) || !to || !MONTH.test(to) || to < from) {
    io.stderr(`clm: winback-report needs --from YYYY-MM (and --to YYYY-MM, not before it)\n\n${WINBACK_REPORT_HELP}`);
    return 2;
  }
  const months = monthsBetween(from, to);
  if (months.length > 36) {
    io.stderr('clm: winback-report covers at most 36 months at a time\n');
    return 2;
  }
  const target = tableTarget(values, env, 'winback-report');
  if ('error' in target) {
    io.stderr(target.error);
    return 2;
  }
  const { store, close } = (deps.store ?? ((o) => {
    const client = dynamoClient(o, env);
    return { store: new DynamoWinbackStore(client, { tableName: o.table }), close: () => client.destroy() };
  }))(target);
  try {
    const report = winbackReport(await store.facts(months));
    io.stdout(`${JSON.stringify({ from, to, ...report }, null, 2)}\n`);
    return 0;
  } catch (e) {
    const err = e as Error;
    io.stderr(`clm: could not read the leaver facts from table ${target.table}${target.endpoint ? ` at ${target.endpoint}` : ''}: ${err.name}: ${err.message}\n`);
    return 1;
  } finally {
    close();
  }
}
