/**
 * What erasure keeps of outreach assignments (shared/privacy/outreach-residue.ts) and how the lift
 * report counts it (shared/report/erased-outreach.ts), on the in-memory stores: a subscriber who
 * cancelled after her plan counts as churned in her group, one still subscribed as kept, an ad-hoc
 * buyer within the churn horizon as pending; nothing of the residue names her.
 */
import { describe, expect, it } from 'vitest';
import { applyEvent, emptyProfile } from '../../../shared/customers/profile.ts';
import { InMemoryConsentLedger, InMemoryCustomerStore, InMemoryPrivacyStore, InMemoryScoringStore, forgetIn } from '../../../shared/pipeline/in-memory-ports.ts';
import { eraseCustomer } from '../../../shared/privacy/erasure.ts';
import { assignmentPeriods, monthsBetween, outreachResidue } from '../../../shared/privacy/outreach-residue.ts';
import { addErasedOutreach } from '../../../shared/report/erased-outreach.ts';
import { emptyReportPart } from '../../../shared/report/aggregate.ts';
import type { OutreachAssignment } from '../../../shared/scoring/outreach.ts';
import { businessEvent } from '../../support/events.ts';

const now = new Date('2026-09-10T12:00:00Z');
const plan = (customerId: string, group: 'treatment' | 'control', period = '2026-06', plannedOn = '2026-06-03'): OutreachAssignment => ({
  planId: `op-${customerId}`, experimentId: 'outreach-v1', period, customerId, group, rank: 1, rankBy: 'value-at-risk', clv: 250.5, churnRisk: 0.333, plannedOn, runId: 'r', plannedAt: `${plannedOn}T02:00:00Z`,
});

function world() {
  const store = new InMemoryCustomerStore({ empty: emptyProfile, apply: applyEvent });
  const scoring = new InMemoryScoringStore(store);
  const privacy = new InMemoryPrivacyStore(forgetIn(store, new InMemoryConsentLedger()), 'salt', scoring);
  return { store, scoring, privacy };
}
const subscriber = (id: string, cancelledAt?: string) => [
  businessEvent('SubscriptionStarted', { customerId: id, subscriptionId: 's', productId: 'p', plan: 'x', monthlyPrice: 10, currency: 'EUR', occurredAt: '2026-01-05T10:00:00Z' }),
  ...(cancelledAt ? [businessEvent('SubscriptionCancelled', { customerId: id, subscriptionId: 's', productId: 'p', occurredAt: cancelledAt })] : []),
];

describe('months and periods', () => {
  it('lists the months between two dates, across a year end', () => {
    expect(monthsBetween('2025-11-20', '2026-02-01')).toEqual(['2025-11', '2025-12', '2026-01', '2026-02']);
    expect(monthsBetween('2026-02-01', '2026-02-28')).toEqual(['2026-02']);
  });

  it('a customer can have assignments from the month of her first event to now; none without a profile', () => {
    expect(assignmentPeriods({ ...emptyProfile('a'), firstSeenAt: '2026-07-31T23:00:00Z' }, now)).toEqual(['2026-07', '2026-08', '2026-09']);
    expect(assignmentPeriods(undefined, now)).toEqual([]);
  });
});

describe('the residue of an erased customer’s assignment', () => {
  it('keeps group, month, basis, night, coarsened CLV and risk and the outcome; not the id, plan id, rank or run', () => {
    const profile = subscriber('c', '2026-07-01T00:00:00Z').reduce((p, e) => applyEvent(p, e), emptyProfile('c'));
    const r = outreachResidue(plan('c', 'control'), profile, now, 3);
    expect(r).toEqual({ experimentId: 'outreach-v1', period: '2026-06', group: 'control', rankBy: 'value-at-risk', plannedOn: '2026-06-03', clvAtPlan: 251, churnRiskAtPlan: 0.33, outcome: 'churned', erasedOn: '2026-09-10' });
    expect(JSON.stringify(r)).not.toMatch(/op-c|"c"|"r"|rank"/);
  });

  it('erasure replaces each of her assignments once (a rerun finds none), and the report counts them in their groups', async () => {
    const { store, scoring, privacy } = world();
    const deps = { store, privacy, now: () => now, outreach: { experimentIds: ['outreach-v1', 'old-exp'], horizonMonths: 3 } };
    await store.recordEvents('churned', subscriber('churned', '2026-07-01T00:00:00Z'), now);
    await store.recordEvents('kept', subscriber('kept'), now);
    await store.recordEvents('buyer', [businessEvent('OrderPlaced', { customerId: 'buyer', orderId: 'o', amount: 5, currency: 'EUR', occurredAt: '2026-08-01T10:00:00Z' })], now);
    for (const a of [plan('churned', 'treatment'), plan('kept', 'control'), { ...plan('churned', 'treatment', '2026-08', '2026-08-20'), experimentId: 'old-exp' }, plan('buyer', 'treatment', '2026-08', '2026-08-20'), plan('stays', 'control')]) {
      await scoring.putOutreachAssignment(a);
    }
    expect((await eraseCustomer('churned', { requestedBy: 'desk', via: 'cli' }, deps)).anonymised).toEqual({ outreach: 2 });
    expect((await eraseCustomer('kept', { requestedBy: 'desk', via: 'cli' }, deps)).anonymised).toEqual({ outreach: 1 });
    expect((await eraseCustomer('buyer', { requestedBy: 'desk', via: 'cli' }, deps)).anonymised).toEqual({ outreach: 1 });
    expect((await eraseCustomer('churned', { requestedBy: 'desk', via: 'cli' }, deps)).anonymised).toEqual({});
    expect((await scoring.outreachAssignments('outreach-v1', '2026-06')).map((a) => a.customerId)).toEqual(['stays']);
    const june = await scoring.erasedOutreach('outreach-v1', '2026-06');
    const august = await scoring.erasedOutreach('outreach-v1', '2026-08');
    expect(june.map((r) => [r.group, r.outcome]).sort()).toEqual([['control', 'kept'], ['treatment', 'churned']]);
    expect(august.map((r) => [r.group, r.outcome])).toEqual([['treatment', 'pending']]);
    // planned after her cancellation: not churned since that plan (the report's definition, churnedSincePlan)
    expect(await scoring.erasedOutreach('old-exp', '2026-08')).toEqual([expect.objectContaining({ group: 'treatment', outcome: 'kept' })]);

    const part = addErasedOutreach(emptyReportPart(), [...june, ...august], '2026-09-11');
    expect(part.outreach['2026-06']).toMatchObject({ treatment: { assigned: 1, observed: 1, churned: 1 }, control: { assigned: 1, observed: 1, churned: 0 } });
    expect(part.outreach['2026-08']).toMatchObject({ treatment: { assigned: 1, observed: 0, churned: 0, clvAtPlan: { n: 1, sum: 251 } } });
    // assignments planned on or after the run date are not the report's yet
    expect(addErasedOutreach(emptyReportPart(), august, '2026-08-20').outreach).toEqual({});
  });
});
