/**
 * clm erase <id> — erase a customer (the right to be forgotten): the same erasure as the
 * CustomerErasureRequested event (shared/privacy/erasure.ts), run directly against the table.
 * Prints the erasure record (no personal data). docs/erasure.md says what is kept and why.
 */
import { DynamoCustomerStore } from '../shared/adapters/dynamodb-customer-store.ts';
import { DynamoPrivacyStore } from '../shared/adapters/dynamodb-privacy-store.ts';
import { applyEvent, emptyProfile } from '../shared/customers/profile.ts';
import { eraseCustomer } from '../shared/privacy/erasure.ts';
import type { CustomerStore, PrivacyStore } from '../shared/ports.ts';
import { commandArgs } from './command-args.ts';
import type { Io } from './main.ts';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerPrivacySalt, parseSalt } from '../shared/adapters/secrets-manager-privacy-salt.ts';
import { ENV } from '../shared/wiring.ts';
import { parseScoringConfig } from '../shared/scoring/config.ts';
import { TABLE_HELP, TABLE_OPTIONS, dynamoClient, tableTarget, type TableTarget } from './table-target.ts';

export const ERASE_HELP = `clm erase <customer-id> --requested-by WHO --yes — erase the customer's personal data and events:
a tombstone of the id (later events are dropped), the email address's salted hash on the suppression
list, every item of the customer deleted, an erasure record without personal data. Run it again if it
fails half-way (each step is idempotent).

  --requested-by WHO      who asks (an agent or ticket id; kept in the erasure record)
  --yes                   confirm: without it nothing is erased
  --salt-secret ID        the erasure salt's Secrets Manager secret: the deployed stack's PrivacySaltSecretArn
                          output (default: $${ENV.privacySaltSecret})
  --experiment ID         an outreach experiment whose assignments of her are replaced by anonymous residues
                          (repeatable; default: the scoring config's, $${ENV.scoringConfig} or the default)
  --state-dir DIR         with --endpoint and no --salt-secret: the local stack's state directory, whose
                          privacy-salt file holds the local salt (default: .local)
${TABLE_HELP}

  Against AWS it needs dynamodb:GetItem, PutItem, BatchGetItem, DeleteItem, Query and BatchWriteItem
  on the table and secretsmanager:GetSecretValue on the salt secret.
`;

export type EraseCommandDeps = {
  stores?: (o: TableTarget, salt: () => Promise<string>) => { store: Pick<CustomerStore, 'getProfile'>; privacy: PrivacyStore; close: () => void };
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
};

export async function eraseCommand(argv: string[], io: Io, deps: EraseCommandDeps = {}): Promise<number> {
  const env = deps.env ?? process.env;
  const parsed = commandArgs(argv, io, ERASE_HELP, { ...TABLE_OPTIONS, 'requested-by': { type: 'string' }, 'salt-secret': { type: 'string' }, experiment: { type: 'string', multiple: true }, 'state-dir': { type: 'string' }, yes: { type: 'boolean' } });
  if ('exit' in parsed) return parsed.exit;
  const { values, positionals } = parsed;
  const requestedBy = values['requested-by']?.trim();
  if (positionals.length !== 1 || !positionals[0] || !requestedBy) {
    io.stderr(`clm: erase takes exactly one customer id and --requested-by\n\n${ERASE_HELP}`);
    return 2;
  }
  if (!values.yes) {
    io.stderr(`clm: erasing customer ${JSON.stringify(positionals[0])} cannot be undone; add --yes to erase\n`);
    return 2;
  }
  const target = tableTarget(values, env, 'erase');
  if ('error' in target) {
    io.stderr(target.error);
    return 2;
  }
  const config = parseScoringConfig(env[ENV.scoringConfig]?.trim() ? safeJson(env[ENV.scoringConfig]!) : {});
  if (!config.ok) {
    io.stderr(`clm: $${ENV.scoringConfig} is invalid: ${config.issues.join('; ')}\n`);
    return 2;
  }
  const outreach = { experimentIds: values.experiment?.length ? values.experiment : [config.config.outreach.experimentId], horizonMonths: config.config.churn.horizonMonths };
  const saltSecret = values['salt-secret'] ?? env[ENV.privacySaltSecret];
  if (!saltSecret && !target.endpoint) {
    io.stderr(`clm: erase needs the erasure salt: --salt-secret ID (the deployed stack's PrivacySaltSecretArn output) or $${ENV.privacySaltSecret}\n`);
    return 2;
  }
  const salt = saltSecret ? undefined : localSalt(values['state-dir'] ?? '.local');
  if (salt && 'error' in salt) {
    io.stderr(salt.error);
    return 2;
  }
  let secrets: SecretsManagerClient | undefined;
  const saltSource = salt
    ? async () => salt.value
    : () => {
        secrets ??= new SecretsManagerClient({ region: target.region });
        return new SecretsManagerPrivacySalt(secrets, saltSecret!).salt();
      };
  const { store, privacy, close } = (deps.stores ?? ((o, saltOf) => {
    const client = dynamoClient(o, env);
    return {
      store: new DynamoCustomerStore(client, { tableName: o.table, profiles: { empty: emptyProfile, apply: applyEvent } }),
      privacy: new DynamoPrivacyStore(client, { tableName: o.table, salt: saltOf }),
      close: () => {
        client.destroy();
        secrets?.destroy();
      },
    };
  }))(target, saltSource);
  try {
    const record = await eraseCustomer(positionals[0], { requestedBy, via: 'cli' }, { store, privacy, now: deps.now ?? (() => new Date()), outreach });
    io.stdout(`${JSON.stringify(record, null, 2)}\n`);
    return 0;
  } catch (e) {
    const err = e as Error;
    io.stderr(`clm: could not erase customer ${JSON.stringify(positionals[0])} in table ${target.table}${target.endpoint ? ` at ${target.endpoint}` : ''}: ${err.name}: ${err.message}; run it again to finish\n`);
    return 1;
  } finally {
    close();
  }
}

/** The local stack's salt (local/privacy-salt.ts writes it), or why it cannot be read. Never printed. */
function localSalt(stateDir: string): { value: string } | { error: string } {
  const file = path.join(stateDir, 'privacy-salt');
  if (!existsSync(file)) return { error: `clm: no local erasure salt at ${file}: pass the local stack's --state-dir, or --salt-secret\n` };
  try {
    return { value: parseSalt(readFileSync(file, 'utf8'), file) };
  } catch (e) {
    return { error: `clm: ${(e as Error).message}\n` };
  }
}

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return 'not JSON';
  }
};
