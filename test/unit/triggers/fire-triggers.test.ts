/** fireTriggers on an in-memory store: each fired trigger is recorded once and published once. */
import { beforeEach, describe, expect, it } from 'vitest';
import { fireTriggers } from '../../../shared/triggers/fire-triggers.ts';
import { triggerConfig } from '../../../shared/triggers/config.ts';
import { InMemoryTimerStore } from '../../../shared/timers/in-memory-timer-store.ts';
import { InMemoryOutreachDesk } from '../../../shared/triggers/in-memory-outreach-desk.ts';
import type { EventPublisher } from '../../../shared/ports.ts';
import { businessEvent } from '../../support/events.ts';
import { MemoryCustomerStore } from '../../support/memory-store.ts';

const now = new Date('2026-10-10T09:05:00.000Z');
let store: MemoryCustomerStore;
let timers: InMemoryTimerStore;
let published: { detailType: string; detail: unknown }[];
const publisher: EventPublisher = { publish: async (events) => void published.push(...events) };

beforeEach(() => {
  store = new MemoryCustomerStore();
  timers = new InMemoryTimerStore();
  published = [];
});

const complaint = () => businessEvent('SupportCallLogged', { eventId: 'e-bill', callId: 'k1', reason: 'billing', occurredAt: '2026-10-10T09:00:00Z' });

describe('fireTriggers', () => {
  it('records, publishes and marks each fired trigger', async () => {
    const e = complaint();
    await store.recordEvent(e, now);
    const fired = await fireTriggers(e, { store, publisher, timers, now: () => now });
    const expected = {
      triggerId: 'billing-complaint#c-1#e-bill',
      customerId: 'c-1',
      rule: 'billing-complaint',
      kind: 'single',
      action: 'retention-save',
      reasons: ['support call about billing'],
      churnRiskBoost: 0.2,
      sourceEventIds: ['e-bill'],
      route: 'email',
      firedAt: now.toISOString(),
      schemaVersion: 1,
    };
    expect(fired).toEqual([expected]);
    expect(published).toEqual([{ detailType: 'ChurnTriggerFired', detail: expected }]);
    expect(await store.getTrigger('c-1', 'billing-complaint#c-1#e-bill')).toEqual({ firedAt: now.toISOString(), published: true });
  });

  it('a redelivered event publishes nothing new', async () => {
    const e = complaint();
    await store.recordEvent(e, now);
    await fireTriggers(e, { store, publisher, timers, now: () => now });
    expect(await fireTriggers(e, { store, publisher, timers, now: () => new Date(now.getTime() + 60_000) })).toEqual([]);
    expect(published).toHaveLength(1);
  });

  it('a trigger recorded but not published (the publish failed) is published on redelivery, with its first firing time', async () => {
    const e = complaint();
    await store.recordEvent(e, now);
    const failing: EventPublisher = { publish: async () => Promise.reject(new Error('bus down')) };
    await expect(fireTriggers(e, { store, publisher: failing, timers, now: () => now })).rejects.toThrow('bus down');
    const later = new Date(now.getTime() + 60_000);
    const fired = await fireTriggers(e, { store, publisher, timers, now: () => later });
    expect(fired.map((t) => [t.triggerId, t.firedAt])).toEqual([['billing-complaint#c-1#e-bill', now.toISOString()]]);
    expect(await store.getTrigger('c-1', 'billing-complaint#c-1#e-bill')).toEqual({ firedAt: now.toISOString(), published: true });
  });

  it('judges freshness by the clock it is given, and uses the configuration it is given', async () => {
    const e = complaint();
    await store.recordEvent(e, now);
    expect(await fireTriggers(e, { store, publisher, timers, now: () => new Date('2026-11-10T00:00:00Z') })).toEqual([]);
    expect(await fireTriggers(e, { store, publisher, timers, now: () => now, config: { ...triggerConfig, maxEventAgeDays: 0 } })).toEqual([]);
    expect(published).toEqual([]);
  });

  it('an event of a customer without a profile is an error (it was stored, so there must be one)', async () => {
    await expect(fireTriggers(complaint(), { store, publisher, timers, now: () => now })).rejects.toThrow(/no profile .*e-bill/);
  });
});

describe('routing by value', () => {
  const score = (valueTier: string, clv: number, churnRisk = 0.3) => ({ clv, valueTier, churnRisk, scoredOn: '2026-10-09' });
  const routing = (over: Partial<typeof triggerConfig.routing> = {}) => ({ ...triggerConfig, routing: { ...triggerConfig.routing, ...over } });
  const bill = (n: number, customerId = 'c-1') => businessEvent('SupportCallLogged', { eventId: `e-bill-${customerId}-${n}`, customerId, callId: `k${n}`, reason: 'billing', occurredAt: '2026-10-10T09:00:00Z' });

  it('carries the customer\'s value and her risk raised by the trigger (noisy-OR, as the nightly run); a high tier goes to people', async () => {
    const desk = new InMemoryOutreachDesk();
    desk.scores.set('c-1', score('high', 2400, 0.3));
    const e = bill(1);
    await store.recordEvent(e, now);
    const [t] = await fireTriggers(e, { store, publisher, timers, desk, now: () => now });
    // 1 − (1 − 0.3)(1 − 0.2) = 0.44
    expect(t).toMatchObject({ route: 'outreach', clv: 2400, valueTier: 'high' });
    expect(t!.churnRisk).toBeCloseTo(0.44, 12);
    expect(published.map((p) => p.detailType)).toEqual(['ChurnTriggerFired', 'OutreachTaskCreated']);
    expect(published[1]!.detail).toEqual({
      taskId: t!.triggerId, customerId: 'c-1', triggerId: t!.triggerId, rule: 'billing-complaint', action: 'retention-save', reasons: ['support call about billing'],
      clv: 2400, valueTier: 'high', churnRisk: t!.churnRisk, capacityDay: '2026-10-10', createdAt: now.toISOString(), schemaVersion: 1,
    });
    // redelivered: nothing published, no second claim
    expect(await fireTriggers(e, { store, publisher, timers, desk, now: () => now })).toEqual([]);
    expect(desk.tasks.get('2026-10-10')?.size).toBe(1);
    expect(published).toHaveLength(2);
  });

  it('a CLV at or above the threshold goes to people too; below it, and lower tiers, get the email with their values', async () => {
    const desk = new InMemoryOutreachDesk();
    desk.scores.set('rich', score('medium', 1000));
    desk.scores.set('almost', score('medium', 999.99));
    desk.scores.set('new', score('low', 10));
    const config = routing({ outreachMinClv: 1000 });
    const routes: Record<string, unknown> = {};
    for (const id of ['rich', 'almost', 'new', 'unscored']) {
      const e = bill(1, id);
      await store.recordEvent(e, now);
      const [t] = await fireTriggers(e, { store, publisher, timers, desk, now: () => now, config });
      routes[id] = [t!.route, t!.valueTier];
    }
    expect(routes).toEqual({ rich: ['outreach', 'medium'], almost: ['email', 'medium'], new: ['email', 'low'], unscored: ['email', undefined] });
  });

  it('within the team\'s daily capacity: beyond it the customer gets the email', async () => {
    const desk = new InMemoryOutreachDesk();
    const config = routing({ outreachTasksPerDay: 2 });
    const routes: string[] = [];
    for (const id of ['a', 'b', 'c']) {
      desk.scores.set(id, score('high', 5000));
      const e = bill(1, id);
      await store.recordEvent(e, now);
      routes.push((await fireTriggers(e, { store, publisher, timers, desk, now: () => now, config }))[0]!.route!);
    }
    expect(routes).toEqual(['outreach', 'outreach', 'email']);
    expect(published.filter((p) => p.detailType === 'OutreachTaskCreated')).toHaveLength(2);
  });
});
