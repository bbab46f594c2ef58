/**
 * clm customer <id> — why did (or didn't) this customer get an email? Prints the
 * profile, the triggers that fired with what each became, and the send ledger with
 * each decision's reason. Reads the stack's table through the CustomerReader port
 * (shared/adapters/dynamodb-customer-store.ts), locally or in AWS.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseArgs } from 'node:util';
import { DynamoCustomerStore } from '../shared/adapters/dynamodb-customer-store.ts';
import { formatCustomerReport } from '../shared/customers/customer-report.ts';
import { applyEvent, emptyProfile } from '../shared/customers/profile.ts';
import { tableName as tableNameFor } from '../shared/data-model/table.ts';
import type { CustomerReader } from '../shared/ports.ts';
import { ENV } from '../shared/wiring.ts';
import type { Io } from './main.ts';

export const CUSTOMER_HELP = `clm customer <customer-id> — a customer's profile, triggers and send ledger, with the reason for each decision.

  --endpoint URL          DynamoDB endpoint, e.g. the local stack's http://127.0.0.1:<port> (default: AWS)
  --table NAME            the table: the deployed stack's TableName output (default: $${ENV.tableName};
                          with --endpoint, the local stack's ${tableNameFor('local-')})
  --region REGION         AWS region (default: $AWS_REGION; with --endpoint, eu-west-1)
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
  // DynamoDB Local takes any credentials; without any configured, use placeholders rather than fail.
  const local = o.endpoint !== undefined && !env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE;
  const client = new DynamoDBClient({
    endpoint: o.endpoint,
    region: o.region,
    ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  const reader = new DynamoCustomerStore(client, { tableName: o.table, profiles: { empty: emptyProfile, apply: applyEvent } });
  return { reader, close: () => client.destroy() };
}

/** Runs `clm customer`; returns the exit code. */
export async function customerCommand(argv: string[], io: Io, deps: CustomerCommandDeps = {}): Promise<number> {
  const env = deps.env ?? process.env;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        endpoint: { type: 'string' },
        table: { type: 'string' },
        region: { type: 'string' },
        'show-personal-data': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    io.stderr(`clm: ${(e as Error).message}\n\n${CUSTOMER_HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(CUSTOMER_HELP);
    return 0;
  }
  if (positionals.length !== 1 || !positionals[0]) {
    io.stderr(`clm: customer takes exactly one customer id\n\n${CUSTOMER_HELP}`);
    return 2;
  }
  const endpoint = values.endpoint;
  const table = values.table ?? env[ENV.tableName] ?? (endpoint ? tableNameFor('local-') : undefined);
  if (!table) {
    io.stderr(`clm: customer needs the table: --table NAME (the deployed stack's TableName output) or $${ENV.tableName}\n`);
    return 2;
  }
  const region = values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? (endpoint ? 'eu-west-1' : undefined);
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
