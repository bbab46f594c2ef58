/**
 * Timers end to end through the local stack, with the real handlers: events in → ingest → table
 * stream → churn-triggers sets a timer → the clock moves forward (local/clock.ts) → the timer
 * sweep (the TimerSweep schedule's function) fires the trigger → ChurnTriggerFired on the bus →
 * campaigns → the email (or nothing, for an action without a campaign). A stuck order fires
 * exactly once, and not at all when the order moves on in time; stopped usage fires once after
 * 30 days and not before.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { advanceClock } from '../../local/clock.ts';
import { DynamoScoringStore } from '../../shared/adapters/dynamodb-scoring-store.ts';
import { emptyProfile } from '../../shared/customers/profile.ts';
import { localStackAtMidday } from '../support/local-stack-at-midday.ts';

const DAY = 86_400_000;
const local = localStackAtMidday('clm-timers-');

/** A customer outside the retention campaign's control group (so the email is not held back). */
const customer = (prefix: string) => local.customerOutside(['retention-save'], prefix);
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

async function put(entries: { type: string; detail: Record<string, unknown> }[]) {
  const client = new EventBridgeClient({ endpoint: local.stack.endpoints.bus, region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  try {
    for (let i = 0; i < entries.length; i += 10) {
      const res = await client.send(
        new PutEventsCommand({ Entries: entries.slice(i, i + 10).map((e) => ({ EventBusName: local.stack.busName, Source: 'com.example.shop', DetailType: e.type, Detail: JSON.stringify(e.detail) })) }),
      );
      expect(res.FailedEntryCount).toBe(0);
    }
  } finally {
    client.destroy();
  }
}

const emitted = (type: string, customerId: string) => local.stack.bus.emitted.filter((e) => e['detail-type'] === type && (e.detail as { customerId?: string }).customerId === customerId).map((e) => e.detail as Record<string, unknown>);
const onboarding = (customerId: string) => [
  { type: 'CustomerProfileUpdated', detail: { eventId: `${customerId}-p`, customerId, occurredAt: ago(40 * DAY), email: `${customerId}@example.com`, firstName: 'Sam' } },
  { type: 'ConsentChanged', detail: { eventId: `${customerId}-c`, customerId, occurredAt: ago(40 * DAY), channel: 'email', purpose: 'marketing', granted: true } },
];

describe('timers through the local local.stack with the clock moved forward', () => {
  it('a stuck order fires once after 10 days; one that moved on in time never; stopped usage once after 30 days, emailed', async () => {
    const stuck = customer('stuck');
    const moved = customer('moved');
    const quiet = customer('quiet');
    // The profiles first: a first order's welcome waits for the profile's address, and with this
    // test's 5 ms redelivery a slow ingest (a loaded machine) would use up its receives.
    await put([...onboarding(stuck), ...onboarding(moved), ...onboarding(quiet)]);
    await local.stack.waitForIdle();
    await put([
      { type: 'OrderPlaced', detail: { eventId: `${stuck}-o`, customerId: stuck, occurredAt: ago(3 * 3_600_000), orderId: 'ord-1', amount: 120, currency: 'EUR' } },
      { type: 'OrderStatusChanged', detail: { eventId: `${stuck}-s1`, customerId: stuck, occurredAt: ago(2 * 3_600_000), orderId: 'ord-1', status: 'preparing' } },
      { type: 'OrderPlaced', detail: { eventId: `${moved}-o`, customerId: moved, occurredAt: ago(3 * 3_600_000), orderId: 'ord-2', amount: 80, currency: 'EUR' } },
      { type: 'OrderStatusChanged', detail: { eventId: `${moved}-s1`, customerId: moved, occurredAt: ago(2 * 3_600_000), orderId: 'ord-2', status: 'preparing' } },
      { type: 'OrderStatusChanged', detail: { eventId: `${moved}-s2`, customerId: moved, occurredAt: ago(3_600_000), orderId: 'ord-2', status: 'shipped' } },
      ...[62, 31, 0].map((d, i) => ({ type: 'UsageRecorded', detail: { eventId: `${quiet}-u${i}`, customerId: quiet, occurredAt: ago(d * DAY + 3_600_000), productId: 'fibre', quantity: 40, unit: 'GB' } })),
    ]);
    await local.stack.waitForIdle();
    expect(emitted('ChurnTriggerFired', stuck)).toEqual([]);

    // Nothing is due yet.
    expect((await local.stack.sweepTimers()).result).toMatchObject({ due: 0, fired: 0 });

    // Ten days (and a sweep interval) later: the stuck order fires; the order that shipped does not.
    advanceClock(local.startedAt + 10 * DAY + 5 * 60_000 - Date.now());
    expect((await local.stack.sweepTimers()).result).toMatchObject({ fired: 1, byKind: { 'churn-trigger': 1 } });
    expect(emitted('ChurnTriggerFired', stuck)).toEqual([expect.objectContaining({ rule: 'order-stuck-preparing', kind: 'timer', action: 'service-recovery', sourceEventIds: [`${stuck}-s1`] })]);
    expect(emitted('ChurnTriggerFired', moved)).toEqual([]);
    expect(emitted('ChurnTriggerFired', quiet)).toEqual([]);
    // Swept again: nothing more.
    expect((await local.stack.sweepTimers()).result).toMatchObject({ due: 0, fired: 0 });

    // 29 days after the last use: not yet. 30 days (and a sweep interval): fired once, and emailed.
    advanceClock(local.startedAt + 29 * DAY - Date.now());
    expect((await local.stack.sweepTimers()).result).toMatchObject({ fired: 0 });
    expect(emitted('ChurnTriggerFired', quiet)).toEqual([]);
    advanceClock(local.startedAt + 30 * DAY + 5 * 60_000 - Date.now());
    expect((await local.stack.sweepTimers()).result).toMatchObject({ fired: 1 });
    expect(emitted('ChurnTriggerFired', quiet)).toEqual([expect.objectContaining({ rule: 'usage-stopped', kind: 'timer', action: 'retention-save' })]);
    expect(emitted('EmailSent', quiet)).toEqual([expect.objectContaining({ campaign: 'retention-save' })]);
    expect((await local.stack.sweepTimers()).result).toMatchObject({ due: 0 });

    // Each trigger once in all; no handler failed, nothing dead-lettered.
    expect(emitted('ChurnTriggerFired', stuck)).toHaveLength(1);
    expect(emitted('ChurnTriggerFired', moved)).toEqual([]);
    const c = await local.stack.counters();
    expect(c.handlerErrors).toEqual([]);
    expect(Object.values(c.deadLetters).every((n) => n === 0)).toBe(true);
  }, 240_000);

  it('routing by value: a high-tier customer\'s triggers become outreach tasks (no email), the others emails, each with the nightly value and risk', async () => {
    const vip = customer('vip');
    const regular = customer('regular');
    // What the nightly run wrote for them (SCORE items).
    const scoring = new DynamoScoringStore(local.stack.dynamodb, { tableName: local.stack.tableName, profiles: { empty: emptyProfile } });
    const score = (customerId: string, valueTier: 'high' | 'low', clv: number) => ({
      customerId, kind: 'adhoc' as const, modelId: 'm', scoredOn: new Date().toISOString().slice(0, 10), clv, pAlive: 0.6, modelChurnRisk: 0.25, churnRisk: 0.25,
      riskBand: 'low' as const, valueTier, nextBestAction: 'none' as const, nextBestActionRule: 'r', activeTriggerRules: [],
    });
    await scoring.writeScores([score(vip, 'high', 4200), score(regular, 'low', 80)]);
    const t0 = Date.now();
    await put([
      ...onboarding(vip),
      ...onboarding(regular),
      { type: 'SupportCallLogged', detail: { eventId: `${vip}-b`, customerId: vip, occurredAt: ago(3_600_000), callId: 'k1', reason: 'billing' } },
      { type: 'SupportCallLogged', detail: { eventId: `${regular}-b`, customerId: regular, occurredAt: ago(3_600_000), callId: 'k2', reason: 'billing' } },
      { type: 'OrderPlaced', detail: { eventId: `${vip}-o`, customerId: vip, occurredAt: ago(2 * 3_600_000), orderId: 'ord-9', amount: 900, currency: 'EUR' } },
      { type: 'OrderStatusChanged', detail: { eventId: `${vip}-s`, customerId: vip, occurredAt: ago(3_600_000), orderId: 'ord-9', status: 'preparing' } },
    ]);
    await local.stack.waitForIdle();
    // The billing complaints: the high-tier customer's to people, the other's to the email.
    const [vipBill] = emitted('ChurnTriggerFired', vip);
    expect(vipBill).toMatchObject({ rule: 'billing-complaint', route: 'outreach', valueTier: 'high', clv: 4200 });
    expect(vipBill!.churnRisk).toBeCloseTo(1 - 0.75 * 0.8, 12);
    expect(emitted('OutreachTaskCreated', vip)).toEqual([expect.objectContaining({ triggerId: vipBill!.triggerId, rule: 'billing-complaint', valueTier: 'high', clv: 4200 })]);
    // no email for the triggers routed to people (the welcome of a first purchase is another matter)
    expect(emitted('EmailSent', vip).map((e) => e.campaign)).toEqual(['welcome']);
    expect(emitted('ChurnTriggerFired', regular)).toEqual([expect.objectContaining({ rule: 'billing-complaint', route: 'email', valueTier: 'low', clv: 80 })]);
    expect(emitted('EmailSent', regular)).toEqual([expect.objectContaining({ campaign: 'retention-save' })]);
    expect(emitted('OutreachTaskCreated', regular)).toEqual([]);

    // Ten days on, the high-tier customer's order is still preparing: a task for people, once.
    advanceClock(t0 + 10 * DAY + 5 * 60_000 - Date.now());
    await local.stack.sweepTimers();
    await local.stack.sweepTimers();
    const stuckTriggers = emitted('ChurnTriggerFired', vip).filter((t) => t.rule === 'order-stuck-preparing');
    expect(stuckTriggers).toEqual([expect.objectContaining({ kind: 'timer', route: 'outreach', action: 'service-recovery' })]);
    expect(emitted('OutreachTaskCreated', vip).map((t) => t.rule)).toEqual(['billing-complaint', 'order-stuck-preparing']);
    expect(emitted('EmailSent', vip).map((e) => e.campaign)).toEqual(['welcome']);
    expect((await local.stack.counters()).handlerErrors).toEqual([]);
  }, 240_000);
});
