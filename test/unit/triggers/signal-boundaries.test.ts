/**
 * The boundaries the other trigger tests leave out: each type's window as a signal of a
 * collective trigger (inclusive at exactly `windowDays`, out a millisecond before), the
 * switches of a type (`unresolved`, `requireWinbackPermission`), the edges of spend-drop's two
 * periods, and stopped usage's `minActiveMonths`.
 */
import { describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile, type CustomerProfile } from '../../../shared/customers/profile.ts';
import type { BusinessEvent } from '../../../shared/events/catalog.ts';
import { parseTriggerConfig, type TriggerConfig } from '../../../shared/triggers/config.ts';
import { evaluateTriggers, timersFor } from '../../../shared/triggers/rules.ts';
import { businessEvent } from '../../support/events.ts';

const DAY = 86_400_000;
const fold = (events: BusinessEvent[]): CustomerProfile => events.reduce((p, e) => applyEvent(p, e), emptyProfile('c-1'));
const iso = (ms: number) => new Date(ms).toISOString();
const configOf = (...triggers: Record<string, unknown>[]): TriggerConfig =>
  parseTriggerConfig({ maxEventAgeDays: 14, routing: { outreachTiers: [], outreachTasksPerDay: 0 }, triggers });
const trigger = (type: string, params: Record<string, unknown>, over: Record<string, unknown> = {}) => ({
  id: `t-${type}`, description: type, enabled: true, type, params, weight: 0.2, cooldown: 'per-event', action: 'retention-save', ...over,
});
const fires = (events: BusinessEvent[], config: TriggerConfig): string[] => {
  const e = events.at(-1)!;
  return evaluateTriggers(e, fold(events), new Date(Date.parse(e.detail.occurredAt) + 60_000), config).map((t) => t.rule);
};

/** The moment the collective trigger is evaluated: a failed payment, the other signal. */
const T = Date.parse('2026-10-10T12:00:00.000Z');
const payment = businessEvent('PaymentFailed', { eventId: 'pay', occurredAt: iso(T), paymentId: 'p' });

/** For each signal type with a window: a history putting its state at a time. */
const signalAt: Record<string, { params: Record<string, unknown>; at: (ms: number) => BusinessEvent[] }> = {
  'slow-resolution': {
    params: { maxResolutionMinutes: 60, unresolved: true, windowDays: 30 },
    at: (ms) => [businessEvent('SupportCallResolved', { eventId: 'res', occurredAt: iso(ms), callId: 'k', resolutionMinutes: 61 })],
  },
  downgrade: {
    params: { windowDays: 30 },
    at: (ms) => [businessEvent('SubscriptionChanged', { eventId: 'down', occurredAt: iso(ms), subscriptionId: 's', productId: 'p', plan: 'basic', monthlyPrice: 5, currency: 'EUR', change: 'downgrade' })],
  },
  cancellation: {
    params: { requireWinbackPermission: true, windowDays: 30 },
    at: (ms) => [businessEvent('SubscriptionCancelled', { eventId: 'cancel', occurredAt: iso(ms), subscriptionId: 's', productId: 'p', allowWinbackContact: true })],
  },
  'cancellation-request': {
    params: { windowDays: 30 },
    at: (ms) => [businessEvent('CancellationRequested', { eventId: 'req', occurredAt: iso(ms), subscriptionId: 's' })],
  },
  'support-calls': {
    params: { reasons: ['technical'], minCount: 1, windowDays: 30 },
    at: (ms) => [businessEvent('SupportCallLogged', { eventId: 'call', occurredAt: iso(ms), callId: 'k', reason: 'technical' })],
  },
  returns: {
    params: { windowDays: 30, minCount: 1, minValue: 0 },
    at: (ms) => [businessEvent('OrderReturned', { eventId: 'ret', occurredAt: iso(ms), orderId: 'o', amount: 10, currency: 'EUR' })],
  },
};

describe('each type as a signal of a collective trigger: counted within its window, inclusive', () => {
  it.each(Object.keys(signalAt))('%s', (type) => {
    const { params, at } = signalAt[type]!;
    const config = configOf(
      trigger('collective', {
        threshold: 2,
        signals: [
          { type, params, weight: 1 },
          { type: 'payment-failures', params: { minCount: 1, windowDays: 30 }, weight: 1 },
        ],
      }, { cooldown: 'per-month' }),
    );
    expect(fires([...at(T - 30 * DAY), payment], config)).toEqual(['t-collective']);
    expect(fires([...at(T - 30 * DAY - 1), payment], config)).toEqual([]);
    // and not one after the moment evaluated (an event of the future of this one)
    expect(evaluateTriggers(payment, fold([...at(T + 1), payment]), new Date(T + 60_000), config)).toEqual([]);
  });

  it('a cancellation without permission does not count where permission is required, and does where it is not', () => {
    const cancelled = businessEvent('SubscriptionCancelled', { eventId: 'c', occurredAt: iso(T - DAY), subscriptionId: 's', productId: 'p', allowWinbackContact: false });
    const collective = (requireWinbackPermission: boolean) =>
      configOf(trigger('collective', { threshold: 2, signals: [{ type: 'cancellation', params: { requireWinbackPermission }, weight: 1 }, { type: 'payment-failures', params: { minCount: 1, windowDays: 30 }, weight: 1 }] }));
    expect(fires([cancelled, payment], collective(true))).toEqual([]);
    expect(fires([cancelled, payment], collective(false))).toEqual(['t-collective']);
  });
});

describe('the switches of a type', () => {
  it('slow-resolution: a call closed unresolved fires only with `unresolved`; a quick unresolved one then too', () => {
    const closed = businessEvent('SupportCallResolved', { eventId: 'r', occurredAt: iso(T), callId: 'k', resolutionMinutes: 5, resolved: false });
    expect(fires([closed], configOf(trigger('slow-resolution', { maxResolutionMinutes: 60, unresolved: true })))).toEqual(['t-slow-resolution']);
    expect(fires([closed], configOf(trigger('slow-resolution', { maxResolutionMinutes: 60, unresolved: false })))).toEqual([]);
  });

  it('cancellation: without `requireWinbackPermission` any cancellation fires', () => {
    const cancelled = businessEvent('SubscriptionCancelled', { eventId: 'c', occurredAt: iso(T), subscriptionId: 's', productId: 'p', allowWinbackContact: false });
    expect(fires([cancelled], configOf(trigger('cancellation', { requireWinbackPermission: false })))).toEqual(['t-cancellation']);
    expect(fires([cancelled], configOf(trigger('cancellation', { requireWinbackPermission: true })))).toEqual([]);
  });
});

describe('spend-drop: the edges of the recent and the baseline periods (whole UTC days)', () => {
  const config = configOf(trigger('spend-drop', { recentDays: 90, baselineDays: 365, ratio: 0.5, minBaselineSpend: 200 }, { cooldown: 'per-month' }));
  const order = (id: string, day: string, amount: number) => businessEvent('OrderPlaced', { eventId: id, occurredAt: `${day}T10:00:00Z`, orderId: `o-${id}`, amount, currency: 'EUR' });
  // Evaluated on 2026-10-10: the recent period is 2026-07-13 … 2026-10-10, the baseline 2025-07-13 … 2026-07-12.
  const now = order('now', '2026-10-10', 1);
  it('the first day of the recent period counts as recent; the day before it as baseline', () => {
    const year = [order('y1', '2025-09-01', 200), order('y2', '2026-03-01', 200)];
    // baseline 400 → 98.6 expected in 90 days, half 49.3
    expect(fires([...year, order('edge', '2026-07-13', 48.5), now], config)).toEqual([]); // recent 49.5
    expect(fires([...year, order('edge', '2026-07-12', 48.5), now], config)).toEqual(['t-spend-drop']); // baseline 448.5, recent 1
  });
  it('the first day of the baseline counts; the day before it counts for nothing', () => {
    expect(fires([order('edge', '2025-07-13', 200), now], config)).toEqual(['t-spend-drop']);
    expect(fires([order('edge', '2025-07-12', 200), now], config)).toEqual([]);
  });
});

describe('usage-stopped: `minActiveMonths`', () => {
  const config = configOf(trigger('usage-stopped', { days: 30, minActiveMonths: 2 }));
  const use = (id: string, at: string, quantity = 5) => businessEvent('UsageRecorded', { eventId: id, occurredAt: at, productId: 'net', quantity });
  const timersOf = (events: BusinessEvent[]) => timersFor(events.at(-1)!, fold(events), new Date(Date.parse(events.at(-1)!.detail.occurredAt) + 60_000), config).set.map((t) => t.key);
  it('usage in exactly two months arms the timer; in one month (or a month of zero usage besides) it does not', () => {
    expect(timersOf([use('a', '2026-09-20T00:00:00Z'), use('b', '2026-10-05T00:00:00Z')])).toEqual(['t-usage-stopped#net']);
    expect(timersOf([use('a', '2026-10-01T00:00:00Z'), use('b', '2026-10-05T00:00:00Z')])).toEqual([]);
    expect(timersOf([use('a', '2026-09-20T00:00:00Z', 0), use('b', '2026-10-05T00:00:00Z')])).toEqual([]);
  });
});
