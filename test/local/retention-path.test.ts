/**
 * The local run's retention-path check: the real run compared with the pure
 * pipeline's expectation, differences of order counted, anything else failed.
 */
import { describe, expect, it } from 'vitest';
import { defaultSendPolicy } from '../../shared/campaigns/guardrails.ts';
import { billingPath } from '../../shared/pipeline/billing-path.ts';
import { compareRetentionPath, type ActualOutcome, type ActualRun } from '../../local/retention-path.ts';
import { scenario, scenarioNow } from '../support/pipeline-scenario.ts';

const options = { now: () => scenarioNow, sendPolicy: { ...defaultSendPolicy, controlGroupPercent: 0 } };

/** A run that did exactly what the pipeline expects. */
async function faithfulRun() {
  const { bodies } = scenario();
  const expected = await billingPath(bodies, options);
  const outcomes = new Map<string, ActualOutcome>();
  let n = 0;
  for (const e of expected) {
    for (const t of e.triggers) outcomes.set(t.triggerId, t.outcome === 'sent' ? { outcome: 'sent', messageId: `m-${++n}` } : { outcome: t.outcome as 'skipped', reason: t.reason });
  }
  const actual: ActualRun = {
    stored: (id) => expected.some((e) => e.eventId === id && e.stored),
    streamed: (id) => expected.some((e) => e.eventId === id && e.stored),
    triggers: expected.flatMap((e) => e.triggers.map((t) => ({ triggerId: t.triggerId, kind: t.kind, rule: t.rule, action: 'retention-save', customerId: e.customerId, sourceEventIds: [e.eventId] }))),
    toCampaigns: () => true,
    outcomes,
    inbox: new Set(Array.from({ length: n }, (_, i) => `m-${i + 1}`)),
  };
  return { expected, actual };
}

describe('retention path check', () => {
  it('is OK when the run did what the pipeline expects, and counts each step', async () => {
    const { expected, actual } = await faithfulRun();
    // ada, bob, dee and eve complained recently (cy's complaint is 40 days old); ada's and dee's were emailed.
    expect(expected.map((e) => [e.customerId, e.emailed])).toEqual([['ada', true], ['bob', false], ['dee', true], ['eve', false]]);
    const check = compareRetentionPath(expected, actual);
    expect(check).toMatchObject({ ok: true, mismatchCount: 0, orderDependent: 0, expected: { billingComplaints: 4, triggered: 4, emailed: 2 } });
    expect(check.steps).toEqual({ billingComplaints: 4, stored: 4, streamed: 4, triggered: 4, toCampaigns: 4, emailed: 2 });
    expect(check.example).toMatchObject({ customerId: 'ada', rule: 'billing-complaint', messageId: 'm-1' });
  });

  it('fails on an email the guardrails allow that did not go out, or a single trigger that did not fire', async () => {
    const { expected, actual } = await faithfulRun();
    const ada = expected.find((e) => e.customerId === 'ada')!;
    const noEmail = compareRetentionPath(expected, { ...actual, inbox: new Set(['m-2']) });
    expect(noEmail.ok).toBe(false);
    expect(noEmail.mismatches).toEqual([{ customerId: 'ada', eventId: ada.eventId, expected: `fired ${ada.triggers[0]!.triggerId}; emailed`, actual: `fired ${ada.triggers[0]!.triggerId}; not emailed` }]);
    const noTrigger = compareRetentionPath(expected, { ...actual, triggers: actual.triggers.filter((t) => t.customerId !== 'bob') });
    expect(noTrigger).toMatchObject({ ok: false, mismatchCount: 1, mismatches: [{ customerId: 'bob', actual: 'no single trigger; not emailed' }] });
    const notStored = compareRetentionPath(expected, { ...actual, stored: (id) => id !== ada.eventId });
    expect(notStored.mismatches[0]).toMatchObject({ customerId: 'ada', actual: 'not stored' });
  });

  it('a trigger published twice (at least once: a retried invocation publishes it again) is one trigger', async () => {
    const { expected, actual } = await faithfulRun();
    const check = compareRetentionPath(expected, { ...actual, triggers: [...actual.triggers, ...actual.triggers] });
    expect(check).toMatchObject({ ok: true, mismatchCount: 0, orderDependent: 0 });
    expect(check.steps).toEqual({ billingComplaints: 4, stored: 4, streamed: 4, triggered: 4, toCampaigns: 4, emailed: 2 });
  });

  it('counts a difference of order (cooldown, weekly cap) without failing', async () => {
    const { expected, actual } = await faithfulRun();
    const ada = expected.find((e) => e.customerId === 'ada')!;
    const outcomes = new Map(actual.outcomes);
    outcomes.set(ada.triggers[0]!.triggerId, { outcome: 'skipped', reason: 'cooldown' });
    const check = compareRetentionPath(expected, { ...actual, outcomes });
    expect(check).toMatchObject({ ok: true, orderDependent: 1, mismatchCount: 0 });
    expect(check.steps.emailed).toBe(1);
  });

  it('is not OK when nothing was emailed, even if nothing was expected', async () => {
    const { actual } = await faithfulRun();
    expect(compareRetentionPath([], actual)).toMatchObject({ ok: false, mismatchCount: 0 });
  });
});
