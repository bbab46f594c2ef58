/**
 * The table a `clm` command that reads or changes the stack's data works on: the flags
 * `--endpoint`, `--table`, `--region` (shared by clm customer, consent, erase and winback-report)
 * and a DynamoDB client for them, locally (DynamoDB Local, any credentials) or in AWS.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { tableName as tableNameFor } from '../shared/data-model/table.ts';
import { ENV } from '../shared/wiring.ts';

export type TableTarget = { endpoint?: string; table: string; region?: string };

export const TABLE_OPTIONS = {
  endpoint: { type: 'string' },
  table: { type: 'string' },
  region: { type: 'string' },
} as const;

/** The flags' help lines. */
export const TABLE_HELP = `  --endpoint URL          DynamoDB endpoint, e.g. the local stack's http://127.0.0.1:<port> (default: AWS)
  --table NAME            the table: the deployed stack's TableName output (default: $${ENV.tableName};
                          with --endpoint, the local stack's ${tableNameFor('local-')})
  --region REGION         AWS region (default: $AWS_REGION; with --endpoint, eu-west-1)`;

/** The target of the flags, or an error message when the table cannot be told. */
export function tableTarget(
  values: { endpoint?: string; table?: string; region?: string },
  env: NodeJS.ProcessEnv,
  command: string,
): TableTarget | { error: string } {
  const endpoint = values.endpoint;
  const table = values.table ?? env[ENV.tableName] ?? (endpoint ? tableNameFor('local-') : undefined);
  if (!table) return { error: `clm: ${command} needs the table: --table NAME (the deployed stack's TableName output) or $${ENV.tableName}\n` };
  const region = values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? (endpoint ? 'eu-west-1' : undefined);
  return { endpoint, table, region };
}

/** A DynamoDB client for the target. DynamoDB Local takes any credentials; without any configured, use placeholders rather than fail. */
export function dynamoClient(o: TableTarget, env: NodeJS.ProcessEnv): DynamoDBClient {
  const local = o.endpoint !== undefined && !env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE;
  return new DynamoDBClient({
    endpoint: o.endpoint,
    region: o.region,
    ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
}
