/**
 * clm consent <id> — a customer's full consent history for an auditor: every record of the
 * consent ledger (CONSENT# items, shared/adapters/dynamodb-consent-ledger.ts) and, per purpose,
 * whether the stack may contact the customer now. Locally or in AWS.
 */
import { DynamoConsentLedger } from '../shared/adapters/dynamodb-consent-ledger.ts';
import { consentReport, formatConsentReport } from '../shared/consent/history-report.ts';
import type { ConsentLedger } from '../shared/ports.ts';
import { commandArgs } from './command-args.ts';
import type { Io } from './main.ts';
import { TABLE_HELP, TABLE_OPTIONS, dynamoClient, tableTarget, type TableTarget } from './table-target.ts';

export const CONSENT_HELP = `clm consent <customer-id> — the customer's consent ledger: every grant, withdrawal and double opt-in
step (when, purpose, source, actor, wording version, expiry, the event it came from), oldest first,
and per purpose whether the stack may contact the customer now.

${TABLE_HELP}
  --now ISO               judge "now" at this time (default: the clock)
  --json                  print the report as JSON

  Against AWS it needs dynamodb:Query on the table.
`;

export type ConsentCommandDeps = {
  ledger?: (o: TableTarget) => { ledger: ConsentLedger; close: () => void };
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
};

export async function consentCommand(argv: string[], io: Io, deps: ConsentCommandDeps = {}): Promise<number> {
  const env = deps.env ?? process.env;
  const parsed = commandArgs(argv, io, CONSENT_HELP, { ...TABLE_OPTIONS, now: { type: 'string' }, json: { type: 'boolean' } });
  if ('exit' in parsed) return parsed.exit;
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || !positionals[0]) {
    io.stderr(`clm: consent takes exactly one customer id\n\n${CONSENT_HELP}`);
    return 2;
  }
  const now = values.now === undefined ? (deps.now ?? (() => new Date()))() : new Date(values.now);
  if (Number.isNaN(now.getTime())) {
    io.stderr(`clm: --now must be an ISO 8601 time (got ${JSON.stringify(values.now)})\n`);
    return 2;
  }
  const target = tableTarget(values, env, 'consent');
  if ('error' in target) {
    io.stderr(target.error);
    return 2;
  }
  const { ledger, close } = (deps.ledger ?? ((o) => {
    const client = dynamoClient(o, env);
    return { ledger: new DynamoConsentLedger(client, { tableName: o.table }), close: () => client.destroy() };
  }))(target);
  try {
    const report = consentReport(positionals[0], await ledger.history(positionals[0]), now);
    io.stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatConsentReport(report));
    return 0;
  } catch (e) {
    const err = e as Error;
    io.stderr(`clm: could not read the consent of customer ${JSON.stringify(positionals[0])} from table ${target.table}${target.endpoint ? ` at ${target.endpoint}` : ''}: ${err.name}: ${err.message}\n`);
    return 1;
  } finally {
    close();
  }
}
