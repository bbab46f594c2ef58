/**
 * The consent ledger on DynamoDB Local, through the real ingest: records appended once however
 * often and in whatever order their events arrive, the profile's state equal to the state of the
 * ledger, and `clm consent <id>` (the function and bin/clm.js) printing the auditor's history.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { consentCommand } from '../../cli/consent.ts';
import { DynamoConsentLedger } from '../../shared/adapters/dynamodb-consent-ledger.ts';
import { DynamoCustomerStore } from '../../shared/adapters/dynamodb-customer-store.ts';
import { consentState } from '../../shared/consent/ledger.ts';
import { applyEvent, emptyProfile } from '../../shared/customers/profile.ts';
import { ingestBatch } from '../../shared/ingest/ingest-event.ts';
import { InMemoryPrivacyStore, InMemoryRejectedEventSink, InMemoryRejectionLedger } from '../../shared/pipeline/in-memory-ports.ts';
import { detail, envelope } from '../support/events.ts';
import { freshTable, useLocalDynamoDb } from '../support/local-aws.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const local = useLocalDynamoDb();
const now = new Date('2026-06-01T00:00:00Z');
let tableName: string;
let store: DynamoCustomerStore;
let ledger: DynamoConsentLedger;

const raw = (type: Parameters<typeof detail>[0], fields: Record<string, unknown>) =>
  JSON.stringify(envelope(type, detail(type, { customerId: 'A-1', ...fields }), 'com.example.crm'));

/** A year of one customer's consent: a double opt-in, a cancellation with a yes, a withdrawal by an agent, an unsubscribe. */
const history = [
  raw('ConsentChanged', { eventId: 'doi-1', occurredAt: '2025-01-05T10:00:00Z', granted: true, doubleOptIn: 'requested', wordingVersion: 'news-v3' }),
  raw('ConsentChanged', { eventId: 'doi-2', occurredAt: '2025-01-05T10:07:00Z', granted: true, doubleOptIn: 'confirmed', wordingVersion: 'news-v3' }),
  raw('SubscriptionCancelled', { eventId: 'cancel-1', occurredAt: '2025-03-01T09:00:00Z', subscriptionId: 's-1', productId: 'p-1', reasonCode: 'price', reason: undefined, allowWinbackContact: true, wordingVersion: 'exit-v1' }),
  raw('ConsentChanged', { eventId: 'cs-1', occurredAt: '2025-05-01T12:00:00Z', purpose: 'winback', granted: false, source: 'customer-service', actor: 'agent-7' }),
  raw('ConsentChanged', { eventId: 'unsub-1', occurredAt: '2025-09-01T18:00:00Z', granted: false, source: 'unsubscribe-link' }),
];

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await consentCommand(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) }, { env: {}, now: () => now });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  ({ tableName } = await freshTable(local.aws().dynamodb.endpoint));
  store = new DynamoCustomerStore(local.client(), { tableName, profiles: { empty: emptyProfile, apply: applyEvent } });
  ledger = new DynamoConsentLedger(local.client(), { tableName });
  const deps = { store, rejected: new InMemoryRejectedEventSink(), rejections: new InMemoryRejectionLedger(), consent: ledger, privacy: new InMemoryPrivacyStore(), now: () => now };
  // Newest first, one by one, then the whole history again in one batch (a redelivery): each record once.
  for (const r of [...history].reverse()) expect((await ingestBatch([r], deps))[0]!.outcome).toBe('stored');
  expect((await ingestBatch([...history, history[2]!], deps)).map((r) => r.outcome)).toEqual(Array(6).fill('duplicate'));
}, 120_000);

describe('the consent ledger on DynamoDB', () => {
  it('keeps each record once, oldest first, and the profile holds the state of the ledger', async () => {
    const records = await ledger.history('A-1');
    expect(records.map((r) => [r.recordId, r.purpose, r.action])).toEqual([
      ['doi-1', 'marketing:email', 'requested'],
      ['doi-2', 'marketing:email', 'granted'],
      ['cancel-1', 'winback', 'granted'],
      ['cs-1', 'winback', 'withdrawn'],
      ['unsub-1', 'marketing:email', 'withdrawn'],
    ]);
    expect(records[2]).toEqual({
      recordId: 'cancel-1', customerId: 'A-1', purpose: 'winback', action: 'granted', at: '2025-03-01T09:00:00.000Z', source: 'api', actor: 'customer',
      wordingVersion: 'exit-v1', expiresAt: '2027-03-01T09:00:00.000Z', eventId: 'cancel-1', eventType: 'SubscriptionCancelled', eventSource: 'com.example.crm',
    });
    expect((await store.getProfile('A-1'))!.consentState).toEqual(consentState(records));
  });

  it('appending a record again leaves the first one', async () => {
    const [first] = await ledger.history('A-1');
    await ledger.append([{ ...first!, actor: 'someone-else' }]);
    expect((await ledger.history('A-1'))[0]).toEqual(first);
  });
});

describe('clm consent', () => {
  it('prints every record with source, actor, wording and expiry, and what may be done now', async () => {
    const { code, stdout, stderr } = await run(['A-1', '--endpoint', local.aws().dynamodb.endpoint, '--table', tableName]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('Consent ledger of customer A-1: 5 records, oldest first');
    expect(stdout).toMatch(/2025-01-05T10:00:00\.000Z\s+marketing:email\s+requested \(double opt-in, not a grant\)\s+source api\s+actor customer\s+wording news-v3/);
    expect(stdout).toMatch(/2025-01-05T10:07:00\.000Z\s+marketing:email\s+granted \(double opt-in confirmed\)/);
    expect(stdout).toMatch(/2025-03-01T09:00:00\.000Z\s+winback\s+granted\s+source api\s+actor customer\s+wording exit-v1\s+expires 2027-03-01T09:00:00\.000Z\s+from SubscriptionCancelled cancel-1 \(com\.example\.crm\)/);
    expect(stdout).toMatch(/winback\s+withdrawn\s+source customer-service\s+actor agent-7/);
    expect(stdout).toMatch(/Now \(2026-06-01T00:00:00\.000Z\):\n\s+marketing:email\s+may not contact: withdrawn 2025-09-01T18:00:00\.000Z \(record unsub-1\)\n\s+winback\s+may not contact: withdrawn 2025-05-01T12:00:00\.000Z \(record cs-1\)/);
  });

  it('--json has the records and the state; an unknown customer has none; errors are clear', async () => {
    const json = await run(['A-1', '--endpoint', local.aws().dynamodb.endpoint, '--table', tableName, '--json', '--now', '2025-04-01T00:00:00Z']);
    const report = JSON.parse(json.stdout) as { records: unknown[]; state: Record<string, { live: boolean }> };
    expect(report.records).toHaveLength(5);
    expect(report.state).toMatchObject({ winback: { live: false }, 'marketing:email': { live: false } });
    const none = await run(['NOBODY', '--endpoint', local.aws().dynamodb.endpoint, '--table', tableName]);
    expect(none.stdout).toContain('0 records');
    const noTable = await run(['A-1', '--endpoint', local.aws().dynamodb.endpoint, '--table', 'no-such-table']);
    expect(noTable).toMatchObject({ code: 1, stderr: expect.stringMatching(/could not read the consent of customer "A-1" from table no-such-table .*ResourceNotFoundException/) });
    expect((await run([])).code).toBe(2);
    expect((await run(['A-1', '--now', 'yesterday', '--table', 'x'])).code).toBe(2);
  });

  it('runs as `clm consent` (bin/clm.js)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(repo, 'bin/clm.js'), 'consent', 'A-1', '--endpoint', local.aws().dynamodb.endpoint], {
      cwd: repo,
      env: { PATH: process.env.PATH, CLM_TABLE_NAME: tableName },
    });
    expect(stdout).toContain('Consent ledger of customer A-1: 5 records');
  }, 30_000);
});
