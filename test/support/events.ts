/** Builders for test events: EventBridge envelopes and SQS records around them. */
import { randomUUID } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { serviceOnlyDetailTypes, type BusinessEvent, type ChurnTriggerFired, type InboundDetailType } from '../../shared/events/catalog.ts';
import { validateInbound } from '../../shared/events/validate.ts';

let n = 0;
export function detail(type: InboundDetailType, fields: Record<string, unknown>): Record<string, unknown> {
  n++;
  const base = { eventId: `e-${n}-${randomUUID().slice(0, 6)}`, customerId: 'c-1', occurredAt: new Date(Date.now() - 3_600_000).toISOString() };
  const defaults: Partial<Record<InboundDetailType, Record<string, unknown>>> = {
    CustomerProfileUpdated: { email: 'ada@example.com', firstName: 'Ada' },
    ConsentChanged: { channel: 'email', purpose: 'marketing', granted: true },
    SupportCallLogged: { callId: `call-${n}`, reason: 'billing' },
    SupportCallResolved: { callId: `call-${n}`, resolutionMinutes: 30 },
    OrderPlaced: { orderId: `o-${n}`, amount: 10, currency: 'EUR' },
    UsageRecorded: { productId: 'p-1', quantity: 10, unit: 'GB' },
    PaymentFailed: { paymentId: `pay-${n}`, amount: 20, currency: 'EUR' },
    SubscriptionCancelled: { subscriptionId: 's-1', productId: 'p-1', reason: 'price', allowWinbackContact: true },
  };
  return { ...base, ...(defaults[type] ?? {}), ...fields };
}

export const envelope = (type: string, d: Record<string, unknown>, source = 'com.example.test') => ({
  version: '0',
  id: randomUUID(),
  'detail-type': type,
  source,
  account: '000000000000',
  time: new Date().toISOString(),
  region: 'eu-west-1',
  resources: [],
  detail: d,
});

/** A validated business event (throws if the test built an invalid one). */
export function businessEvent(type: InboundDetailType, fields: Record<string, unknown> = {}): BusinessEvent {
  // A type only an AWS service may send (EmailFeedback) comes from that service's source.
  const r = validateInbound(envelope(type, detail(type, fields), serviceOnlyDetailTypes[type]));
  if (!r.ok) throw new Error(r.reason);
  return r.event;
}

export function sqsRecord(body: string): SQSRecord {
  const id = randomUUID();
  return {
    messageId: id,
    receiptHandle: id,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:test',
    awsRegion: 'eu-west-1',
  };
}

export const sqsEvent = (bodies: string[]): SQSEvent => ({ Records: bodies.map(sqsRecord) });

/** A billing-complaint trigger as churn-triggers fires it (override any field). */
export const churnTrigger = (customerId: string, eventId = 'e-1', over: Partial<ChurnTriggerFired> = {}): ChurnTriggerFired => ({
  triggerId: `billing-complaint#${customerId}#${eventId}`,
  customerId,
  rule: 'billing-complaint',
  kind: 'single',
  action: 'retention-save',
  reasons: ['support call about billing'],
  churnRiskBoost: 0.2,
  sourceEventIds: [eventId],
  firedAt: new Date().toISOString(),
  schemaVersion: 1,
  ...over,
});
