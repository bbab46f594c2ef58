/**
 * The churn-triggers stream filter on hand-written stream records in the shape AWS delivers
 * (test/fixtures/aws/dynamodb-stream-events.json), with the matcher the local stack uses.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { matchesAny } from '../../local/event-pattern.ts';
import { storedEventFromImage } from '../../shared/adapters/stream-image.ts';
import { subscriptions, type StreamSubscription } from '../../shared/wiring.ts';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/aws/dynamodb-stream-events.json', import.meta.url), 'utf8')) as DynamoDBStreamEvent;
const filters = (subscriptions.find((s) => s.id === 'NewEventsToChurnTriggers') as StreamSubscription).filters;

describe('stream filter on AWS-shaped records', () => {
  it('passes the INSERT of the stored cancellation only', () => {
    expect(fixture.Records.map((r) => [r.eventName, r.dynamodb?.Keys?.sk?.S, matchesAny(filters, r)])).toEqual([
      ['INSERT', 'EVT#cancel-aws-1', true],
      ['MODIFY', 'PROFILE', false],
      ['INSERT', 'EVT#crm-aws-1', false],
      ['INSERT', 'TRIGGER#cancelled-with-winback-permission#aws-1#cancel-aws-1', false],
    ]);
  });

  it.each([
    'SupportCallLogged', 'SupportCallResolved', 'UsageRecorded', 'PaymentFailed', 'SubscriptionChanged', 'SubscriptionCancelled', 'OrderPlaced', 'OrderStatusChanged', 'CancellationRequested',
    // the winback sequence's (shared/winback/track.ts)
    'AccountClosed', 'ExitSurveyAnswered', 'ConsentChanged', 'SubscriptionStarted',
  ])('passes a stored %s', (type) => {
    const r = structuredClone(fixture.Records[0]!);
    r.dynamodb!.NewImage!.type = { S: type };
    expect(matchesAny(filters, r)).toBe(true);
  });

  it.each(['CustomerProfileUpdated', 'OrderReturned', 'InvoiceIssued', 'ProductAdopted', 'CustomerErasureRequested'])('drops a stored %s', (type) => {
    const r = structuredClone(fixture.Records[0]!);
    r.dynamodb!.NewImage!.type = { S: type };
    expect(matchesAny(filters, r)).toBe(false);
  });

  it('drops an event a backfill stored (history fires nothing), whatever its type', () => {
    const r = structuredClone(fixture.Records[0]!);
    r.dynamodb!.NewImage!.backfill = { S: 'tiZLJvAzvMWk4q2e' };
    r.dynamodb!.NewImage!.backfillAt = { S: '2026-11-29T16:30:00.000Z' };
    expect(matchesAny(filters, r)).toBe(false);
  });

  it('reads the business event back from the AWS-shaped image', () => {
    expect(storedEventFromImage(fixture.Records[0]!.dynamodb!.NewImage!)).toEqual({
      type: 'SubscriptionCancelled',
      source: 'com.example.billing',
      detail: { eventId: 'cancel-aws-1', customerId: 'aws-1', occurredAt: '2026-11-29T16:30:00Z', schemaVersion: 1, subscriptionId: 's-aws-1', productId: 'fibre', reason: 'price', allowWinbackContact: true },
    });
  });
});
