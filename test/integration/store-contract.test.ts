/**
 * The contract that keeps the in-memory store honest: the same scenario, run
 * through the same pipeline on InMemoryCustomerStore and on DynamoCustomerStore
 * (DynamoDB Local), finds the same results — ingest outcomes, triggers, ledger,
 * profiles, published events and emails — and the same port calls answer alike.
 */
import { describe, expect, it } from 'vitest';
import { DynamoCustomerStore } from '../../shared/adapters/dynamodb-customer-store.ts';
import { applyEvent, emptyProfile } from '../../shared/customers/profile.ts';
import { defaultSendPolicy } from '../../shared/campaigns/guardrails.ts';
import { InMemoryCustomerStore } from '../../shared/pipeline/in-memory-ports.ts';
import { createPipeline } from '../../shared/pipeline/run-pipeline.ts';
import type { CustomerStore } from '../../shared/ports.ts';
import { businessEvent } from '../support/events.ts';
import { freshTable, useLocalDynamoDb } from '../support/local-aws.ts';
import { scenario, scenarioCustomers, scenarioNow } from '../support/pipeline-scenario.ts';

const profiles = { empty: emptyProfile, apply: applyEvent };
const local = useLocalDynamoDb();

const stores: Record<string, () => Promise<CustomerStore>> = {
  'in memory': async () => new InMemoryCustomerStore(profiles),
  'DynamoDB Local': async () => new DynamoCustomerStore(local.client(), { tableName: (await freshTable(local.aws().dynamodb.endpoint)).tableName, profiles }),
};

/** Everything a run leaves behind that the ports can tell. */
async function runScenario(store: CustomerStore, bodies: string[]) {
  const p = createPipeline({ now: () => scenarioNow, store, sendPolicy: { ...defaultSendPolicy, controlGroupPercent: 0 } });
  const ingested = [];
  for (let i = 0; i < bodies.length; i += 4) ingested.push(...(await p.ingest(bodies.slice(i, i + 4))));
  const triggers = p.publisher.ofType('ChurnTriggerFired');
  const redelivered = [];
  for (const t of triggers) redelivered.push(await p.deliverTrigger(t));
  const customers = [];
  for (const id of scenarioCustomers) {
    customers.push({
      id,
      profile: await store.getProfile(id),
      ledger: await store.recentSends(id, new Date(0)),
      triggers: await Promise.all(triggers.filter((t) => t.customerId === id).map((t) => store.getTrigger(id, t.triggerId))),
    });
  }
  return {
    ingested: ingested.map((r) => r.outcome),
    campaigns: p.campaignResults.map((r) => r.outcome),
    redelivered,
    published: p.publisher.published,
    emails: p.mailer.sent.map((m) => ({ to: m.to, subject: m.message.subject, messageId: m.messageId })),
    rejected: p.rejected.rejected.map((r) => r.rejection.code),
    customers,
  };
}

/** The port calls whose semantics the pipeline relies on, in a fixed sequence: each answer or error name. */
const a = businessEvent('OrderPlaced', { customerId: 'k', amount: 3, occurredAt: '2026-10-02T00:00:00Z' });
const b = businessEvent('UsageRecorded', { customerId: 'k', quantity: 2, occurredAt: '2026-10-01T00:00:00Z' });
const stranger = businessEvent('OrderPlaced', { customerId: 'other' });

async function portCalls(store: CustomerStore) {
  const out: unknown[] = [];
  const call = async (f: () => Promise<unknown>) => out.push(await f().catch((e: Error) => `error: ${e.name}`));
  const t0 = new Date('2026-11-01T00:00:00Z');
  const later = (s: number) => new Date(t0.getTime() + s * 1000);
  await call(() => store.recordEvents('k', [a, b, a], t0));
  await call(() => store.recordEvent(b, t0));
  await call(() => store.recordEvents('k', [stranger], t0));
  await call(() => store.getProfile('k'));
  await call(() => store.getProfile('nobody'));
  const trigger = { triggerId: 'r#k#e', customerId: 'k', rule: 'r', kind: 'single' as const, action: 'retention-save' as const, reasons: ['x'], churnRiskBoost: 0.1, sourceEventIds: ['e'] };
  await call(() => store.getTrigger('k', trigger.triggerId));
  await call(() => store.recordTrigger(trigger, t0));
  await call(() => store.recordTrigger(trigger, later(60)));
  await call(() => store.markPublished('k', { kind: 'trigger', triggerId: trigger.triggerId }, later(1)));
  await call(() => store.markPublished('k', { kind: 'trigger', triggerId: 'not-there' }, later(1)));
  await call(() => store.getTrigger('k', trigger.triggerId));
  const entry = { sendId: 's#1', customerId: 'k', campaign: 'retention-save' };
  await call(() => store.claimSend(entry, t0, 60, 0)); // claimed
  await call(() => store.claimSend(entry, later(10), 60, 1)); // busy: a live lease
  await call(() => store.claimSend({ ...entry, sendId: 's#2' }, later(10), 60, 0)); // stale: decided on version 0
  await call(() => store.recentSends('k', t0)); // the claim in flight counts
  await call(() => store.claimSend(entry, later(61), 60, 0)); // the lease ran out, but the ledger moved: stale
  await call(() => store.claimSend(entry, later(61), 60, 1)); // taken over
  await call(() => store.releaseSend('k', 's#1'));
  await call(() => store.claimSend(entry, later(62), 60, 2));
  await call(() => store.completeSend({ ...entry, status: 'sent', at: later(63).toISOString(), messageId: 'm-1' }));
  await call(() => store.releaseSend('k', 's#1')); // a completed entry is not released
  await call(() => store.claimSend(entry, later(600), 60, 3)); // done
  await call(() => store.markPublished('k', { kind: 'send', sendId: 's#1' }, later(64)));
  await call(() => store.markPublished('k', { kind: 'send', sendId: 's#1' }, later(65))); // the first mark stays
  await call(() => store.recentSends('k', t0));
  await call(() => store.recentSends('k', later(3600)));
  // submitted: never taken over, even after the lease; released only on purpose; deferred: claimed again
  const s3 = { ...entry, sendId: 's#3' };
  await call(() => store.claimSend(s3, later(700), 60, 3));
  await call(() => store.markSubmitted([{ customerId: 'k', sendId: 's#3' }, { customerId: 'k', sendId: 's#1' }], later(701))); // s#1 is sent: stays
  await call(() => store.claimSend(s3, later(900), 60, 4)); // done (submitted), not taken over
  await call(() => store.releaseSend('k', 's#3'));
  await call(() => store.claimSend(s3, later(901), 60, 4)); // released: claimed again
  await call(() => store.completeSend({ ...s3, status: 'deferred', at: later(902).toISOString(), reason: 'quiet-hours', deferredUntil: later(4000).toISOString() }));
  await call(() => store.claimSend(s3, later(4000), 60, 5)); // deferred: claimed again
  await call(() => store.recentSends('k', later(600)));
  return out;
}

describe('CustomerStore contract: in memory and on DynamoDB Local', () => {
  it('the scenario through the pipeline finds the same results on both stores', async () => {
    const { bodies } = scenario();
    const [memory, dynamo] = [await runScenario(await stores['in memory']!(), bodies), await runScenario(await stores['DynamoDB Local']!(), bodies)];
    expect(memory.emails.length).toBeGreaterThan(0);
    expect(memory.customers.find((c) => c.id === 'dee')?.ledger.records).toHaveLength(4);
    expect(dynamo).toEqual(memory);
  }, 60_000);

  it('the port calls answer alike, call by call', async () => {
    const memory = await portCalls(await stores['in memory']!());
    const dynamo = await portCalls(await stores['DynamoDB Local']!());
    expect(memory.filter((r) => typeof r === 'object' && r !== null && 'state' in r).map((r) => (r as { state: string }).state)).toEqual([
      'claimed', 'busy', 'stale', 'stale', 'claimed', 'claimed', 'done', 'claimed', 'done', 'claimed', 'claimed',
    ]);
    const last = memory.at(-1) as { records: { sendId: string; status: string }[] };
    expect(last.records.map((r) => [r.sendId, r.status])).toEqual([['s#3', 'sending']]);
    expect(dynamo).toEqual(memory);
  }, 60_000);
});
