/**
 * `clm customer <id>` against DynamoDB Local: the decisions are taken by the real
 * sendCampaign on the real store, then the command reads them back through the
 * CustomerReader port and explains each one.
 */
import { DynamoConsentLedger } from '../../shared/adapters/dynamodb-consent-ledger.ts';
import { consentRecordsOf } from '../../shared/consent/ledger.ts';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerCommand } from '../../cli/customer.ts';
import { localDynamoDbClient } from '../../local/services.ts';
import { DynamoCustomerStore } from '../../shared/adapters/dynamodb-customer-store.ts';
import { defaultSendPolicy } from '../../shared/campaigns/guardrails.ts';
import { sendCampaign } from '../../shared/campaigns/send-campaign.ts';
import { applyEvent, emptyProfile } from '../../shared/customers/profile.ts';
import type { ChurnTriggerFired } from '../../shared/events/catalog.ts';
import type { EventPublisher, Mailer } from '../../shared/ports.ts';
import { businessEvent, churnTrigger } from '../support/events.ts';
import { freshTable, startLocalAws, type LocalAws } from '../support/local-aws.ts';

const repo = path.resolve(import.meta.dirname, '../..');
let aws: LocalAws;
let ddb: ReturnType<typeof localDynamoDbClient>;
let store: DynamoCustomerStore;
let tableName: string;

const trigger = churnTrigger;

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await customerCommand(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) }, { env: {} });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  aws = await startLocalAws({ ses: false });
  ddb = localDynamoDbClient(aws.dynamodb.endpoint);
  ({ tableName } = await freshTable(aws.dynamodb.endpoint));
  store = new DynamoCustomerStore(ddb, { tableName, profiles: { empty: emptyProfile, apply: applyEvent } });
  let n = 0;
  const mailer: Mailer = { send: async () => ({ messageId: `ses-test-${++n}` }) };
  const publisher: EventPublisher = { publish: async () => {} };
  const deps = { store, mailer, publisher, now: () => new Date(), links: { unsubscribeBaseUrl: 'https://e/u', helpBaseUrl: 'https://e/h' }, policy: { ...defaultSendPolicy, controlGroupPercent: 0 } };
  const decide = async (t: ChurnTriggerFired) => {
    await store.recordTrigger(t, new Date(t.firedAt));
    await store.markPublished(t.customerId, { kind: 'trigger', triggerId: t.triggerId }, new Date());
    return sendCampaign(t, deps);
  };
  // K-1 allows email: the first complaint is emailed, the second falls in the campaign's cooldown.
  await store.recordEvent(businessEvent('CustomerProfileUpdated', { customerId: 'K-1', email: 'grace.hopper@example.com', firstName: 'Grace' }), new Date());
  // as ingest does: the consent records first (the ledger clm customer derives the state from), then the event
  const grant = businessEvent('ConsentChanged', { customerId: 'K-1', granted: true });
  await new DynamoConsentLedger(ddb, { tableName }).append(consentRecordsOf(grant));
  await store.recordEvent(grant, new Date());
  expect((await decide(trigger('K-1', 'call-1', { firedAt: new Date(Date.now() - 60_000).toISOString() }))).outcome).toBe('sent');
  expect(await decide(trigger('K-1', 'call-2'))).toMatchObject({ outcome: 'skipped', reason: 'cooldown' });
  // An action without an email campaign: recorded, nothing decided.
  expect((await decide(trigger('K-1', 'use-1', { triggerId: 'declining-usage#K-1#use-1', rule: 'declining-usage', action: 'none' }))).outcome).toBe('not-a-campaign');
  // K-2 never granted marketing consent.
  await store.recordEvent(businessEvent('CustomerProfileUpdated', { customerId: 'K-2', email: 'k2@example.com' }), new Date());
  expect(await decide(trigger('K-2', 'call-9'))).toMatchObject({ outcome: 'skipped', reason: 'no-marketing-consent' });
}, 120_000);

afterAll(async () => {
  ddb?.destroy();
  await aws?.stop();
});

describe('clm customer', () => {
  it('shows the profile (masked), each trigger with what it became, and the ledger with reasons', async () => {
    const { code, stdout, stderr } = await run(['K-1', '--endpoint', aws.dynamodb.endpoint, '--table', tableName]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('Customer K-1');
    expect(stdout).toMatch(/email\s+g•••@example\.com\s+\(email marketing consent: yes, from the consent ledger\)/);
    expect(stdout).toMatch(/consent\s+from the consent ledger, now: marketing:email may contact \(granted \S+\)/);
    expect(stdout).not.toContain('grace.hopper');
    expect(stdout).not.toContain('Grace');
    expect(stdout).toMatch(/Triggers \(3, newest first\)/);
    expect(stdout).toMatch(/billing-complaint \(single\) → retention-save[^\n]*\n\s+retention-save sent \S+, message ses-test-1/);
    expect(stdout).toMatch(/retention-save skipped \S+: cooldown: this campaign already went to the customer in the 30 days before/);
    expect(stdout).toMatch(/declining-usage \(single\) → none[^\n]*\n\s+no email: the action "none" has no email campaign/);
    expect(stdout).toMatch(/Send ledger \(2, newest first\)/);
    expect(stdout).toMatch(/sent\s+retention-save\s+message ses-test-1/);
  });

  it('explains a missing consent; shows personal data only when asked; JSON has the whole record', async () => {
    const plain = await run(['K-2', '--endpoint', aws.dynamodb.endpoint, '--table', tableName]);
    expect(plain.stdout).toMatch(/skipped \S+: no marketing consent for email/);
    expect(plain.stdout).toMatch(/consent\s+none in the consent ledger/);
    const shown = await run(['K-1', '--endpoint', aws.dynamodb.endpoint, '--table', tableName, '--show-personal-data']);
    expect(shown.stdout).toContain('grace.hopper@example.com');
    const json = await run(['K-1', '--endpoint', aws.dynamodb.endpoint, '--table', tableName, '--json']);
    const record = JSON.parse(json.stdout) as { customerId: string; triggers: unknown[]; sends: { status: string; reason?: string }[]; consent: { purpose: string; action: string }[] };
    expect(record.consent.map((r) => [r.purpose, r.action])).toEqual([['marketing:email', 'granted']]);
    expect(record.customerId).toBe('K-1');
    expect(record.triggers).toHaveLength(3);
    expect(record.sends.map((s) => s.reason ?? s.status).sort()).toEqual(['cooldown', 'sent']);
  });

  it('an unknown customer, a missing table and bad arguments are clear errors', async () => {
    const unknown = await run(['NOPE', '--endpoint', aws.dynamodb.endpoint, '--table', tableName]);
    expect(unknown.code).toBe(0);
    expect(unknown.stdout).toMatch(/none: the stack has stored no event for this customer id/);
    const noTable = await run(['K-1', '--endpoint', aws.dynamodb.endpoint, '--table', 'no-such-table']);
    expect(noTable.code).toBe(1);
    expect(noTable.stderr).toMatch(/could not read customer "K-1" from table no-such-table at http:\/\/127\.0\.0\.1:\d+: ResourceNotFoundException/);
    expect((await run([])).code).toBe(2);
    expect((await run(['K-1'])).stderr).toMatch(/needs the table/);
  });

  it('runs as `clm customer` (bin/clm.js), with the table from CLM_TABLE_NAME', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(repo, 'bin/clm.js'), 'customer', 'K-2', '--endpoint', aws.dynamodb.endpoint], {
      cwd: repo,
      env: { PATH: process.env.PATH, CLM_TABLE_NAME: tableName },
    });
    expect(stdout).toContain('Customer K-2');
    expect(stdout).toMatch(/no marketing consent for email/);
  }, 30_000);
});
