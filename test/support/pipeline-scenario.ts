/**
 * A handful of customers whose events exercise the whole path (ingest → triggers →
 * campaigns): a deliverable billing complaint, one without consent, a stale one,
 * several triggers of one customer (cooldown, winback, weekly cap), a customer who
 * prefers SMS, a duplicate and malformed input. Used by the orchestration tests
 * (in memory) and the store contract test (in memory and on DynamoDB Local).
 */
import type { InboundDetailType } from '../../shared/events/catalog.ts';
import { detail, envelope } from './events.ts';

export const scenarioNow = new Date('2026-11-20T12:00:00Z');
const DAY = 86_400_000;
const ago = (days: number) => new Date(scenarioNow.getTime() - days * DAY).toISOString();

export type ScenarioEvent = { type: InboundDetailType; fields: Record<string, unknown> };

/** The body of the ingest queue's message for a business event (an EventBridge event as JSON). */
export const raw = (type: InboundDetailType, fields: Record<string, unknown>): string => JSON.stringify(envelope(type, detail(type, fields)));

/** A customer with an email address and (unless `consent: false`) email marketing consent, both 60 days old. */
export function customer(customerId: string, options: { consent?: boolean; preferredChannel?: string } = {}): string[] {
  const profile = { customerId, occurredAt: ago(60), email: `${customerId}@example.com`, firstName: customerId, preferredChannel: options.preferredChannel };
  return [
    raw('CustomerProfileUpdated', profile),
    raw('ConsentChanged', { customerId, occurredAt: ago(60), granted: options.consent ?? true }),
  ];
}

/** The scenario's bodies, in the order the bus delivers them, and the ids the tests look for. */
export function scenario() {
  const adaComplaint = raw('SupportCallLogged', { customerId: 'ada', occurredAt: ago(2), reason: 'billing' });
  const bodies = [
    ...customer('ada'),
    adaComplaint,
    ...customer('bob', { consent: false }),
    raw('SupportCallLogged', { customerId: 'bob', occurredAt: ago(1), reason: 'billing' }),
    ...customer('cy'),
    raw('SupportCallLogged', { customerId: 'cy', occurredAt: ago(40), reason: 'billing' }),
    ...customer('dee'),
    raw('SupportCallLogged', { customerId: 'dee', occurredAt: ago(5), reason: 'billing' }),
    raw('SubscriptionStarted', { customerId: 'dee', occurredAt: ago(300), subscriptionId: 's-dee', productId: 'tv', plan: 'max', monthlyPrice: 30, currency: 'EUR' }),
    raw('SubscriptionChanged', { customerId: 'dee', occurredAt: ago(4), subscriptionId: 's-dee', productId: 'tv', plan: 'basic', monthlyPrice: 10, currency: 'EUR', change: 'downgrade' }),
    raw('SubscriptionCancelled', { customerId: 'dee', occurredAt: ago(3), subscriptionId: 's-dee', productId: 'tv', reason: 'price', allowWinbackContact: true }),
    raw('PaymentFailed', { customerId: 'dee', occurredAt: ago(20) }),
    raw('PaymentFailed', { customerId: 'dee', occurredAt: ago(2) }),
    ...customer('eve', { preferredChannel: 'sms' }),
    raw('SupportCallLogged', { customerId: 'eve', occurredAt: ago(1), reason: 'billing' }),
    adaComplaint, // a producer sent it twice
    '{"detail-type":"OrderPlaced","source":"com.example.orders","detail":{"customerId":"ada"}}', // invalid: rejected
  ];
  return { bodies, adaComplaintId: (JSON.parse(adaComplaint) as { detail: { eventId: string } }).detail.eventId };
}

export const scenarioCustomers = ['ada', 'bob', 'cy', 'dee', 'eve'] as const;
