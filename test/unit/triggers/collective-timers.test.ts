/**
 * Timer signals in collective triggers: usage that stopped and an order stuck in a status count,
 * once their timer is due, as active signals with their weight in a collective trigger's sum —
 * whichever comes last completes it: the timer (firing the collective trigger from the sweep) or
 * an arriving event of another signal (evaluated while the stopped or stuck state lasts).
 * Boundaries of the timer and of the other signal's window, redelivery, a renewed state, and an
 * order that moves on in time. (Through the local stack: test/integration/local-timers.test.ts.)
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { BusinessEvent } from '../../../shared/events/catalog.ts';
import type { EventPublisher } from '../../../shared/ports.ts';
import { InMemoryTimerStore } from '../../../shared/timers/in-memory-timer-store.ts';
import { sweepTimers } from '../../../shared/timers/sweep.ts';
import { parseTriggerConfig, triggerConfig, type TriggerConfig } from '../../../shared/triggers/config.ts';
import { fireTriggers, triggerTimerHandler } from '../../../shared/triggers/fire-triggers.ts';
import { TRIGGER_TIMER_KIND } from '../../../shared/triggers/rules.ts';
import { businessEvent } from '../../support/events.ts';
import { MemoryCustomerStore } from '../../support/memory-store.ts';

const DAY = 86_400_000;
const ID = 'usage-stopped-with-network-complaint';
/** The repository's configuration with only the collective trigger of stopped usage and a network complaint enabled. */
const repositoryCollective: TriggerConfig = { ...triggerConfig, triggers: triggerConfig.triggers.map((t) => ({ ...t, enabled: t.id === ID })) };
const withSignalWeights = (weights: number[]): TriggerConfig => ({
  ...repositoryCollective,
  triggers: repositoryCollective.triggers.map((t) => (t.id === ID ? { ...t, params: { ...t.params, signals: (t.params.signals as { weight: number }[]).map((s, i) => ({ ...s, weight: weights[i]! })) } } : t)),
});

const use = (eventId: string, occurredAt: string) => businessEvent('UsageRecorded', { eventId, occurredAt, productId: 'net', quantity: 5 });
const call = (eventId: string, occurredAt: string, reason = 'network') => businessEvent('SupportCallLogged', { eventId, occurredAt, callId: `k-${eventId}`, reason });
const history = [use('u1', '2026-08-10T00:00:00Z'), use('u2', '2026-09-10T00:00:00Z')];
const LAST = '2026-10-05T12:00:00.000Z';
/** When the usage has stopped for 30 days. */
const STOPPED = Date.parse(LAST) + 30 * DAY;
const at = (ms: number) => new Date(ms).toISOString();

let store: MemoryCustomerStore;
let timers: InMemoryTimerStore;
let published: { detailType: string; detail: { rule: string; triggerId: string; kind: string; reasons: string[]; churnRiskBoost: number; action: string } }[];
let clock: Date;
let config: TriggerConfig;
const publisher: EventPublisher = { publish: async (events) => void published.push(...(events as never[])) };
const deps = () => ({ store, publisher, timers, now: () => clock, config });
const arrive = async (e: BusinessEvent, now: Date = new Date(Date.parse(e.detail.occurredAt) + 60_000)) => {
  clock = now;
  await store.recordEvent(e, clock);
  return fireTriggers(e, deps());
};
const sweepAt = async (ms: number) => {
  clock = new Date(ms);
  return sweepTimers({ timers, handlers: { [TRIGGER_TIMER_KIND]: triggerTimerHandler(deps()) }, now: () => clock });
};
const fired = () => published.map((p) => p.detail.triggerId);
const usageStoppedAt = async (lastUse = LAST) => {
  for (const e of [...history, use('u3', lastUse)]) await arrive(e);
};

beforeEach(() => {
  store = new MemoryCustomerStore();
  timers = new InMemoryTimerStore();
  published = [];
  config = repositoryCollective;
});

describe('stopped usage as a signal of a collective trigger (usage-stopped-with-network-complaint)', () => {
  it('a usage event arms a timer for the signal, named by the trigger, the signal and the product', async () => {
    await usageStoppedAt();
    expect(timers.all()).toMatchObject([{ kind: TRIGGER_TIMER_KIND, key: `${ID}#0#net`, payload: { trigger: ID, subject: 'net', signal: 0 } }]);
    // lazy: the first due time is kept while usage goes on; its handler moves it
    expect(timers.all()[0]!.dueAt).toBe(at(Date.parse('2026-09-10T00:00:00Z') + 30 * DAY));
  });

  it('complaint first: the timer completes it 30 days after the last use, not a millisecond before, once', async () => {
    await usageStoppedAt();
    await sweepAt(Date.parse('2026-09-10T00:00:00Z') + 30 * DAY); // the first due time: the newer use moves it
    expect(timers.all()[0]!.dueAt).toBe(at(STOPPED));
    expect(await arrive(call('n1', '2026-10-20T09:00:00Z'))).toEqual([]); // one signal of two
    expect((await sweepAt(STOPPED - 1)).due).toBe(0);
    expect(fired()).toEqual([]);
    expect(await sweepAt(STOPPED)).toMatchObject({ due: 1, fired: 1 });
    expect(published.map((p) => p.detail)).toEqual([
      expect.objectContaining({ rule: ID, kind: 'collective', action: 'retention-save', churnRiskBoost: 0.3, triggerId: `${ID}#c-1#2026-11`, reasons: ['no usage of net for 30 days', '1 network complaint(s) in 30 days'] }),
    ]);
    // neither a later sweep nor the timer fired again (at least once) nor the complaint redelivered fire it again
    expect((await sweepAt(STOPPED + 60 * DAY)).due).toBe(0);
    await triggerTimerHandler(deps())(timers.all()[0]!, new Date(STOPPED + 60_000));
    clock = new Date(STOPPED + 120_000);
    await fireTriggers(call('n1', '2026-10-20T09:00:00Z'), deps());
    expect(fired()).toEqual([`${ID}#c-1#2026-11`]);
  });

  it('the complaint counts at the timer within its 30-day window, inclusive, and not a millisecond before', async () => {
    await usageStoppedAt();
    await arrive(call('edge', at(STOPPED - 30 * DAY)));
    await sweepAt(Date.parse('2026-09-10T00:00:00Z') + 30 * DAY);
    await sweepAt(STOPPED);
    expect(fired()).toEqual([`${ID}#c-1#2026-11`]);

    beforeEachAgain();
    await usageStoppedAt();
    await arrive(call('early', at(STOPPED - 30 * DAY - 1)));
    await sweepAt(Date.parse('2026-09-10T00:00:00Z') + 30 * DAY);
    expect(await sweepAt(STOPPED)).toMatchObject({ due: 1, fired: 1 });
    expect(fired()).toEqual([]);
  });

  it('the timer first: alone it fires nothing; a network complaint while the usage stays stopped completes it, none before', async () => {
    await usageStoppedAt();
    await sweepAt(Date.parse('2026-09-10T00:00:00Z') + 30 * DAY);
    expect(await arrive(call('before', at(STOPPED - 1)), new Date(STOPPED - 1))).toEqual([]);
    // that complaint is in the window when the timer comes due: the timer completes it
    beforeEachAgain();
    await usageStoppedAt();
    await sweepAt(Date.parse('2026-09-10T00:00:00Z') + 30 * DAY);
    expect(await sweepAt(STOPPED)).toMatchObject({ due: 1, fired: 1 });
    expect(fired()).toEqual([]); // one signal of two
    expect(await arrive(call('billing', at(STOPPED + 5 * DAY), 'billing'))).toEqual([]); // not a network complaint
    const late = await arrive(call('n2', at(STOPPED + 5 * DAY)));
    expect(late.map((t) => [t.triggerId, t.kind, t.reasons])).toEqual([[`${ID}#c-1#2026-11`, 'collective', ['no usage of net for 30 days', '1 network complaint(s) in 30 days']]]);
  });

  it('usage that comes back before the 30 days: the timer moves and nothing fires, complaint or not', async () => {
    await usageStoppedAt();
    await sweepAt(Date.parse('2026-09-10T00:00:00Z') + 30 * DAY);
    await arrive(call('n1', '2026-10-20T09:00:00Z'));
    await arrive(use('u4', at(STOPPED - DAY)));
    expect(await sweepAt(STOPPED)).toMatchObject({ due: 1, fired: 0, superseded: 1 });
    expect(timers.all()[0]!.dueAt).toBe(at(STOPPED + 29 * DAY));
    expect(fired()).toEqual([]);
    expect(await arrive(call('n2', at(STOPPED + DAY)))).toEqual([]);
  });

  it('a light user (usage in one month) arms no timer, and a complaint alone fires nothing', async () => {
    await arrive(use('only', LAST));
    expect(timers.all()).toEqual([]);
    expect(await arrive(call('n1', at(STOPPED + DAY)))).toEqual([]);
  });

  it('a timer signal counts with its weight: weighing 2, stopped usage alone reaches the threshold at the timer', async () => {
    config = withSignalWeights([2, 1]);
    await usageStoppedAt();
    await sweepAt(Date.parse('2026-09-10T00:00:00Z') + 30 * DAY);
    expect((await sweepAt(STOPPED - 1)).due).toBe(0);
    await sweepAt(STOPPED);
    expect(published.map((p) => p.detail.reasons)).toEqual([['no usage of net for 30 days']]);
    config = withSignalWeights([0.5, 1]);
    beforeEachAgain();
    await usageStoppedAt();
    await arrive(call('n1', '2026-10-20T09:00:00Z'));
    await sweepAt(Date.parse('2026-09-10T00:00:00Z') + 30 * DAY);
    await sweepAt(STOPPED);
    expect(fired()).toEqual([]); // 0.5 + 1 < 2
  });

  it('a disabled collective trigger arms no timer; a timer of a trigger disabled since fires nothing', async () => {
    config = triggerConfig; // the repository's: the trigger is disabled by default
    await usageStoppedAt();
    expect(timers.all().filter((t) => t.key.startsWith(ID))).toEqual([]);
    config = repositoryCollective;
    await usageStoppedAt();
    await arrive(call('n1', '2026-10-20T09:00:00Z'));
    config = { ...repositoryCollective, triggers: repositoryCollective.triggers.map((t) => ({ ...t, enabled: false })) };
    await sweepAt(STOPPED + DAY);
    expect(fired()).toEqual([]);
  });
});

describe('an order stuck in a status as a signal of a collective trigger', () => {
  const stuckWithDeliveryComplaint = parseTriggerConfig({
    maxEventAgeDays: 14,
    routing: { outreachTiers: [], outreachTasksPerDay: 0 },
    triggers: [
      {
        id: 'stuck-order-and-delivery-complaint',
        description: 'An order still preparing after 5 days and a complaint about delivery within 7 days.',
        enabled: true,
        type: 'collective',
        params: {
          threshold: 2,
          signals: [
            { type: 'support-calls', params: { reasons: ['delivery'], minCount: 1, windowDays: 7 }, weight: 1 },
            { type: 'order-stuck', params: { statuses: ['preparing'], days: 5 }, weight: 1 },
          ],
        },
        weight: 0.2,
        cooldown: 'per-event',
        action: 'service-recovery',
      },
    ],
  });
  const T = '2026-11-01T08:00:00.000Z';
  const DUE = Date.parse(T) + 5 * DAY;
  const placed = businessEvent('OrderPlaced', { eventId: 'placed', occurredAt: '2026-11-01T07:00:00Z', orderId: 'o-1', amount: 80, currency: 'EUR' });
  const preparing = businessEvent('OrderStatusChanged', { eventId: 'prep', occurredAt: T, orderId: 'o-1', status: 'preparing' });
  const shipped = (occurredAt: string) => businessEvent('OrderStatusChanged', { eventId: `ship`, occurredAt, orderId: 'o-1', status: 'shipped' });

  beforeEach(() => {
    config = stuckWithDeliveryComplaint;
  });

  it('the stuck order completes it at its timer (the signal at position 1), once, not before', async () => {
    await arrive(placed);
    await arrive(preparing);
    expect(timers.all()).toMatchObject([{ key: 'stuck-order-and-delivery-complaint#1#o-1', dueAt: at(DUE), payload: { signal: 1, subject: 'o-1' } }]);
    expect(await arrive(call('d1', '2026-11-04T10:00:00Z', 'delivery'))).toEqual([]);
    expect((await sweepAt(DUE - 1)).due).toBe(0);
    await sweepAt(DUE);
    expect(published.map((p) => [p.detail.triggerId, p.detail.reasons])).toEqual([
      [`stuck-order-and-delivery-complaint#c-1#1#o-1#${T}`, ['1 delivery complaint(s) in 7 days', 'order(s) o-1 in preparing for more than 5 days']],
    ]);
    await sweepAt(DUE + 10 * DAY);
    expect(published).toHaveLength(1);
  });

  it('an order that moves on in time cancels the timer: nothing fires, and a later complaint finds no stuck order', async () => {
    await arrive(placed);
    await arrive(preparing);
    await arrive(call('d1', '2026-11-04T10:00:00Z', 'delivery'));
    await arrive(shipped(at(DUE - 1)));
    expect(timers.all()).toEqual([]);
    await sweepAt(DUE + DAY);
    expect(await arrive(call('d2', at(DUE + DAY), 'delivery'))).toEqual([]);
    expect(fired()).toEqual([]);
  });

  it('the complaint after the order got stuck completes it from the event (per event: the call)', async () => {
    await arrive(placed);
    await arrive(preparing);
    await sweepAt(DUE);
    expect(fired()).toEqual([]);
    expect((await arrive(call('d1', at(DUE + DAY), 'delivery'))).map((t) => t.triggerId)).toEqual(['stuck-order-and-delivery-complaint#c-1#d1']);
  });
});

/** Starts a scenario again within a test (a fresh store, timers and published list). */
function beforeEachAgain() {
  store = new MemoryCustomerStore();
  timers = new InMemoryTimerStore();
  published = [];
}
