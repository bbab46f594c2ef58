/**
 * SES feedback end to end in the local stack: SES's events (test/fixtures/aws/ses-events.json, in
 * the shape SES puts them on the default bus) are delivered to the local default bus as SES would,
 * routed by the email-feedback rule of shared/wiring.ts to its queue, handled by the real handler
 * and stored on the customer in DynamoDB Local; the Send event, hard bounce and complaint are counted
 * in the circuit breaker's window. Redelivery stores and counts nothing twice; an invalid SES
 * event goes to the rejected-events queue with its reason, once.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REJECTED_QUEUE, startLocalStack, type LocalStack } from '../../local/local-stack.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/services.ts';
import type { EventBridgeEvent } from '../../local/bus.ts';
import { DynamoCustomerStore } from '../../shared/adapters/dynamodb-customer-store.ts';
import { DynamoDeliverability } from '../../shared/adapters/dynamodb-deliverability.ts';
import { applyEvent, emailAddressHash, emailSuppressed, emptyProfile } from '../../shared/customers/profile.ts';

const fixtures = JSON.parse(readFileSync(new URL('../fixtures/aws/ses-events.json', import.meta.url), 'utf8')) as EventBridgeEvent[];
const MESSAGE = '0102019a6f5e3c21-7d1f9a8e-4b2c-4e0f-9a31-5c2b8d7e6f10-000000';
let stack: LocalStack;
let store: DynamoCustomerStore;
let deliverability: DynamoDeliverability;

beforeAll(async () => {
  stack = await startLocalStack({ stateDir: mkdtempSync(path.join(os.tmpdir(), 'clm-feedback-')), maxBatchingWindowMs: 50 });
  store = new DynamoCustomerStore(stack.dynamodb, { tableName: stack.tableName, profiles: { empty: emptyProfile, apply: applyEvent } });
  deliverability = new DynamoDeliverability(stack.dynamodb, { tableName: stack.tableName });
  const bus = new EventBridgeClient({ endpoint: stack.endpoints.bus, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const detail = (eventId: string, fields: Record<string, unknown>) => JSON.stringify({ eventId, customerId: 'aws-1', occurredAt: '2026-11-01T00:00:00Z', ...fields });
  const out = await bus.send(
    new PutEventsCommand({
      Entries: [
        { EventBusName: stack.busName, Source: 'com.example.crm', DetailType: 'CustomerProfileUpdated', Detail: detail('fb-profile', { email: 'lin@example.net', firstName: 'Lin' }) },
        { EventBusName: stack.busName, Source: 'com.example.crm', DetailType: 'ConsentChanged', Detail: detail('fb-consent', { channel: 'email', purpose: 'marketing', granted: true }) },
      ],
    }),
  );
  bus.destroy();
  expect(out.FailedEntryCount).toBe(0);
  await stack.waitForIdle({ timeoutMs: 60_000 });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

describe('SES feedback through the local stack', () => {
  it('records every kind on the customer: suppressed at once after the hard bounce, soft bounce counted, open and click kept', async () => {
    for (const e of fixtures) stack.bus.deliverServiceEvent(e);
    await stack.waitForIdle({ timeoutMs: 60_000 });
    const p = (await store.getProfile('aws-1'))!;
    expect(emailSuppressed(p)).toBe('hard-bounce');
    expect(Object.keys(p.emailSuppressions!)).toEqual([emailAddressHash('lin@example.net')]);
    expect(p.emailStats).toEqual({ delivered: 1, softBounces: 1, lastSoftBounceAt: '2026-11-21T10:00:00.000Z', rejected: 1, renderingFailures: 1 });
    expect(p.emailResponses?.[MESSAGE]).toMatchObject({ opens: 1, clicks: 1, campaign: 'retention-save', sendId: 'retention-save#billing-complaint#aws-1#call-aws-1' });
    // 2 events of the profile + 8 of the 10 SES events (Email Sent is not stored; another sender's delivery is ignored)
    expect(p.eventCount).toBe(10);
    // The circuit breaker's window: the Send event, the hard bounce and the complaint (not the soft bounce)
    expect(await deliverability.figures(new Date('2026-11-25T00:00:00Z'), 7 * 24)).toEqual({ sends: 1, bounces: 1, complaints: 1 });
    const consumer = stack.consumers.get('SesFeedbackToEmailFeedback')!;
    expect(consumer.succeeded).toBeGreaterThan(0);
    expect(consumer.deadLettered).toBe(0);
    // SES's events reach no other handler (ingest takes events of the stack's own bus only).
    expect(stack.queues.get(REJECTED_QUEUE)!.sentCount).toBe(0);
  });

  it('feedback about a customer the stack has no profile of (erased since the send) creates none', async () => {
    const other = structuredClone(fixtures[6]!) as EventBridgeEvent & { detail: { mail: { tags: Record<string, string[]> } } };
    other.detail.mail.tags['clm-customer'] = [Buffer.from('nobody').toString('base64url')];
    stack.bus.deliverServiceEvent(other);
    await stack.waitForIdle({ timeoutMs: 60_000 });
    expect(await store.getProfile('nobody')).toBeUndefined();
    expect(stack.consumers.get('SesFeedbackToEmailFeedback')!.deadLettered).toBe(0);
  });

  it('redelivered SES events change nothing; an invalid one goes to the rejected-events queue once, with its reason', async () => {
    const before = (await store.getProfile('aws-1'))!;
    const broken = structuredClone(fixtures[5]!) as EventBridgeEvent;
    delete (broken.detail as Record<string, unknown>).bounce;
    for (const e of [...fixtures, broken, broken]) stack.bus.deliverServiceEvent(e);
    await stack.waitForIdle({ timeoutMs: 60_000 });
    const after = (await store.getProfile('aws-1'))!;
    expect(after.eventCount).toBe(before.eventCount);
    expect(after.emailStats).toEqual(before.emailStats);
    expect(await deliverability.figures(new Date('2026-11-25T00:00:00Z'), 7 * 24)).toEqual({ sends: 1, bounces: 1, complaints: 1 });
    const rejected = stack.queues.get(REJECTED_QUEUE)!;
    expect(rejected.sentCount).toBe(1);
    const body = JSON.parse(rejected.history[0]!.body) as { code: string; reason: string; source: string };
    expect(body).toMatchObject({ code: 'invalid-detail', reason: 'Email Bounced: detail.bounce: missing', source: 'aws.ses' });
  });
});
