/** fast-check arbitraries of business events (the profile fold's and the backfill's property tests). */
import fc from 'fast-check';
import type { InboundDetailType } from '../../shared/events/catalog.ts';
import { businessEvent } from './events.ts';
import { emailAddressHash } from '../../shared/customers/profile.ts';

/**
 * Random event histories of one customer, built to collide: few ids (orders, calls,
 * subscriptions, products), few distinct timestamps (so ties are common, some written with
 * an offset that lands on the same instant as a UTC one), both currencies, both consent
 * purposes, cancellations and restarts, and profile updates with missing fields.
 * Every inbound event type of the catalog is generated (checked below).
 */
const ts = fc.constantFrom(
  '2026-08-30T23:00:00Z', '2026-09-01T00:00:00+02:00', '2026-08-31T22:00:00Z', '2026-09-15T12:00:00Z',
  '2026-10-01T00:00:00Z', '2026-10-01T02:00:00+02:00', '2026-10-01T09:30:00Z', '2026-10-02T09:30:00Z', '2026-10-03T00:00:00-05:00',
);
const smallId = (prefix: string) => fc.integer({ min: 1, max: 3 }).map((n) => `${prefix}${n}`);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const amount = fc.double({ min: 0, max: 50, noNaN: true });
const currency = fc.constantFrom('EUR', 'USD');
const product = fc.constantFrom('p1', 'p2');
export const arbByType = {
  CustomerProfileUpdated: fc.record({
    occurredAt: ts, email: maybe(fc.constantFrom('a@example.com', 'B@Example.com')), firstName: maybe(fc.constantFrom('Ann', 'Bo')),
    locale: maybe(fc.constantFrom('en-GB', 'nl-NL')), timeZone: maybe(fc.constantFrom('Europe/Paris', 'UTC')),
    preferredChannel: maybe(fc.constantFrom('email', 'sms')), preferredHour: maybe(fc.integer({ min: 0, max: 23 })), customerType: maybe(fc.constantFrom('subscription', 'adhoc')),
  }),
  ConsentChanged: fc.record({
    occurredAt: ts, channel: fc.constantFrom('email', 'sms'), purpose: fc.constantFrom('marketing', 'service', 'winback'), granted: fc.boolean(),
    doubleOptIn: maybe(fc.constantFrom('requested', 'confirmed')), source: fc.constantFrom('api', 'unsubscribe-link'),
  }),
  EmailFeedback: fc
    .record({ occurredAt: ts, kind: fc.constantFrom('delivery', 'bounce', 'complaint', 'open', 'click', 'reject', 'rendering-failure'), messageId: smallId('m'), addressHash: maybe(fc.constantFrom(emailAddressHash('a@example.com'), emailAddressHash('b@example.com'), 'c'.repeat(64))), bounceType: fc.constantFrom('permanent', 'transient', 'undetermined') })
    .map(({ kind, bounceType, messageId, ...rest }) => ({ ...rest, kind, messageId, sendId: `send-${messageId}`, campaign: 'retention-save', ...(kind === 'bounce' ? { bounceType } : {}) })),
  OrderPlaced: fc.record({ occurredAt: ts, orderId: smallId('o'), amount, currency }),
  OrderStatusChanged: fc.record({ occurredAt: ts, orderId: smallId('o'), status: fc.constantFrom('preparing', 'shipped', 'delivered', 'cancelled') }),
  OrderReturned: fc.record({ occurredAt: ts, orderId: smallId('o'), amount, currency, reason: fc.option(fc.constantFrom('damaged', ' Damaged ', 'wrong size', 'changed mind'), { nil: undefined }) }),
  InvoiceIssued: fc.record({ occurredAt: ts, invoiceId: smallId('i'), kind: fc.constantFrom('invoice', 'statement'), amount, currency }),
  UsageRecorded: fc.record({ occurredAt: ts, productId: product, quantity: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 9, noNaN: true })) }),
  SupportCallLogged: fc.record({ occurredAt: ts, callId: smallId('k'), reason: fc.constantFrom('billing', 'network', 'other') }),
  SupportCallResolved: fc.record({ occurredAt: ts, callId: smallId('k'), resolutionMinutes: fc.integer({ min: 1, max: 5000 }), resolved: fc.boolean() }),
  SubscriptionStarted: fc.record({ occurredAt: ts, subscriptionId: smallId('s'), productId: product, plan: fc.constantFrom('basic', 'plus'), monthlyPrice: fc.integer({ min: 1, max: 30 }), currency }),
  SubscriptionChanged: fc.record({ occurredAt: ts, subscriptionId: smallId('s'), productId: product, plan: fc.constantFrom('basic', 'plus'), monthlyPrice: fc.integer({ min: 1, max: 30 }), currency, change: fc.constantFrom('upgrade', 'downgrade', 'other') }),
  SubscriptionCancelled: fc.record({
    occurredAt: ts, subscriptionId: smallId('s'), productId: product, reason: maybe(fc.constantFrom('too dear', 'moving')),
    reasonCode: maybe(fc.constantFrom('price', 'moved')), allowWinbackContact: maybe(fc.boolean()),
  }),
  CancellationRequested: fc.record({ occurredAt: ts, subscriptionId: maybe(smallId('s')), reasonCode: maybe(fc.constantFrom('price', 'network')) }),
  AccountClosed: fc.record({ occurredAt: ts, reasonCode: maybe(fc.constantFrom('competitor', 'other')), reason: maybe(fc.constantFrom('left', 'gone')), allowWinbackContact: maybe(fc.boolean()) }),
  ExitSurveyAnswered: fc.record({ occurredAt: ts, reasonCode: fc.constantFrom('price', 'network'), reason: maybe(fc.constantFrom('too dear')), allowWinbackContact: fc.boolean() }),
  CustomerErasureRequested: fc.record({ occurredAt: ts, requestedBy: fc.constantFrom('agent-1') }),
  PaymentFailed: fc.record({ occurredAt: ts, paymentId: smallId('x'), amount, currency }),
  ProductAdopted: fc.record({ occurredAt: ts, productId: product }),
} satisfies Record<InboundDetailType, fc.Arbitrary<Record<string, unknown>>>;
export const arbEvent = fc.oneof(
  ...Object.entries(arbByType).map(([type, arb]) => (arb as fc.Arbitrary<Record<string, unknown>>).map((f) => businessEvent(type as InboundDetailType, f))),
);
