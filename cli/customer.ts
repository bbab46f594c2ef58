/**
 * clm customer <id> — why did (or didn't) this customer get an email? Prints the
 * profile, the triggers that fired with what each became, and the send ledger with
 * each decision's reason. Reads the stack's table through the CustomerReader port
 * (shared/adapters/dynamodb-customer-store.ts), locally or in AWS.
 */
import { DynamoCustomerStore } from '../shared/adapters/dynamodb-customer-store.ts';
import { formatCustomerReport } from '../shared/customers/customer-report.ts';
import { applyEvent, emptyProfile } from '../shared/customers/profile.ts';
import type { CustomerReader } from '../shared/ports.ts';
import { commandArgs } from './command-args.ts';
import type { Io } from './main.ts';
import { TABLE_HELP, TABLE_OPTIONS, dynamoClient, tableTarget } from './table-target.ts';

export const CUSTOMER_HELP = `clm customer <customer-id> — a customer's profile, triggers and send ledger, with the reason for each decision.

${TABLE_HELP}
  --show-personal-data    show the email address and first name (masked by default)
  --json                  print the record as JSON (personal data included)

  Against AWS it uses your usual credentials (profile, SSO, environment) and needs dynamodb:GetItem and
  dynamodb:Query on the table. Example:
    clm customer C-1001 --table "$(aws cloudformation describe-stacks --stack-name ServerlessClm \\
      --query "Stacks[0].Outputs[?OutputKey=='TableName'].OutputValue" --output text)"
`;

export type CustomerCommandDeps = {
  /** The reader to use (tests); default: DynamoDB with the flags' endpoint, table and region. */
  reader?: (o: { endpoint?: string; table: string; region?: string }) => { reader: CustomerReader; close: () => void };
  env?: NodeJS.ProcessEnv;
};

function dynamoReader(o: { endpoint?: string; table: string; region?: string }, env: NodeJS.ProcessEnv) {
  const client = dynamoClient(o, env);
  const reader = new DynamoCustomerStore(client, { tableName: o.table, profiles: { empty: emptyProfile, apply: applyEvent } });
  return { reader, close: () => client.destroy() };
}

/** Runs `clm customer`; returns the exit code. */
export async function customerCommand(argv: string[], io: Io, deps: CustomerCommandDeps = {}): Promise<number> {
  const env = deps.env ?? process.env;
  const parsed = commandArgs(argv, io, CUSTOMER_HELP, { ...TABLE_OPTIONS, 'show-personal-data': { type: 'boolean' }, json: { type: 'boolean' } });
  if ('exit' in parsed) return parsed.exit;
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || !positionals[0]) {
    io.stderr(`clm: customer takes exactly one customer id\n\n${CUSTOMER_HELP}`);
    return 2;
  }
  const target = tableTarget(values, env, 'customer');
  if ('error' in target) {
    io.stderr(target.error);
    return 2;
  }
  const { endpoint, table, region } = target;
  const { reader, close } = (deps.reader ?? ((o) => dynamoReader(o, env)))({ endpoint, table, region });
  try {
    const record = await reader.readCustomer(positionals[0]);
    io.stdout(values.json ? `${JSON.stringify(record, null, 2)}\n` : formatCustomerReport(record, { showPersonalData: values['show-personal-data'] }));
    return 0;
  } catch (e) {
    const err = e as Error;
    io.stderr(`clm: could not read customer ${JSON.stringify(positionals[0])} from table ${table}${endpoint ? ` at ${endpoint}` : ''}: ${err.name}: ${err.message}\n`);
    return 1;
  } finally {
    close();
  }
}
