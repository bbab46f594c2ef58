import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CustomerProfile, applyEvent, emptyProfile } from '../../../shared/customers/profile.ts';
import { type ReportCustomer, addCustomer, churnedSincePlan, customerFacts, emptyReportPart, finishPart, mergeReportParts } from '../../../shared/report/aggregate.ts';
import { MAX_KEYS, OTHER, boundCounts, mergeBoundedCounts } from '../../../shared/report/sketch.ts';
import type { OutreachAssignment } from '../../../shared/scoring/outreach.ts';
import type { CustomerScore } from '../../../shared/scoring/score-customer.ts';

const RUN_DATE = '2026-11-30';
const ctx = { runDate: RUN_DATE, horizonMonths: 3 };
const stamp = <T>(value: T, at = '2025-02-10T10:00:00Z') => ({ value, at, by: 'ev' });

function subscriber(id: string, opts: { start?: string; cancelled?: string } = {}): CustomerProfile {
  const p = emptyProfile(id);
  const start = opts.start ?? '2025-02-10T10:00:00Z';
  p.customerType = stamp('subscription' as const);
  p.firstSeenAt = start;
  p.subscriptions = {
    s1: { subscriptionId: 's1', productId: stamp('tv'), startedAt: start, lastStartedAt: start, ...(opts.cancelled && { cancellation: stamp({ reason: 'moving', allowWinbackContact: false }, opts.cancelled) }) },
  };
  return p;
}

function buyer(id: string, days: string[]): CustomerProfile {
  const p = emptyProfile(id);
  p.customerType = stamp('adhoc' as const);
  p.firstSeenAt = `${days[0]}T08:00:00Z`;
  p.purchaseDays = Object.fromEntries(days.map((d) => [d, 40]));
  p.orderCount = days.length;
  p.totalSpend = 40 * days.length;
  return p;
}

const score = (customerId: string, over: Partial<CustomerScore> = {}): CustomerScore => ({
  customerId,
  kind: 'subscription',
  modelId: 'm',
  scoredOn: RUN_DATE,
  clv: 200,
  pAlive: 0.5,
  modelChurnRisk: 0.5,
  churnRisk: 0.5,
  riskBand: 'medium',
  valueTier: 'medium',
  nextBestAction: 'none',
  nextBestActionRule: 'none',
  activeTriggerRules: [],
  ...over,
});

const assignment = (customerId: string, group: 'treatment' | 'control', plannedOn = '2026-10-31'): OutreachAssignment => ({
  planId: `op-${customerId}`,
  experimentId: 'x',
  period: plannedOn.slice(0, 7),
  customerId,
  group,
  rank: 1,
  rankBy: 'clv',
  clv: 150,
  churnRisk: 0.75,
  plannedOn,
  runId: 'r',
});

describe('customerFacts', () => {
  it('measures a subscriber by her spell: active (censored) or ended (churned)', () => {
    expect(customerFacts(subscriber('a'), RUN_DATE, 3)).toEqual({ kind: 'subscription', churned: false, tenure: { months: 21, ended: false }, cohort: '2025-Q1', products: 1 });
    // 10 Feb → 20 Jun 2025: 4 whole months, churned at the 5th renewal decision.
    expect(customerFacts(subscriber('b', { cancelled: '2025-06-20T00:00:00Z' }), RUN_DATE, 3)).toEqual({ kind: 'subscription', churned: true, tenure: { months: 5, ended: true }, cohort: '2025-Q1', products: 0 });
  });

  it('calls an ad-hoc buyer lapsed after the churn horizon without a purchase', () => {
    expect(customerFacts(buyer('c', ['2025-07-01', '2026-01-15']), RUN_DATE, 3)).toMatchObject({ kind: 'adhoc', churned: true, tenure: { months: 6, ended: true }, cohort: '2025-Q3' });
    expect(customerFacts(buyer('d', ['2025-07-01', '2026-10-15']), RUN_DATE, 3)).toMatchObject({ kind: 'adhoc', churned: false, tenure: { months: 16, ended: false } });
  });
});

describe('churnedSincePlan', () => {
  it('counts a subscriber who left after the plan, not one who left before or stayed', () => {
    const a = assignment('a', 'treatment', '2026-10-31');
    expect(churnedSincePlan(subscriber('a', { cancelled: '2026-11-12T00:00:00Z' }), a, RUN_DATE, 3)).toBe(true);
    expect(churnedSincePlan(subscriber('a', { cancelled: '2026-10-20T00:00:00Z' }), a, RUN_DATE, 3)).toBe(false);
    expect(churnedSincePlan(subscriber('a'), a, RUN_DATE, 3)).toBe(false);
    // a cancellation dated after the run date has not happened yet
    expect(churnedSincePlan(subscriber('a', { cancelled: '2026-12-12T00:00:00Z' }), a, RUN_DATE, 3)).toBe(false);
  });

  it('knows an ad-hoc outcome only once the horizon has passed', () => {
    const p = buyer('c', ['2026-01-01']);
    expect(churnedSincePlan(p, assignment('c', 'control', '2026-10-31'), RUN_DATE, 3)).toBeUndefined();
    expect(churnedSincePlan(p, assignment('c', 'control', '2026-08-01'), RUN_DATE, 3)).toBe(true);
    expect(churnedSincePlan(buyer('c', ['2026-01-01', '2026-09-01']), assignment('c', 'control', '2026-08-01'), RUN_DATE, 3)).toBe(false);
  });
});

describe('addCustomer', () => {
  it('counts the experiment, best customers, survival, returns and service', () => {
    let withCalls = subscriber('b', { cancelled: '2026-11-12T00:00:00Z' });
    for (const e of [
      { type: 'SupportCallLogged', detail: { eventId: 'e1', customerId: 'b', occurredAt: '2026-11-01T10:00:00Z', callId: 'k1', reason: 'billing', channel: 'phone' } },
      { type: 'SupportCallResolved', detail: { eventId: 'e2', customerId: 'b', occurredAt: '2026-11-01T12:00:00Z', callId: 'k1', resolutionMinutes: 45, resolved: true } },
      { type: 'SupportCallLogged', detail: { eventId: 'e3', customerId: 'b', occurredAt: '2026-11-02T10:00:00Z', callId: 'k2', reason: 'billing', channel: 'phone' } },
      { type: 'OrderReturned', detail: { eventId: 'e4', customerId: 'b', occurredAt: '2026-11-03T10:00:00Z', orderId: 'o1', amount: 30, currency: 'EUR', reason: '  Damaged ' } },
    ] as const)
      withCalls = applyEvent(withCalls, { ...e, source: 'test' } as never);
    let part = emptyReportPart();
    part = addCustomer(part, { profile: subscriber('a'), score: score('a', { valueTier: 'top', clv: 900 }), assignments: [assignment('a', 'treatment')] }, ctx);
    part = addCustomer(part, { profile: withCalls, score: score('b', { churnRisk: 0.9, clv: 100 }), assignments: [assignment('b', 'control')] }, ctx);
    part = finishPart(part);
    expect(part.customers).toBe(2);
    expect(part.outreach['2026-10']!.treatment).toMatchObject({ assigned: 1, observed: 1, churned: 0, riskChange: { n: 1, sum: -0.25 }, clvChange: { n: 1, sum: 750 }, clvKept: { n: 1, sum: 900 } });
    expect(part.outreach['2026-10']!.control).toMatchObject({ assigned: 1, observed: 1, churned: 1, clvKept: { n: 0 } });
    expect(part.best.top).toMatchObject({ customers: 1, churned: 0, kind: { subscription: 1 } });
    expect(part.best.rest).toMatchObject({ customers: 1, churned: 1, serviceCalls: { n: 1, sum: 2 }, returns: { n: 1, sum: 1 } });
    expect(part.lookalike).toEqual({ 'subscription|(none given)|products:1|tenure:12-24m|orders:0': 1 });
    expect(part.survival.all).toEqual({ '21': [0, 1], '22': [1, 0] });
    expect(part.survival['tier:top']).toEqual({ '21': [0, 1] });
    expect(part.returns).toEqual({ customers: 1, returns: 1, value: 30, byReason: { damaged: 1 }, churnByReason: { damaged: { customers: 1, events: 1, churned: 1, churnRisk: { n: 1, sum: 0.9, sumSq: 0.81 } } } });
    expect(part.service).toMatchObject({ customers: 1, calls: 2, resolved: 1, unresolved: 0, open: 1, byReason: { billing: { customers: 1, events: 2, churned: 1 } } });
    expect(part.service.resolutionMinutes).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('mergeReportParts', () => {
  // Values in eighths, so every sum is exact whatever the order.
  const customerArb = fc.record({
    i: fc.nat(10_000),
    sub: fc.boolean(),
    cancelled: fc.option(fc.constantFrom('2026-11-12T00:00:00Z', '2025-09-01T00:00:00Z'), { nil: undefined }),
    top: fc.boolean(),
    clv: fc.integer({ min: 0, max: 8000 }).map((x) => x / 8),
    risk: fc.integer({ min: 0, max: 8 }).map((x) => x / 8),
    group: fc.option(fc.constantFrom('treatment' as const, 'control' as const), { nil: undefined }),
    calls: fc.nat(3),
  });
  type Drawn = { i: number; sub: boolean; cancelled: string | undefined; top: boolean; clv: number; risk: number; group: 'treatment' | 'control' | undefined; calls: number };
  const toCustomer = (c: Drawn): ReportCustomer => {
    const id = `C${c.i}`;
    const profile = c.sub ? subscriber(id, { ...(c.cancelled && { cancelled: c.cancelled }) }) : buyer(id, ['2025-05-01', c.cancelled ? '2025-09-01' : '2026-11-01']);
    profile.supportCallCount = c.calls;
    if (c.calls) profile.supportCallsByReason = { network: c.calls };
    return { profile, score: score(id, { clv: c.clv, churnRisk: c.risk, valueTier: c.top ? 'top' : 'low' }), ...(c.group && { assignments: [assignment(id, c.group)] }) };
  };

  it('gives the same part whatever the split and the order of the workers', () => {
    fc.assert(
      fc.property(fc.array(customerArb, { maxLength: 40 }), fc.nat(40), fc.nat(40), (cs, x, y) => {
        const customers = cs.map(toCustomer);
        const all = finishPart(customers.reduce((p, c) => addCustomer(p, c, ctx), emptyReportPart()));
        const [i, j] = [Math.min(x, y, customers.length), Math.min(Math.max(x, y), customers.length)];
        const parts = [customers.slice(0, i), customers.slice(i, j), customers.slice(j)].map((g) => g.reduce((p, c) => addCustomer(p, c, ctx), emptyReportPart()));
        expect(mergeReportParts(parts[2]!, mergeReportParts(parts[1]!, parts[0]!))).toEqual(all);
        expect(mergeReportParts(mergeReportParts(parts[0]!, parts[1]!), parts[2]!)).toEqual(all);
        expect(mergeReportParts(all, emptyReportPart())).toEqual(all);
      }),
      { numRuns: 60 },
    );
  });

  it('shares nothing with its inputs', () => {
    const a = addCustomer(emptyReportPart(), toCustomer({ i: 1, sub: true, cancelled: undefined, top: true, clv: 10, risk: 0.5, group: 'treatment', calls: 1 }), ctx);
    const merged = mergeReportParts(a, emptyReportPart());
    addCustomer(merged, toCustomer({ i: 2, sub: true, cancelled: undefined, top: true, clv: 10, risk: 0.5, group: 'treatment', calls: 1 }), ctx);
    expect(a.customers).toBe(1);
    expect(a.outreach['2026-10']!.treatment!.assigned).toBe(1);
  });
});

describe('bounded counts (Misra–Gries)', () => {
  it('are exact up to MAX_KEYS keys and keep the total beyond', () => {
    const few = Object.fromEntries(Array.from({ length: MAX_KEYS }, (_, i) => [`r${i}`, i + 1]));
    expect(boundCounts(few)).toBe(few);
    const many = { ...few, x: 100, y: 1, z: 1 };
    const bounded = boundCounts(many);
    const total = (c: Record<string, number>) => Object.values(c).reduce((s, v) => s + v, 0);
    expect(total(bounded)).toBe(total(many));
    expect(Object.keys(bounded).filter((k) => k !== OTHER).length).toBeLessThanOrEqual(MAX_KEYS);
    // each kept count is low by at most total / (MAX_KEYS + 1)
    expect(many.x - bounded.x!).toBeLessThanOrEqual(total(many) / (MAX_KEYS + 1));
    expect(mergeBoundedCounts({ a: 1 }, { a: 2, b: 1 })).toEqual({ a: 3, b: 1 });
  });
});
