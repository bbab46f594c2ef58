import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile, hasConsent, unusedPaidProducts, type CustomerProfile } from '../../../shared/customers/profile.ts';
import type { BusinessEvent } from '../../../shared/events/catalog.ts';
import { businessEvent } from '../../support/events.ts';

const fold = (events: BusinessEvent[]): CustomerProfile =>
  events.reduce((p, e) => applyEvent(p, e), emptyProfile('c-1'));

/** A varied pool of events for one customer, with clashing timestamps on purpose. */
function eventPool(): BusinessEvent[] {
  const t = (d: number, h = 10) => `2026-0${1 + (d % 9)}-1${d % 10}T${String(h).padStart(2, '0')}:00:00Z`;
  return [
    businessEvent('CustomerProfileUpdated', { occurredAt: t(1), email: 'a@example.com', firstName: 'Ann' }),
    businessEvent('CustomerProfileUpdated', { occurredAt: t(3), email: 'b@example.com', firstName: undefined, timeZone: 'Europe/Paris' }),
    businessEvent('ConsentChanged', { occurredAt: t(2), granted: true }),
    businessEvent('ConsentChanged', { occurredAt: t(4), granted: false }),
    businessEvent('OrderPlaced', { occurredAt: t(1), orderId: 'o1', amount: 10 }),
    businessEvent('OrderPlaced', { occurredAt: t(1, 15), orderId: 'o2', amount: 5.5 }),
    businessEvent('OrderPlaced', { occurredAt: t(5), orderId: 'o3', amount: 20 }),
    businessEvent('OrderStatusChanged', { occurredAt: t(6), orderId: 'o3', status: 'preparing' }),
    businessEvent('OrderStatusChanged', { occurredAt: t(7), orderId: 'o3', status: 'shipped' }),
    businessEvent('OrderReturned', { occurredAt: t(8), orderId: 'o1', amount: 10, currency: 'EUR' }),
    businessEvent('InvoiceIssued', { occurredAt: t(2), invoiceId: 'i1', amount: 30, currency: 'EUR' }),
    businessEvent('InvoiceIssued', { occurredAt: t(3), invoiceId: 'i2', kind: 'statement', amount: 0, currency: 'EUR' }),
    businessEvent('UsageRecorded', { occurredAt: t(2), productId: 'p1', quantity: 4 }),
    businessEvent('UsageRecorded', { occurredAt: t(2, 12), productId: 'p1', quantity: 6 }),
    businessEvent('SupportCallLogged', { occurredAt: t(4), callId: 'k1', reason: 'billing' }),
    businessEvent('SupportCallResolved', { occurredAt: t(5), callId: 'k1', resolutionMinutes: 90 }),
    businessEvent('SubscriptionStarted', { occurredAt: t(1), subscriptionId: 's1', productId: 'p1', plan: 'basic', monthlyPrice: 10, currency: 'EUR' }),
    businessEvent('SubscriptionChanged', { occurredAt: t(6), subscriptionId: 's1', productId: 'p1', plan: 'plus', monthlyPrice: 15, currency: 'EUR', change: 'upgrade' }),
    businessEvent('SubscriptionStarted', { occurredAt: t(2), subscriptionId: 's2', productId: 'p2', plan: 'tv', monthlyPrice: 8, currency: 'EUR' }),
    businessEvent('PaymentFailed', { occurredAt: t(7), paymentId: 'x1', amount: 15, currency: 'EUR' }),
  ];
}

describe('applyEvent', () => {
  it('gives the same profile whatever order the events arrive in', () => {
    const pool = eventPool();
    const expected = fold(pool);
    fc.assert(
      fc.property(fc.shuffledSubarray(pool, { minLength: pool.length, maxLength: pool.length }), (shuffled) => {
        expect(fold(shuffled)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the aggregates the models and rules need', () => {
    const p = fold(eventPool());
    expect(p.orderCount).toBe(3);
    expect(p.totalSpend).toBe(35.5);
    expect(Object.keys(p.purchaseDays)).toHaveLength(2); // two orders on one day count as one purchase day
    expect(p.purchaseDays['2026-02-11']).toBe(15.5);
    expect(p.orders.o3?.status?.value).toBe('shipped');
    expect(p.returnCount).toBe(1);
    expect(p.invoiceCount).toBe(1);
    expect(p.statementCount).toBe(1);
    expect(p.usage.p1?.['2026-03']).toBe(10);
    expect(p.supportCallsByReason.billing).toBe(1);
    expect(p.supportCalls.k1).toMatchObject({ reason: 'billing', resolutionMinutes: 90 });
    expect(p.subscriptions.s1?.plan?.value).toBe('plus');
    expect(p.email?.value).toBe('b@example.com'); // latest profile update wins
    expect(p.firstName?.value).toBe('Ann'); // a later update without the field keeps it
    expect(hasConsent(p, 'email')).toBe(false); // the withdrawal is later than the grant
    expect(unusedPaidProducts(p)).toEqual(['p2']);
    expect(p.firstSeenAt).toBe('2026-02-11T10:00:00.000Z');
    expect(p.eventCount).toBe(20);
  });

  it('does not change the profile it is given', () => {
    const p0 = emptyProfile('c-1');
    const copy = structuredClone(p0);
    applyEvent(p0, businessEvent('OrderPlaced', {}));
    expect(p0).toEqual(copy);
  });

  it('has no consent without a grant (opt-in)', () => {
    expect(hasConsent(emptyProfile('c'), 'email')).toBe(false);
  });
});
