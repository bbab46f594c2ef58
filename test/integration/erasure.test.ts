/**
 * Erasure on DynamoDB Local through the real ingest, erasure and send path: a CustomerErasureRequested
 * event (ingest stores none; the erasure function's handler erases) and `clm erase` delete the customer's partition, leaves a tombstone and the address's
 * salted hash; a late event for the erased id is dropped; a re-import under a new id with the same
 * address is stored but never emailed (suppressed); nothing of the id or address stays in the table.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eraseCommand } from '../../cli/erase.ts';
import { DynamoConsentLedger } from '../../shared/adapters/dynamodb-consent-ledger.ts';
import { DynamoCustomerStore } from '../../shared/adapters/dynamodb-customer-store.ts';
import { DynamoPrivacyStore } from '../../shared/adapters/dynamodb-privacy-store.ts';
import { DynamoScoringStore } from '../../shared/adapters/dynamodb-scoring-store.ts';
import { DynamoOutreachDesk } from '../../shared/adapters/dynamodb-outreach-desk.ts';
import { erasedOutreachPart } from '../../shared/report/erased-outreach.ts';
import { defaultSendPolicy } from '../../shared/campaigns/guardrails.ts';
import { sendCampaign } from '../../shared/campaigns/send-campaign.ts';
import { applyEvent, emptyProfile } from '../../shared/customers/profile.ts';
import { ingestBatch } from '../../shared/ingest/ingest-event.ts';
import { InMemoryRejectedEventSink, InMemoryRejectionLedger } from '../../shared/pipeline/in-memory-ports.ts';
import { saltedHash } from '../../shared/privacy/erasure.ts';
import type { EventPublisher, Mailer } from '../../shared/ports.ts';
import { ENV } from '../../shared/wiring.ts';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { churnTrigger, detail, envelope, sqsEvent } from '../support/events.ts';
import { freshTable, useLocalDynamoDb, useLocalEndpoints, useLocalPrivacySalt } from '../support/local-aws.ts';

const local = useLocalDynamoDb();
const now = new Date('2026-06-01T00:00:00Z');
let tableName: string;
let store: DynamoCustomerStore;
let privacy: DynamoPrivacyStore;
let scoring: DynamoScoringStore;
let desk: DynamoOutreachDesk;
let ingest: (raws: string[]) => ReturnType<typeof ingestBatch>;
let stateDir: string;
let secrets: Awaited<ReturnType<typeof useLocalPrivacySalt>>;
afterAll(() => secrets?.close());
let eraseHandler: (e: SQSEvent, c: Context) => Promise<SQSBatchResponse>;
const context = { functionName: 'erasure', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

const raw = (type: Parameters<typeof detail>[0], fields: Record<string, unknown>) =>
  JSON.stringify(envelope(type, detail(type, { occurredAt: '2026-05-20T10:00:00Z', ...fields }), 'com.example.crm'));
const joined = (customerId: string, email: string) => [
  raw('CustomerProfileUpdated', { customerId, email, firstName: 'Eve' }),
  raw('ConsentChanged', { customerId, granted: true }),
  raw('SupportCallLogged', { customerId, callId: `${customerId}-call`, reason: 'billing' }),
];
const scan = async () => (await DynamoDBDocumentClient.from(local.client()).send(new ScanCommand({ TableName: tableName }))).Items ?? [];

beforeAll(async () => {
  ({ tableName } = await freshTable(local.aws().dynamodb.endpoint));
  // The salt as the local stack keeps it (a file of the state directory, served as the Secrets Manager secret the functions read).
  secrets = await useLocalPrivacySalt();
  ({ stateDir } = secrets);
  const { salt } = secrets;
  store = new DynamoCustomerStore(local.client(), { tableName, profiles: { empty: emptyProfile, apply: applyEvent } });
  privacy = new DynamoPrivacyStore(local.client(), { tableName, salt: async () => salt });
  const consent = new DynamoConsentLedger(local.client(), { tableName });
  scoring = new DynamoScoringStore(local.client(), { tableName, profiles: { empty: emptyProfile } });
  desk = new DynamoOutreachDesk(local.client(), { tableName });
  ingest = (raws) => ingestBatch(raws, { store, rejected: new InMemoryRejectedEventSink(), rejections: new InMemoryRejectionLedger(), consent, privacy, now: () => now });
  useLocalEndpoints({ dynamodb: local.aws().dynamodb.endpoint });
  process.env[ENV.tableName] = tableName;
  eraseHandler = (await import('../../functions/erasure/handler.ts')).handler as never;
}, 120_000);

describe('erasure', () => {
  it('an erasure event deletes everything of the customer, keeps a tombstone and the address hash, and a record without personal data', async () => {
    expect((await ingest(joined('E-1', 'Eve.Erased@Example.com'))).map((r) => r.outcome)).toEqual(['stored', 'stored', 'stored']);
    await store.recordTrigger({ ...churnTrigger('E-1', 'x'), firedAt: undefined } as never, now);
    expect((await scan()).filter((i) => i.pk === 'CUST#E-1').length).toBeGreaterThan(3);
    // Her items outside her partition: a treated outreach assignment of the nightly plan (with its copy in the
    // unpublished list), a control one of another customer, and a personal-outreach task of today.
    const plan = (customerId: string, group: 'treatment' | 'control') => ({
      planId: `op-${customerId}`, experimentId: 'outreach-v1', period: '2026-05', customerId, group, rank: 3, rankBy: 'clv' as const, clv: 812.37, churnRisk: 0.6149, plannedOn: '2026-05-25', runId: 'run-1', plannedAt: '2026-05-25T02:00:00Z',
    });
    await scoring.putOutreachAssignment(plan('E-1', 'treatment'));
    await scoring.putOutreachAssignment(plan('K-1', 'control'));
    expect((await scoring.unpublishedOutreach()).map((a) => a.customerId)).toEqual(['E-1']);
    expect(await desk.claimTask(new Date().toISOString().slice(0, 10), 'billing-complaint#E-1#x', 'E-1', 10, new Date())).toBe('claimed');

    const request = raw('CustomerErasureRequested', { customerId: 'E-1', eventId: 'erase-1', requestedBy: 'privacy-desk' });
    // ingest gets the request too (its rule takes every producer event): it stores nothing and erases nothing
    expect(await ingest([request])).toEqual([{ outcome: 'erased', type: 'CustomerErasureRequested', customerId: 'E-1', eventId: 'erase-1' }]);
    expect(await store.getProfile('E-1')).toBeDefined();

    // the erasure function: the request erased; an invalid one erases nothing (ingest rejects it); a misrouted event fails alone
    const invalid = JSON.stringify(envelope('CustomerErasureRequested', { eventId: 'erase-bad', customerId: 'L-0', occurredAt: '2026-05-20T10:00:00Z' }, 'com.example.crm'));
    const misrouted = raw('OrderPlaced', { customerId: 'E-9', orderId: 'o-9', amount: 1, currency: 'EUR' });
    const batch = sqsEvent([request, invalid, misrouted]);
    expect(await eraseHandler(batch, context)).toEqual({ batchItemFailures: [{ itemIdentifier: batch.Records[2]!.messageId }] });

    const items = await scan();
    expect(items.filter((i) => String(i.pk).startsWith('CUST#E-1'))).toEqual([]);
    const salt = await privacy.salt();
    expect(salt).toMatch(/^[0-9a-f]{64}$/);
    // the function read the salt from the secret (once per container); the table holds no salt
    expect(secrets.reads()).toBe(1);
    expect(items.filter((i) => i.pk === 'PRIVACY' || 'salt' in i)).toEqual([]);
    expect(JSON.stringify(items)).not.toContain(salt);
    expect(items.some((i) => i.pk === `ERASED#${saltedHash(salt, 'customer', 'E-1')}`)).toBe(true);
    expect(items.some((i) => i.pk === `SUPPRESS#${saltedHash(salt, 'email', 'eve.erased@example.com')}`)).toBe(true);
    const [record] = items.filter((i) => i.entity === 'erasure');
    expect(record).toMatchObject({ requestedBy: 'privacy-desk', via: 'event', emailSuppressed: true, deleted: { profile: 1, event: 3, consent: 1, trigger: 1, 'outreach-task': 1 }, anonymised: { outreach: 1 } });
    // Her assignment is an anonymous residue (the lift report still counts her group's size and outcome); its
    // unpublished copy (an OutreachPlanned naming her) and her task item are gone; the other customer's plan is untouched.
    expect((await scoring.outreachAssignments('outreach-v1', '2026-05')).map((a) => a.customerId)).toEqual(['K-1']);
    expect(await scoring.unpublishedOutreach()).toEqual([]);
    expect(await scoring.erasedOutreach('outreach-v1', '2026-05')).toEqual([
      { experimentId: 'outreach-v1', period: '2026-05', group: 'treatment', rankBy: 'clv', plannedOn: '2026-05-25', clvAtPlan: 812, churnRiskAtPlan: 0.61, outcome: 'churned', erasedOn: new Date().toISOString().slice(0, 10) },
    ]);
    expect(items.filter((i) => String(i.pk).startsWith('OUTREACHTASKS#') && i.sk !== 'COUNT')).toEqual([]);
    const part = await erasedOutreachPart(scoring, 'outreach-v1', '2026-07-01', 3);
    expect(part.outreach).toEqual({ '2026-05': { treatment: expect.objectContaining({ assigned: 1, observed: 1, churned: 1, clvAtPlan: { n: 1, sum: 812, sumSq: 812 * 812 } }) } });
    // Nothing left names the customer or her address.
    const text = JSON.stringify(items);
    for (const personal of ['E-1', 'eve.erased', 'Eve.Erased', 'Eve"']) expect(text).not.toContain(personal);
  });

  it('a redelivered erasure request leaves one residue per assignment', async () => {
    const request = raw('CustomerErasureRequested', { customerId: 'E-1', eventId: 'erase-1', requestedBy: 'privacy-desk' });
    expect(await eraseHandler(sqsEvent([request]), context)).toEqual({ batchItemFailures: [] });
    expect(await scoring.erasedOutreach('outreach-v1', '2026-05')).toHaveLength(1);
    // two erasure records now: the first, and this one, which found nothing left to delete or replace
    const records = (await scan()).filter((i) => i.entity === 'erasure');
    expect(records.map((r) => [r.deleted, r.anonymised, r.emailSuppressed]).sort((a, b) => Number(a[2]) - Number(b[2]))).toEqual([
      [{}, {}, false],
      [expect.objectContaining({ profile: 1 }), { outreach: 1 }, true],
    ]);
  });

  it('a late event for the erased id is dropped; a redelivered erasure is too', async () => {
    const late = await ingest([raw('OrderPlaced', { customerId: 'E-1', orderId: 'o-late', amount: 5, currency: 'EUR' }), raw('CustomerErasureRequested', { customerId: 'E-1', eventId: 'erase-1', requestedBy: 'privacy-desk' })]);
    expect(late.map((r) => r.outcome)).toEqual(['erased', 'erased']);
    expect(await store.getProfile('E-1')).toBeUndefined();
    expect((await scan()).filter((i) => i.pk === 'CUST#E-1')).toEqual([]);
  });

  it('a re-import under a new id with the same address is stored but never marketed to', async () => {
    expect((await ingest(joined('E-2', 'eve.erased@example.com'))).map((r) => r.outcome)).toEqual(['stored', 'stored', 'stored']);
    const trigger = churnTrigger('E-2', 'reimport', { firedAt: now.toISOString() });
    await store.recordTrigger(trigger, now);
    const mailer: Mailer = { send: async () => { throw new Error('must not send'); } };
    const publisher: EventPublisher = { publish: async () => {} };
    const deps = { store, mailer, publisher, privacy, now: () => now, links: { unsubscribeBaseUrl: 'https://e/u', helpBaseUrl: 'https://e/h' }, policy: { ...defaultSendPolicy, controlGroupPercent: 0 } };
    expect(await sendCampaign(trigger, deps)).toMatchObject({ outcome: 'skipped', reason: 'suppressed' });
    // Another address of a live customer is not suppressed.
    expect((await ingest(joined('L-1', 'live@example.com'))).map((r) => r.outcome)).toEqual(['stored', 'stored', 'stored']);
    const live = churnTrigger('L-1', 'live', { firedAt: now.toISOString() });
    await store.recordTrigger(live, now);
    expect(await sendCampaign(live, { ...deps, mailer: { send: async () => ({ messageId: 'm-1' }) } })).toMatchObject({ outcome: 'sent' });
  });

  it('clm erase does the same, asks for --yes, and is idempotent', async () => {
    const run = async (args: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await eraseCommand(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) }, { env: {}, now: () => now });
      return { code, stdout, stderr };
    };
    const target = ['--endpoint', local.aws().dynamodb.endpoint, '--table', tableName, '--state-dir', stateDir];
    // the salt: the local state directory's file (or --salt-secret); without either it refuses, erasing nothing
    expect(await run(['L-1', '--requested-by', 'ticket-9', '--yes', ...target.slice(0, 4), '--state-dir', path.join(stateDir, 'none')])).toMatchObject({ code: 2, stderr: expect.stringContaining('no local erasure salt') });
    expect(await run(['L-1', '--requested-by', 'ticket-9', '--yes', '--table', tableName])).toMatchObject({ code: 2, stderr: expect.stringContaining('--salt-secret') });
    expect(await run(['L-1', '--requested-by', 'ticket-9', ...target])).toMatchObject({ code: 2, stderr: expect.stringContaining('add --yes') });
    expect(await store.getProfile('L-1')).toBeDefined();
    const first = await run(['L-1', '--requested-by', 'ticket-9', '--yes', ...target]);
    expect(first.stderr).toBe('');
    expect(JSON.parse(first.stdout)).toMatchObject({ requestedBy: 'ticket-9', via: 'cli', emailSuppressed: true, deleted: { profile: 1, event: 3, consent: 1, trigger: 1 } });
    expect(await store.getProfile('L-1')).toBeUndefined();
    const again = await run(['L-1', '--requested-by', 'ticket-9', '--yes', ...target]);
    expect(JSON.parse(again.stdout)).toMatchObject({ deleted: {}, emailSuppressed: false });
    expect((await ingest([raw('OrderPlaced', { customerId: 'L-1', orderId: 'o', amount: 1, currency: 'EUR' })]))[0]!.outcome).toBe('erased');
    expect((await run([])).code).toBe(2);
  });
});
