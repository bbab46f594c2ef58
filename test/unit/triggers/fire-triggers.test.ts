/** fireTriggers on an in-memory store: each fired trigger is recorded once and published once. */
import { beforeEach, describe, expect, it } from 'vitest';
import { fireTriggers } from '../../../shared/triggers/fire-triggers.ts';
import { triggerConfig } from '../../../shared/triggers/config.ts';
import { InMemoryTimerStore } from '../../../shared/timers/in-memory-timer-store.ts';
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
