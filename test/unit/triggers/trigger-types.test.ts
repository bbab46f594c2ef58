/**
 * The trigger types of config/triggers.json at their boundaries (the ones not covered by the
 * built-in rules' table), collective triggers over weighted signals, the timer triggers (a stuck
 * order, usage that stopped) through fireTriggers and the sweep, and invalid configurations.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile, type CustomerProfile } from '../../../shared/customers/profile.ts';
import type { BusinessEvent } from '../../../shared/events/catalog.ts';
import type { EventPublisher, PendingTimer } from '../../../shared/ports.ts';
import { InMemoryTimerStore } from '../../../shared/timers/in-memory-timer-store.ts';
import { sweepTimers } from '../../../shared/timers/sweep.ts';
import { parseTriggerConfig, triggerConfig, type TriggerConfig } from '../../../shared/triggers/config.ts';
import { fireTriggers, triggerTimerHandler } from '../../../shared/triggers/fire-triggers.ts';
import { evaluateTriggers, TRIGGER_TIMER_KIND } from '../../../shared/triggers/rules.ts';
import rawConfig from '../../../config/triggers.json' with { type: 'json' };
import { businessEvent } from '../../support/events.ts';
import { MemoryCustomerStore } from '../../support/memory-store.ts';

const DAY = 86_400_000;
const fold = (events: BusinessEvent[]): CustomerProfile => events.reduce((p, e) => applyEvent(p, e), emptyProfile('c-1'));
const minuteAfter = (at: string): Date => new Date(Date.parse(at) + 60_000);
/** The repository's configuration with only these triggers enabled, each with these parameter changes. */
const only = (changes: Record<string, Record<string, unknown>>): TriggerConfig => ({
  ...triggerConfig,
  triggers: triggerConfig.triggers.map((t) => ({ ...t, enabled: t.id in changes, params: { ...t.params, ...changes[t.id] } })),
});
const rules = (events: BusinessEvent[], config: TriggerConfig) => {
  const e = events.at(-1)!;
  return evaluateTriggers(e, fold(events), minuteAfter(e.detail.occurredAt), config).map((t) => t.rule);
};

const ret = (eventId: string, occurredAt: string, amount: number, reason?: string) => businessEvent('OrderReturned', { eventId, occurredAt, orderId: `o-${eventId}`, amount, currency: 'EUR', ...(reason ? { reason } : {}) });
const order = (eventId: string, occurredAt: string, amount: number) => businessEvent('OrderPlaced', { eventId, occurredAt, orderId: `o-${eventId}`, amount, currency: 'EUR' });

describe('returns', () => {
  const config = only({ 'repeated-returns': {} });
  it('two returns within 90 days inclusive fire; a millisecond outside does not', () => {
    expect(rules([ret('a', '2026-07-12T00:00:00.000Z', 10), ret('b', '2026-10-10T00:00:00Z', 10)], config)).toEqual(['repeated-returns']);
    expect(rules([ret('a', '2026-07-11T23:59:59.999Z', 10), ret('b', '2026-10-10T00:00:00Z', 10)], config)).toEqual([]);
    expect(rules([ret('b', '2026-10-10T00:00:00Z', 10)], config)).toEqual([]);
  });

  it('by value and by reason', () => {
    const byValue = only({ 'repeated-returns': { minCount: 1, minValue: 100 } });
    expect(rules([ret('a', '2026-10-01T00:00:00Z', 60), ret('b', '2026-10-10T00:00:00Z', 40)], byValue)).toEqual(['repeated-returns']);
    expect(rules([ret('a', '2026-10-01T00:00:00Z', 60), ret('b', '2026-10-10T00:00:00Z', 39.99)], byValue)).toEqual([]);
    const damaged = only({ 'repeated-returns': { minCount: 2, reasons: ['damaged'] } });
    expect(rules([ret('a', '2026-10-01T00:00:00Z', 5, 'Damaged'), ret('b', '2026-10-10T00:00:00Z', 5, ' damaged ')], damaged)).toEqual(['repeated-returns']);
    expect(rules([ret('a', '2026-10-01T00:00:00Z', 5, 'too small'), ret('b', '2026-10-10T00:00:00Z', 5, 'damaged')], damaged)).toEqual([]);
    const [t] = evaluateTriggers(ret('b', '2026-10-10T00:00:00Z', 5), fold([ret('a', '2026-10-01T00:00:00Z', 7.5), ret('b', '2026-10-10T00:00:00Z', 5)]), minuteAfter('2026-10-10T00:00:00Z'), config);
    expect(t).toMatchObject({ triggerId: 'repeated-returns#c-1#2026-10', kind: 'collective', action: 'service-recovery', reasons: ['2 return(s) worth 12.5 in 90 days'], churnRiskBoost: 0.15 });
  });
});

describe('spend drop against the customer\'s own history', () => {
  const config = only({ 'spend-drop': {} });
  // 400 spent in the year before the last 90 days: 90 days of it would be 98.63; half is 49.32
  const year = [order('y1', '2025-09-01T10:00:00Z', 200), order('y2', '2026-03-01T10:00:00Z', 200)];
  it('fires below ratio × the expected spend, not at or above it', () => {
    expect(rules([...year, order('r', '2026-10-10T10:00:00Z', 49)], config)).toEqual(['spend-drop']);
    expect(rules([...year, order('r', '2026-10-10T10:00:00Z', 49.5)], config)).toEqual([]);
  });
  it('needs the minimum baseline (light buyers do not fire)', () => {
    expect(rules([order('y1', '2026-03-01T10:00:00Z', 199), order('r', '2026-10-10T10:00:00Z', 1)], config)).toEqual([]);
    expect(rules([order('y1', '2026-03-01T10:00:00Z', 200), order('r', '2026-10-10T10:00:00Z', 1)], config)).toEqual(['spend-drop']);
  });
});

describe('a collective trigger over the weighted sum of its active signals', () => {
  const config = only({ 'several-warning-signs': {} });
  const bill = businessEvent('SupportCallLogged', { eventId: 'bill', occurredAt: '2026-10-05T00:00:00Z', callId: 'k', reason: 'billing' });
  const fail = businessEvent('PaymentFailed', { eventId: 'fail', occurredAt: '2026-10-08T00:00:00Z', paymentId: 'p' });
  const down = businessEvent('SubscriptionChanged', { eventId: 'down', occurredAt: '2026-10-10T00:00:00Z', subscriptionId: 's', productId: 'p', plan: 'basic', monthlyPrice: 5, currency: 'EUR', change: 'downgrade' });
  it('fires when the signals that hold weigh at least the threshold, whichever arrives last', () => {
    expect(rules([bill], config)).toEqual([]);
    expect(rules([bill, fail], config)).toEqual(['several-warning-signs']);
    expect(rules([fail, down], config)).toEqual(['several-warning-signs']);
    const [t] = evaluateTriggers(down, fold([bill, fail, down]), minuteAfter('2026-10-10T00:00:00Z'), config);
    expect(t).toMatchObject({ rule: 'several-warning-signs', kind: 'collective', action: 'payment-help', reasons: ['1 billing complaint(s) in 30 days', '1 failed payments in 30 days', 'subscription downgraded'] });
  });
  it('a signal outside its window does not count; a heavier signal can carry it alone', () => {
    const oldBill = businessEvent('SupportCallLogged', { eventId: 'old', occurredAt: '2026-09-07T23:59:59.999Z', callId: 'k0', reason: 'billing' });
    expect(rules([oldBill, fail], config)).toEqual([]);
    const heavy: TriggerConfig = { ...config, triggers: config.triggers.map((t) => (t.id === 'several-warning-signs' ? { ...t, params: { ...t.params, signals: (t.params.signals as { weight: number }[]).map((s, i) => ({ ...s, weight: i === 1 ? 2 : 1 })) } } : t)) };
    expect(rules([fail], heavy)).toEqual(['several-warning-signs']);
  });
  it('an event that concerns none of its signals does not evaluate it', () => {
    const upgrade = businessEvent('SubscriptionChanged', { eventId: 'up', occurredAt: '2026-10-10T00:00:00Z', subscriptionId: 's', productId: 'p', plan: 'pro', monthlyPrice: 50, currency: 'EUR', change: 'upgrade' });
    expect(rules([bill, fail, upgrade], config)).toEqual([]);
  });
});

describe('timer triggers through fireTriggers and the sweep', () => {
  let store: MemoryCustomerStore;
  let timers: InMemoryTimerStore;
  let published: { detailType: string; detail: { rule: string; triggerId: string; kind: string; reasons: string[]; sourceEventIds: string[] } }[];
  let clock: Date;
  const publisher: EventPublisher = { publish: async (events) => void published.push(...(events as never[])) };
  const deps = () => ({ store, publisher, timers, now: () => clock });
  const arrive = async (e: BusinessEvent, at: Date = minuteAfter(e.detail.occurredAt)) => {
    clock = at;
    await store.recordEvent(e, clock);
    return fireTriggers(e, deps());
  };
  const sweepAt = async (at: Date) => {
    clock = at;
    return sweepTimers({ timers, handlers: { [TRIGGER_TIMER_KIND]: triggerTimerHandler(deps()) }, now: () => clock });
  };
  const fired = () => published.map((p) => p.detail.rule);
  beforeEach(() => {
    store = new MemoryCustomerStore();
    timers = new InMemoryTimerStore();
    published = [];
  });

  describe('an order stuck in "preparing" for 10 days', () => {
    const T = '2026-11-01T08:00:00.000Z';
    const placed = order('placed', '2026-11-01T07:00:00Z', 80);
    const preparing = businessEvent('OrderStatusChanged', { eventId: 'prep', occurredAt: T, orderId: 'o-placed', status: 'preparing' });
    const shipped = (at: string) => businessEvent('OrderStatusChanged', { eventId: `ship-${at}`, occurredAt: at, orderId: 'o-placed', status: 'shipped' });

    it('fires exactly once, not a millisecond before the 10 days, and never again on redelivery or later sweeps', async () => {
      await arrive(placed);
      await arrive(preparing);
      expect(timers.all()).toMatchObject([{ kind: 'churn-trigger', key: 'order-stuck-preparing#o-placed', dueAt: new Date(Date.parse(T) + 10 * DAY).toISOString() }]);
      expect((await sweepAt(new Date(Date.parse(T) + 10 * DAY - 1))).due).toBe(0);
      expect(fired()).toEqual([]);
      expect(await sweepAt(new Date(Date.parse(T) + 10 * DAY))).toMatchObject({ fired: 1 });
      expect(published.map((p) => p.detail)).toEqual([
        expect.objectContaining({ rule: 'order-stuck-preparing', kind: 'timer', triggerId: `order-stuck-preparing#c-1#o-placed#${T}`, sourceEventIds: ['prep'], reasons: ['order o-placed in preparing since 2026-11-01, more than 10 days'] }),
      ]);
      // the status event redelivered after the firing: the timer is not armed again
      clock = new Date(Date.parse(T) + 11 * DAY);
      await fireTriggers(preparing, deps());
      expect((await sweepAt(new Date(Date.parse(T) + 30 * DAY))).due).toBe(0);
      expect(fired()).toEqual(['order-stuck-preparing']);
    });

    it('does not fire when the order moves on in time (the timer is cancelled)', async () => {
      await arrive(placed);
      await arrive(preparing);
      await arrive(shipped('2026-11-10T08:00:00Z'));
      expect(timers.all()).toEqual([]);
      expect((await sweepAt(new Date(Date.parse(T) + 30 * DAY))).due).toBe(0);
      expect(fired()).toEqual([]);
    });

    it('out of order: the shipment arriving before the "preparing" it followed sets no timer', async () => {
      await arrive(placed);
      await arrive(shipped('2026-11-03T08:00:00Z'));
      await arrive(preparing, new Date('2026-11-03T09:00:00Z'));
      expect(timers.all()).toEqual([]);
      expect((await sweepAt(new Date(Date.parse(T) + 30 * DAY))).due).toBe(0);
    });

    it('a stale timer (not cancelled in time) finds the order moved on and fires nothing', async () => {
      await arrive(placed);
      await arrive(preparing);
      // the shipment is stored but its stream record has not been processed yet
      await store.recordEvent(shipped('2026-11-09T08:00:00Z'), new Date('2026-11-09T08:01:00Z'));
      expect(await sweepAt(new Date(Date.parse(T) + 10 * DAY))).toMatchObject({ due: 1, fired: 1 });
      expect(fired()).toEqual([]);
    });

    it('an order that was stuck long ago (history being loaded) sets no timer', async () => {
      await arrive(placed, new Date('2026-12-30T00:00:00Z'));
      await arrive(preparing, new Date('2026-12-30T00:00:00Z'));
      expect(timers.all()).toEqual([]);
    });
  });

  describe('usage that stops for 30 days where there used to be some', () => {
    const use = (eventId: string, occurredAt: string, quantity = 5) => businessEvent('UsageRecorded', { eventId, occurredAt, productId: 'net', quantity });
    const history = [use('u1', '2026-09-10T00:00:00Z'), use('u2', '2026-10-10T00:00:00Z')];
    const LAST = '2026-11-05T12:00:00.000Z';

    it('fires once 30 days after the last use, not before; later uses move it lazily (when it comes due)', async () => {
      for (const e of history) await arrive(e);
      const first = new Date(Date.parse('2026-10-10T00:00:00Z') + 30 * DAY);
      expect(timers.all().map((t) => t.dueAt)).toEqual([first.toISOString()]);
      // used again: the timer due sooner stays where it is (one write per period, not per use) …
      await arrive(use('u3', LAST));
      expect(timers.all().map((t) => t.dueAt)).toEqual([first.toISOString()]);
      // … and when it comes due, its handler finds the newer use and sets it for 30 days after that
      expect(await sweepAt(first)).toMatchObject({ due: 1, fired: 0, superseded: 1 });
      expect(timers.all().map((t) => t.dueAt)).toEqual([new Date(Date.parse(LAST) + 30 * DAY).toISOString()]);
      const again = new Date(Date.parse(LAST) + 10 * DAY).toISOString();
      await arrive(use('u4', again));
      expect(await sweepAt(new Date(Date.parse(LAST) + 30 * DAY))).toMatchObject({ due: 1, fired: 0, superseded: 1 });
      expect(fired()).toEqual([]);
      expect(timers.all().map((t) => t.dueAt)).toEqual([new Date(Date.parse(again) + 30 * DAY).toISOString()]);
      expect((await sweepAt(new Date(Date.parse(again) + 30 * DAY - 1))).due).toBe(0);
      expect(fired()).toEqual([]);
      expect(await sweepAt(new Date(Date.parse(again) + 30 * DAY))).toMatchObject({ fired: 1 });
      expect(published.map((p) => p.detail)).toEqual([expect.objectContaining({ rule: 'usage-stopped', kind: 'timer', triggerId: `usage-stopped#c-1#net#${again}`, reasons: ['no usage of net since 2026-11-15, more than 30 days'] })]);
      expect((await sweepAt(new Date(Date.parse(again) + 90 * DAY))).due).toBe(0);
      expect(fired()).toEqual(['usage-stopped']);
    });

    it('a light user (usage in fewer months than required) sets no timer', async () => {
      await arrive(use('u3', LAST));
      expect(timers.all()).toEqual([]);
      await arrive(use('u0', '2026-11-01T00:00:00Z', 0), new Date(LAST));
      expect(timers.all()).toEqual([]);
    });

    it('a redelivered usage record does not fire it twice', async () => {
      for (const e of history) await arrive(e, new Date(LAST));
      const last = use('u3', LAST);
      await arrive(last);
      await sweepAt(new Date(Date.parse(LAST) + 30 * DAY));
      clock = new Date(Date.parse(LAST) + 30 * DAY + 60_000);
      await fireTriggers(last, deps()); // the stream redelivers the record after the timer fired
      await sweepAt(new Date(Date.parse(LAST) + 60 * DAY));
      expect(fired()).toEqual(['usage-stopped']);
    });
  });

  it('a poison timer (a payload the handler cannot read) is given up; the others fire', async () => {
    const placed = order('p2', '2026-11-01T07:00:00Z', 10);
    await arrive(placed);
    await arrive(businessEvent('OrderStatusChanged', { eventId: 'prep2', occurredAt: '2026-11-01T08:00:00Z', orderId: 'o-p2', status: 'preparing' }));
    await timers.set({ customerId: 'c-1', kind: TRIGGER_TIMER_KIND, key: 'broken', dueAt: '2026-11-02T00:00:00Z', payload: { nonsense: true } }, clock);
    const failures: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock = new Date(Date.parse('2026-11-11T08:00:00Z') + i * 300_000);
      await sweepTimers({ timers, handlers: { [TRIGGER_TIMER_KIND]: triggerTimerHandler(deps()) }, now: () => clock, onFailure: (t, _e, o) => failures.push(`${t.key} ${o}`) });
    }
    expect(fired()).toEqual(['order-stuck-preparing']);
    expect(failures).toEqual(['broken retry', 'broken retry', 'broken retry', 'broken retry', 'broken gave-up']);
    expect(timers.all().find((t) => t.key === 'broken')).toMatchObject({ attempts: 5, gaveUpAt: expect.any(String), lastError: expect.stringContaining('ZodError') });
  });
});

describe('an invalid configuration is rejected with a message naming the trigger and the field', () => {
  const clone = () => structuredClone(rawConfig) as { triggers: Record<string, unknown>[] } & Record<string, unknown>;
  const rejects = (mutate: (c: ReturnType<typeof clone>) => void, message: RegExp) => {
    const c = clone();
    mutate(c);
    expect(() => parseTriggerConfig(c)).toThrow(message);
  };

  it('accepts the repository configuration', () => {
    expect(parseTriggerConfig(clone()).triggers.length).toBe(rawConfig.triggers.length);
  });

  it.each([
    ['a negative window', (c: ReturnType<typeof clone>) => ((c.triggers[1]!.params as Record<string, unknown>).windowDays = -3), /trigger "repeated-complaints" \(triggers\[1\]\), field params\.windowDays: .*>=1/],
    ['an unknown action', (c: ReturnType<typeof clone>) => (c.triggers[0]!.action = 'send-flowers'), /trigger "billing-complaint" \(triggers\[0\]\), field action/],
    ['a misspelt parameter', (c: ReturnType<typeof clone>) => ((c.triggers[2]!.params as Record<string, unknown>).maxResolutionMinute = 10), /trigger "poor-resolution" \(triggers\[2\]\), field params: Unrecognized key: "maxResolutionMinute"/],
    ['an unknown type', (c: ReturnType<typeof clone>) => (c.triggers[5]!.type = 'sulking'), /trigger "downgrade" \(triggers\[5\]\), field type/],
    ['a missing weight', (c: ReturnType<typeof clone>) => delete c.triggers[4]!.weight, /trigger "repeated-payment-failures" \(triggers\[4\]\), field weight/],
    ['a weight above 1', (c: ReturnType<typeof clone>) => (c.triggers[4]!.weight = 1.5), /trigger "repeated-payment-failures" .*field weight/],
    ['a duplicate id', (c: ReturnType<typeof clone>) => (c.triggers[6]!.id = 'downgrade'), /trigger "downgrade" \(triggers\[6\]\), field id: another trigger has the id "downgrade"/],
    ['an event the type does not read', (c: ReturnType<typeof clone>) => (c.triggers[0]!.events = ['OrderPlaced']), /trigger "billing-complaint" \(triggers\[0\]\), field events: a support-calls trigger reads SupportCallLogged, not OrderPlaced/],
    ['an unreachable threshold', (c: ReturnType<typeof clone>) => ((c.triggers[3]!.params as Record<string, unknown>).threshold = 3), /trigger "usage-decline-with-network-complaint" \(triggers\[3\]\), field params\.threshold: 3 is more than the signals' weights add up to \(2\)/],
    ['a bad id', (c: ReturnType<typeof clone>) => (c.triggers[0]!.id = 'Billing Complaint'), /trigger "Billing Complaint" \(triggers\[0\]\), field id: lower-case letters/],
    ['an enabled flag that is a string', (c: ReturnType<typeof clone>) => (c.triggers[7]!.enabled = 'yes'), /trigger "order-stuck-preparing" \(triggers\[7\]\), field enabled/],
    ['a bad routing setting', (c: ReturnType<typeof clone>) => ((c.routing as Record<string, unknown>).outreachTasksPerDay = -1), /field routing\.outreachTasksPerDay/],
  ])('%s', (_, mutate, message) => rejects(mutate, message));
});
