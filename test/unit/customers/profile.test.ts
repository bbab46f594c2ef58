import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { activeSubscriptions, applyEvent, emptyProfile, hasConsent, unusedPaidProducts, type CustomerProfile } from '../../../shared/customers/profile.ts';
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

/**
 * Random event histories of one customer, built to collide: few ids (orders, calls,
 * subscriptions), few distinct timestamps (so ties are common), both currencies,
 * cancellations and restarts, consent flips and profile updates with missing fields.
 */
const ts = fc.integer({ min: 0, max: 11 }).map((h) => `2026-10-0${1 + (h % 3)}T0${h % 4}:00:00Z`);
const smallId = (prefix: string) => fc.integer({ min: 1, max: 3 }).map((n) => `${prefix}${n}`);
const arbEvent = fc.oneof(
  fc.record({ occurredAt: ts, email: fc.constantFrom('a@example.com', 'b@example.com', undefined), firstName: fc.constantFrom('Ann', 'Bo', undefined) }).map((f) => businessEvent('CustomerProfileUpdated', f)),
  fc.record({ occurredAt: ts, granted: fc.boolean() }).map((f) => businessEvent('ConsentChanged', f)),
  fc.record({ occurredAt: ts, orderId: smallId('o'), amount: fc.double({ min: 0, max: 50, noNaN: true }) }).map((f) => businessEvent('OrderPlaced', f)),
  fc.record({ occurredAt: ts, orderId: smallId('o'), status: fc.constantFrom('preparing', 'shipped', 'delivered', 'cancelled') }).map((f) => businessEvent('OrderStatusChanged', f)),
  fc.record({ occurredAt: ts, callId: smallId('k'), reason: fc.constantFrom('billing', 'network') }).map((f) => businessEvent('SupportCallLogged', f)),
  fc.record({ occurredAt: ts, callId: smallId('k'), resolutionMinutes: fc.integer({ min: 1, max: 5000 }), resolved: fc.boolean() }).map((f) => businessEvent('SupportCallResolved', f)),
  fc.record({ occurredAt: ts, subscriptionId: smallId('s'), productId: fc.constantFrom('p1', 'p2'), plan: fc.constantFrom('basic', 'plus'), monthlyPrice: fc.integer({ min: 1, max: 30 }), currency: fc.constantFrom('EUR', 'USD') }).map((f) => businessEvent('SubscriptionStarted', f)),
  fc.record({ occurredAt: ts, subscriptionId: smallId('s'), productId: fc.constantFrom('p1', 'p2'), reason: fc.constantFrom('price', 'moving'), allowWinbackContact: fc.boolean() }).map((f) => businessEvent('SubscriptionCancelled', f)),
  fc.record({ occurredAt: ts, productId: fc.constantFrom('p1', 'p2'), quantity: fc.double({ min: 0, max: 9, noNaN: true }) }).map((f) => businessEvent('UsageRecorded', f)),
  fc.record({ occurredAt: ts }).map((f) => businessEvent('PaymentFailed', f)),
);

describe('applyEvent', () => {
  it('is order-independent on random histories full of ties, cancellations and restarts', () => {
    fc.assert(
      fc.property(
        fc.array(arbEvent, { minLength: 1, maxLength: 30 }).chain((events) =>
          fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length })),
        ),
        ([events, shuffled]) => {
          expect(fold(shuffled)).toEqual(fold(events));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps counts and sums exact whatever the order, also past the capped lists', () => {
    const orders = Array.from({ length: 80 }, (_, i) =>
      businessEvent('OrderPlaced', { orderId: `o${i}`, amount: i, occurredAt: new Date(Date.UTC(2026, 0, 1 + i)).toISOString() }),
    );
    const statuses = orders.map((o, i) => businessEvent('OrderStatusChanged', { orderId: (o.detail as { orderId: string }).orderId, status: 'shipped', occurredAt: new Date(Date.UTC(2026, 0, 2 + i)).toISOString() }));
    fc.assert(
      fc.property(fc.shuffledSubarray([...orders, ...statuses], { minLength: 160, maxLength: 160 }), (shuffled) => {
        const p = fold(shuffled);
        expect(p.orderCount).toBe(80);
        expect(p.totalSpend).toBe((79 * 80) / 2);
        expect(Object.keys(p.purchaseDays)).toHaveLength(80);
        expect(Object.keys(p.orders).length).toBeLessThanOrEqual(50);
      }),
      { numRuns: 30 },
    );
  });

  it('decides a cancellation tie by event id, and a restart after a cancellation makes the subscription active', () => {
    const start = businessEvent('SubscriptionStarted', { subscriptionId: 's', productId: 'p', plan: 'x', monthlyPrice: 5, currency: 'EUR', occurredAt: '2026-01-01T00:00:00Z' });
    const cancelA = businessEvent('SubscriptionCancelled', { eventId: 'a', subscriptionId: 's', productId: 'p', reason: 'price', allowWinbackContact: false, occurredAt: '2026-02-01T00:00:00Z' });
    const cancelB = businessEvent('SubscriptionCancelled', { eventId: 'b', subscriptionId: 's', productId: 'p', reason: 'moving', allowWinbackContact: true, occurredAt: '2026-02-01T00:00:00Z' });
    expect(fold([start, cancelA, cancelB]).subscriptions.s?.cancellation?.value).toEqual({ reason: 'moving', allowWinbackContact: true });
    expect(fold([start, cancelB, cancelA]).subscriptions.s?.cancellation?.value).toEqual({ reason: 'moving', allowWinbackContact: true });
    expect(activeSubscriptions(fold([start, cancelA]))).toHaveLength(0);
    const restart = businessEvent('SubscriptionStarted', { subscriptionId: 's', productId: 'p', plan: 'x', monthlyPrice: 5, currency: 'EUR', occurredAt: '2026-03-01T00:00:00Z' });
    expect(activeSubscriptions(fold([restart, cancelA, start]))).toHaveLength(1);
  });

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
    expect(p.supportCalls.k1).toMatchObject({ reason: 'billing', resolution: { value: { minutes: 90, resolved: true } } });
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
