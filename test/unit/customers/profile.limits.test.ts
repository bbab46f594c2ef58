/**
 * The capped parts of the profile keep the latest entries (orders and calls by time, ties by
 * id; usage months; payment failures), and the subscription helpers at their edges.
 */
import { describe, expect, it } from 'vitest';
import { activeSubscriptions, applyEvent, emptyProfile, isActive, unusedPaidProducts, winbackPermitted, type CustomerProfile } from '../../../shared/customers/profile.ts';
import type { BusinessEvent } from '../../../shared/events/catalog.ts';
import { businessEvent } from '../../support/events.ts';

const fold = (events: BusinessEvent[]): CustomerProfile => events.reduce((p, e) => applyEvent(p, e), emptyProfile('c-1'));
const day = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 86_400_000).toISOString();
const pad = (i: number) => String(i).padStart(3, '0');

describe('capped lists keep the latest entries', () => {
  it('orders: the 50 latest by placement time; an order known only by a status change counts by that time', () => {
    const placed = Array.from({ length: 55 }, (_, i) => businessEvent('OrderPlaced', { orderId: `o${pad(i)}`, amount: 1, occurredAt: day(i) }));
    const statusOnly = businessEvent('OrderStatusChanged', { orderId: 'late-status', status: 'shipped', occurredAt: day(100) });
    const oldStatusOnly = businessEvent('OrderStatusChanged', { orderId: 'old-status', status: 'shipped', occurredAt: day(-5) });
    for (const order of [[...placed, statusOnly, oldStatusOnly], [statusOnly, oldStatusOnly, ...[...placed].reverse()]]) {
      const kept = Object.keys(fold(order).orders).sort();
      expect(kept).toEqual(['late-status', ...Array.from({ length: 49 }, (_, i) => `o${pad(i + 6)}`)].sort());
    }
  });

  it('orders placed at the same time: ties keep the larger ids', () => {
    const same = Array.from({ length: 52 }, (_, i) => businessEvent('OrderPlaced', { orderId: `o${pad(i)}`, amount: 1, occurredAt: day(1) }));
    expect(Object.keys(fold(same).orders).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `o${pad(i + 2)}`));
    expect(Object.keys(fold([...same].reverse()).orders).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `o${pad(i + 2)}`));
  });

  it('support calls: the 50 latest by log time; a call known only by its resolution counts by that time', () => {
    const calls = Array.from({ length: 52 }, (_, i) => businessEvent('SupportCallLogged', { callId: `k${pad(i)}`, reason: 'other', occurredAt: day(i) }));
    const resolvedOnly = businessEvent('SupportCallResolved', { callId: 'late-res', resolutionMinutes: 5, occurredAt: day(90) });
    const oldResolvedOnly = businessEvent('SupportCallResolved', { callId: 'old-res', resolutionMinutes: 5, occurredAt: day(-9) });
    const p = fold([...calls, resolvedOnly, oldResolvedOnly]);
    expect(Object.keys(p.supportCalls).sort()).toEqual(['late-res', ...Array.from({ length: 49 }, (_, i) => `k${pad(i + 3)}`)].sort());
    expect(p.supportCallCount).toBe(52);
    const same = Array.from({ length: 51 }, (_, i) => businessEvent('SupportCallLogged', { callId: `k${pad(i)}`, reason: 'other', occurredAt: day(1) }));
    expect(Object.keys(fold(same).supportCalls)).not.toContain('k000');
  });

  it('a later log of the same call replaces reason and time; an earlier one does not', () => {
    const first = businessEvent('SupportCallLogged', { eventId: 'a', callId: 'k', reason: 'billing', occurredAt: day(1) });
    const second = businessEvent('SupportCallLogged', { eventId: 'b', callId: 'k', reason: 'network', occurredAt: day(2) });
    for (const order of [[first, second], [second, first]]) {
      expect(fold(order).supportCalls.k).toEqual({ callId: 'k', reason: 'network', loggedAt: day(2), loggedBy: 'b' });
    }
    const tieA = businessEvent('SupportCallLogged', { eventId: 'x1', callId: 'k', reason: 'billing', occurredAt: day(1) });
    const tieB = businessEvent('SupportCallLogged', { eventId: 'x2', callId: 'k', reason: 'product', occurredAt: day(1) });
    expect(fold([tieB, tieA]).supportCalls.k?.reason).toBe('product');
    expect(fold([tieA, tieB]).supportCalls.k?.reason).toBe('product');
  });

  it('usage keeps the 13 latest months of each product', () => {
    const months = Array.from({ length: 15 }, (_, i) => businessEvent('UsageRecorded', { productId: 'p', quantity: i + 1, occurredAt: new Date(Date.UTC(2025, i, 10)).toISOString() }));
    const usage = fold([...months].reverse()).usage.p!;
    expect(Object.keys(usage).sort()).toEqual(Array.from({ length: 13 }, (_, i) => new Date(Date.UTC(2025, i + 2, 1)).toISOString().slice(0, 7)));
    expect(usage['2026-03']).toBe(15);
  });

  it('payment failures keep the 20 latest, latest first', () => {
    const failures = Array.from({ length: 25 }, (_, i) => businessEvent('PaymentFailed', { occurredAt: day(i) }));
    expect(fold(failures).paymentFailures).toEqual(Array.from({ length: 20 }, (_, i) => day(24 - i)));
    expect(fold([...failures].reverse()).paymentFailures).toEqual(Array.from({ length: 20 }, (_, i) => day(24 - i)));
  });
});

describe('subscription helpers', () => {
  const start = (at: string, id = 's') => businessEvent('SubscriptionStarted', { subscriptionId: id, productId: `prod-${id}`, plan: 'x', monthlyPrice: 5, currency: 'EUR', occurredAt: at });
  const cancel = (at: string, allow = true, id = 's') => businessEvent('SubscriptionCancelled', { subscriptionId: id, productId: `prod-${id}`, reason: 'price', allowWinbackContact: allow, occurredAt: at });

  it('a restart at the very instant of the cancellation does not reactivate; a later one does', () => {
    const p = fold([start(day(1)), cancel(day(5)), start(day(5))]);
    expect(activeSubscriptions(p)).toEqual([]);
    expect(winbackPermitted(p).map((s) => s.subscriptionId)).toEqual(['s']);
    const q = fold([start(day(1)), cancel(day(5)), start(day(6))]);
    expect(activeSubscriptions(q).map((s) => s.subscriptionId)).toEqual(['s']);
    expect(winbackPermitted(q)).toEqual([]);
  });

  it('a subscription known only from a change is neither active nor open to winback', () => {
    const changed = businessEvent('SubscriptionChanged', { subscriptionId: 's', productId: 'p', plan: 'x', monthlyPrice: 5, currency: 'EUR', change: 'upgrade', occurredAt: day(1) });
    const p = fold([changed]);
    expect(isActive(p.subscriptions.s!)).toBe(false);
    expect(winbackPermitted(p)).toEqual([]);
    expect(unusedPaidProducts(p)).toEqual([]);
  });

  it('a cancellation without a start: not active, open to winback only with permission', () => {
    expect(winbackPermitted(fold([cancel(day(2), true)])).map((s) => s.subscriptionId)).toEqual(['s']);
    expect(winbackPermitted(fold([cancel(day(2), false)]))).toEqual([]);
  });

  it('unused paid products: active subscriptions whose product was never used', () => {
    const p = fold([start(day(1), 'a'), start(day(1), 'b'), start(day(1), 'c'), cancel(day(3), true, 'c'), businessEvent('ProductAdopted', { productId: 'prod-b', occurredAt: day(2) })]);
    expect(unusedPaidProducts(p)).toEqual(['prod-a']);
    // an active subscription whose product is not known names nothing
    const bare: CustomerProfile = { ...emptyProfile('c-1'), subscriptions: { s: { subscriptionId: 's', lastStartedAt: day(1) } } };
    expect(unusedPaidProducts(bare)).toEqual([]);
  });
});
